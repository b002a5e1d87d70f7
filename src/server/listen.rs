//! The serving loop. ponte accepts connections itself (rather than through `axum::serve`) so that
//! hostile clients cannot hold it: request headers must arrive within a deadline, one client
//! address holds a bounded number of connections, and after SIGTERM calls in flight get a
//! deadline to finish, then the process exits even with half-sent requests or idle HTTP/2
//! connections still open.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

use super::RequestId;
use super::access_log::{AccessLog, Entry};
use crate::problem::{Catalog, Problem};

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// hyper's own head limits, set above ponte's (`guard`), so that ponte, not hyper, answers
/// a long URI or large headers, with problem+json.
const HYPER_MAX_BUF: usize = 1 << 20;
const HYPER_MAX_HEADERS: usize = 1_000;

/// How the loop treats connections.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// The whole request head must arrive within this (slow-header clients are cut).
    pub header_timeout: Duration,
    /// Connections one client address may hold open at once.
    pub max_per_client: usize,
    /// After the stop signal, calls in flight get this long.
    pub shutdown_deadline: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
        }
    }
}

/// Serves `app` on `listener` until `stop` resolves, then lets calls in flight finish within
/// the shutdown deadline. Handlers get `ConnectInfo<SocketAddr>` as with `axum::serve`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    access_log: AccessLog,
    stop: impl Future<Output = ()>,
) {
    let builder = builder(&limits);
    let graceful = GracefulShutdown::new();
    let clients = Clients::default();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(slot) = clients.take(peer.ip(), limits.max_per_client) else {
            tokio::spawn(refuse(stream, peer, access_log.clone()));
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().call(request)
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // hyper answered (a malformed request) or the client went away mid-request.
                tracing::info!(target: "ponte::access", client = %peer, "connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!("stopped accepting; {open} connection(s) open");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all calls finished"),
        () = tokio::time::sleep(limits.shutdown_deadline) => tracing::warn!(
            "shutdown deadline ({:?}) passed: closing the remaining connections",
            limits.shutdown_deadline
        ),
    }
}

fn builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(HYPER_MAX_BUF)
        .max_headers(HYPER_MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(HYPER_MAX_BUF as u32)
        // Idle HTTP/2 connections are pinged, so dead peers do not hold a slot for ever.
        .keep_alive_interval(Some(Duration::from_secs(30)));
    builder
}

/// Connections open per client address.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One open connection of a client; dropping it frees the slot.
struct Slot {
    clients: Clients,
    ip: IpAddr,
}

impl Clients {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().ok()?;
        let count = open.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.clients.0.lock()
            && let Some(count) = open.get_mut(&self.ip)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Answers a connection over the per-client bound with a 429 problem, without reading it.
async fn refuse(mut stream: TcpStream, peer: SocketAddr, access_log: AccessLog) {
    let started = Instant::now();
    let id = RequestId::of(&axum::http::HeaderMap::new());
    let mut problem = Problem::of(
        Catalog::TooManyConnections,
        "this client address has too many connections open",
    );
    problem.request_id = Some(id.0.clone());
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/problem+json\r\nx-request-id: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        id.0,
        body.len()
    );
    tracing::debug!(client = %peer, "refused: too many connections");
    access_log.record(&Entry {
        request_id: &id.0,
        method: "-",
        path: "-",
        adapter: "",
        route: "",
        status: 429,
        total: started.elapsed(),
        backend: None,
        fixture: None,
    });
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    // A client that does not read its answer is not waited for.
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
