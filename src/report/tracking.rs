//! The tracking comment's one writer. The comment is what people read and the lock other runs
//! respect, so what it says last must be the run's outcome:
//!
//! - **One comment per run.** Every body carries the run's key in its marker; a creation whose
//!   answer was lost (5xx, dropped connection, timeout) is looked up by that key before it is
//!   sent again, the final write adopts a comment stored behind a lost answer instead of posting
//!   another, and any other comment with the key found at the end is deleted.
//! - **Ordered edits.** Progress edits go through one task, one edit in flight at a time, newest
//!   body wins. [`TrackingComment::finish`] closes that task and waits for the edit it may have
//!   in flight to come back before it writes the final body, so no progress edit is sent after
//!   the final one: by construction, not by timing.
//! - **Read back.** GitHub can apply requests out of order (an edit whose answer never came may
//!   land late), so after the final edit the comment is read back once and the final body sent
//!   again if it differs.
use crate::github::{CommentKind, CommentRef, GitHub, GitHubError, IssueComment, RetryPolicy};
use crate::redact::Redacted;
use crate::report::comment::parse_marker;
use crate::workflow;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Minimum time between two progress edits (`COWORKER_PROGRESS_INTERVAL_MS`, default 3000).
#[expect(
    clippy::disallowed_methods,
    reason = "COWORKER_PROGRESS_INTERVAL_MS, a test knob read at its one place"
)]
pub fn progress_interval() -> Duration {
    Duration::from_millis(
        std::env::var("COWORKER_PROGRESS_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    )
}

/// How far before the run's start a lookup of its own comments reaches: GitHub's clock may run
/// behind ours.
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// Where the tracking comment lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The issue's or pull request's conversation.
    Issue(u64),
    /// A reply in a review thread whose first comment is `root`.
    ReviewThread { pr: u64, root: u64 },
}

/// The run's tracking comment and the task that edits it while the agent works.
pub struct TrackingComment {
    github: GitHub,
    place: Place,
    /// The run key of the marker every body of this run carries.
    key: String,
    opened_at: DateTime<Utc>,
    comment: Option<CommentRef>,
    writer: Option<Writer>,
}

struct Writer {
    progress: watch::Sender<Option<Redacted>>,
    close: CancellationToken,
    task: JoinHandle<()>,
}

/// Where a round shows its progress: hands the newest body to the writer, never writes itself.
#[derive(Clone)]
pub struct ProgressSink(watch::Sender<Option<Redacted>>);

impl ProgressSink {
    /// Replaces the body waiting to be written (an older one not yet sent is dropped); it is
    /// redacted here, so nothing the agent printed reaches GitHub unfiltered.
    pub fn show(&self, body: String) {
        self.0.send_replace(Some(crate::redact::redact(&body)));
    }
}

impl TrackingComment {
    /// Posts `body` (which must carry the run's key in its marker) at `place`, trying as hard
    /// as `policy` says. A failure is logged and left to [`Self::finish`], which looks for the
    /// comment before posting again.
    pub async fn open(github: GitHub, place: Place, body: &str, policy: RetryPolicy) -> Self {
        let body = &crate::redact::redact(body);
        let key = parse_marker(body.as_str())
            .and_then(|m| m.key)
            .unwrap_or_default()
            .to_string();
        let mut tracking = Self {
            github,
            place,
            key,
            opened_at: Utc::now(),
            comment: None,
            writer: None,
        };
        match tracking.create(body, policy).await {
            Ok(c) => tracking.start_writer(c),
            Err(e) => workflow::warning(&format!(
                "could not create the tracking comment (will retry at the end): {e}"
            )),
        }
        tracking
    }

    /// The comment, once created.
    pub fn comment(&self) -> Option<CommentRef> {
        self.comment
    }

    /// Where progress goes; None while there is no comment to edit.
    pub fn progress(&self) -> Option<ProgressSink> {
        self.writer
            .as_ref()
            .map(|w| ProgressSink(w.progress.clone()))
    }

    fn start_writer(&mut self, comment: CommentRef) {
        self.comment = Some(comment);
        let (tx, rx) = watch::channel(None);
        let close = CancellationToken::new();
        let task = tokio::spawn(write_progress(
            self.github.clone(),
            comment,
            rx,
            close.clone(),
            progress_interval(),
        ));
        self.writer = Some(Writer {
            progress: tx,
            close,
            task,
        });
    }

    /// Writes the final `body` as the comment's last state and returns the comment (None when
    /// GitHub could not be brought to store it; the error is logged).
    pub async fn finish(mut self, body: &str, policy: RetryPolicy) -> Option<CommentRef> {
        let body = &crate::redact::redact(body);
        if let Some(w) = self.writer.take() {
            // No new progress edit starts after this; one in flight is waited for, so its
            // answer is in before the final edit is sent.
            w.close.cancel();
            let _ = w.task.await;
        }
        let comment = match self.write_final(body, policy).await {
            Ok(c) => c,
            Err(e) => {
                workflow::error(&format!("could not write the final tracking comment: {e}"));
                return None;
            }
        };
        self.read_back(comment, body, policy).await;
        Some(comment)
    }

    async fn write_final(
        &self,
        body: &Redacted,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        let known = match self.comment {
            Some(c) => Some(c),
            // Created after all, behind an answer that was lost? Adopt it.
            None => self.own_comments().await.ok().and_then(|own| {
                own.last().map(|c| CommentRef {
                    id: c.id,
                    kind: self.kind(),
                })
            }),
        };
        if let Some(c) = known {
            match self.github.update_comment(c, body, policy).await {
                Ok(()) => return Ok(c),
                // Deleted by someone meanwhile: post it again.
                Err(e) if e.status() == Some(404) => {}
                // The final state is the comment's last write: one refusal the client does not
                // retry (GitHub's secondary rate limit answers 403) gets one more attempt
                // rather than leaving the comment "working".
                Err(first) => {
                    tokio::time::sleep(crate::github::http::backoff(2, policy)).await;
                    match self.github.update_comment(c, body, policy).await {
                        Ok(()) => return Ok(c),
                        Err(e) if e.status() == Some(404) => {}
                        Err(_) => return Err(first),
                    }
                }
            }
        }
        self.create(body, policy).await
    }

    /// Reads the comments of this run back once: the final one re-sent when a late edit
    /// overwrote it, any other comment of the run (a creation GitHub applied behind a lost
    /// answer) deleted, or failing that, given the final body too.
    #[expect(clippy::print_stdout, reason = "log lines of the repair it makes")]
    async fn read_back(&self, comment: CommentRef, body: &Redacted, policy: RetryPolicy) {
        let own = match self.own_comments().await {
            Ok(own) => own,
            Err(e) => {
                workflow::warning(&format!("could not read the tracking comment back: {e}"));
                return;
            }
        };
        match own.iter().find(|c| c.id == comment.id) {
            Some(c) if same_text(&c.body, body.as_str()) => {}
            Some(_) => {
                println!(
                    "coworker: the tracking comment changed after its final edit (a late edit landed); writing the final state again"
                );
                if let Err(e) = self.github.update_comment(comment, body, policy).await {
                    workflow::error(&format!(
                        "could not restore the final tracking comment: {e}"
                    ));
                }
            }
            None => workflow::warning(
                "the tracking comment was not among the issue's recent comments when read back",
            ),
        }
        for extra in own.iter().filter(|c| c.id != comment.id) {
            let duplicate = CommentRef {
                id: extra.id,
                kind: self.kind(),
            };
            println!(
                "coworker: deleting comment {} (a second copy of this run's tracking comment GitHub stored behind a lost answer)",
                extra.id
            );
            if let Err(e) = self
                .github
                .delete_comment(duplicate, RetryPolicy::quick())
                .await
            {
                workflow::warning(&format!(
                    "could not delete the duplicate tracking comment {}: {e}; giving it the final state instead",
                    extra.id
                ));
                let _ = self.github.update_comment(duplicate, body, policy).await;
            }
        }
    }

    async fn create(
        &self,
        body: &Redacted,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        match self.place {
            Place::Issue(n) => self.github.create_issue_comment(n, body, policy).await,
            Place::ReviewThread { pr, root } => {
                self.github
                    .reply_to_review_comment(pr, root, body, policy)
                    .await
            }
        }
    }

    fn kind(&self) -> CommentKind {
        match self.place {
            Place::Issue(_) => CommentKind::Issue,
            Place::ReviewThread { .. } => CommentKind::Review,
        }
    }

    /// This run's comments at its place (those whose marker carries its key), oldest first.
    async fn own_comments(&self) -> Result<Vec<IssueComment>, GitHubError> {
        if self.key.is_empty() {
            // Without a key nothing can be told apart; only the comment we hold is ours.
            return Ok(Vec::new());
        }
        let since =
            (self.opened_at - CLOCK_MARGIN).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let all = match self.place {
            Place::Issue(n) => self.github.list_issue_comments(n, Some(&since)).await?,
            Place::ReviewThread { pr, .. } => {
                self.github.list_review_comments(pr, Some(&since)).await?
            }
        };
        Ok(all
            .into_iter()
            .filter(|c| parse_marker(&c.body).and_then(|m| m.key) == Some(self.key.as_str()))
            .collect())
    }
}

/// Whether GitHub holds `sent` (it may normalise line ends and trailing space).
fn same_text(stored: &str, sent: &str) -> bool {
    stored.replace("\r\n", "\n").trim_end() == sent.replace("\r\n", "\n").trim_end()
}

/// The progress writer: one edit in flight at most, the newest body wins, at most one edit per
/// `interval`. Returns when `close` is cancelled, only ever between two edits.
async fn write_progress(
    github: GitHub,
    comment: CommentRef,
    mut rx: watch::Receiver<Option<Redacted>>,
    close: CancellationToken,
    interval: Duration,
) {
    let mut last: Option<Redacted> = None;
    loop {
        tokio::select! {
            biased;
            () = close.cancelled() => return,
            changed = rx.changed() => if changed.is_err() { return },
        }
        let Some(body) = rx.borrow_and_update().clone() else {
            continue;
        };
        if last.as_ref() == Some(&body) {
            continue;
        }
        // Not raced against `close`: dropping a sent request would not stop GitHub from
        // applying it, so the final edit waits for this answer instead.
        if let Err(e) = github
            .update_comment(comment, &body, RetryPolicy::once())
            .await
        {
            workflow::warning(&format!("progress update skipped: {e}"));
        }
        last = Some(body);
        tokio::select! {
            () = close.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_compares_without_line_end_noise() {
        assert!(same_text("a\r\nb\n", "a\nb"));
        assert!(!same_text(
            "**Claude is working…**",
            "✅ **Claude finished**"
        ));
    }
}
