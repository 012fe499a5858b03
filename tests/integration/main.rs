//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
mod fake_model_cli;
mod support;
