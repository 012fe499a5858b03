//! The tracking comment's writer (`report::tracking`) against the fake GitHub, in process: the
//! orderings that a run of the binary only meets by chance, made to happen on purpose.
use crate::support::fake_github::{self, CommentWrite, Delay, FakeGitHub, Fault};
use coworker::github::{GitHub, RetryPolicy, Transport};
use coworker::inputs::RepoSlug;
use coworker::outcome::{Conclusion, Outcome};
use coworker::report::comment::{CommentHeader, new_run_key, render_final, render_working};
use coworker::report::tracking::{Place, TrackingComment};
use std::time::Duration;

const COMMENTS: &str = "/repos/Codertocat/Hello-World/issues/1/comments";
const EDIT_COMMENT: &str = "PATCH /repos/Codertocat/Hello-World/issues/comments/";

fn client(github: &FakeGitHub) -> GitHub {
    let transport = Transport::new(
        &github.url(),
        &github.graphql_url(),
        Some(fake_github::TOKEN),
    )
    .expect("transport");
    GitHub::new(
        transport,
        RepoSlug::parse(&format!("{}/{}", fake_github::OWNER, fake_github::REPO)).expect("slug"),
    )
}

fn header() -> CommentHeader {
    CommentHeader {
        agent_name: "Claude".into(),
        actor: "Codertocat".into(),
        run_url: Some("https://github.com/Codertocat/Hello-World/actions/runs/77".into()),
        request_url: None,
        notes: vec![],
        run_key: new_run_key(),
    }
}

fn bodies(h: &CommentHeader) -> (String, String, String) {
    let mut progress = coworker::agent::progress::Progress::default();
    let started = render_working(h, &progress);
    progress.current_step = Some("Edit README.md".into());
    let working = render_working(h, &progress);
    let done = render_final(h, &Outcome::new(Conclusion::Success, ""), &[]);
    (started, working, done)
}

/// Short waits, so a test's GitHub outage is over in well under a second.
fn brief() -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(50),
        budget: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn a_progress_edit_in_flight_lands_before_the_final_edit_and_none_follows_it() {
    let github = FakeGitHub::start().await;
    let h = header();
    let (started, working, done) = bodies(&h);
    let tracking = TrackingComment::open(client(&github), Place::Issue(1), &started, brief()).await;
    let id = tracking.comment().expect("created").id;
    let sink = tracking.progress().expect("a writer");
    github.delay_next(Delay::applied_late(EDIT_COMMENT, 1, Duration::from_secs(1)));
    sink.show(working.clone());
    assert!(
        github
            .wait_for(
                |rs| rs.iter().any(|r| r.method == "PATCH"),
                Duration::from_secs(10)
            )
            .await,
        "the progress edit was sent"
    );
    // The final edit is asked for while the progress edit is still on its way.
    let finished = tracking.finish(&done, brief()).await;
    assert_eq!(finished.map(|c| c.id), Some(id));
    sink.show("a progress body after the end".into());
    assert!(github.settle(Duration::from_secs(10)).await);
    assert_eq!(
        github.history(id),
        vec![
            CommentWrite::Created(started),
            CommentWrite::Edited(working),
            CommentWrite::Edited(done.clone()),
        ]
    );
    assert_eq!(github.comment(id).expect("comment").body, done);
}

#[tokio::test]
async fn the_final_body_is_written_again_when_a_late_edit_overwrote_it() {
    let github = FakeGitHub::start().await;
    let h = header();
    let (started, working, done) = bodies(&h);
    let tracking = TrackingComment::open(client(&github), Place::Issue(1), &started, brief()).await;
    let id = tracking.comment().expect("created").id;
    // The read-back is slow; meanwhile an edit GitHub had kept back lands over the final one.
    github.delay_next(Delay::applied_late(
        &format!("GET {COMMENTS}"),
        1,
        Duration::from_secs(1),
    ));
    let finishing = {
        let done = done.clone();
        tokio::spawn(async move { tracking.finish(&done, brief()).await })
    };
    assert!(
        github
            .wait_for(
                |rs| rs
                    .iter()
                    .any(|r| r.method == "GET" && r.path.starts_with(COMMENTS)),
                Duration::from_secs(10)
            )
            .await
    );
    assert_eq!(github.comment(id).expect("comment").body, done);
    github.edit_comment(id, |c| c.body = working.clone());
    let finished = finishing.await.expect("task");
    assert_eq!(finished.map(|c| c.id), Some(id));
    assert_eq!(github.comment(id).expect("comment").body, done);
    assert_eq!(
        github.history(id).last(),
        Some(&CommentWrite::Edited(done.clone()))
    );
    let patches = github
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 2, "the final edit and its repetition");
}

#[tokio::test]
async fn a_comment_stored_behind_lost_answers_is_adopted_by_the_final_write() {
    let github = FakeGitHub::start().await;
    let h = header();
    let (started, _, done) = bodies(&h);
    let create = format!("POST {COMMENTS}");
    // GitHub stores the first comment but answers 502; every lookup and repost fails after.
    github.fail_next(Fault::new(&create, 1, 502, "Server Error").after_applying());
    github.fail_next(Fault::new(
        &format!("GET {COMMENTS}"),
        100,
        502,
        "Server Error",
    ));
    github.fail_next(Fault::new(&create, 100, 503, "Service Unavailable"));
    let tracking = TrackingComment::open(client(&github), Place::Issue(1), &started, brief()).await;
    assert_eq!(
        tracking.comment(),
        None,
        "the creation failed as far as the run knows"
    );
    let stored = github.comments_on(1);
    assert_eq!(stored.len(), 1, "{stored:?}");
    github.clear_faults();
    let finished = tracking.finish(&done, brief()).await;
    assert_eq!(finished.map(|c| c.id), Some(stored[0].id), "adopted");
    let now = github.comments_on(1);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0].body, done);
}

#[tokio::test]
async fn copies_of_the_runs_comment_are_deleted_and_others_left_alone() {
    let github = FakeGitHub::start().await;
    let h = header();
    let (started, _, done) = bodies(&h);
    let tracking = TrackingComment::open(client(&github), Place::Issue(1), &started, brief()).await;
    let id = tracking.comment().expect("created").id;
    // A copy GitHub applied late, and another run's comment.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let copy = github.add_comment(1, fake_github::BOT_LOGIN, &started, &now);
    let other = github.add_comment(1, fake_github::BOT_LOGIN, &bodies(&header()).0, &now);
    tracking.finish(&done, brief()).await.expect("finished");
    assert!(github.comment(copy).is_none(), "the copy is deleted");
    assert_eq!(github.comment(id).expect("ours").body, done);
    assert!(
        github.comment(other).is_some(),
        "another run's comment stays"
    );
}
