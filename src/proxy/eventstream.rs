//! AWS event-stream (`application/vnd.amazon.eventstream`): the binary framing Bedrock's and SAP
//! AI Core's `/invoke-with-response-stream` answers come in. Frames arrive split at any TCP
//! boundary; this module buffers them and hands each complete one to the AWS-maintained decoder
//! (`aws-smithy-eventstream`), which checks the prelude, the headers and both CRCs.
//!
//! What stays here is the part that decoder leaves to its caller: the upstream is untrusted, so
//! a frame's length is checked (prelude CRC first, then a cap) before any byte is buffered on
//! its account. The crate's own streaming decoder trusts the length until the whole frame has
//! arrived, which for a corrupt or hostile 4 GiB prelude would mean buffering without bound.
use aws_smithy_eventstream::frame::{read_message_from, write_message_to};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::{Bytes, BytesMut};

/// Frames larger than this are refused before buffering them (a corrupt length could be 4 GiB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;
/// Total length, headers length, prelude CRC.
const PRELUDE: usize = 12;
/// A prelude and the message CRC, no headers, no payload.
const MIN_FRAME: usize = PRELUDE + 4;

/// Why the byte stream is not a valid event-stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("event-stream prelude CRC mismatch")]
    PreludeCrc,
    #[error("event-stream frame of {0} bytes is outside the accepted range")]
    Length(usize),
    /// Rejected by the decoder: message CRC, header encoding, lengths (its wording kept).
    #[error("event-stream frame is invalid: {0}")]
    Invalid(String),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame(Message);

impl Frame {
    /// A string header's value, e.g. `:message-type`; `None` when absent or of another type.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.0
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str())
    }

    pub fn payload(&self) -> &Bytes {
        self.0.payload()
    }
}

/// Buffers bytes until whole frames are available.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: BytesMut,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed. After an error the
    /// stream is unusable (frame boundaries are lost) and the caller ends it.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(prelude) = self.buf.get(..PRELUDE) else {
            return Ok(None);
        };
        let word = |at: usize| {
            u32::from_be_bytes([
                prelude[at],
                prelude[at + 1],
                prelude[at + 2],
                prelude[at + 3],
            ])
        };
        // The prelude CRC is checked before the length is trusted for buffering.
        if crc32fast::hash(&prelude[..8]) != word(8) {
            return Err(FrameError::PreludeCrc);
        }
        let total = usize::try_from(word(0)).unwrap_or(usize::MAX);
        if !(MIN_FRAME..=MAX_FRAME).contains(&total) {
            return Err(FrameError::Length(total));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        read_message_from(frame)
            .map(|m| Some(Frame(m)))
            .map_err(|e| FrameError::Invalid(e.to_string()))
    }

    /// True when no partial frame is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Encodes a frame with string headers (what Bedrock sends); used by tests and fakes.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let message = headers.iter().fold(
        Message::new(Bytes::copy_from_slice(payload)),
        |m, (name, value)| {
            m.add_header(Header::new(
                name.to_string(),
                HeaderValue::String(value.to_string().into()),
            ))
        },
    );
    let mut out = Vec::new();
    // Only oversized names, values or payloads fail, which no caller builds.
    write_message_to(&message, &mut out).expect("frame within event-stream limits");
    out
}

#[cfg(test)]
mod tests;
