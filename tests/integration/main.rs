//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
mod session_resume_cli;
mod session_store;
mod support;
