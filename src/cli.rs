//! The `ponte` command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::Diagnostic;
use crate::plan;
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
        /// Largest request body accepted, in bytes (larger: 413).
        #[arg(long, default_value_t = server::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
        /// Log format: one line per request, human-readable or JSON.
        #[arg(long, value_enum, default_value_t = LogFormat::Human, env = "PONTE_LOG_FORMAT")]
        log_format: LogFormat,
    },
    /// Validate every adapter; print each problem as file:line:col and exit 1 if any.
    Check {
        /// Directory of adapter files (*.yaml).
        #[arg(long, default_value = "adapters", env = "PONTE_ADAPTERS")]
        adapters: PathBuf,
    },
    /// Print the JSON Schema of adapter files (what schemas/adapter.schema.json holds).
    Schema,
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
            body_limit,
            log_format,
        } => {
            init_logging(log_format);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(serve(&adapters, listen, Settings { body_limit }))
        }
        Command::Check { adapters } => check(&adapters),
        Command::Schema => {
            print!("{}", crate::schema::adapter_schema());
            ExitCode::SUCCESS
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Human => builder.compact().init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

async fn serve(adapters: &Path, listen: SocketAddr, settings: Settings) -> ExitCode {
    let loaded = plan::load_dir(adapters, &crate::config::process_env);
    print_diagnostics(&loaded.diagnostics);
    let Some(plan) = loaded.plan else {
        let n = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        eprintln!(
            "error: {n} problem(s) in the adapters; nothing served (run `ponte check` while you fix them)"
        );
        return ExitCode::FAILURE;
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
    let state = AppState::new(plan, settings);
    let app = server::router(state);
    match axum::serve(listener, app)
        .with_graceful_shutdown(server::shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::FAILURE
        }
    }
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
