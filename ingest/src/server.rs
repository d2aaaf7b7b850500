//! Runs the router on a TCP listener (the local receiver and `zoomwatch demo`). The
//! listener is passed in, so tests and the demo bind `127.0.0.1:0`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::router::ClientInfo;

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

async fn client_info(mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let seq = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    req.extensions_mut().insert(ClientInfo { source_ip: peer, request_id: Some(format!("local-{}-{seq}", std::process::id())) });
    next.run(req).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// waits for in-flight requests — each of which waits for its sink write — so no
/// accepted record is lost.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router.layer(middleware::from_fn(client_info));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
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
