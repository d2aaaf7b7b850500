//! `zoomwatch-console-load` — the console's state under a long stream: feeds `--records`
//! records of a synthetic account (`--workload busy|growing`, see
//! [`zoomwatch_shared::synthetic`]) into `State` at `--retention` (default: the console's
//! default), in batches as the sources deliver them, and prints one JSON object: time
//! spent in `update` (records are generated, normalized, stored and parsed back outside
//! that time), records/s, and the process's peak and final resident memory (from
//! /proc/self/status). With `--screen`, it then times what the analyst waits for with
//! that state: drawing a 160×48 frame of the Feed and Meetings views (median of 50) and
//! changing the filter at the `/` prompt (median of 15, three kinds of filter).
//!
//! With `--catch-up`, the records are first written to a JSONL file, then read by the
//! console's real file source (its own task, as in `zoomwatch --file`) into `State`:
//! the wall time from start to the last record applied is what an analyst waits when
//! opening the console on that file; `apply_seconds` is then the part spent in `update`,
//! and `catch_up_cpu_seconds` the CPU time of all threads meanwhile (reading, preparing
//! and applying: on two cores, the wall time cannot be less than half of it).
//!
//! With `--stages N`, the records are written to a file as for `--catch-up`, then its
//! lines go through the three stages one after the other on one thread — parsing them,
//! preparing them as the file source does (the newest `--retention` kept, the others
//! passing), applying them in batches — and the least time of each stage over `N` runs
//! is printed: what each stage's code costs, with as little of the machine's noise as
//! a few runs allow (for comparing two builds; the other figures are what an analyst
//! waits).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use zoomwatch_console::prepare::{Prepared, Preparer};
use zoomwatch_console::state::{DEFAULT_RETENTION, Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_console::ui::{self, Theme};
use zoomwatch_log::source::SourceEvent;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::{RecordV1, scenario, synthetic};

/// The allocator the `zoomwatch` binary uses.
#[cfg(not(feature = "heap-breakdown"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Built with `--features heap-breakdown`: the same allocator, counting bytes, and a
/// breakdown of the live heap printed at the end (the counting slows allocation, so
/// timings from such a build are not the console's).
#[cfg(feature = "heap-breakdown")]
#[global_allocator]
static ALLOC: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[cfg(feature = "heap-breakdown")]
fn live_mb() -> f64 {
    ALLOC.allocated() as f64 / (1 << 20) as f64
}

#[cfg(feature = "heap-breakdown")]
/// Live heap held by the rows, the alerts and the rest (the detector, mostly), in MB,
/// measured by dropping each in turn.
fn breakdown(mut state: State) -> String {
    std::thread::sleep(Duration::from_millis(300)); // the drop thread finishes
    let total = live_mb();
    let part = |f: &mut dyn FnMut()| {
        let before = live_mb();
        f();
        before - live_mb()
    };
    let rows = part(&mut || drop(std::mem::take(&mut state.rows)));
    let alerts = part(&mut || drop(std::mem::take(&mut state.alerts)));
    let cfg = state.detector.config().clone();
    let detector = part(&mut || drop(std::mem::replace(&mut state.detector, zoomwatch_shared::rules::Detector::new(cfg.clone()))));
    let mut state = Some(state);
    let rest = part(&mut || drop(state.take()));
    format!(
        "{{\"heap_mb\":{{\"total\":{total:.0},\"rows\":{rows:.0},\"alerts\":{alerts:.0},\"detector\":{detector:.0},\"rest\":{rest:.0}}}}}"
    )
}

const T0: i64 = 1_795_856_400_000;
const BATCH: usize = 8192;

/// A batch as the console's sources send it: read and prepared in the source's task
/// (here: outside the timed part).
fn batch(prep: &Preparer, body_of: fn(usize, i64) -> String, from: usize, to: usize) -> Result<Vec<Prepared>> {
    (from..to)
        .map(|i| {
            let line = synthetic::stored_line(body_of, i, T0)?;
            let r: RecordV1 =
                zoomwatch_shared::lines::parse(line.as_bytes()).map_err(|e| anyhow::anyhow!("stored line does not parse back: {e:?}"))?;
            Ok(prep.prepare(line.as_bytes(), r))
        })
        .collect()
}

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time used by the process so far, all threads (user + system, from /proc/self/stat).
fn cpu_seconds() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| {
        // Fields after the command name, which is in parentheses: utime and stime are 14 and 15.
        let rest = s.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
    });
    ticks.unwrap_or(0.0) / 100.0
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn key(s: &mut State, code: KeyCode, mods: KeyModifiers) {
    update(s, Msg::Key(KeyEvent::new(code, mods)));
}

/// Frame and filter timings with `state` as it is; one JSON fragment.
fn screen(state: &mut State) -> Result<String> {
    update(state, Msg::Resize(48));
    let mut term = Terminal::new(TestBackend::new(160, 48))?;
    let theme = Theme { color: true };
    let mut out = Vec::new();
    for (name, view) in [("feed", '1'), ("meetings", '2')] {
        key(state, KeyCode::Char(view), KeyModifiers::NONE);
        let mut times = Vec::new();
        for _ in 0..50 {
            let start = Instant::now();
            term.draw(|f| ui::draw(state, f, theme))?;
            times.push(start.elapsed());
        }
        out.push(format!("\"render_{name}_ms\":{:.2}", median_ms(times)));
    }
    key(state, KeyCode::Char('1'), KeyModifiers::NONE);
    for (name, text) in [("meeting", "meeting:\"team sync 42\""), ("user", "user:p1234"), ("text_sev", "198.51.100.7 sev:>=low")] {
        let mut times = Vec::new();
        for _ in 0..15 {
            // As typed: open the prompt, clear it, type, Enter (the lists rebuild on Enter).
            let start = Instant::now();
            key(state, KeyCode::Char('/'), KeyModifiers::NONE);
            key(state, KeyCode::Char('u'), KeyModifiers::CONTROL);
            for ch in text.chars() {
                key(state, KeyCode::Char(ch), KeyModifiers::NONE);
            }
            key(state, KeyCode::Enter, KeyModifiers::NONE);
            times.push(start.elapsed());
        }
        anyhow::ensure!(state.filter_text == text, "filter not applied: {:?}", state.filter_text);
        out.push(format!("\"filter_{name}_ms\":{:.1}", median_ms(times)));
    }
    Ok(out.join(","))
}

/// Writes the records to `path` as the receiver would (one JSON line each).
fn write_file(path: &std::path::Path, body_of: fn(usize, i64) -> String, records: usize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..records {
        out.write_all(synthetic::stored_line(body_of, i, T0)?.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Reads `path` with the console's file source into `state`, as the console does; returns
/// (wall time until the source is done and everything is applied, time inside `update`).
fn catch_up(state: &mut State, path: &std::path::Path) -> Result<(Duration, Duration)> {
    use zoomwatch_log::source::Status;
    use zoomwatch_log::source::file::{self, FileSource};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(zoomwatch_log::source::CHANNEL_CAPACITY);
        let start = Instant::now();
        let mut src = FileSource::new(path);
        src.follow = false;
        let prep = std::sync::Arc::new(Preparer::new(state.detector.config().clone(), None).keeping(state.retention));
        tokio::spawn(file::run_prepared(src, prep, tx));
        let mut applying = Duration::ZERO;
        while let Some(ev) = rx.recv().await {
            let done = matches!(ev, SourceEvent::Status(Status::Done));
            let t = Instant::now();
            update(state, Msg::Source(ev));
            applying += t.elapsed();
            if done {
                break;
            }
        }
        Ok((start.elapsed(), applying))
    })
}

/// The `--stages` measure: the least time of each stage over `runs` runs, as JSON fields.
fn stages(path: &std::path::Path, cfg: &Config, retention: usize, runs: usize) -> Result<String> {
    let data = std::fs::read(path)?;
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let keep_from = lines.len().saturating_sub(retention);
    let mut best = [f64::MAX; 3];
    for _ in 0..runs {
        let mut state = State::new("synthetic", cfg.clone(), Triage::default(), retention, T0);
        let prep = Preparer::new(cfg.clone(), None);
        let start = Instant::now();
        let records = lines
            .iter()
            .map(|l| zoomwatch_shared::lines::parse(l).map_err(|e| anyhow::anyhow!("stored line does not parse back: {e:?}")))
            .collect::<Result<Vec<RecordV1>>>()?;
        let parse = start.elapsed();
        let start = Instant::now();
        let mut batches = Vec::with_capacity(lines.len() / BATCH + 1);
        let mut batch = Vec::with_capacity(BATCH);
        for (i, (r, line)) in records.into_iter().zip(&lines).enumerate() {
            batch.push(if i < keep_from { prep.prepare_passing(r) } else { prep.prepare(line, r) });
            if batch.len() == BATCH {
                batches.push(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        }
        batches.push(batch);
        let prepare = start.elapsed();
        let start = Instant::now();
        for b in batches {
            update(&mut state, Msg::Source(SourceEvent::Records(b)));
        }
        let apply = start.elapsed();
        anyhow::ensure!(state.stats.records as usize == lines.len(), "applied {} of {} records", state.stats.records, lines.len());
        for (b, t) in best.iter_mut().zip([parse, prepare, apply]) {
            *b = b.min(t.as_secs_f64());
        }
    }
    let [parse, prepare, apply] = best;
    Ok(format!(
        "\"stages_runs\":{runs},\"parse_seconds\":{parse:.3},\"prepare_seconds\":{prepare:.3},\"apply_seconds\":{apply:.3},\"stages_seconds\":{:.3}",
        parse + prepare + apply
    ))
}

const USAGE: &str =
    "usage: zoomwatch-console-load [--records N] [--retention N] [--workload busy|growing] [--screen] [--catch-up] [--config FILE]

  --records N      records to feed (default 1,000,000)
  --retention N    records the console holds (default: the console's, 100,000)
  --workload W     busy (a working day) or growing (meetings that never end), default busy
  --screen         then time drawing a frame and changing the filter
  --catch-up       read the records from a JSONL file through the console's file source
  --stages N       write that file, then time parsing, preparing and applying its lines
                   one stage after the other on one thread; the least of N runs of each
  --config FILE    a zoomwatch.toml read after the scenario's own (for [limits] and rules)

Prints one JSON object of timings and memory on stdout.";

fn main() -> Result<()> {
    let mut records = 1_000_000usize;
    let mut retention = DEFAULT_RETENTION;
    let mut workload = "busy".to_owned();
    let mut with_screen = false;
    let mut from_file = false;
    let mut stage_runs = None;
    let mut config = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--records" => records = it.next().context("--records N")?.parse()?,
            "--retention" => retention = it.next().context("--retention N")?.parse()?,
            "--workload" => workload = it.next().context("--workload busy|growing")?,
            "--screen" => with_screen = true,
            "--catch-up" => from_file = true,
            "--stages" => stage_runs = Some(it.next().context("--stages N")?.parse::<usize>()?.max(1)),
            "--config" => config = Some(it.next().context("--config FILE")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    anyhow::ensure!(records > 0, "--records must be at least 1");
    let body_of: fn(usize, i64) -> String = match workload.as_str() {
        "busy" => synthetic::busy_account_body,
        "growing" => synthetic::growing_account_body,
        other => anyhow::bail!("unknown workload {other:?}: busy or growing"),
    };
    // The scenario's organization, with the caps (`[limits]`) of `--config` if given.
    let cfg = match &config {
        Some(path) => Config::parse(
            &format!("{}\n{}", scenario::CONFIG, std::fs::read_to_string(path)?),
            &format!("scenario config followed by {path}"),
        )?,
        None => Config::parse(scenario::CONFIG, "scenario")?,
    };
    if let Some(runs) = stage_runs {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        write_file(&path, body_of, records)?;
        println!(
            "{{\"workload\":\"{workload}\",\"records\":{records},\"retention\":{retention},{}}}",
            stages(&path, &cfg, retention, runs)?
        );
        return Ok(());
    }
    let mut state = State::new("synthetic", cfg, Triage::default(), retention, T0);
    let mut applying = Duration::ZERO;
    let mut wall = None;
    let mut catch_up_cpu = None;
    if from_file {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        write_file(&path, body_of, records)?;
        let cpu_before = cpu_seconds();
        let (w, a) = catch_up(&mut state, &path)?;
        catch_up_cpu = Some(cpu_seconds() - cpu_before);
        anyhow::ensure!(state.stats.records as usize == records, "applied {} of {records} records", state.stats.records);
        (wall, applying) = (Some(w), a);
    } else {
        let prep = Preparer::new(state.detector.config().clone(), None);
        let mut from = 0;
        while from < records {
            let to = (from + BATCH).min(records);
            let b = batch(&prep, body_of, from, to)?;
            let start = Instant::now();
            update(&mut state, Msg::Source(SourceEvent::Records(b)));
            applying += start.elapsed();
            from = to;
        }
    }
    let secs = applying.as_secs_f64();
    let wall = wall.map_or(String::new(), |w| {
        format!(",\"catch_up_seconds\":{:.2},\"catch_up_cpu_seconds\":{:.2}", w.as_secs_f64(), catch_up_cpu.unwrap_or(0.0))
    });
    let mut rules = std::collections::BTreeMap::<String, usize>::new();
    for a in &state.alerts {
        *rules.entry(a.alert.rule.clone()).or_default() += 1;
    }
    let peak_mb = status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
    let final_mb = status_kb("VmRSS:").unwrap_or(0) as f64 / 1024.0;
    let screen = if with_screen { format!(",{}", screen(&mut state)?) } else { String::new() };
    println!(
        "{{\"workload\":\"{workload}\",\"records\":{records},\"retention\":{retention},\"kept\":{},\"meetings\":{},\"alerts\":{},\"alerts_dropped\":{},\"present\":{},\"presences_closed\":{},\"apply_seconds\":{secs:.2},\"records_per_s\":{:.0},\"peak_rss_mb\":{peak_mb:.0},\"final_rss_mb\":{final_mb:.0},\"bytes_per_row\":{},\"alerts_by_rule\":{}{wall}{screen}}}",
        state.rows.len(),
        state.detector.meetings().meetings.len(),
        state.alerts.len(),
        state.stats.alerts_dropped,
        state.detector.memory().book.present,
        state.detector.memory().trimmed.presences,
        records as f64 / secs,
        state.held_bytes / state.rows.len().max(1),
        serde_json::to_string(&rules)?,
    );
    #[cfg(feature = "heap-breakdown")]
    eprintln!("{}", breakdown(state));
    Ok(())
}
