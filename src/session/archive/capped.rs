//! Readers wrapped around the archive streams: a cap on the decompressed bytes (so a zstd bomb stops
//! early) and a tee into the content digest.
use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Carried inside an `io::Error` when the decompressed stream passes its cap.
#[derive(Debug, thiserror::Error)]
#[error("decompressed stream exceeds the configured cap")]
pub(super) struct CapExceeded(pub(super) u64);

pub(super) struct CappedReader<R> {
    pub(super) inner: R,
    pub(super) remaining: u64,
    pub(super) cap: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe one byte: a stream that ends exactly at the cap is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CapExceeded(self.cap))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

pub(super) struct HashingReader<'a, R> {
    pub(super) inner: R,
    pub(super) digest: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}
