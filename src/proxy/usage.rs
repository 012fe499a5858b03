//! Token usage per request, summed for the run, and the optional token budget.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;

/// Tokens of one model call, in Anthropic's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Reads the usage object of a message (`message_start.message.usage`, a non-streamed
    /// message's `usage`); missing fields keep their current values.
    pub fn merge_json(&mut self, usage: &Value) {
        let get = |k: &str| usage.get(k).and_then(Value::as_u64);
        if let Some(v) = get("input_tokens") {
            self.input_tokens = v;
        }
        if let Some(v) = get("output_tokens") {
            self.output_tokens = v;
        }
        if let Some(v) = get("cache_creation_input_tokens") {
            self.cache_creation_input_tokens = v;
        }
        if let Some(v) = get("cache_read_input_tokens") {
            self.cache_read_input_tokens = v;
        }
    }

    /// Every token the call processed; this is what the budget counts.
    pub fn total(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
    }

    /// Updates from one Anthropic stream event (only `message_start`/`message_delta` carry usage).
    pub fn observe_event(&mut self, event: &Value) {
        match event.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(u) = event.pointer("/message/usage") {
                    self.merge_json(u);
                }
            }
            Some("message_delta") => {
                if let Some(u) = event.get("usage") {
                    self.merge_json(u);
                }
            }
            _ => {}
        }
    }
}

/// Sums for the whole run, reported by `coworker run`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    /// Model calls that the upstream answered with success.
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

/// Lock-free counters shared by all request handlers.
#[derive(Debug, Default)]
pub struct Meter {
    requests: AtomicU64,
    input: AtomicU64,
    output: AtomicU64,
    cache_creation: AtomicU64,
    cache_read: AtomicU64,
    budget: Option<u64>,
    refused: AtomicBool,
}

impl Meter {
    pub fn new(budget: Option<u64>) -> Arc<Meter> {
        Arc::new(Meter {
            budget,
            ..Meter::default()
        })
    }

    pub fn record(&self, u: &Usage) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.input.fetch_add(u.input_tokens, Ordering::Relaxed);
        self.output.fetch_add(u.output_tokens, Ordering::Relaxed);
        self.cache_creation
            .fetch_add(u.cache_creation_input_tokens, Ordering::Relaxed);
        self.cache_read
            .fetch_add(u.cache_read_input_tokens, Ordering::Relaxed);
    }

    pub fn totals(&self) -> UsageTotals {
        UsageTotals {
            requests: self.requests.load(Ordering::Relaxed),
            input_tokens: self.input.load(Ordering::Relaxed),
            output_tokens: self.output.load(Ordering::Relaxed),
            cache_creation_input_tokens: self.cache_creation.load(Ordering::Relaxed),
            cache_read_input_tokens: self.cache_read.load(Ordering::Relaxed),
        }
    }

    pub fn tokens_used(&self) -> u64 {
        let t = self.totals();
        t.input_tokens + t.output_tokens + t.cache_creation_input_tokens + t.cache_read_input_tokens
    }

    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// `Err((used, budget))` once the budget is spent; the call must then be refused.
    pub fn admit(&self) -> Result<(), (u64, u64)> {
        match self.budget {
            Some(budget) => {
                let used = self.tokens_used();
                if used >= budget {
                    self.refused.store(true, Ordering::Relaxed);
                    Err((used, budget))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    /// True once the budget is spent (whether or not a call was refused yet).
    pub fn exhausted(&self) -> bool {
        self.refused.load(Ordering::Relaxed) || self.budget.is_some_and(|b| self.tokens_used() >= b)
    }
}

/// Records a call's usage exactly once: at the end of its stream, or when the client goes away.
#[derive(Debug)]
pub struct UsageRecorder {
    meter: Arc<Meter>,
    pub usage: Usage,
    done: bool,
}

impl UsageRecorder {
    pub fn new(meter: Arc<Meter>) -> Self {
        UsageRecorder {
            meter,
            usage: Usage::default(),
            done: false,
        }
    }

    pub fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.meter.record(&self.usage);
        }
    }
}

impl Drop for UsageRecorder {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stream_events_and_budget() {
        let meter = Meter::new(Some(100));
        let mut rec = UsageRecorder::new(meter.clone());
        rec.usage.observe_event(&json!({"type":"message_start","message":{"usage":{"input_tokens":40,"output_tokens":1,"cache_read_input_tokens":20}}}));
        rec.usage
            .observe_event(&json!({"type":"message_delta","usage":{"output_tokens":39}}));
        assert!(meter.admit().is_ok());
        drop(rec);
        let t = meter.totals();
        assert_eq!(
            (
                t.requests,
                t.input_tokens,
                t.output_tokens,
                t.cache_read_input_tokens
            ),
            (1, 40, 39, 20)
        );
        assert!(meter.admit().is_ok(), "99 of 100 used");
        meter.record(&Usage {
            output_tokens: 1,
            ..Usage::default()
        });
        assert_eq!(meter.admit(), Err((100, 100)));
        assert!(meter.exhausted());
    }
}
