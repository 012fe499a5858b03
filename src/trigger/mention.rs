//! Finding a trigger phrase the way a reader sees it: standing alone, outside code and quotes.

/// True when `phrase` appears in `text` as a request: case-insensitive, delimited on both sides,
/// and not only inside a fenced code block, inline code, a quoted line or an HTML comment.
pub fn mentions(text: &str, phrase: &str) -> bool {
    let phrase = phrase.trim();
    if phrase.is_empty() {
        return false;
    }
    let visible = visible_prose(text);
    contains_standalone(&visible, phrase)
}

/// The text a reader takes as the author's own words: code, quotes and HTML comments removed.
pub fn visible_prose(text: &str) -> String {
    let without_comments = crate::markdown::strip_html_comments(text);
    let mut out = String::with_capacity(without_comments.len());
    let mut fence: Option<(char, usize)> = None;
    for line in without_comments.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some((ch, len)) = fence {
            if indent <= 3
                && fence_run(trimmed, ch) >= len
                && trimmed.trim_start_matches(ch).trim().is_empty()
            {
                fence = None;
            }
            out.push('\n');
            continue;
        }
        if indent <= 3 {
            for ch in ['`', '~'] {
                let run = fence_run(trimmed, ch);
                if run >= 3 {
                    fence = Some((ch, run));
                }
            }
            if fence.is_some() {
                out.push('\n');
                continue;
            }
            if trimmed.starts_with('>') {
                out.push('\n');
                continue;
            }
        }
        out.push_str(&strip_inline_code(line));
        out.push('\n');
    }
    out
}

fn fence_run(line: &str, ch: char) -> usize {
    line.chars().take_while(|c| *c == ch).count()
}

/// Removes `code spans`; a backtick run opens a span closed by a run of the same length.
fn strip_inline_code(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let open = chars[i..].iter().take_while(|c| **c == '`').count();
            let mut j = i + open;
            let mut closed_at = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let run = chars[j..].iter().take_while(|c| **c == '`').count();
                    if run == open {
                        closed_at = Some(j + run);
                        break;
                    }
                    j += run;
                } else {
                    j += 1;
                }
            }
            match closed_at {
                Some(end) => {
                    out.push(' ');
                    i = end;
                }
                None => {
                    out.extend(&chars[i..i + open]);
                    i += open;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn opens_phrase(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | '[' | '{' | '"' | '\'' | '“' | '‘' | '*')
}

fn closes_phrase(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ',' | '!' | '?' | ';' | ':' | ')' | ']' | '}' | '"' | '\'' | '”' | '’' | '*'
        )
}

fn contains_standalone(text: &str, phrase: &str) -> bool {
    let hay: Vec<char> = text.chars().map(fold).collect();
    let needle: Vec<char> = phrase.chars().map(fold).collect();
    if needle.len() > hay.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|start| {
        hay[start..start + needle.len()] == needle[..]
            && (start == 0 || opens_phrase(hay[start - 1]))
            && hay
                .get(start + needle.len())
                .is_none_or(|c| closes_phrase(*c))
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn standalone_phrase_triggers() {
        for text in [
            "@claude fix it",
            "please @claude, fix it",
            "@CLAUDE fix it",
            "hey (@claude) look",
            "\"@claude\" said",
            "ok @claude.",
            "what do you think @claude?",
            "@claude",
            "line one\n@claude: do it",
        ] {
            assert!(mentions(text, "@claude"), "{text:?} should trigger");
        }
    }

    #[test]
    fn embedded_phrase_does_not_trigger() {
        for text in [
            "email@claude.com",
            "@claudette help",
            "x@claude",
            "@claude_bot please",
            "@claude-code please",
        ] {
            assert!(!mentions(text, "@claude"), "{text:?} should not trigger");
        }
    }

    #[test]
    fn code_quotes_and_comments_do_not_trigger() {
        for text in [
            "```\n@claude fix\n```",
            "~~~sh\n@claude fix\n~~~",
            "use `@claude fix` to ask",
            "``x ` @claude ``",
            "> @claude fix this\n\nI agree with the above",
            "  > nested @claude quote",
            "<!-- @claude hidden -->visible text",
            "<!-- unterminated @claude",
        ] {
            assert!(!mentions(text, "@claude"), "{text:?} should not trigger");
        }
    }

    #[test]
    fn prose_after_code_still_triggers() {
        assert!(mentions("```\ncode\n```\n@claude now fix it", "@claude"));
        assert!(mentions("> quoted\n@claude answer it", "@claude"));
        assert!(mentions("`code` and @claude", "@claude"));
    }

    #[test]
    fn custom_phrases_and_unicode_are_safe() {
        assert!(mentions("/review please", "/review"));
        assert!(mentions("ÄÖÜ @Bot do it", "@bot"));
        assert!(!mentions("", "@claude"));
        assert!(!mentions("@claude", "  "));
        assert!(!mentions("`unclosed @claude", "@claudex"));
        assert!(mentions("`unclosed @claude", "@claude"));
    }
}
