//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
pub mod coworker;
pub mod fake_aws;
pub mod fake_forward_proxy;
pub mod fake_git_data;
pub mod fake_git_http;
pub mod fake_github;
pub mod fake_model;
pub mod fake_openai;
pub mod fake_release;
pub mod fake_sap;
pub mod fake_vertex;
pub mod git_fixture;
pub mod harness;
pub mod proxy_harness;
pub mod rng;
pub mod run_as;
pub mod scripted_turn;
pub mod serve;
pub mod sigv4_check;
pub mod tls;
