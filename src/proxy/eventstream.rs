//! AWS event-stream (`application/vnd.amazon.eventstream`): the binary framing SAP AI Core's
//! Bedrock-style `/invoke-with-response-stream` answers in. Incremental decoding (frames arrive
//! split at any TCP boundary), both CRCs checked, frame size capped; plus an encoder for tests.
//!
//! CRC-32 (IEEE) is computed with a small table here rather than a crate: it is 20 lines and
//! only runs over a few kilobytes per answer.
use bytes::{Buf, BytesMut};

/// Frames larger than this are refused before buffering them (a corrupt length could be 4 GiB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;
const PRELUDE: usize = 12;
const MIN_FRAME: usize = PRELUDE + 4;

/// Why the byte stream is not a valid event-stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("event-stream prelude CRC mismatch")]
    PreludeCrc,
    #[error("event-stream message CRC mismatch")]
    MessageCrc,
    #[error("event-stream frame of {0} bytes is outside the accepted range")]
    Length(usize),
    #[error("event-stream header is malformed")]
    Header,
}

/// A header value; only the types Bedrock uses are kept distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
    String(String),
    Uuid([u8; 16]),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A string header's value, e.g. `:message-type`.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 as zlib computes it.
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, b| {
        CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8)
    })
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

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < PRELUDE {
            return Ok(None);
        }
        let total =
            u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        let headers_len =
            u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        let prelude_crc =
            u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]]);
        // The prelude CRC is checked before the length is trusted for buffering.
        if crc32(&self.buf[..8]) != prelude_crc {
            return Err(FrameError::PreludeCrc);
        }
        if !(MIN_FRAME..=MAX_FRAME).contains(&total) || headers_len > total - MIN_FRAME {
            return Err(FrameError::Length(total));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total);
        let crc_at = total - 4;
        let message_crc = u32::from_be_bytes([
            frame[crc_at],
            frame[crc_at + 1],
            frame[crc_at + 2],
            frame[crc_at + 3],
        ]);
        if crc32(&frame[..crc_at]) != message_crc {
            return Err(FrameError::MessageCrc);
        }
        let headers = parse_headers(&frame[PRELUDE..PRELUDE + headers_len])?;
        let payload = frame[PRELUDE + headers_len..crc_at].to_vec();
        Ok(Some(Frame { headers, payload }))
    }

    /// True when no partial frame is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

fn parse_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    let mut out = Vec::new();
    while b.has_remaining() {
        let name_len = usize::from(b.get_u8());
        if name_len == 0 || b.remaining() < name_len + 1 {
            return Err(FrameError::Header);
        }
        let name = String::from_utf8(b[..name_len].to_vec()).map_err(|_| FrameError::Header)?;
        b.advance(name_len);
        let kind = b.get_u8();
        let need = |b: &[u8], n: usize| {
            if b.remaining() < n {
                Err(FrameError::Header)
            } else {
                Ok(())
            }
        };
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => {
                need(b, 1)?;
                HeaderValue::Int(i64::from(b.get_i8()))
            }
            3 => {
                need(b, 2)?;
                HeaderValue::Int(i64::from(b.get_i16()))
            }
            4 => {
                need(b, 4)?;
                HeaderValue::Int(i64::from(b.get_i32()))
            }
            5 | 8 => {
                need(b, 8)?;
                HeaderValue::Int(b.get_i64())
            }
            6 | 7 => {
                need(b, 2)?;
                let len = usize::from(b.get_u16());
                need(b, len)?;
                let data = b[..len].to_vec();
                b.advance(len);
                if kind == 7 {
                    HeaderValue::String(String::from_utf8(data).map_err(|_| FrameError::Header)?)
                } else {
                    HeaderValue::Bytes(data)
                }
            }
            9 => {
                need(b, 16)?;
                let mut id = [0u8; 16];
                b.copy_to_slice(&mut id);
                HeaderValue::Uuid(id)
            }
            _ => return Err(FrameError::Header),
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Encodes a frame with string headers (what Bedrock sends); used by tests and fakes.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = (MIN_FRAME + h.len() + payload.len()) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_vectors() {
        let plain = encode(&[], br#"{"foo": "bar"}"#);
        assert_eq!(
            &plain[..12],
            &[0, 0, 0, 0x1e, 0, 0, 0, 0, 0xba, 0xf2, 0xf6, 0x8a]
        );
        assert_eq!(&plain[plain.len() - 4..], &[0xae, 0x72, 0x58, 0xe4]);
        let with_header = encode(
            &[("content-type", "application/json")],
            br#"{"foo": "bar"}"#,
        );
        assert_eq!(
            &with_header[..12],
            &[0, 0, 0, 0x3e, 0, 0, 0, 0x20, 0x40, 0x5d, 0xf9, 0x46]
        );
        assert_eq!(
            &with_header[with_header.len() - 4..],
            &[0x6f, 0xa2, 0xbf, 0x3b]
        );
    }

    #[test]
    fn decodes_frames_split_at_every_byte() {
        let mut wire = encode(
            &[(":message-type", "event"), (":event-type", "chunk")],
            b"one",
        );
        wire.extend(encode(&[(":message-type", "exception")], b"two"));
        for split in 0..wire.len() {
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                d.push(part);
                while let Some(f) = d.next_frame().expect("valid") {
                    got.push(f);
                }
            }
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].payload, b"one");
            assert_eq!(got[0].header_str(":event-type"), Some("chunk"));
            assert_eq!(got[1].header_str(":message-type"), Some("exception"));
            assert!(d.is_empty());
        }
    }

    #[test]
    fn rejects_corruption_and_huge_lengths() {
        let mut wire = encode(&[], b"payload");
        let last = wire.len() - 5;
        wire[last] ^= 1;
        let mut d = Decoder::default();
        d.push(&wire);
        assert_eq!(d.next_frame(), Err(FrameError::MessageCrc));

        let mut d = Decoder::default();
        let mut bad = encode(&[], b"x");
        bad[1] = 0xFF;
        d.push(&bad);
        assert_eq!(d.next_frame(), Err(FrameError::PreludeCrc));

        let mut huge = (u32::MAX).to_be_bytes().to_vec();
        huge.extend(0u32.to_be_bytes());
        let crc = crc32(&huge);
        huge.extend(crc.to_be_bytes());
        let mut d = Decoder::default();
        d.push(&huge);
        assert!(matches!(d.next_frame(), Err(FrameError::Length(_))));
    }
}
