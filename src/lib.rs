//! coworker: runs a coding agent for GitHub issues and pull requests.
pub mod agent;
pub mod app;
pub mod cli;
pub mod context;
pub mod event;
pub mod github;
pub mod inputs;
pub mod outcome;
pub mod prompt;
pub mod proxy;
pub mod report;
pub mod secret;
pub mod session;
pub mod tls;
pub mod trigger;
