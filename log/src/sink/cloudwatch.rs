//! CloudWatch Logs sink: `PutLogEvents` into one log group.
//!
//! - **Streams**: one per UTC day and receiver instance, `YYYY/MM/DD/zoomwatch-ingest/<id>`
//!   (the id is random per process / Lambda execution environment), created on first use
//!   or when missing. The log group itself is created by the deployment template (the
//!   function has no permission to create groups).
//! - **Limits** enforced here (and unit-tested) because local CloudWatch emulators do not:
//!   ≤ 10,000 events and ≤ 1,048,576 bytes per call counting 26 bytes per event, ≤ 256 KiB
//!   per event, events in chronological order. An oversized record keeps its identity and
//!   summary fields and drops `raw` (marked `"raw": {"truncated": true, "bytes": N}`).
//! - **Timestamps** are the receiver's `received_at`, never the payload time: Zoom replays
//!   and old events would fall outside CloudWatch's 14-day window and be refused.
//! - **Failures**: the SDK retries throttling, 5xx and connection errors with exponential
//!   backoff and jitter, all within an operation budget (default 2 s, keeping Zoom's 3 s
//!   deadline). A write that is refused, times out or is only partly accepted
//!   (`rejectedLogEventsInfo`) is an error, so the router answers 503 and Zoom retries;
//!   the record id makes the retry harmless.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use zoomwatch_shared::RecordV1;
use zoomwatch_shared::timefmt::{format_ms, parse_rfc3339_ms};

use super::{Sink, SinkError};
use crate::aws::describe;
use crate::dest::Writer;

/// Most events in one `PutLogEvents` call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Most bytes in one call: messages in UTF-8 plus [`EVENT_OVERHEAD`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes CloudWatch adds to each event when counting a batch.
pub const EVENT_OVERHEAD: usize = 26;
/// Largest event message (256 KiB including the overhead).
pub const MAX_EVENT_BYTES: usize = 262_144 - EVENT_OVERHEAD;

/// One log event ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unix ms.
    pub timestamp: i64,
    /// The JSON line (no newline).
    pub message: String,
}

/// Serializes a record to one event message within [`MAX_EVENT_BYTES`].
pub fn to_event(record: &RecordV1) -> Event {
    let timestamp = parse_rfc3339_ms(&record.received_at).unwrap_or(0);
    let message = zoomwatch_shared::lines::to_line(record);
    if message.len() <= MAX_EVENT_BYTES {
        return Event { timestamp, message };
    }
    let mut slim = record.clone();
    slim.raw = serde_json::json!({"truncated": true, "bytes": message.len()}).into();
    let mut message = zoomwatch_shared::lines::to_line(&slim);
    if message.len() > MAX_EVENT_BYTES {
        // Even without `raw` (pathological change lists): keep identity fields only.
        slim.changes.clear();
        slim.flags.truncate(16);
        message = zoomwatch_shared::lines::to_line(&slim);
    }
    Event { timestamp, message }
}

/// Sorts events chronologically and splits them into batches CloudWatch accepts.
pub fn plan_batches(mut events: Vec<Event>) -> Vec<Vec<Event>> {
    events.sort_by_key(|e| e.timestamp); // stable: same-ms events keep their order
    let mut batches = Vec::new();
    let mut current: Vec<Event> = Vec::new();
    let mut bytes = 0usize;
    for e in events {
        let size = e.message.len() + EVENT_OVERHEAD;
        // A batch may not span more than 24 h either.
        let span_too_long = current.first().is_some_and(|f| e.timestamp - f.timestamp > 24 * 3600 * 1000);
        if !current.is_empty() && (current.len() == MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES || span_too_long) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(e);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Name of the receiver's stream for `day_ms` (any time that day) and instance `id`.
pub fn stream_name(day_ms: i64, instance: &str) -> String {
    writer_stream(day_ms, RECEIVER, instance)
}

/// The receiver's part of stream names.
pub const RECEIVER: &str = "zoomwatch-ingest";
/// The poller's part of stream names.
pub const POLLER: &str = "zoomwatch-poll";
/// The part of stream names of analysts' action and triage records (the template's
/// analyst policy allows writing only streams named `*/zoomwatch-response/*`).
pub const RESPONSE: &str = "zoomwatch-response";

/// The part of stream names of `zoomwatch watch`'s alert records.
pub const WATCH: &str = "zoomwatch-watch";

/// The part of stream names of the action broker's audit records (the broker writes
/// each action for the IAM identity that asked for it).
pub const BROKER: &str = "zoomwatch-broker";

/// Whether `name` can name an analyst's streams: an IAM user name (1–64 of letters,
/// digits and `+=,.@_-`), which is what the template's analyst policy puts there.
pub fn check_analyst_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(format!(
            "analyst {:?}: audit records in a log group go to streams named after your IAM user name \
             (letters, digits and +=,.@_-, at most 64); pass --analyst NAME",
            zoomwatch_shared::text::sanitize(name, 80)
        ))
    }
}

/// `YYYY/MM/DD/{writer}/{instance}`.
pub fn writer_stream(day_ms: i64, writer: &str, instance: &str) -> String {
    let day = format_ms(day_ms);
    format!("{}/{}/{}/{writer}/{instance}", &day[0..4], &day[5..7], &day[8..10])
}

/// Writes records to a CloudWatch Logs group.
pub struct CloudWatchSink {
    client: Client,
    group: String,
    writer: &'static str,
    instance: String,
    budget: Duration,
    /// Streams known to exist.
    created: Mutex<Vec<String>>,
}

impl CloudWatchSink {
    /// A sink for `group`. `budget` bounds one write, retries included.
    pub fn new(client: Client, group: impl Into<String>, budget: Duration) -> Self {
        let instance = format!("{:016x}", rand::random::<u64>());
        Self { client, group: group.into(), writer: RECEIVER, instance, budget, created: Mutex::new(Vec::new()) }
    }

    /// A sink for analysts' action and triage records: streams of their own
    /// ([`RESPONSE`]), so a least-privilege policy can allow writing only those.
    pub fn for_responses(client: Client, group: impl Into<String>, budget: Duration) -> Self {
        Self { writer: RESPONSE, ..Self::new(client, group, budget) }
    }

    /// A sink for the report poller's records (streams `…/zoomwatch-poll/…`).
    pub fn for_poller(client: Client, group: impl Into<String>, budget: Duration) -> Self {
        Self { writer: POLLER, ..Self::new(client, group, budget) }
    }

    /// A sink for the alerts of `zoomwatch watch` (streams `…/zoomwatch-watch/…`).
    pub fn for_watch(client: Client, group: impl Into<String>, budget: Duration) -> Self {
        Self { writer: WATCH, ..Self::new(client, group, budget) }
    }

    /// The same sink writing `analyst`'s own streams, `…/{writer}/{analyst}/{instance}`
    /// (see [`check_analyst_name`]).
    pub fn for_analyst(self, analyst: &str) -> Self {
        let instance = format!("{analyst}/{}", self.instance);
        Self { instance, ..self }
    }

    /// A sink writing `writer`'s streams.
    pub fn for_writer(client: Client, group: impl Into<String>, budget: Duration, writer: Writer) -> Self {
        let writer = match writer {
            Writer::Receiver => RECEIVER,
            Writer::Poller => POLLER,
            Writer::Response => RESPONSE,
            Writer::Watch => WATCH,
            Writer::Broker => BROKER,
        };
        Self { writer, ..Self::new(client, group, budget) }
    }

    /// Makes sure today's stream exists (and so that the group does and may be
    /// written): a check before acting, so an action is never taken unaudited.
    pub async fn check(&self, now_ms: i64) -> Result<(), SinkError> {
        let stream = writer_stream(now_ms, self.writer, &self.instance);
        match tokio::time::timeout(self.budget, self.ensure_stream(&stream)).await {
            Ok(r) => r,
            Err(_) => Err(SinkError::Remote(format!("no answer from CloudWatch within {} ms", self.budget.as_millis()))),
        }
    }

    /// The log group written to.
    pub fn group(&self) -> &str {
        &self.group
    }

    async fn ensure_stream(&self, stream: &str) -> Result<(), SinkError> {
        let known = self.created.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|s| s == stream);
        if known {
            return Ok(());
        }
        match self.client.create_log_stream().log_group_name(&self.group).log_stream_name(stream).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception()) => {}
            Err(e) => {
                let detail = match e.code() {
                    Some("ResourceNotFoundException") => {
                        format!("log group {} does not exist (deploy template.yaml, or create it)", self.group)
                    }
                    _ => format!("CreateLogStream {stream}: {}", describe(&e)),
                };
                return Err(SinkError::Remote(detail));
            }
        }
        let mut created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        if !created.iter().any(|s| s == stream) {
            created.push(stream.to_owned());
            // Keep only recent days.
            let excess = created.len().saturating_sub(4);
            created.drain(..excess);
        }
        Ok(())
    }

    async fn put(&self, stream: &str, batch: &[Event]) -> Result<(), SinkError> {
        let events: Vec<InputLogEvent> = batch
            .iter()
            .map(|e| InputLogEvent::builder().timestamp(e.timestamp).message(&e.message).build())
            .collect::<Result<_, _>>()
            .map_err(|e| SinkError::Remote(format!("building log events: {e}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // One attempt per call: PutLogEvents is not idempotent, so a request whose
            // answer is late or lost is never sent again here (it may have landed; the
            // caller settles it). Only a refusal, which stored nothing, is retried.
            let once = aws_sdk_cloudwatchlogs::config::Builder::default()
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .timeout_config(aws_config::timeout::TimeoutConfig::builder().operation_attempt_timeout(self.budget).build());
            let result = self
                .client
                .put_log_events()
                .log_group_name(&self.group)
                .log_stream_name(stream)
                .set_log_events(Some(events.clone()))
                .customize()
                .config_override(once)
                .send()
                .await;
            match result {
                Ok(out) => {
                    if let Some(rejected) = out.rejected_log_events_info() {
                        // Part of the batch may be stored.
                        return Err(SinkError::Unconfirmed(format!(
                            "CloudWatch refused part of the batch (too new up to {:?}, too old up to {:?}, expired up to {:?}); check the clock",
                            rejected.too_new_log_event_start_index(),
                            rejected.too_old_log_event_end_index(),
                            rejected.expired_log_event_end_index()
                        )));
                    }
                    return Ok(());
                }
                // The stream vanished (deleted, or a new day raced us): recreate once.
                Err(e) if attempt == 1 && e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                    self.created.lock().unwrap_or_else(|e| e.into_inner()).retain(|s| s != stream);
                    self.ensure_stream(stream).await?;
                }
                Err(e) => {
                    let line = format!("PutLogEvents: {}", describe(&e));
                    // A 4xx is a refusal (throttled, denied, invalid): nothing was stored.
                    // No answer, or a 5xx, says nothing about whether it was.
                    let refused = e.raw_response().is_some_and(|r| (400..500).contains(&r.status().as_u16()));
                    if !refused {
                        return Err(SinkError::Unconfirmed(line));
                    }
                    let throttled = matches!(e.code(), Some("ThrottlingException" | "Throttling" | "TooManyRequestsException"));
                    if !throttled || attempt >= 4 {
                        return Err(SinkError::Remote(line));
                    }
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
    }

    /// Looks for `id` among the group's events within [`HOLDS_WINDOW_MS`] of `around_ms`
    /// (every writer's streams: another instance may have written it).
    async fn find(&self, id: &str, around_ms: i64) -> Result<bool, SinkError> {
        let mut token: Option<String> = None;
        for _ in 0..HOLDS_MAX_PAGES {
            let page = self
                .client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(around_ms - HOLDS_WINDOW_MS)
                .end_time(around_ms + HOLDS_WINDOW_MS)
                .filter_pattern(format!("\"{id}\""))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| SinkError::Remote(format!("FilterLogEvents: {}", describe(&e))))?;
            let found = page
                .events()
                .iter()
                .filter_map(|e| e.message())
                .any(|m| m.contains(id) && zoomwatch_shared::lines::parse(m.as_bytes()).is_ok_and(|r| r.id == id));
            if found {
                return Ok(true);
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(false),
            }
        }
        Err(SinkError::Remote(format!("FilterLogEvents: no answer within {HOLDS_MAX_PAGES} pages")))
    }
}

/// How far from the unknown write's time [`CloudWatchSink::holds`] looks (its record's
/// timestamp is when that delivery was received).
pub const HOLDS_WINDOW_MS: i64 = 10 * 60 * 1000;
const HOLDS_MAX_PAGES: usize = 50;

impl CloudWatchSink {
    /// Writes events made elsewhere (the OCSF copy), as [`Sink::write`] writes records.
    pub async fn write_events(&self, events: Vec<Event>) -> Result<(), SinkError> {
        let work = async {
            for batch in plan_batches(events) {
                let stream = writer_stream(batch[0].timestamp, self.writer, &self.instance);
                self.ensure_stream(&stream).await?;
                // A batch never crosses midnight into the next day's stream.
                let (today, tomorrow): (Vec<Event>, Vec<Event>) =
                    batch.into_iter().partition(|e| writer_stream(e.timestamp, self.writer, &self.instance) == stream);
                self.put(&stream, &today).await?;
                if !tomorrow.is_empty() {
                    let next = writer_stream(tomorrow[0].timestamp, self.writer, &self.instance);
                    self.ensure_stream(&next).await?;
                    self.put(&next, &tomorrow).await?;
                }
            }
            Ok(())
        };
        match tokio::time::timeout(self.budget, work).await {
            Ok(r) => r,
            Err(_) => Err(SinkError::Unconfirmed(format!("no confirmation from CloudWatch within {} ms", self.budget.as_millis()))),
        }
    }
}

impl Sink for CloudWatchSink {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        self.write_events(records.iter().map(to_event).collect()).await
    }

    fn describe(&self) -> String {
        format!("cloudwatch:{}", self.group)
    }

    async fn holds(&self, id: &str, around_ms: i64) -> Result<bool, SinkError> {
        match tokio::time::timeout(self.budget * 2, self.find(id, around_ms)).await {
            Ok(r) => r,
            Err(_) => Err(SinkError::Remote(format!("no answer from CloudWatch within {} ms", (self.budget * 2).as_millis()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, len: usize) -> Event {
        Event { timestamp: ts, message: "x".repeat(len) }
    }

    #[test]
    fn batches_respect_the_event_count() {
        let events: Vec<Event> = (0..25_001).map(|i| ev(i, 10)).collect();
        let b = plan_batches(events);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [10_000, 10_000, 5_001]);
    }

    #[test]
    fn batches_respect_the_byte_limit_with_overhead() {
        // 1,048,576 / (1000 + 26) = 1022.0: 1022 events fit (1,048,572 bytes), 1023 do not.
        let events: Vec<Event> = (0..2_100).map(|i| ev(i, 1000)).collect();
        let b = plan_batches(events);
        let fit = MAX_BATCH_BYTES / (1000 + EVENT_OVERHEAD);
        assert_eq!(fit, 1022);
        assert_eq!(b[0].len(), fit);
        for batch in &b {
            let bytes: usize = batch.iter().map(|e| e.message.len() + EVENT_OVERHEAD).sum();
            assert!(bytes <= MAX_BATCH_BYTES);
        }
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 2_100);
    }

    #[test]
    fn batches_are_chronological_and_stable() {
        let events = vec![ev(30, 1), Event { timestamp: 10, message: "a".into() }, Event { timestamp: 10, message: "b".into() }, ev(20, 1)];
        let b = plan_batches(events);
        let order: Vec<(i64, &str)> = b[0].iter().map(|e| (e.timestamp, e.message.as_str())).collect();
        assert_eq!(order, [(10, "a"), (10, "b"), (20, "x"), (30, "x")]);
        let far = plan_batches(vec![ev(0, 1), ev(25 * 3600 * 1000, 1)]);
        assert_eq!(far.len(), 2, "a batch may not span more than 24 h");
    }

    #[test]
    fn oversized_records_are_slimmed_not_lost() {
        let body =
            format!(r#"{{"event":"meeting.updated","event_ts":1,"payload":{{"object":{{"id":1,"agenda":"{}"}}}}}}"#, "a".repeat(300_000));
        let env = zoomwatch_shared::Envelope::parse(body.as_bytes()).unwrap();
        let r = zoomwatch_shared::normalize(env, &zoomwatch_shared::Received { received_at_ms: 1_700_000_000_000, request: None });
        let e = to_event(&r);
        assert!(e.message.len() <= MAX_EVENT_BYTES);
        let back: RecordV1 = serde_json::from_str(&e.message).unwrap();
        assert_eq!(back.id, r.id);
        assert_eq!(back.raw.value()["truncated"], true);
        assert_eq!(e.timestamp, 1_700_000_000_000);
    }

    fn fake_client() -> Client {
        use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
        Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build(),
        )
    }

    #[test]
    fn the_analyst_policy_covers_exactly_the_analysts_own_streams() {
        // template.yaml allows analysts PutLogEvents on `log-stream:*/zoomwatch-response/${aws:username}/*`
        // (or the principal tag's value), written `${!…}` inside !Sub.
        let template = include_str!("../../../template.yaml");
        for var in ["aws:username", "aws:PrincipalTag/zoomwatch-analyst"] {
            let pattern = format!("log-stream:*/{RESPONSE}/${{!{var}}}/*");
            assert!(template.contains(&pattern), "template.yaml no longer grants {pattern}");
        }
        assert!(!template.contains(&format!("log-stream:*/{RESPONSE}/*")), "a grant of every analyst's streams is back");
        let ana = CloudWatchSink::new(fake_client(), "g", Duration::from_secs(1));
        let ana = CloudWatchSink { writer: RESPONSE, ..ana }.for_analyst("ana");
        let ours = writer_stream(1_764_288_000_000, RESPONSE, &ana.instance);
        let receivers = stream_name(1_764_288_000_000, "abc");
        // IAM's `*` matches any characters, `/` included: the pattern is "contains /RESPONSE/ana/".
        let glob = |s: &str, who: &str| s.find(&format!("/{RESPONSE}/{who}/")).is_some_and(|i| i > 0);
        assert!(glob(&ours, "ana") && !glob(&ours, "bob"), "{ours}");
        assert!(!glob(&receivers, "ana"), "{receivers}");
        assert_eq!(
            crate::source::cloudwatch::owner(Some(&ours)),
            crate::source::cloudwatch::StreamOwner::Response { analyst: Some("ana") }
        );
    }

    #[test]
    fn each_writers_grant_matches_the_streams_it_writes() {
        // Every role of template.yaml may PutLogEvents only on its own `*/<writer>/*`
        // streams; the streams each sink writes are the ones readers believe.
        use crate::source::cloudwatch::{StreamOwner, owner};
        let template = include_str!("../../../template.yaml");
        for (writer, kind, expect) in [
            (Writer::Receiver, RECEIVER, StreamOwner::Receiver),
            (Writer::Poller, POLLER, StreamOwner::Receiver),
            (Writer::Watch, WATCH, StreamOwner::Watch),
            (Writer::Broker, BROKER, StreamOwner::Broker),
        ] {
            let grant = format!("log-stream:*/{kind}/*");
            assert!(template.contains(&grant), "template.yaml grants no {grant}");
            let sink = CloudWatchSink::for_writer(fake_client(), "g", Duration::from_secs(1), writer);
            let stream = writer_stream(1_764_288_000_000, sink.writer, &sink.instance);
            assert_eq!(owner(Some(&stream)), expect, "{stream}");
        }
        // With the broker, analysts reach it only through its URL, never by invoking the
        // function with a request context (and so an identity) of their own making.
        assert!(template.contains(r#"Bool: { "lambda:InvokedViaFunctionUrl": "true" }"#));
        assert!(template.contains("HasZoomApiSecret: !And [!Condition MakeResponsePolicy, !Not [!Equals [!Ref ZoomApiCredentialsSecretArn, \"\"]], !Not [!Condition MakeBroker]]"));
    }

    #[test]
    fn analyst_names_are_iam_user_names() {
        for ok in ["ana", "ana.smith@example.com", "svc_soar-1", "a+b=c,d"] {
            assert!(check_analyst_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "ana/../bob", "ana smith", "a:b", "a*", &"a".repeat(65), "ana\u{1b}[2J"] {
            let e = check_analyst_name(bad).unwrap_err();
            assert!(e.contains("--analyst") && !e.contains('\u{1b}'), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn failures_before_aws_answers_are_one_line_saying_what_to_do() {
        use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
        // No credentials at all.
        let conf =
            aws_sdk_cloudwatchlogs::Config::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build();
        let e = Client::from_conf(conf).describe_log_groups().send().await.unwrap_err();
        let line = describe(&e);
        assert!(line.starts_with("no usable AWS credentials") && !line.contains('\n'), "{line}");
        assert!(line.len() < 400, "{line}");
        // Nothing listening at the endpoint.
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .build();
        let e = Client::from_conf(conf).describe_log_groups().send().await.unwrap_err();
        let line = describe(&e);
        assert!(line.starts_with("cannot reach CloudWatch Logs: check") && line.contains("--endpoint-url"), "{line}");
    }

    #[test]
    fn streams_are_per_day() {
        assert_eq!(stream_name(1_764_288_000_000, "abc"), "2025/11/28/zoomwatch-ingest/abc");
    }
}
