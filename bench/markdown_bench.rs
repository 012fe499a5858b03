//! Scanning cost of hostile Markdown: mention detection (`trigger::mentions`) and the prompt's
//! sanitizer (`context::sanitize::sanitize`) on bodies built to make a parser backtrack (runs of
//! backticks, openers never closed, deep nesting, a long line of quote markers …), each at
//! 256 KiB and at 1 MiB. Linear cost shows as a ratio near 4 between the two sizes; a quadratic
//! one as a ratio near 16.
//!
//! Run: `cargo run --release --example markdown_bench [iterations] [KiB]` (default 3 iterations,
//! the median printed; the large size defaults to 1024 KiB, the small one is a quarter of it).
//! `--release` is optional: the dev profile is slower but scales the same way.
#![allow(clippy::print_stdout, reason = "a benchmark reports on its output")]
use coworker::context::sanitize::sanitize;
use coworker::trigger::mentions;
use std::time::{Duration, Instant};

/// `unit` repeated until `bytes` long (cut on a char boundary).
fn repeat(unit: &str, bytes: usize) -> String {
    let mut s = unit.repeat(bytes / unit.len() + 1);
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// Backtick runs of growing length 1, 2, 3 … separated by a letter: no run closes another.
fn growing_backtick_runs(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes);
    let mut n = 1;
    while s.len() < bytes {
        s.push_str(&"`".repeat(n));
        s.push('a');
        n += 1;
    }
    s.truncate(bytes);
    s
}

/// Builds a body of about the given number of bytes.
type Body = fn(usize) -> String;

fn cases() -> Vec<(&'static str, Body)> {
    vec![
        ("backticks", |n| repeat("`", n)),
        ("backtick runs 1,2,3…", growing_backtick_runs),
        ("`a`` alternating", |n| repeat("`a``", n)),
        ("fence lines", |n| repeat("```\n", n)),
        ("~~~ and ``` fences", |n| repeat("~~~\n@claude\n````\n", n)),
        ("comment openers", |n| repeat("<!--", n)),
        ("code span openers <!--", |n| repeat("`<!--", n)),
        ("image openers", |n| repeat("![", n)),
        ("link openers", |n| repeat("[a](", n)),
        ("emphasis", |n| repeat("*a_", n)),
        ("nested quotes", |n| repeat(">", n)),
        ("nested lists", |n| repeat("- ", n)),
        ("long quote line", |n| format!("> {}", repeat("a*b* ", n))),
        ("html tags", |n| repeat("<a title='x' ", n)),
        ("mentions", |n| repeat("@claude ", n)),
        ("crlf quotes", |n| repeat("> @claude\r\n", n)),
    ]
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(iterations: usize, f: impl Fn()) -> Duration {
    median(
        (0..iterations)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3)
        .max(1);
    let kib: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024)
        .max(4);
    let large = kib * 1024;
    let small = large / 4;
    println!(
        "{:<24} {:>12} {:>12} {:>6}   {:>12} {:>12} {:>6}",
        "body",
        format!("mention {}K", small / 1024),
        format!("mention {}K", kib),
        "ratio",
        format!("sanitize {}K", small / 1024),
        format!("sanitize {}K", kib),
        "ratio"
    );
    let mut worst: f64 = 0.0;
    for (name, build) in cases() {
        let (a, b) = (build(small), build(large));
        let m_small = time(iterations, || {
            std::hint::black_box(mentions(&a, "@claude"));
        });
        let m_large = time(iterations, || {
            std::hint::black_box(mentions(&b, "@claude"));
        });
        let s_small = time(iterations, || {
            std::hint::black_box(sanitize(&a));
        });
        let s_large = time(iterations, || {
            std::hint::black_box(sanitize(&b));
        });
        worst = worst.max(ms(m_large)).max(ms(s_large));
        println!(
            "{name:<24} {:>10.1}ms {:>10.1}ms {:>6.1}   {:>10.1}ms {:>10.1}ms {:>6.1}",
            ms(m_small),
            ms(m_large),
            ms(m_large) / ms(m_small).max(0.001),
            ms(s_small),
            ms(s_large),
            ms(s_large) / ms(s_small).max(0.001),
        );
    }
    println!("slowest scan of {kib} KiB: {worst:.1} ms");
}
