//! A circuit breaker per backend: it opens after `failures` failed calls in a row, or when a
//! `failure_ratio` of the calls in a window failed (once the window has seen `min_calls`), and
//! calls are then answered at once (503 with `Retry-After`) instead of piling onto a backend that
//! is down. After `open_for` it lets one call through to probe; success closes it, failure opens
//! it again. It lives in the backend's runtime, so a reload keeps its state.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    /// Failed calls in a row that open it.
    pub failures: Option<u32>,
    pub ratio: Option<FailureRatio>,
    pub open_for: Duration,
}

/// Opens when at least `ratio` of the calls in a window failed, once it has seen `min_calls`.
/// The window is fixed: it starts with the first call after the previous one ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureRatio {
    pub ratio: f64,
    pub window: Duration,
    pub min_calls: u32,
}

/// What a closed breaker has counted.
#[derive(Debug, Clone, Copy)]
struct Counts {
    in_a_row: u32,
    window_start: Instant,
    calls: u32,
    failed: u32,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            in_a_row: 0,
            window_start: Instant::now(),
            calls: 0,
            failed: 0,
        }
    }
}

#[derive(Debug)]
enum State {
    Closed(Counts),
    Open {
        until: Instant,
    },
    /// One probe is out; everything else is turned away until it ends.
    HalfOpen,
}

#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
    /// For the log lines that say when it changes.
    backend: String,
}

impl Breaker {
    pub fn new(settings: BreakerSettings, backend: &str) -> Breaker {
        Breaker {
            settings,
            state: Mutex::new(State::Closed(Counts::new())),
            backend: backend.to_string(),
        }
    }

    pub fn settings(&self) -> BreakerSettings {
        self.settings
    }

    /// Whether a call may go; when not, how long until the breaker probes again.
    pub fn admit(&self) -> Result<(), Duration> {
        let Ok(mut state) = self.state.lock() else {
            return Ok(());
        };
        match *state {
            State::Closed(_) => Ok(()),
            State::HalfOpen => Err(Duration::from_secs(1)),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                *state = State::HalfOpen;
                tracing::info!(backend = %self.backend, "circuit half-open: probing with one call");
                Ok(())
            }
        }
    }

    /// Records how an admitted call went.
    pub fn record(&self, ok: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let next = match (&*state, ok) {
            (State::HalfOpen, true) => {
                tracing::info!(backend = %self.backend, "circuit closed: the probe succeeded");
                State::Closed(Counts::new())
            }
            (State::HalfOpen, false) => self.open("the probe failed".into()),
            (State::Open { until }, _) => State::Open { until: *until },
            (State::Closed(counts), ok) => {
                let counts = self.count(*counts, ok);
                match self.trips(&counts) {
                    Some(why) => self.open(why),
                    None => State::Closed(counts),
                }
            }
        };
        *state = next;
    }

    /// The counts after one more call.
    fn count(&self, mut counts: Counts, ok: bool) -> Counts {
        if let Some(ratio) = self.settings.ratio
            && counts.window_start.elapsed() >= ratio.window
        {
            counts = Counts {
                in_a_row: counts.in_a_row,
                ..Counts::new()
            };
        }
        counts.calls = counts.calls.saturating_add(1);
        if ok {
            counts.in_a_row = 0;
        } else {
            counts.in_a_row = counts.in_a_row.saturating_add(1);
            counts.failed = counts.failed.saturating_add(1);
        }
        counts
    }

    /// Why the breaker must open now, if it must.
    fn trips(&self, counts: &Counts) -> Option<String> {
        if let Some(n) = self.settings.failures
            && counts.in_a_row >= n
        {
            return Some(format!("the backend failed {n} time(s) in a row"));
        }
        let ratio = self.settings.ratio?;
        let share = f64::from(counts.failed) / f64::from(counts.calls.max(1));
        (counts.calls >= ratio.min_calls && counts.failed > 0 && share >= ratio.ratio).then(|| {
            format!(
                "{} of the last {} calls failed (limit {:.0}%)",
                counts.failed,
                counts.calls,
                ratio.ratio * 100.0
            )
        })
    }

    fn open(&self, why: String) -> State {
        tracing::warn!(
            backend = %self.backend,
            open_for_ms = self.settings.open_for.as_millis() as u64,
            "circuit open: {why}"
        );
        State::Open {
            until: Instant::now() + self.settings.open_for,
        }
    }

    /// `closed`, `open` or `half_open`, for `/_ponte/ready`.
    pub fn state(&self) -> &'static str {
        match self.state.lock().as_deref() {
            Ok(State::Open { until }) if Instant::now() >= *until => "half_open",
            Ok(State::Open { .. }) => "open",
            Ok(State::HalfOpen) => "half_open",
            _ => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio_breaker(ratio: f64, min_calls: u32) -> Breaker {
        Breaker::new(
            BreakerSettings {
                failures: None,
                ratio: Some(FailureRatio {
                    ratio,
                    window: Duration::from_secs(60),
                    min_calls,
                }),
                open_for: Duration::from_secs(30),
            },
            "lab",
        )
    }

    #[test]
    fn a_failure_ratio_opens_only_once_the_window_has_enough_calls() {
        let breaker = ratio_breaker(0.5, 4);
        // Failures alternate with successes, so there is never a long run of them.
        for ok in [false, true, false] {
            breaker.record(ok);
            assert_eq!(breaker.state(), "closed", "only {ok} so far");
        }
        breaker.record(true); // 2 of 4 failed: 50%, at the limit
        assert_eq!(breaker.state(), "open");
        assert!(breaker.admit().is_err());
    }

    #[test]
    fn a_failure_ratio_below_the_limit_keeps_it_closed() {
        let breaker = ratio_breaker(0.5, 4);
        for ok in [false, true, true, true, false, true, true, true] {
            breaker.record(ok);
        }
        assert_eq!(breaker.state(), "closed");
    }

    #[test]
    fn failures_in_a_row_open_it_whatever_the_ratio() {
        let breaker = Breaker::new(
            BreakerSettings {
                failures: Some(2),
                ratio: None,
                open_for: Duration::from_secs(30),
            },
            "lab",
        );
        breaker.record(false);
        breaker.record(true);
        breaker.record(false);
        assert_eq!(breaker.state(), "closed", "not in a row");
        breaker.record(false);
        assert_eq!(breaker.state(), "open");
    }
}
