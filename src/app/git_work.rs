//! Wires the run's git side: readies the workspace before the agent and delivers its work
//! after, printing in workflow groups what `workspace::run_branch` reports.
use super::prepare::Prepared;
use crate::context::Context;
use crate::report::workflow;
use crate::workspace::deliver::DeliveryReport;
use crate::workspace::run_branch::{self, GitStart, GitWork, Handover, LogLine};

/// Readies the checkout for the run's branch, or says why git is left alone.
pub(super) async fn start(p: &Prepared, context: &Context) -> GitStart {
    let remote = run_branch::remote(
        &p.job.server_url,
        p.job.repository.as_ref(),
        p.settings.github_token.clone(),
    );
    let started =
        run_branch::start(&p.job.workspace, &p.settings, &p.decision, context, remote).await;
    if let GitStart::Ready(work) = &started {
        workflow::group("coworker: workspace");
        for line in work.describe() {
            println!("{line}");
        }
        workflow::end_group();
    }
    started
}

/// Commits, pushes and opens or updates the pull request, logging what happened.
pub(super) async fn finish(p: &Prepared, work: &GitWork, h: Handover<'_>) -> DeliveryReport {
    workflow::group("coworker: delivery");
    let report = work.finish(&p.settings, &p.job.temp_dir, h).await;
    for line in run_branch::delivery_log(&report) {
        match line {
            LogLine::Info(l) => println!("{l}"),
            LogLine::Untrusted(l) => workflow::echo_untrusted(&l),
            LogLine::Error(l) => workflow::error(&l),
        }
    }
    workflow::end_group();
    report
}
