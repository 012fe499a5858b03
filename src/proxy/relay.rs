//! Moves a streamed upstream answer to the client without buffering it, while keeping Claude
//! Code's 300 s stall watchdog fed (`ping` during silence), enforcing an idle timeout and
//! recording usage even when the client disconnects early.
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use super::errors::ApiError;
use super::sse::PING;
use super::usage::{Usage, UsageRecorder};

/// Turns upstream bytes into Anthropic SSE bytes for one response.
pub trait Transform: Send + 'static {
    /// Handles one upstream chunk; pushes what the client should receive now.
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError>;
    /// The upstream ended; pushes the tail, or fails when the answer was cut short.
    fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError>;
    /// True when a whole event has been sent, so a `ping` or `error` may be inserted.
    fn at_boundary(&self) -> bool;
    fn usage(&self) -> Usage;
}

/// Timers of a relayed stream.
#[derive(Debug, Clone, Copy)]
pub struct RelayTimers {
    /// Silence after which a `ping` event is injected.
    pub ping_every: Duration,
    /// Silence after which the upstream is given up on.
    pub idle_timeout: Duration,
}

struct State<S, T> {
    upstream: S,
    transform: T,
    recorder: UsageRecorder,
    queue: VecDeque<Bytes>,
    last_data: Instant,
    done: bool,
    timers: RelayTimers,
}

impl<S, T: Transform> State<S, T> {
    fn fail(&mut self, err: ApiError) {
        // Mid-event an inserted event would corrupt the one in flight; closing is cleaner then.
        if self.transform.at_boundary() {
            self.queue.push_back(err.sse_event());
        }
        self.done = true;
    }
}

/// Wraps an upstream byte stream into the client's body stream.
pub fn relay<S, E, T>(
    upstream: S,
    transform: T,
    recorder: UsageRecorder,
    timers: RelayTimers,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
    T: Transform,
{
    let state = State {
        upstream,
        transform,
        recorder,
        queue: VecDeque::new(),
        last_data: Instant::now(),
        done: false,
        timers,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(b) = st.queue.pop_front() {
                return Some((Ok(b), st));
            }
            if st.done {
                st.recorder.usage = st.transform.usage();
                st.recorder.finish();
                return None;
            }
            let idle_left = st
                .timers
                .idle_timeout
                .saturating_sub(st.last_data.elapsed());
            let wait = st.timers.ping_every.min(idle_left);
            match tokio::time::timeout(wait, st.upstream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    st.last_data = Instant::now();
                    let mut out = Vec::new();
                    let result = st.transform.feed(chunk, &mut out);
                    st.queue.extend(out);
                    st.recorder.usage = st.transform.usage();
                    if let Err(e) = result {
                        st.fail(e);
                    }
                }
                Ok(Some(Err(e))) => {
                    st.fail(ApiError::upstream_unavailable(format!(
                        "upstream stream failed: {e}"
                    )));
                }
                Ok(None) => {
                    let mut out = Vec::new();
                    let result = st.transform.finish(&mut out);
                    st.queue.extend(out);
                    st.recorder.usage = st.transform.usage();
                    match result {
                        Ok(()) => st.done = true,
                        Err(e) => st.fail(e),
                    }
                }
                Err(_) if st.last_data.elapsed() >= st.timers.idle_timeout => {
                    let secs = st.timers.idle_timeout.as_secs();
                    st.fail(ApiError::upstream_unavailable(format!(
                        "upstream sent nothing for {secs} s"
                    )));
                }
                Err(_) => {
                    if st.transform.at_boundary() {
                        st.queue.push_back(Bytes::from_static(PING));
                    }
                }
            }
        }
    })
}
