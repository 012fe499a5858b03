//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
pub mod fake_anthropic_upstream;
pub mod fake_openai;
pub mod fake_sap;
pub mod proxy_harness;
pub mod scripted_turn;
