//! Following a CloudWatch Logs group, without gaps or duplicates:
//!
//! 1. **Backfill** — `FilterLogEvents` from `since`, all pages; past the first page, in
//!    time slices of about a page each ([`Slicer`]).
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

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use tokio::sync::mpsc;
use zoomwatch_shared::lines;

pub use super::provenance::{StreamOwner, belongs, belongs_record, owner};
use super::slicer::{Slicer, now_ms};
use super::{AsRead, Collected, Prepare, SourceEvent, Status};
use crate::aws::describe;
use crate::pager::{FilterPages, ReadError};

/// Most events a page, read by one `FilterLogEvents` call. CloudWatch itself sends at most
/// 1 MB (about 850 records); a service that sends up to its 10,000-event cap makes a
/// reader hold two 12 MB pages (one parsed, one fetched ahead).
const PAGE_EVENTS: i32 = 4_000;
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
    /// A CloudWatch Logs filter pattern (the console's pushdown of its filter): only
    /// events matching it are sent by CloudWatch, for `FilterLogEvents` and
    /// `StartLiveTail` alike.
    pub pattern: Option<String>,
}

impl CloudWatchSource {
    /// Reads `group` from `since_ms` and follows it, live tail first.
    pub fn new(group: impl Into<String>, since_ms: i64) -> Self {
        Self { group: group.into(), since_ms, follow: true, poll_only: false, poll_every: Duration::from_secs(1), pattern: None }
    }
}

/// Deduplicates by record id and tracks the newest timestamp.
struct Tracker<P: Prepare> {
    /// Record ids (and keys of lines that are not records) seen lately, as 64-bit keys.
    seen: zoomwatch_shared::ids::RecentIds,
    newest_ms: i64,
    /// Records accepted so far (new ones, not seen before).
    accepted: u64,
    prepare: Arc<P>,
}

impl<P: Prepare> Tracker<P> {
    fn new(since_ms: i64, prepare: Arc<P>) -> Self {
        Self { seen: zoomwatch_shared::ids::RecentIds::new(DEDUPE), newest_ms: since_ms, accepted: 0, prepare }
    }

    fn accept(&mut self, key: &str) -> bool {
        self.seen.insert(key)
    }

    /// Parses messages, drops duplicates and records in a stream their writer does not
    /// own ([`belongs`]); returns (new records, skipped lines).
    fn take<'a>(
        &mut self,
        events: impl Iterator<Item = (Option<&'a str>, Option<i64>, Option<&'a str>, Option<&'a str>)>,
    ) -> (Collected<P>, u64) {
        let mut out = Collected::new(self.prepare.clone());
        let mut skipped = 0;
        for (message, ts, event_id, stream) in events {
            if let Some(t) = ts {
                self.newest_ms = self.newest_ms.max(t);
            }
            let Some(message) = message else { continue };
            match lines::parse(message.as_bytes()) {
                Ok(r) if !belongs_record(stream, &r) => {
                    // An analyst's stream carrying a webhook event, or an alert outside
                    // the watcher's streams: not believed, counted as skipped.
                    if self.accept(&format!("misplaced:{}", r.id)) {
                        skipped += 1;
                    }
                }
                Ok(r) => {
                    if self.accept(&r.id) {
                        self.accepted += 1;
                        out.push(message.as_bytes(), r);
                    }
                }
                Err(lines::Skip::Blank) => {}
                Err(_) => {
                    let key = event_id.map_or_else(|| format!("{}:{}", ts.unwrap_or(0), message.len()), |e| format!("ev:{e}"));
                    if self.accept(&key) {
                        skipped += 1;
                    }
                }
            }
        }
        (out, skipped)
    }
}

async fn send<P: Prepare>(tx: &mpsc::Sender<SourceEvent<P::Item>>, mut records: Collected<P>, skipped: u64) -> bool {
    if skipped > 0 && tx.send(SourceEvent::Skipped(skipped)).await.is_err() {
        return false;
    }
    match records.next_batch(usize::MAX) {
        Some(batch) => tx.send(batch).await.is_ok(),
        None => true,
    }
}

/// Aborts a task when dropped (a sweep that stops early stops its page fetcher).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One full `FilterLogEvents` sweep from `start_ms`: Ok(false) when the consumer is gone.
/// With `slice`, a long read (more than a page) goes on in time slices ([`Slicer`]).
async fn sweep<P: Prepare>(
    client: &Client,
    opts: &CloudWatchSource,
    start_ms: i64,
    slice: bool,
    tracker: &mut Tracker<P>,
    tx: &mpsc::Sender<SourceEvent<P::Item>>,
) -> Result<bool, ReadError> {
    // The next page is asked for while this one is parsed and sent: the service's time
    // and ours overlap. One page ahead at most.
    let (pages_tx, mut pages_rx) = mpsc::channel(1);
    let fetcher = {
        let (client, group, pattern) = (client.clone(), opts.group.clone(), opts.pattern.clone());
        let end_ms = slice.then(now_ms);
        tokio::spawn(async move {
            let mut pages = FilterPages::new(&client, &group, start_ms).matching(pattern.as_deref()).pages_of(PAGE_EVENTS);
            // The first page says whether (and how) the rest is sliced.
            let Some(first) = pages.next().await.transpose() else { return };
            let slicer = match (&first, end_ms) {
                (Ok(page), Some(end)) if !pages.is_done() => {
                    let stamps: Vec<i64> = page.events().iter().filter_map(|e| e.timestamp()).collect();
                    Slicer::after_first_page(&stamps, end)
                }
                _ => None,
            };
            let failed = first.is_err();
            if pages_tx.send(first).await.is_err() || failed {
                return;
            }
            let Some(mut slicer) = slicer else {
                // Not sliced: the first cursor to its end.
                while let Some(next) = pages.next().await.transpose() {
                    let failed = next.is_err();
                    if pages_tx.send(next).await.is_err() || failed {
                        return;
                    }
                }
                return;
            };
            loop {
                let (from, to) = slicer.next();
                let mut pages = FilterPages::new(&client, &group, from).matching(pattern.as_deref()).pages_of(PAGE_EVENTS);
                if let Some(to) = to {
                    pages = pages.until(to);
                }
                let mut events = 0;
                while let Some(next) = pages.next().await.transpose() {
                    let failed = next.is_err();
                    events += next.as_ref().map_or(0, |p| p.events().len());
                    if pages_tx.send(next).await.is_err() || failed {
                        return;
                    }
                }
                if to.is_none() {
                    return;
                }
                slicer.advance(events);
            }
        })
    };
    let _stop = AbortOnDrop(fetcher);
    while let Some(page) = pages_rx.recv().await {
        let page = page?;
        let (records, skipped) =
            tracker.take(page.events().iter().map(|e| (e.message(), e.timestamp(), e.event_id(), e.log_stream_name())));
        if !send(tx, records, skipped).await {
            return Ok(false);
        }
    }
    Ok(true)
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

async fn live_tail<P: Prepare>(
    client: &Client,
    arn: &str,
    opts: &CloudWatchSource,
    tracker: &mut Tracker<P>,
    tx: &mpsc::Sender<SourceEvent<P::Item>>,
) -> Tail {
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
            if let Err(e) = sweep(client, opts, from, false, tracker, tx).await {
                return Tail::Ended(started.elapsed(), e.to_string());
            }
            if tx.send(SourceEvent::Status(Status::Live)).await.is_err() {
                return Tail::Stop;
            }
        }
        match frame {
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => {
                let (records, skipped) =
                    tracker.take(u.session_results().iter().map(|e| (e.message(), e.timestamp(), None, e.log_stream_name())));
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

/// Runs the source until the end (not following) or until the consumer goes away,
/// sending records as read.
pub async fn run(client: Client, opts: CloudWatchSource, tx: mpsc::Sender<SourceEvent>) {
    run_prepared(client, opts, Arc::new(AsRead), tx).await;
}

/// Like [`run`], each record prepared by the consumer's `prep` in this task.
pub async fn run_prepared<P: Prepare>(client: Client, opts: CloudWatchSource, prep: Arc<P>, tx: mpsc::Sender<SourceEvent<P::Item>>) {
    let mut tracker = Tracker::new(opts.since_ms, prep);
    let _ = tx.send(SourceEvent::Status(Status::Backfilling)).await;
    let mut backoff = Duration::from_secs(1);
    // Backfill, retried until it succeeds (the group may not exist yet).
    loop {
        match sweep(&client, &opts, opts.since_ms, true, &mut tracker, &tx).await {
            Ok(true) => break,
            Ok(false) => return,
            Err(ReadError::NoCredentials(e)) => {
                let _ = tx.send(SourceEvent::Status(Status::Failed(e))).await;
                return;
            }
            Err(e) => {
                let e = e.to_string();
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

    // Polling: quickly while records are arriving, once per `poll_every` when idle,
    // backing off on throttling and errors ([`Cadence`]).
    let mut cadence = Cadence::new(opts.poll_every);
    let mut wait = opts.poll_every;
    let mut live = false;
    loop {
        tokio::time::sleep(wait).await;
        if tx.is_closed() {
            return;
        }
        let before = tracker.accepted;
        match sweep(&client, &opts, tracker.newest_ms - OVERLAP_MS, false, &mut tracker, &tx).await {
            Ok(true) => {
                wait = cadence.next(tracker.accepted > before);
                if !live {
                    live = true;
                    if tx.send(SourceEvent::Status(Status::Live)).await.is_err() {
                        return;
                    }
                }
            }
            Ok(false) => return,
            Err(e) => {
                let throttled = matches!(e, ReadError::Throttled(_));
                let e = e.to_string();
                live = false;
                wait = (wait.max(opts.poll_every) * 2).min(Duration::from_secs(if throttled { 10 } else { 30 }));
                if tx.send(SourceEvent::Status(Status::Reconnecting(e))).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// When the polling fallback reads again. While records are arriving it polls every
/// [`Cadence::BUSY`] (CloudWatch's `FilterLogEvents` allows about 5 calls a second per
/// account): a record waits for at most that, plus the call. After
/// [`Cadence::QUIET_POLLS`] polls that found nothing it relaxes to the idle interval
/// (`--poll`'s once a second). Every page of a sweep is read at once, so a burst larger
/// than a page is never left waiting for the next poll.
#[derive(Debug, Clone)]
pub struct Cadence {
    idle: Duration,
    quiet: u32,
}

impl Cadence {
    /// The interval while records are arriving.
    pub const BUSY: Duration = Duration::from_millis(200);
    /// Polls without a new record before relaxing to the idle interval.
    pub const QUIET_POLLS: u32 = 10;

    /// Idle interval `idle` (never quicker than [`Self::BUSY`]).
    pub fn new(idle: Duration) -> Self {
        Self { idle: idle.max(Self::BUSY), quiet: Self::QUIET_POLLS }
    }

    /// The wait before the next poll, after one that found new records or not.
    pub fn next(&mut self, found: bool) -> Duration {
        self.quiet = if found { 0 } else { self.quiet.saturating_add(1) };
        if self.quiet < Self::QUIET_POLLS { Self::BUSY } else { self.idle }
    }
}

/// Parses `--since`: `90s`, `30m`, `1h`, `2d`, or an RFC 3339 time. Returns Unix ms.
pub fn parse_since(s: &str, now_ms: i64) -> Result<i64, crate::LogError> {
    let t = s.trim();
    if let Some(ms) = zoomwatch_shared::timefmt::parse_rfc3339_ms(t) {
        return Ok(ms);
    }
    match zoomwatch_shared::timefmt::parse_duration_ms(t) {
        Some(ms) => Ok(now_ms - ms),
        None => Err(crate::LogError::Config(format!("--since {s:?}: use 90s, 30m, 1h, 2d or an RFC 3339 time"))),
    }
}

/// The alert records on the watcher's streams of `group` since `start_ms`: what a
/// watcher that died before saving its checkpoint wrote, read back before it goes on
/// (so it writes none of them again, and owes their notifications).
pub async fn alert_records_since(client: &Client, group: &str, start_ms: i64) -> Result<Vec<zoomwatch_shared::RecordV1>, ReadError> {
    let mut pages = FilterPages::new(client, group, start_ms).matching(Some("\"zoomwatch.alert\""));
    let mut out = Vec::new();
    while let Some(page) = pages.next().await? {
        for e in page.events() {
            let (Some(m), stream) = (e.message(), e.log_stream_name()) else { continue };
            if let Ok(r) = lines::parse(m.as_bytes())
                && r.event == zoomwatch_shared::record::ALERT_EVENT
                && owner(stream) == StreamOwner::Watch
            {
                out.push(r);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_quickly_while_records_arrive_and_relaxes_when_idle() {
        let mut c = Cadence::new(Duration::from_secs(1));
        assert_eq!(c.next(false), Duration::from_secs(1), "idle from the start");
        assert_eq!(c.next(true), Cadence::BUSY);
        for _ in 1..Cadence::QUIET_POLLS {
            assert_eq!(c.next(false), Cadence::BUSY, "records come in bursts: stay quick a while");
        }
        assert_eq!(c.next(false), Duration::from_secs(1));
        assert_eq!(c.next(true), Cadence::BUSY);
        // A shorter idle interval than the busy one is not quicker than the busy one.
        assert_eq!(Cadence::new(Duration::from_millis(50)).next(false), Cadence::BUSY);
    }

    #[test]
    fn since() {
        assert_eq!(parse_since("1h", 10_000_000).ok(), Some(10_000_000 - 3_600_000));
        assert_eq!(parse_since("90s", 100_000).ok(), Some(10_000));
        assert_eq!(parse_since("2026-01-01T00:00:00Z", 0).ok(), Some(1_767_225_600_000));
        assert!(parse_since("yesterday", 0).is_err());
        assert!(parse_since("5y", 0).is_err());
    }
}
