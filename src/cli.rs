//! The `ponte` command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::backend::transport::Transport;
use crate::diagnostic::Diagnostic;
use crate::fixture::mock::SwappableMocks;
use crate::fixture::record::Recorder;
use crate::plan;
use crate::reload;
use crate::server::access_log::{AccessLog, LineFormat};
use crate::server::{self, AppState, Settings};

#[derive(Parser)]
#[command(
    name = "ponte",
    version,
    about = "REST/JSON facades over SOAP services, driven by one adapter file per backend",
    long_about = "ponte reads adapter files (YAML) that describe a backend and the REST routes to expose over it, \
and serves those routes: each call is validated, translated to a SOAP request, sent, and the reply is mapped back to JSON.\n\n\
Start with `ponte check` to validate your adapters, then `ponte serve`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the facades of every adapter in a directory.
    Serve {
        /// Directory of adapter files (*.yaml).
        #[arg(long, default_value = "adapters", env = "PONTE_ADAPTERS")]
        adapters: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "PONTE_LISTEN")]
        listen: SocketAddr,
        /// Log format: one line per request, human-readable or JSON.
        #[arg(long, value_enum, default_value_t = LogFormat::Human, env = "PONTE_LOG_FORMAT")]
        log_format: LogFormat,
        /// Answer every route from its fixtures instead of calling backends (works offline).
        #[arg(long, conflicts_with = "record")]
        mock: bool,
        /// Fixture directory used by --mock.
        #[arg(long, default_value = "fixtures", env = "PONTE_FIXTURES")]
        fixtures: PathBuf,
        /// Call the backends and write a fixture per call into DIR (secrets redacted).
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Also redact elements and fields with this name when recording (repeatable).
        #[arg(long, value_name = "NAME", requires = "record")]
        redact: Vec<String>,
        /// Reload when an adapter (or, with --mock, a fixture) changes; SIGHUP always reloads.
        #[arg(long)]
        watch: bool,
        /// The request header in which callers say how long they wait (seconds); the call's
        /// deadline is then the smaller of the two, less 500 ms. Empty: ignore any.
        #[arg(long, value_name = "NAME", default_value = server::DEFAULT_CALLER_TIMEOUT_HEADER)]
        caller_timeout_header: String,
        #[command(flatten)]
        state: crate::state::StateArgs,
        #[command(flatten)]
        hostile: HostileClientFlags,
    },
    /// Run the contract fixtures offline against stand-in backends; exit 1 on any failure.
    Test {
        /// Fixture directory: <adapter>/<case>.yaml.
        #[arg(long, default_value = "fixtures", env = "PONTE_FIXTURES")]
        fixtures: PathBuf,
        /// Directory of adapter files (*.yaml).
        #[arg(long, default_value = "adapters", env = "PONTE_ADAPTERS")]
        adapters: PathBuf,
        /// Run only cases whose name (adapter/case) or route (adapter.route) contains PATTERN.
        #[arg(long)]
        filter: Option<String>,
        /// Also write a JUnit XML report here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Validate every adapter; print each problem as file:line:col and exit 1 if any.
    Check {
        /// Directory of adapter files (*.yaml).
        #[arg(long, default_value = "adapters", env = "PONTE_ADAPTERS")]
        adapters: PathBuf,
    },
    /// Write an adapter skeleton from a service description.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Print the JSON Schema of adapter or fixture files (what schemas/*.schema.json hold).
    Schema {
        #[arg(value_enum, default_value_t = SchemaKind::Adapter)]
        kind: SchemaKind,
    },
}

/// How `serve` treats slow, greedy or oversized clients.
#[derive(clap::Args)]
struct HostileClientFlags {
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = server::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// A request's headers must arrive within this (slower clients are cut).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration_flag)]
    header_timeout: Duration,
    /// A request's body must arrive within this (slower: 408).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration_flag)]
    body_timeout: Duration,
    /// Connections one client address may hold open at once (more: 429).
    #[arg(long, value_name = "N", default_value_t = server::listen::DEFAULT_MAX_CONNECTIONS_PER_CLIENT)]
    max_connections_per_client: usize,
    /// After SIGTERM or Ctrl-C, calls in flight get this long; then ponte exits.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration_flag)]
    shutdown_deadline: Duration,
    /// Longest request target (path and query) accepted, in bytes (longer: 414).
    #[arg(long, value_name = "BYTES", default_value_t = server::guard::DEFAULT_MAX_URI_LENGTH)]
    max_uri_length: usize,
    /// Most request headers accepted (more: 431).
    #[arg(long, value_name = "N", default_value_t = server::guard::DEFAULT_MAX_HEADERS)]
    max_headers: usize,
    /// Largest total size of request header names and values, in bytes (larger: 431).
    #[arg(long, value_name = "BYTES", default_value_t = server::guard::DEFAULT_MAX_HEADER_BYTES)]
    max_header_bytes: usize,
}

impl HostileClientFlags {
    fn limits(
        &self,
    ) -> (
        server::listen::ConnectionLimits,
        server::guard::RequestLimits,
    ) {
        (
            server::listen::ConnectionLimits {
                header_timeout: self.header_timeout,
                max_per_client: self.max_connections_per_client.max(1),
                shutdown_deadline: self.shutdown_deadline,
            },
            server::guard::RequestLimits {
                max_uri_length: self.max_uri_length,
                max_headers: self.max_headers,
                max_header_bytes: self.max_header_bytes,
                body_timeout: self.body_timeout,
            },
        )
    }
}

fn duration_flag(text: &str) -> Result<Duration, String> {
    crate::config::model::parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a duration (write 500ms, 10s, 1m)"))
}

#[derive(Subcommand)]
enum ImportSource {
    /// One route per query field (GET) and mutation field (POST) of a GraphQL schema (SDL).
    Graphql {
        /// The schema file (SDL).
        schema: PathBuf,
        /// The GraphQL endpoint the adapter will call.
        #[arg(long)]
        url: String,
        /// The adapter name (URL prefix); default from the schema file name.
        #[arg(long)]
        name: Option<String>,
        /// Write the adapter here instead of printing it (the schema is then referenced relative to it).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// When printing: the folder the adapter will live in, for the `schema:` path (default
        /// `adapters/` when it exists here, else the current folder).
        #[arg(long)]
        relative_to: Option<PathBuf>,
        /// How deep selections and flattened input objects go.
        #[arg(long, default_value_t = 2)]
        depth: usize,
        /// Leave `TYPE.FIELD` out of every selection (a root field: its route); repeatable.
        #[arg(long, value_name = "TYPE.FIELD")]
        exclude: Vec<String>,
    },
    /// One route per operation of a WSDL 1.1 port (SOAP 1.1/1.2, or HTTP GET/POST).
    Wsdl {
        /// The WSDL file, or a URL (the only case in which the network is used).
        source: String,
        /// List services, ports, bindings and operations (with style and use) instead.
        #[arg(long)]
        list: bool,
        /// The service to import (default: the first).
        #[arg(long)]
        service: Option<String>,
        /// The port to import, or a binding name when the WSDL has no service.
        #[arg(long)]
        port: Option<String>,
        /// The adapter name (URL prefix); default from the service name.
        #[arg(long)]
        name: Option<String>,
        /// Only these operations.
        #[arg(long, value_delimiter = ',')]
        operations: Vec<String>,
        /// Write the adapter here (the description is copied beside it, as `<stem>.wsdl/`).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also write one generated fixture per route under DIR/<adapter>/ (for `serve --mock`).
        #[arg(long, value_name = "DIR")]
        fixtures: Option<PathBuf>,
        /// Treat imports that cannot be found as opaque types, with a warning.
        #[arg(long)]
        allow_missing_imports: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    Adapter,
    Fixture,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            adapters,
            listen,
            log_format,
            mock,
            fixtures,
            record,
            redact,
            watch,
            caller_timeout_header,
            state,
            hostile,
        } => {
            let (_log_guard, log_writer) = init_logging(log_format);
            // RUST_LOG still decides: `ponte::access=off` silences the access log.
            let access_log = if tracing::enabled!(target: "ponte::access", tracing::Level::INFO) {
                AccessLog::new(
                    match log_format {
                        LogFormat::Human => LineFormat::Human,
                        LogFormat::Json => LineFormat::Json,
                    },
                    Box::new(log_writer),
                )
            } else {
                AccessLog::off()
            };
            let source = match (mock, record) {
                (true, _) => Source::Mock(fixtures),
                (false, Some(dir)) => Source::Record(dir, redact),
                (false, None) => Source::Live,
            };
            match runtime() {
                Ok(rt) => {
                    let code = rt.block_on(serve(
                        &adapters,
                        listen,
                        source,
                        access_log.clone(),
                        watch,
                        caller_timeout_header,
                        state,
                        hostile,
                    ));
                    // Connections cut at the shutdown deadline are not waited for again.
                    rt.shutdown_timeout(Duration::from_secs(1));
                    access_log.flush();
                    code
                }
                Err(code) => code,
            }
        }
        Command::Check { adapters } => check(&adapters),
        Command::Test {
            fixtures,
            adapters,
            filter,
            junit,
        } => match runtime() {
            Ok(rt) => rt.block_on(test(
                &adapters,
                &fixtures,
                filter.as_deref(),
                junit.as_deref(),
            )),
            Err(code) => code,
        },
        Command::Import {
            source:
                ImportSource::Graphql {
                    schema,
                    url,
                    name,
                    output,
                    relative_to,
                    depth,
                    exclude,
                },
        } => import_graphql(
            &schema,
            &url,
            name.as_deref(),
            output.as_deref(),
            relative_to.as_deref(),
            &crate::graphql::import::ImportOptions { depth, exclude },
        ),
        Command::Import {
            source:
                ImportSource::Wsdl {
                    source,
                    list,
                    service,
                    port,
                    name,
                    operations,
                    output,
                    fixtures,
                    allow_missing_imports,
                },
        } => crate::soap::wsdl::import::cli::run(&crate::soap::wsdl::import::cli::WsdlCommand {
            source,
            list,
            options: crate::soap::wsdl::import::WsdlImportOptions {
                service,
                port,
                name,
                operations,
            },
            output,
            fixtures,
            allow_missing_imports,
        }),
        Command::Schema { kind } => {
            match kind {
                SchemaKind::Adapter => print!("{}", crate::schema::adapter_schema()),
                SchemaKind::Fixture => print!("{}", crate::schema::fixture_schema()),
            }
            ExitCode::SUCCESS
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

enum Source {
    Live,
    Mock(PathBuf),
    Record(PathBuf, Vec<String>),
}

async fn test(
    adapters: &Path,
    fixtures: &Path,
    filter: Option<&str>,
    junit: Option<&Path>,
) -> ExitCode {
    use std::io::IsTerminal;
    let suite =
        match crate::fixture::suite::run(adapters, fixtures, filter, &crate::config::process_env)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot start the test servers on 127.0.0.1: {e}");
                return ExitCode::FAILURE;
            }
        };
    print_diagnostics(&suite.diagnostics);
    print!(
        "{}",
        crate::fixture::suite::report(&suite, std::io::stdout().is_terminal())
    );
    if let Some(path) = junit
        && let Err(e) = std::fs::write(
            path,
            crate::fixture::junit::report(&suite.results, suite.elapsed),
        )
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    if suite.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Log lines are formatted on the request's thread but written by a background thread, so a
/// slow stdout never holds a request. Keep the guard: dropping it flushes what is queued. The
/// writer is for the access log, so that its lines and the others never interleave.
fn init_logging(
    format: LogFormat,
) -> (
    tracing_appender::non_blocking::WorkerGuard,
    tracing_appender::non_blocking::NonBlocking,
) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_writer(crate::secrets::Scrubbing(writer.clone()));
    match format {
        LogFormat::Human => builder.compact().init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    (guard, writer)
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

#[allow(clippy::too_many_arguments)] // one per `serve` flag group; called once
async fn serve(
    adapters: &Path,
    listen: SocketAddr,
    source: Source,
    access_log: AccessLog,
    watch: bool,
    caller_timeout_header: String,
    state: crate::state::StateArgs,
    hostile: HostileClientFlags,
) -> ExitCode {
    let (connection_limits, request_limits) = hostile.limits();
    let caller_timeout_header = match caller_timeout_header.as_str() {
        "" => None,
        name => match axum::http::HeaderName::try_from(name) {
            Ok(h) => Some(h),
            Err(_) => {
                eprintln!("error: --caller-timeout-header: `{name}` is not a header name");
                return ExitCode::FAILURE;
            }
        },
    };
    let options = plan::LoadOptions {
        // In mock mode no backend is called: their URLs and secrets need not be set.
        missing_env_is_empty: matches!(source, Source::Mock(_)),
        ..plan::LoadOptions::default()
    };
    let fixtures = match &source {
        Source::Mock(dir) => Some(dir.as_path()),
        _ => None,
    };
    let (loaded, warnings) = match reload::load(adapters, &options, fixtures) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics);
            let n = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "error: {n} problem(s) in the adapters or fixtures; nothing served (run `ponte check` or `ponte test` while you fix them)"
            );
            return ExitCode::FAILURE;
        }
    };
    print_diagnostics(&warnings);
    let plan = loaded.plan;
    let mut settings = Settings {
        body_limit: hostile.body_limit,
        access_log: access_log.clone(),
        caller_timeout_header,
        shared_state: state.config(),
        cache_size: state.cache_size,
        request_limits,
        ..Settings::default()
    };
    let mut mocks = None;
    match (source, loaded.mocks) {
        (Source::Record(dir, redact), _) => {
            tracing::info!("recording a fixture per call into {}", dir.display());
            settings
                .observers
                .push(Arc::new(Recorder::new(dir, redact)));
        }
        (Source::Mock(dir), Some(set)) => {
            for warning in set.warnings() {
                tracing::warn!("{warning}");
            }
            tracing::info!(
                "mock mode: answering from {} fixture(s) in {}",
                set.len(),
                dir.display()
            );
            let swappable = Arc::new(SwappableMocks::new(set));
            settings.transport = Transport::Replay(swappable.clone());
            mocks = Some((dir, swappable));
        }
        _ => {}
    }
    let reload_source = reload::Source {
        adapters: adapters.to_path_buf(),
        options,
        mocks,
    };
    for adapter in &plan.adapters {
        for route in &adapter.routes {
            tracing::info!(
                "route {} /{}{}",
                route.method.as_str(),
                adapter.name,
                route.path
            );
        }
    }
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "ponte listening on http://{listen} with {} adapter(s), {} route(s)",
        plan.adapters.len(),
        plan.route_count()
    );
    let state = match AppState::new(plan, settings) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(reload::run(
        reload_source,
        state.clone(),
        watch,
        Duration::from_secs(1),
    ));
    if watch {
        tracing::info!("watching {} for changes", adapters.display());
    }
    let app = server::router(state);
    server::listen::serve(
        listener,
        app,
        connection_limits,
        access_log,
        server::shutdown_signal(),
    )
    .await;
    ExitCode::SUCCESS
}

fn check(adapters: &Path) -> ExitCode {
    let loaded = plan::load_dir(adapters, &crate::config::process_env);
    print_diagnostics(&loaded.diagnostics);
    match loaded.plan {
        Some(plan) => {
            println!(
                "ok: {} adapter(s), {} route(s) in {}",
                plan.adapters.len(),
                plan.route_count(),
                adapters.display()
            );
            ExitCode::SUCCESS
        }
        None => {
            let n = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!("error: {n} problem(s) found");
            ExitCode::FAILURE
        }
    }
}

fn import_graphql(
    schema: &Path,
    url: &str,
    name: Option<&str>,
    output: Option<&Path>,
    relative_to: Option<&Path>,
    options: &crate::graphql::import::ImportOptions,
) -> ExitCode {
    let sdl = match std::fs::read_to_string(schema) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", schema.display());
            return ExitCode::FAILURE;
        }
    };
    let stem = schema
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("graphql");
    let name = name.map_or_else(
        || crate::graphql::import::snake(stem).replace('_', "-"),
        str::to_string,
    );
    // The `schema:` path is relative to the folder the adapter lives in.
    let folder = match (output, relative_to) {
        (Some(out), _) => out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        (None, Some(dir)) => dir.to_path_buf(),
        (None, None) if Path::new("adapters").is_dir() => PathBuf::from("adapters"),
        (None, None) => PathBuf::from("."),
    };
    if !folder.is_dir() {
        eprintln!(
            "error: {} is not a folder: the adapter's `schema:` path is written relative to the folder the adapter goes in",
            folder.display()
        );
        return ExitCode::FAILURE;
    }
    let schema_ref = relative_to_dir(schema, &folder);
    if output.is_none() {
        eprintln!(
            "note: `schema: {schema_ref}` is relative to {}; save the adapter there (or pass --relative-to DIR)",
            folder.display()
        );
    }
    match crate::graphql::import::import_with(&sdl, schema, &schema_ref, url, &name, options) {
        Ok(imported) => {
            let written = match output {
                Some(out) => std::fs::write(out, &imported.yaml)
                    .map_err(|e| format!("cannot write {}: {e}", out.display())),
                None => {
                    print!("{}", imported.yaml);
                    Ok(())
                }
            };
            if let Err(e) = written {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!(
                "imported {} route(s); {} root field(s) skipped, {} field(s) not selected (listed at the top of the adapter)",
                imported.routes,
                imported.skipped.len(),
                imported.left_out.len()
            );
            for s in &imported.skipped {
                eprintln!("  skipped {s}");
            }
            for s in &imported.left_out {
                eprintln!("  not selected {s}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", schema.display());
            ExitCode::FAILURE
        }
    }
}

/// `target` as seen from `dir`: relative when both resolve, else absolute.
fn relative_to_dir(target: &Path, dir: &Path) -> String {
    let (Ok(target), Ok(dir)) = (std::fs::canonicalize(target), std::fs::canonicalize(dir)) else {
        return target.display().to_string();
    };
    let common = target
        .components()
        .zip(dir.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = dir.components().count() - common;
    let mut rel = std::path::PathBuf::new();
    for _ in 0..ups {
        rel.push("..");
    }
    rel.extend(target.components().skip(common));
    rel.display().to_string()
}
