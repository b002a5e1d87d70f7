//! State shared by replicas (issue 11, part 6): rate-limit counters and cached answers in Redis,
//! when `serve --redis URL` names one. Without it everything stays in-process (right for one
//! replica).
//!
//! Every Redis operation has a short deadline. When Redis cannot be reached, `on_failure` says
//! what happens: `open` serves without the shared limit or cache (logged once per outage),
//! `closed` answers 503 `state_unavailable`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::limits::{Quota, Verdict};

/// How long any one Redis operation may take before Redis counts as unreachable.
const REDIS_DEADLINE: Duration = Duration::from_millis(300);

/// What happens to calls while Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnFailure {
    /// Serve without the shared limits and cache.
    #[default]
    Open,
    /// Answer 503 `state_unavailable`.
    Closed,
}

/// Where replicas share state, as given to `serve`.
#[derive(Debug, Clone)]
pub struct SharedStateConfig {
    pub redis_url: String,
    pub on_failure: OnFailure,
}

pub(crate) struct SharedState {
    connection: ConnectionManager,
    on_failure: OnFailure,
    /// Set while Redis is known to be down, so the outage is logged once, not per call.
    down: AtomicBool,
    limit_script: redis::Script,
}

/// Counts a call in every window's counter when all have room; else the time until the fullest
/// window ends. KEYS: one counter per window; ARGV: per window its limit and the milliseconds
/// left in it. Returns -1 when admitted, else the wait in milliseconds.
const LIMIT_SCRIPT: &str = r"
local wait = -1
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    wait = math.max(wait, tonumber(ARGV[2 * i]))
  end
end
if wait >= 0 then return wait end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i]) + 1000)
  end
end
return -1
";

impl SharedState {
    /// Prepares the connection; it is made on first use (and remade after an outage), so ponte
    /// starts while Redis is down.
    pub(crate) fn new(config: &SharedStateConfig) -> Result<SharedState, String> {
        let client = redis::Client::open(config.redis_url.as_str())
            .map_err(|e| format!("--redis is not a Redis URL ({})", why(&e)))?;
        let settings = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_DEADLINE))
            .set_response_timeout(Some(REDIS_DEADLINE))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, settings)
            .map_err(|e| format!("cannot prepare the Redis connection ({})", why(&e)))?;
        Ok(SharedState {
            connection,
            on_failure: config.on_failure,
            down: AtomicBool::new(false),
            limit_script: redis::Script::new(LIMIT_SCRIPT),
        })
    }

    pub(crate) fn fails_closed(&self) -> bool {
        self.on_failure == OnFailure::Closed
    }

    /// Runs one Redis operation within the deadline; `None` (logged once per outage) when Redis
    /// cannot be reached.
    async fn run<T, F>(&self, op: impl FnOnce(ConnectionManager) -> F) -> Option<T>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let outcome = tokio::time::timeout(REDIS_DEADLINE, op(self.connection.clone())).await;
        match outcome {
            Ok(Ok(value)) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: shared limits and cache are back");
                }
                Some(value)
            }
            Ok(Err(e)) => {
                self.note_down(&why(&e));
                None
            }
            Err(_) => {
                self.note_down("no answer in time");
                None
            }
        }
    }

    fn note_down(&self, why: &str) {
        if !self.down.swap(true, Ordering::Relaxed) {
            match self.on_failure {
                OnFailure::Open => tracing::warn!(
                    why,
                    "Redis cannot be reached: serving without shared limits and cache until it answers"
                ),
                OnFailure::Closed => tracing::error!(
                    why,
                    "Redis cannot be reached: answering 503 until it answers"
                ),
            }
        }
    }

    /// Counts a call under `key` in Redis, atomically across replicas.
    pub(crate) async fn take(&self, key: &str, quota: &Quota, now: u64) -> Verdict {
        let mut invocation = self.limit_script.prepare_invoke();
        for window in &quota.windows {
            let index = now / window.length_ms;
            let left = (index + 1) * window.length_ms - now;
            invocation
                .key(format!("ponte:rl:{key}:{}:{index}", window.length_ms))
                .arg(window.limit)
                .arg(left);
        }
        let waited: Option<i64> = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await;
        match waited {
            Some(ms) if ms >= 0 => Verdict::Wait(Duration::from_millis(ms as u64)),
            Some(_) => Verdict::Admitted,
            None if self.fails_closed() => Verdict::Unavailable,
            None => Verdict::Admitted,
        }
    }

    /// A cached entry, `Ok(None)` when there is none; `Err` when Redis cannot be reached.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ()> {
        let key = format!("ponte:cache:{key}");
        self.run(|mut c| async move { redis::cmd("GET").arg(key).query_async(&mut c).await })
            .await
            .ok_or(())
    }

    /// Stores an entry for `ttl`; a failure only means the next replica asks the backend.
    pub(crate) async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let key = format!("ponte:cache:{key}");
        let ms = ttl.as_millis().max(1) as u64;
        let _: Option<()> = self
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await;
    }
}

/// What went wrong, by kind only: Redis messages may repeat the URL, and with it a password.
fn why(e: &redis::RedisError) -> String {
    format!("{:?}", e.kind())
}

/// `serve` flags for shared state.
#[derive(clap::Args, Debug, Clone)]
pub struct StateArgs {
    /// Share rate-limit counters and cached answers with other replicas in this Redis
    /// (`redis://host:6379/0`). Unset or empty: state stays in this process.
    #[arg(long, value_name = "URL", env = "PONTE_REDIS", hide_env_values = true)]
    pub redis: Option<String>,
    /// While Redis cannot be reached: `open` serves without shared limits and cache, `closed`
    /// answers 503 `state_unavailable`.
    #[arg(long, value_enum, default_value_t, env = "PONTE_REDIS_ON_FAILURE")]
    pub redis_on_failure: OnFailure,
    /// Bytes of answers the response cache keeps in this process (least used go first).
    #[arg(long, value_name = "BYTES", default_value_t = crate::cache::DEFAULT_CACHE_SIZE)]
    pub cache_size: u64,
}

impl StateArgs {
    /// The shared state these flags name, if any.
    pub fn config(&self) -> Option<SharedStateConfig> {
        let url = self
            .redis
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        Some(SharedStateConfig {
            redis_url: url.to_string(),
            on_failure: self.redis_on_failure,
        })
    }
}
