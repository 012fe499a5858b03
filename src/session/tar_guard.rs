//! A reader in front of the tar parser that checks each header as it streams past, before the
//! parser acts on it. The `tar` crate reads a GNU long name or long link (and a PAX extension)
//! whole into memory, sized by the header: an archive claiming a 1.2 GB name took 1.5 GB of
//! memory before the decompression cap refused it. Here a long name or link is capped at
//! [`MAX_LONG_NAME_BYTES`] and PAX headers (which coworker never writes) are refused, so the
//! parser never allocates more than that for metadata.
use std::io::{self, Read};

/// Longest GNU long name or long link accepted: a restored path has at most 16 components of at
/// most 255 bytes each (see `archive::safe_relative`), plus the terminating NUL.
pub(super) const MAX_LONG_NAME_BYTES: u64 = 8 * 1024;

const BLOCK: usize = 512;

/// Why a header was refused; carried inside the `io::Error` the tar parser passes on.
#[derive(Debug, thiserror::Error)]
pub(super) enum HeaderRefused {
    #[error("a GNU long name or link of {0} bytes (the limit is {MAX_LONG_NAME_BYTES})")]
    LongName(u64),
    #[error("a PAX extended header (coworker's archives have none)")]
    Pax,
    #[error("a header with an unreadable size field")]
    BadSize,
}

/// Passes bytes through unchanged, keeping track of where headers start.
pub(super) struct HeaderGuard<R> {
    inner: R,
    /// Data bytes (padded to whole blocks) left before the next header.
    skip: u64,
    header: [u8; BLOCK],
    filled: usize,
}

impl<R> HeaderGuard<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            skip: 0,
            header: [0; BLOCK],
            filled: 0,
        }
    }
}

/// The size field of a ustar/GNU header: octal text, or base-256 when the top bit is set.
fn size_of(header: &[u8; BLOCK]) -> Option<u64> {
    let field = &header[124..136];
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(*b))?;
        }
        return Some(value);
    }
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn check(header: &[u8; BLOCK]) -> Result<u64, HeaderRefused> {
    if header.iter().all(|b| *b == 0) {
        return Ok(0);
    }
    let size = size_of(header).ok_or(HeaderRefused::BadSize)?;
    match header[156] {
        b'L' | b'K' if size > MAX_LONG_NAME_BYTES => Err(HeaderRefused::LongName(size)),
        b'x' | b'g' => Err(HeaderRefused::Pax),
        _ => Ok(size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64)),
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = &buf[..n];
        while !seen.is_empty() {
            if self.skip > 0 {
                let step = seen
                    .len()
                    .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                self.skip -= step as u64;
                seen = &seen[step..];
                continue;
            }
            let step = seen.len().min(BLOCK - self.filled);
            self.header[self.filled..self.filled + step].copy_from_slice(&seen[..step]);
            self.filled += step;
            seen = &seen[step..];
            if self.filled == BLOCK {
                self.filled = 0;
                self.skip = check(&self.header).map_err(io::Error::other)?;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u8, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_size(size);
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    fn drain(bytes: &[u8], chunk: usize) -> io::Result<()> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        io::copy(&mut HeaderGuard::new(Chunks(bytes, chunk)), &mut io::sink()).map(|_| ())
    }

    #[test]
    fn ordinary_entries_and_short_long_names_pass_in_any_chunking() {
        let mut tar = header(b'L', 300);
        tar.extend(vec![b'n'; 512]);
        tar.extend(header(b'0', 700));
        tar.extend(vec![7u8; 1024]);
        tar.extend(vec![0u8; 1024]);
        for chunk in [1, 7, 512, 513, 4096] {
            drain(&tar, chunk).expect("accepted");
        }
    }

    #[test]
    fn a_huge_long_name_or_any_pax_header_is_refused_at_its_header() {
        for (kind, size) in [
            (b'L', 1_200_000_000u64),
            (b'K', 9000),
            (b'x', 20),
            (b'g', 20),
        ] {
            let mut tar = header(b'0', 5);
            tar.extend(vec![1u8; 512]);
            tar.extend(header(kind, size));
            let err = drain(&tar, 100).expect_err("refused");
            assert!(
                err.get_ref().is_some_and(|e| e.is::<HeaderRefused>()),
                "{err}"
            );
        }
    }

    /// Peak resident memory of this process, in KiB.
    fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .expect("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Issue 15 #9: an archive whose GNU long name claims (and holds) 1.2 GB is refused at its
    /// header. Run in a process of its own (this test binary, this test alone) so the peak
    /// memory measured is the restore's, not another test's.
    #[test]
    #[expect(
        clippy::disallowed_methods,
        reason = "the test re-runs itself in a child marked by this variable"
    )]
    fn a_long_name_claiming_gigabytes_is_refused_without_reading_it() {
        const CHILD: &str = "COWORKER_TEST_TAR_GUARD_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().expect("exe"))
                .args([
                    "session::tar_guard::tests::a_long_name_claiming_gigabytes_is_refused_without_reading_it",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, "1")
                .output()
                .expect("child runs");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{text}");
            assert!(text.contains("1 passed"), "the child ran the test: {text}");
            return;
        }
        const CLAIMED: u64 = 1_200_000_000;
        let mut encoder = zstd::stream::Encoder::new(Vec::new(), 1).expect("zstd");
        std::io::Write::write_all(&mut encoder, &header(b'L', CLAIMED)).expect("header");
        let zeros = vec![0u8; 1 << 20];
        let mut left = CLAIMED.div_ceil(512) * 512;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            std::io::Write::write_all(&mut encoder, &zeros[..n]).expect("data");
            left -= n as u64;
        }
        let payload = encoder.finish().expect("finish");
        let before = peak_rss_kib();
        let tmp = tempfile::tempdir().expect("tmp");
        let cwd = tmp.path().join("w");
        std::fs::create_dir_all(&cwd).expect("cwd");
        let key = crate::session::SessionKey::new("octo/repo", crate::session::Target::issue(1))
            .expect("key");
        let started = std::time::Instant::now();
        let err = crate::session::archive::unpack(
            &payload,
            &key,
            &tmp.path().join("home/.claude"),
            &cwd,
            &crate::session::Limits::default(),
        )
        .expect_err("refused");
        let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
        assert!(err.to_string().contains("long name"), "{err}");
        assert!(
            grown_mib < 64,
            "the restore grew the peak memory by {grown_mib} MiB"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn base_256_sizes_are_read() {
        let mut h = [0u8; BLOCK];
        h[124] = 0x80;
        h[135] = 0x10;
        h[134] = 0x01;
        assert_eq!(size_of(&h), Some(0x0110));
    }
}
