//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
pub mod coworker;
pub mod fake_github;
pub mod fake_model;
pub mod harness;
