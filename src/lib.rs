//! coworker: runs a coding agent for GitHub issues and pull requests.
pub mod app;
pub mod secret;
pub mod session;
