//! Round trips and hostile archives: every refusal rule of `unpack`, the caps of `pack`.
use super::manifest::digest_entry_header;
use super::*;
use crate::secret::hex;
use crate::session::key::{SessionKey, Target};
use crate::session::project_dir::project_dir;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, UNIX_EPOCH};

const SID: &str = "0f8e6a9c-1111-4222-8333-944445555666";

struct Fixture {
    _tmp: tempfile::TempDir,
    config: PathBuf,
    cwd: PathBuf,
}

fn fixture(cwd_name: &str) -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("home/.claude");
    let cwd = tmp.path().join(cwd_name);
    fs::create_dir_all(&cwd).expect("mkdir cwd");
    Fixture {
        config,
        cwd,
        _tmp: tmp,
    }
}

fn key(n: u64) -> SessionKey {
    SessionKey::new("octo/repo", Target::issue(n)).expect("valid key")
}

/// A project dir with the session transcript, a sub-agent file, another session and memory/.
fn populate(f: &Fixture) -> PathBuf {
    let project = project_dir(&f.config, &f.cwd).expect("project dir");
    fs::create_dir_all(project.join(SID).join("subagents")).expect("mkdir");
    fs::create_dir_all(project.join("memory")).expect("mkdir");
    fs::write(
        project.join(format!("{SID}.jsonl")),
        "{\"type\":\"user\",\"cwd\":\"/a\"}\n",
    )
    .expect("write");
    fs::write(
        project.join(SID).join("subagents/agent-1.jsonl"),
        "{\"sub\":1}\n",
    )
    .expect("write");
    fs::write(project.join("other-session.jsonl"), "{}\n").expect("write");
    fs::write(project.join("memory/MEMORY.md"), "remember").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", project.join(SID).join("link")).expect("symlink");
    project
}

#[test]
fn round_trip_moves_only_this_session_into_the_new_project_dir() {
    let a = fixture("workspace-a");
    populate(&a);
    let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
    assert_eq!(packed.manifest.session_id, SID);
    assert_eq!(packed.manifest.file_count, 2);
    assert_eq!(packed.manifest.repository, "octo/repo");

    let b = fixture("somewhere/else-b");
    let restored = unpack(
        &packed.payload,
        &key(5),
        &b.config,
        &b.cwd,
        &Limits::default(),
    )
    .expect("unpack");
    assert_eq!(restored.manifest, packed.manifest);
    let project = project_dir(&b.config, &b.cwd).expect("project dir");
    assert_eq!(restored.project_dir, project);
    let transcript = project.join(format!("{SID}.jsonl"));
    assert_eq!(
        fs::read_to_string(&transcript).expect("read"),
        "{\"type\":\"user\",\"cwd\":\"/a\"}\n"
    );
    assert_eq!(
        fs::metadata(&transcript)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(project.join(SID).join("subagents/agent-1.jsonl").is_file());
    assert!(
        !project.join(SID).join("link").exists(),
        "symlink must not be packed"
    );
    assert!(
        !project.join("memory").exists(),
        "memory/ must not be packed"
    );
    assert!(!project.join("other-session.jsonl").exists());
    // No staging directory left behind.
    let leftovers: Vec<_> = fs::read_dir(b.config.join("projects"))
        .expect("read")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".coworker"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn restore_replaces_an_older_copy_of_the_session() {
    let a = fixture("a");
    populate(&a);
    let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
    let b = fixture("b");
    let project = project_dir(&b.config, &b.cwd).expect("project dir");
    fs::create_dir_all(project.join(SID)).expect("mkdir");
    fs::write(project.join(format!("{SID}.jsonl")), "stale").expect("write");
    fs::write(project.join(SID).join("stale.txt"), "stale").expect("write");
    unpack(
        &packed.payload,
        &key(5),
        &b.config,
        &b.cwd,
        &Limits::default(),
    )
    .expect("unpack");
    assert_ne!(
        fs::read_to_string(project.join(format!("{SID}.jsonl"))).expect("read"),
        "stale"
    );
    assert!(!project.join(SID).join("stale.txt").exists());
}

#[test]
fn pack_refuses_missing_transcript_and_bad_ids() {
    let a = fixture("a");
    assert!(matches!(
        pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()),
        Err(ArchiveError::NoTranscript(_))
    ));
    assert!(matches!(
        pack(&a.config, &a.cwd, &key(5), "../x", &Limits::default()),
        Err(ArchiveError::BadSessionId(_))
    ));
}

#[test]
fn pack_enforces_limits() {
    let a = fixture("a");
    populate(&a);
    let limits = Limits {
        max_files: 1,
        ..Limits::default()
    };
    assert!(matches!(
        pack(&a.config, &a.cwd, &key(5), SID, &limits),
        Err(ArchiveError::TooManyFiles(1))
    ));
    let limits = Limits {
        max_total_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        pack(&a.config, &a.cwd, &key(5), SID, &limits),
        Err(ArchiveError::TooLarge(10))
    ));
}

#[test]
fn archive_for_another_issue_is_foreign() {
    let a = fixture("a");
    populate(&a);
    let packed = pack(&a.config, &a.cwd, &key(4), SID, &Limits::default()).expect("pack");
    let b = fixture("b");
    let err = unpack(
        &packed.payload,
        &key(5),
        &b.config,
        &b.cwd,
        &Limits::default(),
    )
    .expect_err("foreign");
    assert!(matches!(err, ArchiveError::Foreign { .. }), "{err}");
    assert_nothing_restored(&b);
}

#[test]
fn truncated_payload_is_corrupt() {
    let a = fixture("a");
    populate(&a);
    let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
    let b = fixture("b");
    let cut = &packed.payload[..packed.payload.len() / 2];
    let err = unpack(cut, &key(5), &b.config, &b.cwd, &Limits::default()).expect_err("cut");
    assert!(
        matches!(
            err,
            ArchiveError::Corrupt(_) | ArchiveError::MissingManifest
        ),
        "{err}"
    );
    assert_nothing_restored(&b);
}

// ---- hand-crafted hostile archives ----

struct Raw<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
    link: &'a [u8],
}

fn file<'a>(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        kind: tar::EntryType::Regular,
        data,
        link: b"",
    }
}

/// A GNU long-name entry naming the entry that follows it `name`.
fn long_name(name: &[u8]) -> Raw<'_> {
    Raw {
        name: b"././@LongLink",
        kind: tar::EntryType::GNULongName,
        data: name,
        link: b"",
    }
}

/// Writes headers byte by byte (the tar crate's builder refuses `..` and absolute paths).
fn craft(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut header = if e.kind == tar::EntryType::GNULongName {
            tar::Header::new_gnu()
        } else {
            tar::Header::new_old()
        };
        header.as_old_mut().name[..e.name.len()].copy_from_slice(e.name);
        header.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link);
        header.set_entry_type(e.kind);
        header.set_mode(0o600);
        header.set_size(e.data.len() as u64);
        header.set_cksum();
        builder.append(&header, e.data).expect("append");
    }
    let tar = builder.into_inner().expect("finish");
    zstd::encode_all(tar.as_slice(), 3).expect("zstd")
}

fn assert_nothing_restored(f: &Fixture) {
    let project = project_dir(&f.config, &f.cwd).expect("project dir");
    assert!(
        !project.exists(),
        "project dir must not be created on failure"
    );
    if let Ok(entries) = fs::read_dir(f.config.join("projects")) {
        assert_eq!(entries.count(), 0, "staging must be cleaned up");
    }
}

fn unpack_raw(entries: &[Raw<'_>], limits: &Limits) -> (ArchiveError, Fixture) {
    let f = fixture("target");
    let payload = craft(entries);
    let err = unpack(&payload, &key(5), &f.config, &f.cwd, limits).expect_err("must be refused");
    assert_nothing_restored(&f);
    (err, f)
}

#[test]
fn dot_dot_paths_are_refused() {
    let (err, f) = unpack_raw(&[file(b"../../../escaped.txt", b"x")], &Limits::default());
    assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
    assert!(!f.config.join("escaped.txt").exists());
    let (err, _) = unpack_raw(&[file(b"a/../../b", b"x")], &Limits::default());
    assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
}

#[test]
fn overlong_names_are_refused_and_shortened_in_errors() {
    let name = vec![b'n'; 300];
    let long = long_name(&name);
    let (err, _) = unpack_raw(&[long, file(b"x", b"x")], &Limits::default());
    let ArchiveError::UnsafePath(shown) = &err else {
        panic!("{err}")
    };
    assert!(shown.len() < 210, "error repeats the whole name");
}

#[test]
fn absolute_paths_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = tmp.path().join("abs-escape.txt");
    let name = target.to_string_lossy().into_owned();
    let (err, _) = unpack_raw(&[file(name.as_bytes(), b"x")], &Limits::default());
    assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
    assert!(!target.exists());
}

#[test]
fn symlinks_and_hardlinks_are_refused() {
    let symlink = Raw {
        name: b"s.jsonl",
        kind: tar::EntryType::Symlink,
        data: b"",
        link: b"/etc/passwd",
    };
    let (err, _) = unpack_raw(&[symlink], &Limits::default());
    assert!(matches!(err, ArchiveError::Link(_)), "{err}");
    let hard = Raw {
        name: b"h.jsonl",
        kind: tar::EntryType::Link,
        data: b"",
        link: b"/etc/passwd",
    };
    let (err, _) = unpack_raw(&[hard], &Limits::default());
    assert!(matches!(err, ArchiveError::Link(_)), "{err}");
}

#[test]
fn device_files_and_fifos_are_refused() {
    for kind in [
        tar::EntryType::Char,
        tar::EntryType::Block,
        tar::EntryType::Fifo,
    ] {
        let dev = Raw {
            name: b"dev",
            kind,
            data: b"",
            link: b"",
        };
        let (err, _) = unpack_raw(&[dev], &Limits::default());
        assert!(
            matches!(err, ArchiveError::SpecialFile(_)),
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn too_many_files_are_refused() {
    let names: Vec<String> = (0..6).map(|i| format!("{SID}/f{i}")).collect();
    let entries: Vec<Raw<'_>> = names.iter().map(|n| file(n.as_bytes(), b"x")).collect();
    let limits = Limits {
        max_files: 5,
        ..Limits::default()
    };
    let (err, _) = unpack_raw(&entries, &limits);
    assert!(matches!(err, ArchiveError::TooManyFiles(5)), "{err}");
}

#[test]
fn too_large_content_is_refused() {
    let big = vec![b'a'; 4096];
    let limits = Limits {
        max_total_bytes: 4000,
        ..Limits::default()
    };
    let (err, _) = unpack_raw(&[file(b"big.jsonl", &big)], &limits);
    assert!(matches!(err, ArchiveError::TooLarge(4000)), "{err}");
    // A compressed payload over the archive cap is refused before decompression.
    let limits = Limits {
        max_archive_bytes: 10,
        ..Limits::default()
    };
    let (err, _) = unpack_raw(&[file(b"big.jsonl", &big)], &limits);
    assert!(matches!(err, ArchiveError::TooLarge(10)), "{err}");
}

#[test]
fn oversized_metadata_entries_hit_the_stream_cap() {
    // A GNU long-name entry is buffered by the tar reader; a huge one must not exhaust memory.
    let huge_name = vec![b'n'; 1_000_000];
    let long = long_name(&huge_name);
    let limits = Limits {
        max_total_bytes: 1000,
        max_files: 1,
        ..Limits::default()
    };
    let (err, _) = unpack_raw(&[long, file(b"x", b"x")], &limits);
    // Refused at its header now (session/tar_guard.rs), before the stream cap is reached.
    assert!(
        matches!(&err, ArchiveError::Corrupt(m) if m.contains("long name")),
        "{err}"
    );
}

#[test]
fn archives_without_or_with_a_lying_manifest_are_refused() {
    let (err, _) = unpack_raw(
        &[file(format!("{SID}.jsonl").as_bytes(), b"x")],
        &Limits::default(),
    );
    assert!(matches!(err, ArchiveError::MissingManifest), "{err}");

    let manifest = |digest: &str, count: u64| {
        serde_json::to_vec(&Manifest {
            format_version: MANIFEST_VERSION,
            repository: "octo/repo".into(),
            target: Target::issue(5),
            session_id: SID.into(),
            cwd: "/x".into(),
            created_at: chrono::Utc::now(),
            content_sha256: digest.into(),
            file_count: count,
            total_bytes: 1,
            coworker_version: "test".into(),
            run_url: None,
        })
        .expect("json")
    };
    let name = format!("{SID}.jsonl");
    let lying = manifest(&"0".repeat(64), 1);
    let (err, _) = unpack_raw(
        &[
            file(name.as_bytes(), b"x"),
            file(MANIFEST_NAME.as_bytes(), &lying),
        ],
        &Limits::default(),
    );
    assert!(matches!(err, ArchiveError::DigestMismatch), "{err}");

    // Correct digest, but an entry that is not part of the session.
    let mut d = Sha256::new();
    for (n, data) in [(name.as_str(), b"x"), ("evil.jsonl", b"y")] {
        digest_entry_header(&mut d, n, 1);
        d.update(data);
    }
    let honest = manifest(&hex(&d.finalize()), 2);
    let (err, _) = unpack_raw(
        &[
            file(name.as_bytes(), b"x"),
            file(b"evil.jsonl", b"y"),
            file(MANIFEST_NAME.as_bytes(), &honest),
        ],
        &Limits::default(),
    );
    assert!(matches!(err, ArchiveError::UnexpectedEntry(..)), "{err}");

    let (err, _) = unpack_raw(
        &[
            file(MANIFEST_NAME.as_bytes(), &lying),
            file(name.as_bytes(), b"x"),
        ],
        &Limits::default(),
    );
    assert!(matches!(err, ArchiveError::ManifestNotLast), "{err}");
}

#[test]
fn latest_session_id_picks_the_newest_transcript() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = File::create(tmp.path().join("old-id.jsonl")).expect("create");
    old.set_modified(UNIX_EPOCH + Duration::from_secs(1_000))
        .expect("mtime");
    File::create(tmp.path().join("new-id.jsonl")).expect("create");
    fs::create_dir(tmp.path().join("dir.jsonl")).expect("mkdir");
    assert_eq!(latest_session_id(tmp.path()).as_deref(), Some("new-id"));
    assert_eq!(latest_session_id(&tmp.path().join("missing")), None);
}
