//! Runs the router on a TCP listener (the local receiver and `zoomwatch demo`). The
//! listener is passed in, so tests and the demo bind `127.0.0.1:0`.
//!
//! Hostile clients are bounded ([`Limits`]): a connection must deliver each request's
//! headers within the header-read timeout — which also closes connections idling between
//! requests — so slow-loris clients trickling headers byte by byte are cut off; its body
//! within the body timeout (the router's); at most `max_connections` are open at once,
//! and at most `max_per_source` from one address (beyond either a new connection is
//! closed at once), so one client can neither exhaust file descriptors or memory nor
//! take the slots a genuine delivery needs.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::router::ClientInfo;

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

async fn client_info(mut req: axum::extract::Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let seq = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    req.extensions_mut().insert(ClientInfo { source_ip: peer, request_id: Some(format!("local-{}-{seq}", std::process::id())) });
    next.run(req).await
}

/// Bounds on what one client can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request's headers, counted from when the server starts waiting
    /// for them (so it is also the idle timeout of a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one source address.
    pub max_per_source: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 1024, max_per_source: 256 }
    }
}

/// Open connections per source address; a [`SourceSlot`] gives its one back when dropped.
#[derive(Default)]
struct PerSource(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

struct SourceSlot(Arc<PerSource>, std::net::IpAddr);

impl PerSource {
    fn take(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<SourceSlot> {
        let mut m = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceSlot(self.clone(), ip))
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut m = self.0.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

/// Serves `router` on `listener` with the default [`Limits`] until `shutdown` resolves,
/// then stops accepting and waits for in-flight requests — each of which waits for its
/// sink write — so no accepted record is lost.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, Limits::default()).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = router.layer(middleware::from_fn(client_info));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let refused = AtomicU64::new(0);
    let per_source = Arc::new(PerSource::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(source) = per_source.take(peer.ip(), limits.max_per_source.max(1)) else {
            if refused.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                tracing::warn!(max = limits.max_per_source, source = %peer.ip(), "per-source connection limit reached; closing its new connections");
            }
            drop(stream);
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Full: close this one at once rather than queue it.
            if refused.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                tracing::warn!(max = limits.max_connections, "connection limit reached; closing new connections");
            }
            drop(stream);
            continue;
        };
        let svc = tower::ServiceExt::map_request(app.clone(), move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = builder.serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors are the client's (timeouts, resets): nothing to report upward.
            let _ = conn.await;
            drop(permit);
            drop(source);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Keeps the process alive past a file size limit (`ulimit -f`): by default SIGXFSZ
/// kills it; with a handler the write fails with `EFBIG` instead, the sink reports it and
/// Zoom is answered 503, like a full disk. Each signal is logged once per burst.
pub fn survive_file_size_limit() {
    #[cfg(unix)]
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(25)) {
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                tracing::warn!("the file size limit (ulimit -f) was reached; writes fail until it is raised");
            }
        });
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
