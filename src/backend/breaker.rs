//! A circuit breaker per backend: after `failures` failed calls in a row it opens, and calls are
//! answered at once (503 with `Retry-After`) instead of piling onto a backend that is down. After
//! `open_for` it lets one call through to probe; success closes it, failure opens it again.
//! It lives in the backend's runtime, so a reload keeps its state.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    pub failures: u32,
    pub open_for: Duration,
}

#[derive(Debug)]
enum State {
    Closed {
        failed: u32,
    },
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
            state: Mutex::new(State::Closed { failed: 0 }),
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
            State::Closed { .. } => Ok(()),
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
                State::Closed { failed: 0 }
            }
            (_, true) => State::Closed { failed: 0 },
            (State::Closed { failed }, false) if failed + 1 < self.settings.failures => {
                State::Closed { failed: failed + 1 }
            }
            (State::Open { until }, false) => State::Open { until: *until },
            (_, false) => {
                tracing::warn!(
                    backend = %self.backend,
                    open_for_ms = self.settings.open_for.as_millis() as u64,
                    "circuit open: the backend failed {} time(s) in a row",
                    self.settings.failures
                );
                State::Open {
                    until: Instant::now() + self.settings.open_for,
                }
            }
        };
        *state = next;
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
