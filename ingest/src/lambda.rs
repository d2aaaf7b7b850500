//! Running the receiver under AWS Lambda behind API Gateway (HTTP API, payload v2; REST
//! API v1 and function URLs work too). `lambda_http` turns each invocation into an HTTP
//! request — base64 bodies already decoded to their raw bytes, which is what the
//! signature covers — and the same [`crate::router`] handles it.
//!
//! Settings come from the environment (the SAM template sets them):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZOOM_WEBHOOK_SECRET_ARN` | Secrets Manager secret holding the token(s), read once at init | — |
//! | `ZOOM_WEBHOOK_SECRET_TOKEN` | the token(s) directly (local testing; avoid in production) | — |
//! | `ZOOMWATCH_SINK` | `cloudwatch` or `stdout` (one JSON line per record in the function's own log) | `cloudwatch` |
//! | `ZOOMWATCH_LOG_GROUP` | log group for the CloudWatch sink | `/zoomwatch/events` |
//! | `ZOOMWATCH_WRITE_BUDGET_MS` | time allowed for one write, retries included | `2000` |
//! | `ZOOMWATCH_OCSF_LOG_GROUP` | a log group for an OCSF 1.8.0 copy of every record, written first (docs/ocsf.md) | none |
//! | `ZOOMWATCH_CLAIMS` | `dynamodb:TABLE`: the claim store shared by every instance ([`crate::claims`]) | none (at least once across instances) |
//! | `ZOOMWATCH_CLAIM_LEASE_SECS` | how long a write of unknown outcome (and a claim) holds its retries off | `30` |
//! | `ZOOMWATCH_CONFIG` | path of a `zoomwatch.toml` bundled with the function | built-in rules |
//! | `ZOOMWATCH_REPLAY_WINDOW_SECS` | oldest accepted `x-zm-request-timestamp`, seconds | `5700` (95 min: Zoom's late retries) |
//! | `ZOOMWATCH_MAX_AHEAD_SECS` | furthest accepted ahead of now, seconds | `300` |
//! | `ZOOMWATCH_GEOIP_CITY`, `_ASN`, `_ANONYMOUS` | MaxMind DB files (e.g. a layer under `/opt/geoip`) | `[enrichment]`, else none |
//!
//! With `ZOOMWATCH_MODE=poll` the same bootstrap is the scheduled report poller
//! ([`crate::poll`]) instead: each invocation (an EventBridge schedule) polls once.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZOOM_CREDENTIALS_SECRET` | Secrets Manager secret with the S2S app's `{account_id, client_id, client_secret}` | — |
//! | `ZOOM_APP_ID` | Marketplace app id, for failed deliveries | failed deliveries skipped |
//! | `ZOOMWATCH_POLL_REPORTS` | comma-separated reports | all three |
//! | `ZOOMWATCH_POLL_SINCE` | how far back a first run reaches (`2d`, `12h`) | `2d` |
//! | `ZOOMWATCH_STATE_BUCKET` | S3 bucket of the cursor (beside the watch checkpoint) | — (required) |
//! | `ZOOMWATCH_POLL_KEY` | the cursor's key | `poll-cursor.json` |
//!
//! With `ZOOMWATCH_MODE=watch` it is the scheduled watch function ([`crate::watch_function`],
//! settings there): the detector over the log group, alerts written back to it.
//!
//! With `ZOOMWATCH_MODE=broker` it is the action broker ([`crate::broker`], settings
//! there), behind a function URL with IAM auth.

use std::time::Duration;

use crate::error::{IngestError, Result};
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;

use crate::config::{ReceiverConfig, SECRET_ENV, load_rules};
use crate::router::ClientInfo;

use zoomwatch_log::aws::{DEFAULT_LOG_GROUP, logs_client};
use zoomwatch_log::sink::{AnySink, CloudWatchSink, StdoutSink};
use zoomwatch_shared::SecretSet;

/// Environment variable naming a log group for the OCSF copy of every record.
pub const OCSF_ENV: &str = "ZOOMWATCH_OCSF_LOG_GROUP";

/// Environment variable naming the Secrets Manager secret.
pub const SECRET_ARN_ENV: &str = "ZOOM_WEBHOOK_SECRET_ARN";

/// True when this process was started by the Lambda runtime (or an emulator of it).
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

async fn client_info(mut req: Request, next: Next) -> Response {
    let info = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ClientInfo { source_ip: ctx.http.source_ip.clone(), request_id: ctx.request_id.clone() },
        Some(RequestContext::ApiGatewayV1(ctx)) => {
            ClientInfo { source_ip: ctx.identity.source_ip.clone(), request_id: ctx.request_id.clone() }
        }
        _ => ClientInfo::default(),
    };
    req.extensions_mut().insert(info);
    next.run(req).await
}

/// The router as Lambda runs it: request context → [`ClientInfo`].
pub fn lambda_router(router: Router) -> Router {
    router.layer(middleware::from_fn(client_info))
}

/// Secret token(s) from Secrets Manager. The secret string is either the token(s)
/// themselves (`new,old`) or JSON with a `token` (or `ZOOM_WEBHOOK_SECRET_TOKEN`) field.
async fn secret_from_arn(sdk: &aws_config::SdkConfig, arn: &str) -> Result<SecretSet> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        IngestError::Setting(format!(
            "cannot read secret {arn} (does the function's role allow secretsmanager:GetSecretValue on it?): {}",
            aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
        ))
    })?;
    let Some(text) = out.secret_string() else { return Err(IngestError::Setting(format!("secret {arn} has no SecretString"))) };
    let tokens = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => m
            .get("token")
            .or_else(|| m.get(SECRET_ENV))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| IngestError::Setting(format!("secret {arn} is JSON without a \"token\" field")))?,
        _ => text.to_owned(),
    };
    SecretSet::parse(&tokens).map_err(|e| IngestError::Setting(format!("secret {arn} is empty: {e}")))
}

/// Builds the receiver configuration and sink from the environment. SDK clients are
/// created here, once per execution environment.
pub async fn from_env() -> Result<(ReceiverConfig, AnySink)> {
    // The SDK configuration is only loaded when something needs AWS.
    let mut sdk: Option<aws_config::SdkConfig> = None;
    let secrets = match (std::env::var(SECRET_ARN_ENV), std::env::var(SECRET_ENV)) {
        (Ok(arn), _) if !arn.is_empty() => {
            let conf = sdk.insert(aws_config::load_from_env().await);
            secret_from_arn(conf, &arn).await?
        }
        (_, Ok(tokens)) => SecretSet::parse(&tokens).map_err(|e| IngestError::Setting(format!("{SECRET_ENV} is empty: {e}")))?,
        _ => return Err(IngestError::Setting(format!("no webhook secret: set {SECRET_ARN_ENV} (Secrets Manager) or {SECRET_ENV}"))),
    };
    let mut cfg = ReceiverConfig::new(secrets);
    let (rules, geo) = load_rules(None).map_err(IngestError::Setting)?;
    if let Some(g) = &geo {
        tracing::info!(geoip = %g.describe(), "GeoIP enrichment on");
    }
    cfg.rules = std::sync::Arc::new(rules);
    cfg.geo = geo;
    let secs = |var: &str| -> Result<Option<u64>> {
        match std::env::var(var) {
            Ok(v) => v.trim().parse().map(Some).map_err(|e| IngestError::Setting(format!("{var}={v:?} is not a number of seconds: {e}"))),
            Err(_) => Ok(None),
        }
    };
    if let Some(age) = secs("ZOOMWATCH_REPLAY_WINDOW_SECS")? {
        cfg.replay_window.max_age_secs = age;
    }
    if let Some(ahead) = secs("ZOOMWATCH_MAX_AHEAD_SECS")? {
        cfg.replay_window.max_ahead_secs = ahead;
    }
    let lease = secs("ZOOMWATCH_CLAIM_LEASE_SECS")?.map(|l| Duration::from_secs(l.max(1)));
    if let Some(lease) = lease {
        cfg.write_lease = lease;
    }
    if let Some(uri) = std::env::var(crate::claims::CLAIMS_ENV).ok().filter(|v| !v.trim().is_empty()) {
        // The template creates the table; the function only reads and writes its items.
        let spec = crate::claims::ClaimsSpec::parse(&uri).map_err(IngestError::Setting)?;
        let conf = match &sdk {
            Some(c) => c.clone(),
            None => sdk.insert(aws_config::load_from_env().await).clone(),
        };
        let crate::claims::ClaimsSpec::DynamoDb(table) = &spec;
        let mut claims = crate::claims::Claims::new(aws_sdk_dynamodb::Client::new(&conf), table.clone());
        if let Some(lease) = lease {
            claims = claims.with_lease(lease);
        }
        tracing::info!(table = claims.table(), "claim store on: exactly once into the log across instances");
        cfg.claims = Some(std::sync::Arc::new(claims));
    }
    let sink = match std::env::var("ZOOMWATCH_SINK").unwrap_or_else(|_| "cloudwatch".to_owned()).as_str() {
        "stdout" => AnySink::Stdout(StdoutSink::new()),
        "cloudwatch" => {
            let group = std::env::var("ZOOMWATCH_LOG_GROUP").unwrap_or_else(|_| DEFAULT_LOG_GROUP.to_owned());
            let budget_ms: u64 = std::env::var("ZOOMWATCH_WRITE_BUDGET_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
            let conf = match sdk.take() {
                Some(c) => c,
                None => aws_config::load_from_env().await,
            };
            AnySink::CloudWatch(CloudWatchSink::new(
                logs_client(&conf, Some(Duration::from_millis(budget_ms))),
                group,
                Duration::from_millis(budget_ms),
            ))
        }
        other => return Err(IngestError::Setting(format!("ZOOMWATCH_SINK={other:?}: use cloudwatch or stdout"))),
    };
    Ok((cfg, sink))
}

/// Runs the Lambda event loop until the runtime stops it: the receiver, or with
/// `ZOOMWATCH_MODE=poll` the scheduled poller, or with `ZOOMWATCH_MODE=watch` the
/// scheduled watch function ([`crate::watch_function`]).
pub async fn run() -> Result<()> {
    match std::env::var("ZOOMWATCH_MODE").as_deref() {
        Ok("poll") => return run_poller().await,
        Ok("watch") => return run_watcher().await,
        Ok("broker") => return run_broker().await,
        _ => {}
    }
    let (cfg, sink) = from_env().await?;
    let copy = match std::env::var(OCSF_ENV).ok().filter(|g| !g.trim().is_empty()) {
        Some(group) => {
            let budget_ms: u64 = std::env::var("ZOOMWATCH_WRITE_BUDGET_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
            let conf = aws_config::load_from_env().await;
            let budget = Duration::from_millis(budget_ms);
            Some(AnySink::CloudWatch(CloudWatchSink::new(logs_client(&conf, Some(budget)), group, budget)))
        }
        None => None,
    };
    let sink = zoomwatch_log::sink::MaybeOcsf::new(sink, copy);
    tracing::info!(sink = %zoomwatch_log::Sink::describe(&sink), secrets = cfg.secrets.len(), "zoomwatch-ingest ready (lambda)");
    let app = lambda_router(crate::router(cfg, sink));
    lambda_http::run(app).await.map_err(|e| IngestError::Runtime(e.to_string()))
}

/// The caller's IAM identity from a function URL's request context (`AuthType: AWS_IAM`;
/// AWS verified the signature before invoking) into a [`crate::broker::Caller`].
async fn caller_identity(mut req: Request, next: Next) -> Response {
    let arn = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.iam.as_ref()).and_then(|i| i.user_arn.clone()).filter(|a| a.starts_with("arn:"))
        }
        _ => None,
    };
    if let Some(arn) = arn {
        req.extensions_mut().insert(crate::broker::Caller { arn });
    }
    next.run(req).await
}

/// The action broker: Zoom credentials and the audit sink set up once per execution
/// environment; each request acts for the IAM identity that signed it.
async fn run_broker() -> Result<()> {
    use zoomwatch_log::Writer;
    let sdk = aws_config::load_from_env().await;
    let (creds, source) = zoomwatch_zoomapi::credentials::load(None).await?;
    let client = zoomwatch_zoomapi::Client::new(zoomwatch_zoomapi::ClientConfig::from_env(), creds)?;
    let group = std::env::var("ZOOMWATCH_LOG_GROUP").unwrap_or_else(|_| DEFAULT_LOG_GROUP.to_owned());
    let budget = Duration::from_secs(10);
    let sink = AnySink::CloudWatch(CloudWatchSink::for_writer(logs_client(&sdk, Some(budget)), group, budget, Writer::Broker));
    tracing::info!(credentials = %source, audit = %zoomwatch_log::Sink::describe(&sink), "zoomwatch-ingest ready (lambda, broker)");
    let broker = crate::broker::Broker { client, sink, clock: crate::config::system_clock() };
    let app = crate::broker::router(std::sync::Arc::new(broker)).layer(middleware::from_fn(caller_identity));
    lambda_http::run(app).await.map_err(|e| IngestError::Runtime(e.to_string()))
}

/// The scheduled poller: settings read once per execution environment, one poll per
/// invocation. An invocation fails (and Lambda reports it) when every report failed.
async fn run_poller() -> Result<()> {
    use crate::poll::{CursorStore, PollOptions, parse_reports, poll_once};
    let sdk = aws_config::load_from_env().await;
    let (creds, _) = zoomwatch_zoomapi::credentials::load(None).await?;
    let client = std::sync::Arc::new(zoomwatch_zoomapi::Client::new(zoomwatch_zoomapi::ClientConfig::from_env(), creds)?);
    let (rules, geo) = load_rules(None).map_err(IngestError::Setting)?;
    let reports = parse_reports(&std::env::var("ZOOMWATCH_POLL_REPORTS").unwrap_or_default()).map_err(IngestError::Setting)?;
    let since_ms = crate::poll::parse_duration_ms(&std::env::var("ZOOMWATCH_POLL_SINCE").unwrap_or_else(|_| "2d".into()))
        .map_err(IngestError::Setting)?;
    let opts = std::sync::Arc::new(PollOptions {
        reports,
        since_ms,
        app_id: std::env::var("ZOOM_APP_ID").ok().filter(|s| !s.trim().is_empty()),
        rules: std::sync::Arc::new(rules),
        geo,
    });
    let group = std::env::var("ZOOMWATCH_LOG_GROUP").unwrap_or_else(|_| DEFAULT_LOG_GROUP.to_owned());
    let budget = Duration::from_secs(10);
    let sink = std::sync::Arc::new(CloudWatchSink::for_poller(logs_client(&sdk, Some(budget)), group, budget));
    let bucket = std::env::var("ZOOMWATCH_STATE_BUCKET")
        .map_err(|_| IngestError::Setting("ZOOMWATCH_STATE_BUCKET is not set (the bucket of the poll cursor)".into()))?;
    let key = std::env::var("ZOOMWATCH_POLL_KEY").unwrap_or_else(|_| "poll-cursor.json".into());
    let object = crate::state_store::StateObject { client: crate::state_store::s3_client(&sdk), bucket, key };
    let store = std::sync::Arc::new(CursorStore::S3(object));
    tracing::info!(reports = ?opts.reports, "zoomwatch-ingest ready (lambda, poll)");
    let handler = lambda_http::service_fn(move |_event: lambda_http::LambdaEvent<serde_json::Value>| {
        let (client, sink, store, opts) = (client.clone(), sink.clone(), store.clone(), opts.clone());
        async move {
            let now = crate::send::unix_now() * 1000;
            let outcomes = poll_once(&client, sink.as_ref(), &store, &opts, now).await;
            for o in &outcomes {
                match &o.error {
                    None => tracing::info!(report = %o.report, rows = o.rows, written = o.written, pages = o.pages, "polled"),
                    Some(e) => tracing::error!(report = %o.report, error = %e, "poll failed"),
                }
            }
            if outcomes.iter().all(|o| o.error.is_some()) {
                return Err(lambda_http::Error::from("every report failed; see the log lines above"));
            }
            Ok::<_, lambda_http::Error>(serde_json::json!({"reports": outcomes}))
        }
    });
    lambda_http::lambda_runtime::run(handler).await.map_err(|e| IngestError::Runtime(e.to_string()))
}

/// The scheduled watch function: one pass over the log group per invocation, bounded
/// by the invocation's deadline. An invocation fails (and Lambda reports it) when it
/// could not read, write or save; the next one starts from the last saved checkpoint.
async fn run_watcher() -> Result<()> {
    let sdk = aws_config::load_from_env().await;
    let f = std::sync::Arc::new(crate::watch_function::WatchFunction::from_env(&sdk).await?);
    tracing::info!(watch = %f.describe(), "zoomwatch-ingest ready (lambda, watch)");
    let handler = lambda_http::service_fn(move |event: lambda_http::LambdaEvent<serde_json::Value>| {
        let f = f.clone();
        async move {
            let now_ms = crate::send::unix_now() * 1000;
            let left = event.context.deadline.saturating_sub(u64::try_from(now_ms).unwrap_or(0));
            let deadline = std::time::Instant::now() + Duration::from_millis(left.clamp(1_000, 15 * 60 * 1000));
            tracing::info!(left_ms = left, "watch run starting");
            match f.run_once(now_ms, deadline).await {
                Ok(s) => {
                    tracing::info!(
                        records = s.records,
                        pages = s.pages,
                        written = s.written,
                        raised = s.raised,
                        notified = s.notified,
                        complete = s.complete,
                        "watched"
                    );
                    Ok::<_, lambda_http::Error>(serde_json::to_value(&s).unwrap_or_default())
                }
                Err(e) => {
                    tracing::error!(error = %e, "watch run failed");
                    Err(lambda_http::Error::from(e.to_string()))
                }
            }
        }
    });
    lambda_http::lambda_runtime::run(handler).await.map_err(|e| IngestError::Runtime(e.to_string()))
}
