//! `zoomwatch tail`: records and alerts as lines, for pipes and scripts.
//!
//! Text lines are sanitized (no escape sequences from Zoom reach the terminal). With
//! `--json`, each line is one object: `{"kind":"record", …Record v1}` (with the flags the
//! configured rules give) or `{"kind":"alert", "rule", "severity", "reason", "meeting",
//! "participant", "actor", "record_ids", "occurred_at", "id", "count"}`. With
//! `--format ocsf`, each line is one OCSF 1.8.0 event ([`zoomwatch_shared::ocsf`]): a
//! record's projection, or an alert's as a Detection Finding.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use zoomwatch_log::source::file::Start;
use zoomwatch_log::source::{AsRead, SourceEvent, Status};
use zoomwatch_shared::filter::Term;

use crate::args::{ConfigArg, Reading, SourceArgs, start_source};
use crate::clock::now_ms;
use crate::settings;

use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector};
use zoomwatch_shared::text::sanitize;

use zoomwatch_shared::filter::Filter;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
    /// One OCSF event per line.
    Ocsf,
}

/// What `tail` prints.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// Text or JSON.
    pub format: Format,
    /// Only alerts, no records.
    pub alerts_only: bool,
    /// Which records and alerts to print.
    pub filter: Filter,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct TailStats {
    /// Records read.
    pub records: u64,
    /// Lines skipped.
    pub skipped: u64,
    /// Alerts raised.
    pub alerts: u64,
}

/// Turns records into output lines; owns the detector.
pub struct Printer {
    detector: Detector,
    /// Alerts printed, by id: the tail's own and those `zoomwatch watch` wrote (the
    /// same alert from the same records has the same id, so each is printed once).
    printed: zoomwatch_shared::ids::RecentIds,
    geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>,
    opts: TailOptions,
    /// Counts so far.
    pub stats: TailStats,
}

fn short_time(ts: &str) -> &str {
    // 2026-11-28T07:26:46.563Z → 2026-11-28 07:26:46 (keeps the date: tails span days)
    ts.get(..19).unwrap_or(ts)
}

/// One record as a text line.
pub fn record_line(r: &RecordV1, flags: &[zoomwatch_shared::record::Flag]) -> String {
    let mut s = format!("{}  {:<36}", short_time(&r.occurred_at).replace('T', " "), sanitize(&r.event, 36));
    if let Some(m) = &r.meeting {
        let label = m.topic.as_deref().or(m.id.as_deref()).unwrap_or("?");
        s.push_str(&format!("  \"{}\"", sanitize(label, 40)));
    }
    if let Some(p) = &r.participant {
        let name = p.name.as_deref().map(|n| sanitize(n, 32).into_owned()).unwrap_or_default();
        s.push_str(&format!("  {}", if name.is_empty() { "?".to_owned() } else { format!("\"{name}\"") }));
        if let Some(e) = &p.email {
            s.push_str(&format!(" <{}>", sanitize(e, 48)));
        }
        if p.guest {
            s.push_str(" (guest)");
        }
        if let Some(ip) = &p.ip {
            s.push_str(&format!(" {}", sanitize(ip, 40)));
            if let Some(place) = p.geo.as_deref().and_then(zoomwatch_shared::record::Geo::place) {
                s.push_str(&format!(" ({})", sanitize(&place, 60)));
            }
        }
    }
    if let Some(a) = &r.actor
        && let Some(e) = a.email.as_deref().or(a.id.as_deref())
    {
        s.push_str(&format!("  by {}", sanitize(e, 48)));
    }
    for c in r.changes.iter().take(3) {
        s.push_str(&format!("  {}: {} → {}", sanitize(&c.path, 48), sanitize(&c.old.to_string(), 24), sanitize(&c.new.to_string(), 24)));
    }
    if r.changes.len() > 3 {
        s.push_str(&format!("  (+{} changes)", r.changes.len() - 3));
    }
    if let Some(rej) = &r.rejection {
        let src = r.request.as_ref().and_then(|q| q.source_ip.as_deref()).unwrap_or("?");
        s.push_str(&format!("  {} {} from {}", rej.status, sanitize(&rej.reason, 32), sanitize(src, 40)));
        if rej.suppressed > 0 {
            s.push_str(&format!(" (+{} suppressed)", rej.suppressed));
        }
    }
    for f in flags {
        s.push_str(&format!("  [{} {}]", f.severity.as_str(), sanitize(&f.rule, 64)));
    }
    s
}

/// One alert as a text line.
pub fn alert_line(a: &Alert) -> String {
    format!(
        "{}  ALERT {:<6} {:<28} {}",
        short_time(&a.occurred_at).replace('T', " "),
        a.severity.as_str().to_uppercase(),
        sanitize(&a.rule, 64),
        sanitize(&a.reason, 400)
    )
}

/// `{"kind":"alert", …}`
pub fn alert_json(a: &Alert) -> String {
    let mut body = serde_json::to_string(a).unwrap_or_else(|_| "{}".to_owned());
    zoomwatch_shared::lines::escape_breakers(&mut body);
    format!("{{\"kind\":\"alert\",{}", &body[1..])
}

/// `{"kind":"record", …}`
pub fn record_json(r: &RecordV1) -> String {
    let mut body = serde_json::to_string(r).unwrap_or_else(|_| "{}".to_owned());
    zoomwatch_shared::lines::escape_breakers(&mut body);
    format!("{{\"kind\":\"record\",{}", &body[1..])
}

impl Printer {
    /// A printer with its own detector.
    pub fn new(detector: Detector, opts: TailOptions) -> Self {
        Self { detector, printed: zoomwatch_shared::ids::RecentIds::new(100_000), geo: None, opts, stats: TailStats::default() }
    }

    /// Enriches records written without `geo` with these databases.
    pub fn with_geo(mut self, geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>) -> Self {
        self.geo = geo;
        self
    }

    /// Handles a batch; writes lines to `out`.
    pub fn records(&mut self, batch: Vec<RecordV1>, out: &mut impl Write) -> std::io::Result<()> {
        for mut r in batch {
            self.stats.records += 1;
            if let Some(g) = &self.geo {
                g.enrich(&mut r);
            }
            // One rule evaluation per record: flags and alerts together. A duplicate
            // delivery (a Zoom retry) is still printed as stored, but raises nothing.
            let flags = self.detector.flags_for(&r);
            let (flags, events) = if self.detector.seen(&r.id) {
                (flags, Vec::new())
            } else {
                let keys = zoomwatch_shared::rules::Keys::of(&r);
                // Not seen (checked above): the detector takes it and hands the flags back.
                self.detector.observe_prepared(&r, flags, &keys).unwrap_or_default()
            };
            if !self.opts.alerts_only {
                let worst: Option<Severity> = flags.iter().map(|f| f.severity).max();
                if self.opts.filter.matches_record(&r, worst) {
                    match self.opts.format {
                        Format::Text => writeln!(out, "{}", record_line(&r, &flags))?,
                        Format::Json => {
                            r.flags = flags;
                            writeln!(out, "{}", record_json(&r))?;
                        }
                        Format::Ocsf => {
                            r.flags = flags;
                            writeln!(out, "{}", zoomwatch_shared::ocsf::to_ocsf(&r))?;
                        }
                    }
                }
            }
            self.alerts(events, out)?;
            if let Some(a) = zoomwatch_shared::alert::alert_of(&r) {
                self.alerts(vec![AlertEvent::Raised(Box::new(a))], out)?;
            }
        }
        Ok(())
    }

    /// Prints newly raised alerts that pass the filter.
    pub fn alerts(&mut self, events: Vec<AlertEvent>, out: &mut impl Write) -> std::io::Result<()> {
        for e in events {
            if let AlertEvent::Raised(a) = e
                && self.printed.insert(&a.id)
            {
                self.stats.alerts += 1;
                if self.opts.filter.matches_alert(&a) {
                    match self.opts.format {
                        Format::Text => writeln!(out, "{}", alert_line(&a))?,
                        Format::Json => writeln!(out, "{}", alert_json(&a))?,
                        Format::Ocsf => {
                            let at = zoomwatch_shared::timefmt::parse_rfc3339_ms(&a.occurred_at).unwrap_or(0);
                            let r = zoomwatch_shared::alert::alert_record(&a, &a.occurred_at, 0, at, "zoomwatch tail");
                            writeln!(out, "{}", zoomwatch_shared::ocsf::to_ocsf(&r))?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Time-based rules (silence), with the wall clock.
    pub fn tick(&mut self, now_ms: i64, out: &mut impl Write) -> std::io::Result<()> {
        let events = self.detector.tick(now_ms);
        self.alerts(events, out)
    }
}

/// The progress bar `tail` draws on stderr while it reads history (only when stderr is
/// a terminal, so pipes and logs never see it): how much of the window from `since` to
/// now the records read so far cover, how many, and how old the newest is. Cleared
/// once the backfill is over.
#[derive(Debug)]
pub struct Progress {
    /// Start of the window (Unix ms); `None` for a file (no window: counts only).
    since_ms: Option<i64>,
    records: u64,
    newest_ms: Option<i64>,
    drawn_at_ms: i64,
    shown: bool,
    done: bool,
}

/// Width of the bar, in cells.
const BAR: usize = 24;

impl Progress {
    /// A bar for a read starting at `since_ms` (a log group) or at the start of a file.
    pub fn new(since_ms: Option<i64>) -> Self {
        Self { since_ms, records: 0, newest_ms: None, drawn_at_ms: i64::MIN, shown: false, done: false }
    }

    /// Counts `n` more records read, the newest received at `newest_ms`.
    pub fn read(&mut self, n: usize, newest_ms: Option<i64>) {
        self.records += n as u64;
        if let Some(t) = newest_ms {
            self.newest_ms = Some(self.newest_ms.map_or(t, |m| m.max(t)));
        }
    }

    /// The line as it stands at `now_ms` (without the leading carriage return).
    pub fn line(&self, now_ms: i64) -> String {
        let count = zoomwatch_shared::text::group_digits(&self.records.to_string());
        let newest = self.newest_ms.map(|t| format!(", newest {} old", crate::ui::ago(now_ms, t))).unwrap_or_default();
        match self.since_ms {
            Some(since) if now_ms > since => {
                let covered = self.newest_ms.map_or(0.0, |t| (t - since).max(0) as f64 / (now_ms - since) as f64).min(1.0);
                let full = (covered * BAR as f64).round() as usize;
                format!(
                    "zoomwatch: backfill [{}{}] {:>3}%  {count} records{newest}",
                    "█".repeat(full),
                    "░".repeat(BAR - full),
                    (covered * 100.0) as u32
                )
            }
            _ => format!("zoomwatch: backfill {count} records{newest}"),
        }
    }

    /// Redraws on `err` (at most ten times a second) unless the backfill is over.
    pub fn draw(&mut self, now_ms: i64, err: &mut impl Write) {
        if self.done || now_ms.saturating_sub(self.drawn_at_ms) < 100 {
            return;
        }
        self.drawn_at_ms = now_ms;
        self.shown = true;
        let _ = write!(err, "\r\x1b[2K{}", self.line(now_ms));
        let _ = err.flush();
    }

    /// Erases the bar for a moment (a message or records go to the same terminal); the
    /// next [`draw`](Self::draw) brings it back.
    pub fn clear(&mut self, err: &mut impl Write) {
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
            self.drawn_at_ms = i64::MIN;
        }
    }

    /// The backfill is over: the bar is erased (what follows starts on a clean line).
    pub fn finish(&mut self, err: &mut impl Write) {
        if self.shown && !self.done {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
        self.done = true;
    }
}

/// `zoomwatch tail`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  zoomwatch tail --file events.jsonl --follow
  zoomwatch tail --file events.jsonl --alerts-only --json | jq .reason
  zoomwatch tail --log-group /zoomwatch/events --since 2h --profile security
  zoomwatch tail --file events.jsonl --filter 'type:joined country:CN'
  zoomwatch tail --file events.jsonl --meeting all-hands --user jdoe@
  zoomwatch tail --log-group /zoomwatch/events --format ocsf > ocsf.jsonl

Exit status: 0 read to the end (or stopped), 2 the source cannot be read.")]
pub struct TailArgs {
    /// Where records come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Keep following as records arrive (a file: survives rotation and truncation).
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// With --follow and --file: skip what is already in the file.
    #[arg(long, requires = "follow")]
    pub from_end: bool,
    /// One JSON object per line: {"kind":"record",...} or {"kind":"alert",...} (the
    /// same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// text (default), json, or ocsf: one OCSF 1.8.0 event per line (sign-ins as
    /// Authentication, admin changes as IAM classes, meetings as Web Resources Activity,
    /// alerts as Detection Findings; docs/ocsf.md).
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json", "ocsf"])]
    pub format: Option<String>,
    /// Print alerts only.
    #[arg(long)]
    pub alerts_only: bool,
    /// Only this meeting: number, uuid, or part of the topic.
    #[arg(long, value_name = "X")]
    pub meeting: Option<String>,
    /// Only this user: part of an email, name or id (participant, operator or target).
    #[arg(long, value_name = "Y")]
    pub user: Option<String>,
    /// Filter expression; terms all must match: meeting:X user:X type:X sev:>=medium
    /// country:GB asn:29518 (GeoIP), or free text — e.g. "type:joined country:CN".
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Which zoomwatch.toml.
    #[command(flatten)]
    pub config: ConfigArg,
}

/// `zoomwatch tail`: prints records and alerts until the end (or, following, until
/// stopped). A source that cannot be read is an error.
pub async fn run(args: TailArgs) -> Result<ExitCode> {
    let settings::Settings { config: cfg, geo, .. } = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    if cfg.internal_domains.is_empty() {
        eprintln!("zoomwatch: {}", crate::state::NO_INTERNAL_DOMAINS);
    }
    let mut filter = Filter::parse(args.filter.as_deref().unwrap_or(""), now_ms()).map_err(anyhow::Error::msg)?;
    if let Some(m) = &args.meeting {
        filter = filter.with(Term::Meeting(m.to_lowercase()));
    }
    if let Some(u) = &args.user {
        filter = filter.with(Term::User(u.to_lowercase()));
    }
    let format = match (args.json, args.format.as_deref()) {
        (true, _) | (_, Some("json")) => Format::Json,
        (_, Some("ocsf")) => Format::Ocsf,
        _ => Format::Text,
    };
    let opts = TailOptions { format, alerts_only: args.alerts_only, filter };
    let filter = opts.filter.clone();
    let start = if args.from_end { Start::End } else { Start::Beginning };
    let reading = Reading { follow: args.follow, start, since_ms: None, filter: Some(&filter) };
    let window_start = crate::pushdown::compile(&opts.filter).start_ms.unwrap_or(i64::MIN);
    let mut printer = Printer::new(Detector::new(cfg), opts).with_geo(geo);

    // The bar covers the window the read starts from (a log group), else counts only.
    let since_ms = match &args.source.log_group {
        Some(_) => {
            let since = zoomwatch_log::source::cloudwatch::parse_since(&args.source.since, now_ms())?;
            Some(since.max(window_start))
        }
        None => None,
    };
    let mut progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| Progress::new(since_ms));
    let (_, mut rx) = start_source(&args.source, reading, Arc::new(AsRead)).await?;

    let stdout = std::io::stdout();
    let stdout_is_terminal = std::io::IsTerminal::is_terminal(&stdout);
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut failed_to_open = None;
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                if let Some(p) = progress.as_mut() {
                    match &ev {
                        SourceEvent::Records(batch) => {
                            let newest = batch.iter().filter_map(|r| zoomwatch_shared::timefmt::parse_rfc3339_ms(&r.received_at)).max();
                            p.read(batch.len(), newest);
                            // Lines about to go to the same terminal: out of their way.
                            if stdout_is_terminal { p.clear(&mut std::io::stderr()); }
                        }
                        SourceEvent::Status(Status::Live | Status::Done) => p.finish(&mut std::io::stderr()),
                        SourceEvent::Status(Status::Waiting(_) | Status::Reconnecting(_) | Status::Failed(_)) => p.clear(&mut std::io::stderr()),
                        _ => {}
                    }
                }
                let mut out = stdout.lock();
                let written = match ev {
                    SourceEvent::Records(batch) => printer.records(batch, &mut out),
                    SourceEvent::Skipped(n) => { printer.stats.skipped += n; Ok(()) }
                    SourceEvent::Status(Status::Done) => break,
                    SourceEvent::Status(Status::Waiting(why)) => {
                        if args.follow { eprintln!("zoomwatch: {why}"); } else { failed_to_open = Some(why); }
                        Ok(())
                    }
                    SourceEvent::Status(Status::Reconnecting(why)) => { eprintln!("zoomwatch: {why}"); Ok(()) }
                    // Retrying cannot help (no credentials at all): stop, following or not.
                    SourceEvent::Status(Status::Failed(why)) => { failed_to_open = Some(why); break }
                    SourceEvent::Status(_) | SourceEvent::Position(_) => Ok(()),
                };
                let written = written.and_then(|()| out.flush());
                drop(out);
                if let Some(p) = progress.as_mut() { p.draw(now_ms(), &mut std::io::stderr()); }
                if let Err(e) = written {
                    // A closed pipe (`| head`) is a normal way to stop.
                    if e.kind() == std::io::ErrorKind::BrokenPipe { return Ok(ExitCode::SUCCESS); }
                    return Err(e.into());
                }
            }
            _ = tick.tick(), if args.follow => {
                let mut out = stdout.lock();
                printer.tick(now_ms(), &mut out)?;
            }
        }
    }
    if let Some(why) = failed_to_open {
        anyhow::bail!("{why}");
    }
    let s = printer.stats;
    if s.skipped > 0 {
        eprintln!("zoomwatch: {} records, {} alerts; {} lines skipped (not zoomwatch.v1 records)", s.records, s.alerts, s.skipped);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod progress_tests {
    use super::Progress;

    #[test]
    fn the_bar_shows_how_much_of_the_window_is_covered() {
        let since = 1_000_000_000_000;
        let now = since + 4 * 3_600_000;
        let mut p = Progress::new(Some(since));
        assert!(p.line(now).contains("[░░░░░░░░░░░░░░░░░░░░░░░░]   0%  0 records"), "{}", p.line(now));
        p.read(12_345, Some(since + 3_600_000));
        p.read(5, Some(since + 10)); // an older record does not move it back
        assert_eq!(p.line(now), "zoomwatch: backfill [██████░░░░░░░░░░░░░░░░░░]  25%  12,350 records, newest 3h old");
        let mut file = Progress::new(None);
        file.read(7, None);
        assert_eq!(file.line(now), "zoomwatch: backfill 7 records");
    }

    #[test]
    fn it_draws_at_most_ten_times_a_second_and_erases_itself() {
        let mut p = Progress::new(None);
        let mut err = Vec::new();
        p.read(1, None);
        p.draw(1_000, &mut err);
        p.draw(1_050, &mut err);
        p.draw(1_100, &mut err);
        assert_eq!(String::from_utf8_lossy(&err).matches('\r').count(), 2);
        p.finish(&mut err);
        p.draw(5_000, &mut err);
        assert!(String::from_utf8_lossy(&err).ends_with("records\r\x1b[2K"), "{:?}", String::from_utf8_lossy(&err));
    }
}
