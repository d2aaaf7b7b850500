//! The action broker's protocol, and the client `zoomwatch act --broker` and the console
//! use. In AWS the broker is a Lambda function behind a function URL with IAM auth: it
//! holds the Zoom S2S credentials (analysts need none, and the template then takes
//! `GetSecretValue` away from them), takes the analyst's name from the IAM identity AWS
//! authenticated rather than from the analyst, and writes the intent and outcome audit
//! records on its own streams itself. The client signs each request with the analyst's
//! AWS credentials (SigV4, service `lambda`).
//!
//! A request is one JSON object: `{"action": {…}}` or `{"lookup": {…}}` (the wire forms of
//! [`Action`] and [`Lookup`]), with optional `reason`, `alert` and `dry_run`. The answer
//! is a [`BrokerAnswer`].

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zoomwatch_shared::audit::{Answer, CallInfo};
use zoomwatch_zoomapi::{Action, Lookup};

use crate::aws::AwsOptions;

/// The most a request to the broker may carry.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What an analyst asks the broker for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerRequest {
    /// An action (audited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// A read-only lookup (not audited, as on the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Lookup>,
    /// Why (kept in the audit record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The alert responded to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// Audit the action as a dry run; call nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl BrokerRequest {
    /// Exactly one of an action and a lookup.
    pub fn check(&self) -> Result<(), String> {
        match (&self.action, &self.lookup) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("a broker request holds exactly one of \"action\" and \"lookup\"".to_owned()),
        }
    }
}

/// What the broker answers (HTTP 200): for an action, its outcome and audit record; for
/// a lookup, Zoom's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrokerAnswer {
    /// `succeeded`, `failed`, `refused`, `dry_run`; `None` for a lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The action was done (or dry run) and audited; the lookup answered.
    pub ok: bool,
    /// One line for the analyst.
    pub line: String,
    /// Who the broker acted for (from the IAM identity).
    pub analyst: String,
    /// That identity's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The Zoom call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallInfo>,
    /// Zoom's answer to an action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// The outcome record's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Where the broker wrote the audit records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    /// Why the outcome record could not be written (the intent was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_error: Option<String>,
    /// A lookup's answer from Zoom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl BrokerAnswer {
    /// The result of one action run through the audited door ([`crate::audited::execute`])
    /// and its outcome record's write (`written`) to `audit`: done only when both were.
    pub fn of(done: &crate::audited::Done, written: Result<(), String>, analyst: &crate::audited::Analyst, audit: String) -> Self {
        use zoomwatch_shared::audit::Outcome;
        let response = done.record.response.as_deref();
        Self {
            outcome: Some(done.outcome.as_str().into()),
            ok: matches!(done.outcome, Outcome::Succeeded | Outcome::DryRun) && written.is_ok(),
            line: done.line.clone(),
            analyst: analyst.name.clone(),
            principal: analyst.principal.clone(),
            call: response.and_then(|r| r.call.clone()),
            answer: response.and_then(|r| r.answer.clone()),
            record_id: Some(done.record.id.clone()),
            audit: Some(audit),
            audit_error: written.err(),
            body: None,
        }
    }

    /// The one JSON object `zoomwatch act --json` prints for `action`.
    pub fn to_json(&self, action: &Action) -> Value {
        serde_json::json!({
            "action": action.name(),
            "outcome": self.outcome,
            "ok": self.ok,
            "meeting": action.meeting(),
            "user": action.user(),
            "participant_uuid": action.participant_uuid(),
            "call": self.call,
            "answer": self.answer,
            "result": self.line,
            "record_id": self.record_id,
            "audit": self.audit,
            "audit_error": self.audit_error,
            "analyst": self.analyst,
            "principal": self.principal,
        })
    }
}

/// The analyst's name for an IAM identity: an IAM user's name, an assumed role's session
/// name (what IAM Identity Center sets to the person's user name), else the whole ARN.
pub fn analyst_of(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    if let Some(user) = resource.strip_prefix("user/") {
        return user.rsplit('/').next().unwrap_or(user).to_owned();
    }
    if let Some(role) = resource.strip_prefix("assumed-role/")
        && let Some((_, session)) = role.split_once('/')
        && !session.is_empty()
    {
        return session.to_owned();
    }
    arn.to_owned()
}

/// The region in a function URL's host (`<id>.lambda-url.<region>.on.aws`).
fn region_of_url(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let rest = host.split_once(".lambda-url.")?.1;
    rest.strip_suffix(".on.aws").map(str::to_owned)
}

/// Why a request to the broker did not come back with an answer.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Nothing was sent (settings, credentials, signing).
    #[error("{0}; nothing was sent")]
    NotSent(String),
    /// Sent, and no answer came: the broker may have acted (its audit records say).
    #[error("the action broker did not answer ({0}); it may have acted: its audit records in the log group say")]
    NoAnswer(String),
    /// The broker (or AWS in front of it) refused the request.
    #[error("the action broker refused the request (HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
}

/// Signs and sends requests to one broker.
pub struct BrokerClient {
    url: reqwest::Url,
    region: String,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
    http: reqwest::Client,
}

impl BrokerClient {
    /// A client for the function URL `url`, signing with the AWS credentials of `aws`
    /// (the standard chain: `--profile`, `AWS_PROFILE`, SSO…). The region is the SDK's,
    /// else the one in the URL.
    pub async fn new(url: &str, aws: &AwsOptions) -> Result<Self, BrokerError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| BrokerError::NotSent(format!("--broker {url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(BrokerError::NotSent(format!("--broker {url:?}: expected the broker's https:// function URL")));
        }
        let mut opts = aws.clone();
        if opts.region.is_none() && std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            opts.region = region_of_url(&parsed);
        }
        let sdk = crate::aws::load(&opts).await.map_err(|e| BrokerError::NotSent(e.to_string()))?;
        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
        let credentials =
            sdk.credentials_provider().ok_or_else(|| BrokerError::NotSent("no AWS credentials to sign the request with".into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BrokerError::NotSent(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { url: parsed, region, credentials, http })
    }

    /// The broker's URL, for messages.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Sends `req`, signed, and reads the answer.
    pub async fn send(&self, req: &BrokerRequest) -> Result<BrokerAnswer, BrokerError> {
        let body = serde_json::to_vec(req).map_err(|e| BrokerError::NotSent(format!("cannot encode the request: {e}")))?;
        let creds = self.credentials.provide_credentials().await.map_err(|e| {
            BrokerError::NotSent(format!("no usable AWS credentials to sign the request with ({e}): run `aws sso login` or set a profile"))
        })?;
        let headers = sign(&self.url, &self.region, &creds, &body, SystemTime::now()).map_err(BrokerError::NotSent)?;
        let mut rb = self.http.post(self.url.clone()).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        let resp = rb.send().await.map_err(|e| BrokerError::NoAnswer(crate::aws::error_chain(&e).1))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| BrokerError::NoAnswer(crate::aws::error_chain(&e).1))?;
        if status != 200 {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.get("error").or_else(|| v.get("Message")).or_else(|| v.get("message")).and_then(Value::as_str).map(str::to_owned)
                })
                .unwrap_or_else(|| text.chars().take(300).collect());
            return Err(BrokerError::Refused { status, message: zoomwatch_shared::text::sanitize(&message, 300).into_owned() });
        }
        serde_json::from_str(&text).map_err(|e| BrokerError::NoAnswer(format!("its answer is not a broker answer: {e}")))
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`) of a POST of
/// `body` with `content-type: application/json` to `url`, service `lambda`.
pub fn sign(
    url: &reqwest::Url,
    region: &str,
    creds: &aws_credential_types::Credentials,
    body: &[u8],
    at: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    if region.is_empty() {
        return Err("no AWS region to sign for: pass --region or set AWS_REGION".into());
    }
    let identity = creds.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let headers = [("content-type", "application/json")];
    let signable = SignableRequest::new("POST", url.as_str(), headers.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign a request to {url}: {e}"))?;
    let (instructions, _) =
        aws_sigv4::http_request::sign(signable, &params).map_err(|e| format!("cannot sign the request: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_analyst_is_the_iam_identitys_own_name() {
        assert_eq!(analyst_of("arn:aws:iam::123456789012:user/ana"), "ana");
        assert_eq!(analyst_of("arn:aws:iam::123456789012:user/soc/tier2/bob"), "bob");
        assert_eq!(analyst_of("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_SOC_0a1b/ana@example.com"), "ana@example.com");
        assert_eq!(analyst_of("arn:aws:iam::123456789012:root"), "arn:aws:iam::123456789012:root");
        assert_eq!(analyst_of("arn:aws:sts::123456789012:assumed-role/Role/"), "arn:aws:sts::123456789012:assumed-role/Role/");
    }

    #[test]
    fn a_request_holds_one_thing() {
        let a = BrokerRequest {
            action: Some(Action::EndMeeting { meeting: "85746065432".into() }),
            lookup: None,
            reason: None,
            alert: None,
            dry_run: false,
        };
        assert!(a.check().is_ok());
        let both = BrokerRequest { lookup: Some(Lookup::User { user: "a@b.co".into() }), ..a.clone() };
        assert!(both.check().is_err());
        let wire: BrokerRequest = serde_json::from_str(r#"{"action":{"action":"end-meeting","meeting":"85746065432"}}"#).unwrap();
        assert_eq!(wire, a);
        assert!(serde_json::from_str::<BrokerRequest>(r#"{"action":{"action":"end-meeting","meeting":"1"},"analyst":"bob"}"#).is_err());
    }

    #[test]
    fn the_region_comes_from_a_function_urls_host() {
        let u = reqwest::Url::parse("https://abc123.lambda-url.eu-west-1.on.aws/").unwrap();
        assert_eq!(region_of_url(&u).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of_url(&reqwest::Url::parse("http://127.0.0.1:9000/").unwrap()), None);
    }
}
