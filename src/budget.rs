//! Run budgets: the cost cap coworker watches itself by pricing the usage each assistant message
//! reports in the stream. (The turn limit is an argument of Claude Code: `agent::turns`.)
pub mod caps;

use crate::proxy::usage::Usage;
use std::collections::HashMap;

/// The turn cap when `max_turns` is not set. A fix or a review takes Claude Code 10 to 40 turns;
/// 50 leaves room for a verify round and stops a loop long before the 30-minute timeout.
pub const DEFAULT_MAX_TURNS: u32 = 50;
/// The cost cap when `max_cost_usd` is not set: 50 turns of Sonnet with a large context cost
/// 1-3 USD, so 5 USD lets a normal run finish and bounds a runaway (or an Opus run) per request.
pub const DEFAULT_MAX_COST_USD: f64 = 5.0;

/// The caps in force, for the comment and the summary: "50 turns, $5.00, 30 min, tokens unlimited".
pub fn describe_limits(
    max_turns: Option<u32>,
    max_cost_usd: Option<f64>,
    timeout: std::time::Duration,
    max_tokens_total: Option<u64>,
) -> String {
    let turns = max_turns.map_or("turns unlimited".to_string(), |n| format!("{n} turns"));
    let cost = max_cost_usd.map_or("cost unlimited".to_string(), |c| format!("${c:.2}"));
    let tokens = max_tokens_total.map_or("tokens unlimited".to_string(), |t| format!("{t} tokens"));
    let minutes = timeout.as_secs().div_ceil(60);
    format!("{turns}, {cost}, {minutes} min, {tokens}")
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

impl Price {
    /// Anthropic's scheme: 5-minute cache writes cost 1.25× input, cache reads 0.1×.
    const fn new(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            cache_write: input * 1.25,
            cache_read: input * 0.1,
        }
    }

    pub fn cost(&self, u: &Usage) -> f64 {
        let m = |tokens: u64, per_million: f64| tokens as f64 * per_million / 1_000_000.0;
        m(u.input_tokens, self.input)
            + m(u.output_tokens, self.output)
            + m(u.cache_creation_input_tokens, self.cache_write)
            + m(u.cache_read_input_tokens, self.cache_read)
    }
}

/// List prices by model-name fragment, most specific first (published Anthropic prices).
const PRICES: [(&str, Price); 11] = [
    ("opus-4-5", Price::new(5.0, 25.0)),
    ("opus-4-6", Price::new(5.0, 25.0)),
    ("opus-4-7", Price::new(5.0, 25.0)),
    ("opus-4-8", Price::new(5.0, 25.0)),
    ("opus", Price::new(15.0, 75.0)),
    ("sonnet", Price::new(3.0, 15.0)),
    ("haiku-4", Price::new(1.0, 5.0)),
    ("3-5-haiku", Price::new(0.8, 4.0)),
    ("haiku-3-5", Price::new(0.8, 4.0)),
    ("3-haiku", Price::new(0.25, 1.25)),
    ("haiku", Price::new(1.0, 5.0)),
];

/// What an unknown model is charged at: the dearest known price, so a cap errs on the safe side.
pub const UNKNOWN_MODEL_PRICE: Price = Price::new(15.0, 75.0);

/// The price of `model` (Anthropic, Bedrock or Vertex spelling), and whether it was known.
pub fn price_of(model: &str) -> (Price, bool) {
    let m = model.to_ascii_lowercase().replace(['.', '_', '@'], "-");
    PRICES
        .iter()
        .find(|(frag, _)| m.contains(frag))
        .map_or((UNKNOWN_MODEL_PRICE, false), |(_, p)| (*p, true))
}

/// Prices the agent's stream line by line. Claude Code prints one assistant line per content
/// block, each repeating its message's usage, so usage is kept per message id, latest wins.
#[derive(Debug, Clone, Default)]
pub struct CostMeter {
    messages: HashMap<String, (String, Usage)>,
    anonymous: f64,
    /// Models seen that are not in the price table.
    pub unknown_models: Vec<String>,
}

impl CostMeter {
    /// Counts the usage an assistant message reports (the stream's lines are parsed once, by
    /// `agent::stream`); returns the running estimate. Lines of one message repeat its usage:
    /// with an id, the latest wins.
    pub fn observe(&mut self, message_id: Option<&str>, model: &str, usage: Usage) -> f64 {
        let price = self.price(model);
        match message_id {
            Some(id) => {
                self.messages
                    .insert(id.to_string(), (model.to_string(), usage));
            }
            None => self.anonymous += price.cost(&usage),
        }
        self.total_usd()
    }

    fn price(&mut self, model: &str) -> Price {
        let (p, known) = price_of(model);
        if !known && !model.is_empty() && !self.unknown_models.iter().any(|m| m == model) {
            self.unknown_models.push(model.to_string());
        }
        p
    }

    /// The estimated cost so far.
    pub fn total_usd(&self) -> f64 {
        self.anonymous
            + self
                .messages
                .values()
                .map(|(model, u)| price_of(model).0.cost(u))
                .sum::<f64>()
    }

    /// True once the estimate has passed `cap` (a cap of None never trips).
    pub fn exceeded(&self, cap: Option<f64>) -> bool {
        cap.is_some_and(|c| self.total_usd() > c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_one_line() {
        let d = std::time::Duration::from_secs(30 * 60);
        assert_eq!(
            describe_limits(Some(50), Some(5.0), d, None),
            "50 turns, $5.00, 30 min, tokens unlimited"
        );
        assert_eq!(
            describe_limits(None, None, d, Some(1000)),
            "turns unlimited, cost unlimited, 30 min, 1000 tokens"
        );
    }

    /// Feeds a stream line the way the runner does: parsed once by `agent::stream`.
    trait ApplyLine {
        fn apply_line(&mut self, line: &str) -> Option<f64>;
    }

    impl ApplyLine for CostMeter {
        fn apply_line(&mut self, line: &str) -> Option<f64> {
            let parsed = crate::agent::stream::Parsed::line(line);
            let (id, model, usage) = parsed.event()?.priced_usage()?;
            Some(self.observe(id, model, usage))
        }
    }

    fn line(id: &str, model: &str, input: u64, output: u64, cache_read: u64) -> String {
        serde_json::json!({
            "type": "assistant",
            "message": {"id": id, "model": model, "role": "assistant", "content": [],
                "usage": {"input_tokens": input, "output_tokens": output,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": cache_read}},
            "session_id": "s"
        })
        .to_string()
    }

    #[test]
    fn prices_follow_the_model_family() {
        assert_eq!(price_of("claude-sonnet-4-5-20250929").0.input, 3.0);
        assert_eq!(price_of("claude-opus-4-1-20250805").0.output, 75.0);
        assert_eq!(price_of("claude-opus-4-5").0.output, 25.0);
        assert_eq!(price_of("claude-haiku-4-5").0.input, 1.0);
        assert_eq!(price_of("claude-3-5-haiku-20241022").0.input, 0.8);
        assert_eq!(
            price_of("anthropic.claude-3-haiku-20240307-v1:0").0.input,
            0.25
        );
        assert_eq!(price_of("claude-sonnet-4@20250514").0.input, 3.0);
        let (p, known) = price_of("gpt-4o");
        assert!(!known);
        assert_eq!(p, UNKNOWN_MODEL_PRICE);
    }

    #[test]
    fn repeated_lines_of_one_message_count_once() {
        let mut m = CostMeter::default();
        // 1M input + 100k output on sonnet: $3 + $1.5
        m.apply_line(&line("msg_1", "claude-sonnet-4-5", 1_000_000, 1, 0));
        m.apply_line(&line("msg_1", "claude-sonnet-4-5", 1_000_000, 100_000, 0));
        assert!((m.total_usd() - 4.5).abs() < 1e-9, "{}", m.total_usd());
        // cache reads at a tenth of the input price
        m.apply_line(&line("msg_2", "claude-sonnet-4-5", 0, 0, 1_000_000));
        assert!((m.total_usd() - 4.8).abs() < 1e-9, "{}", m.total_usd());
        assert!(m.exceeded(Some(4.0)));
        assert!(!m.exceeded(Some(5.0)));
        assert!(!m.exceeded(None));
    }

    #[test]
    fn other_lines_and_garbage_change_nothing() {
        let mut m = CostMeter::default();
        assert_eq!(m.apply_line("not json"), None);
        assert_eq!(
            m.apply_line(r#"{"type":"user","message":{"usage":{"input_tokens":5}}}"#),
            None
        );
        assert_eq!(m.apply_line(r#"{"type":"assistant","message":{}}"#), None);
        assert_eq!(m.total_usd(), 0.0);
        m.apply_line(&line("m", "mystery-model", 1_000_000, 0, 0));
        assert_eq!(m.unknown_models, vec!["mystery-model".to_string()]);
        assert!((m.total_usd() - 15.0).abs() < 1e-9);
    }
}
