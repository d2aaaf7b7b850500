//! Following a CloudWatch Logs group, without gaps or duplicates:
//!
//! 1. **Backfill** — `FilterLogEvents` from `since`, all pages.
//! 2. **Follow** — `StartLiveTail` (an update every second). When a session starts, one
//!    `FilterLogEvents` from a little before the newest event seen catches what arrived
//!    between the backfill and the session; the same catch-up runs after every
//!    reconnect (sessions end after 3 h, networks drop). Reconnects back off 1 s → 30 s.
//! 3. **Polling fallback** — where live tail is unavailable (no `logs:StartLiveTail`,
//!    an endpoint that does not stream, or `--poll`): `FilterLogEvents` once a second
//!    from the newest timestamp minus an overlap, backing off on throttling (the API
//!    allows about 5 calls/s per account, shared by every viewer).
//!
//! Everything is deduplicated by record id (bounded memory), so the overlaps that make
//! the follow gap-free never show a record twice. Lines that are not records (Lambda
//! platform lines with the stdout sink, garbage) are counted and skipped.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use tokio::sync::mpsc;
use zoomwatch_ingest::sink::cloudwatch::describe;

use super::{Collected, Preparer, SourceEvent, Status};
use crate::lines;

/// How much earlier than the newest event each catch-up/poll starts (late ingestion).
const OVERLAP_MS: i64 = 5_000;
/// Record ids remembered for deduplication.
const DEDUPE: usize = 200_000;

/// Options of a CloudWatch source.
#[derive(Debug, Clone)]
pub struct CloudWatchSource {
    /// Log group name.
    pub group: String,
    /// Backfill from this time (Unix ms).
    pub since_ms: i64,
    /// Keep following after the backfill.
    pub follow: bool,
    /// Poll instead of live tail.
    pub poll_only: bool,
    /// Poll interval.
    pub poll_every: Duration,
    /// A CloudWatch Logs filter pattern ([`crate::pushdown`]): only events matching it
    /// are sent by CloudWatch, for `FilterLogEvents` and `StartLiveTail` alike.
    pub pattern: Option<String>,
    /// Prepare records for the console in this task.
    pub prepare: Option<Arc<Preparer>>,
}

impl CloudWatchSource {
    /// Reads `group` from `since_ms` and follows it, live tail first.
    pub fn new(group: impl Into<String>, since_ms: i64) -> Self {
        Self {
            group: group.into(),
            since_ms,
            follow: true,
            poll_only: false,
            poll_every: Duration::from_secs(1),
            pattern: None,
            prepare: None,
        }
    }
}

/// Removes the `streaming-` host prefix the SDK adds to `StartLiveTail` requests when a
/// custom endpoint (a local emulator, a VPC endpoint) is configured, where that host
/// does not exist.
#[derive(Debug)]
pub struct StripStreamPrefix;

impl Intercept for StripStreamPrefix {
    fn name(&self) -> &'static str {
        "StripStreamPrefix"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let req = context.request_mut();
        let uri = req.uri().to_owned();
        let Some((scheme, rest)) = uri.split_once("://") else { return Ok(()) };
        // SDK versions have used both `stream-` and `streaming-`.
        if let Some(host) = rest.strip_prefix("streaming-").or_else(|| rest.strip_prefix("stream-")) {
            req.set_uri(format!("{scheme}://{host}"))?;
        }
        Ok(())
    }
}

/// A client for `sdk`; with a custom endpoint, live tail requests keep its host.
pub fn client(sdk: &aws_config::SdkConfig, custom_endpoint: bool) -> Client {
    let mut conf = aws_sdk_cloudwatchlogs::config::Builder::from(sdk);
    if custom_endpoint {
        conf = conf.interceptor(StripStreamPrefix);
    }
    Client::from_conf(conf.build())
}

/// Deduplicates by record id and tracks the newest timestamp.
struct Tracker {
    seen: HashSet<String>,
    order: VecDeque<String>,
    newest_ms: i64,
    prepare: Option<Arc<Preparer>>,
}

impl Tracker {
    fn accept(&mut self, key: String) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() >= DEDUPE
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }

    /// Parses messages, drops duplicates; returns (new records, skipped lines).
    fn take<'a>(&mut self, events: impl Iterator<Item = (Option<&'a str>, Option<i64>, Option<&'a str>)>) -> (Collected, u64) {
        let mut out = Collected::new(self.prepare.clone());
        let mut skipped = 0;
        for (message, ts, event_id) in events {
            if let Some(t) = ts {
                self.newest_ms = self.newest_ms.max(t);
            }
            let Some(message) = message else { continue };
            match lines::parse(message.as_bytes()) {
                Ok(r) => {
                    if self.accept(r.id.clone()) {
                        out.push(message.as_bytes(), r);
                    }
                }
                Err(lines::Skip::Blank) => {}
                Err(_) => {
                    let key = event_id.map_or_else(|| format!("{}:{}", ts.unwrap_or(0), message.len()), |e| format!("ev:{e}"));
                    if self.accept(key) {
                        skipped += 1;
                    }
                }
            }
        }
        (out, skipped)
    }
}

async fn send(tx: &mpsc::Sender<SourceEvent>, mut records: Collected, skipped: u64) -> bool {
    if skipped > 0 && tx.send(SourceEvent::Skipped(skipped)).await.is_err() {
        return false;
    }
    match records.next_batch(usize::MAX) {
        Some(batch) => tx.send(batch).await.is_ok(),
        None => true,
    }
}

/// One full `FilterLogEvents` sweep from `start_ms`. Err(message, throttled).
async fn sweep(
    client: &Client,
    opts: &CloudWatchSource,
    start_ms: i64,
    tracker: &mut Tracker,
    tx: &mpsc::Sender<SourceEvent>,
) -> Result<bool, (String, bool)> {
    let group = opts.group.as_str();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms.max(0))
            .set_filter_pattern(opts.pattern.clone())
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                let throttled = e.code() == Some("ThrottlingException");
                if e.code() == Some("ResourceNotFoundException") {
                    let region = client.config().region().map_or_else(|| "this region".to_owned(), ToString::to_string);
                    return Err((
                        format!("log group {group} does not exist in {region} (another --region or account? or not created yet)"),
                        false,
                    ));
                }
                return Err((describe(&e), throttled));
            }
        };
        let (records, skipped) = tracker.take(page.events().iter().map(|e| (e.message(), e.timestamp(), e.event_id())));
        if !send(tx, records, skipped).await {
            return Ok(false);
        }
        match page.next_token() {
            Some(t) if Some(t) != token.as_deref() => token = Some(t.to_owned()),
            _ => return Ok(true),
        }
    }
}

async fn group_arn(client: &Client, group: &str) -> Result<String, String> {
    let out = client.describe_log_groups().log_group_name_prefix(group).send().await.map_err(|e| describe(&e))?;
    let g = out.log_groups().iter().find(|g| g.log_group_name() == Some(group)).ok_or_else(|| {
        let region = client.config().region().map_or_else(|| "this region".to_owned(), ToString::to_string);
        format!("log group {group} does not exist in {region} (another --region or account?)")
    })?;
    let arn = g.arn().ok_or("log group without ARN")?;
    Ok(arn.trim_end_matches(":*").to_owned())
}

/// Outcome of one live tail session.
enum Tail {
    /// The consumer is gone.
    Stop,
    /// The session ended after this long (normal end, timeout, network).
    Ended(Duration, String),
    /// Live tail cannot work here (denied, not supported).
    Unavailable(String),
}

async fn live_tail(client: &Client, arn: &str, opts: &CloudWatchSource, tracker: &mut Tracker, tx: &mpsc::Sender<SourceEvent>) -> Tail {
    let started = tokio::time::Instant::now();
    let out = match client.start_live_tail().log_group_identifiers(arn).set_log_event_filter_pattern(opts.pattern.clone()).send().await {
        Ok(o) => o,
        Err(e) => {
            let code = e.code().unwrap_or("");
            let msg = describe(&e);
            return if matches!(
                code,
                "AccessDeniedException" | "UnrecognizedClientException" | "InvalidOperationException" | "UnknownOperationException"
            ) || code.is_empty() && msg.contains("404")
            {
                Tail::Unavailable(msg)
            } else {
                Tail::Ended(started.elapsed(), msg)
            };
        }
    };
    let mut stream = out.response_stream;
    let mut established = false;
    loop {
        let frame = stream.recv().await;
        if matches!(frame, Ok(Some(_))) && !established {
            // The first frame (normally SessionStart): close the gap between the last
            // sweep and this session, then we are live.
            established = true;
            let from = tracker.newest_ms - OVERLAP_MS;
            if let Err((e, _)) = sweep(client, opts, from, tracker, tx).await {
                return Tail::Ended(started.elapsed(), e);
            }
            if tx.send(SourceEvent::Status(Status::Live)).await.is_err() {
                return Tail::Stop;
            }
        }
        match frame {
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => {
                let (records, skipped) = tracker.take(u.session_results().iter().map(|e| (e.message(), e.timestamp(), None)));
                if !send(tx, records, skipped).await {
                    return Tail::Stop;
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return Tail::Ended(started.elapsed(), "live tail session closed".into()),
            Err(e) => return Tail::Ended(started.elapsed(), describe(&e)),
        }
    }
}

/// Runs the source until the end (not following) or until the consumer goes away.
pub async fn run(client: Client, opts: CloudWatchSource, tx: mpsc::Sender<SourceEvent>) {
    let mut tracker = Tracker { seen: HashSet::new(), order: VecDeque::new(), newest_ms: opts.since_ms, prepare: opts.prepare.clone() };
    let _ = tx.send(SourceEvent::Status(Status::Backfilling)).await;
    let mut backoff = Duration::from_secs(1);
    // Backfill, retried until it succeeds (the group may not exist yet).
    loop {
        match sweep(&client, &opts, opts.since_ms, &mut tracker, &tx).await {
            Ok(true) => break,
            Ok(false) => return,
            Err((e, _)) => {
                if !opts.follow {
                    let _ = tx.send(SourceEvent::Status(Status::Waiting(e))).await;
                    let _ = tx.send(SourceEvent::Status(Status::Done)).await;
                    return;
                }
                if tx.send(SourceEvent::Status(Status::Reconnecting(e))).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    if !opts.follow {
        let _ = tx.send(SourceEvent::Status(Status::Done)).await;
        return;
    }

    let mut poll = opts.poll_only;
    let mut short_sessions = 0;
    backoff = Duration::from_secs(1);
    while !poll {
        let arn = match group_arn(&client, &opts.group).await {
            Ok(a) => a,
            Err(e) => {
                if tx.send(SourceEvent::Status(Status::Reconnecting(e))).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        match live_tail(&client, &arn, &opts, &mut tracker, &tx).await {
            Tail::Stop => return,
            Tail::Unavailable(e) => {
                let _ =
                    tx.send(SourceEvent::Status(Status::Reconnecting(format!("live tail unavailable ({e}); polling every second")))).await;
                poll = true;
            }
            Tail::Ended(lasted, e) => {
                // An endpoint that closes every session at once does not stream: poll.
                short_sessions = if lasted < Duration::from_secs(5) { short_sessions + 1 } else { 0 };
                if short_sessions >= 2 {
                    let _ = tx
                        .send(SourceEvent::Status(Status::Reconnecting("live tail sessions end at once; polling every second".into())))
                        .await;
                    poll = true;
                } else {
                    if tx.send(SourceEvent::Status(Status::Reconnecting(e))).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff =
                        if lasted > Duration::from_secs(60) { Duration::from_secs(1) } else { (backoff * 2).min(Duration::from_secs(30)) };
                }
            }
        }
    }

    // Polling: ≤ 1 request/s per page sweep, backing off on throttling and errors.
    let mut wait = opts.poll_every;
    let mut live = false;
    loop {
        tokio::time::sleep(wait).await;
        if tx.is_closed() {
            return;
        }
        match sweep(&client, &opts, tracker.newest_ms - OVERLAP_MS, &mut tracker, &tx).await {
            Ok(true) => {
                wait = opts.poll_every;
                if !live {
                    live = true;
                    if tx.send(SourceEvent::Status(Status::Live)).await.is_err() {
                        return;
                    }
                }
            }
            Ok(false) => return,
            Err((e, throttled)) => {
                live = false;
                wait = (wait * 2).min(Duration::from_secs(if throttled { 10 } else { 30 }));
                if tx.send(SourceEvent::Status(Status::Reconnecting(e))).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Parses `--since`: `90s`, `30m`, `1h`, `2d`, or an RFC 3339 time. Returns Unix ms.
pub fn parse_since(s: &str, now_ms: i64) -> Result<i64, String> {
    let t = s.trim();
    if let Some(ms) = zoomwatch_shared::timefmt::parse_rfc3339_ms(t) {
        return Ok(ms);
    }
    match zoomwatch_shared::timefmt::parse_duration_ms(t) {
        Some(ms) => Ok(now_ms - ms),
        None => Err(format!("--since {s:?}: use 90s, 30m, 1h, 2d or an RFC 3339 time")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since() {
        assert_eq!(parse_since("1h", 10_000_000), Ok(10_000_000 - 3_600_000));
        assert_eq!(parse_since("90s", 100_000), Ok(10_000));
        assert_eq!(parse_since("2026-01-01T00:00:00Z", 0), Ok(1_767_225_600_000));
        assert!(parse_since("yesterday", 0).is_err());
        assert!(parse_since("5y", 0).is_err());
    }
}
