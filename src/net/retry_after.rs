//! `retry-after` as sent by upstreams we do not control: delay-seconds or an HTTP date
//! (RFC 9110 §10.2.3). Anything else (infinities, NaN, negative numbers, exponents, garbage) is
//! not a wait the server asked for and yields `None`, so the caller falls back to its backoff.
//! Parsing never panics, and the result is capped before it becomes a `Duration`.
use std::time::{Duration, SystemTime};

/// The wait `value` asks for, at most `cap`; `Some(cap + 1 s)` stands for "longer than the cap"
/// so callers can tell "too long to wait" from "no usable hint" without ever building a huge
/// `Duration`. `now` is the clock HTTP dates are measured against.
pub fn parse_retry_after(value: &str, cap: Duration, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let over = cap.saturating_add(Duration::from_secs(1));
    if let Some(wait) = delay_seconds(value, cap) {
        return Some(wait.unwrap_or(over));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let wait = date.duration_since(now).unwrap_or(Duration::ZERO);
    Some(if wait > cap { over } else { wait })
}

/// `Some(Some(d))` for a plain non-negative decimal within the cap, `Some(None)` for one beyond it,
/// `None` when `value` is not such a number.
fn delay_seconds(value: &str, cap: Duration) -> Option<Option<Duration>> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || value.ends_with('.') {
        return None;
    }
    let trimmed = whole.trim_start_matches('0');
    // More than 12 digits of seconds is beyond any cap we use; no need to parse it.
    if trimmed.len() > 12 {
        return Some(None);
    }
    let secs: u64 = if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    let mut nanos = 0u32;
    for (i, b) in fraction.bytes().take(9).enumerate() {
        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
    }
    let wait = Duration::new(secs, nanos);
    Some((wait <= cap).then_some(wait))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CAP: Duration = Duration::from_secs(60);

    fn at(value: &str) -> Option<Duration> {
        parse_retry_after(
            value,
            CAP,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480),
        )
    }

    #[test]
    fn numbers_and_dates_are_read_and_capped() {
        assert_eq!(at("3"), Some(Duration::from_secs(3)));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        assert_eq!(at("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(at("60"), Some(CAP));
        assert_eq!(at("61"), Some(CAP + Duration::from_secs(1)));
        assert_eq!(
            at("99999999999999999999999"),
            Some(CAP + Duration::from_secs(1))
        );
        // 2015-10-21 07:28:00 is the clock; 30 s later, then a date in the past, then far ahead.
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(at("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            at("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(CAP + Duration::from_secs(1))
        );
    }

    #[test]
    fn what_is_not_a_wait_is_ignored() {
        for bad in [
            "", "inf", "-inf", "NaN", "1e30", "-5", "+5", "0x10", "1.", ".5", "1.2.3", "soon",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn no_header_value_panics(value in any::<String>()) {
            if let Some(d) = at(&value) {
                prop_assert!(d <= CAP + Duration::from_secs(1));
            }
        }

        #[test]
        fn number_like_values_never_panic(value in "[-+]?[0-9]{0,40}(\\.[0-9]{0,40})?(e[-+]?[0-9]{1,4})?|inf|NaN") {
            if let Some(d) = at(&value) {
                prop_assert!(d <= CAP + Duration::from_secs(1));
            }
        }
    }
}
