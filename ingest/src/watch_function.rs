//! The scheduled watch function (`ZOOMWATCH_MODE=watch`): the stateful detector run
//! every minute or so by EventBridge, with no server to keep up. Each invocation loads
//! the checkpoint from S3, reads the log group from where the last one stopped
//! (`FilterLogEvents`, all streams, with an overlap the detector deduplicates), writes
//! the alerts as `zoomwatch.alert` records on the group's `…/zoomwatch-watch/…` streams,
//! notifies, and saves the checkpoint. One run at a time (the template reserves a
//! concurrency of 1); a run near its time limit stops reading, writes and saves what it
//! has, and the next goes on from there.
//!
//! Alerts are written once per invocation, after every page was read: the alert
//! records of an earlier run that died before saving its checkpoint are read back in
//! the overlap first, so they are not written twice — and since that run cannot have
//! notified them, they are owed. Notifications are owed in the checkpoint before they
//! are sent and leave it when delivered: at least once, with an idempotency key.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZOOMWATCH_LOG_GROUP` | the group read and written | `/zoomwatch/events` |
//! | `ZOOMWATCH_STATE_BUCKET` | S3 bucket of the checkpoint (beside the poll cursor; `ZOOMWATCH_WATCH_BUCKET` is read too) | — (required) |
//! | `ZOOMWATCH_WATCH_KEY` | its key | `watch-checkpoint.json` |
//! | `ZOOMWATCH_WATCH_SINCE` | how far back a first run reads | `1h` |
//! | `ZOOMWATCH_WATCH_MIN_SEVERITY` | alerts written at or above | `low` |
//! | `ZOOMWATCH_NOTIFY` | space-separated: `sns:TOPIC_ARN`, `webhook-secret:ID`, `webhook-env:VAR`, `webhook:URL` | none |
//! | `ZOOMWATCH_NOTIFY_MIN_SEVERITY` | notified at or above | `high` |
//! | `ZOOMWATCH_CONFIG`, `ZOOMWATCH_GEOIP_*` | rules and enrichment, as the receiver | built-in |

use std::time::Duration;

use crate::error::{IngestError, Result};
use zoomwatch_shared::record::Severity;
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::watcher::{Cursor, LOG_GROUP_OVERLAP_MS, Watcher};

use zoomwatch_log::notify::Target;
use zoomwatch_log::pager::{FilterPages, ReadError};
use zoomwatch_log::sink::{CloudWatchSink, Sink};

use crate::state_store::{StateObject, s3_client};

/// Time kept in reserve at the end of an invocation for writing and saving: a quarter
/// of what the invocation has, at most this.
const RESERVE: Duration = Duration::from_secs(15);
/// Attempts per notification inside an invocation (its time is bounded).
const NOTIFY_ATTEMPTS: u32 = 3;

/// Settings read once per execution environment.
pub struct WatchFunction {
    logs: aws_sdk_cloudwatchlogs::Client,
    checkpoint: StateObject,
    /// The key alert records are sealed with (`watch-seal-key` beside the checkpoint).
    seal_key: StateObject,
    sink: CloudWatchSink,
    group: String,
    since_ms: i64,
    min: Severity,
    notify: Vec<Target>,
    notify_min: Severity,
    http: reqwest::Client,
    cfg: zoomwatch_shared::config::Config,
    geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>,
}

/// What one invocation did (its response, and a log line).
#[derive(Debug, Default, serde::Serialize)]
pub struct RunSummary {
    /// Records read.
    pub records: u64,
    /// Pages of `FilterLogEvents` read.
    pub pages: u64,
    /// Alert records written (raised and updated).
    pub written: u64,
    /// Of which newly raised.
    pub raised: u64,
    /// Notifications delivered.
    pub notified: u64,
    /// Notifications that failed (logged; offered again by the next run).
    pub notify_failed: u64,
    /// Notifications still owed after this run (failed, or no time left).
    pub owed: u64,
    /// False when the run stopped early for time; the next one goes on.
    pub complete: bool,
    /// Whether it started from a checkpoint.
    pub resumed: bool,
}

fn severity_env(var: &str, default: Severity) -> Result<Severity> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => {
            Severity::parse(v.trim()).ok_or_else(|| IngestError::Setting(format!("{var}={v:?}: expected info, low, medium or high")))
        }
        _ => Ok(default),
    }
}

impl WatchFunction {
    /// From the environment (see the module table).
    pub async fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self> {
        let group = std::env::var("ZOOMWATCH_LOG_GROUP").unwrap_or_else(|_| zoomwatch_log::aws::DEFAULT_LOG_GROUP.to_owned());
        let bucket = std::env::var("ZOOMWATCH_STATE_BUCKET")
            .or_else(|_| std::env::var("ZOOMWATCH_WATCH_BUCKET"))
            .map_err(|_| IngestError::Setting("ZOOMWATCH_STATE_BUCKET is not set (the checkpoint's S3 bucket)".into()))?;
        let key = std::env::var("ZOOMWATCH_WATCH_KEY").unwrap_or_else(|_| "watch-checkpoint.json".to_owned());
        let since_ms = crate::poll::parse_duration_ms(&std::env::var("ZOOMWATCH_WATCH_SINCE").unwrap_or_else(|_| "1h".into()))
            .map_err(|e| IngestError::Setting(format!("ZOOMWATCH_WATCH_SINCE: {e}")))?;
        let min = severity_env("ZOOMWATCH_WATCH_MIN_SEVERITY", Severity::Low)?;
        let mut notify = Vec::new();
        for spec in std::env::var("ZOOMWATCH_NOTIFY").unwrap_or_default().split_whitespace() {
            notify.push(Target::parse(spec, None, None).await?);
        }
        let notify_min = severity_env("ZOOMWATCH_NOTIFY_MIN_SEVERITY", Severity::High)?;
        let http = zoomwatch_log::notify::http_client()?;
        let (cfg, geo) = crate::config::load_rules(None).map_err(IngestError::Setting)?;
        let budget = Duration::from_secs(10);
        let logs = zoomwatch_log::aws::logs_client(sdk, Some(budget));
        let sink = CloudWatchSink::for_watch(logs.clone(), group.clone(), budget);
        let seal_key = StateObject { client: s3_client(sdk), bucket: bucket.clone(), key: "watch-seal-key".to_owned() };
        let checkpoint = StateObject { client: s3_client(sdk), bucket, key };
        Ok(Self { logs, checkpoint, seal_key, sink, group, since_ms, min, notify, notify_min, http, cfg, geo })
    }

    /// Where notifications go, for the start-up log line (never the URL).
    pub fn describe(&self) -> String {
        let to: Vec<String> = self.notify.iter().map(Target::describe).collect();
        let n =
            if to.is_empty() { String::new() } else { format!("; notifying {} ({} and above)", to.join(", "), self.notify_min.as_str()) };
        format!("log group {} → alerts at {} and above; checkpoint {}{n}", self.group, self.min.as_str(), self.checkpoint.describe())
    }

    /// One invocation: read from the checkpoint to `now_ms`, stopping at `deadline`.
    pub async fn run_once(&self, now_ms: i64, deadline: std::time::Instant) -> Result<RunSummary> {
        let label = format!("log-group:{}", self.group);
        let mut summary = RunSummary::default();
        let mut w = match self.checkpoint.load().await.map_err(|e| IngestError::Aws(format!("the checkpoint: {e}")))? {
            Some(bytes) => match Watcher::resume(self.cfg.clone(), &bytes, &label, self.min) {
                Ok(w) => {
                    summary.resumed = true;
                    w
                }
                // A checkpoint of another version or source: start afresh (the alert
                // records read back keep already-written alerts from repeating).
                Err(e) => {
                    tracing::warn!(error = %e, "checkpoint not used; starting from ZOOMWATCH_WATCH_SINCE");
                    Watcher::new(Detector::new(self.cfg.clone()), &label, self.min)
                }
            },
            None => Watcher::new(Detector::new(self.cfg.clone()), &label, self.min),
        }
        .with_geo(self.geo.clone());
        if !w.has_seal_key() {
            // The key alert records are sealed with: its own object, so a lost
            // checkpoint does not make this watcher distrust what it wrote before.
            let stored = self.seal_key.load().await.map_err(|e| IngestError::Aws(format!("the seal key: {e}")))?;
            let key = match stored.filter(|k| k.len() >= 32) {
                Some(k) => k,
                None => {
                    let k = rand::random::<[u8; 32]>().to_vec();
                    self.seal_key.save(k.clone()).await.map_err(|e| IngestError::Aws(format!("the seal key: {e}")))?;
                    k
                }
            };
            w = w.with_seal_key(key);
        }
        // Before alert records are read back: one written but never notified is owed.
        w.notify_to(self.notify_min, self.notify.iter().map(Target::describe));
        let start_ms = match w.cursor() {
            Cursor::LogGroup { through_ms } => through_ms - LOG_GROUP_OVERLAP_MS,
            _ => now_ms - self.since_ms,
        };
        summary.complete = false;
        let reserve = RESERVE.min(deadline.saturating_duration_since(std::time::Instant::now()) / 4);
        let mut pages = FilterPages::new(&self.logs, &self.group, start_ms).until(now_ms);
        loop {
            if std::time::Instant::now() + reserve >= deadline {
                tracing::warn!(pages = summary.pages, "stopping early for time; the next run goes on from here");
                break;
            }
            let page = match pages.next().await {
                Ok(Some(page)) => page,
                Ok(None) => {
                    summary.complete = true;
                    break;
                }
                Err(ReadError::NoGroup { group, .. }) => return Err(IngestError::Aws(format!("log group {group} does not exist"))),
                Err(e) => return Err(IngestError::Aws(format!("FilterLogEvents on {}: {e}", self.group))),
            };
            summary.pages += 1;
            let batch: Vec<_> = page
                .events()
                .iter()
                .filter_map(|e| Some((e.message()?, e.log_stream_name())))
                .filter_map(|(m, stream)| {
                    // Only what each writer's streams may carry (an analyst cannot pass a
                    // forged meeting event or alert through a response stream).
                    zoomwatch_shared::lines::parse(m.as_bytes())
                        .ok()
                        .filter(|r| zoomwatch_log::source::cloudwatch::belongs_record(stream, r))
                })
                .collect();
            summary.records += batch.len() as u64;
            w.observe(batch);
        }
        w.tick(now_ms);
        let alerts = w.take_alerts(now_ms);
        if !alerts.is_empty() {
            // Not saved when this fails: the next run raises the same alerts again.
            self.sink.write(alerts.clone()).await?;
        }
        summary.written = alerts.len() as u64;
        for r in &alerts {
            let Some(b) = r.alert.as_deref() else { continue };
            if b.update == 0 {
                summary.raised += 1;
                tracing::info!(rule = %b.rule, severity = b.severity.as_str(), alert = %b.id, reason = %zoomwatch_shared::text::sanitize(&b.reason, 300), "alert raised");
            }
        }
        // Owed and saved before anyone is told: a run that dies from here on leaves them
        // in the checkpoint's outbox, and the next run sends them.
        w.owe(&alerts);
        self.save(&w, now_ms).await?;
        let owed: Vec<(String, zoomwatch_shared::watcher::Owed)> = w.owed().map(|(k, o)| (k.to_owned(), o.clone())).collect();
        let mut delivered = false;
        // A target that failed once is not tried again in this run (its notifications stay
        // owed for the next): a failing endpoint costs one attempt's time, not one per alert.
        let mut failing: Vec<String> = Vec::new();
        for (key, owed) in owed {
            let Some(block) = owed.record.alert.as_deref() else { continue };
            for hook in self.notify.iter().filter(|h| owed.targets.contains(&h.describe())) {
                if failing.contains(&hook.describe()) {
                    continue;
                }
                match hook.post(&self.http, block, &owed.record, NOTIFY_ATTEMPTS).await {
                    Ok(()) => {
                        summary.notified += 1;
                        w.delivered(&key, &hook.describe());
                        delivered = true;
                    }
                    Err(e) => {
                        summary.notify_failed += 1;
                        failing.push(hook.describe());
                        tracing::error!(alert = %block.id, to = %hook.describe(), error = %e, "notification not delivered; the next run offers it again");
                    }
                }
            }
        }
        if delivered {
            self.save(&w, now_ms).await?;
        }
        summary.owed = w.owed().count() as u64;
        Ok(summary)
    }

    async fn save(&self, w: &Watcher, now_ms: i64) -> Result<()> {
        self.checkpoint
            .save(w.checkpoint(now_ms).map_err(|e| IngestError::Aws(format!("the checkpoint: {e}")))?)
            .await
            .map_err(|e| IngestError::Aws(format!("the checkpoint: {e}")))
    }
}
