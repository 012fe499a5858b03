use super::*;
use proptest::prelude::*;

/// Feeds `parts` one after the other, collecting frames until the first error.
fn decode(parts: &[&[u8]]) -> (Vec<Frame>, Option<FrameError>, Decoder) {
    let mut d = Decoder::default();
    let mut got = Vec::new();
    for part in parts {
        d.push(part);
        loop {
            match d.next_frame() {
                Ok(Some(f)) => got.push(f),
                Ok(None) => break,
                Err(e) => return (got, Some(e), d),
            }
        }
    }
    (got, None, d)
}

fn two_frames() -> Vec<u8> {
    let mut wire = encode(
        &[(":message-type", "event"), (":event-type", "chunk")],
        b"one",
    );
    wire.extend(encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
        ],
        b"two",
    ));
    wire
}

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
    let wire = two_frames();
    for split in 0..=wire.len() {
        let (got, err, d) = decode(&[&wire[..split], &wire[split..]]);
        assert_eq!(err, None, "split at {split}");
        assert_eq!(got.len(), 2, "split at {split}");
        assert_eq!(got[0].payload().as_ref(), b"one");
        assert_eq!(got[0].header_str(":event-type"), Some("chunk"));
        assert_eq!(got[1].header_str(":message-type"), Some("exception"));
        assert_eq!(
            got[1].header_str(":exception-type"),
            Some("throttlingException")
        );
        assert!(d.is_empty());
    }
}

#[test]
fn decodes_frames_fed_one_byte_at_a_time() {
    let wire = two_frames();
    let parts: Vec<&[u8]> = wire.chunks(1).collect();
    let (got, err, d) = decode(&parts);
    assert_eq!(err, None);
    assert_eq!(got.len(), 2);
    assert!(d.is_empty());
}

#[test]
fn a_truncated_frame_is_never_complete() {
    let wire = encode(&[(":message-type", "event")], b"payload");
    for cut in 0..wire.len() {
        let (got, err, d) = decode(&[&wire[..cut]]);
        assert!(got.is_empty() && err.is_none(), "cut at {cut}");
        assert_eq!(d.is_empty(), cut == 0, "cut at {cut}");
    }
}

#[test]
fn every_flipped_byte_is_an_error_never_a_wrong_frame() {
    let wire = encode(
        &[(":message-type", "event"), (":event-type", "chunk")],
        b"{\"bytes\":\"e30=\"}",
    );
    for at in 0..wire.len() {
        let mut bad = wire.clone();
        bad[at] ^= 0x01;
        // The prelude CRC covers the lengths, so even a flipped length is caught at once.
        let (got, err, _) = decode(&[&bad]);
        assert!(err.is_some(), "flip at {at} went unnoticed");
        assert!(got.is_empty(), "flip at {at} produced a frame");
    }
    let mut bad_crc = wire.clone();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0x80;
    let (_, err, _) = decode(&[&bad_crc]);
    assert!(
        matches!(&err, Some(FrameError::Invalid(m)) if m.contains("checksum")),
        "{err:?}"
    );
    let mut bad_prelude = wire.clone();
    bad_prelude[9] ^= 0x80;
    assert_eq!(decode(&[&bad_prelude]).1, Some(FrameError::PreludeCrc));
}

/// A prelude announcing `total` bytes, with a correct CRC.
fn prelude(total: u32, headers: u32) -> Vec<u8> {
    let mut p = total.to_be_bytes().to_vec();
    p.extend(headers.to_be_bytes());
    let crc = crc32fast::hash(&p);
    p.extend(crc.to_be_bytes());
    p
}

#[test]
fn hostile_lengths_are_errors_not_allocations() {
    for total in [u32::MAX, 1 << 31, (MAX_FRAME + 1) as u32, 0, 15] {
        let (_, err, d) = decode(&[&prelude(total, 0)]);
        assert_eq!(err, Some(FrameError::Length(total as usize)), "{total}");
        // Refused on the prelude alone: nothing beyond the 12 bytes was reserved for it.
        assert!(d.buf.capacity() < 1024, "{total}: {}", d.buf.capacity());
    }
    // Headers longer than the frame: refused by the decoder once the frame is there.
    let mut wire = prelude(16, 1000);
    wire.extend(crc32fast::hash(&wire).to_be_bytes());
    assert!(matches!(decode(&[&wire]).1, Some(FrameError::Invalid(_))));
}

#[test]
fn non_string_headers_are_not_read_as_strings() {
    let message = Message::new(Bytes::from_static(b"x"))
        .add_header(Header::new(":message-type", HeaderValue::Int32(7)))
        .add_header(Header::new(":event-type", HeaderValue::Bool(true)));
    let mut wire = Vec::new();
    write_message_to(&message, &mut wire).expect("encodes");
    let (got, err, _) = decode(&[&wire]);
    assert_eq!(err, None);
    assert_eq!(got[0].header_str(":message-type"), None);
    assert_eq!(got[0].header_str(":event-type"), None);
}

proptest! {
    /// Arbitrary bytes after a valid prelude: an error or a frame, never a panic.
    #[test]
    fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200), headers in 0u32..220) {
        let total = (body.len() + PRELUDE) as u32;
        let mut wire = prelude(total, headers);
        wire.extend(&body);
        let _ = decode(&[&wire]);
        let _ = decode(&[&body]);
    }
}
