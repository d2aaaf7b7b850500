//! `zoomwatch watch`: the stateful detector as a service, for the hours nobody has a
//! console open. It follows a source like the console does (the receiver's JSONL file,
//! or the log group), runs every rule with the same [`Detector`] and configuration,
//! and writes each alert as a `zoomwatch.alert` record (see
//! [`zoomwatch_shared::alert`]) where the SIEM collects it — by default beside the
//! events it rests on — and notifies.
//!
//! Restart-safe: a checkpoint (the detector's memory, the alerts already written, and
//! where in the source it stopped) is saved after every batch that wrote alerts and
//! every few seconds otherwise, by writing a temporary file and renaming it. A restart
//! goes on from there: no alert is written twice, none is missed. If the process dies
//! between writing alerts and saving, the alert records it reads back from its own
//! destination (the default) mark them as written; elsewhere the same record (same id)
//! may be written once more, which is harmless downstream.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zoomwatch_shared::alert::AlertBook;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::Detector;

use crate::source::Position;

/// Version of the checkpoint layout.
pub const CHECKPOINT_VERSION: u32 = 1;
/// How far before a log-group checkpoint a restart reads again (late ingestion,
/// streams written out of order); the detector drops what it has seen.
pub const LOG_GROUP_OVERLAP_MS: i64 = 10 * 60 * 1000;

/// Where in the source a checkpoint stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cursor {
    /// Nothing read yet.
    Start,
    /// A file: inode and bytes read.
    File {
        /// Inode.
        inode: u64,
        /// Bytes read.
        offset: u64,
    },
    /// A log group: the newest receive time of the records read (Unix ms).
    LogGroup {
        /// Newest `received_at` read.
        through_ms: i64,
    },
}

/// What a checkpoint holds.
#[derive(Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// The source it belongs to (`file:PATH`, `log-group:NAME`).
    pub source: String,
    /// Where reading stopped.
    pub cursor: Cursor,
    /// When it was saved.
    pub saved_at: String,
    /// Records read in all runs.
    pub records: u64,
    /// Alerts seen and what of them was written.
    pub alerts: AlertBook,
    /// The detector's memory ([`Detector::save`]).
    pub detector: Box<RawValue>,
}

/// Counts for the log and the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WatchStats {
    /// Records read (this run).
    pub records: u64,
    /// Alert records written (this run): raised and updated.
    pub written: u64,
    /// Of which newly raised.
    pub raised: u64,
}

/// The detector, the alerts it raised, and where in the source it is. No I/O.
pub struct Watcher {
    detector: Detector,
    book: AlertBook,
    cursor: Cursor,
    source: String,
    min: Severity,
    total_records: u64,
    geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>,
    /// This run's counts.
    pub stats: WatchStats,
}

impl Watcher {
    /// A fresh watcher of `source` (its label), writing alerts at or above `min`.
    pub fn new(detector: Detector, source: &str, min: Severity) -> Self {
        Self {
            detector,
            book: AlertBook::new(),
            cursor: Cursor::Start,
            source: source.to_owned(),
            min,
            total_records: 0,
            geo: None,
            stats: WatchStats::default(),
        }
    }

    /// Enriches records stored without `geo` (as the console does).
    pub fn with_geo(mut self, geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>) -> Self {
        self.geo = geo;
        self
    }

    /// Goes on from a checkpoint of the same source. `detector_cfg` is the
    /// configuration to run with now (it may have changed since).
    pub fn resume(cfg: zoomwatch_shared::config::Config, saved: &[u8], source: &str, min: Severity) -> Result<Self, String> {
        let cp: Checkpoint = serde_json::from_slice(saved).map_err(|e| format!("unreadable checkpoint: {e}"))?;
        if cp.version != CHECKPOINT_VERSION {
            return Err(format!("checkpoint of version {}, this build reads {CHECKPOINT_VERSION}", cp.version));
        }
        if cp.source != source {
            return Err(format!("the checkpoint is for {}, not {source}", cp.source));
        }
        let detector = Detector::restore(cfg, cp.detector.get().as_bytes())?;
        let mut w = Self::new(detector, source, min);
        w.book = cp.alerts;
        w.cursor = cp.cursor;
        w.total_records = cp.records;
        Ok(w)
    }

    /// Where reading stopped.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Records read in all runs.
    pub fn total_records(&self) -> u64 {
        self.total_records
    }

    /// Feeds a batch from the source.
    pub fn observe(&mut self, batch: Vec<RecordV1>) {
        for mut r in batch {
            self.stats.records += 1;
            self.total_records += 1;
            if let Some(block) = r.alert.as_deref() {
                // Our own alert read back (the default destination is the source):
                // already written, whatever the checkpoint says.
                self.book.mark_written(block);
            }
            if self.source.starts_with("log-group:") {
                let received = zoomwatch_shared::timefmt::parse_rfc3339_ms(&r.received_at).unwrap_or(0);
                let through = if let Cursor::LogGroup { through_ms } = self.cursor { through_ms } else { i64::MIN };
                self.cursor = Cursor::LogGroup { through_ms: through.max(received) };
            }
            if let Some(g) = &self.geo {
                g.enrich(&mut r);
            }
            for e in self.detector.observe(&r) {
                self.book.apply(e);
            }
        }
    }

    /// Alert records found in the destination (read back at start): marked as
    /// written, so a restart after a crash writes none of them again.
    pub fn already_written(&mut self, records: &[RecordV1]) {
        for r in records {
            if let Some(b) = r.alert.as_deref() {
                self.book.mark_written(b);
            }
        }
    }

    /// A file source's position (everything before it was observed).
    pub fn at(&mut self, p: Position) {
        self.cursor = Cursor::File { inode: p.inode, offset: p.offset };
    }

    /// Rules about time passing, with the wall clock.
    pub fn tick(&mut self, now_ms: i64) {
        for e in self.detector.tick(now_ms) {
            self.book.apply(e);
        }
    }

    /// The alert records to write now (raised or grown since the last call, at or
    /// above the severity threshold).
    pub fn take_alerts(&mut self, now_ms: i64) -> Vec<RecordV1> {
        let out: Vec<RecordV1> = self
            .book
            .drain(now_ms, &self.source)
            .into_iter()
            .filter(|r| r.alert.as_deref().is_some_and(|a| a.severity >= self.min))
            .collect();
        self.stats.written += out.len() as u64;
        self.stats.raised += out.iter().filter(|r| r.alert.as_deref().is_some_and(|a| a.update == 0)).count() as u64;
        out
    }

    /// The checkpoint as JSON.
    pub fn checkpoint(&self, now_ms: i64) -> Result<Vec<u8>, String> {
        let mut mem = Vec::new();
        self.detector.save(&mut mem).map_err(|e| format!("cannot save the detector: {e}"))?;
        let detector = RawValue::from_string(String::from_utf8(mem).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let cp = Checkpoint {
            version: CHECKPOINT_VERSION,
            source: self.source.clone(),
            cursor: self.cursor,
            saved_at: zoomwatch_shared::timefmt::format_ms(now_ms),
            records: self.total_records,
            alerts: self.book.clone(),
            detector,
        };
        serde_json::to_vec(&cp).map_err(|e| format!("cannot save the checkpoint: {e}"))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, renamed.
pub fn save_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The default checkpoint: `$XDG_STATE_HOME/zoomwatch/watch-checkpoint.json`.
pub fn default_checkpoint() -> Option<PathBuf> {
    crate::triage::default_path().and_then(|p| p.parent().map(|d| d.join("watch-checkpoint.json")))
}

/// How often a checkpoint is saved when nothing was written.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);

/// How the loop runs.
pub struct RunOptions {
    /// Save checkpoints here (none: no checkpoint).
    pub checkpoint: Option<PathBuf>,
    /// Run the time-based rules (silence) with the wall clock this often; `None` when
    /// not following (a one-shot run ticks once at the end).
    pub tick: Option<Duration>,
    /// Wall clock (Unix ms).
    pub now_ms: fn() -> i64,
}

/// A line for the operator (stderr, or the Lambda's log).
pub type Log = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// Writes `records`, retrying with back-off until they are stored or `stop` fires:
/// alert records are never dropped while the process lives.
async fn write_all(
    sink: &zoomwatch_ingest::sink::AnySink,
    records: &[RecordV1],
    log: &Log,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    use zoomwatch_ingest::sink::Sink;
    let mut wait = Duration::from_millis(500);
    loop {
        match sink.write(records.to_vec()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                if *stop.borrow() {
                    return Err(format!("{} alert records not written to {}: {e}", records.len(), sink.describe()));
                }
                log(format!("alert records not written to {} ({e}); retrying in {:.1} s", sink.describe(), wait.as_secs_f32()));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Follows `rx` until the source ends or `stop` becomes true: observes, writes alert
/// records to `sink`, offers them to the notifiers, saves checkpoints. Returns this
/// run's counts; an error when alert records could not be written or a checkpoint not
/// saved (the next run then starts from the last good checkpoint).
pub async fn run(
    w: &mut Watcher,
    mut rx: tokio::sync::mpsc::Receiver<crate::source::SourceEvent>,
    sink: &zoomwatch_ingest::sink::AnySink,
    notifiers: &[crate::notify::Notifier],
    opts: &RunOptions,
    log: Log,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<WatchStats, String> {
    use crate::source::{SourceEvent, Status};
    let mut tick = tokio::time::interval(opts.tick.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_save = std::time::Instant::now();
    let mut dirty = false;
    let mut waiting_said = false;
    loop {
        let mut ended = false;
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(SourceEvent::Records(batch)) => { w.observe(batch); dirty = true; }
                Some(SourceEvent::Position(p)) => { w.at(p); dirty = true; }
                Some(SourceEvent::Skipped(n)) => log(format!("{n} lines skipped (not zoomwatch.v1 records)")),
                Some(SourceEvent::Status(Status::Done)) | None => ended = true,
                Some(SourceEvent::Status(Status::Waiting(why))) => {
                    if !waiting_said { log(why); waiting_said = true; }
                }
                Some(SourceEvent::Status(Status::Reconnecting(why))) => log(why),
                Some(SourceEvent::Status(_)) => {}
            },
            _ = tick.tick(), if opts.tick.is_some() => w.tick((opts.now_ms)()),
            _ = stop.changed() => ended = true,
        }
        if ended && opts.tick.is_none() {
            // One-shot: the silence rules judge the state at the end.
            w.tick((opts.now_ms)());
        }
        let alerts = w.take_alerts((opts.now_ms)());
        if !alerts.is_empty() {
            write_all(sink, &alerts, &log, &mut stop).await?;
            for r in &alerts {
                if let Some(a) = r.alert.as_deref().filter(|a| a.update == 0) {
                    log(format!("{} {} {}", a.severity.as_str().to_uppercase(), a.rule, zoomwatch_shared::text::sanitize(&a.reason, 300)));
                }
                for n in notifiers {
                    n.offer(r);
                }
            }
        }
        let due = dirty && (!alerts.is_empty() || ended || last_save.elapsed() >= SAVE_EVERY);
        if let (true, Some(path)) = (due, &opts.checkpoint) {
            let bytes = w.checkpoint((opts.now_ms)())?;
            save_file(path, &bytes).map_err(|e| format!("cannot save the checkpoint {}: {e}", path.display()))?;
            last_save = std::time::Instant::now();
            dirty = false;
        }
        if ended || *stop.borrow() {
            return Ok(w.stats);
        }
    }
}
