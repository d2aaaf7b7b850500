//! The detector as a service, without I/O: [`Watcher`] feeds records to the
//! [`Detector`], follows the alerts it raises ([`AlertBook`]), keeps the place in the
//! source, and saves and restores all of it as a [`Checkpoint`]. `zoomwatch watch`
//! (console crate) and the scheduled watch function (ingest crate) drive it.
//!
//! Notifications are owed at least once: an alert record written is put in the
//! checkpoint's outbox (one entry per alert and update, with the targets still to tell)
//! before anyone is notified, and leaves it only when every target took it. A watcher
//! killed between writing an alert and notifying finds it in the outbox after restart —
//! or, killed before the checkpoint was saved, reads its own sealed alert record back and
//! owes it again. Receivers deduplicate on [`notify_key`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::alert::AlertBook;
use crate::record::{RecordV1, Severity};
use crate::rules::Detector;

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
    /// The key this watcher seals its alert records with (hex; the checkpoint is
    /// private to the watcher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_key: Option<String>,
    /// Notifications owed, by [`notify_key`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outbox: BTreeMap<String, Owed>,
}

/// A notification owed: the alert record and the targets that have not taken it yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owed {
    /// The alert record as written.
    pub record: RecordV1,
    /// Targets still to tell (their labels: `webhook https://HOST/…`, `sns:ARN`).
    pub targets: BTreeSet<String>,
}

/// Most notifications owed at once; past it the oldest is given up (and counted).
pub const MAX_OWED: usize = 10_000;

/// The idempotency key of an alert record's notification: `{alert id}#{update}`. The
/// same alert and update always has the same key, so a receiver that saw it may drop a
/// repeat (sent again after a crash).
pub fn notify_key(r: &RecordV1) -> Option<String> {
    r.alert.as_deref().map(|a| format!("{}#{}", a.id, a.update))
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
    /// Notifications given up because too many were owed at once.
    pub gave_up: u64,
}

/// The detector, the alerts it raised, and where in the source it is. No I/O.
pub struct Watcher {
    detector: Detector,
    book: AlertBook,
    cursor: Cursor,
    source: String,
    min: Severity,
    total_records: u64,
    geo: Option<std::sync::Arc<crate::geo::GeoIp>>,
    /// Whether alert records read from the source count as written (the destination is
    /// the source).
    own_source: bool,
    /// The key alert records are sealed with; without one, none read back is trusted.
    seal_key: Option<Vec<u8>>,
    /// Notifications owed.
    outbox: BTreeMap<String, Owed>,
    /// What is notified: at or above this, to these targets (none: nothing).
    notify: Option<(Severity, BTreeSet<String>)>,
    /// When the checkpoint resumed from was saved (Unix ms).
    resumed_at_ms: Option<i64>,
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
            own_source: true,
            seal_key: None,
            outbox: BTreeMap::new(),
            notify: None,
            resumed_at_ms: None,
            stats: WatchStats::default(),
        }
    }

    /// Enriches records stored without `geo` (as the console does).
    pub fn with_geo(mut self, geo: Option<std::sync::Arc<crate::geo::GeoIp>>) -> Self {
        self.geo = geo;
        self
    }

    /// Whether alerts go to the source itself (the default: its alert records are then
    /// ours, read back). With another destination, alert records found in the source
    /// (another watcher's) do not stop this one from writing its own.
    pub fn writing_to_source(mut self, yes: bool) -> Self {
        self.own_source = yes;
        self
    }

    /// Seals alert records with `key` and trusts only those it sealed (a new watcher
    /// is given a random one; a resumed one keeps its checkpoint's).
    pub fn with_seal_key(mut self, key: Vec<u8>) -> Self {
        self.seal_key = Some(key);
        self
    }

    /// Whether this watcher has a sealing key.
    pub fn has_seal_key(&self) -> bool {
        self.seal_key.is_some()
    }

    /// Goes on from a checkpoint of the same source. `detector_cfg` is the
    /// configuration to run with now (it may have changed since).
    pub fn resume(cfg: crate::config::Config, saved: &[u8], source: &str, min: Severity) -> Result<Self, String> {
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
        w.seal_key = cp.seal_key.as_deref().and_then(|k| hex::decode(k).ok()).filter(|k| !k.is_empty());
        w.outbox = cp.outbox;
        w.resumed_at_ms = crate::timefmt::parse_rfc3339_ms(&cp.saved_at);
        Ok(w)
    }

    /// Notifies alerts raised at or above `min` to `targets` (labels). Owed
    /// notifications to targets no longer given are dropped.
    pub fn notify_to(&mut self, min: Severity, targets: impl IntoIterator<Item = String>) {
        let targets: BTreeSet<String> = targets.into_iter().collect();
        self.outbox.retain(|_, o| {
            o.targets.retain(|t| targets.contains(t));
            !o.targets.is_empty()
        });
        self.notify = (!targets.is_empty()).then_some((min, targets));
    }

    /// Owes the notifications of alert records just written (raised ones at or above
    /// the notify threshold). Call before notifying, and save the checkpoint between.
    pub fn owe(&mut self, written: &[RecordV1]) {
        let Some((min, targets)) = &self.notify else { return };
        for r in written {
            let wanted = r.alert.as_deref().is_some_and(|a| a.update == 0 && a.severity >= *min);
            if let (true, Some(key)) = (wanted, notify_key(r)) {
                self.outbox.entry(key).or_insert_with(|| Owed { record: r.clone(), targets: targets.clone() });
            }
        }
        while self.outbox.len() > MAX_OWED {
            let oldest = self.outbox.iter().min_by_key(|(_, o)| o.record.received_at.clone()).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.outbox.remove(&k);
                self.stats.gave_up += 1;
            }
        }
    }

    /// The notifications owed: key, record, targets still to tell.
    pub fn owed(&self) -> impl Iterator<Item = (&str, &Owed)> {
        self.outbox.iter().map(|(k, o)| (k.as_str(), o))
    }

    /// `target` took the notification `key`.
    pub fn delivered(&mut self, key: &str, target: &str) {
        if let Some(o) = self.outbox.get_mut(key) {
            o.targets.remove(target);
            if o.targets.is_empty() {
                self.outbox.remove(key);
            }
        }
    }

    /// An alert record of ours read back: marked as written; if that was news to a
    /// resumed watcher (it was written after the checkpoint, which a crash kept from
    /// being saved), its notification is owed too — it cannot have been sent.
    fn read_back(&mut self, r: &RecordV1) {
        let Some(block) = r.alert.as_deref() else { return };
        let news = self.book.mark_written(block);
        let after_checkpoint =
            self.resumed_at_ms.is_some_and(|saved| crate::timefmt::parse_rfc3339_ms(&r.received_at).is_some_and(|at| at >= saved - 60_000));
        if news && after_checkpoint {
            self.owe(std::slice::from_ref(r));
        }
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
            if r.alert.is_some() && self.own_source && self.sealed(&r) {
                // Our own alert read back (the default destination is the source):
                // already written, whatever the checkpoint says. Only one we sealed: a
                // forged line must not mark a real alert written.
                self.read_back(&r);
            }
            if self.source.starts_with("log-group:") {
                let received = crate::timefmt::parse_rfc3339_ms(&r.received_at).unwrap_or(0);
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
            if r.alert.is_some() && self.sealed(r) {
                self.read_back(r);
            }
        }
    }

    fn sealed(&self, r: &RecordV1) -> bool {
        self.seal_key.as_deref().is_some_and(|k| crate::alert::sealed_by(r, k))
    }

    /// A file source's position: everything before `offset` of the file with this
    /// inode was observed.
    pub fn at(&mut self, inode: u64, offset: u64) {
        self.cursor = Cursor::File { inode, offset };
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
            .map(|mut r| {
                if let Some(k) = &self.seal_key {
                    crate::alert::seal(&mut r, k);
                }
                r
            })
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
            saved_at: crate::timefmt::format_ms(now_ms),
            records: self.total_records,
            alerts: self.book.clone(),
            seal_key: self.seal_key.as_deref().map(hex::encode),
            outbox: self.outbox.clone(),
            detector,
        };
        serde_json::to_vec(&cp).map_err(|e| format!("cannot save the checkpoint: {e}"))
    }
}
