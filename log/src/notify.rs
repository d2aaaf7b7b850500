//! Notifications of `zoomwatch watch` and the scheduled watch function: each alert raised at or above a severity is sent
//! to an SNS topic (`sns:ARN`: the same JSON as the message, `severity` and `rule` as
//! message attributes for subscription filter policies) or to a JSON webhook in the incoming-webhook shape Slack and Teams accept (`{"text": …}`,
//! plus the alert itself under `zoomwatch`). Delivery runs in its own task behind a
//! bounded queue, with retries and back-off, so a failing endpoint never holds up the
//! alert records; what could not be delivered is counted and logged, and the watcher
//! offers it again later (its outbox, [`zoomwatch_shared::watcher`]).
//!
//! Each notification carries its idempotency key, `{alert id}#{update}`: the
//! `Idempotency-Key` header and an `idempotency_key` field for webhooks, a message
//! attribute `idempotency_key` for SNS. Delivery is at least once (a notification sent
//! just before a crash is sent again after it): receivers drop repeats of a key.
//!
//! The webhook URL is a secret (whoever has it can post to the channel): it comes from
//! the environment or Secrets Manager as well as the command line, and only its host is
//! ever printed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use zoomwatch_shared::alert::AlertBlock;
use zoomwatch_shared::record::{RecordV1, Severity};

/// Why a notification target could not be set up, or a notification not delivered.
/// Never holds the webhook URL (it is the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A `--notify` value that is not one of the forms, or names what is not there.
    #[error("{0}")]
    Spec(String),
    /// The HTTP client could not start.
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// The endpoint refused the notification (a 4xx other than 408/429): not retried.
    #[error("{0}: refused, not retried")]
    Refused(String),
    /// Every attempt failed (the last failure, and how many attempts).
    #[error("{last} after {attempts} attempts")]
    GaveUp {
        /// The last failure.
        last: String,
        /// Attempts made.
        attempts: u32,
    },
    /// SNS did not take the message.
    #[error("{0}")]
    Sns(String),
}

/// Notifications waiting for delivery; past this, new ones are dropped (and counted).
const QUEUE: usize = 1024;
/// Attempts per notification of the long-running watcher.
pub const ATTEMPTS: u32 = 6;

/// Where notifications go: `--notify` parsed.
#[derive(Clone, Debug)]
pub enum Target {
    /// An incoming webhook.
    Webhook(Webhook),
    /// An SNS topic.
    #[cfg(feature = "sns")]
    Sns {
        /// Topic ARN.
        arn: String,
        /// Client (standard AWS chain, with its own retries).
        client: aws_sdk_sns::Client,
    },
}

impl Target {
    /// `sns:ARN`, or a webhook spec ([`Webhook::parse`]). `profile` and `region` select
    /// the AWS settings for SNS (else the standard chain).
    pub async fn parse(spec: &str, profile: Option<&str>, region: Option<&str>) -> Result<Self, NotifyError> {
        let Some(arn) = spec.strip_prefix("sns:") else {
            return Webhook::parse(spec).await.map(Self::Webhook);
        };
        #[cfg(not(feature = "sns"))]
        {
            let _ = (arn, profile, region);
            Err(NotifyError::Spec("--notify sns:…: this build of zoomwatch has no SNS support (feature sns); use a webhook".to_owned()))
        }
        #[cfg(feature = "sns")]
        Self::sns(arn, profile, region).await
    }

    #[cfg(feature = "sns")]
    async fn sns(arn: &str, profile: Option<&str>, region: Option<&str>) -> Result<Self, NotifyError> {
        if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
            return Err(NotifyError::Spec(format!(
                "--notify sns:{}: expected a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
                zoomwatch_shared::text::sanitize(arn, 80)
            )));
        }
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        // The topic's own region unless one was given.
        let region = region.map(str::to_owned).or_else(|| arn.split(':').nth(3).map(str::to_owned)).filter(|r| !r.is_empty());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r));
        }
        let sdk = loader.load().await;
        Ok(Self::Sns { arn: arn.to_owned(), client: aws_sdk_sns::Client::new(&sdk) })
    }

    /// `webhook https://HOST/…` or `sns:ARN`.
    pub fn describe(&self) -> String {
        match self {
            Self::Webhook(w) => w.describe(),
            #[cfg(feature = "sns")]
            Self::Sns { arn, .. } => format!("sns:{arn}"),
        }
    }

    /// Sends the notification of one alert record: a webhook up to `attempts` times
    /// ([`deliver`]); SNS with the SDK's retries.
    pub async fn post(&self, http: &reqwest::Client, block: &AlertBlock, r: &RecordV1, attempts: u32) -> Result<(), NotifyError> {
        match self {
            Self::Webhook(w) => w.post(http, block, r, attempts).await,
            #[cfg(feature = "sns")]
            Self::Sns { arn, client } => {
                let doc = body(block, r);
                let subject: String = format!("zoomwatch {} alert {}", block.severity.as_str().to_uppercase(), block.rule)
                    .chars()
                    .filter(|c| c.is_ascii_graphic() || *c == ' ')
                    .take(100)
                    .collect();
                let attr = |v: &str| {
                    aws_sdk_sns::types::MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(v)
                        .build()
                        .map_err(|e| NotifyError::Sns(e.to_string()))
                };
                client
                    .publish()
                    .topic_arn(arn)
                    .subject(subject)
                    .message(doc.to_string())
                    .message_attributes("severity", attr(block.severity.as_str())?)
                    .message_attributes("rule", attr(&block.rule)?)
                    .message_attributes("idempotency_key", attr(&idempotency_key(block))?)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| NotifyError::Sns(format!("SNS Publish to {arn}: {}", crate::aws::describe(&e))))
            }
        }
    }
}

/// An incoming webhook (its URL is the secret).
#[derive(Clone)]
pub struct Webhook {
    url: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook({})", self.describe())
    }
}

impl Webhook {
    /// From `--notify`: `webhook:URL`, `webhook-env:VAR` (the URL in an environment
    /// variable) or `webhook-secret:ID` (the URL, or `{"url": …}`, in Secrets Manager).
    pub async fn parse(spec: &str) -> Result<Self, NotifyError> {
        let url = if let Some(u) = spec.strip_prefix("webhook:") {
            u.to_owned()
        } else if let Some(var) = spec.strip_prefix("webhook-env:") {
            std::env::var(var).map_err(|_| NotifyError::Spec(format!("--notify {spec}: the environment variable {var} is not set")))?
        } else if let Some(id) = spec.strip_prefix("webhook-secret:") {
            let text = zoomwatch_zoomapi::credentials::secret_string(id)
                .await
                .map_err(|e| NotifyError::Spec(format!("--notify: Secrets Manager secret {id}: {e}")))?;
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => v
                    .get("url")
                    .and_then(|u| u.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| NotifyError::Spec(format!("--notify: secret {id} is JSON without a \"url\"")))?,
                Err(_) => text.trim().to_owned(),
            }
        } else {
            return Err(NotifyError::Spec(format!(
                "--notify {}: expected sns:TOPIC_ARN, webhook:URL, webhook-env:VAR or webhook-secret:ID",
                zoomwatch_shared::text::sanitize(spec, 40)
            )));
        };
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| NotifyError::Spec(format!("--notify: not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(NotifyError::Spec("--notify: the webhook URL must be http(s)://host/…".to_owned()));
        }
        Ok(Self { url: url.trim().to_owned() })
    }

    /// Posts the notification of one alert record, up to `attempts` times (see
    /// [`deliver`]).
    pub async fn post(&self, client: &reqwest::Client, block: &AlertBlock, r: &RecordV1, attempts: u32) -> Result<(), NotifyError> {
        deliver(client, &self.url, &body(block, r), &idempotency_key(block), attempts).await
    }

    /// `webhook https://HOST/…` — never the path, which is the secret part.
    pub fn describe(&self) -> String {
        let host = reqwest::Url::parse(&self.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        format!("webhook https://{host}/…")
    }
}

/// Makes untrusted text (display names, topics) inert in a chat message: control
/// characters removed; `<…>` escaped as Slack documents (no `<!channel>` ping, no
/// `<url|text>` link); URLs defanged (`hxxps[://]evil[.]example/sso`) so neither Slack
/// nor Teams links them; a Markdown link `[text](url)` broken apart.
fn escape(text: &str) -> String {
    let clean = zoomwatch_shared::text::sanitize(text, 600);
    let mut out = String::with_capacity(clean.len() + 16);
    for (i, word) in clean.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&defang(word));
    }
    out.replace("](", "] (").replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A word that is or holds a URL or a `www.` name, defanged; others as they are.
fn defang(word: &str) -> std::borrow::Cow<'_, str> {
    let lower = word.to_ascii_lowercase();
    let Some(at) = lower.find("://").or_else(|| lower.find("www.")) else {
        return std::borrow::Cow::Borrowed(word);
    };
    let (before, url) = word.split_at(lower[..at].rfind(|c: char| !c.is_ascii_alphanumeric()).map_or(0, |p| p + 1));
    let mut u = url.replacen("://", "[://]", 1).replace('.', "[.]");
    if u.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("http")) {
        u.replace_range(..4, "hxxp");
    }
    std::borrow::Cow::Owned(format!("{before}{u}"))
}

/// The key a receiver deduplicates notifications on: `{alert id}#{update}`
/// ([`zoomwatch_shared::watcher::notify_key`]).
pub fn idempotency_key(block: &AlertBlock) -> String {
    format!("{}#{}", block.id, block.update)
}

/// The JSON body for one alert record.
pub fn body(block: &AlertBlock, r: &RecordV1) -> serde_json::Value {
    let topic = r.meeting.as_ref().and_then(|m| m.topic.as_deref()).map(|t| format!(" in \"{}\"", escape(t))).unwrap_or_default();
    let text = format!(
        "zoomwatch {} alert {}{topic}: {} (alert {}, first seen {})",
        block.severity.as_str().to_uppercase(),
        escape(&block.rule),
        escape(&block.reason),
        block.id,
        block.first_seen
    );
    // Slack shows the block (plain text: no formatting, no links); Teams and others the text.
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text, "emoji": false}}],
        "idempotency_key": idempotency_key(block),
        "zoomwatch": block
    })
}

/// The HTTP client notifications are sent with (10 s per attempt).
pub fn http_client() -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| NotifyError::Client(e.to_string()))
}

/// Whether a written alert record is notified: newly raised, at or above `min`.
pub fn wanted(r: &RecordV1, min: Severity) -> Option<&AlertBlock> {
    r.alert.as_deref().filter(|b| b.update == 0 && b.severity >= min)
}

/// Counts, for the log and the exit summary.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Delivered (2xx).
    pub sent: AtomicU64,
    /// Given up after retries, or refused (4xx).
    pub failed: AtomicU64,
    /// Not queued because the queue was full (offered again later).
    pub dropped: AtomicU64,
}

/// One queued notification: its key, the alert block, the record.
type Job = (String, AlertBlock, RecordV1);

/// Queues notifications for one target and reports what became of each.
pub struct Notifier {
    tx: Option<mpsc::Sender<Job>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Delivery counts.
    pub stats: Arc<NotifyStats>,
    label: String,
    results: Arc<std::sync::Mutex<Vec<(String, bool)>>>,
}

impl Notifier {
    /// Starts delivery to `hook`, `attempts` tries per notification.
    pub fn start(hook: Target, attempts: u32, log: impl Fn(String) + Send + Sync + 'static) -> Result<Self, NotifyError> {
        let client = http_client()?;
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        let stats = Arc::new(NotifyStats::default());
        let results: Arc<std::sync::Mutex<Vec<(String, bool)>>> = Arc::default();
        let (st, done) = (stats.clone(), results.clone());
        let label = hook.describe();
        let task = tokio::spawn(async move {
            while let Some((key, block, rec)) = rx.recv().await {
                let ok = match hook.post(&client, &block, &rec, attempts).await {
                    Ok(()) => {
                        st.sent.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    Err(e) => {
                        st.failed.fetch_add(1, Ordering::Relaxed);
                        log(format!("notification of alert {} to {} not delivered (offered again later): {e}", block.id, hook.describe()));
                        false
                    }
                };
                done.lock().unwrap_or_else(|e| e.into_inner()).push((key, ok));
            }
        });
        Ok(Self { tx: Some(tx), task: Some(task), stats, label, results })
    }

    /// `webhook https://HOST/…` or `sns:ARN`: the target's label in the watcher's outbox.
    pub fn describe(&self) -> &str {
        &self.label
    }

    /// Queues the notification `key` of alert record `r`. Never waits: false when the
    /// queue is full (offer it again later).
    pub fn send(&self, key: &str, r: &RecordV1) -> bool {
        let Some(block) = r.alert.as_deref() else { return true };
        let sent = self.tx.as_ref().is_some_and(|tx| tx.try_send((key.to_owned(), block.clone(), r.clone())).is_ok());
        if !sent {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// What became of the notifications sent since the last call: (key, delivered).
    pub fn take_results(&self) -> Vec<(String, bool)> {
        std::mem::take(&mut *self.results.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Stops taking notifications and waits up to `grace` for the queue to drain.
    pub async fn finish(&mut self, grace: Duration) {
        self.tx = None;
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(grace, task).await;
        }
    }
}

/// Posts `body`, retrying connection failures, timeouts, 408, 429 and 5xx with
/// exponential back-off (1 s, 2 s, 4 s … up to 30 s, with jitter, or the endpoint's
/// `Retry-After`), up to `attempts` times. Other 4xx are final.
async fn deliver(client: &reqwest::Client, url: &str, body: &serde_json::Value, key: &str, attempts: u32) -> Result<(), NotifyError> {
    let mut last = String::new();
    let mut retry_after: Option<u64> = None;
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt, retry_after.take())).await;
        }
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        match client.post(url).header("content-type", "application/json").header("idempotency-key", key).body(bytes).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
                last = match retry_after {
                    Some(s) => format!("HTTP {} (retry after {s} s)", status.as_u16()),
                    None => format!("HTTP {}", status.as_u16()),
                };
                if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                    return Err(NotifyError::Refused(last));
                }
            }
            // reqwest's error text can carry the URL: say what kind of failure only.
            Err(e) if e.is_timeout() => last = "no answer within 10 s".to_owned(),
            Err(e) if e.is_connect() => last = "cannot connect".to_owned(),
            Err(_) => last = "the request failed".to_owned(),
        }
    }
    Err(NotifyError::GaveUp { last, attempts })
}

/// The wait before attempt `attempt`: the endpoint's `Retry-After` (seconds, at most
/// 5 minutes) when it gave one, else exponential with jitter.
fn backoff(attempt: u32, retry_after: Option<u64>) -> Duration {
    if let Some(secs) = retry_after {
        return Duration::from_secs(secs.min(300));
    }
    let base = 1000u64 << attempt.saturating_sub(1).min(5);
    let ms = base.min(30_000);
    Duration::from_millis(ms / 2 + rand::random_range(0..=ms / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_display_names_arrive_inert() {
        assert_eq!(
            escape("[Re-authenticate your Zoom SSO here](https://evil.example/sso) or www.evil.example"),
            "[Re-authenticate your Zoom SSO here] (hxxps[://]evil[.]example/sso) or www[.]evil[.]example"
        );
        assert_eq!(escape("Visit:HTTP://x.example"), "Visit:hxxp[://]x[.]example");
        assert_eq!(escape("Dana Whitfield (dana@acme.example)"), "Dana Whitfield (dana@acme.example)", "ordinary text stays");
    }

    #[test]
    fn slack_mentions_in_display_names_are_escaped() {
        assert_eq!(escape("<!channel> & <@U1>\u{1b}[31m"), "&lt;!channel&gt; &amp; &lt;@U1&gt;", "the escape sequence goes whole");
    }

    #[test]
    fn back_off_grows_and_honours_retry_after() {
        assert_eq!(backoff(2, Some(7)), Duration::from_secs(7));
        for attempt in 1..8 {
            let d = backoff(attempt, None);
            assert!(d <= Duration::from_secs(30), "{d:?}");
            assert!(d >= Duration::from_millis(500), "{d:?}");
        }
    }

    #[tokio::test]
    async fn specs() {
        assert!(Webhook::parse("webhook:https://hooks.example.invalid/T0/B0/secret").await.is_ok());
        let e = Webhook::parse("slack:https://x").await.unwrap_err().to_string();
        assert!(e.contains("expected sns:TOPIC_ARN, webhook:URL"), "{e}");
        let e = Target::parse("sns:not-an-arn", None, None).await.unwrap_err().to_string();
        assert!(e.contains("expected a topic ARN"), "{e}");
        assert!(Webhook::parse("webhook:ftp://x/y").await.is_err());
        assert!(Webhook::parse("webhook-env:ZOOMWATCH_TEST_UNSET_VARIABLE").await.unwrap_err().to_string().contains("not set"));
        let h = Webhook::parse("webhook:https://hooks.example.invalid/T0/B0/secret").await.unwrap();
        assert_eq!(h.describe(), "webhook https://hooks.example.invalid/…");
        assert!(!format!("{h:?}").contains("secret"));
    }
}
