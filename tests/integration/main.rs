//! One integration-test binary: fakes on loopback, the real binary and the real Claude Code CLI.
mod proxy_anthropic;
mod support;
