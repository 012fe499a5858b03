//! The one backoff policy: exponential steps from a first delay up to a cap, with jitter so that
//! parallel callers do not retry in lockstep.
use std::time::Duration;

/// Where in the step a jittered wait lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Between half the step and the full step (the model proxy: spreads parallel agent calls).
    Lower,
    /// Between the full step and a quarter more (GitHub: never shorter than the step asked for).
    Upper,
}

/// Exponential backoff: the wait before retry `n` (counted from `first_retry`) is
/// `first × 2^(n − first_retry)`, capped at `max`, then jittered.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// The retry number that waits `first` (0 or 1, as the caller counts).
    pub first_retry: u32,
    pub jitter: Jitter,
}

impl Backoff {
    /// The step before jitter.
    pub fn step(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(self.first_retry).min(16);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.max.max(self.first))
    }

    /// The jittered wait before retry number `retry`.
    pub fn delay(&self, retry: u32) -> Duration {
        let step = self.step(retry);
        let r = random_fraction();
        match self.jitter {
            Jitter::Lower => step.mul_f64(0.5 + 0.5 * r),
            Jitter::Upper => step + step.mul_f64(r / 4.0),
        }
    }
}

/// A number in `[0, 1]`; the middle when the system has no randomness to give.
fn random_fraction() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_ok() {
        f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
    } else {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_double_from_the_first_retry_up_to_the_cap() {
        let b = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
            first_retry: 1,
            jitter: Jitter::Upper,
        };
        assert_eq!(b.step(0), Duration::from_millis(100));
        assert_eq!(b.step(1), Duration::from_millis(100));
        assert_eq!(b.step(3), Duration::from_millis(400));
        assert_eq!(b.step(40), Duration::from_secs(1));
        for retry in 0..8 {
            let d = b.delay(retry);
            assert!(d >= b.step(retry) && d <= b.step(retry).mul_f64(1.25));
        }
        let lower = Backoff {
            jitter: Jitter::Lower,
            first_retry: 0,
            ..b
        };
        for retry in 0..8 {
            let d = lower.delay(retry);
            assert!(d >= lower.step(retry) / 2 && d <= lower.step(retry));
        }
    }
}
