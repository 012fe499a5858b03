//! Benchmark of the session persistence pipeline: generates ~100 MB of transcript-like JSONL (varied
//! text, UUIDs, tool calls; compresses roughly like real transcripts), then times
//! save = pack (tar + zstd) + seal (XChaCha20-Poly1305) + dir-store write (fsync + rename), and
//! restore = dir-store read + open + safe unpack into a fresh HOME for another working directory.
//! Run through `bench/session.sh`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "a benchmark reports on its output and reads its knobs from the environment"
)]
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use coworker::secret::Secret;
use coworker::session::store::DirStore;
use coworker::session::{Limits, SessionKey, Target, open_and_unpack, pack_and_seal, project_dir};

const SESSION_ID: &str = "7d3f2c1a-5b6e-4f80-9a1b-2c3d4e5f6a7b";

#[path = "../tests/integration/support/rng.rs"]
mod rng;
use rng::Rng;

/// The generator's extras on the shared test generator.
impl Rng {
    /// Skewed towards small indexes, like word frequencies in text.
    fn zipfish(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const SYLLABLES: [&str; 40] = [
        "con", "fig", "ser", "ver", "re", "quest", "han", "dle", "test", "ing", "mod", "ule",
        "err", "or", "pro", "cess", "file", "path", "read", "write", "to", "ken", "ses", "sion",
        "git", "hub", "ac", "tion", "run", "ner", "load", "save", "store", "key", "val", "ue",
        "data", "base", "in", "put",
    ];
    let mut words: Vec<String> = [
        "the", "a", "to", "of", "and", "is", "in", "that", "it", "for", "we", "this", "with",
        "function", "fn", "let", "return", "if", "else", "match", "self", "=>", "{", "}", "(", ")",
        ";", "\\n",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    while words.len() < 6000 {
        let parts = 1 + rng.below(3);
        let word: String = (0..parts)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
            .collect();
        words.push(if rng.below(5) == 0 {
            format!("{word}_{}", rng.below(100))
        } else {
            word
        });
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String], len: usize) -> String {
    let mut out = String::new();
    for i in 0..len {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&words[rng.zipfish(words.len())]);
    }
    out
}

/// One transcript file of about `target` bytes, in the shape of Claude Code's JSONL lines.
fn transcript(rng: &mut Rng, words: &[String], cwd: &str, target: usize) -> String {
    let mut out = String::with_capacity(target + 4096);
    let mut parent = rng.uuid();
    let mut t = 1_760_000_000u64;
    while out.len() < target {
        let uuid = rng.uuid();
        t += 1 + rng.below(20) as u64;
        let kind = rng.below(10);
        let len = 10 + rng.below(if kind < 2 { 60 } else { 400 });
        let text = sentence(rng, words, len);
        let line = match kind {
            0 | 1 => serde_json::json!({
                "parentUuid": parent, "isSidechain": false, "userType": "external", "cwd": cwd,
                "sessionId": SESSION_ID, "version": "2.1.197", "gitBranch": "main", "type": "user",
                "message": {"role": "user", "content": text}, "uuid": uuid, "timestamp": t,
            }),
            2..=5 => serde_json::json!({
                "parentUuid": parent, "cwd": cwd, "sessionId": SESSION_ID, "type": "assistant",
                "message": {"id": format!("msg_{:016x}", rng.next()), "role": "assistant",
                    "model": "claude-opus-4-8", "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": rng.below(90_000), "output_tokens": rng.below(4_000),
                              "cache_read_input_tokens": rng.below(80_000)}},
                "requestId": format!("req_{:020x}", rng.next()), "uuid": uuid, "timestamp": t,
            }),
            6 | 7 => serde_json::json!({
                "parentUuid": parent, "cwd": cwd, "sessionId": SESSION_ID, "type": "assistant",
                "message": {"role": "assistant", "content": [{"type": "tool_use",
                    "id": format!("toolu_{:016x}", rng.next()), "name": "Bash",
                    "input": {"command": format!("cargo test {}", words[rng.below(words.len())]),
                              "description": text}}]},
                "uuid": uuid, "timestamp": t,
            }),
            _ => serde_json::json!({
                "parentUuid": parent, "cwd": cwd, "sessionId": SESSION_ID, "type": "user",
                "message": {"role": "user", "content": [{"type": "tool_result",
                    "tool_use_id": format!("toolu_{:016x}", rng.next()),
                    "content": format!("{text}\n{}", sentence(rng, words, 200))}]},
                "toolUseResult": {"stdout": text, "stderr": "", "interrupted": false},
                "uuid": uuid, "timestamp": t,
            }),
        };
        let _ = writeln!(out, "{line}");
        parent = uuid;
    }
    out
}

fn generate(config_dir: &Path, cwd: &Path, total: usize) -> std::io::Result<(usize, usize)> {
    let project = project_dir(config_dir, cwd)?;
    let sub = project.join(SESSION_ID).join("subagents");
    std::fs::create_dir_all(&sub)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words = vocabulary(&mut rng);
    let cwd_text = cwd.to_string_lossy().into_owned();
    let main = transcript(&mut rng, &words, &cwd_text, total * 6 / 10);
    std::fs::write(project.join(format!("{SESSION_ID}.jsonl")), &main)?;
    let (mut bytes, mut files) = (main.len(), 1);
    while bytes < total {
        let part = transcript(
            &mut rng,
            &words,
            &cwd_text,
            2_000_000.min(total - bytes + 1),
        );
        std::fs::write(sub.join(format!("agent-{files:03}.jsonl")), &part)?;
        bytes += part.len();
        files += 1;
    }
    Ok((bytes, files))
}

fn main() -> anyhow::Result<()> {
    let total_mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let tmp = tempfile::tempdir()?;
    let (home_a, ws_a) = (tmp.path().join("home-a/.claude"), tmp.path().join("ws-a"));
    std::fs::create_dir_all(&ws_a)?;
    let started = Instant::now();
    let (bytes, files) = generate(&home_a, &ws_a, total_mb * 1_000_000)?;
    println!(
        "generated {:.1} MB in {files} files in {:.2} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let key = SessionKey::new("octo/bench", Target::issue(1))?;
    let secret = Secret::new("benchmark session key");
    let limits = Limits::default();
    let store = DirStore::new(tmp.path().join("store"), limits.max_archive_bytes);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut saves, mut restores, mut size) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        let t = Instant::now();
        let (sealed, _) = pack_and_seal(&home_a, &ws_a, &key, SESSION_ID, Some(&secret), &limits)?;
        runtime.block_on(store.save(&key, &sealed, None))?;
        saves.push(t.elapsed().as_secs_f64());
        size = sealed.len();

        let home_b = tmp.path().join(format!("home-b{round}/.claude"));
        let ws_b = tmp.path().join(format!("ws-b{round}"));
        std::fs::create_dir_all(&ws_b)?;
        let t = Instant::now();
        let loaded = runtime
            .block_on(store.load(&key))?
            .ok_or_else(|| anyhow::anyhow!("not stored"))?;
        let restored =
            open_and_unpack(&loaded.sealed, &key, Some(&secret), &home_b, &ws_b, &limits)?;
        restores.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(
            restored.manifest.total_bytes as usize == bytes,
            "restored size differs"
        );
        std::fs::remove_dir_all(tmp.path().join(format!("home-b{round}")))?;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "archive {:.2} MB sealed (ratio {:.1}x)",
        size as f64 / 1e6,
        bytes as f64 / size as f64
    );
    println!(
        "save    median {:.3} s  (runs: {:?})",
        median(&mut saves),
        saves
    );
    println!(
        "restore median {:.3} s  (runs: {:?})",
        median(&mut restores),
        restores
    );
    Ok(())
}
