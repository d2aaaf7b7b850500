//! Signs webhook bodies exactly as Zoom does and posts them: the way to smoke-test any
//! endpoint, local or deployed (`zoomwatch-ingest send --url … FILE…`). Bodies are sent
//! byte for byte as read from disk, since the signature covers the raw bytes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zoomwatch_shared::signature::{self, SIGNATURE_HEADER, Secret, TIMESTAMP_HEADER};

/// The outcome of one POST.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// HTTP status.
    pub status: u16,
    /// Response body (trimmed to 2 KiB).
    pub body: String,
}

/// Why a body could not be delivered at all.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Connection refused, DNS failure, timeout, TLS error…
    #[error("request to {url} failed: {source}")]
    Http {
        /// The endpoint.
        url: String,
        /// The client error.
        source: reqwest::Error,
    },
}

/// Posts signed bodies. Reuses connections.
pub struct Sender {
    client: reqwest::Client,
    url: String,
    secret: Secret,
}

/// Current Unix time in seconds.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Sender {
    /// A sender for `url` signing with `secret` (10 s timeout per request).
    pub fn new(url: impl Into<String>, secret: Secret) -> Result<Self, reqwest::Error> {
        Self::with_timeout(url, secret, Duration::from_secs(10))
    }

    /// A sender with a custom per-request timeout.
    pub fn with_timeout(url: impl Into<String>, secret: Secret, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client =
            reqwest::Client::builder().timeout(timeout).user_agent(concat!("zoomwatch-ingest-send/", env!("CARGO_PKG_VERSION"))).build()?;
        Ok(Self { client, url: url.into(), secret })
    }

    /// Signs `body` at `timestamp` (Unix seconds; `None` = now) and posts it.
    pub async fn send(&self, body: Vec<u8>, timestamp: Option<i64>) -> Result<Delivery, SendError> {
        let ts = timestamp.unwrap_or_else(unix_now).to_string();
        let sig = signature::sign(&self.secret, &ts, &body);
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, &ts)
            .header(SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await
            .map_err(|source| SendError::Http { url: self.url.clone(), source })?;
        let status = resp.status().as_u16();
        let mut text = resp.text().await.unwrap_or_default();
        if text.len() > 2048 {
            let mut cut = 2048;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok(Delivery { status, body: text })
    }
}
