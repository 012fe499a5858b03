//! What a reader of GitHub's rendered Markdown does not see. Shared by `trigger` (a mention
//! hidden in a comment is no request) and `context` (hidden text is not handed to the agent).

/// Removes `<!-- … -->` comments. An unterminated comment hides the rest of the text from a
/// reader, so the rest is dropped too.
pub fn strip_html_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
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
}
