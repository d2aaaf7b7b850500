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
//!
//! Notifications are sent at least once: a written alert is owed in the checkpoint's
//! outbox before it is offered to the notifiers, and leaves it when each has taken it;
//! what a target failed to take is offered again after [`RETRY_OWED`], and what was
//! owed when the process died is offered after restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::process::ExitCode;
use std::sync::Arc;
use zoomwatch_shared::record::RecordV1;

use anyhow::Result;
use zoomwatch_log::sink::{AnySink, Durability, FileSink, StdoutSink};
use zoomwatch_log::source::file::Start;
use zoomwatch_log::source::{AsRead, Position, SourceEvent, Status};
use zoomwatch_log::{Destination, OpenOptions, Writer};
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::watcher::{Cursor, LOG_GROUP_OVERLAP_MS, WatchStats, Watcher};

use crate::args::{ConfigArg, Reading, SourceArgs, start_source};
use crate::clock::now_ms;
use crate::settings;

mod delivery;

use delivery::{Outbound, settle, write_all};
pub use delivery::{RETRY_OWED, SETTLE_AFTER};

/// Writes `bytes` to `path` atomically and owner-only ([`zoomwatch_log::files`]).
pub fn save_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    zoomwatch_log::files::write_atomic(path, bytes)
}

/// The default checkpoint: `$XDG_STATE_HOME/zoomwatch/watch-checkpoint.json`.
pub fn default_checkpoint() -> Option<PathBuf> {
    crate::triage::default_path().and_then(|p| p.parent().map(|d| d.join("watch-checkpoint.json")))
}

/// How often a checkpoint is saved when nothing was written.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);

/// How soon after a notification was delivered the checkpoint says so.
pub const SAVE_DELIVERED: Duration = Duration::from_secs(1);

/// How the loop runs.
pub struct RunOptions {
    /// Save checkpoints here (none: no checkpoint).
    pub checkpoint: Option<PathBuf>,
    /// Run the time-based rules (silence) with the wall clock this often; `None` when
    /// not following (a one-shot run ticks once at the end).
    pub tick: Option<Duration>,
    /// Wall clock (Unix ms).
    pub now_ms: fn() -> i64,
    /// At the end, how long to wait for notifications under way.
    pub notify_grace: Duration,
    /// After a restart, alerts are held this long and then looked for in the destination
    /// before being written: a write the previous process made just before it died may
    /// still land (a log group; `None` for a file, which takes no late writes).
    pub restart_settle: Option<Duration>,
}

/// A line for the operator (stderr, or the Lambda's log).
pub type Log = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// After a restart on a log group, how long alerts wait before being written (the
/// previous process's last write may land late: its budget is 10 s).
pub const RESTART_SETTLE: Duration = Duration::from_secs(15);

/// How the watcher opens a log group (or file) it writes: its own streams, 10 s a write.
fn watch_writer(args: &WatchArgs) -> OpenOptions {
    OpenOptions {
        writer: Writer::Watch,
        budget: Duration::from_secs(10),
        durability: Durability::Fsync,
        aws: Some(args.source.aws()),
        analyst: None,
    }
}

fn save_checkpoint(w: &Watcher, path: &Path, opts: &RunOptions) -> Result<(), String> {
    let bytes = w.checkpoint((opts.now_ms)())?;
    save_file(path, &bytes).map_err(|e| format!("cannot save the checkpoint {}: {e}", path.display()))
}

/// Follows `rx` until the source ends or `stop` becomes true: observes, writes alert
/// records to `sink`, offers them to the notifiers, saves checkpoints. Returns this
/// run's counts; an error when alert records could not be written or a checkpoint not
/// saved (the next run then starts from the last good checkpoint).
pub async fn run(
    w: &mut Watcher,
    mut rx: tokio::sync::mpsc::Receiver<SourceEvent>,
    sink: &zoomwatch_log::sink::MaybeOcsf,
    notifiers: &[zoomwatch_log::notify::Notifier],
    opts: &RunOptions,
    log: Log,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<WatchStats, String> {
    let mut tick = tokio::time::interval(opts.tick.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // How often notifiers' results are taken in and owed notifications offered.
    let mut outbound_tick = tokio::time::interval(Duration::from_millis(250));
    outbound_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut outbound = Outbound::default();
    // Just restarted on a log group: what the previous process wrote just before it died
    // may still land. Alerts are not taken until that is over (everything else goes on,
    // checkpoints too: the book keeps them), then taken once and looked for first.
    let mut settle_until = opts.restart_settle.filter(|_| w.cursor() != Cursor::Start).map(|d| tokio::time::Instant::now() + d);
    // Owed when the last run stopped: offered at once.
    outbound.offer(w, notifiers);
    let mut last_save = std::time::Instant::now();
    let mut dirty = false;
    // Deliveries not yet saved in a checkpoint.
    let mut delivered = false;
    let mut waiting_said = false;
    // One-shot: a source that cannot be read is a failure, not something to wait for.
    let mut unreadable: Option<String> = None;
    loop {
        let mut ended = false;
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(SourceEvent::Records(batch)) => { w.observe(batch); dirty = true; }
                Some(SourceEvent::Position(p)) => { w.at(p.inode, p.offset); dirty = true; }
                Some(SourceEvent::Skipped(n)) => log(format!("{n} lines skipped (not zoomwatch.v1 records)")),
                Some(SourceEvent::Status(Status::Done)) | None => ended = true,
                Some(SourceEvent::Status(Status::Waiting(why))) if opts.tick.is_none() => unreadable = Some(why),
                Some(SourceEvent::Status(Status::Waiting(why))) => {
                    if !waiting_said { log(why); waiting_said = true; }
                }
                Some(SourceEvent::Status(Status::Reconnecting(why))) => log(why),
                // Retrying cannot help (no credentials at all): a service that cannot read
                // must fail, where its supervisor sees it.
                Some(SourceEvent::Status(Status::Failed(why))) => { unreadable = Some(why); ended = true; }
                Some(SourceEvent::Status(_)) => {}
            },
            _ = tick.tick(), if opts.tick.is_some() => w.tick((opts.now_ms)()),
            _ = outbound_tick.tick(), if !notifiers.is_empty() => {}
            () = tokio::time::sleep_until(settle_until.unwrap_or_else(tokio::time::Instant::now)), if settle_until.is_some() => {}
            _ = stop.changed() => ended = true,
        }
        if outbound.collect(w, notifiers) {
            dirty = true;
            delivered = true;
        }
        if ended && opts.tick.is_none() {
            // One-shot: the silence rules judge the state at the end.
            w.tick((opts.now_ms)());
        }
        if let Some(until) = settle_until.filter(|u| ended && tokio::time::Instant::now() < *u) {
            // Ending (a one-shot run) inside the wait: finish waiting, then write.
            tokio::time::sleep_until(until).await;
        }
        let holding = settle_until.is_some_and(|u| tokio::time::Instant::now() < u);
        let mut alerts = if holding { Vec::new() } else { w.take_alerts((opts.now_ms)()) };
        if settle_until.is_some() && !holding {
            settle_until = None;
            if !alerts.is_empty() {
                let found = alerts.clone();
                alerts = settle(sink, alerts, &log, &mut stop).await.ok_or("stopped before the alert records could be settled")?;
                let landed: Vec<RecordV1> = found.into_iter().filter(|r| !alerts.iter().any(|a| a.id == r.id)).collect();
                // Written by the process that died, which cannot have notified them.
                w.owe(&landed);
                dirty |= !landed.is_empty();
            }
        }
        if !alerts.is_empty() {
            write_all(sink, &alerts, &log, &mut stop).await?;
            for r in &alerts {
                if let Some(a) = r.alert.as_deref().filter(|a| a.update == 0) {
                    log(format!("{} {} {}", a.severity.as_str().to_uppercase(), a.rule, zoomwatch_shared::text::sanitize(&a.reason, 300)));
                }
            }
            // Owed before anyone is told, and saved so (below): a crash from here on
            // leaves them in the outbox.
            w.owe(&alerts);
            dirty = true;
        }
        // Deliveries are saved within a second, so a restart sends few of them again.
        let due = dirty
            && (!alerts.is_empty() || ended || last_save.elapsed() >= SAVE_EVERY || (delivered && last_save.elapsed() >= SAVE_DELIVERED));
        if let (true, Some(path)) = (due, &opts.checkpoint) {
            save_checkpoint(w, path, opts)?;
            last_save = std::time::Instant::now();
            dirty = false;
            delivered = false;
        }
        outbound.offer(w, notifiers);
        if ended && !outbound.in_flight.is_empty() {
            // Let notifications under way finish, so the last checkpoint knows of them.
            let deadline = tokio::time::Instant::now() + opts.notify_grace;
            while !outbound.in_flight.is_empty() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if outbound.collect(w, notifiers)
                    && let Some(path) = &opts.checkpoint
                {
                    save_checkpoint(w, path, opts)?;
                }
            }
        }
        if ended && let Some(why) = unreadable.take() {
            return Err(why);
        }
        if ended || *stop.borrow() {
            return Ok(w.stats);
        }
    }
}

/// `zoomwatch watch`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "Alert records: one `raised` record per alert, then an `updated` record (same alert.id) each
time it grows (a raid of 8, then 20). Alert ids follow from the records they rest on, so a
replay never raises a second alert; record ids follow from the alert and its count.

Checkpoint: the detector's memory, the alerts written and the place in the source, saved after
each batch that wrote alerts and every 5 s; a restart goes on from it and writes nothing twice.
A checkpoint belongs to one source: use one --checkpoint file per source.

Notifications (--notify, repeatable): a JSON POST in the incoming-webhook shape Slack and Teams
accept ({\"text\": …, \"zoomwatch\": {the alert}}), or that JSON published to an SNS topic\n\
(sns:ARN; message attributes severity and rule, for filter policies); once per alert, retried\n\
with back-off; a failing endpoint never holds up the alert records. Prefer webhook-env:VAR or
webhook-secret:ID to webhook:URL (a command line is visible to other users of the machine).

Examples:
  zoomwatch watch --file events.jsonl
  zoomwatch watch --file events.jsonl --alerts-to file:alerts.jsonl \\
      --notify webhook-env:SLACK_WEBHOOK_URL
  zoomwatch watch --log-group /zoomwatch/events --since 1h \\
      --notify webhook-secret:zoomwatch/slack
  zoomwatch watch --log-group /zoomwatch/events \\
      --notify sns:arn:aws:sns:eu-west-1:123456789012:soc
  # cron-style: once, then exit
  zoomwatch watch --file events.jsonl --once --alerts-to stdout")]
pub struct WatchArgs {
    /// Where records come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where alert records go: file:PATH (JSONL), stdout, or log-group:NAME (streams
    /// …/zoomwatch-watch/…). Default: the source itself — the file, or the log group —
    /// so consoles and the SIEM following it see them.
    #[arg(long, value_name = "DEST")]
    pub alerts_to: Option<String>,
    /// Also write each alert record as an OCSF Detection Finding here (file:PATH, stdout
    /// or log-group:NAME), before the record itself (docs/ocsf.md).
    #[arg(long, value_name = "DEST")]
    pub ocsf_to: Option<String>,
    /// Checkpoint file (default: $XDG_STATE_HOME/zoomwatch/watch-checkpoint.json).
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// Neither read nor save a checkpoint: start from the beginning (a file) or --since.
    #[arg(long, conflicts_with = "checkpoint")]
    pub no_checkpoint: bool,
    /// Read what is there now, write its alerts, save the checkpoint and exit.
    #[arg(long)]
    pub once: bool,
    /// Write alerts at or above this severity: info, low, medium, high.
    #[arg(long, default_value = "low", value_name = "SEV")]
    pub min_severity: String,
    /// Notify each new alert: sns:TOPIC_ARN, webhook:URL, webhook-env:VAR (URL in a
    /// variable), or webhook-secret:ID (URL in AWS Secrets Manager). Repeatable.
    #[arg(long, value_name = "DEST")]
    pub notify: Vec<String>,
    /// Notify alerts at or above this severity.
    #[arg(long, default_value = "high", value_name = "SEV")]
    pub notify_min_severity: String,
    /// Which zoomwatch.toml.
    #[command(flatten)]
    pub config: ConfigArg,
}

fn severity_arg(flag: &str, v: &str) -> Result<zoomwatch_shared::Severity> {
    zoomwatch_shared::Severity::parse(v).ok_or_else(|| anyhow::anyhow!("{flag} {v}: expected info, low, medium or high"))
}

/// The alert records in the last 8 MiB of `path` (nothing if it cannot be read).
fn alert_records_at_end(path: &std::path::Path) -> Vec<zoomwatch_shared::RecordV1> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 8 << 20;
    let Ok(mut f) = std::fs::File::open(path) else { return Vec::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(len.saturating_sub(TAIL))).is_err() || f.read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    buf.split(|b| *b == b'\n')
        .skip(usize::from(len > TAIL)) // a partial first line
        .filter(|l| l.windows(17).any(|w| w == b"\"zoomwatch.alert\""))
        .filter_map(|l| zoomwatch_shared::lines::parse(l).ok())
        .collect()
}

/// `zoomwatch watch`: follows the source, writes alert records, notifies, until
/// stopped (or, `--once`, until the end).
pub async fn run_command(args: WatchArgs) -> Result<ExitCode> {
    let settings::Settings { config: cfg, geo, .. } = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    let min = severity_arg("--min-severity", &args.min_severity)?;
    let notify_min = severity_arg("--notify-min-severity", &args.notify_min_severity)?;
    let label = args.source.label()?;
    args.source.check_file()?;
    if let Some(p) = args.source.file.as_ref().filter(|p| !p.exists()) {
        // --wait-for-file: nothing is opened (and so created) before the receiver makes it.
        eprintln!("zoomwatch watch: waiting for {} to appear", p.display());
        while !p.exists() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let log: Log = Arc::new(|line: String| eprintln!("zoomwatch watch: {line}"));

    let checkpoint = if args.no_checkpoint { None } else { args.checkpoint.clone().or_else(default_checkpoint) };
    let mut watcher = match checkpoint.as_deref().map(std::fs::read) {
        Some(Ok(bytes)) => Watcher::resume(cfg.clone(), &bytes, &label, min).map_err(|e| {
            anyhow::anyhow!(
                "{e} ({}); pass another --checkpoint for this source, or --no-checkpoint",
                checkpoint.as_deref().unwrap_or(std::path::Path::new("?")).display()
            )
        })?,
        Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot read the checkpoint {}: {e}", checkpoint.as_deref().unwrap_or(std::path::Path::new("?")).display())
        }
        _ => Watcher::new(Detector::new(cfg.clone()), &label, min),
    }
    .with_geo(geo);
    if !watcher.has_seal_key() {
        // The key alert records are sealed with, kept beside the checkpoint (owner-only)
        // so a lost checkpoint does not make this watcher distrust what it wrote before.
        let key_file = checkpoint.as_deref().map(|c| c.with_extension("seal-key"));
        let stored = key_file.as_deref().and_then(|p| std::fs::read(p).ok()).filter(|k| k.len() >= 32);
        let key = match stored {
            Some(k) => k,
            None => {
                let k = rand::random::<[u8; 32]>().to_vec();
                if let Some(p) = &key_file {
                    zoomwatch_log::files::write_atomic(p, &k)
                        .map_err(|e| anyhow::anyhow!("cannot save the seal key {}: {e}", p.display()))?;
                }
                k
            }
        };
        watcher = watcher.with_seal_key(key);
    }
    let (start, since) = match watcher.cursor() {
        Cursor::File { inode, offset } => (Start::At(Position { inode, offset }), None),
        Cursor::LogGroup { through_ms } => (Start::Beginning, Some(through_ms - LOG_GROUP_OVERLAP_MS)),
        Cursor::Start => (Start::Beginning, None),
    };
    if watcher.cursor() != Cursor::Start {
        log(format!("resuming from the checkpoint ({} records read before)", watcher.total_records()));
    }

    let spec = match (&args.alerts_to, &args.source.file, &args.source.log_group) {
        (Some(d), _, _) => d.clone(),
        (None, Some(p), _) => format!("file:{}", p.display()),
        (None, None, Some(g)) => format!("log-group:{g}"),
        (None, None, None) => unreachable!("SourceArgs::label checked"),
    };
    let dest = Destination::parse("--alerts-to", &spec)
        .map_err(|_| anyhow::anyhow!("--alerts-to {spec}: expected {}", zoomwatch_log::dest::FORMS))?;
    let to_source = match &dest {
        Destination::File(p) => std::path::absolute(p).ok() == args.source.file.as_ref().and_then(|f| std::path::absolute(f).ok()),
        Destination::LogGroup(g) => args.source.log_group.as_ref() == Some(g),
        Destination::Stdout => false,
    };
    watcher = watcher.writing_to_source(to_source);
    let mut notifiers = Vec::new();
    for spec in &args.notify {
        let src = &args.source;
        let hook = zoomwatch_log::notify::Target::parse(spec, src.aws_flags.profile.as_deref(), src.aws_flags.region.as_deref())
            .await
            .map_err(anyhow::Error::msg)?;
        let l = log.clone();
        notifiers.push(
            zoomwatch_log::notify::Notifier::start(hook, zoomwatch_log::notify::ATTEMPTS, move |line| l(line))
                .map_err(anyhow::Error::msg)?,
        );
    }
    // Before alert records are read back: one written but never notified is owed.
    watcher.notify_to(notify_min, notifiers.iter().map(|n| n.describe().to_owned()));
    let sink = match dest {
        Destination::File(path) => {
            // What an earlier run wrote but did not checkpoint (it was killed in between):
            // at most the last batch, at the end of the file.
            watcher.already_written(&alert_records_at_end(&path));
            AnySink::File(
                FileSink::open(&path, Durability::Fsync)
                    .map_err(|e| anyhow::anyhow!("cannot open {} for alert records: {e}", path.display()))?,
            )
        }
        Destination::Stdout => AnySink::Stdout(StdoutSink::new()),
        group @ Destination::LogGroup(_) => {
            let opts = watch_writer(&args);
            let s = group.open(&opts).await?;
            s.check(now_ms()).await.map_err(|e| anyhow::anyhow!("cannot write alert records to {}: {e}", group.describe()))?;
            if let (Destination::LogGroup(name), Cursor::LogGroup { through_ms }) = (&group, watcher.cursor()) {
                // What an earlier run wrote but did not checkpoint (it was killed in
                // between), read back before the detector raises the same alerts again.
                let client = zoomwatch_log::aws::logs_client(&zoomwatch_log::aws::load(&args.source.aws()).await?, None);
                let from = through_ms - LOG_GROUP_OVERLAP_MS;
                let mut tries = 0;
                let mine = loop {
                    tries += 1;
                    match zoomwatch_log::source::cloudwatch::alert_records_since(&client, name, from).await {
                        Ok(m) => break m,
                        Err(e) if tries < 5 => {
                            log(format!("cannot read back the alert records in {name} yet ({e}); retrying"));
                            tokio::time::sleep(Duration::from_secs(tries)).await;
                        }
                        Err(e) => anyhow::bail!("cannot read back the alert records in {name}: {e}"),
                    }
                };
                watcher.already_written(&mine);
            }
            s
        }
    };

    let reading = Reading { follow: !args.once, start, since_ms: since, filter: None };
    let (_, rx) = start_source(&args.source, reading, Arc::new(AsRead)).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
        let _ = stop_tx.send(true);
    });
    let to: Vec<String> = notifiers.iter().map(|n| n.describe().to_owned()).collect();
    log(format!(
        "{label} → alerts at {} and above to {}{}{}",
        min.as_str(),
        zoomwatch_shared::text::sanitize(&spec, 200),
        if to.is_empty() { String::new() } else { format!("; notifying {} ({} and above)", to.join(", "), notify_min.as_str()) },
        checkpoint.as_ref().map(|p| format!("; checkpoint {}", p.display())).unwrap_or_default()
    ));
    let restart_settle = matches!(sink, AnySink::CloudWatch(_)).then_some(RESTART_SETTLE);
    let opts = RunOptions {
        checkpoint,
        tick: (!args.once).then_some(Duration::from_secs(10)),
        now_ms,
        notify_grace: Duration::from_secs(30),
        restart_settle,
    };
    let copy = match &args.ocsf_to {
        Some(spec) => {
            let dest = Destination::parse("--ocsf-to", spec).map_err(|e| anyhow::anyhow!("{e}"))?;
            let opts = watch_writer(&args);
            Some(dest.open(&opts).await?)
        }
        None => None,
    };
    let sink = zoomwatch_log::sink::MaybeOcsf::new(sink, copy);
    let result = run(&mut watcher, rx, &sink, &notifiers, &opts, log.clone(), stop_rx).await;
    for n in &mut notifiers {
        n.finish(Duration::from_secs(1)).await;
    }
    let s = watcher.stats;
    let owed = watcher.owed().count();
    let mut summary = format!("{} records read; {} alert records written ({} raised)", s.records, s.written, s.raised);
    for n in &notifiers {
        use std::sync::atomic::Ordering::Relaxed;
        let st = &n.stats;
        summary.push_str(&format!(
            "; {}: {} sent, {} failed, {} not queued",
            n.describe(),
            st.sent.load(Relaxed),
            st.failed.load(Relaxed),
            st.dropped.load(Relaxed)
        ));
    }
    if owed > 0 {
        summary.push_str(&format!("; {owed} notifications still owed (offered at the next start)"));
    }
    log(summary);
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            log(e);
            Ok(ExitCode::from(1))
        }
    }
}
