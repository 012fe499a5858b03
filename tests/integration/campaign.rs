//! Issue 15 #10: the bad-input campaign as tests. Deterministic (a fixed seed), against the fakes:
//! hostile and malformed payloads (every field of GitHub's real example payloads given a wrong
//! type, truncated JSON, huge strings, control characters, deep nesting) for `plan`, in process
//! and as the binary; and for `run`, every GitHub call of a normal run failing in turn (500, 403,
//! an answer after the client's timeout), the model failing mid-stream, and SIGTERM at several
//! moments synchronised on what the fakes recorded. Whatever happens: no panic, an ending within a
//! bound, an exit code from the README's table, outputs and summary written, and a tracking
//! comment that was created ends in a final state.
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::harness::{repo_root, require_claude};
use crate::support::rng::Rng;

const SEED: u64 = 0x0001_50c0_ffee;

/// GitHub's example payloads in tests/fixtures/events, with their event names.
fn fixtures() -> Vec<(String, Value)> {
    let root = repo_root().join("tests/fixtures/events");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for f in files {
            let v =
                serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("json");
            out.push((name.clone(), v));
        }
    }
    assert!(out.len() >= 40, "the vendored payloads are there");
    out
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every node's path (objects and arrays too, not only leaves), depth-first.
fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    if !at.is_empty() {
        out.push(at.clone());
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                at.push(Seg::Key(k.clone()));
                paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(Seg::Index(i));
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur.get(k.as_str())?,
            Seg::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Values of another type than `original`.
fn wrong_types(original: &Value) -> Vec<Value> {
    match original {
        Value::String(_) => vec![json!(42), json!(null), json!([]), json!({}), json!(true)],
        Value::Number(_) => vec![json!("7"), json!(-1), json!(1e308), json!([1]), json!(null)],
        Value::Bool(_) => vec![json!("true"), json!(1), json!(null)],
        Value::Null => vec![json!({}), json!("x"), json!(0)],
        Value::Object(_) => vec![json!("x"), json!([]), json!(0), json!(null)],
        Value::Array(_) => vec![json!({}), json!("x"), json!(null)],
    }
}

/// A JSON value nested `depth` arrays deep, as text (serde_json's own writer would recurse).
fn deeply_nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn rules() -> coworker::trigger::TriggerRules {
    coworker::inputs::Settings::from_inputs(&coworker::cli::InputArgs::default())
        .expect("defaults")
        .rules
}

/// In process, exhaustively: every node of every example payload given every wrong type, then
/// parsed and decided on. A panic anywhere is reported with its case.
#[test]
fn every_field_of_every_payload_with_a_wrong_type_is_parsed_and_decided_without_panic() {
    let rules = rules();
    let mut cases = 0usize;
    let mut failures = Vec::new();
    for (name, payload) in fixtures() {
        let mut all = Vec::new();
        paths(&payload, &mut Vec::new(), &mut all);
        for path in all {
            let original = node(&payload, &path).cloned().unwrap_or(Value::Null);
            for wrong in wrong_types(&original) {
                let mut mutated = payload.clone();
                if let Some(slot) = node_mut(&mut mutated, &path) {
                    *slot = wrong.clone();
                }
                let text = mutated.to_string();
                cases += 1;
                let outcome = std::panic::catch_unwind(|| {
                    if let Ok(event) = coworker::event::Event::parse(&name, &text) {
                        let _ = coworker::trigger::decide(&event, &rules);
                    }
                });
                if outcome.is_err() {
                    failures.push(format!("{name} {path:?} = {wrong}"));
                }
            }
        }
    }
    eprintln!("in-process campaign: {cases} cases");
    assert!(cases > 10_000, "{cases} cases");
    assert!(failures.is_empty(), "panics in {failures:#?}");
}

/// One hostile payload for the binary: its event name and the bytes of the event file.
fn hostile_payloads(n: usize) -> Vec<(String, String, Vec<u8>)> {
    let mut rng = Rng(SEED);
    let fixtures = fixtures();
    let mut out = Vec::new();
    for i in 0..n {
        let (name, base) = &fixtures[rng.below(fixtures.len())];
        let mut payload = base.clone();
        // Half the cases ask for the agent, so the decision goes past the first checks.
        if let Some(body) = node_mut(
            &mut payload,
            &[Seg::Key("comment".into()), Seg::Key("body".into())],
        ) {
            *body = json!("@claude please fix it");
        }
        let (label, bytes): (String, Vec<u8>) = match i % 8 {
            0 => {
                let text = payload.to_string();
                let cut = rng.below(text.len());
                (
                    format!("truncated at {cut}"),
                    text.as_bytes()[..cut].to_vec(),
                )
            }
            1 | 2 => {
                let mut all = Vec::new();
                paths(&payload, &mut Vec::new(), &mut all);
                let path = all[rng.below(all.len())].clone();
                let original = node_mut(&mut payload, &path)
                    .cloned()
                    .unwrap_or(Value::Null);
                let choices = wrong_types(&original);
                let wrong = choices[rng.below(choices.len())].clone();
                if let Some(slot) = node_mut(&mut payload, &path) {
                    *slot = wrong;
                }
                (
                    format!("wrong type at {path:?}"),
                    payload.to_string().into_bytes(),
                )
            }
            3 => {
                let huge = format!("@claude {}", "A".repeat(2 << 20));
                for key in ["comment", "issue", "pull_request", "review"] {
                    if let Some(body) = node_mut(
                        &mut payload,
                        &[Seg::Key(key.into()), Seg::Key("body".into())],
                    ) {
                        *body = json!(huge);
                    }
                }
                ("2 MiB bodies".into(), payload.to_string().into_bytes())
            }
            4 => {
                let nasty =
                    "@claude \u{0}\u{1}\u{1b}[31m\r\n::set-output name=x::y\u{202e}\u{feff}%0A";
                for key in ["comment", "issue", "pull_request"] {
                    for field in ["body", "title"] {
                        if let Some(v) = node_mut(
                            &mut payload,
                            &[Seg::Key(key.into()), Seg::Key(field.into())],
                        ) {
                            *v = json!(nasty);
                        }
                    }
                }
                if let Some(v) = node_mut(
                    &mut payload,
                    &[Seg::Key("sender".into()), Seg::Key("login".into())],
                ) {
                    *v = json!("evil\nlogin");
                }
                (
                    "control characters".into(),
                    payload.to_string().into_bytes(),
                )
            }
            5 => {
                let depth = [200, 5_000, 100_000][rng.below(3)];
                let text = payload.to_string();
                let nested = format!("{{\"deep\":{},{}", deeply_nested(depth), &text[1..]);
                (format!("nested {depth} deep"), nested.into_bytes())
            }
            6 => {
                let choices: [&[u8]; 6] = [
                    b"",
                    b"null",
                    b"[1,2]",
                    b"\"x\"",
                    b"\xff\xfe{}",
                    b"{\"action\":",
                ];
                let pick = rng.below(choices.len());
                (format!("odd document {pick}"), choices[pick].to_vec())
            }
            _ => {
                // A number where the issue number goes, out of every range.
                for key in ["issue", "pull_request"] {
                    if let Some(v) = node_mut(
                        &mut payload,
                        &[Seg::Key(key.into()), Seg::Key("number".into())],
                    ) {
                        *v = [json!(-1), json!(0), json!(u64::MAX), json!(1.5)][rng.below(4)]
                            .clone();
                    }
                }
                ("odd numbers".into(), payload.to_string().into_bytes())
            }
        };
        out.push((name.clone(), label, bytes));
    }
    out
}

fn assert_no_panic(case: &str, code: Option<i32>, stderr: &str) {
    assert_ne!(code, Some(101), "{case}: panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
}

/// The binary, `plan` (online, against the fake GitHub), on a few hundred hostile payloads.
#[tokio::test]
async fn plan_on_hostile_payloads_never_panics_and_exits_0_1_or_2() {
    const CASES: usize = 240;
    let github = FakeGitHub::start().await;
    let payloads = hostile_payloads(CASES);
    let mut codes = std::collections::BTreeMap::new();
    for chunk in payloads.chunks(4) {
        let mut runs = Vec::new();
        for (name, label, bytes) in chunk {
            let job = Job::new(name, &json!({}), &github, None);
            std::fs::write(job.dir.path().join("event.json"), bytes).expect("event");
            let cmd = tokio::process::Command::from(job.command(&["plan"]))
                .kill_on_drop(true)
                .output();
            runs.push(async move {
                let started = Instant::now();
                let out = tokio::time::timeout(Duration::from_secs(30), cmd)
                    .await
                    .unwrap_or_else(|_| panic!("{name} {label}: plan hung"))
                    .expect("plan runs");
                drop(job);
                (format!("{name} {label}"), out, started.elapsed())
            });
        }
        for (case, out, took) in futures_util::future::join_all(runs).await {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_no_panic(&case, out.status.code(), &stderr);
            let code = out.status.code().unwrap_or(-1);
            assert!([0, 1, 2].contains(&code), "{case}: exit {code}: {stderr}");
            if code == 2 {
                assert!(
                    stderr.trim().lines().count() == 1 && stderr.starts_with("error: "),
                    "{case}: an input error is one line: {stderr}"
                );
            }
            assert!(took < Duration::from_secs(20), "{case}: took {took:?}");
            *codes.entry(code).or_insert(0usize) += 1;
        }
    }
    eprintln!("plan campaign: {CASES} cases, exit codes {codes:?}");
    assert!(
        codes.len() >= 2,
        "the campaign reaches more than one ending: {codes:?}"
    );
}

/// What every `run` of the campaign must leave behind; the problems found, empty when none.
fn run_problems(
    case: &str,
    job: &Job,
    github: &FakeGitHub,
    out: &std::process::Output,
) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    let code = out.status.code().unwrap_or(-1);
    if code == 101 || stderr.contains("panicked") {
        problems.push(format!("{case}: panicked: {stderr}"));
    }
    if ![0, 1, 2, 130].contains(&code) {
        problems.push(format!("{case}: exit {code}\n{stdout}\n{stderr}"));
    }
    let conclusion = job.output("conclusion");
    let expected = match code {
        0 => &["success", "skipped"][..],
        130 => &["cancelled"][..],
        _ => &["failure"][..],
    };
    if !expected.contains(&conclusion.as_deref().unwrap_or("")) {
        problems.push(format!(
            "{case}: exit {code} with conclusion {conclusion:?}"
        ));
    }
    if job.summary().trim().is_empty() {
        problems.push(format!("{case}: no step summary"));
    }
    for id in github.created_comments() {
        let body = github.comment(id).map(|c| c.body).unwrap_or_default();
        if body.contains("coworker:tracking") && body.contains("is working") {
            problems.push(format!("{case}: comment {id} left working\n{stdout}"));
        }
    }
    problems
}

/// [`run_problems`], and a run that took longer than any fault should make it take.
fn timed_run_problems(
    case: &str,
    job: &Job,
    github: &FakeGitHub,
    out: &std::process::Output,
    took: Duration,
) -> Vec<String> {
    let mut found = run_problems(case, job, github, out);
    if took > Duration::from_secs(90) {
        found.push(format!("{case}: took {took:?}"));
    }
    found
}

fn assert_run_ended_well(case: &str, job: &Job, github: &FakeGitHub, out: &std::process::Output) {
    let problems = run_problems(case, job, github, out);
    assert!(problems.is_empty(), "{problems:#?}");
}

async fn run_case(job: &Job) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let cmd = tokio::process::Command::from(job.command(&["run"]))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), cmd)
        .await
        .expect("run ended by itself")
        .expect("run");
    (out, started.elapsed())
}

fn job_for(github: &FakeGitHub, model: &FakeModel) -> Job {
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude fix the typo"),
        github,
        Some(&model.url()),
    );
    job.set("COWORKER_GITHUB_TIMEOUT_MS", "400");
    job
}

/// A normal run's GitHub calls, each failing in turn: a 500, a 403, an answer after the
/// client's timeout. The runs go two at a time (two cores).
#[tokio::test]
async fn every_github_call_of_a_run_failing_in_turn_ends_well() {
    let _claude = require_claude!();
    // The normal run, to count its calls.
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("Done."));
    let job = job_for(&github, &model);
    let (out, _) = run_case(&job).await;
    assert_eq!(out.status.code(), Some(0), "the baseline run succeeds");
    let calls = github.requests().len();
    assert!(calls >= 4, "{calls} calls");
    let mut cases: Vec<(usize, &str)> = Vec::new();
    for k in 1..=calls {
        cases.push((k, "500"));
        cases.push((k, "403"));
        if k % 2 == 1 {
            cases.push((k, "timeout"));
        }
    }
    let started = Instant::now();
    let mut problems = Vec::new();
    for pair in cases.chunks(2) {
        let runs = pair.iter().map(|(k, fault)| async move {
            let github = FakeGitHub::start().await;
            let model = FakeModel::start().await;
            model.push_reply(Reply::text("Done."));
            match *fault {
                "500" => github.fail_call(*k, 500, "Server Error"),
                "403" => github.fail_call(*k, 403, "Resource not accessible by integration"),
                _ => github.delay_call(*k, Duration::from_millis(1500)),
            }
            let job = job_for(&github, &model);
            let (out, took) = run_case(&job).await;
            let case = format!("call {k} of {calls} answered {fault}");
            github.settle(Duration::from_secs(10)).await;
            timed_run_problems(&case, &job, &github, &out, took)
        });
        problems.extend(
            futures_util::future::join_all(runs)
                .await
                .into_iter()
                .flatten(),
        );
    }
    eprintln!(
        "github fault campaign: {} runs over {calls} calls in {:?}",
        cases.len(),
        started.elapsed()
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The model failing mid-conversation: a dropped stream, an overloaded error in the stream, a
/// 529, a 500 after a tool call.
#[tokio::test]
async fn model_errors_mid_stream_end_well() {
    let _claude = require_claude!();
    let scripts: Vec<(&str, Vec<Reply>)> = vec![
        (
            "dropped stream",
            vec![
                Reply::BrokenStream,
                Reply::BrokenStream,
                Reply::BrokenStream,
                Reply::BrokenStream,
                Reply::BrokenStream,
            ],
        ),
        ("overloaded in the stream", vec![Reply::SseError; 6]),
        ("529", vec![Reply::fatal_error(529, "Overloaded")]),
        (
            "400 after a tool call",
            vec![
                Reply::tool_use("Bash", json!({"command": "true"})),
                Reply::fatal_error(400, "messages: roles must alternate"),
            ],
        ),
    ];
    for pair in scripts.chunks(2) {
        let runs = pair.iter().map(|(label, replies)| async move {
            let github = FakeGitHub::start().await;
            let model = FakeModel::start().await;
            for r in replies {
                model.push_reply(r.clone());
            }
            let mut job = job_for(&github, &model);
            job.set("INPUT_CLAUDE_ARGS", "--allowedTools Bash");
            let (out, _) = run_case(&job).await;
            github.settle(Duration::from_secs(10)).await;
            assert_run_ended_well(label, &job, &github, &out);
            // The CLI retries dropped streams and overloads (529 too, whatever the header
            // says): either it recovers (the fake answers once its script is used up) or the
            // run fails; a request error fails it.
            if label.starts_with('4') {
                assert_eq!(out.status.code(), Some(1), "{label}: the model failed");
            }
        });
        futures_util::future::join_all(runs).await;
    }
}

/// SIGTERM at several moments of a run, each synchronised on what a fake recorded.
#[tokio::test]
async fn sigterm_at_several_moments_ends_cancelled() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let _claude = require_claude!();
    for moment in ["comment created", "model asked", "tool ran"] {
        let github = FakeGitHub::start().await;
        let model = FakeModel::start().await;
        match moment {
            // The model answers late: the agent is still working when the signal comes.
            "tool ran" => {
                model.push_reply(Reply::tool_use("Bash", json!({"command": "true"})));
                model.push_reply(Reply::slow(60_000, Reply::text("late")));
            }
            _ => model.push_reply(Reply::slow(60_000, Reply::text("late"))),
        }
        let mut job = job_for(&github, &model);
        job.set("INPUT_CLAUDE_ARGS", "--allowedTools Bash");
        let child = tokio::process::Command::from(job.command(&["run"]))
            .kill_on_drop(true)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let reached = match moment {
            "comment created" => {
                github
                    .wait_for(
                        |r| {
                            r.iter()
                                .any(|r| r.method == "POST" && r.path.ends_with("/comments"))
                        },
                        Duration::from_secs(60),
                    )
                    .await
            }
            "model asked" => model.wait_for_requests(1, Duration::from_secs(60)).await,
            _ => model.wait_for_requests(2, Duration::from_secs(60)).await,
        };
        assert!(reached, "{moment}: the run got there");
        kill(
            Pid::from_raw(child.id().expect("pid") as i32),
            Signal::SIGTERM,
        )
        .expect("signal");
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{moment}: hung after SIGTERM"))
            .expect("wait");
        github.settle(Duration::from_secs(10)).await;
        assert_run_ended_well(moment, &job, &github, &out);
        assert_eq!(out.status.code(), Some(130), "{moment}");
    }
}

/// The binary, `run`, on the first hostile payloads of the plan campaign (the same seed), with
/// a model that answers: whatever the payload, the run ends well.
#[tokio::test]
async fn run_on_hostile_payloads_ends_well() {
    let _claude = require_claude!();
    const CASES: usize = 24;
    let mut problems = Vec::new();
    let payloads = hostile_payloads(CASES);
    for pair in payloads.chunks(2) {
        let runs = pair.iter().map(|(name, label, bytes)| async move {
            let github = FakeGitHub::start().await;
            let model = FakeModel::start().await;
            model.push_reply(Reply::text("Done."));
            let job = Job::new(name, &json!({}), &github, Some(&model.url()));
            std::fs::write(job.dir.path().join("event.json"), bytes).expect("event");
            let (out, took) = run_case(&job).await;
            github.settle(Duration::from_secs(10)).await;
            let case = format!("run {name} {label}");
            timed_run_problems(&case, &job, &github, &out, took)
        });
        problems.extend(
            futures_util::future::join_all(runs)
                .await
                .into_iter()
                .flatten(),
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
