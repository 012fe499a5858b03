//! Server-sent events: an incremental parser for upstream streams and the writer for ours.
use bytes::Bytes;
use serde_json::Value;

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// A line longer than this is not a sane SSE stream; the parser stops instead of growing.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// The SSE line grew past [`MAX_LINE`].
#[derive(Debug, thiserror::Error)]
#[error("upstream event line longer than {MAX_LINE} bytes")]
pub struct LineTooLong;

/// Parses SSE incrementally: bytes may be split anywhere, including inside UTF-8 sequences.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds bytes and calls `on_event` for each completed event.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(SseEvent),
    ) -> Result<(), LineTooLong> {
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(pos);
            rest = &tail[1..];
            if self.line.is_empty() {
                self.take_line(head, &mut on_event);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.take_line(&line, &mut on_event);
            }
        }
        if self.line.len() + rest.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// End of input: a final event without its blank line still counts.
    pub fn finish(&mut self, mut on_event: impl FnMut(SseEvent)) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.take_line(&line, &mut on_event);
        }
        self.take_line(b"", &mut on_event);
    }

    /// True between events: nothing of a next event has been seen yet.
    pub fn at_boundary(&self) -> bool {
        self.line.is_empty() && self.event.is_none() && self.data.is_none()
    }

    fn take_line(&mut self, line: &[u8], on_event: &mut impl FnMut(SseEvent)) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.data.is_some() || self.event.is_some() {
                on_event(SseEvent {
                    event: self.event.take(),
                    data: self.data.take().unwrap_or_default(),
                });
            }
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(&value);
                }
                None => self.data = Some(value.into_owned()),
            },
            _ => {}
        }
    }
}

/// Writes one Anthropic event with its `event:` line, taking the name from the JSON `type`.
pub fn event_bytes(event: &Value) -> Bytes {
    let name = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
}

/// The keep-alive event sent while the upstream is silent.
pub const PING: &[u8] = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let text = "event: message_start\r\ndata: {\"a\":\n\n: comment\ndata: x\ndata: y\n\nevent: e\ndata: é\n\n";
        for split in 0..text.len() {
            let (a, b) = text.as_bytes().split_at(split);
            let mut p = SseParser::default();
            let mut got = Vec::new();
            p.feed(a, |e| got.push(e)).expect("short lines");
            p.feed(b, |e| got.push(e)).expect("short lines");
            assert!(p.at_boundary());
            assert_eq!(got.len(), 3, "split at {split}");
            assert_eq!(got[0].event.as_deref(), Some("message_start"));
            assert_eq!(got[0].data, "{\"a\":");
            assert_eq!(got[1].data, "x\ny");
            assert_eq!(got[2].data, "é");
        }
    }
}
