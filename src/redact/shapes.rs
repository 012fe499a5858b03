//! Credentials recognisable by their shape, whoever they belong to.
//!
//! One regular expression with one group per shape finds them in a single pass (the regex crate
//! extracts the literal prefixes, `ghp_`, `sk-`, `AKIA`…, and skips ahead between them). A few
//! shapes need a second look that a regex cannot express cheaply:
//! - `sk-…` (OpenAI) and `xox?-…` (Slack) also occur in ordinary words (`sk-learn-compatible`,
//!   `xoxo-hugs`), so their body must look random: a digit, and for OpenAI also both cases;
//! - a private key block runs to its `-----END … PRIVATE KEY-----` line, or, cut short, to the
//!   end of the text or of the JSON string it sits in;
//! - an AWS secret access key is 40 characters of base64 that only stand out next to an access
//!   key ID or a `secret_access_key` label, and never all-hex (a commit SHA is 40 hex digits).
use super::{Hit, Kind};
use regex::Regex;
use std::sync::LazyLock;

/// Shapes in order of priority: at one position the first that matches wins (Anthropic's
/// `sk-ant-` before OpenAI's `sk-`).
const SHAPES: [(Kind, &str); 11] = [
    (Kind::GitHubToken, r"gh[pousr]_[A-Za-z0-9]{30,255}"),
    (Kind::GitHubToken, r"github_pat_[A-Za-z0-9_]{30,255}"),
    (Kind::AnthropicKey, r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}"),
    (
        Kind::OpenAiKey,
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    ),
    (
        Kind::AwsAccessKeyId,
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?-u:\b)",
    ),
    (Kind::GoogleApiKey, r"(?-u:\b)AIza[0-9A-Za-z_-]{35}"),
    // What the proxy mints from Vertex credentials (OAuth access tokens).
    (Kind::GoogleAccessToken, r"(?-u:\b)ya29\.[0-9A-Za-z_-]{20,}"),
    (Kind::SlackToken, r"(?-u:\b)xox[a-z]-[A-Za-z0-9-]{10,}"),
    (
        Kind::PrivateKey,
        r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----",
    ),
    (
        Kind::Jwt,
        r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    ),
    (
        Kind::AwsSecretKey,
        r"(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)[ \t]*[\x22']?[ \t]*[:=][ \t]*[\x22']?([A-Za-z0-9/+]{40})",
    ),
];

struct Compiled {
    any: Regex,
    /// Capture group index of each shape in `any` (the AWS secret's value is an inner group).
    groups: Vec<(usize, Kind)>,
}

static COMPILED: LazyLock<Option<Compiled>> = LazyLock::new(compile);

fn compile() -> Option<Compiled> {
    // One named group per shape (`s0`, `s1`…), so the groups' numbers come from the compiled
    // expression; ASCII semantics throughout (`(?-u)`), which keeps the automaton small.
    let mut pattern = String::from("(?-u)");
    for (i, (_, p)) in SHAPES.iter().enumerate() {
        if i > 0 {
            pattern.push('|');
        }
        pattern.push_str(&format!("(?P<s{i}>{p})"));
    }
    let any = Regex::new(&pattern).ok()?;
    let names: Vec<Option<&str>> = any.capture_names().collect();
    let groups = SHAPES
        .iter()
        .enumerate()
        .map(|(i, (kind, _))| {
            let name = format!("s{i}");
            let index = names.iter().position(|n| *n == Some(name.as_str()))?;
            Some((index, *kind))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Compiled { any, groups })
}

/// Compiles the expression now rather than on first use.
pub(super) fn compile_now() {
    LazyLock::force(&COMPILED);
}

/// Every credential-shaped string in `text`.
pub(super) fn find(text: &str) -> Vec<Hit> {
    let Some(c) = COMPILED.as_ref() else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    let mut aws_ids = Vec::new();
    for caps in c.any.captures_iter(text) {
        let Some(&(group, kind)) = c.groups.iter().find(|(g, _)| caps.get(*g).is_some()) else {
            continue;
        };
        let Some(m) = caps.get(group) else {
            continue;
        };
        let s = m.as_str();
        let range = match kind {
            Kind::OpenAiKey if !looks_random(s.trim_start_matches("sk-"), true) => continue,
            Kind::SlackToken if !s[5..].bytes().any(|b| b.is_ascii_digit()) => continue,
            Kind::PrivateKey => m.start()..private_key_end(text, m.end()),
            Kind::AwsSecretKey => match caps.get(group + 1) {
                Some(value) if looks_random(value.as_str(), true) && !is_hex(value.as_str()) => {
                    value.range()
                }
                _ => continue,
            },
            Kind::AwsAccessKeyId => {
                aws_ids.push(m.range());
                m.range()
            }
            _ => m.range(),
        };
        hits.push(Hit { range, kind });
    }
    for id in aws_ids {
        hits.extend(secret_keys_near(text, id));
    }
    hits
}

/// Where a private key block that starts before `from` ends.
fn private_key_end(text: &str, from: usize) -> usize {
    let rest = &text[from..];
    if let Some(end) = rest.find("-----END") {
        let after = &rest[end + 8..];
        if let Some(close) = after.find("PRIVATE KEY-----")
            && close <= 40
        {
            return from + end + 8 + close + "PRIVATE KEY-----".len();
        }
    }
    // Cut short: to the end of the JSON string it sits in, or of the text.
    from + rest.find('"').unwrap_or(rest.len())
}

/// 40-character base64 runs within 256 bytes of an AWS access key ID.
fn secret_keys_near(text: &str, id: std::ops::Range<usize>) -> Vec<Hit> {
    const NEAR: usize = 256;
    let bytes = text.as_bytes();
    let lo = id.start.saturating_sub(NEAR);
    let hi = (id.end + NEAR).min(bytes.len());
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let mut hits = Vec::new();
    let mut i = lo;
    // Start at a run's beginning, not inside it.
    while i > 0 && is_b64(bytes[i - 1]) {
        i -= 1;
    }
    while i < hi {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        let run = &text[start..i];
        if run.len() == 40 && looks_random(run, true) && !is_hex(run) {
            hits.push(Hit {
                range: start..i,
                kind: Kind::AwsSecretKey,
            });
        }
    }
    hits
}

/// A digit and a letter, and with `both_cases` an upper- and a lower-case letter: what a random
/// token of 20+ characters has and an ordinary hyphenated word does not.
fn looks_random(s: &str, both_cases: bool) -> bool {
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    digit && (upper || lower) && (!both_cases || (upper && lower))
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}
