//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
pub mod fake_model;
pub mod harness;
