//! `zoomwatch-ingest poll`: Zoom's reports into the same Record v1 stream as the
//! webhooks — sign-ins with their IP, the admin operation log, and the webhooks Zoom
//! failed to deliver (see [`zoomwatch_shared::report`]). Runs once, every N minutes,
//! or as a scheduled Lambda ([`crate::lambda`]).
//!
//! No duplicates, no gaps: report windows have day granularity and overlap, so every
//! row gets a deterministic id and the [`Cursor`] keeps, per report, the newest row
//! time written and the ids at that time. A run fetches every page of a window first,
//! writes the new rows, and only then moves the cursor: a run that fails half-way
//! leaves the cursor where it was and the next run fetches the same rows again.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zoomwatch_shared::RecordV1;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::geo::GeoIp;
use zoomwatch_shared::report;
use zoomwatch_shared::timefmt::format_ms;
use zoomwatch_zoomapi::reports::Report;
use zoomwatch_zoomapi::{ApiError, Client};

use zoomwatch_log::sink::Sink;

const DAY_MS: i64 = 86_400_000;

/// Where one report stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCursor {
    /// Newest row time written (Unix ms).
    pub through_ms: i64,
    /// Ids of the rows written at exactly `through_ms`.
    #[serde(default)]
    pub ids_at: Vec<String>,
    /// Ids written recently (newest last, at most [`RECENT_IDS`]): Zoom logs each retry of
    /// a failed delivery as a row of its own, with the same event and so the same id.
    #[serde(default)]
    pub recent: Vec<String>,
}

/// Ids a report's cursor remembers.
pub const RECENT_IDS: usize = 2_000;

/// Every report's position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// By report name.
    #[serde(default)]
    pub reports: BTreeMap<String, ReportCursor>,
}

/// Where the cursor is kept.
pub enum CursorStore {
    /// A local JSON file (for `poll`), replaced atomically.
    File(PathBuf),
    /// An object in the scheduled functions' state bucket, beside the watch checkpoint
    /// (for the scheduled Lambda: no always-on infrastructure).
    #[cfg(feature = "lambda")]
    S3(crate::state_store::StateObject),
}

impl CursorStore {
    /// Reads the cursor; a missing file or object, or an empty `{}`, is an empty cursor.
    pub async fn load(&self) -> Result<Cursor, String> {
        let text = match self {
            Self::File(path) => match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cursor::default()),
                Err(e) => return Err(format!("cannot read the poll cursor {}: {e}", path.display())),
            },
            #[cfg(feature = "lambda")]
            Self::S3(object) => match object.load().await.map_err(|e| format!("the poll cursor: {e}"))? {
                Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                None => return Ok(Cursor::default()),
            },
        };
        serde_json::from_str(&text).map_err(|e| format!("the poll cursor is not valid ({e}); delete it to start again from --since"))
    }

    /// Saves the cursor.
    pub async fn save(&self, c: &Cursor) -> Result<(), String> {
        let text = serde_json::to_string(c).map_err(|e| e.to_string())?;
        match self {
            Self::File(path) => zoomwatch_log::files::write_atomic(path, text.as_bytes())
                .map_err(|e| format!("cannot save the poll cursor {}: {e}", path.display())),
            #[cfg(feature = "lambda")]
            Self::S3(object) => object.save(text.into_bytes()).await.map_err(|e| format!("the poll cursor: {e}")),
        }
    }
}

/// What to poll.
#[derive(Clone)]
pub struct PollOptions {
    /// The reports.
    pub reports: Vec<Report>,
    /// How far back a report with no cursor starts (ms).
    pub since_ms: i64,
    /// The Marketplace app id (failed deliveries).
    pub app_id: Option<String>,
    /// Rules for the flags written on each record.
    pub rules: Arc<Config>,
    /// GeoIP for sign-in addresses.
    pub geo: Option<Arc<GeoIp>>,
}

/// What one report's run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportOutcome {
    /// The report.
    pub report: String,
    /// Rows Zoom returned.
    pub rows: usize,
    /// New records written.
    pub written: usize,
    /// Rows that could not be read (kept out, counted).
    pub unreadable: usize,
    /// Pages fetched.
    pub pages: usize,
    /// Why it stopped, if it failed (the cursor did not move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs every report once; each report's failure is its own (the others still run).
pub async fn poll_once(client: &Client, sink: &impl Sink, store: &CursorStore, opts: &PollOptions, now_ms: i64) -> Vec<ReportOutcome> {
    let mut cursor = match store.load().await {
        Ok(c) => c,
        Err(e) => {
            return opts
                .reports
                .iter()
                .map(|r| ReportOutcome { report: r.name().into(), rows: 0, written: 0, unreadable: 0, pages: 0, error: Some(e.clone()) })
                .collect();
        }
    };
    let mut out = Vec::new();
    for &report in &opts.reports {
        let mut outcome = ReportOutcome { report: report.name().into(), rows: 0, written: 0, unreadable: 0, pages: 0, error: None };
        if report == Report::FailedDeliveries && opts.app_id.is_none() {
            outcome.error = Some("failed deliveries need the Marketplace app id: set ZOOM_APP_ID or --app-id".into());
            out.push(outcome);
            continue;
        }
        let pos = cursor.reports.get(report.name()).cloned().unwrap_or_default();
        match run_report(client, sink, report, &pos, opts, now_ms, &mut outcome).await {
            Ok(Some(next)) => {
                cursor.reports.insert(report.name().to_owned(), next);
                if let Err(e) = store.save(&cursor).await {
                    outcome.error = Some(format!("{e} (the rows were written; the next run skips them by id)"));
                }
            }
            Ok(None) => {}
            Err(e) => outcome.error = Some(e),
        }
        out.push(outcome);
    }
    out
}

/// `activities,operations,failed-deliveries` (empty: all).
pub fn parse_reports(s: &str) -> Result<Vec<Report>, String> {
    if s.trim().is_empty() {
        return Ok(Report::ALL.to_vec());
    }
    s.split(',')
        .map(|p| Report::parse(p).ok_or_else(|| format!("unknown report {:?}: use activities, operations, failed-deliveries", p.trim())))
        .collect()
}

/// `90s`, `15m`, `12h`, `2d` in ms; zero is refused.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    zoomwatch_shared::timefmt::parse_duration_ms(s)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{:?} is not a duration (e.g. 90s, 15m, 12h, 2d)", s.trim()))
}

/// The windows from `from_ms` to `now_ms`, each at most the report's limit.
fn windows(report: Report, from_ms: i64, now_ms: i64) -> Vec<(String, String)> {
    let span = report.max_days() * DAY_MS;
    let mut out = Vec::new();
    let mut start = from_ms;
    loop {
        let end = (start + span - 1).min(now_ms);
        let fmt = |ms: i64| {
            let t = format_ms(ms);
            if report == Report::FailedDeliveries { format!("{}Z", &t[..19]) } else { t[..10].to_owned() }
        };
        out.push((fmt(start), fmt(end)));
        if end >= now_ms {
            return out;
        }
        start = end + 1;
    }
}

fn to_record(report: Report, row: &Value, now_ms: i64) -> Result<RecordV1, report::RowError> {
    match report {
        Report::Activities => report::sign_in(row, now_ms),
        Report::Operations => report::operation(row, now_ms),
        Report::FailedDeliveries => report::failed_delivery(row, now_ms),
    }
}

/// The time the cursor follows: when Zoom logged the row (for a failed delivery, when it
/// tried to deliver, not when the event happened).
fn row_time(r: &RecordV1) -> i64 {
    r.origin
        .as_deref()
        .and_then(|o| o.attempted_at.as_deref())
        .and_then(zoomwatch_shared::timefmt::parse_rfc3339_ms)
        .unwrap_or_else(|| r.occurred_ms())
}

async fn run_report(
    client: &Client,
    sink: &impl Sink,
    report: Report,
    pos: &ReportCursor,
    opts: &PollOptions,
    now_ms: i64,
    outcome: &mut ReportOutcome,
) -> Result<Option<ReportCursor>, String> {
    // Start a day before the cursor (day-granular windows), never before Zoom's retention.
    let oldest = now_ms - report.retention_days() * DAY_MS + DAY_MS;
    let from = if pos.through_ms > 0 { pos.through_ms - DAY_MS } else { now_ms - opts.since_ms };
    let from = from.max(oldest).min(now_ms);
    let what = format!("poll {}", report.name());
    let mut records: Vec<(i64, RecordV1)> = Vec::new();
    for (f, t) in windows(report, from, now_ms) {
        let mut token: Option<String> = None;
        loop {
            let req = report.request(&f, &t, token.as_deref(), opts.app_id.as_deref());
            let page = client.call(&req, &what, report.scope()).await.map_err(|e: ApiError| e.to_string())?;
            outcome.pages += 1;
            let (rows, next) = report.rows(&page.body);
            outcome.rows += rows.len();
            for row in &rows {
                match to_record(report, row, now_ms) {
                    Ok(r) => records.push((row_time(&r), r)),
                    Err(_) => outcome.unreadable += 1,
                }
            }
            match next {
                Some(n) => token = Some(n),
                None => break,
            }
        }
    }
    // The cursor moves to the newest row seen (written now or before).
    let newest = records.iter().map(|(t, _)| *t).max().unwrap_or(pos.through_ms).max(pos.through_ms);
    let mut ids_at: Vec<String> = records.iter().filter(|(t, _)| *t == newest).map(|(_, r)| r.id.clone()).collect();
    if newest == pos.through_ms {
        ids_at.extend(pos.ids_at.iter().cloned());
    }
    ids_at.sort_unstable();
    ids_at.dedup();
    // New: after the cursor, or at its time with an id not yet written; once per id,
    // and not an id written recently.
    let done_at: HashSet<&str> = pos.ids_at.iter().map(String::as_str).collect();
    let mut seen: HashSet<String> = pos.recent.iter().cloned().collect();
    records.sort_by_key(|(t, _)| *t);
    let fresh: Vec<(i64, RecordV1)> = records
        .into_iter()
        .filter(|(t, r)| *t > pos.through_ms || (*t == pos.through_ms && !done_at.contains(r.id.as_str())))
        .filter(|(_, r)| seen.insert(r.id.clone()))
        .collect();
    if fresh.is_empty() {
        let moved = ReportCursor { through_ms: newest, ids_at, recent: pos.recent.clone() };
        return Ok((moved != *pos).then_some(moved));
    }
    let mut recent = pos.recent.clone();
    recent.extend(fresh.iter().map(|(_, r)| r.id.clone()));
    let excess = recent.len().saturating_sub(RECENT_IDS);
    recent.drain(..excess);
    let batch: Vec<RecordV1> = fresh
        .into_iter()
        .map(|(_, mut r)| {
            if let Some(g) = &opts.geo {
                g.enrich(&mut r);
            }
            r.flags = zoomwatch_shared::rules::evaluate(&r, &opts.rules);
            r
        })
        .collect();
    let n = batch.len();
    sink.write(batch).await.map_err(|e| format!("{e}; the cursor stays, the next run retries"))?;
    outcome.written = n;
    Ok(Some(ReportCursor { through_ms: newest, ids_at, recent }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_report_lists() {
        assert_eq!(parse_duration_ms("15m"), Ok(900_000));
        assert_eq!(parse_duration_ms("2d"), Ok(2 * DAY_MS));
        assert!(parse_duration_ms("2 weeks").is_err() && parse_duration_ms("0s").is_err() && parse_duration_ms("").is_err());
        assert_eq!(parse_reports(""), Ok(Report::ALL.to_vec()));
        assert_eq!(parse_reports("operations, activities"), Ok(vec![Report::Operations, Report::Activities]));
        assert!(parse_reports("logins").unwrap_err().contains("unknown report"));
    }

    #[test]
    fn windows_respect_the_limits() {
        let now = zoomwatch_shared::timefmt::parse_rfc3339_ms("2026-12-01T10:00:00Z").unwrap();
        assert_eq!(windows(Report::Operations, now - 2 * DAY_MS, now), [("2026-11-29".to_owned(), "2026-12-01".to_owned())]);
        let w = windows(Report::FailedDeliveries, now - 10 * DAY_MS, now);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].0, "2026-11-21T10:00:00Z");
        assert_eq!(w[1].1, "2026-12-01T10:00:00Z");
        assert_eq!(windows(Report::Activities, now - 70 * DAY_MS, now).len(), 3, "a month per request");
    }
}
