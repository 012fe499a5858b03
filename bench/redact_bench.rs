//! Redaction cost on a tracking comment at GitHub's size limit (65,536 characters): the final
//! comment rendered by `report::comment` around a long Markdown answer (prose, lists, tables,
//! code, links, commit SHAs, UUIDs), through a redactor holding a run's usual secrets.
//!
//! Run: `cargo run --release --example redact_bench [iterations]` (default 2000). Prints the
//! time to build the redactor, and per comment the median and p99 for a clean comment and for
//! one holding ten secrets (values, base64, shapes), plus the throughput; then push
//! protection's reading of a 100,000-line `git log -p` (the parse and the detector, no git).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "a benchmark reports on its output and reads its knobs from the environment"
)]
use coworker::outcome::{Conclusion, Outcome};
use coworker::redact::Redactor;
use coworker::report::comment::{CommentHeader, MAX_COMMENT_CHARS, render_final};
use coworker::secret::Secret;
use std::time::{Duration, Instant};

fn answer(target_chars: usize) -> String {
    let section = |i: usize| {
        format!(
            "## Step {i}: what changed in `src/module_{i}.rs`\n\n\
             The handler now rejects empty input before it reaches the parser; see commit \
             9fceb02d0ae598e95dc970b74767f19372d61af8 and run `123e4567-e89b-12d3-a456-426614174000`.\n\n\
             - kept the public API (`parse_request()`, `Request::new`) unchanged\n\
             - added tests in [tests/module_{i}.rs](https://github.com/o/r/blob/main/tests/module_{i}.rs)\n\
             - task-list items, sk-learn-style names and risk-assessment notes stay as they are\n\n\
             | file | lines | change |\n|---|---|---|\n| src/module_{i}.rs | +12 -3 | validation |\n\
             | tests/module_{i}.rs | +40 | new cases |\n\n\
             ```rust\nfn validate(input: &str) -> Result<(), Error> {{\n    if input.trim().is_empty() {{\n        \
             return Err(Error::Empty);\n    }}\n    Ok(())\n}}\n```\n\n"
        )
    };
    let mut out = String::new();
    let mut i = 0;
    while out.len() < target_chars {
        out.push_str(&section(i));
        i += 1;
    }
    out.truncate(target_chars);
    out
}

fn secrets() -> Vec<Secret> {
    [
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz-0123456789AAA",
        "sk-ant-oat01-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210ZyXwVuTsRqPoNmLk",
        "a-session-key-of-thirty-two-chars!",
        "0f3c9a7e5b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a",
        "sb-clientid-1234!b5678|aicore!b540",
        "c0ffee00-1234-5678-9abc-def012345678$AbCdEfGhIjKlMnOpQrStUvWxYz=",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "IQoJb3JpZ2luX2VjEHAaCXVzLWVhc3QtMSJHMEUCIQDtoken-session-value",
    ]
    .into_iter()
    .map(Secret::new)
    .collect()
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (p(0.5), p(0.99))
}

fn measure(r: &Redactor, text: &str, iterations: usize) -> (Duration, Duration, usize) {
    let mut samples = Vec::with_capacity(iterations);
    let mut out_len = 0;
    for _ in 0..iterations {
        let t = Instant::now();
        let out = r.redact(text);
        samples.push(t.elapsed());
        out_len = out.as_str().len();
    }
    let (p50, p99) = stats(samples);
    (p50, p99, out_len)
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    // The first use compiles the shapes' regular expression (once per process).
    let t = Instant::now();
    let _ = Redactor::default().redact("warm up");
    let compile = t.elapsed();
    let header = CommentHeader {
        agent_name: "Claude".into(),
        actor: "octocat".into(),
        run_url: Some("https://github.com/o/r/actions/runs/4242".into()),
        request_url: Some("https://github.com/o/r/issues/1#issuecomment-99".into()),
        notes: Vec::new(),
        run_key: String::new(),
    };
    let mut outcome = Outcome::new(Conclusion::Success, "");
    outcome.num_turns = Some(12);
    outcome.cost_usd = Some(0.1234);
    outcome.answer = Some(answer(MAX_COMMENT_CHARS));
    let clean = render_final(&header, &outcome, &[]);

    let values = secrets();
    let mut leaky_answer = answer(MAX_COMMENT_CHARS - 2_000);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for (i, s) in values.iter().enumerate().take(6) {
        let form = if i % 2 == 0 {
            s.expose().to_string()
        } else {
            b64.encode(format!("x-access-token:{}", s.expose()))
        };
        leaky_answer.push_str(&format!("\nleaked {i}: {form}\n"));
    }
    leaky_answer.push_str("\nshapes: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW\n");
    leaky_answer.push_str("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\n");
    leaky_answer.push_str(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
    );
    outcome.answer = Some(leaky_answer);
    let leaky = render_final(&header, &outcome, &[]);

    let mut builds = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let built = Redactor::new(values.clone());
        builds.push(t.elapsed());
        drop(built);
    }
    let (build, _) = stats(builds);
    let r = Redactor::new(values);
    let shapes = Redactor::default();
    // Warm up (lazy regex compilation, caches).
    let _ = r.redact(&clean);
    let _ = r.redact(&leaky);
    let _ = shapes.redact(&clean);

    let (s50, s99, _) = measure(&shapes, &clean, iterations);
    let (c50, c99, c_len) = measure(&r, &clean, iterations);
    let (l50, l99, _) = measure(&r, &leaky, iterations);
    assert_eq!(
        c_len,
        clean.len(),
        "a clean comment must come back unchanged"
    );
    let markers = r.redact(&leaky).as_str().matches("[redacted: ").count();
    let mbps = |d: Duration, n: usize| n as f64 / d.as_secs_f64() / 1e6;
    println!("shapes compiled on first use in {compile:.2?}");
    println!("redactor: 10 secret values, {r:?}, built in {build:.2?} (median of 20)");
    println!("| comment | size | p50 | p99 | throughput at p50 |");
    println!("|---|---|---|---|---|");
    println!(
        "| clean, shapes only (no run values) | {} bytes | {s50:.1?} | {s99:.1?} | {:.0} MB/s |",
        clean.len(),
        mbps(s50, clean.len())
    );
    println!(
        "| clean (unchanged) | {} chars / {} bytes | {c50:.1?} | {c99:.1?} | {:.0} MB/s |",
        clean.chars().count(),
        clean.len(),
        mbps(c50, clean.len())
    );
    println!(
        "| {markers} secrets replaced | {} chars / {} bytes | {l50:.1?} | {l99:.1?} | {:.0} MB/s |",
        leaky.chars().count(),
        leaky.len(),
        mbps(l50, leaky.len())
    );
    println!("({iterations} iterations each)");

    // Push protection: a log of 100 commits with 1,000 added lines each.
    let mut log = String::new();
    for c in 0..100 {
        log.push_str(&format!(
            "\0commit {c:040x}\nbot <bot@example.com>\nbot <bot@example.com>\nStep {c}\n\n\0end\n\
             diff --git a/src/f{c}.rs b/src/f{c}.rs\n--- a/src/f{c}.rs\n+++ b/src/f{c}.rs\n@@ -1,0 +1,1000 @@\n"
        ));
        for l in 0..1000 {
            log.push_str(&format!(
                "+    let value_{l} = compute(input, {l}); // see 9fceb02d0ae598e95dc970b74767f19372d61af8\n"
            ));
        }
    }
    let allow = coworker::redact::allow::AllowList::default();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut scanner = coworker::redact::scan::LogScanner::new(&r, &allow);
        for line in log.lines() {
            scanner.feed(line);
        }
        let report = scanner.finish();
        samples.push(t.elapsed());
        assert!(report.is_clean());
    }
    let (s50, _) = stats(samples);
    println!(
        "push scan: {} lines, {:.1} MB of log in {s50:.1?} (median of 5, {:.0} MB/s)",
        log.lines().count(),
        log.len() as f64 / 1e6,
        mbps(s50, log.len())
    );
}
