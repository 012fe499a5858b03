//! coworker: runs a coding agent for GitHub issues and pull requests.
// What is `pub` is reachable from the crate root (the integration tests' view of the crate);
// a helper private to its module says so with `pub(crate)` or less. Test binaries are exempt.
#![warn(unreachable_pub)]
pub mod agent;
#[expect(
    clippy::print_stdout,
    reason = "the agent stage writes its log lines (isolation in force, proxy listening, verify output)"
)]
pub mod agent_run;
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "app wires the commands and writes their log lines and results"
)]
pub mod app;
pub mod budget;
#[expect(
    clippy::disallowed_methods,
    reason = "a usage error names the variable at fault, as clap read it"
)]
pub mod cli;
pub mod context;
pub mod event;
pub mod github;
#[expect(
    clippy::disallowed_methods,
    reason = "inputs is where the environment is read"
)]
pub mod inputs;
pub mod isolation;
pub mod lenient;
pub mod lint;
#[expect(
    clippy::print_stdout,
    reason = "`coworker local` prints its report on the terminal (local::view)"
)]
pub mod local;
pub mod markdown;
pub mod net;
pub mod outcome;
pub mod prompt;
pub mod proxy;
pub mod pull_request;
pub mod redact;
pub mod report;
pub mod secret;
pub mod session;
pub mod tls;
pub mod trigger;
pub mod verify;
#[expect(
    clippy::print_stdout,
    reason = "workflow commands are lines on stdout, read by the runner"
)]
pub mod workflow;
pub mod workspace;
