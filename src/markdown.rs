//! What a reader of GitHub's rendered Markdown does not see. Shared by `trigger` (a mention
//! hidden in code, a quote or a comment is no request) and `context` (hidden text is not handed
//! to the agent).
//!
//! The text is read with a CommonMark parser (GitHub's dialect is CommonMark plus tables,
//! strikethrough, task lists and footnotes) rather than line by line: fences inside lists and
//! quotes, indented code, code spans of any backtick run, link targets and titles, alt text and
//! HTML blocks are where a hand-written scanner and the page disagree, and a hostile author picks
//! exactly those. Everything here is linear in the length of the text.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use std::ops::Range;

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

fn events(text: &str) -> impl Iterator<Item = (Event<'_>, Range<usize>)> {
    Parser::new_ext(text, options()).into_offset_iter()
}

/// Byte ranges of `text` shown as code (code spans with their backticks, whole code blocks with
/// their fences), in document order.
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut in_block = 0usize;
    for (event, range) in events(text) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => {
                if in_block == 0 {
                    out.push(range);
                }
                in_block += 1;
            }
            Event::End(TagEnd::CodeBlock) => in_block = in_block.saturating_sub(1),
            Event::Code(_) if in_block == 0 => out.push(range),
            _ => {}
        }
    }
    out
}

/// Byte ranges of the `<!-- … -->` comments outside code. A comment runs to the first `-->`
/// wherever it is; one never closed hides the rest of the text from a reader, so it runs to the
/// end. `<!--` inside a code span or block opens nothing: it is shown as written.
pub fn html_comment_ranges(text: &str) -> Vec<Range<usize>> {
    if !text.contains("<!--") {
        return Vec::new();
    }
    let code = code_ranges(text);
    let mut code = code.iter().peekable();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("<!--") {
        let start = from + found;
        while code.next_if(|c| c.end <= start).is_some() {}
        if let Some(c) = code.peek()
            && c.start <= start
        {
            from = c.end;
            continue;
        }
        let end = text[start + 4..]
            .find("-->")
            .map_or(text.len(), |e| start + 4 + e + 3);
        out.push(start..end);
        from = end;
    }
    out
}

/// `text` without the bytes in `ranges` (sorted, disjoint); the rest is kept byte for byte.
pub fn remove_ranges(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut kept_from = 0;
    for r in ranges {
        out.push_str(&text[kept_from..r.start]);
        kept_from = r.end;
    }
    out.push_str(&text[kept_from..]);
    out
}

/// Removes `<!-- … -->` comments outside code; see [`html_comment_ranges`].
pub fn strip_html_comments(text: &str) -> String {
    remove_ranges(text, &html_comment_ranges(text))
}

/// What `text` shows of itself once rendered, as plain text: the words of paragraphs, headings,
/// list items, table cells and link labels. Left out: code (a code span becomes a space), alt
/// text, link targets and titles, link definitions, raw HTML blocks, and quoted lines (a line of
/// a quote without its own `>`, a lazy continuation, is the author's: they typed it outside the
/// quote). An inline HTML tag becomes [`INLINE_HTML`]: its attributes are not shown, and the
/// text next to it is not delimited by it (`<b>@x</b>` holds no standalone `@x`).
/// Expects comments already removed ([`strip_html_comments`]).
pub fn rendered_prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut code_block = 0usize;
    let mut html_block = 0usize;
    let mut image = 0usize;
    let mut quote = 0usize;
    let mut lines = LineMarkers::new(text);
    for (event, range) in events(text) {
        let hidden = code_block > 0 || html_block > 0 || image > 0;
        match event {
            Event::Start(Tag::CodeBlock(_)) => code_block += 1,
            Event::End(TagEnd::CodeBlock) => code_block = code_block.saturating_sub(1),
            Event::Start(Tag::HtmlBlock) => html_block += 1,
            Event::End(TagEnd::HtmlBlock) => html_block = html_block.saturating_sub(1),
            Event::Start(Tag::Image { .. }) => {
                image += 1;
                out.push(' ');
            }
            Event::End(TagEnd::Image) => image = image.saturating_sub(1),
            Event::Start(Tag::BlockQuote(_)) => quote += 1,
            Event::End(TagEnd::BlockQuote(_)) => quote = quote.saturating_sub(1),
            Event::Text(t) if !hidden && (quote == 0 || !lines.quoted_before(range.start)) => {
                out.push_str(&t);
            }
            Event::InlineHtml(_) if !hidden => out.push(INLINE_HTML),
            Event::Code(_) if !hidden => out.push(' '),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(tag) if !is_inline(&tag) => out.push('\n'),
            Event::End(tag) if !is_inline_end(tag) => out.push('\n'),
            _ => {}
        }
    }
    out
}

/// Stands for an inline HTML tag in [`rendered_prose`]: neither space nor punctuation.
pub const INLINE_HTML: char = '\u{FFFC}';

fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. }
    )
}

fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link
    )
}

/// For offsets met in increasing order, whether a `>` comes before the offset on its line: a
/// quote marker, as opposed to a lazy continuation line typed without one. Each line is read
/// once, so a long run of offsets on one line stays linear.
struct LineMarkers<'a> {
    text: &'a str,
    line_start: usize,
    line_end: usize,
    first_gt: Option<usize>,
}

impl<'a> LineMarkers<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            line_start: 0,
            line_end: 0,
            first_gt: None,
        }
    }

    fn quoted_before(&mut self, at: usize) -> bool {
        if at < self.line_start || at >= self.line_end {
            let bytes = self.text.as_bytes();
            // Forward, the new line starts no earlier than where the last one read ended.
            let from = if at >= self.line_end {
                self.line_end
            } else {
                0
            };
            self.line_start = bytes[from..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(from, |p| from + p + 1);
            self.line_end = bytes[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |p| at + p + 1);
            self.first_gt = bytes[self.line_start..self.line_end]
                .iter()
                .position(|b| *b == b'>')
                .map(|p| self.line_start + p);
        }
        self.first_gt.is_some_and(|gt| gt < at)
    }
}

/// Byte ranges of what the page hides outside code and raw HTML: the alt text of Markdown
/// images (`![this](x.png)`, `![this][ref]`) and the title of an inline link or image
/// (`[x](url "this")`), each a tooltip or nothing on the page. Sorted and disjoint. Expects
/// comments already removed ([`strip_html_comments`]).
pub fn alt_and_title_ranges(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut image_depth = 0usize;
    let mut alt = 0..0;
    for (event, range) in events(text) {
        match event {
            Event::Start(Tag::Image { .. }) | Event::Start(Tag::Link { .. }) if image_depth > 0 => {
                alt.end = alt.end.max(range.end);
                image_depth += usize::from(matches!(event, Event::Start(Tag::Image { .. })));
            }
            Event::Start(Tag::Image {
                link_type, title, ..
            }) => {
                image_depth = 1;
                alt = range.start + 2..range.start + 2;
                if link_type == LinkType::Inline && !title.is_empty() {
                    found.extend(inline_title_range(text, range));
                }
            }
            Event::Start(Tag::Link {
                link_type, title, ..
            }) if link_type == LinkType::Inline && !title.is_empty() => {
                found.extend(inline_title_range(text, range));
            }
            Event::End(TagEnd::Image) if image_depth > 0 => {
                image_depth -= 1;
                if image_depth == 0 && !alt.is_empty() {
                    found.push(alt.clone());
                }
            }
            _ if image_depth > 0 => alt.end = alt.end.max(range.end),
            _ => {}
        }
    }
    found.sort_by_key(|r| r.start);
    merge(found)
}

/// Byte ranges of raw HTML outside code: whole HTML blocks and inline tags, in document order.
pub fn html_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for (event, range) in events(text) {
        match event {
            Event::Start(Tag::HtmlBlock) | Event::InlineHtml(_) => out.push(range),
            _ => {}
        }
    }
    out
}

fn merge(sorted: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The quoted title at the end of an inline link `[x](url "title")`, found from its closing
/// parenthesis backwards (`"…"`, `'…'` or `(…)`, a delimiter escaped by `\` skipped). `None` for
/// links of other forms, whose title lives in a definition elsewhere.
fn inline_title_range(text: &str, link: Range<usize>) -> Option<Range<usize>> {
    let src = text.get(link.clone())?;
    let body = src.strip_suffix(')')?.trim_end();
    let close = body.chars().next_back()?;
    let open = match close {
        '"' => '"',
        '\'' => '\'',
        ')' => '(',
        _ => return None,
    };
    let bytes = body.as_bytes();
    let mut i = body.len() - 1;
    while i > 0 {
        i -= 1;
        if bytes[i] == open as u8 {
            let backslashes = bytes[..i].iter().rev().take_while(|b| **b == b'\\').count();
            if backslashes % 2 == 0 {
                // Keep the whitespace before the title: only the quoted text goes.
                return Some(link.start + i..link.start + body.len());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_removed_and_an_open_one_hides_the_rest() {
        assert_eq!(strip_html_comments("a<!-- x -->b<!--y-->c"), "abc");
        assert_eq!(strip_html_comments("a <!-- never closed @claude"), "a ");
        assert_eq!(strip_html_comments("no comment -->"), "no comment -->");
    }

    #[test]
    fn comment_openers_in_code_open_nothing() {
        for text in [
            "`<!--` then text `-->`",
            "```\n<!--\n```\nafter",
            "    <!-- indented\n\nafter",
            "- item\n\n      <!-- code in a list item\n\n  after",
            "``a <!-- b`` c",
        ] {
            assert_eq!(strip_html_comments(text), text);
        }
        assert_eq!(strip_html_comments("`x` <!-- y --> `z`"), "`x`  `z`");
        // A comment opened first swallows what looks like code inside it.
        assert_eq!(strip_html_comments("<!-- `-->` after"), "` after");
    }

    #[test]
    fn prose_leaves_out_what_is_not_shown() {
        let prose = rendered_prose(
            "# T\n\n![alt](i.png) [label](http://u \"tt\") `c`\n\n```\nx\n```\n> q\nlazy",
        );
        assert!(prose.contains('T') && prose.contains("label") && prose.contains("lazy"));
        for hidden in ["alt", "http", "tt", "c", "x", "q"] {
            assert!(
                !prose.split_whitespace().any(|w| w == hidden),
                "{hidden:?} in {prose:?}"
            );
        }
    }

    #[test]
    fn titles_and_alt_text_are_found() {
        let text = "[a](u \"t1\") ![b](v 't2') [c](w (t3)) [d](x \"q\\\"q\")";
        let parts: Vec<&str> = alt_and_title_ranges(text)
            .iter()
            .map(|r| &text[r.clone()])
            .collect();
        assert_eq!(parts, ["\"t1\"", "b", "'t2'", "(t3)", "\"q\\\"q\""]);
    }

    /// Bodies made to make a Markdown parser backtrack are scanned, and what comes back stays
    /// proportional to the input. Their time is measured by bench/markdown_bench.rs (scaling from
    /// 256 KiB to 1 MiB and 4 MiB), not asserted here: a timed test only measures the machine.
    #[test]
    fn hostile_bodies_are_scanned_with_bounded_output() {
        let size = 256 * 1024;
        let bodies = [
            "`".repeat(size),
            (1..)
                .map(|n| "`".repeat(n) + "a")
                .take(720)
                .collect::<String>(),
            "[a](".repeat(size / 4),
            "![".repeat(size / 2),
            ">".repeat(size),
            "`<!--".repeat(size / 5),
            format!("> {}", "a*b* ".repeat(size / 5)),
        ];
        for body in &bodies {
            let prose = rendered_prose(&strip_html_comments(body));
            let hidden = alt_and_title_ranges(body);
            let html = html_ranges(body);
            assert!(
                prose.len() + hidden.len() + html.len() <= 4 * body.len(),
                "{:?}…",
                &body[..16]
            );
        }
    }

    fn longest_run(text: &str, c: char) -> usize {
        text.split(|x| x != c).map(str::len).max().unwrap_or(0)
    }

    /// Characters that mean something to Markdown, and some that do not.
    const MARKDOWN_ISH: &str = "[-`~<>!*_\\\\\\[\\]()#|\"' \n\r\ta@/:éλ0-9]{0,160}";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// No text panics, every range falls on character boundaries (slicing would panic), and
        /// the ranges are sorted and disjoint.
        #[test]
        fn no_text_panics(text in MARKDOWN_ISH) {
            for ranges in [html_comment_ranges(&text), alt_and_title_ranges(&text), html_ranges(&text)] {
                for pair in ranges.windows(2) {
                    proptest::prop_assert!(pair[0].end <= pair[1].start);
                }
                let _ = remove_ranges(&text, &ranges);
            }
            let _ = rendered_prose(&strip_html_comments(&text));
        }

        #[test]
        fn no_unicode_text_panics(text in proptest::prelude::any::<String>()) {
            let _ = rendered_prose(&strip_html_comments(&text));
            let _ = remove_ranges(&text, &alt_and_title_ranges(&text));
            let _ = html_ranges(&text);
        }

        /// Whatever a fenced block holds, none of it is prose: a fence longer than any backtick
        /// run inside is never closed.
        #[test]
        fn nothing_in_a_fence_is_prose(text in MARKDOWN_ISH) {
            let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
            let body = format!("{fence}\n{text}");
            let prose = rendered_prose(&strip_html_comments(&body));
            proptest::prop_assert!(prose.trim().is_empty(), "{:?}", prose);
        }

        /// Whatever a comment holds, nothing of it survives, and text around it is kept.
        #[test]
        fn nothing_in_a_comment_survives(text in MARKDOWN_ISH) {
            proptest::prop_assume!(!text.contains("-->"));
            let body = format!("before <!--{text}--> after");
            proptest::prop_assert_eq!(strip_html_comments(&body), "before  after");
        }
    }
}
