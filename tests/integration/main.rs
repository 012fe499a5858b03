//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "test diagnostics go to the test's own output; tests read the environment of the processes they drive"
)]
mod act_action;
mod campaign;
mod dist;
mod examples;
mod fake_model_cli;
mod graphql_schema;
mod lint_cli;
mod local_cli;
mod log_commands;
mod module_graph;
mod msrv;
mod obtain_binary;
mod obtain_claude;
mod plan_cli;
mod proxy_anthropic;
mod proxy_cli;
mod proxy_errors;
mod proxy_openai;
mod proxy_sap;
mod red_team;
mod release_workflow;
mod run_context;
mod run_deliver;
mod run_e2e;
mod run_gateway;
mod run_git_retries;
mod run_isolation;
mod run_pipeline_defects;
mod run_providers;
mod run_secrets;
mod run_sessions;
mod run_tracking_comment;
mod session_resume_cli;
mod session_store;
mod support;
mod tracking_comment;
mod workspace_deliver;
mod workspace_git;
mod workspace_secret_scan;
mod workspace_verify;
