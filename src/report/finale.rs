//! The Report step of an Action run, from its first word to its last: the tracking comment
//! opened when the work starts (on the issue, the pull request or the review thread the request
//! came from), shown as the rounds' progress surface, rewritten into its final state whatever
//! ended the run; the step outputs and the Markdown step summary; the `::error::` line.
use super::comment::{CommentHeader, render_final, render_started};
use super::surface::{CommentSurface, Surface};
use super::tracking::{Place, TrackingComment};
use super::{outputs, summary};
use crate::github::{CommentRef, GitHub, RetryPolicy};
use crate::outcome::{Conclusion, Outcome};
use crate::trigger::{Decision, RequestSource};
use crate::workflow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the final report needs besides the outcome.
#[derive(Default)]
pub struct Finale {
    /// The tracking comment's writer, from its creation to the final edit.
    tracking: Option<TrackingComment>,
    comment: Option<CommentRef>,
    pub header: CommentHeader,
    /// Where the agent's transcript is written (an output).
    pub execution_file: Option<PathBuf>,
    /// Facts for the final comment beside duration, turns and cost (branch, pull request).
    pub rows: Vec<(String, String)>,
}

/// Where the step outputs and the step summary go (the runner's files), if anywhere.
pub struct JobFiles<'a> {
    pub output_file: Option<&'a Path>,
    pub summary_file: Option<&'a Path>,
}

impl Finale {
    /// The tracking comment, when there is one to edit, as the rounds' progress surface.
    pub fn surface(&self) -> Option<Arc<dyn Surface>> {
        let sink = self.tracking.as_ref().and_then(TrackingComment::progress)?;
        Some(Arc::new(CommentSurface {
            sink,
            header: self.header.clone(),
        }))
    }

    /// The tracking comment's id, once it exists.
    pub fn comment(&self) -> Option<CommentRef> {
        self.comment
    }

    /// Opens the tracking comment where the request was made: the review thread it came
    /// from, else the issue or pull request.
    pub async fn open(&mut self, github: &GitHub, d: &Decision, run_url: Option<String>) {
        self.header = CommentHeader {
            agent_name: "Claude".into(),
            actor: d.actor.clone(),
            run_url,
            request_url: d.request.as_ref().and_then(|r| r.url.clone()),
            notes: Vec::new(),
            run_key: super::comment::new_run_key(),
        };
        if let Some(place) = tracking_place(d) {
            let started_body = render_started(&self.header);
            let tracking =
                TrackingComment::open(github.clone(), place, &started_body, RetryPolicy::quick())
                    .await;
            self.comment = tracking.comment();
            self.tracking = Some(tracking);
        }
    }

    /// Rewrites the tracking comment into its final state, creating it if that failed earlier
    /// (a skipped run that never posted stays silent); `policy` is quick after a cancellation,
    /// patient otherwise. A comment created only now gets its `comment_id` output.
    pub async fn finish_comment(
        &mut self,
        outcome: &Outcome,
        policy: RetryPolicy,
        output_file: Option<&Path>,
    ) {
        let Some(tracking) = self.tracking.take() else {
            return;
        };
        if outcome.conclusion == Conclusion::Skipped && self.comment.is_none() {
            return;
        }
        let had_comment = self.comment.is_some();
        let body = render_final(
            &self.header,
            outcome,
            &summary::outcome_rows(outcome, &self.rows),
        );
        self.comment = tracking.finish(&body, policy).await;
        if let (false, Some(c), Some(path)) = (had_comment, self.comment, output_file)
            && let Err(e) = outputs::write_outputs(path, &[("comment_id", c.id.to_string())])
        {
            workflow::warning(&format!("cannot write the comment_id output: {e}"));
        }
    }

    /// The step outputs (or log lines outside Actions) and the step summary.
    pub fn write_job_files(&self, files: &JobFiles<'_>, outcome: &Outcome) {
        let values = outputs::run_outputs(outcome, self.comment.map(|c| c.id));
        match files.output_file {
            Some(path) => {
                if let Err(e) = outputs::write_outputs(path, &values) {
                    workflow::error(&format!("cannot write outputs to {}: {e}", path.display()));
                }
            }
            None => {
                for (k, v) in &values {
                    workflow::log(&format!("output {k}={v}"));
                }
            }
        }
        if let Some(path) = files.summary_file {
            let md = summary::render(
                "coworker",
                outcome,
                &summary::outcome_rows(outcome, &self.rows),
            );
            if let Err(e) = summary::append(path, &md) {
                workflow::warning(&format!("cannot write the step summary: {e}"));
            }
        }
    }
}

/// Where the tracking comment goes: the review thread the request came from, else the issue
/// or pull request; nowhere when the run has no target.
fn tracking_place(d: &Decision) -> Option<Place> {
    let target = d.target?;
    match d.request.as_ref().map(|r| &r.source) {
        Some(RequestSource::ReviewComment { thread_root, .. }) => Some(Place::ReviewThread {
            pr: target.number,
            root: *thread_root,
        }),
        _ => Some(Place::Issue(target.number)),
    }
}

/// The `::error::` line for a run that neither succeeded nor was skipped.
pub fn annotate(outcome: &Outcome) {
    match outcome.conclusion {
        Conclusion::Success | Conclusion::Skipped => {}
        _ => workflow::error(&format!(
            "coworker: {}: {}",
            outcome.conclusion.as_str(),
            outcome.reason
        )),
    }
}

/// The 👀 reaction on the request (comment, review, issue), sent alongside the agent's start.
pub async fn react_to_request(github: GitHub, d: Decision) {
    let target = crate::trigger::reaction_target(&d);
    if let Some(target) = target
        && let Err(e) = github.add_reaction(target, "eyes").await
    {
        workflow::warning(&format!("could not add the 👀 reaction: {e}"));
    }
}
