//! The transport: Server-to-Server OAuth token fetch (Basic auth, `grant_type=
//! account_credentials`), a cached token reused until a minute before it expires, one
//! fresh token when Zoom reports it expired or invalid, per-second 429s waited out with
//! jitter (a few times), and a timeout on every call. The decisions are [`crate::error`]'s.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::credentials::Credentials;
use crate::error::{ApiError, RateHeaders, Verdict, classify};
use crate::request::{ApiRequest, Method, segment};

/// Default API base.
pub const API_URL: &str = "https://api.zoom.us/v2";
/// Default token endpoint.
pub const OAUTH_URL: &str = "https://zoom.us/oauth/token";

/// Where and how to call.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base (`ZOOM_API_URL`).
    pub api_url: String,
    /// Token endpoint (`ZOOM_OAUTH_URL`).
    pub oauth_url: String,
    /// Timeout of one HTTP exchange.
    pub timeout: Duration,
    /// Waits on per-second 429s before giving up.
    pub rate_retries: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { api_url: API_URL.into(), oauth_url: OAUTH_URL.into(), timeout: Duration::from_secs(15), rate_retries: 3 }
    }
}

impl ClientConfig {
    /// Defaults, with `ZOOM_API_URL`, `ZOOM_OAUTH_URL` and `ZOOM_API_TIMEOUT_SECS`
    /// applied.
    pub fn from_env() -> Self {
        let mut c = Self::default();
        if let Some(t) =
            std::env::var("ZOOM_API_TIMEOUT_SECS").ok().and_then(|s| s.trim().parse::<f64>().ok()).filter(|t| *t > 0.0 && t.is_finite())
        {
            c.timeout = Duration::from_secs_f64(t.min(600.0));
        }
        if let Some(u) = std::env::var("ZOOM_API_URL").ok().filter(|s| !s.trim().is_empty()) {
            c.api_url = u.trim().to_owned();
        }
        if let Some(u) = std::env::var("ZOOM_OAUTH_URL").ok().filter(|s| !s.trim().is_empty()) {
            c.oauth_url = u.trim().to_owned();
        }
        c
    }
}

/// A 2xx answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (`null` when empty, as for 204).
    pub body: Value,
}

struct Token {
    value: String,
    refresh_at: Instant,
}

/// Called with a line whenever the client waits (rate limit), for the CLI's stderr or
/// the console's notice line.
pub type Progress = Box<dyn Fn(&str) + Send + Sync>;

/// The Zoom API client. Cheap to share (`Arc`); the token is shared by all callers.
pub struct Client {
    http: reqwest::Client,
    cfg: ClientConfig,
    creds: Credentials,
    token: Mutex<Option<Token>>,
    progress: Option<Progress>,
}

impl Client {
    /// A client for `creds`.
    pub fn new(cfg: ClientConfig, creds: Credentials) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(concat!("zoomwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Unreachable { action: "setup".into(), host: String::new(), detail: e.to_string() })?;
        Ok(Self { http, cfg, creds, token: Mutex::new(None), progress: None })
    }

    /// Reports waits through `f`.
    pub fn with_progress(mut self, f: Progress) -> Self {
        self.progress = Some(f);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Makes `req` on behalf of `what` (action or lookup name), which needs `scope`.
    pub async fn call(&self, req: &ApiRequest, what: &str, scope: &str) -> Result<Response, ApiError> {
        let mut refreshed = false;
        let mut waits = 0;
        loop {
            let token = self.token(what, false).await?;
            let (status, headers, body) = self.send(req, &token, what).await?;
            if (200..300).contains(&status) {
                let body = if body.iter().all(u8::is_ascii_whitespace) {
                    Value::Null
                } else {
                    serde_json::from_slice(&body).map_err(|e| ApiError::BadAnswer {
                        action: what.to_owned(),
                        detail: format!("HTTP {status} with a body that is not JSON ({e})"),
                    })?
                };
                return Ok(Response { status, body });
            }
            let rate = RateHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok()), unix_now());
            match classify(what, scope, status, &body, &rate, unix_now()) {
                Verdict::RefreshToken if !refreshed => {
                    refreshed = true;
                    self.token(what, true).await?;
                }
                Verdict::RefreshToken => {
                    let answer = crate::error::ZoomAnswer::parse(status, &body);
                    let said = format!("HTTP {status} {}", answer.message.unwrap_or_default());
                    return Err(ApiError::TokenRefused { action: what.to_owned(), said });
                }
                Verdict::Wait(base) if waits < self.cfg.rate_retries => {
                    waits += 1;
                    // Jitter so that several consoles of one account do not retry in step.
                    let wait = base + Duration::from_millis(rand::random_range(0..1000));
                    if let Some(p) = &self.progress {
                        p(&format!(
                            "Zoom rate-limited {what}; waiting {:.1}s (attempt {} of {})",
                            wait.as_secs_f32(),
                            waits,
                            self.cfg.rate_retries
                        ));
                    }
                    tokio::time::sleep(wait).await;
                }
                Verdict::Wait(_) => {
                    let message = crate::error::ZoomAnswer::parse(status, &body).message.unwrap_or_default();
                    return Err(ApiError::RateLimited {
                        action: what.to_owned(),
                        kind: crate::error::RateKind::PerSecond,
                        retry_at: None,
                        message,
                    });
                }
                Verdict::Fail(e) => return Err(e),
            }
        }
    }

    async fn send(&self, req: &ApiRequest, token: &str, what: &str) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), ApiError> {
        let url = req.url(&self.cfg.api_url);
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut b = self.http.request(method, &url).bearer_auth(token).header("accept", "application/json");
        if let Some(body) = &req.body {
            b = b.header("content-type", "application/json").body(body.to_string());
        }
        let resp = b.send().await.map_err(|e| self.transport(e, &url, what))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| self.transport(e, &url, what))?;
        Ok((status, headers, body.to_vec()))
    }

    fn transport(&self, e: reqwest::Error, url: &str, what: &str) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout { action: what.to_owned(), after: self.cfg.timeout };
        }
        let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        // The source chain says why (refused, DNS, TLS) without the URL's query.
        let mut detail = String::new();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = src {
            detail = s.to_string();
            src = s.source();
        }
        if detail.is_empty() {
            detail = "connection failed".into();
        }
        ApiError::Unreachable { action: what.to_owned(), host, detail }
    }

    /// The cached token, or a new one when there is none, it is due, or `force`.
    async fn token(&self, what: &str, force: bool) -> Result<String, ApiError> {
        let mut slot = self.token.lock().await;
        if !force
            && let Some(t) = slot.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.creds.client_id, self.creds.secret()));
        let form = format!("grant_type=account_credentials&account_id={}", segment(&self.creds.account_id));
        let resp = self
            .http
            .post(&self.cfg.oauth_url)
            .header("authorization", format!("Basic {basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| self.transport(e, &self.cfg.oauth_url, what))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| self.transport(e, &self.cfg.oauth_url, what))?;
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        if !(200..300).contains(&status) {
            let reason = [v.get("reason"), v.get("error"), v.get("message")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
                .collect::<Vec<_>>()
                .join(": ");
            let reason = if reason.is_empty() { "no reason given".into() } else { reason };
            return Err(ApiError::Credentials { status, reason });
        }
        let Some(value) = v.get("access_token").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
            return Err(ApiError::BadAnswer { action: what.to_owned(), detail: "the token endpoint's answer has no access_token".into() });
        };
        let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3599);
        // Renew a minute before expiry (at once for very short-lived tokens).
        let refresh_at = Instant::now() + Duration::from_secs(expires_in.saturating_sub(60));
        *slot = Some(Token { value: value.to_owned(), refresh_at });
        Ok(value.to_owned())
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
