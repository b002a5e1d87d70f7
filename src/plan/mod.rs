//! The compiled plan: every adapter checked and turned into ready-to-run routes.
//!
//! Files -> model (config) -> plan (here) -> request handling (server). Nothing in a plan is parsed
//! or compiled again per request; a reload builds a whole new plan.

mod compile;
mod route;

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::http::BackendSettings;
use crate::config::model::HttpMethod;
use crate::diagnostic::{self, Diagnostic};
use crate::kind::Call;
use crate::mapping::input::InputSpec;
use crate::reading::Reading;

pub use compile::compile_adapter;

pub struct Plan {
    pub adapters: Vec<Arc<AdapterPlan>>,
    by_name: HashMap<String, usize>,
    /// A hash of the adapter files the plan was compiled from: which set is being served.
    pub version: String,
}

pub struct AdapterPlan {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    /// Where and how calls are sent (plain data; the connections live in the backend registry).
    pub backend: BackendSettings,
    pub routes: Vec<RoutePlan>,
    routers: HashMap<HttpMethod, matchit::Router<usize>>,
    /// What each caller may ask of this adapter (`rate_limit`).
    pub inbound_limit: Option<crate::limits::Quota>,
    /// The values its file took from the environment: recordings and logs hide them.
    pub(crate) secrets: crate::secrets::Secrets,
    /// Names whose values the call log masks (`redact`).
    pub redact: Vec<String>,
}

pub struct RoutePlan {
    pub name: String,
    pub method: HttpMethod,
    /// Path under the adapter prefix, with `{param}` segments.
    pub path: String,
    pub description: Option<String>,
    pub inputs: Vec<InputSpec>,
    pub call: Call,
    /// What the route reads of a reply.
    pub reading: Reading,
    pub timeout: Option<Duration>,
    /// Whether the backend call may be repeated: GET, PUT, DELETE, or `idempotent: true`.
    pub idempotent: bool,
    /// Inbound auth: the route's own `auth:`, else the adapter's; `None` lets anyone call.
    pub auth: Option<Arc<crate::auth::Guard>>,
    /// The status of the answer when the backend says "not now" (429 or 503): 503 or 429.
    pub unavailable_status: u16,
    /// Answers kept and served again (`cache:`, GET routes).
    pub cache: Option<crate::cache::CachePolicy>,
    /// A hash of the route's and its backend's settings: cached answers of a changed route are
    /// never served (its key changes).
    pub fingerprint: u64,
    /// What each caller may ask of this route (`rate_limit` on the route), counted on its own.
    pub inbound_limit: Option<crate::limits::Quota>,
}

pub enum RouteMatch<'a> {
    Found {
        route: &'a RoutePlan,
        params: Vec<(String, String)>,
    },
    /// The path exists for other methods.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

impl AdapterPlan {
    pub fn find(&self, method: &str, path: &str) -> RouteMatch<'_> {
        let method = match method {
            "GET" | "HEAD" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            "PUT" => Some(HttpMethod::Put),
            "PATCH" => Some(HttpMethod::Patch),
            "DELETE" => Some(HttpMethod::Delete),
            _ => None,
        };
        if let Some(router) = method.and_then(|m| self.routers.get(&m))
            && let Ok(found) = router.at(path)
        {
            let params = found
                .params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            return RouteMatch::Found {
                route: &self.routes[*found.value],
                params,
            };
        }
        let mut allowed: Vec<&'static str> = self
            .routers
            .iter()
            .filter(|(_, r)| r.at(path).is_ok())
            .map(|(m, _)| m.as_str())
            .collect();
        allowed.sort_unstable();
        if allowed.is_empty() {
            RouteMatch::NotFound
        } else {
            RouteMatch::WrongMethod(allowed)
        }
    }
}

impl Plan {
    pub fn empty() -> Plan {
        Plan {
            adapters: Vec::new(),
            by_name: HashMap::new(),
            version: String::new(),
        }
    }

    pub fn adapter(&self, name: &str) -> Option<&Arc<AdapterPlan>> {
        self.by_name.get(name).map(|i| &self.adapters[*i])
    }

    /// The adapter and its index (runtime state is kept by index beside the plan).
    pub fn adapter_at(&self, name: &str) -> Option<(usize, &Arc<AdapterPlan>)> {
        self.by_name.get(name).map(|i| (*i, &self.adapters[*i]))
    }

    pub fn route_count(&self) -> usize {
        self.adapters.iter().map(|a| a.routes.len()).sum()
    }
}

/// The outcome of loading a directory: the plan when everything is valid, and all diagnostics
/// (warnings included) either way.
pub struct Loaded {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

/// How a directory is loaded.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Send every backend call here (`<redirect>/<adapter>`) instead of the adapter's URL: the
    /// stand-in of `ponte test`. The adapters' own URLs are then not checked.
    pub redirect: Option<reqwest::Url>,
    /// Unset environment variables without a default expand to nothing instead of failing
    /// (offline runs, where backends are never reached).
    pub missing_env_is_empty: bool,
}

/// FNV-1a over the files' names and contents, as 16 hex digits: stable across runs and builds.
fn version_of(files: &[PathBuf]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for file in files {
        eat(file.file_name().map_or(&[][..], |n| n.as_encoded_bytes()));
        eat(&std::fs::read(file).unwrap_or_default());
    }
    format!("{hash:016x}")
}

/// Loads, checks and compiles every adapter in `dir`.
pub fn load_dir(dir: &FsPath, env: crate::config::EnvLookup) -> Loaded {
    load_dir_with(dir, env, &LoadOptions::default())
}

/// `load_dir` with options.
pub fn load_dir_with(dir: &FsPath, env: crate::config::EnvLookup, options: &LoadOptions) -> Loaded {
    let files = match crate::config::adapter_files(dir) {
        Ok(files) => files,
        Err(d) => {
            return Loaded {
                plan: None,
                diagnostics: vec![d],
            };
        }
    };
    let version = version_of(&files);
    let mut diagnostics = Vec::new();
    let mut adapters = Vec::new();
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        let (model, diags, secrets) =
            crate::config::load_file(&file, env, options.missing_env_is_empty);
        let decoded_cleanly = !diags.iter().any(Diagnostic::is_error);
        diagnostics.extend(diags);
        let Some(model) = model else { continue };
        let name = model.name();
        if let Some(other) = names.get(&name.value) {
            diagnostics.push(
                Diagnostic::error(
                    name.span,
                    format!(
                        "adapter name `{}` is already used by {}",
                        name.value,
                        other.display()
                    ),
                )
                .with_help("adapter names are URL prefixes and must be unique")
                .in_file(&file),
            );
            continue;
        }
        names.insert(name.value.clone(), file.clone());
        // A file with decoding errors is still compiled, to report its other problems too.
        let hidden = |mut d: Diagnostic| {
            secrets.redact_diagnostic(&mut d);
            d.in_file(&file)
        };
        match compile_adapter(&model, &file, options) {
            Ok((mut adapter, warnings)) => {
                diagnostics.extend(warnings.into_iter().map(hidden));
                if decoded_cleanly {
                    adapter.secrets = secrets;
                    adapters.push(Arc::new(adapter));
                }
            }
            Err(errors) => diagnostics.extend(errors.into_iter().map(hidden)),
        }
    }
    diagnostic::sort(&mut diagnostics);
    let plan = (!diagnostics.iter().any(Diagnostic::is_error)).then(|| {
        let by_name = adapters
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        Plan {
            adapters,
            by_name,
            version,
        }
    });
    Loaded { plan, diagnostics }
}
