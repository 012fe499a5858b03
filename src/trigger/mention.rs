//! Finding a trigger phrase the way a reader sees it: standing alone, outside code and quotes.

/// True when `phrase` appears in `text` as a request: case-insensitive, delimited on both sides,
/// and in what the rendered page shows as the author's words, not only inside code, a quote, an
/// HTML comment or block, alt text or a link's target.
pub fn mentions(text: &str, phrase: &str) -> bool {
    let phrase = phrase.trim();
    if phrase.is_empty() {
        return false;
    }
    let visible = visible_prose(text);
    contains_standalone(&visible, phrase)
}

/// The text a reader takes as the author's own words: comments, code, quotes, alt text, link
/// targets and raw HTML blocks removed (see [`crate::markdown::rendered_prose`]).
pub fn visible_prose(text: &str) -> String {
    crate::markdown::rendered_prose(&crate::markdown::strip_html_comments(text))
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

    /// Markdown a hand-written line scanner misreads: each of these hides the phrase from a
    /// reader of the rendered page (code, alt text, a link's target or title, raw HTML, a quote).
    #[test]
    fn hidden_in_hostile_markdown_does_not_trigger() {
        for text in [
            // Indented code, and fences the hand-written scanner only knew at the margin.
            "    @claude fix",
            "intro\n\n    @claude fix",
            "- item\n\n    ```\n    @claude fix\n    ```",
            "1. step\n   ~~~\n   @claude fix\n   ~~~",
            "> ```\n> @claude fix\n> ```",
            "````\n```\n@claude fix\n```\n````",
            "~~~\n```\n@claude fix\n~~~",
            "```\n@claude fix",
            "```\r\n@claude fix\r\n```\r\n",
            // Quotes inside other containers.
            "- > @claude fix",
            ">> @claude fix",
            "> > > @claude fix",
            "> - @claude fix",
            // What the page does not show: alt text, link targets and titles, definitions.
            "![@claude fix](x.png)",
            "![x](x.png \"@claude fix\")",
            "[docs](@claude)",
            "[docs](https://e.x \"@claude fix\")",
            "[docs]\n\n[docs]: https://e.x \"@claude fix\"",
            // Raw HTML blocks and comments in them.
            "<details>\n@claude fix\n</details>",
            "<!--\n```\n-->\n<!-- @claude fix -->",
            "<b>@claude</b>",
            "<img alt='@claude fix' src=x.png>",
            "<a title=\"@claude fix\" href=x>docs</a>",
            "text <span data-x=\" @claude \">",
        ] {
            assert!(!mentions(text, "@claude"), "{text:?} should not trigger");
        }
    }

    /// The other way round: a reader sees these as the author's own words.
    #[test]
    fn visible_in_hostile_markdown_triggers() {
        for text in [
            // `<!--` inside code opens no comment: the rest of the text stays visible.
            "`<!--` @claude fix `-->`",
            "```\n<!--\n```\n@claude fix\n<!-- -->",
            // Three backticks inside a line are a code span, not a fence hiding the rest.
            "```inline``` @claude fix",
            "``a ` b`` @claude fix",
            // Hidden parts end, visible ones around them count.
            "[@claude](https://github.com/claude) fix",
            "**@claude** fix",
            "<details><summary>log</summary>\n\n@claude fix\n\n</details>",
            "@clau<!-- x -->de fix",
            "```\r\ncode\r\n```\r\n@claude fix\r\n",
            "- item\n- @claude fix",
            "| a | b |\n|---|---|\n| @claude | fix |",
            "```\ncode\n````\n\n@claude fix",
        ] {
            assert!(mentions(text, "@claude"), "{text:?} should trigger");
        }
    }

    #[test]
    fn addresses_and_longer_names_do_not_trigger() {
        for text in [
            "<mailto:team@claude.com>",
            "<https://x.dev/@claude>",
            "email@claude",
            "@claude-bot fix",
            "@claude/fix",
            "https://github.com/claude fix",
        ] {
            assert!(!mentions(text, "@claude"), "{text:?} should not trigger");
        }
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
