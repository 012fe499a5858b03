//! The one retry loop. GitHub's REST/GraphQL client, the model proxy's upstream calls and git's
//! network calls all repeat an attempt through [`retry`]; what differs between them is only
//! their classifier (which result is worth another attempt, after how long: the shared
//! [`super::Backoff`] or the server's `retry-after`) and their budget (attempts, time).
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Final: an answer, or a failure that repeating cannot change.
    Done(T),
    /// Worth another attempt after the wait; the result stands if the budget allows none.
    Again(T, Duration),
}

/// How many attempts, and how much time, one call may take.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Attempts in all, the first included (at least one is always made).
    pub max_attempts: u32,
    /// No retry whose wait would end later than this after the first attempt started.
    pub max_elapsed: Option<Duration>,
}

/// A retry about to be waited for, as its owner logs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextAttempt {
    /// The attempt that follows the wait, counted from 1.
    pub number: u32,
    pub wait: Duration,
}

/// Runs `attempt(1)`, `attempt(2)`, … until one is final or the budget allows no more, and
/// returns the last result. `before_wait` sees each result that will be retried, with the wait.
pub async fn retry<T, F, Fut>(
    budget: Budget,
    mut attempt: F,
    mut before_wait: impl FnMut(&T, NextAttempt),
) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let started = Instant::now();
    let mut number = 1;
    loop {
        let (result, wait) = match attempt(number).await {
            Attempt::Done(result) => return result,
            Attempt::Again(result, wait) => (result, wait),
        };
        let in_time = budget
            .max_elapsed
            .is_none_or(|limit| started.elapsed().saturating_add(wait) <= limit);
        if number >= budget.max_attempts || !in_time {
            return result;
        }
        number += 1;
        before_wait(&result, NextAttempt { number, wait });
        drop(result);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn budget(max_attempts: u32, max_elapsed: Option<Duration>) -> Budget {
        Budget {
            max_attempts,
            max_elapsed,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_result_ends_the_loop_at_once() {
        let calls = Cell::new(0);
        let out = retry(
            budget(5, None),
            |n| {
                calls.set(n);
                async move { Attempt::Done(n * 10) }
            },
            |_, _| panic!("nothing is retried"),
        )
        .await;
        assert_eq!((out, calls.get()), (10, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_attempt_budget_and_return_the_last_result() {
        let mut seen = Vec::new();
        let out = retry(
            budget(3, None),
            |n| async move { Attempt::Again(n, Duration::from_secs(n.into())) },
            |r, next| seen.push((*r, next)),
        )
        .await;
        assert_eq!(out, 3);
        let waits: Vec<_> = seen.iter().map(|(r, n)| (*r, n.number, n.wait)).collect();
        assert_eq!(
            waits,
            vec![
                (1, 2, Duration::from_secs(1)),
                (2, 3, Duration::from_secs(2))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_time_budget_is_not_taken() {
        let start = tokio::time::Instant::now();
        let out = retry(
            budget(u32::MAX, Some(Duration::from_secs(10))),
            |n| async move { Attempt::Again(n, Duration::from_secs(4)) },
            |_, _| {},
        )
        .await;
        // Waits of 4 s end at 4 and 8 s; a third would end at 12 s, past the 10 s budget.
        assert_eq!(out, 3);
        assert_eq!(start.elapsed(), Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_success_is_returned() {
        let out = retry(
            budget(4, None),
            |n| async move {
                if n < 3 {
                    Attempt::Again(Err(n), Duration::from_millis(5))
                } else {
                    Attempt::Done(Ok::<u32, u32>(n))
                }
            },
            |_, _| {},
        )
        .await;
        assert_eq!(out, Ok(3));
    }
}
