//! The `git` session store against a loopback fake of the Git Data API, and the `dir` store under
//! concurrent writers.
use std::path::PathBuf;
use std::sync::Arc;

use coworker::secret::Secret;
use coworker::session::store::{DirStore, GitDataClient, GitStore};
use coworker::session::{
    OpenError, RestoreError, Revision, SaveOutcome, SessionKey, SessionStore, SessionStoreKind,
    StoreConfig, StoreError, Target,
};

use crate::support::fake_git_data::FakeGitData;

const TOKEN: &str = "ghs_fake_token_canary";
const REPO: &str = "octo/widgets";
const REF: &str = "refs/coworker/sessions/issue-5";

fn key() -> SessionKey {
    SessionKey::new("Octo/Widgets", Target::issue(5)).expect("valid key")
}

async fn git_store(fake: &FakeGitData) -> SessionStore {
    let config = StoreConfig {
        api_url: fake.api_url.clone(),
        token: Some(Secret::new(TOKEN)),
        actions_cache_dir: None,
        max_archive_bytes: 100 << 20,
    };
    SessionStore::open(&SessionStoreKind::Git, &config).expect("open git store")
}

fn summary(fake: &FakeGitData) -> Vec<String> {
    fake.calls()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c.method,
                c.path.trim_start_matches("/repos/octo/widgets/git/"),
                c.status
            )
        })
        .collect()
}

#[tokio::test]
async fn git_store_round_trip_uses_the_git_data_api_on_a_hidden_ref() {
    let fake = FakeGitData::start(TOKEN).await;
    let store = git_store(&fake).await;
    assert!(store.load(&key()).await.expect("load").is_none());

    // Binary content with every byte value survives base64 both ways.
    let archive: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let outcome = store
        .save(&key(), &archive, None)
        .await
        .expect("save")
        .expect("stored");
    let SaveOutcome::Saved { revision: first } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(fake.ref_tip(REPO, REF), Some(first.0.clone()));
    assert_eq!(
        summary(&fake),
        [
            "GET ref/coworker/sessions/issue-5 404",
            "POST blobs 201",
            "POST trees 201",
            "POST commits 201",
            "POST refs 201"
        ]
    );
    let calls = fake.calls();
    for call in &calls {
        assert_eq!(
            call.authorization.as_deref(),
            Some("Bearer ghs_fake_token_canary")
        );
        assert_eq!(call.accept.as_deref(), Some("application/vnd.github+json"));
        assert_eq!(call.api_version.as_deref(), Some("2022-11-28"));
        assert!(
            call.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with("coworker/"))
        );
    }
    assert_eq!(calls[4].body["ref"], REF);
    assert_eq!(calls[3].body["parents"], serde_json::json!([]));

    let loaded = store.load(&key()).await.expect("load").expect("present");
    assert_eq!(loaded.sealed, archive);
    assert_eq!(loaded.revision, first);

    // A second save builds on the loaded revision and fast-forwards with force:false.
    fake.clear_calls();
    let outcome = store
        .save(&key(), b"second", Some(&loaded.revision))
        .await
        .expect("save");
    let Some(SaveOutcome::Saved { revision: second }) = outcome else {
        panic!("{outcome:?}")
    };
    let patch = fake
        .calls()
        .into_iter()
        .find(|c| c.method == "PATCH")
        .expect("PATCH call");
    assert_eq!(
        patch.path,
        "/repos/octo/widgets/git/refs/coworker/sessions/issue-5"
    );
    assert_eq!(patch.body["force"], false);
    assert_eq!(
        fake.commit(REPO, &second.0).expect("commit").parents,
        vec![first.0]
    );
    assert_eq!(
        fake.commit_blob(REPO, &second.0).as_deref(),
        Some(&b"second"[..])
    );
}

#[tokio::test]
async fn later_writer_wins_cleanly_and_knows_what_it_replaced() {
    let fake = FakeGitData::start(TOKEN).await;
    let store = git_store(&fake).await;
    let Some(SaveOutcome::Saved { revision: base }) =
        store.save(&key(), b"base", None).await.expect("save")
    else {
        panic!("first save")
    };
    // Runs A and B both restored `base`. A saves first.
    let Some(SaveOutcome::Saved { revision: a }) = store
        .save(&key(), b"archive A", Some(&base))
        .await
        .expect("save A")
    else {
        panic!("A saves on top of base")
    };
    fake.clear_calls();
    // B's fast-forward from `base` is refused; it re-reads and retries on top of A.
    let outcome = store
        .save(&key(), b"archive B", Some(&base))
        .await
        .expect("save B");
    let Some(SaveOutcome::Replaced {
        revision: b,
        superseded,
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(superseded, a);
    assert_eq!(
        summary(&fake),
        [
            "POST blobs 201",
            "POST trees 201",
            "POST commits 201",
            "PATCH refs/coworker/sessions/issue-5 422",
            "GET ref/coworker/sessions/issue-5 200",
            "POST commits 201",
            "PATCH refs/coworker/sessions/issue-5 200"
        ]
    );
    assert_eq!(fake.ref_tip(REPO, REF), Some(b.0.clone()));
    assert_eq!(
        fake.commit(REPO, &b.0).expect("commit").parents,
        vec![a.0.clone()]
    );
    // The ref ends at B's archive, whole; A's stays reachable as the parent.
    assert_eq!(
        store
            .load(&key())
            .await
            .expect("load")
            .expect("present")
            .sealed,
        b"archive B"
    );
    assert_eq!(
        fake.commit_blob(REPO, &a.0).as_deref(),
        Some(&b"archive A"[..])
    );
}

/// Both writers start from the same revision at the same time; whatever the interleaving, exactly one
/// fast-forwards and the other replaces it, and the ref ends at one complete archive.
async fn race_two_writers(ref_exists: bool) {
    let fake = FakeGitData::start(TOKEN).await;
    let store = Arc::new(git_store(&fake).await);
    let base: Option<Revision> = if ref_exists {
        match store.save(&key(), b"base", None).await.expect("seed") {
            Some(SaveOutcome::Saved { revision }) => Some(revision),
            other => panic!("{other:?}"),
        }
    } else {
        None
    };
    let archive_a = vec![b'a'; 300_000];
    let archive_b = vec![b'b'; 300_000];
    let (ra, rb) = tokio::join!(
        {
            let (store, base, archive) = (store.clone(), base.clone(), archive_a.clone());
            tokio::spawn(async move { store.save(&key(), &archive, base.as_ref()).await })
        },
        {
            let (store, base, archive) = (store.clone(), base.clone(), archive_b.clone());
            tokio::spawn(async move { store.save(&key(), &archive, base.as_ref()).await })
        }
    );
    let ra = ra.expect("join").expect("A").expect("stored");
    let rb = rb.expect("join").expect("B").expect("stored");
    let (winner, winner_archive) = match (&ra, &rb) {
        (
            SaveOutcome::Saved { revision: first },
            SaveOutcome::Replaced {
                revision,
                superseded,
            },
        ) => {
            assert_eq!(superseded, first);
            (revision.clone(), &archive_b)
        }
        (
            SaveOutcome::Replaced {
                revision,
                superseded,
            },
            SaveOutcome::Saved { revision: first },
        ) => {
            assert_eq!(superseded, first);
            (revision.clone(), &archive_a)
        }
        other => panic!("expected one Saved and one Replaced, got {other:?}"),
    };
    assert_eq!(fake.ref_tip(REPO, REF), Some(winner.0.clone()));
    let loaded = store.load(&key()).await.expect("load").expect("present");
    assert_eq!(&loaded.sealed, winner_archive);
    let rejected = fake.calls().iter().filter(|c| c.status == 422).count();
    assert_eq!(rejected, 1, "exactly one compare-and-swap failure");
}

#[tokio::test]
async fn concurrent_updates_of_an_existing_ref_end_consistent() {
    race_two_writers(true).await;
}

#[tokio::test]
async fn concurrent_creation_of_the_ref_ends_consistent() {
    race_two_writers(false).await;
}

#[tokio::test]
async fn a_second_conflict_gives_up_without_touching_the_winner() {
    let fake = FakeGitData::start(TOKEN).await;
    let store = git_store(&fake).await;
    let Some(SaveOutcome::Saved { revision: base }) =
        store.save(&key(), b"base", None).await.expect("seed")
    else {
        panic!("seed")
    };
    fake.interfere_before_updates(2);
    let err = store
        .save(&key(), b"ours", Some(&base))
        .await
        .expect_err("must give up");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("octo/widgets#issue-5"));
    let intruders = fake.intruder_archives();
    assert_eq!(intruders.len(), 2);
    let loaded = store.load(&key()).await.expect("load").expect("present");
    assert_eq!(
        loaded.sealed, intruders[1],
        "ref ends at the other writer's complete archive"
    );
}

#[tokio::test]
async fn unusable_archive_is_ignored_and_then_replaced_without_conflict() {
    let fake = FakeGitData::start(TOKEN).await;
    let store = git_store(&fake).await;
    let secret = Secret::new("the session key");
    let sealed = coworker::session::seal::seal(b"payload", &key(), Some(&secret)).expect("seal");
    store.save(&key(), &sealed, None).await.expect("save");
    fake.tamper_tip_blob(REPO, REF, b"\x89CWSESS\ngarbage".to_vec());

    let loaded = store.load(&key()).await.expect("load").expect("present");
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = coworker::session::open_and_unpack(
        &loaded.sealed,
        &key(),
        Some(&secret),
        &tmp.path().join(".claude"),
        tmp.path(),
        &Default::default(),
    )
    .expect_err("tampered");
    assert!(
        matches!(err, RestoreError::Open(OpenError::UnsupportedVersion(_))),
        "{err}"
    );
    // Fresh run saves on top of the revision it saw: a plain fast-forward.
    let outcome = store
        .save(&key(), &sealed, Some(&loaded.revision))
        .await
        .expect("save");
    assert!(
        matches!(outcome, Some(SaveOutcome::Saved { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn api_errors_are_typed_and_never_show_the_token() {
    let fake = FakeGitData::start("a-different-token").await;
    let store = git_store(&fake).await;
    let err = store.load(&key()).await.expect_err("401");
    let StoreError::Api { status, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, Some(401));
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("Bad credentials"), "{shown}");
    assert!(!shown.contains("canary"), "{shown}");

    // Nothing listening: a transport error, still typed.
    let client =
        GitDataClient::new("http://127.0.0.1:9/api/v3", Secret::new(TOKEN)).expect("client");
    let err = GitStore::new(client, 1 << 20)
        .load(&key())
        .await
        .expect_err("refused");
    assert!(
        matches!(err, StoreError::Api { status: None, .. }),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("canary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dir_store_concurrent_writers_leave_one_complete_archive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root: PathBuf = tmp.path().join("sessions");
    // Two independent store instances, as two runner processes sharing a disk would have.
    let writers: Vec<(DirStore, Vec<u8>)> = (0..2u8)
        .map(|i| {
            let archive: Vec<u8> = (0..4_000_000u32).map(|n| (n % 251) as u8 ^ i).collect();
            (DirStore::new(root.clone(), 100 << 20), archive)
        })
        .collect();
    let expected: Vec<Vec<u8>> = writers.iter().map(|(_, a)| a.clone()).collect();
    let reader = DirStore::new(root.clone(), 100 << 20);

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (store, archive) in writers {
        tasks.push(tokio::spawn(async move {
            let mut fresh = 0;
            for _ in 0..10 {
                // base None: any save that finds a file already there must report Replaced.
                if let SaveOutcome::Saved { .. } =
                    store.save(&key(), &archive, None).await.expect("save")
                {
                    fresh += 1;
                }
            }
            fresh
        }));
    }
    // A reader running during the writes must only ever see a whole archive (or none yet).
    let reads = {
        let (expected, done) = (expected.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                if let Some(loaded) = reader.load(&key()).await.expect("load") {
                    assert!(
                        expected.contains(&loaded.sealed),
                        "torn read of {} bytes",
                        loaded.sealed.len()
                    );
                    seen += 1;
                }
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut fresh_saves = 0;
    for task in tasks {
        fresh_saves += task.await.expect("writer");
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reads.await.expect("reader") >= 1);
    // The read-compare-write runs under the lock: only the very first save found no file.
    assert_eq!(fresh_saves, 1);

    let store = DirStore::new(root.clone(), 100 << 20);
    let final_archive = store
        .load(&key())
        .await
        .expect("load")
        .expect("present")
        .sealed;
    assert!(
        expected.contains(&final_archive),
        "final file is one writer's complete archive"
    );
    let dir = store
        .archive_path(&key())
        .parent()
        .expect("parent")
        .to_path_buf();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["issue-5.cwsess", "issue-5.lock"],
        "no temporary files left behind"
    );
}

/// Issue 15 #9: an answer larger than any archive could be (here an endless one) is refused as it
/// streams, not buffered whole before the cap is checked.
#[tokio::test]
async fn an_endless_answer_is_refused_while_it_streams() {
    use axum::body::Body;
    let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let app = axum::Router::new().fallback(move || {
        let chunk = chunk.clone();
        let counter = counter.clone();
        async move {
            let endless = futures_util::stream::repeat_with(move || {
                counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                Ok::<_, std::io::Error>(chunk.clone())
            });
            Body::from_stream(endless)
        }
    });
    let (addr, _task) = crate::support::serve::serve_on_loopback(app).await;
    let client =
        GitDataClient::new(&format!("http://{addr}/api/v3"), Secret::new(TOKEN)).expect("client");
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        GitStore::new(client, 1 << 20).load(&key()),
    )
    .await
    .expect("refused in time")
    .expect_err("refused");
    assert!(matches!(err, StoreError::TooLarge { .. }), "{err:?}");
    let read = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read < 64 << 20, "{read} bytes were pulled before refusing");
}

/// Issue 15 #9: a 3 GiB archive (sparse: no disk used) in a `dir:` store is refused from its
/// size alone, before any byte is read.
#[tokio::test]
async fn a_3_gib_archive_in_a_dir_store_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("dir");
    let store = DirStore::new(dir.path().to_path_buf(), 100 << 20);
    let path = store.archive_path(&key());
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(3 << 30))
        .expect("sparse file");
    let started = std::time::Instant::now();
    let err = store.load(&key()).await.expect_err("refused");
    assert!(
        matches!(err, StoreError::TooLarge { size, .. } if size == 3 << 30),
        "{err:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}: it was read",
        started.elapsed()
    );
}
