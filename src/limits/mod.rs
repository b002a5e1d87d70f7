//! Rate limits (issue 11, part 4): a backend's quota (`backend.rate_limit`, outbound) and what
//! each caller may ask of an adapter (`rate_limit`, inbound).
//!
//! Both count calls in fixed windows aligned to the clock (a second, a minute, a day), the way
//! providers count their quotas, so "600 per minute" means at most 600 calls in each clock
//! minute. Counters live in-process (`windows`), or in Redis when replicas share them
//! (`crate::state`); the limiters live in the registries beside the plan, so a reload keeps
//! their counts while the settings are unchanged.

pub(crate) mod inbound;
pub(crate) mod outbound;
mod windows;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Spanned;
use crate::config::model::RateLimitConfig;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::problem::{Catalog, Problem};

pub(crate) use windows::Counters;

/// At most `limit` calls in each clock-aligned window of `length_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub length_ms: u64,
    pub limit: u32,
}

/// Every window must have room for a call to be admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub windows: Vec<Window>,
}

/// A backend's quota and how many calls may wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundQuota {
    pub quota: Quota,
    pub queue: u32,
}

/// Whether a call may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Admitted,
    /// Over the quota: a window with room starts after this.
    Wait(Duration),
    /// The shared counters cannot be reached and the state is set to fail closed.
    Unavailable,
}

/// Milliseconds since the Unix epoch: windows are aligned to the wall clock, so replicas (and a
/// provider counting its quota) agree on where a window starts.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;
const DAY: u64 = 24 * 60 * MINUTE;

/// Checks a `rate_limit` block; `None` (after reporting) when it sets no window or a zero one.
pub(crate) fn compile_quota(
    config: &Spanned<RateLimitConfig>,
    errors: &mut Diagnostics,
) -> Option<Quota> {
    let (at, config) = (config.span, &config.value);
    let given: [(&Option<Spanned<u32>>, u64); 3] = [
        (&config.per_second, SECOND),
        (&config.per_minute, MINUTE),
        (&config.per_day, DAY),
    ];
    let mut windows = Vec::new();
    for (limit, length_ms) in given {
        let Some(limit) = limit else { continue };
        if limit.value == 0 {
            errors.push(
                Diagnostic::error(limit.span, "a rate limit must allow at least 1 call")
                    .with_help("remove the key to leave this window unlimited"),
            );
            continue;
        }
        windows.push(Window {
            length_ms,
            limit: limit.value,
        });
    }
    if windows.is_empty() {
        if config.per_second.is_none() && config.per_minute.is_none() && config.per_day.is_none() {
            errors.push(
                Diagnostic::error(at, "`rate_limit` sets no limit")
                    .with_help("give `per_second`, `per_minute` and/or `per_day`"),
            );
        }
        return None;
    }
    Some(Quota { windows })
}

/// 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).
pub(crate) fn rate_limited(detail: String, wait: Duration) -> Problem {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    Problem::of(Catalog::RateLimited, detail).with_retry_after(seconds)
}

/// 503 `state_unavailable`: the shared state is down and set to fail closed.
pub(crate) fn state_unavailable() -> Problem {
    Problem::of(
        Catalog::StateUnavailable,
        "the shared rate-limit and cache state cannot be reached; the call was not sent",
    )
    .with_retry_after(1)
}
