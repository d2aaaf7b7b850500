//! `zoomwatch tail`: records and alerts as lines, for pipes and scripts.
//!
//! Text lines are sanitized (no escape sequences from Zoom reach the terminal). With
//! `--json`, each line is one object: `{"kind":"record", …Record v1}` (with the flags the
//! configured rules give) or `{"kind":"alert", "rule", "severity", "reason", "meeting",
//! "participant", "actor", "record_ids", "occurred_at", "id", "count"}`.

use std::io::Write;

use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector};
use zoomwatch_shared::text::sanitize;

use crate::filter::Filter;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
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
        s.push_str(&format!("  [{} {}]", f.severity.as_str(), f.rule));
    }
    s
}

/// One alert as a text line.
pub fn alert_line(a: &Alert) -> String {
    format!(
        "{}  ALERT {:<6} {:<28} {}",
        short_time(&a.occurred_at).replace('T', " "),
        a.severity.as_str().to_uppercase(),
        a.rule,
        sanitize(&a.reason, 400)
    )
}

/// `{"kind":"alert", …}`
pub fn alert_json(a: &Alert) -> String {
    let body = serde_json::to_string(a).unwrap_or_else(|_| "{}".to_owned());
    format!("{{\"kind\":\"alert\",{}", &body[1..])
}

/// `{"kind":"record", …}`
pub fn record_json(r: &RecordV1) -> String {
    let body = serde_json::to_string(r).unwrap_or_else(|_| "{}".to_owned());
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
            let (flags, events) = match self.detector.observe_full(&r) {
                Some(both) => both,
                None => (self.detector.flags_for(&r), Vec::new()),
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
