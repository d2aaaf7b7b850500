//! `zoomwatch-console-load` — the console's state under a long stream: feeds `--records`
//! records of a synthetic account (`--workload busy|growing`, see
//! [`zoomwatch_shared::synthetic`]) into `State` at `--retention` (default: the console's
//! default), in batches as the sources deliver them, and prints one JSON object: time
//! spent in `update` (records are generated, normalized, stored and parsed back outside
//! that time), records/s, and the process's peak and final resident memory (from
//! /proc/self/status).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use zoomwatch_console::source::SourceEvent;
use zoomwatch_console::state::{DEFAULT_RETENTION, Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::{Envelope, Received, RecordV1, normalize, scenario, synthetic};

/// The allocator the `zoomwatch` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_795_856_400_000;
const BATCH: usize = 8192;

fn batch(body_of: fn(usize, i64) -> String, from: usize, to: usize) -> Result<Vec<RecordV1>> {
    (from..to)
        .map(|i| {
            let body = body_of(i, T0);
            let env = Envelope::parse(body.as_bytes())?;
            let r = normalize(env, &Received { received_at_ms: T0 + i as i64 * 10, request: None });
            let line = serde_json::to_string(&r)?;
            zoomwatch_console::lines::parse(line.as_bytes()).map_err(|e| anyhow::anyhow!("stored line does not parse back: {e:?}"))
        })
        .collect()
}

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<()> {
    let mut records = 1_000_000usize;
    let mut retention = DEFAULT_RETENTION;
    let mut workload = "busy".to_owned();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--records" => records = it.next().context("--records N")?.parse()?,
            "--retention" => retention = it.next().context("--retention N")?.parse()?,
            "--workload" => workload = it.next().context("--workload busy|growing")?,
            other => anyhow::bail!("unknown argument {other:?}: --records N --retention N --workload busy|growing"),
        }
    }
    let body_of: fn(usize, i64) -> String = match workload.as_str() {
        "busy" => synthetic::busy_account_body,
        "growing" => synthetic::growing_account_body,
        other => anyhow::bail!("unknown workload {other:?}: busy or growing"),
    };
    let cfg = Config::parse(scenario::CONFIG, "scenario")?;
    let mut state = State::new("synthetic", cfg, Triage::default(), retention, T0);
    let mut applying = Duration::ZERO;
    let mut from = 0;
    while from < records {
        let to = (from + BATCH).min(records);
        let b = batch(body_of, from, to)?;
        let start = Instant::now();
        update(&mut state, Msg::Source(SourceEvent::Records(b)));
        applying += start.elapsed();
        from = to;
    }
    let secs = applying.as_secs_f64();
    let mut rules = std::collections::BTreeMap::<&str, usize>::new();
    for a in &state.alerts {
        *rules.entry(a.alert.rule.as_str()).or_default() += 1;
    }
    eprintln!("alerts by rule: {rules:?}");
    println!(
        "{{\"workload\":\"{workload}\",\"records\":{records},\"retention\":{retention},\"kept\":{},\"meetings\":{},\"alerts\":{},\"apply_seconds\":{secs:.2},\"records_per_s\":{:.0},\"peak_rss_mb\":{:.0},\"final_rss_mb\":{:.0}}}",
        state.rows.len(),
        state.detector.meetings().meetings.len(),
        state.alerts.len(),
        records as f64 / secs,
        status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0,
        status_kb("VmRSS:").unwrap_or(0) as f64 / 1024.0,
    );
    Ok(())
}
