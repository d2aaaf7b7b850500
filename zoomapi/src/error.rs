//! Zoom's answers, classified. Error bodies are `{"code": <int>, "message": "…"}`; the
//! code decides, not the HTTP status (Zoom sends 124 "invalid access token" as 401 on
//! some endpoints and 400 on others). Everything here is pure: headers come in as a
//! lookup function and time as Unix seconds.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What Zoom said, as kept in audit records.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct ZoomAnswer {
    /// HTTP status.
    pub status: u16,
    /// Zoom's error code, when the body had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Zoom's message, when the body had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ZoomAnswer {
    /// Reads status and the `{code, message}` body (any other body: no code, no message).
    pub fn parse(status: u16, body: &[u8]) -> Self {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let message = v.get("message").and_then(|m| m.as_str()).map(|m| clip(m, 300));
        Self { status, code: v.get("code").and_then(serde_json::Value::as_i64), message }
    }

    fn said(&self) -> String {
        match (self.code, &self.message) {
            (Some(c), Some(m)) => format!("{c} {m}"),
            (Some(c), None) => c.to_string(),
            (None, Some(m)) => m.clone(),
            (None, None) => "no message".into(),
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    clean
}

/// Per-second or daily.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    /// `X-RateLimit-Type: QPS` (or `Per-second-limit`), or a per-meeting limit: wait a
    /// moment and try again.
    PerSecond,
    /// `X-RateLimit-Type: Daily-limit`, or a per-user/registrant daily cap: stop until
    /// the reset (00:00 UTC).
    Daily,
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The app lacks a scope (Zoom code 4711/4700).
    #[error(
        "Zoom refused {action}: the app lacks the scope {scope} (code {code}); add it to the Server-to-Server OAuth app in the Zoom Marketplace"
    )]
    MissingScope {
        /// Action or lookup name.
        action: String,
        /// The scope Zoom named, else the one the action needs.
        scope: String,
        /// 4711 or 4700.
        code: i64,
    },
    /// The token was refused even after fetching a new one.
    #[error("Zoom refused a freshly issued access token for {action} ({said}); the app may be deactivated or its credentials rotated")]
    TokenRefused {
        /// Action or lookup name.
        action: String,
        /// Zoom's code and message.
        said: String,
    },
    /// The token endpoint refused the credentials.
    #[error(
        "Zoom's OAuth endpoint refused the Server-to-Server credentials: {reason} (HTTP {status}); check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET, and that the app is activated"
    )]
    Credentials {
        /// HTTP status.
        status: u16,
        /// Zoom's `error`/`reason`.
        reason: String,
    },
    /// A started meeting cannot be updated (code 3000 on PATCH).
    #[error(
        "Zoom refused {action}: the meeting has started and its settings cannot be changed now ({said}); end-meeting stops it, harden-meeting protects its next start"
    )]
    MeetingStarted {
        /// Action name.
        action: String,
        /// Zoom's code and message.
        said: String,
    },
    /// A rate limit.
    #[error("{}", rate_text(action, *kind, *retry_at, message))]
    RateLimited {
        /// Action or lookup name.
        action: String,
        /// Per-second or daily.
        kind: RateKind,
        /// When Zoom accepts the call again (Unix seconds), when it said.
        retry_at: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// Any other refusal (4xx): Zoom's code and message as they are.
    #[error("Zoom refused {action}: HTTP {} {}", answer.status, answer.said())]
    Refused {
        /// Action or lookup name.
        action: String,
        /// What Zoom said.
        answer: ZoomAnswer,
    },
    /// Zoom failed (5xx): the action may or may not have happened.
    #[error("Zoom failed on {action}: HTTP {} {}; the action may or may not have taken effect, check before repeating it", answer.status, answer.said())]
    Server {
        /// Action or lookup name.
        action: String,
        /// What Zoom said.
        answer: ZoomAnswer,
    },
    /// No answer in time.
    #[error("Zoom did not answer {action} within {}s; it may or may not have taken effect, check before repeating it", after.as_secs_f32())]
    Timeout {
        /// Action or lookup name.
        action: String,
        /// The timeout.
        after: Duration,
    },
    /// Could not connect.
    #[error("cannot reach {host} for {action}: {detail}; check the network, a proxy, or ZOOM_API_URL / ZOOM_OAUTH_URL")]
    Unreachable {
        /// Action or lookup name.
        action: String,
        /// Host part of the URL.
        host: String,
        /// The transport's reason.
        detail: String,
    },
    /// A 2xx answer we could not read.
    #[error("unexpected answer from Zoom to {action}: {detail}")]
    BadAnswer {
        /// Action or lookup name.
        action: String,
        /// What was wrong.
        detail: String,
    },
}

impl ApiError {
    /// What Zoom answered, when it answered.
    pub fn answer(&self) -> Option<ZoomAnswer> {
        match self {
            Self::Refused { answer, .. } | Self::Server { answer, .. } => Some(answer.clone()),
            Self::MissingScope { code, .. } => Some(ZoomAnswer { status: 400, code: Some(*code), message: None }),
            Self::RateLimited { message, .. } => Some(ZoomAnswer { status: 429, code: Some(429), message: Some(message.clone()) }),
            _ => None,
        }
    }

    /// Short stable label for audit records and `--json`: `missing_scope`, `rate_limited`…
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingScope { .. } => "missing_scope",
            Self::TokenRefused { .. } => "token_refused",
            Self::Credentials { .. } => "credentials_refused",
            Self::MeetingStarted { .. } => "meeting_started",
            Self::RateLimited { .. } => "rate_limited",
            Self::Refused { .. } => "refused",
            Self::Server { .. } => "zoom_error",
            Self::Timeout { .. } => "timeout",
            Self::Unreachable { .. } => "unreachable",
            Self::BadAnswer { .. } => "bad_answer",
        }
    }
}

fn rate_text(action: &str, kind: RateKind, retry_at: Option<i64>, message: &str) -> String {
    let when = retry_at.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()).and_then(|t| t.format(&Rfc3339).ok());
    match (kind, when) {
        (RateKind::Daily, Some(w)) => format!("Zoom's daily rate limit for {action} is used up; Zoom accepts it again at {w} ({message})"),
        (RateKind::Daily, None) => format!("Zoom's daily rate limit for {action} is used up; it resets at 00:00 UTC ({message})"),
        (RateKind::PerSecond, _) => format!("Zoom kept rate-limiting {action} after several waits; try again in a minute ({message})"),
    }
}

/// What the rate-limit headers of a 429 said (every one is optional).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateHeaders {
    /// `X-RateLimit-Type`.
    pub limit_type: Option<String>,
    /// `Retry-After`, as Unix seconds.
    pub retry_at: Option<i64>,
}

impl RateHeaders {
    /// Reads the headers through `get` (case-insensitive names) at `now` (Unix seconds).
    pub fn read<'a>(get: impl Fn(&str) -> Option<&'a str>, now: i64) -> Self {
        Self {
            limit_type: get("x-ratelimit-type").map(str::to_owned),
            retry_at: get("retry-after").and_then(|v| parse_retry_after(v, now)),
        }
    }
}

/// `Retry-After` as Unix seconds: Zoom sends a date-time (`2025-01-20T00:00:00Z`); an
/// HTTP date and a number of seconds are accepted too.
pub fn parse_retry_after(v: &str, now: i64) -> Option<i64> {
    let v = v.trim();
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    if let Ok(t) = httpdate::parse_http_date(v) {
        return t.duration_since(std::time::UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_secs()).ok());
    }
    v.parse::<u32>().ok().map(|s| now + i64::from(s))
}

/// A seconds figure in a message like "…resume these API requests after 5 seconds".
fn seconds_in(message: &str) -> Option<i64> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find(" second")?;
    let digits: String = lower[..at].chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// The scope named in a 4711 message (`…does not contain scopes:[user:read:admin].`).
fn scope_in(message: &str) -> Option<String> {
    let start = message.find("scopes:[")? + "scopes:[".len();
    let end = message[start..].find(']')? + start;
    let s = message[start..end].trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// How the client should react to one non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The token is expired or invalid (124, or 401): fetch a new one and try once more.
    RefreshToken,
    /// Per-second limit: wait this long and try again.
    Wait(Duration),
    /// Give up with this error.
    Fail(ApiError),
}

/// Classifies a non-2xx answer to `action` (which needs `scope`).
pub fn classify(action: &str, scope: &str, status: u16, body: &[u8], rate: &RateHeaders, now: i64) -> Verdict {
    let answer = ZoomAnswer::parse(status, body);
    let action = action.to_owned();
    let message = answer.message.clone().unwrap_or_default();
    match (status, answer.code) {
        (_, Some(124)) | (401, None) => Verdict::RefreshToken,
        (_, Some(code @ (4711 | 4700))) => {
            Verdict::Fail(ApiError::MissingScope { action, scope: scope_in(&message).unwrap_or_else(|| scope.to_owned()), code })
        }
        (429, _) => {
            let daily = rate.limit_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("daily-limit"))
                || message.to_ascii_lowercase().contains("daily")
                || message.contains("GMT 00:00");
            if daily {
                return Verdict::Fail(ApiError::RateLimited { action, kind: RateKind::Daily, retry_at: rate.retry_at, message });
            }
            // Per-second: Zoom's Retry-After when it is soon, else the wait its message
            // names (per-meeting controls say 5 s), else about a second.
            let secs = rate.retry_at.map(|t| t - now).filter(|d| (0..=30).contains(d)).or_else(|| seconds_in(&message));
            let base = secs.map_or(Duration::from_secs(1), |s| Duration::from_secs(u64::try_from(s.clamp(0, 30)).unwrap_or(1)));
            Verdict::Wait(base)
        }
        (400, Some(3000)) if message.to_ascii_lowercase().contains("started") => {
            Verdict::Fail(ApiError::MeetingStarted { action, said: answer.said() })
        }
        (500.., _) => Verdict::Fail(ApiError::Server { action, answer }),
        _ => Verdict::Fail(ApiError::Refused { action, answer }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_633_600; // 2025-12-02T00:00:00Z

    fn run(status: u16, body: &str, limit_type: Option<&str>, retry_after: Option<&str>) -> Verdict {
        let get = |name: &str| match name {
            "x-ratelimit-type" => limit_type,
            "retry-after" => retry_after,
            _ => None,
        };
        classify("end-meeting", "meeting:update:status:admin", status, body.as_bytes(), &RateHeaders::read(get, NOW), NOW)
    }

    #[test]
    fn expired_token_is_refreshed_whatever_the_status() {
        assert_eq!(run(401, r#"{"code":124,"message":"Invalid access token."}"#, None, None), Verdict::RefreshToken);
        assert_eq!(run(400, r#"{"code":124,"message":"Access token is expired."}"#, None, None), Verdict::RefreshToken);
        assert_eq!(run(401, "", None, None), Verdict::RefreshToken);
    }

    #[test]
    fn missing_scope_names_the_scope() {
        let v = run(
            400,
            r#"{"code":4711,"message":"Invalid access token, does not contain scopes:[meeting:update:status:admin]."}"#,
            None,
            None,
        );
        let Verdict::Fail(e) = v else { panic!("{v:?}") };
        let text = e.to_string();
        assert!(text.contains("meeting:update:status:admin") && text.contains("end-meeting"), "{text}");
        // Without a parsable message, the action's own scope is named.
        let Verdict::Fail(e) = run(400, r#"{"code":4700,"message":"Invalid access token, does not contain scopes."}"#, None, None) else {
            panic!()
        };
        assert!(e.to_string().contains("meeting:update:status:admin"));
    }

    #[test]
    fn per_second_limits_wait_daily_limits_stop() {
        assert_eq!(
            run(
                429,
                r#"{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}"#,
                Some("QPS"),
                None
            ),
            Verdict::Wait(Duration::from_secs(1))
        );
        // Retry-After soon, as a date-time.
        assert_eq!(run(429, r#"{"code":429}"#, Some("QPS"), Some("2025-12-02T00:00:03Z")), Verdict::Wait(Duration::from_secs(3)));
        // Per-meeting controls: "after 5 seconds".
        assert_eq!(
            run(
                429,
                r#"{"code":429,"message":"You have exceeded the rate limit for this meeting. You can resume these API requests after 5 seconds."}"#,
                None,
                None
            ),
            Verdict::Wait(Duration::from_secs(5))
        );
        let Verdict::Fail(e) = run(
            429,
            r#"{"code":429,"message":"You have reached the maximum daily rate limit for this API."}"#,
            Some("Daily-limit"),
            Some("2025-12-03T00:00:00Z"),
        ) else {
            panic!()
        };
        assert!(e.to_string().contains("2025-12-03T00:00:00Z"), "{e}");
        assert!(matches!(e, ApiError::RateLimited { kind: RateKind::Daily, .. }));
        // Daily without headers (registrant cap).
        let Verdict::Fail(e) = run(429, r#"{"code":429,"message":"You can resume these API requests at GMT 00:00:00."}"#, None, None)
        else {
            panic!()
        };
        assert!(e.to_string().contains("00:00 UTC"), "{e}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2025-12-02T00:00:10Z", NOW), Some(NOW + 10));
        assert_eq!(parse_retry_after("Tue, 02 Dec 2025 00:00:20 GMT", NOW), Some(NOW + 20));
        assert_eq!(parse_retry_after("7", NOW), Some(NOW + 7));
        assert_eq!(parse_retry_after("soon", NOW), None);
    }

    #[test]
    fn started_meeting_other_refusals_and_server_errors() {
        let v =
            run(400, r#"{"code":3000,"message":"You cannot update or delete meetings that have started using this method."}"#, None, None);
        assert!(matches!(v, Verdict::Fail(ApiError::MeetingStarted { .. })), "{v:?}");
        let Verdict::Fail(e) = run(404, r#"{"code":3001,"message":"Meeting 845 is not found or has expired."}"#, None, None) else {
            panic!()
        };
        assert_eq!(e.to_string(), "Zoom refused end-meeting: HTTP 404 3001 Meeting 845 is not found or has expired.");
        let Verdict::Fail(e) = run(503, "<html>bad gateway</html>", None, None) else { panic!() };
        assert!(matches!(e, ApiError::Server { .. }) && e.to_string().contains("may or may not"), "{e}");
    }

    #[test]
    fn hostile_messages_are_cleaned() {
        let a = ZoomAnswer::parse(400, "{\"code\":1,\"message\":\"\\u001b[2Jgone\"}".as_bytes());
        assert_eq!(a.message.as_deref(), Some("[2Jgone"));
    }
}
