//! Moves a streamed upstream answer to the client without buffering it, while keeping Claude
//! Code's 300 s stall watchdog fed (`ping` during silence), enforcing an idle timeout and
//! recording usage even when the client disconnects early.
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::errors::ApiError;
use super::sse::PING;
use super::usage::{Usage, UsageRecorder};

/// Turns upstream bytes into Anthropic SSE bytes for one response.
pub trait Transform: Send + 'static {
    /// Handles one upstream chunk; pushes what the client should receive now.
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError>;
    /// The upstream ended; pushes the tail, or fails when the answer was cut short.
    fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError>;
    /// Work on the last fed chunk that can wait until its bytes are on their way to the client
    /// (the pass-through reads usage here, off the path to the client's first byte).
    fn settle(&mut self) {}
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

struct State<S, T: Transform> {
    upstream: S,
    transform: T,
    recorder: UsageRecorder,
    queue: VecDeque<Bytes>,
    last_data: Instant,
    /// Last data or ping: the silence a new ping is measured from.
    last_sign_of_life: Instant,
    /// One timer for the whole stream, re-armed only when it fires. Arming a fresh timer per
    /// chunk wakes the runtime's driver for every chunk, a syscall pair on the hot path.
    timer: Pin<Box<Sleep>>,
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

    /// Catches up on deferred work before the relay looks at the transform's state.
    fn settle(&mut self) {
        self.transform.settle();
        self.recorder.usage = self.transform.usage();
    }

    /// The timer fired: give up, ping, or neither (data came since it was armed); then re-arm.
    fn on_timer(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_data) >= self.timers.idle_timeout {
            let secs = self.timers.idle_timeout.as_secs();
            self.fail(ApiError::upstream_unavailable(format!(
                "upstream sent nothing for {secs} s"
            )));
            return;
        }
        if now.duration_since(self.last_sign_of_life) >= self.timers.ping_every {
            if self.transform.at_boundary() {
                self.queue.push_back(Bytes::from_static(PING));
            }
            self.last_sign_of_life = now;
        }
        let next = (self.last_sign_of_life + self.timers.ping_every)
            .min(self.last_data + self.timers.idle_timeout);
        self.timer.as_mut().reset(next);
    }
}

/// A client that goes away mid-stream still has its usage counted, including the last chunk's.
impl<S, T: Transform> Drop for State<S, T> {
    fn drop(&mut self) {
        self.settle();
        self.recorder.finish();
    }
}

/// Keeps one timer due within a second for as long as the proxy serves. tokio interrupts its
/// driver (an eventfd write and an extra poll) whenever a timer is armed earlier than the
/// driver's next planned wake-up, and always when none is planned; with this anchor, arming a
/// stream's 15 s ping timer or a request's timeout costs no syscall.
pub async fn timer_anchor() -> Infallible {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
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
    let start = Instant::now();
    let first = start + timers.ping_every.min(timers.idle_timeout);
    let state = State {
        upstream,
        transform,
        recorder,
        queue: VecDeque::new(),
        last_data: start,
        last_sign_of_life: start,
        timer: Box::pin(tokio::time::sleep_until(first)),
        done: false,
        timers,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(b) = st.queue.pop_front() {
                return Some((Ok(b), st));
            }
            st.settle();
            if st.done {
                st.recorder.finish();
                return None;
            }
            let next = tokio::select! {
                biased;
                next = st.upstream.next() => next,
                () = st.timer.as_mut() => {
                    st.on_timer();
                    continue;
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    st.last_data = Instant::now();
                    st.last_sign_of_life = st.last_data;
                    let mut out = Vec::new();
                    let result = st.transform.feed(chunk, &mut out);
                    st.queue.extend(out);
                    st.recorder.usage = st.transform.usage();
                    if let Err(e) = result {
                        st.fail(e);
                    }
                }
                Some(Err(e)) => {
                    st.fail(ApiError::upstream_unavailable(format!(
                        "upstream stream failed: {e}"
                    )));
                }
                None => {
                    let mut out = Vec::new();
                    let result = st.transform.finish(&mut out);
                    st.queue.extend(out);
                    st.recorder.usage = st.transform.usage();
                    match result {
                        Ok(()) => st.done = true,
                        Err(e) => st.fail(e),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::providers::anthropic::PassThrough;
    use crate::proxy::usage::Meter;

    const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\n";
    const DELTA: &str = "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\n\n";

    fn timers() -> RelayTimers {
        RelayTimers {
            ping_every: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(300),
        }
    }

    /// Usage is read after a chunk is handed on; a client that leaves right after the last
    /// chunk must still have that chunk's usage counted.
    #[tokio::test]
    async fn usage_of_the_last_chunk_counts_when_the_client_leaves() {
        let meter = Meter::new(None);
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(START.as_bytes())),
            Ok(Bytes::from_static(DELTA.as_bytes())),
        ];
        // The upstream stays open: the relay never sees its end.
        let upstream = futures_util::stream::iter(chunks).chain(futures_util::stream::pending());
        let mut body = Box::pin(relay(
            upstream,
            PassThrough::default(),
            UsageRecorder::new(meter.clone()),
            timers(),
        ));
        let first = body.next().await.expect("first chunk").expect("infallible");
        assert_eq!(first, START.as_bytes());
        let second = body
            .next()
            .await
            .expect("second chunk")
            .expect("infallible");
        assert_eq!(second, DELTA.as_bytes());
        assert_eq!(
            meter.totals().requests,
            0,
            "not recorded while the stream lives"
        );
        drop(body);
        let totals = meter.totals();
        assert_eq!((totals.input_tokens, totals.output_tokens), (7, 5));
    }
}
