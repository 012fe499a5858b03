//! A YAML tree that remembers where every node came from.
//!
//! The audits must point at a line and a column, which serde-based YAML loaders throw away; this
//! builds a small tree from `saphyr-parser`'s event stream and keeps each node's span.
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// A position in the source: 1-based line, 1-based column (in characters), and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
    pub byte: usize,
}

/// Where a node starts and ends (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar {
        value: String,
        /// Plain, quoted or block: a plain `null`/`~`/empty is null.
        plain: bool,
        span: Span,
    },
    Seq(Vec<Node>, Span),
    Map(Vec<(Node, Node)>, Span),
}

#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("line {line}, column {col}: {info}")]
    Syntax {
        line: usize,
        col: usize,
        info: String,
    },
    #[error("the file holds no YAML document")]
    Empty,
    #[error("YAML aliases (*name) are not supported in workflows")]
    Alias,
    #[error("line {0}: nested more than {MAX_DEPTH} levels deep")]
    TooDeep(usize),
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Scalar { span, .. } | Node::Seq(_, span) | Node::Map(_, span) => *span,
        }
    }

    /// The scalar's text (any style); `None` for collections.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { value, plain: true, .. } if value.is_empty() || value == "~" || value == "null")
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match self {
            Node::Map(m, _) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match self {
            Node::Seq(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value under `key` in a mapping.
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Every scalar below this node (itself included), in document order.
    pub fn scalars(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        self.collect_scalars(&mut out);
        out
    }

    fn collect_scalars<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match self {
            Node::Scalar { .. } => out.push(self),
            Node::Seq(items, _) => items.iter().for_each(|i| i.collect_scalars(out)),
            Node::Map(entries, _) => entries.iter().for_each(|(k, v)| {
                k.collect_scalars(out);
                v.collect_scalars(out);
            }),
        }
    }
}

/// Maps the parser's character indexes to byte offsets (they differ once a file holds non-ASCII).
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of each character, only built for non-ASCII text.
    bytes: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
            v.push(text.len());
            v
        });
        Self { text, bytes }
    }

    fn pos(&self, m: saphyr_parser::Marker) -> Pos {
        let byte = match &self.bytes {
            Some(v) => v.get(m.index()).copied().unwrap_or(self.text.len()),
            None => m.index().min(self.text.len()),
        };
        Pos {
            line: m.line(),
            col: m.col() + 1,
            byte,
        }
    }
}

/// Deeper nesting is refused: no workflow needs it, and the tree's walks recurse.
pub const MAX_DEPTH: usize = 128;

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    // Stack of open collections: (is_map, items, start).
    let mut stack: Vec<(bool, Vec<Node>, Pos)> = Vec::new();
    let mut root: Option<Node> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e: ScanError| YamlError::Syntax {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            info: e.info().to_string(),
        })?;
        let start = offsets.pos(span.start);
        let end = offsets.pos(span.end);
        let node = match event {
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::Scalar(value, style, _, _) => Node::Scalar {
                value: value.into_owned(),
                plain: style == ScalarStyle::Plain,
                span: Span { start, end },
            },
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(YamlError::TooDeep(start.line));
            }
            Event::SequenceStart(..) => {
                stack.push((false, Vec::new(), start));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((true, Vec::new(), start));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((is_map, items, open)) = stack.pop() else {
                    continue;
                };
                let end = items.last().map_or(end, |n| n.span().end.max_by_byte(end));
                let span = Span { start: open, end };
                if is_map {
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Node::Map(pairs, span)
                } else {
                    Node::Seq(items, span)
                }
            }
            Event::Alias(_) => return Err(YamlError::Alias),
            _ => continue,
        };
        match stack.last_mut() {
            Some((_, items, _)) => items.push(node),
            None => {
                root = Some(node);
            }
        }
    }
    root.ok_or(YamlError::Empty)
}

impl Pos {
    fn max_by_byte(self, other: Pos) -> Pos {
        if other.byte > self.byte { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_columns() {
        let doc = parse("on: push\njobs:\n  a:\n    steps:\n      - run: echo hi\n").expect("yaml");
        let run = &doc
            .get("jobs")
            .and_then(|j| j.get("a"))
            .and_then(|a| a.get("steps"))
            .expect("steps")
            .as_seq()
            .expect("seq")[0];
        let (k, v) = run.get_entry("run").expect("run");
        assert_eq!((k.span().start.line, k.span().start.col), (5, 9));
        assert_eq!((v.span().start.line, v.span().start.col), (5, 14));
        assert_eq!(v.as_str(), Some("echo hi"));
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "a: \"ü\"\nb: x\n";
        let doc = parse(text).expect("yaml");
        let b = doc.get("b").expect("b");
        assert_eq!(&text[b.span().start.byte..b.span().end.byte], "x");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // flow nesting: the parser's own limit answers
        let text = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&text).is_err());
        // block nesting: ours
        let text: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(
            matches!(parse(&text), Err(YamlError::TooDeep(_))),
            "{:?}",
            parse(&text).err()
        );
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let err = parse("a: [1, 2\nb: c\n").expect_err("bad");
        assert!(matches!(err, YamlError::Syntax { .. }), "{err}");
    }
}
