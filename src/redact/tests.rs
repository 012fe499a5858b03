use super::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const CANARY: &str = "canary-s3cret/value+42";

fn redactor() -> Redactor {
    Redactor::new(vec![
        Secret::new(CANARY),
        Secret::new("ghs_fake_token_canary_7f3a"),
        Secret::new("short"),
    ])
}

fn redacted(text: &str) -> String {
    redactor().redact(text).into_string()
}

#[test]
fn the_value_itself_is_replaced() {
    assert_eq!(
        redacted(&format!("token is {CANARY}.")),
        "token is [redacted: secret]."
    );
    assert_eq!(
        redacted("x-access-token:ghs_fake_token_canary_7f3a@github.com"),
        "x-access-token:[redacted: secret]@github.com"
    );
}

#[test]
fn base64_in_both_alphabets_with_and_without_padding_is_replaced() {
    for encoded in [
        STANDARD.encode(CANARY),
        STANDARD.encode(CANARY).trim_end_matches('=').to_string(),
        URL_SAFE_NO_PAD.encode(CANARY),
        base64::engine::general_purpose::URL_SAFE.encode(CANARY),
    ] {
        let out = redacted(&format!("blob: {encoded} end"));
        assert_eq!(out, "blob: [redacted: secret in base64] end", "{encoded}");
    }
}

#[test]
fn base64_of_a_longer_text_holding_the_value_is_caught_at_every_offset() {
    for prefix in ["", "a", "ab", "x-access-token:", "Authorization: basic "] {
        let blob = STANDARD.encode(format!("{prefix}{CANARY} and then some more bytes"));
        let out = redacted(&blob);
        assert!(
            out.contains("[redacted: secret in base64]"),
            "{prefix:?}: {out}"
        );
        // What is left of the blob can no longer be decoded into the value.
        let rest: String = out.replace("[redacted: secret in base64]", "");
        assert!(!rest.contains(&STANDARD.encode(CANARY)[..8]));
    }
}

#[test]
fn hex_and_url_encoded_forms_are_replaced() {
    let hex = crate::secret::hex(CANARY.as_bytes());
    assert_eq!(redacted(&hex), "[redacted: secret in hex]");
    assert_eq!(
        redacted(&hex.to_ascii_uppercase()),
        "[redacted: secret in hex]"
    );
    assert_eq!(
        redacted("https://x.test/?t=canary-s3cret%2Fvalue%2B42&a=1"),
        "https://x.test/?t=[redacted: url-encoded secret]&a=1"
    );
    assert_eq!(
        redacted("canary-s3cret%2fvalue%2b42"),
        "[redacted: url-encoded secret]"
    );
}

#[test]
fn values_under_the_floor_are_left_alone() {
    assert_eq!(redacted("a short story"), "a short story");
}

#[test]
fn multi_line_values_are_caught_whole_and_by_line() {
    let key =
        "{\n  \"clientid\": \"sb-abc!b1|aicore!b5\",\n  \"clientsecret\": \"zq9Wv+Kp2/Lm==\"\n}";
    let r = Redactor::new(vec![Secret::new(key)]);
    assert_eq!(r.redact(key).as_str(), "[redacted: secret]");
    let one = r.redact("the secret line: \"clientsecret\": \"zq9Wv+Kp2/Lm==\"");
    assert_eq!(one.as_str(), "the secret line: [redacted: secret]");
}

#[test]
fn github_tokens_are_replaced() {
    for token in [
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "ghu_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "ghr_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
    ] {
        assert_eq!(
            Redactor::default()
                .redact(&format!("use {token} now"))
                .as_str(),
            "use [redacted: GitHub token] now",
            "{token}"
        );
    }
}

#[test]
fn anthropic_and_openai_keys_are_replaced_but_not_ordinary_words() {
    let r = Redactor::default();
    assert_eq!(
        r.redact("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcDEF")
            .as_str(),
        "key [redacted: Anthropic API key]"
    );
    assert_eq!(
        r.redact("OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWxYz12")
            .as_str(),
        "OPENAI_API_KEY=[redacted: OpenAI API key]"
    );
    assert_eq!(
        r.redact("sk-T3BlbkFJaBcDeFgHiJkLmNoPqRsTuVwXyZ012345678")
            .as_str(),
        "[redacted: OpenAI API key]"
    );
    for ordinary in [
        "an sk-learn-compatible-estimator-interface",
        "the task-management-and-planning-docs",
        "risk-assessment-for-the-next-quarter",
        "desk-ant-farm-for-the-children-of-the-office",
        "xoxo-hugs-and-kisses-from-everyone",
        "sk-ant-",
    ] {
        assert_eq!(r.redact(ordinary).as_str(), ordinary);
    }
}

#[test]
fn aws_keys_are_replaced_with_the_secret_key_next_to_them() {
    let r = Redactor::default();
    let text = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    assert_eq!(
        r.redact(text).as_str(),
        "[default]\naws_access_key_id = [redacted: AWS access key ID]\n\
         aws_secret_access_key = [redacted: AWS secret access key]\n"
    );
    // Next to an ID without a label, and with a label without an ID.
    assert_eq!(
        r.redact("ASIAY34FZKBOKMUTVV7A:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            .as_str(),
        "[redacted: AWS access key ID]:[redacted: AWS secret access key]"
    );
    assert_eq!(
        r.redact("SECRET_ACCESS_KEY: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"")
            .as_str(),
        "SECRET_ACCESS_KEY: \"[redacted: AWS secret access key]\""
    );
    // A commit SHA beside an ID is not a secret key.
    let sha = "AKIAIOSFODNN7EXAMPLE in commit 0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        r.redact(sha).as_str(),
        "[redacted: AWS access key ID] in commit 0123456789abcdef0123456789abcdef01234567"
    );
}

#[test]
fn google_slack_and_jwt_shapes_are_replaced() {
    let r = Redactor::default();
    assert_eq!(
        r.redact("key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW")
            .as_str(),
        "key=[redacted: Google API key]"
    );
    assert_eq!(
        r.redact("Authorization: Bearer ya29.a0AfB_byC1d2E3f4G5h6I7j8K9l0")
            .as_str(),
        "Authorization: Bearer [redacted: Google access token]"
    );
    assert_eq!(
        r.redact("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")
            .as_str(),
        "[redacted: Slack token]"
    );
    assert_eq!(
        r.redact("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U").as_str(),
        "Bearer [redacted: JWT]"
    );
}

#[test]
fn private_key_blocks_are_replaced_whole_even_when_cut_short() {
    let r = Redactor::default();
    let pem = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc/def+ghi==\n-----END RSA PRIVATE KEY-----\nafter";
    assert_eq!(
        r.redact(pem).as_str(),
        "before\n[redacted: private key]\nafter"
    );
    let cut = "see -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA";
    assert_eq!(r.redact(cut).as_str(), "see [redacted: private key]");
    let json = r#"{"private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n","x":1}"#;
    assert_eq!(
        r.redact(json).as_str(),
        r#"{"private_key":"[redacted: private key]","x":1}"#
    );
}

#[test]
fn overlapping_hits_become_one_marker() {
    let token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let r = Redactor::new(vec![Secret::new(token)]);
    assert_eq!(
        r.redact(&format!("[{token}]")).as_str(),
        "[[redacted: secret]]"
    );
}

#[test]
fn ordinary_text_comes_back_unchanged_and_identical() {
    let text = "## Fix\n\nCommit 0123456789abcdef0123456789abcdef01234567, id \
                123e4567-e89b-12d3-a456-426614174000, see https://github.com/o/r/pull/3.\n";
    assert_eq!(redactor().redact(text).as_str(), text);
}

#[test]
fn long_results_are_cut_to_the_limit() {
    let r = Redactor::new(vec![Secret::new("12345678")]);
    let text = "12345678 ".repeat(100);
    let out = r.redact(&text);
    assert!(out.as_str().len() > text.len(), "markers are longer");
    let cut = out.limited(300);
    assert!(cut.chars().count() <= 300);
    assert!(cut.ends_with("size limit._"));
    assert_eq!(out.limited(1_000_000), out.as_str());
}

#[test]
fn the_registry_grows_and_never_forgets() {
    let a = Secret::new("registry-canary-one-9d1f");
    let b = Secret::new("registry-canary-two-4b7e");
    register([&a]);
    register([&b]);
    register([&a]);
    let out = redact("registry-canary-one-9d1f registry-canary-two-4b7e");
    assert_eq!(out.as_str(), "[redacted: secret] [redacted: secret]");
}

#[test]
fn normal_comments_stay_identical() {
    use crate::agent::progress::{Progress, Todo, TodoStatus};
    use crate::outcome::{Conclusion, Outcome};
    use crate::report::comment::{CommentHeader, render_final, render_working};
    let header = CommentHeader {
        agent_name: "Claude".into(),
        actor: "octocat".into(),
        run_url: Some("https://github.com/o/r/actions/runs/4242".into()),
        request_url: Some("https://github.com/o/r/issues/1#issuecomment-99".into()),
        notes: vec!["Continuing the conversation from [the run of 2026-01-02 10:00 UTC](https://github.com/o/r/actions/runs/41) (session `6f1c2d3e-aaaa-4bbb-8ccc-123456789abc`).".into()],
        run_key: String::new(),
    };
    let mut progress = Progress::default();
    progress.todos = vec![
        Todo {
            content: "Read src/login.rs".into(),
            status: TodoStatus::Completed,
        },
        Todo {
            content: "Fix the empty-password check".into(),
            status: TodoStatus::InProgress,
        },
    ];
    progress.current_step = Some("Bash: cargo test --lib login".into());
    let working = render_working(&header, &progress);
    let mut done = Outcome::new(Conclusion::Success, "");
    done.num_turns = Some(7);
    done.cost_usd = Some(0.0421);
    done.duration = std::time::Duration::from_millis(83_400);
    done.answer = Some(
        "I fixed the check in `src/login.rs` (commit 9fceb02d0ae598e95dc970b74767f19372d61af8).\n\n\
         | file | change |\n|---|---|\n| src/login.rs | reject empty passwords |\n\n\
         ```rust\nif password.is_empty() { return Err(LoginError::Empty); }\n```\n\n\
         - run id `123e4567-e89b-12d3-a456-426614174000`\n- see [the docs](https://docs.rs/tokio/1/tokio/)\n\
         - sk-learn-style task-list, base64 is `aGVsbG8gd29ybGQ=`"
            .into(),
    );
    let rows = [
        ("branch".to_string(), "`claude/1-fix-login`".to_string()),
        (
            "pull request".to_string(),
            "[#2](https://github.com/o/r/pull/2) opened".to_string(),
        ),
    ];
    let finished = render_final(&header, &done, &rows);
    let mut failed = Outcome::new(
        Conclusion::Failure,
        "the checks still fail: `cargo test` failed (exit 101)",
    );
    failed.permission_denials = vec!["WebFetch".into()];
    let failed = render_final(&header, &failed, &[]);
    let r = redactor();
    for (name, body) in [
        ("working", &working),
        ("finished", &finished),
        ("failed", &failed),
    ] {
        let out = r.redact(body);
        assert_eq!(out.as_str(), body.as_str(), "{name} changed");
        insta::assert_snapshot!(name, out.as_str());
    }
}

mod ordinary_markdown {
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z]{1,12}",
            "[a-z]{1,8}(-[a-z]{1,8}){1,4}",
            "[A-Z][a-z]{2,10}[.,;:!?]?",
            "[0-9]{1,6}",
            "v[0-9]\\.[0-9]{1,2}\\.[0-9]{1,2}",
            "[a-f0-9]{40}",
            "[a-f0-9]{7}",
            "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}",
            "`[a-z_]{1,10}\\(\\)`",
            "[a-z]{2,8}/[a-z_]{2,8}\\.(rs|md|toml|yml)",
            "[a-z_]{2,10}_[a-z]{2,10}",
        ]
    }

    fn sentence() -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 1..14).prop_map(|w| w.join(" "))
    }

    fn block() -> impl Strategy<Value = String> {
        prop_oneof![
            sentence(),
            sentence().prop_map(|s| format!("## {s}")),
            prop::collection::vec(sentence(), 1..5).prop_map(|items| items
                .iter()
                .map(|i| format!("- {i}"))
                .collect::<Vec<_>>()
                .join("\n")),
            prop::collection::vec(sentence(), 1..4)
                .prop_map(|lines| format!("```rust\n{}\n```", lines.join("\n"))),
            (sentence(), "[a-z]{3,10}", "[a-z/]{1,20}")
                .prop_map(|(t, host, path)| format!("[{t}](https://{host}.example.com/{path})")),
            prop::collection::vec((word(), word()), 1..5).prop_map(|rows| {
                let mut t = String::from("| a | b |\n|---|---|");
                for (a, b) in rows {
                    t.push_str(&format!("\n| {a} | {b} |"));
                }
                t
            }),
            "> [a-zA-Z ]{1,60}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn passes_unchanged(blocks in prop::collection::vec(block(), 1..12)) {
            let text = blocks.join("\n\n");
            let out = redactor().redact(&text);
            prop_assert_eq!(out.as_str(), text.as_str());
        }
    }
}
