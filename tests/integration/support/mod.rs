//! Shared test harness: fake servers and helpers.
#![allow(dead_code)]
