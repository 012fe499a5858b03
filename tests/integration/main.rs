//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
mod proxy_anthropic;
mod proxy_cli;
mod proxy_errors;
mod proxy_openai;
mod proxy_sap;
mod support;
