//! Fixed-window counters in this process, by key (one key for a backend, one per caller for
//! inbound limits), or in Redis when the state is shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Quota, Verdict, now_ms};
use crate::state::SharedState;

/// Above this many keys, the counters of finished windows are dropped (callers come and go).
const PRUNE_ABOVE: usize = 10_000;

/// Per key, per window of the quota: the window's index (time / length) and the calls counted.
type Slots = HashMap<Box<str>, Vec<(u64, u32)>>;

/// Where a limiter counts: here, or in Redis under `prefix`.
pub(crate) enum Counters {
    Local(Mutex<Slots>),
    Shared {
        state: Arc<SharedState>,
        prefix: String,
    },
}

impl Counters {
    pub(crate) fn new(shared: Option<&Arc<SharedState>>, prefix: &str) -> Counters {
        match shared {
            Some(state) => Counters::Shared {
                state: state.clone(),
                prefix: prefix.to_string(),
            },
            None => Counters::Local(Mutex::default()),
        }
    }

    /// Counts a call under `key` if every window of `quota` has room.
    pub(crate) async fn take(&self, key: &str, quota: &Quota) -> Verdict {
        let now = now_ms();
        match self {
            Counters::Local(slots) => {
                let Ok(mut slots) = slots.lock() else {
                    return Verdict::Admitted;
                };
                take_local(&mut slots, key, quota, now)
            }
            Counters::Shared { state, prefix } => {
                state.take(&format!("{prefix}:{key}"), quota, now).await
            }
        }
    }
}

fn take_local(slots: &mut Slots, key: &str, quota: &Quota, now: u64) -> Verdict {
    if slots.len() > PRUNE_ABOVE {
        slots.retain(|_, counts| {
            quota
                .windows
                .iter()
                .zip(counts.iter())
                .any(|(w, (index, _))| *index == now / w.length_ms)
        });
    }
    let counts = match slots.get_mut(key) {
        Some(counts) => counts,
        None => slots
            .entry(key.into())
            .or_insert_with(|| vec![(0, 0); quota.windows.len()]),
    };
    let mut wait = Duration::ZERO;
    for (window, (index, count)) in quota.windows.iter().zip(counts.iter_mut()) {
        let current = now / window.length_ms;
        if *index != current {
            *index = current;
            *count = 0;
        }
        if *count >= window.limit {
            let ends = (current + 1) * window.length_ms;
            wait = wait.max(Duration::from_millis(ends - now));
        }
    }
    if !wait.is_zero() {
        return Verdict::Wait(wait);
    }
    for (_, count) in counts.iter_mut() {
        *count += 1;
    }
    Verdict::Admitted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Window;

    #[test]
    fn a_window_admits_its_limit_then_says_when_it_ends() {
        let quota = Quota {
            windows: vec![Window {
                length_ms: 1000,
                limit: 2,
            }],
        };
        let mut slots = HashMap::new();
        assert_eq!(
            take_local(&mut slots, "k", &quota, 5_100),
            Verdict::Admitted
        );
        assert_eq!(
            take_local(&mut slots, "k", &quota, 5_200),
            Verdict::Admitted
        );
        assert_eq!(
            take_local(&mut slots, "k", &quota, 5_300),
            Verdict::Wait(Duration::from_millis(700))
        );
        assert_eq!(
            take_local(&mut slots, "other", &quota, 5_300),
            Verdict::Admitted
        );
        assert_eq!(
            take_local(&mut slots, "k", &quota, 6_000),
            Verdict::Admitted
        );
    }

    #[test]
    fn every_window_must_have_room() {
        let quota = Quota {
            windows: vec![
                Window {
                    length_ms: 1000,
                    limit: 10,
                },
                Window {
                    length_ms: 60_000,
                    limit: 1,
                },
            ],
        };
        let mut slots = HashMap::new();
        assert_eq!(take_local(&mut slots, "k", &quota, 0), Verdict::Admitted);
        assert_eq!(
            take_local(&mut slots, "k", &quota, 1500),
            Verdict::Wait(Duration::from_millis(58_500))
        );
    }
}
