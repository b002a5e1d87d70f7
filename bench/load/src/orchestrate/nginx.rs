//! The proxy floor not written here (issue 15): Debian's nginx as a plain reverse proxy on
//! 127.0.0.1, forwarding bytes to the same stand-in backend that the other runs use.
//!
//! nginx runs in the foreground as one process (`daemon off; master_process off;`), so that its
//! CPU time and peak memory are read from `/proc/<pid>` like every other server's, and it gets the
//! same CPU as ponte when the run is pinned. Upstream connections are kept alive (`keepalive`,
//! HTTP/1.1, `Connection: ""`), as ponte keeps its pool; its access log is off (ponte's is on,
//! written from a background thread: the "access log off" run shows what that costs). Replies
//! up to 512 KiB are buffered in memory, never in a temp file.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Options, Server};

/// `nginx` on PATH, or Debian's `/usr/sbin/nginx` when `/usr/sbin` is not on PATH.
fn nginx_binary() -> String {
    let on_path = Command::new("nginx")
        .arg("-v")
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if on_path || !Path::new("/usr/sbin/nginx").exists() {
        "nginx".into()
    } else {
        "/usr/sbin/nginx".into()
    }
}

/// A free loopback port (nginx cannot be told to pick one and say which).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The configuration: one server on `listen`, everything proxied to `backend` (host:port).
fn proxy_server(listen: &str, backend: &str) -> String {
    format!(
        "upstream backend {{
        server {backend};
        keepalive 256;
        keepalive_requests 1000000;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            # The 100 KiB reply fits in memory: no temp file on the way back.
            proxy_buffers 64 8k;
        }}
    }}"
    )
}

/// One nginx process with `server` (its `http` block's content) in `dir`.
fn config(dir: &Path, server: &str) -> String {
    let d = dir.display();
    format!(
        "daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    {server}
}}
"
    )
}

/// Starts nginx proxying to `backend` (host:port) and waits until it accepts connections.
pub(super) fn start(opts: &Options, backend: &str) -> Result<Server, String> {
    start_under(opts, backend, &[])
}

/// The backend as the table measured it: nginx answering `POST /small` and `POST /large`
/// with the same canned SOAP replies as the stand-in, from files. nginx's static handler refuses
/// a POST with 405; `error_page 405 =200 $uri` serves the file for it instead.
pub(super) fn start_backend(opts: &Options) -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let files = dir.path().join("replies");
    std::fs::create_dir_all(&files).map_err(|e| e.to_string())?;
    for (name, size) in [("small", 1024), ("large", 100 * 1024)] {
        std::fs::write(files.join(name), crate::support::reply_of_size(size))
            .map_err(|e| e.to_string())?;
    }
    let listen = format!("127.0.0.1:{}", free_port()?);
    let server = format!(
        "server {{
        listen {listen};
        root {};
        default_type \"text/xml; charset=utf-8\";
        location / {{ error_page 405 =200 $uri; }}
    }}",
        files.display()
    );
    run(opts, dir, listen, &server, &[])
}

/// Starts nginx as the last argument of `wrapper` (`valgrind ...`) when it is not empty.
pub(super) fn start_under(
    opts: &Options,
    backend: &str,
    wrapper: &[String],
) -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let listen = format!("127.0.0.1:{}", free_port()?);
    let server = proxy_server(&listen, backend);
    run(opts, dir, listen, &server, wrapper)
}

/// Writes the configuration into `dir`, starts nginx (under `wrapper` when not empty) and waits
/// until it accepts connections on `listen`.
fn run(
    opts: &Options,
    dir: tempfile::TempDir,
    listen: String,
    server: &str,
    wrapper: &[String],
) -> Result<Server, String> {
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, config(dir.path(), server)).map_err(|e| e.to_string())?;
    let nginx = nginx_binary();
    let mut command = if let Some((tool, tool_args)) = wrapper.split_first() {
        let mut c = Command::new(tool);
        c.args(tool_args).arg(&nginx);
        c
    } else if opts.pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "0", &nginx]);
        c
    } else {
        Command::new(&nginx)
    };
    let error_log = dir.path().join("error.log");
    let child = command
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(&error_log)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start nginx ({nginx}): {e}; install Debian's nginx"))?;
    let server = Server {
        child,
        addr: listen.clone(),
        _dir: Some(dir),
    };
    let deadline = Instant::now() + Duration::from_secs(if wrapper.is_empty() { 10 } else { 120 });
    while TcpStream::connect(&listen).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&error_log).unwrap_or_default();
            return Err(format!("nginx did not start on {listen}: {log}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}
