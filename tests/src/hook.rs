//! A stand-in for a Slack/Teams-style incoming webhook, strict about what arrives:
//! `POST /services/T0/B0/hook-secret`, `content-type: application/json`, a body with
//! `text` and the alert under `zoomwatch`, and an `Idempotency-Key` header equal to the
//! body's `idempotency_key` (`{alert id}#{update}`). It refuses the first requests with
//! 503, as an endpoint in trouble would, then accepts (and can be made to fail again at
//! any time). Like a receiver that deduplicates, it keeps the first delivery of each
//! key and counts repeats. And an SNS topic's HTTP subscriber.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;

/// A Slack-style incoming webhook: POST /services/T0/B0/hook-secret with a JSON body.
/// Answers 503 to the first `fail_first` requests, then 200. Anything else is noted as
/// unexpected.
/// What the hook received.
#[derive(Default)]
pub struct HookLog {
    /// Requests answered 503 before the first 200.
    pub fail_first: usize,
    /// Well-formed requests received.
    pub requests: usize,
    /// Bodies answered 200, the first of each idempotency key.
    pub delivered: Vec<Value>,
    /// Deliveries of a key already delivered (dropped, as a deduplicating receiver does).
    pub repeats: usize,
    /// While true, every request is answered 503.
    pub failing: bool,
    /// Anything else that arrived.
    pub unexpected: Vec<String>,
}

async fn hook_handler(State(log): State<Arc<Mutex<HookLog>>>, method: Method, uri: Uri, headers: HeaderMap, body: String) -> StatusCode {
    let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if method != Method::POST || uri.path() != "/services/T0/B0/hook-secret" {
        log.unexpected.push(format!("{method} {uri}"));
        return StatusCode::NOT_FOUND;
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        log.unexpected.push(format!("content-type {:?}", headers.get("content-type")));
        return StatusCode::BAD_REQUEST;
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        log.unexpected.push(format!("not JSON: {body}"));
        return StatusCode::BAD_REQUEST;
    };
    if !v["text"].is_string() || !v["zoomwatch"]["id"].is_string() {
        log.unexpected.push(format!("not the incoming-webhook shape: {body}"));
        return StatusCode::BAD_REQUEST;
    }
    let key = format!("{}#{}", v["zoomwatch"]["id"].as_str().unwrap_or_default(), v["zoomwatch"]["update"].as_u64().unwrap_or(u64::MAX));
    let header = headers.get("idempotency-key").and_then(|h| h.to_str().ok());
    if header != Some(key.as_str()) || v["idempotency_key"].as_str() != Some(key.as_str()) {
        log.unexpected.push(format!("idempotency key {header:?} / {} for {key}", v["idempotency_key"]));
        return StatusCode::BAD_REQUEST;
    }
    log.requests += 1;
    if log.requests <= log.fail_first || log.failing {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let seen = log.delivered.iter().any(|d| d["idempotency_key"].as_str() == Some(key.as_str()));
    if seen {
        log.repeats += 1;
    } else {
        log.delivered.push(v);
    }
    StatusCode::OK
}

/// Starts the hook on a loopback port: its URL and what it saw.
pub async fn start_hook(fail_first: usize) -> (String, Arc<Mutex<HookLog>>) {
    let log = Arc::new(Mutex::new(HookLog { fail_first, ..HookLog::default() }));
    let app = axum::Router::new().fallback(hook_handler).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let url = format!("http://{}/services/T0/B0/hook-secret", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, log)
}

/// An HTTP(S) subscriber of an SNS topic, as moto delivers to one: `POST /sns` with the
/// notification envelope (`Type`, `TopicArn`, `Subject`, `Message`). Returns its URL and
/// the envelopes received.
pub async fn start_sns_subscriber() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/sns",
            axum::routing::post(|State(got): State<Arc<Mutex<Vec<Value>>>>, body: String| async move {
                let v = serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body));
                got.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(v);
                StatusCode::OK
            }),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let url = format!("http://{}/sns", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}
