//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
mod act_action;
mod fake_model_cli;
mod graphql_schema;
mod obtain_binary;
mod plan_cli;
mod proxy_anthropic;
mod proxy_cli;
mod proxy_errors;
mod proxy_openai;
mod proxy_sap;
mod run_e2e;
mod run_gateway;
mod run_secrets;
mod support;
mod workspace_deliver;
mod workspace_git;
mod workspace_verify;
