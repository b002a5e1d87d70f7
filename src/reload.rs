//! What `serve` swaps in while it runs: on SIGHUP, or when `--watch` sees a file change, the
//! adapters (and in mock mode the fixtures) are loaded again, and the new set is served only if
//! all of it compiles. Otherwise the old set keeps serving and the problems are logged at their
//! `file:line:col`. Calls in flight finish on the plan they started with; backends whose settings
//! did not change keep their runtime state (the registry).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::diagnostic::Diagnostic;
use crate::fixture::mock::{MockSet, SwappableMocks};
use crate::plan::{self, LoadOptions, Plan};
use crate::server::AppState;

/// Where a served set comes from.
pub struct Source {
    pub adapters: PathBuf,
    pub options: LoadOptions,
    /// Mock mode: the fixtures, and the replay source serving them.
    pub mocks: Option<(PathBuf, Arc<SwappableMocks>)>,
}

/// A loaded set, ready to serve.
pub struct Loaded {
    pub plan: Plan,
    pub mocks: Option<MockSet>,
}

/// Loads the adapters (and fixtures), or says every problem.
pub fn load(
    adapters: &Path,
    options: &LoadOptions,
    fixtures: Option<&Path>,
) -> Result<(Loaded, Vec<Diagnostic>), Vec<Diagnostic>> {
    let loaded = plan::load_dir_with(adapters, &crate::config::process_env, options);
    let mut diagnostics = loaded.diagnostics;
    let Some(plan) = loaded.plan else {
        return Err(diagnostics);
    };
    let mocks = match fixtures {
        None => None,
        Some(dir) => {
            let (cases, problems) = crate::fixture::load(dir, &plan);
            let failed = problems.iter().any(Diagnostic::is_error);
            diagnostics.extend(problems);
            if failed {
                return Err(diagnostics);
            }
            Some(MockSet::new(&plan, &cases))
        }
    };
    Ok((Loaded { plan, mocks }, diagnostics))
}

/// The outcome of the last reload, for `/_ponte/ready`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReloadStatus {
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub ok: bool,
    /// Errors that kept the new set out (0 when it was swapped in).
    pub problems: usize,
}

/// Loads again and swaps the new set in when it is whole; logs what happened.
pub fn reload(source: &Source, state: &AppState) -> ReloadStatus {
    let at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let fixtures = source.mocks.as_ref().map(|(dir, _)| dir.as_path());
    let status = match load(&source.adapters, &source.options, fixtures) {
        Ok((loaded, warnings)) => {
            for w in &warnings {
                tracing::warn!("{w}");
            }
            let version = loaded.plan.version.clone();
            match state.install(loaded.plan) {
                Ok(()) => {
                    if let (Some((_, swappable)), Some(set)) = (&source.mocks, loaded.mocks) {
                        swappable.replace(set);
                    }
                    tracing::info!("reloaded: now serving version {version}");
                    ReloadStatus {
                        at,
                        ok: true,
                        problems: 0,
                    }
                }
                Err(e) => {
                    tracing::error!("reload failed: {e}; the previous set keeps serving");
                    ReloadStatus {
                        at,
                        ok: false,
                        problems: 1,
                    }
                }
            }
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                tracing::error!("{d}");
            }
            let problems = diagnostics.iter().filter(|d| d.is_error()).count();
            tracing::error!(
                "reload refused: {problems} problem(s); the previous set keeps serving"
            );
            ReloadStatus {
                at,
                ok: false,
                problems,
            }
        }
    };
    state.record_reload(status.clone());
    status
}

/// Reloads on SIGHUP, and with `watch` whenever a file under the adapter (or fixture) folder
/// changes (looked at every `interval`). Runs until the process ends.
pub async fn run(source: Source, state: Arc<AppState>, watch: bool, interval: Duration) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = fingerprint(&source);
    let mut ticker = tokio::time::interval(interval);
    loop {
        #[cfg(unix)]
        let signal = async {
            match hangup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let signal = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = signal => {
                tracing::info!("SIGHUP: reloading");
                reload(&source, &state);
                seen = fingerprint(&source);
            }
            _ = ticker.tick(), if watch => {
                let now = fingerprint(&source);
                if now != seen {
                    seen = now;
                    tracing::info!("files changed: reloading");
                    reload(&source, &state);
                }
            }
        }
    }
}

/// Names, sizes and modification times of every file below the watched folders.
fn fingerprint(source: &Source) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut dirs = vec![source.adapters.clone()];
    if let Some((fixtures, _)) = &source.mocks {
        dirs.push(fixtures.clone());
    }
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                dirs.push(path);
            } else {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}
