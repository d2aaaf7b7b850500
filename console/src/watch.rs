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

use zoomwatch_shared::record::RecordV1;
pub use zoomwatch_shared::watch::{Checkpoint, Cursor, LOG_GROUP_OVERLAP_MS, WatchStats, Watcher};

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
    // One-shot: a source that cannot be read is a failure, not something to wait for.
    let mut unreadable: Option<String> = None;
    loop {
        let mut ended = false;
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(SourceEvent::Records(batch)) => { w.observe(batch); dirty = true; }
                Some(SourceEvent::Prepared(batch)) => { w.observe(batch.into_iter().map(|p| p.record).collect()); dirty = true; }
                Some(SourceEvent::Position(p)) => { w.at(p.inode, p.offset); dirty = true; }
                Some(SourceEvent::Skipped(n)) => log(format!("{n} lines skipped (not zoomwatch.v1 records)")),
                Some(SourceEvent::Status(Status::Done)) | None => ended = true,
                Some(SourceEvent::Status(Status::Waiting(why))) if opts.tick.is_none() => unreadable = Some(why),
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
        if ended && let Some(why) = unreadable.take() {
            return Err(why);
        }
        if ended || *stop.borrow() {
            return Ok(w.stats);
        }
    }
}
