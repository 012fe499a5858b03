//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
pub mod fake_git_data;
pub mod session_fake_model;
