//! The local server under hostile clients, on loopback: 1,000 slow-loris connections
//! trickling request headers byte by byte, or twenty that stall mid-body, do not stop
//! signed deliveries from being answered within Zoom's 3 s; the header and body
//! deadlines cut every one of them off; connections beyond the bounds (in all, and from
//! one address) are closed at once instead of piling up. Attackers connect from
//! 127.0.0.2, the genuine sender from 127.0.0.1: two sources.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::Sender;
use zoomwatch_ingest::server::{self, Limits};
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::SecretSet;
use zoomwatch_shared::signature::Secret;

const SECRET: &str = "hostile-clients-secret";

async fn start(
    dir: &std::path::Path,
    limits: Limits,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    start_with(dir, limits, Duration::from_secs(10)).await
}

async fn start_with(
    dir: &std::path::Path,
    limits: Limits,
    body_timeout: Duration,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let sink = FileSink::open(dir.join("events.jsonl"), Durability::Fsync).unwrap();
    let mut cfg = ReceiverConfig::new(SecretSet::parse(SECRET).unwrap());
    cfg.body_timeout = body_timeout;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve_with(
        listener,
        zoomwatch_ingest::router(cfg, sink),
        async {
            let _ = rx.await;
        },
        limits,
    ));
    (addr, tx, task)
}

/// A slow-loris client: a request line, then one header byte every `gap`, until the
/// server ends the connection, which it counts in `closed`.
/// A connection from 127.0.0.2 (another source than the genuine sender's 127.0.0.1).
async fn connect_from_elsewhere(addr: &str) -> std::io::Result<TcpStream> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind("127.0.0.2:0".parse().unwrap())?;
    sock.connect(addr.parse().unwrap()).await
}

async fn loris(addr: String, gap: Duration, closed: Arc<AtomicUsize>) {
    let Ok(mut s) = connect_from_elsewhere(&addr).await else {
        closed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if s.write_all(b"POST /zoom/webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.is_err() {
        closed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut buf = [0u8; 64];
    loop {
        tokio::select! {
            _ = s.read(&mut buf) => {
                // EOF, a reset, or an error status from the server: it gave up on us
                // (a server that waited for the headers would never send anything).
                closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            () = tokio::time::sleep(gap) => {
                if s.write_all(b"a").await.is_err() {
                    closed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_connections_do_not_starve_signed_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { header_read_timeout: Duration::from_secs(2), max_connections: 4096, max_per_source: 64 };
    let (addr, stop, task) = start(dir.path(), limits).await;
    let closed = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..1000).map(|_| tokio::spawn(loris(addr.clone(), Duration::from_millis(200), closed.clone()))).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Zoom gives up after 3 s: every delivery must be answered before that.
    let sender = Sender::with_timeout(format!("http://{addr}/zoom/webhook"), Secret::new(SECRET), Duration::from_secs(3)).unwrap();
    for i in 0..20 {
        let body =
            format!(r#"{{"event":"meeting.started","event_ts":{i},"payload":{{"object":{{"id":"{i}","uuid":"u{i}","topic":"t"}}}}}}"#);
        let d = sender.send(body.into_bytes(), None).await.expect("answered within 3 s while 1,000 slow clients hang on");
        assert_eq!(d.status, 200, "{}", d.body);
    }
    // The header-read timeout (2 s here) closes every slow client, though each keeps
    // sending a byte every 200 ms.
    for a in attackers {
        tokio::time::timeout(Duration::from_secs(60), a).await.expect("a slow client was never cut off").unwrap();
    }
    assert_eq!(closed.load(Ordering::Relaxed), 1000);
    let stored = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(stored.lines().count(), 20);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_bound_are_closed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { header_read_timeout: Duration::from_secs(30), max_connections: 50, max_per_source: 100 };
    let (addr, stop, task) = start(dir.path(), limits).await;
    // 50 idle connections hold every slot…
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // …so the 51st is closed without waiting for anything.
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut buf = [0u8; 16];
    let r = tokio::time::timeout(Duration::from_secs(10), extra.read(&mut buf)).await.expect("the extra connection was left hanging");
    assert!(matches!(r, Ok(0) | Err(_)), "closed, not served: {r:?}");
    // Freeing slots lets new clients in again.
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = reqwest::get(format!("http://{addr}/healthz")).await.unwrap().status();
    assert_eq!(status, 200);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_do_not_hold_the_slots_a_delivery_needs() {
    let dir = tempfile::tempdir().unwrap();
    // Twenty slots in all, as in the review that found the hole; at most eight per source.
    let limits = Limits { header_read_timeout: Duration::from_secs(10), max_connections: 20, max_per_source: 8 };
    let (addr, stop, task) = start_with(dir.path(), limits, Duration::from_secs(2)).await;
    // Twenty clients announce a 256 KiB body, send 1 KiB of it, and stall.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        if let Ok(mut s) = connect_from_elsewhere(&addr).await {
            let head = "POST /zoom/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 262144\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_ok() && s.write_all(&[b' '; 1024]).await.is_ok() {
                stalled.push(s);
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A genuine delivery still lands within Zoom's 3 s.
    let sender = Sender::with_timeout(format!("http://{addr}/zoom/webhook"), Secret::new(SECRET), Duration::from_secs(3)).unwrap();
    let body = r#"{"event":"meeting.started","event_ts":1,"payload":{"object":{"id":"1","uuid":"u1","topic":"t"}}}"#;
    let d = sender.send(body.as_bytes().to_vec(), None).await.expect("answered while twenty bodies stall");
    assert_eq!(d.status, 200, "{}", d.body);
    // The body deadline (2 s here) answers every stalled client and frees its slot.
    let mut answered = 0;
    for mut s in stalled {
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await.expect("a stalled body was never cut off");
        if String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 408") {
            answered += 1;
        }
    }
    assert!((1..=8).contains(&answered), "the eight let in are answered 408, the rest were closed at once: {answered}");
    let stored = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(stored.lines().filter(|l| l.contains("\"meeting.started\"")).count(), 1);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
