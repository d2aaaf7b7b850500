//! The receiver's HTTP surface. Every POST, on any path, is a webhook delivery:
//!
//! | answer | when |
//! |---|---|
//! | 200 `{"status":"stored","id":…}` | verified, normalized, durably written |
//! | 200 `{"status":"duplicate","id":…}` | a repeat of a record this process stored recently, or (with a claim store, [`crate::claims`]) any instance stored (not written again) |
//! | 200 `{"plainToken":…,"encryptedToken":…}` | verified `endpoint.url_validation` |
//! | 400 | verified but not a Zoom envelope (Zoom does not retry 4xx) |
//! | 401 | missing/bad signature or timestamp outside the replay window (default: more than 95 min old or 5 min ahead) |
//! | 413 | body larger than the limit |
//! | 503 | the sink did not confirm the write, or another instance holds the event's claim: Zoom retries (up to 3 times over about 90 min) |
//!
//! `GET /healthz` answers 200 for load balancers. Error bodies are `{"error": "..."}` and
//! never echo the body or a secret. Refused POSTs are written as `zoomwatch.rejected`
//! records (rate-limited).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use zoomwatch_shared::record::{CLAIM_UNAVAILABLE, Rejection, RequestInfo, URL_VALIDATION_EVENT};
use zoomwatch_shared::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use zoomwatch_shared::{Envelope, Received, normalize};

use crate::claims::Claimed;
use crate::config::ReceiverConfig;
use crate::recent::RecentIds;
use crate::rejected::RejectLimiter;
use zoomwatch_log::sink::Sink;

/// Who sent a request, as the serving layer knows it (socket peer locally, API
/// Gateway's request context under Lambda). Inserted as a request extension.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// Client IP address.
    pub source_ip: Option<String>,
    /// Request id (API Gateway's, or one made locally).
    pub request_id: Option<String>,
}

/// Longest `User-Agent` kept in records.
const MAX_USER_AGENT: usize = 256;

struct App<S> {
    config: ReceiverConfig,
    sink: S,
    limiter: RejectLimiter,
    rejected_seq: AtomicU64,
    recent: RecentIds,
    /// When the claim store was last said to be unreachable (Unix ms; 0: never).
    outage_said_ms: AtomicI64,
}

/// Builds the router over `sink`. The sink lives as long as the router (and its clones).
pub fn router<S: Sink>(config: ReceiverConfig, sink: S) -> Router {
    let app = Arc::new(App {
        limiter: RejectLimiter::new(config.rejected_per_sec),
        recent: RecentIds::new(config.recent_ids),
        config,
        sink,
        rejected_seq: AtomicU64::new(0),
        outage_said_ms: AtomicI64::new(0),
    });
    Router::new().route("/healthz", get(health)).fallback(webhook::<S>).with_state(app)
}

async fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

fn request_info(headers: &HeaderMap, client: Option<&ClientInfo>) -> RequestInfo {
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| {
        let clean = zoomwatch_shared::text::sanitize(ua, MAX_USER_AGENT);
        clean.into_owned()
    });
    RequestInfo {
        request_id: client.and_then(|c| c.request_id.clone()),
        source_ip: client.and_then(|c| c.source_ip.clone()),
        user_agent,
        signed_at: None,
        claim: None,
    }
}

async fn webhook<S: Sink>(State(app): State<Arc<App<S>>>, req: Request) -> Response {
    let received_at_ms = (app.config.clock)();
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, "webhooks are delivered with POST");
    }
    let mut rx = Received { received_at_ms, request: Some(request_info(&parts.headers, parts.extensions.get::<ClientInfo>())) };

    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.config.max_body as u64) {
        return app.reject(&rx, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", &format!("body over {} bytes", app.config.max_body)).await;
    }
    let bytes = match read_body(body, app.config.max_body, app.config.body_timeout).await {
        Ok(b) => b,
        Err(BodyError::Timeout) => {
            let why = format!("body not received within {} s", app.config.body_timeout.as_secs());
            return app.reject(&rx, StatusCode::REQUEST_TIMEOUT, "body_timeout", &why).await;
        }
        Err(BodyError::TooLarge) => {
            return app
                .reject(&rx, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", &format!("body over {} bytes", app.config.max_body))
                .await;
        }
        Err(BodyError::Read) => {
            return app.reject(&rx, StatusCode::BAD_REQUEST, "unreadable_body", "request body could not be read").await;
        }
    };

    let verified = signature::verify(
        &app.config.secrets,
        parts.headers.get(TIMESTAMP_HEADER).map(|v| v.as_bytes()),
        parts.headers.get(SIGNATURE_HEADER).map(|v| v.as_bytes()),
        &bytes,
        received_at_ms.div_euclid(1000),
        app.config.replay_window,
    );
    let secret_index = match verified {
        Ok(i) => i,
        Err(e) => {
            return app.reject(&rx, StatusCode::UNAUTHORIZED, e.code(), &e.to_string()).await;
        }
    };

    // Verified: keep when it was signed (a late Zoom retry shows as signed_at ≪ received_at).
    let signed_at = parts.headers.get(TIMESTAMP_HEADER).and_then(|v| signature::timestamp_secs(v.as_bytes()));
    if let (Some(req), Some(secs)) = (rx.request.as_mut(), signed_at) {
        req.signed_at = Some(zoomwatch_shared::timefmt::format_ms(secs.saturating_mul(1000)));
    }

    let envelope = match Envelope::parse(&bytes) {
        Ok(env) => env,
        Err(e) => {
            return app.reject(&rx, StatusCode::BAD_REQUEST, "malformed_body", &e.to_string()).await;
        }
    };

    if envelope.event == URL_VALIDATION_EVENT {
        return app.url_validation(envelope, secret_index, &rx).await;
    }

    let mut record = normalize(envelope, &rx);
    if app.recent.contains(&record.id) {
        // Stored before: Zoom retried a delivery whose answer it did not get, or the same
        // signed request came again. Acknowledge it, write nothing.
        return duplicate(&record.id);
    }
    // Exactly once across instances: claim the id in the shared store first.
    let claimed = match app.admit(&mut record, received_at_ms).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if let Some(geo) = &app.config.geo {
        geo.enrich(&mut record);
    }
    record.flags = zoomwatch_shared::rules::evaluate(&record, &app.config.rules);
    let id = record.id.clone();
    match app.sink.write(vec![record]).await {
        Ok(()) => {
            if let Some(claims) = claimed {
                claims.stored(&id).await;
            }
            app.recent.insert(&id);
            json_response(StatusCode::OK, &json!({"status": "stored", "id": id}))
        }
        Err(e) => {
            tracing::error!(error = %e, record_id = %id, sink = %app.sink.describe(), "sink write failed; answering 503 so Zoom retries");
            match claimed {
                Some(claims) if e.may_have_landed() => claims.unknown(&id).await,
                Some(claims) => claims.release(&id).await,
                None if e.may_have_landed() => app.recent.mark_unknown(&id, received_at_ms),
                None => {}
            }
            error(StatusCode::SERVICE_UNAVAILABLE, "the event could not be stored; retry later")
        }
    }
}

fn duplicate(id: &str) -> Response {
    json_response(StatusCode::OK, &json!({"status": "duplicate", "id": id}))
}

enum BodyError {
    TooLarge,
    Read,
    Timeout,
}

/// Reads the body, at most `limit` bytes within `deadline` (a stalled body must not hold
/// a connection — and the memory read so far — for ever).
async fn read_body(body: Body, limit: usize, deadline: std::time::Duration) -> Result<bytes::Bytes, BodyError> {
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Err(_) => Err(BodyError::Timeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Ok(Err(_)) => Err(BodyError::Read),
    }
}

impl<S: Sink> App<S> {
    /// Decides whether `record` is to be written: `Err` with the answer when it must not
    /// be (stored already, or an earlier write may still land), else the claim it is
    /// written under (`None` without a claim store, or with it unreachable: then the
    /// record is marked written at least once).
    async fn admit(
        &self,
        record: &mut zoomwatch_shared::RecordV1,
        received_at_ms: i64,
    ) -> Result<Option<&crate::claims::Claims>, Response> {
        match &self.config.claims {
            None => {
                // This process's own unsettled write of the same record, if any.
                if let Some(at_ms) = self.recent.unknown_since(&record.id) {
                    let lease_ms = i64::try_from(self.config.write_lease.as_millis()).unwrap_or(i64::MAX / 4);
                    if received_at_ms < at_ms + lease_ms {
                        return Err(error(StatusCode::SERVICE_UNAVAILABLE, "an earlier write of this event may still land; retry later"));
                    }
                    match self.sink.holds(&record.id, at_ms).await {
                        Ok(true) => {
                            self.recent.insert(&record.id);
                            return Err(duplicate(&record.id));
                        }
                        Ok(false) => self.recent.settle(&record.id),
                        // Cannot be read back (stdout): write again, at least once.
                        Err(e) => {
                            tracing::debug!(error = %e, "cannot look for an earlier write; writing again");
                            self.recent.settle(&record.id);
                        }
                    }
                }
                Ok(None)
            }
            Some(claims) => match claims.claim(&record.id, received_at_ms).await {
                Claimed::Stored => {
                    self.recent.insert(&record.id);
                    Err(duplicate(&record.id))
                }
                Claimed::Busy => Err(error(StatusCode::SERVICE_UNAVAILABLE, "another receiver is storing this event; retry later")),
                Claimed::Unavailable(why) => {
                    self.claim_outage(&why);
                    if let Some(req) = record.request.as_mut() {
                        req.claim = Some(CLAIM_UNAVAILABLE.to_owned());
                    }
                    Ok(None)
                }
                Claimed::Write { settle } => {
                    if let Some(at_ms) = settle {
                        // An earlier write's outcome is unknown: is the record in the log?
                        match self.sink.holds(&record.id, at_ms).await {
                            Ok(true) => {
                                claims.stored(&record.id).await;
                                self.recent.insert(&record.id);
                                return Err(duplicate(&record.id));
                            }
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, record_id = %record.id, "cannot tell whether an earlier write landed; answering 503 so Zoom retries");
                                claims.unknown(&record.id).await;
                                return Err(error(StatusCode::SERVICE_UNAVAILABLE, "the event could not be stored; retry later"));
                            }
                        }
                    }
                    Ok(Some(claims))
                }
            },
        }
    }

    /// Says (at most once a minute) that records are being written without the
    /// exactly-once check.
    fn claim_outage(&self, why: &str) {
        let now = (self.config.clock)();
        let last = self.outage_said_ms.load(Ordering::Relaxed);
        if now - last >= 60_000 && self.outage_said_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            tracing::warn!(error = %why, "claim store unreachable: writing without the exactly-once check (at least once); records carry request.claim = \"unavailable\"");
        }
    }

    async fn url_validation(&self, envelope: Envelope, secret_index: usize, rx: &Received) -> Response {
        let Some(plain) = envelope.payload.get("plainToken").and_then(|v| v.as_str()).map(str::to_owned) else {
            return self.reject(rx, StatusCode::BAD_REQUEST, "malformed_body", "endpoint.url_validation without payload.plainToken").await;
        };
        let Some(secret) = self.config.secrets.get(secret_index) else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        };
        let encrypted = signature::url_validation_token(secret, &plain);
        // The validation itself is recorded (the console shows "last validated"), but the
        // answer does not depend on it: failing the challenge would make Zoom disable the
        // subscription, which loses far more than this one record.
        // A replayed capture of an earlier validation (same body, so same record id) is
        // answered — the answer reveals nothing new — but recorded once.
        let record = normalize(envelope, rx);
        let claims = self.config.claims.as_deref();
        let seen = self.recent.contains(&record.id)
            || match claims {
                // Recorded by another instance (a replay reaching it), or being recorded.
                Some(c) => matches!(c.claim(&record.id, rx.received_at_ms).await, Claimed::Stored | Claimed::Busy),
                None => false,
            };
        if !seen {
            let id = record.id.clone();
            match self.sink.write(vec![record]).await {
                Ok(()) => {
                    self.recent.insert(&id);
                    if let Some(c) = claims {
                        c.stored(&id).await;
                    }
                }
                Err(e) => {
                    if let Some(c) = claims {
                        c.release(&id).await;
                    }
                    tracing::warn!(error = %e, "could not record the URL validation; answering it anyway");
                }
            }
        }
        json_response(StatusCode::OK, &json!({"plainToken": plain, "encryptedToken": encrypted}))
    }

    async fn reject(&self, rx: &Received, status: StatusCode, reason: &str, detail: &str) -> Response {
        let source = rx.request.as_ref().and_then(|r| r.source_ip.as_deref()).unwrap_or("-");
        // One diagnostic line per rejected record written, with how many were dropped
        // since: a flood of unsigned requests is a summary, not a line each.
        if let Some(suppressed) = self.limiter.admit(Instant::now()) {
            tracing::warn!(status = status.as_u16(), reason, source_ip = source, suppressed, "request rejected");
            let seq = self.rejected_seq.fetch_add(1, Ordering::Relaxed);
            let rejection = Rejection { reason: reason.to_owned(), detail: detail.to_owned(), status: status.as_u16(), suppressed };
            let record = zoomwatch_shared::normalize::rejected_record(rejection, rx, seq);
            if let Err(e) = self.sink.write(vec![record]).await {
                tracing::warn!(error = %e, "could not record a rejected request");
            }
        }
        error(status, detail)
    }
}
