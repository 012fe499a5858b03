//! GitHub Actions expressions (`${{ ... }}`), parsed rather than pattern-matched.
//!
//! An untrusted value hides as easily in `format('{0}', github.event.issue.title)` or
//! `github.event['issue'].title` as in the plain path, so the audits ask this parser which
//! context paths can flow into an expression's value instead of grepping the text.

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// A context name (`github`, `env`, `secrets`, ...).
    Context(String),
    /// `a.b` or `a['b']`.
    Member(Box<Expr>, String),
    /// `a[expr]` with a non-literal index.
    Index(Box<Expr>, Box<Expr>),
    /// `a.*`
    Star(Box<Expr>),
    Call(String, Vec<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("unexpected character {0:?} at offset {1}")]
    Char(char, usize),
    #[error("unterminated string starting at offset {0}")]
    String(usize),
    #[error("unexpected {0} at offset {1}")]
    Token(String, usize),
    #[error("unexpected end of expression")]
    End,
    #[error("expression longer than {MAX_TOKENS} tokens or nested deeper than {MAX_DEPTH}")]
    TooLarge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&(_, c)) = chars.get(i) else {
                    return Err(ExprError::String(at));
                };
                if c == '\'' {
                    if chars.get(i + 1).map(|p| p.1) == Some('\'') {
                        s.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                s.push(c);
                i += 1;
            }
            out.push((Tok::Str(s), at));
            continue;
        }
        if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|p| p.1.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while chars
                .get(i)
                .is_some_and(|p| p.1.is_ascii_alphanumeric() || p.1 == '.')
            {
                i += 1;
            }
            let end = chars.get(i).map_or(src.len(), |p| p.0);
            let text = &src[at..end];
            let n = if let Some(hex) = text.strip_prefix("0x") {
                i64::from_str_radix(hex, 16).map(|v| v as f64).ok()
            } else {
                text.parse::<f64>().ok()
            };
            match n {
                Some(n) => out.push((Tok::Num(n), at)),
                None => return Err(ExprError::Char(chars[start].1, at)),
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = at;
            while chars
                .get(i)
                .is_some_and(|p| p.1.is_ascii_alphanumeric() || p.1 == '_' || p.1 == '-')
            {
                i += 1;
            }
            let end = chars.get(i).map_or(src.len(), |p| p.0);
            out.push((Tok::Ident(src[start..end].to_string()), start));
            continue;
        }
        let two = chars.get(i + 1).map(|p| p.1);
        let punct: &'static str = match (c, two) {
            ('&', Some('&')) => "&&",
            ('|', Some('|')) => "||",
            ('=', Some('=')) => "==",
            ('!', Some('=')) => "!=",
            ('<', Some('=')) => "<=",
            ('>', Some('=')) => ">=",
            ('<', _) => "<",
            ('>', _) => ">",
            ('!', _) => "!",
            ('(', _) => "(",
            (')', _) => ")",
            ('[', _) => "[",
            (']', _) => "]",
            ('.', _) => ".",
            (',', _) => ",",
            ('*', _) => "*",
            _ => return Err(ExprError::Char(c, at)),
        };
        i += punct.len();
        out.push((Tok::Punct(punct), at));
    }
    Ok(out)
}

/// Bounds that keep the parser's and the walks' recursion shallow (GitHub caps an expression at
/// 21,000 characters; real ones have a few dozen tokens).
pub const MAX_TOKENS: usize = 4096;
pub const MAX_DEPTH: usize = 64;

/// Parses the text between `${{` and `}}`.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(src)?;
    if tokens.len() > MAX_TOKENS {
        return Err(ExprError::TooLarge);
    }
    let mut p = ExprParser {
        tokens,
        at: 0,
        depth: 0,
    };
    let e = p.or()?;
    match p.tokens.get(p.at) {
        None => Ok(e),
        Some((t, off)) => Err(ExprError::Token(format!("{t:?}"), *off)),
    }
}

struct ExprParser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

impl ExprParser {
    fn peek_punct(&self, p: &str) -> bool {
        matches!(self.tokens.get(self.at), Some((Tok::Punct(q), _)) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        let hit = self.peek_punct(p);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, p: &str) -> Result<(), ExprError> {
        if self.eat(p) {
            return Ok(());
        }
        match self.tokens.get(self.at) {
            Some((t, off)) => Err(ExprError::Token(format!("{t:?}"), *off)),
            None => Err(ExprError::End),
        }
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooLarge);
        }
        let e = self.or_inner();
        self.depth -= 1;
        e
    }

    fn or_inner(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.and()?;
        while self.eat("||") {
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.cmp()?;
        while self.eat("&&") {
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(self.cmp()?));
        }
        Ok(l)
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.unary()?;
        loop {
            let op = [
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ]
            .into_iter()
            .find(|(p, _)| self.peek_punct(p));
            let Some((_, op)) = op else { return Ok(l) };
            self.at += 1;
            l = Expr::Binary(op, Box::new(l), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.eat("!") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ExprError::TooLarge);
            }
            let e = self.unary();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.primary()?;
        loop {
            if self.eat(".") {
                match self.tokens.get(self.at).cloned() {
                    Some((Tok::Ident(name), _)) => {
                        self.at += 1;
                        e = Expr::Member(Box::new(e), name);
                    }
                    Some((Tok::Punct("*"), _)) => {
                        self.at += 1;
                        e = Expr::Star(Box::new(e));
                    }
                    Some((t, off)) => return Err(ExprError::Token(format!("{t:?}"), off)),
                    None => return Err(ExprError::End),
                }
            } else if self.eat("[") {
                if self.eat("*") {
                    self.expect("]")?;
                    e = Expr::Star(Box::new(e));
                    continue;
                }
                let index = self.or()?;
                self.expect("]")?;
                e = match index {
                    Expr::Str(s) => Expr::Member(Box::new(e), s),
                    other => Expr::Index(Box::new(e), Box::new(other)),
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some((tok, off)) = self.tokens.get(self.at).cloned() else {
            return Err(ExprError::End);
        };
        self.at += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Number(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Punct("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                if self.eat("(") {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    return Ok(Expr::Call(name, args));
                }
                Ok(match name.as_str() {
                    "true" => Expr::Bool(true),
                    "false" => Expr::Bool(false),
                    "null" => Expr::Null,
                    _ => Expr::Context(name),
                })
            }
            other => Err(ExprError::Token(format!("{other:?}"), off)),
        }
    }
}

impl Expr {
    /// The dotted path of a context access (`github.event.commits.*.message`), lower-cased;
    /// dynamic indexes become `*`.
    pub fn path(&self) -> Option<String> {
        match self {
            Expr::Context(c) => Some(c.to_ascii_lowercase()),
            Expr::Member(e, name) => Some(format!("{}.{}", e.path()?, name.to_ascii_lowercase())),
            Expr::Index(e, _) | Expr::Star(e) => Some(format!("{}.*", e.path()?)),
            _ => None,
        }
    }

    /// The context paths whose text can end up in this expression's value: comparisons, `!` and
    /// predicates (`contains`, `startsWith`, ...) yield booleans, so their operands do not.
    pub fn value_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_value_paths(&mut out);
        out
    }

    fn collect_value_paths(&self, out: &mut Vec<String>) {
        if let Some(p) = self.path() {
            out.push(p);
            return;
        }
        match self {
            Expr::Binary(BinOp::And | BinOp::Or, l, r) => {
                l.collect_value_paths(out);
                r.collect_value_paths(out);
            }
            Expr::Call(name, args) => {
                let boolean = [
                    "contains",
                    "startswith",
                    "endswith",
                    "success",
                    "failure",
                    "always",
                    "cancelled",
                    "hashfiles",
                ];
                if !boolean.contains(&name.to_ascii_lowercase().as_str()) {
                    args.iter().for_each(|a| a.collect_value_paths(out));
                }
            }
            _ => {}
        }
    }

    /// Every context path the expression mentions, wherever it appears.
    pub fn all_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Some(p) = e.path() {
                out.push(p);
                false
            } else {
                true
            }
        });
        out
    }

    /// Visits nodes depth-first; `f` returns whether to descend.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr) -> bool) {
        if !f(self) {
            return;
        }
        match self {
            Expr::Member(e, _) | Expr::Star(e) | Expr::Not(e) => e.walk(f),
            Expr::Index(e, i) => {
                e.walk(f);
                i.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Binary(_, l, r) => {
                l.walk(f);
                r.walk(f);
            }
            _ => {}
        }
    }
}

/// One `${{ ... }}` found in a text: its byte range in that text (braces included) and its parse.
#[derive(Debug, Clone)]
pub struct Template {
    pub start: usize,
    pub end: usize,
    pub parsed: Result<Expr, ExprError>,
}

/// Finds the `${{ }}` templates of a text, skipping `}}` inside string literals.
pub fn templates(text: &str) -> Vec<Template> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(rel) = text[from..].find("${{") {
        let start = from + rel;
        let inner = start + 3;
        let mut i = inner;
        let mut in_str = false;
        let mut end = None;
        while i < bytes.len() {
            match bytes[i] {
                b'\'' => in_str = !in_str,
                b'}' if !in_str && bytes.get(i + 1) == Some(&b'}') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(close) = end else { break };
        out.push(Template {
            start,
            end: close + 2,
            parsed: parse(&text[inner..close]),
        });
        from = close + 2;
    }
    out
}

/// Whether a whole field (like `if:`) is an expression: `${{ }}` is optional there.
pub fn parse_condition(text: &str) -> Option<Expr> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}")) {
        return parse(inner).ok();
    }
    parse(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(s: &str) -> Vec<String> {
        parse(s).expect("parses").value_paths()
    }

    #[test]
    fn plain_and_bracketed_paths_are_the_same() {
        assert_eq!(
            paths("github.event.issue.title"),
            ["github.event.issue.title"]
        );
        assert_eq!(
            paths("github.event['issue'].title"),
            ["github.event.issue.title"]
        );
        assert_eq!(
            paths("github.event.commits[0].message"),
            ["github.event.commits.*.message"]
        );
        assert_eq!(
            paths("github.event.commits.*.message"),
            ["github.event.commits.*.message"]
        );
    }

    #[test]
    fn format_and_tojson_pass_values_through() {
        assert_eq!(
            paths("format('Fix: {0}', github.event.issue.title)"),
            ["github.event.issue.title"]
        );
        assert_eq!(paths("toJSON(github.event)"), ["github.event"]);
        assert_eq!(
            paths("github.event.issue.body || 'none'"),
            ["github.event.issue.body"]
        );
    }

    #[test]
    fn predicates_and_comparisons_yield_booleans() {
        assert!(paths("contains(github.event.comment.body, '@claude')").is_empty());
        assert!(
            paths("github.event.comment.body == 'x' && !github.event.issue.pull_request")
                .is_empty()
        );
        let all = parse("contains(github.event.comment.body, '@claude')")
            .expect("ok")
            .all_paths();
        assert_eq!(all, ["github.event.comment.body"]);
    }

    #[test]
    fn operators_and_precedence() {
        let e = parse("a == 'x' || b && !(c != 1)").expect("ok");
        let Expr::Binary(BinOp::Or, _, r) = e else {
            panic!("or at top: {e:?}")
        };
        assert!(matches!(*r, Expr::Binary(BinOp::And, _, _)));
        assert!(matches!(
            parse("1 < 2").expect("ok"),
            Expr::Binary(BinOp::Lt, _, _)
        ));
        assert_eq!(parse("'it''s'").expect("ok"), Expr::Str("it's".into()));
        assert_eq!(parse("0xff").expect("ok"), Expr::Number(255.0));
    }

    #[test]
    fn bad_expressions_are_errors() {
        assert!(parse("github.").is_err());
        assert!(parse("format('a'").is_err());
        assert!(parse("'open").is_err());
        assert!(parse("a $ b").is_err());
        assert_eq!(parse(&"(".repeat(10_000)), Err(ExprError::TooLarge));
        assert_eq!(parse(&"!".repeat(1_000)), Err(ExprError::TooLarge));
    }

    #[test]
    fn templates_skip_braces_in_strings() {
        let t = templates("x ${{ format('}}{0}', github.head_ref) }} y ${{ env.A }}");
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0].parsed.as_ref().expect("ok").value_paths(),
            ["github.head_ref"]
        );
        assert_eq!(t[0].start, 2);
        assert_eq!(t[1].parsed.as_ref().expect("ok").value_paths(), ["env.a"]);
    }
}
