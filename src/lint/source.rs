//! A file's text with its line index: turns byte offsets into lines and character columns, and
//! hands the human output the line a finding points at.
use super::Location;
use super::yaml::{Node, Span};

#[derive(Debug, Clone)]
pub struct Source {
    text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            text: text.to_string(),
            line_starts,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of 1-based line `n`, without its line ending.
    pub fn line(&self, n: usize) -> &str {
        let Some(&start) = self.line_starts.get(n.wrapping_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(n).map_or(self.text.len(), |e| e - 1);
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= byte);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..byte)
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// A location for the bytes `start..end`, cut at the end of the first line.
    pub fn location(&self, start: usize, end: usize) -> Location {
        let (line, column) = self.line_col(start);
        let line_end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e - 1);
        let (_, end_column) = self.line_col(end.min(line_end).max(start));
        Location {
            line,
            column,
            end_column: end_column.max(column + 1),
        }
    }

    /// The location of a whole node (its first line).
    pub fn node(&self, node: &Node) -> Location {
        let Span { start, end } = node.span();
        self.location(start.byte, end.byte)
    }

    /// The location of `needle` inside a scalar node's source text, else of the node. Expressions
    /// appear verbatim in plain, quoted and block scalars alike, so the text is found as written.
    pub fn within(&self, node: &Node, needle: &str) -> Location {
        let Span { start, end } = node.span();
        let hay = self
            .text
            .get(start.byte..end.byte.max(start.byte))
            .unwrap_or("");
        match hay.find(needle) {
            Some(i) => self.location(start.byte + i, start.byte + i + needle.len()),
            None => self.node(node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let s = Source::new("ab\nc\u{fc}d\n");
        assert_eq!(s.line(2), "c\u{fc}d");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        assert_eq!(s.line_col(6), (2, 3));
        assert_eq!(
            s.location(3, 100),
            Location {
                line: 2,
                column: 1,
                end_column: 4
            }
        );
    }
}
