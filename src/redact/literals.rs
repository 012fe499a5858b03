//! The run's secret values and the forms they can be printed in, found in one pass.
//!
//! For each value (and, for a multi-line value such as a JSON service key or a PEM key, each of
//! its lines) at least [`MIN_SECRET_LEN`](super::MIN_SECRET_LEN) bytes long:
//! - the value itself, URL-encoded (upper- and lower-case `%XX`) and in hex (both cases);
//! - base64, standard and url-safe alphabets: the whole encoding padded and unpadded, and the
//!   characters that only the value's bytes determine when it starts at byte offset 0, 1 or 2 of
//!   a longer encoded blob (what `base64("x-access-token:" + token)` contains, for example).
//!
//! Matching is leftmost-longest, so a padded encoding is replaced whole rather than leaving
//! its last characters behind.
use super::{Encoding, Hit, Kind, MIN_SECRET_LEN};
use crate::secret::Secret;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use std::collections::HashSet;

pub(super) struct Literals {
    search: Search,
    kinds: Vec<Kind>,
}

enum Search {
    None,
    Automaton(AhoCorasick),
    /// Only if the automaton could not be built (it has size limits); slower, same result set.
    Naive(Vec<String>),
}

impl Literals {
    pub(super) fn build(values: &[Secret]) -> Self {
        let mut seen = HashSet::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut kinds: Vec<Kind> = Vec::new();
        for value in values {
            for piece in pieces(value.expose()) {
                for (form, encoding) in forms(piece) {
                    if form.len() >= MIN_SECRET_LEN && seen.insert(form.clone()) {
                        patterns.push(form);
                        kinds.push(Kind::RunSecret(encoding));
                    }
                }
            }
        }
        let search = if patterns.is_empty() {
            Search::None
        } else {
            // A contiguous NFA builds in well under a millisecond; the DFA the builder would pick
            // for a set this small takes several, on the way to the agent's start, for no
            // measurable gain in search (the prefilter does the skipping).
            match AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&patterns)
            {
                Ok(ac) => Search::Automaton(ac),
                Err(_) => Search::Naive(patterns),
            }
        };
        Self { search, kinds }
    }

    pub(super) fn len(&self) -> usize {
        self.kinds.len()
    }

    pub(super) fn find(&self, text: &str) -> Vec<Hit> {
        match &self.search {
            Search::None => Vec::new(),
            Search::Automaton(ac) => ac
                .find_iter(text)
                .map(|m| Hit {
                    range: m.range(),
                    kind: self.kinds[m.pattern().as_usize()],
                })
                .collect(),
            Search::Naive(patterns) => {
                let mut hits = Vec::new();
                for (i, p) in patterns.iter().enumerate() {
                    for (at, _) in text.match_indices(p.as_str()) {
                        hits.push(Hit {
                            range: at..at + p.len(),
                            kind: self.kinds[i],
                        });
                    }
                }
                hits
            }
        }
    }
}

/// The value, and each of its lines (trimmed) when it has several.
fn pieces(value: &str) -> Vec<&str> {
    let mut out = vec![value];
    if value.contains('\n') {
        out.extend(value.lines().map(str::trim).filter(|l| !l.is_empty()));
    }
    out
}

/// Every form of `piece` that is searched for.
fn forms(piece: &str) -> Vec<(String, Encoding)> {
    let bytes = piece.as_bytes();
    let mut out = vec![(piece.to_string(), Encoding::Plain)];
    let url = url_encode(bytes, true);
    if url != piece {
        out.push((url_encode(bytes, false), Encoding::UrlEncoded));
        out.push((url, Encoding::UrlEncoded));
    }
    let hex = crate::secret::hex(bytes);
    out.push((hex.to_ascii_uppercase(), Encoding::Hex));
    out.push((hex, Encoding::Hex));
    for (padded, unpadded) in [(STANDARD, STANDARD_NO_PAD), (URL_SAFE, URL_SAFE_NO_PAD)] {
        out.push((padded.encode(bytes), Encoding::Base64));
        out.push((unpadded.encode(bytes), Encoding::Base64));
        for offset in 0..3 {
            out.push((fragment(&unpadded, bytes, offset), Encoding::Base64));
        }
    }
    out
}

/// The base64 characters determined by `bytes` alone when they start `offset` bytes into a
/// 3-byte group of a longer input: the first characters mix in the bytes before, the last one
/// the bytes after, so both are left out.
fn fragment(engine: &impl Engine, bytes: &[u8], offset: usize) -> String {
    let mut input = vec![0u8; offset];
    input.extend_from_slice(bytes);
    let encoded = engine.encode(&input);
    let start = (offset * 8).div_ceil(6);
    let end = ((offset + bytes.len()) * 8) / 6;
    encoded.get(start..end).unwrap_or("").to_string()
}

/// Percent-encoding of everything but RFC 3986's unreserved characters, with upper- or
/// lower-case hex digits (both are seen in the wild).
fn url_encode(bytes: &[u8], upper: bool) -> String {
    let encoded = crate::net::percent_encode_bytes(bytes);
    if upper {
        return encoded;
    }
    // Only the hex digits of escapes change case: unreserved characters are copied as they are.
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_are_found_inside_longer_encodings() {
        let secret = b"ghs_canary_value_123";
        for prefix in ["", "x", "xy", "x-access-token:", "Authorization: Bearer "] {
            let mut blob = prefix.as_bytes().to_vec();
            blob.extend_from_slice(secret);
            blob.extend_from_slice(b"-and-more-after");
            for engine in [STANDARD, URL_SAFE] {
                let encoded = engine.encode(&blob);
                let offset = prefix.len() % 3;
                let frag = fragment(&STANDARD_NO_PAD, secret, offset);
                let frag_url = fragment(&URL_SAFE_NO_PAD, secret, offset);
                assert!(
                    encoded.contains(&frag) || encoded.contains(&frag_url),
                    "{prefix:?}: {frag} not in {encoded}"
                );
                assert!(frag.len() >= 20, "{frag}");
            }
        }
    }

    #[test]
    fn url_escapes_come_in_both_cases() {
        let f = forms("a/b+c=d&e");
        assert!(f.contains(&("a%2Fb%2Bc%3Dd%26e".into(), Encoding::UrlEncoded)));
        assert!(f.contains(&("a%2fb%2bc%3dd%26e".into(), Encoding::UrlEncoded)));
    }

    #[test]
    fn multi_line_values_are_also_matched_line_by_line() {
        let p = pieces("{\n  \"clientsecret\": \"abc\"\n}");
        assert!(p.contains(&"\"clientsecret\": \"abc\""));
    }
}
