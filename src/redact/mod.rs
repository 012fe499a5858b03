//! The one detector of secrets, and the redaction every text coworker writes for people passes.
//!
//! The agent reads text strangers wrote and may follow instructions hidden in it; whatever it
//! prints comes back in the tracking comment, the pull request, the step summary, the outputs and
//! the log. So everything coworker writes for people goes through [`Redactor::redact`] first,
//! and the commits it pushes are scanned by the same detector ([`scan`]).
//!
//! What it finds, each replaced by `[redacted: <kind>]`:
//! - the run's own secret values (the inputs, the proxy's per-run token, gateway credentials and
//!   well-known credential variables of the environment) and their encodings: base64 (standard
//!   and url-safe, padded or not, at each of the three byte offsets so a value inside a longer
//!   blob is still found), hex and URL-encoding. One Aho-Corasick automaton finds them all in
//!   one pass;
//! - credential shapes any run could leak (GitHub, Anthropic, OpenAI, AWS, Google and Slack
//!   tokens, Google access tokens, private keys, JWTs), with one regular expression (see
//!   [`shapes`]).
//!
//! Values shorter than [`MIN_SECRET_LEN`] bytes are not matched by value: an 8-byte floor keeps
//! a short value (`main`, `1234`, `true`) from wrecking ordinary text, and anything shorter is
//! weak as a credential anyway. GitHub's own log masking still hides them in the job log.
//!
//! Not found: a secret split across lines or chunks, or re-encoded in a way not listed above
//! (reversed, base64 of base64, a custom cipher). Redaction is the last line; the first is that
//! the agent holds no credential at all (see `agent::env`).
pub mod allow;
mod env;
mod literals;
pub mod scan;
pub mod shapes;

use crate::secret::Secret;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, RwLock};

/// Secret values shorter than this many bytes are not matched by value (see the module doc).
pub const MIN_SECRET_LEN: usize = 8;

/// How a run's own secret value appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Plain,
    Base64,
    Hex,
    UrlEncoded,
}

/// What a hit is: one of the run's values, or a credential of a known shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    RunSecret(Encoding),
    GitHubToken,
    AnthropicKey,
    OpenAiKey,
    AwsAccessKeyId,
    AwsSecretKey,
    GoogleApiKey,
    GoogleAccessToken,
    SlackToken,
    PrivateKey,
    Jwt,
}

impl Kind {
    /// The words in `[redacted: …]` and in push-protection findings.
    pub fn label(self) -> &'static str {
        match self {
            Self::RunSecret(Encoding::Plain) => "secret",
            Self::RunSecret(Encoding::Base64) => "secret in base64",
            Self::RunSecret(Encoding::Hex) => "secret in hex",
            Self::RunSecret(Encoding::UrlEncoded) => "url-encoded secret",
            Self::GitHubToken => "GitHub token",
            Self::AnthropicKey => "Anthropic API key",
            Self::OpenAiKey => "OpenAI API key",
            Self::AwsAccessKeyId => "AWS access key ID",
            Self::AwsSecretKey => "AWS secret access key",
            Self::GoogleApiKey => "Google API key",
            Self::GoogleAccessToken => "Google access token",
            Self::SlackToken => "Slack token",
            Self::PrivateKey => "private key",
            Self::Jwt => "JWT",
        }
    }

    /// Whether this is one of the run's own values: those are never a false positive, so no
    /// allow-list entry lets them through push protection.
    pub fn is_run_secret(self) -> bool {
        matches!(self, Self::RunSecret(_))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One finding: where in the text, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub range: Range<usize>,
    pub kind: Kind,
}

/// Text that went through a [`Redactor`]; only a redactor can make one, so a function that
/// takes `&Redacted` (the GitHub client's writing methods) cannot be handed raw agent text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The text cut to at most `max_chars` characters (on a character boundary, with a note),
    /// for endpoints with a size limit: a redaction marker can be longer than what it replaced.
    pub fn limited(&self, max_chars: usize) -> Cow<'_, str> {
        const NOTE: &str = "\n\n_…cut to fit GitHub's size limit._";
        if self.0.len() <= max_chars || self.0.chars().count() <= max_chars {
            return Cow::Borrowed(&self.0);
        }
        let room = max_chars.saturating_sub(NOTE.chars().count());
        let mut out: String = self.0.chars().take(room).collect();
        out.push_str(NOTE);
        Cow::Owned(out.chars().take(max_chars).collect())
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The detector for one run: its secret values (and their encodings) and the known shapes.
pub struct Redactor {
    values: Vec<Secret>,
    literals: literals::Literals,
}

impl Default for Redactor {
    /// Shapes only: no value of the run is known.
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.values.len())
            .field("patterns", &self.literals.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for `values` (empty ones and duplicates are dropped; those shorter than
    /// [`MIN_SECRET_LEN`] are kept for the record but never matched).
    pub fn new(values: Vec<Secret>) -> Self {
        let mut unique: Vec<Secret> = Vec::with_capacity(values.len());
        for v in values {
            if !v.is_empty() && !unique.contains(&v) {
                unique.push(v);
            }
        }
        let literals = literals::Literals::build(&unique);
        Self {
            values: unique,
            literals,
        }
    }

    /// Whether `value` is one of the run's values this redactor knows.
    pub fn knows(&self, value: &Secret) -> bool {
        self.values.contains(value)
    }

    /// Every secret in `text`, leftmost first, overlaps merged (the first hit's kind wins).
    pub fn find(&self, text: &str) -> Vec<Hit> {
        let mut hits = self.literals.find(text);
        hits.extend(shapes::find(text));
        if hits.len() < 2 {
            return hits;
        }
        hits.sort_by(|a, b| {
            a.range
                .start
                .cmp(&b.range.start)
                .then(b.range.end.cmp(&a.range.end))
        });
        let mut merged: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            match merged.last_mut() {
                Some(last) if hit.range.start < last.range.end => {
                    last.range.end = last.range.end.max(hit.range.end);
                }
                _ => merged.push(hit),
            }
        }
        merged
    }

    /// `text` with every secret replaced by `[redacted: <kind>]`.
    pub fn redact(&self, text: &str) -> Redacted {
        let hits = self.find(text);
        if hits.is_empty() {
            return Redacted(text.to_owned());
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for hit in hits {
            out.push_str(&text[at..hit.range.start]);
            out.push_str("[redacted: ");
            out.push_str(hit.kind.label());
            out.push(']');
            at = hit.range.end;
        }
        out.push_str(&text[at..]);
        Redacted(out)
    }
}

/// The run's redactor, shared by every place that writes for people.
///
/// A process-wide registry rather than a value threaded through the run: the comment follower
/// task, the agent runner's log echo, delivery and the file reports all need it, and the run's
/// wiring is shared with other work; a registry that only grows cannot be forgotten at a call
/// site and cannot lose a value once registered. It starts with the well-known credential
/// variables of the environment; `run` adds the inputs' secrets, the model proxy its token and
/// gateway credentials.
static REGISTRY: RwLock<Option<Arc<Redactor>>> = RwLock::new(None);

/// The run's redactor as it stands.
pub fn current() -> Arc<Redactor> {
    if let Some(r) = REGISTRY.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Arc::clone(r);
    }
    let mut slot = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    Arc::clone(slot.get_or_insert_with(|| Arc::new(Redactor::new(env::credentials()))))
}

/// Adds the run's secret values to the shared redactor (they are redacted from then on).
/// The first call also compiles the shapes on another thread, so the first comment does not
/// wait for it.
pub fn register<'a>(secrets: impl IntoIterator<Item = &'a Secret>) {
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        std::thread::spawn(shapes::compile_now);
    });
    let mut slot = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let mut values = match slot.as_ref() {
        Some(r) => r.values.clone(),
        None => env::credentials(),
    };
    let before = values.len();
    for s in secrets {
        if !s.is_empty() && !values.contains(s) {
            values.push(s.clone());
        }
    }
    if slot.is_none() || values.len() > before {
        *slot = Some(Arc::new(Redactor::new(values)));
    }
}

/// `text` through the run's redactor.
pub fn redact(text: &str) -> Redacted {
    current().redact(text)
}

#[cfg(test)]
mod tests;
