//! The action broker (`ZOOMWATCH_MODE=broker`): a Lambda function behind a function URL
//! with `AuthType: AWS_IAM` that holds the Zoom S2S credentials and acts for analysts.
//! AWS authenticates each request (SigV4) before the function runs and hands it the
//! caller's IAM identity (`requestContext.authorizer.iam.userArn`); the broker names the
//! analyst after that identity — never after anything in the request — and writes the
//! `pending` intent and the outcome itself, on its own `…/zoomwatch-broker/…` streams
//! (readers believe actions there and nothing else). With the broker deployed, analysts
//! hold no Zoom credentials and cannot call Zoom except through it.
//!
//! The protocol is [`zoomwatch_log::broker`]: `POST` one JSON request, get one answer.
//! A request without an IAM identity (a function URL with `AuthType: NONE`, a direct
//! invocation) is refused before anything else is read.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZOOM_CREDENTIALS_SECRET` | Secrets Manager secret with the S2S app's credentials | — (required) |
//! | `ZOOMWATCH_LOG_GROUP` | where the audit records go | `/zoomwatch/events` |

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use zoomwatch_log::audited::{Analyst, Context, check_audit, execute, write_audit};
use zoomwatch_log::broker::{BrokerAnswer, BrokerRequest, MAX_REQUEST_BYTES, analyst_of};
use zoomwatch_log::sink::{AnySink, Sink};
use zoomwatch_shared::audit::Outcome;
use zoomwatch_zoomapi::Client;

/// The IAM identity AWS authenticated for this request (set from the request context
/// by the Lambda front; absent otherwise).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The identity's ARN (`arn:aws:iam::…:user/ana`, `arn:aws:sts::…:assumed-role/R/ana`).
    pub arn: String,
}

/// What the broker holds for its lifetime.
pub struct Broker {
    /// The Zoom API client (S2S credentials).
    pub client: Client,
    /// Where intents and outcomes are written.
    pub sink: AnySink,
    /// The wall clock.
    pub clock: crate::config::Clock,
}

/// The broker's HTTP surface: `POST` (any path) with one [`BrokerRequest`].
pub fn router(broker: Arc<Broker>) -> Router {
    Router::new().fallback(handle).with_state(broker)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({ "error": message }).to_string()).into_response()
}

async fn handle(State(b): State<Arc<Broker>>, req: Request) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        tracing::warn!("broker request without an IAM identity refused");
        return error(
            StatusCode::FORBIDDEN,
            "the broker acts only for a caller AWS authenticated (its function URL with AuthType AWS_IAM); this request carried no IAM identity",
        );
    };
    if req.method() != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, "POST one JSON request");
    }
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_REQUEST_BYTES).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, &format!("a request is at most {MAX_REQUEST_BYTES} bytes"));
    };
    let request: BrokerRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("not a broker request: {e}")),
    };
    if let Err(e) = request.check() {
        return error(StatusCode::BAD_REQUEST, &e);
    }
    let analyst = Analyst { name: analyst_of(&caller.arn), host: None, principal: Some(caller.arn.clone()) };
    let answer = match (request.action, request.lookup) {
        (Some(action), _) => {
            let ctx = Context { reason: request.reason, alert_id: request.alert };
            act(&b, &action, &analyst, &ctx, request.dry_run).await
        }
        (None, Some(lookup)) => {
            // Read-only and not audited, as on the command line; the function's own log
            // keeps who asked.
            tracing::info!(caller = %caller.arn, lookup = lookup.name(), "lookup");
            let (ok, line, body) = match b.client.call(&lookup.request(), lookup.name(), lookup.scope()).await {
                Ok(r) => (true, format!("{}: Zoom answered HTTP {}", lookup.name(), r.status), Some(r.body)),
                Err(e) => (false, e.to_string(), None),
            };
            BrokerAnswer { ok, line, analyst: analyst.name, principal: analyst.principal, body, ..BrokerAnswer::default() }
        }
        (None, None) => return error(StatusCode::BAD_REQUEST, "nothing asked"),
    };
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the answer"))
}

/// One action through the audited door: the destination checked, the intent written,
/// Zoom called (unless a dry run), the outcome written.
async fn act(b: &Broker, action: &zoomwatch_zoomapi::Action, analyst: &Analyst, ctx: &Context, dry_run: bool) -> BrokerAnswer {
    let base = BrokerAnswer {
        analyst: analyst.name.clone(),
        principal: analyst.principal.clone(),
        audit: Some(b.sink.describe()),
        ..BrokerAnswer::default()
    };
    if let Err(e) = check_audit(&b.sink, (b.clock)()).await {
        tracing::error!(error = %e, "audit destination unusable; nothing done");
        return BrokerAnswer { outcome: Some(Outcome::Refused.as_str().into()), line: format!("not sent: {e}"), ..base };
    }
    let client = (!dry_run).then_some(&b.client);
    let done = execute(client, action, analyst, ctx, Some(&b.sink), b.clock.as_ref()).await;
    let written = write_audit(&b.sink, done.record.clone()).await;
    tracing::info!(caller = %analyst.principal.as_deref().unwrap_or(""), action = action.name(), outcome = done.outcome.as_str(), "acted");
    BrokerAnswer::of(&done, written, analyst, b.sink.describe())
}
