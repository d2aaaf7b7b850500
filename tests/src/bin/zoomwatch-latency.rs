//! `zoomwatch-latency` — webhook POST → record applied in the console's state, with the
//! real pieces: the receiver on loopback writing JSONL (fsync), the console's file
//! source following that file, and `State` applying what it reads (headless: no
//! terminal, so this measures the pipeline, not a terminal's paint). Sends `--count`
//! webhooks at `--rate` per second and prints p50/p90/p99 as one JSON object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use zoomwatch_console::state::{Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_e2e::{Receiver, SECRET, fixtures};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_log::source::SourceEvent;
use zoomwatch_log::source::file::{self, FileSource};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::signature::Secret;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let mut count = 500usize;
    let mut rate = 50u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--count" => count = it.next().context("--count N")?.parse()?,
            "--rate" => rate = it.next().context("--rate N")?.parse()?,
            other => anyhow::bail!("unknown argument {other:?}: --count N --rate N"),
        }
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("events.jsonl");
    let receiver = Receiver::start_file(&path).await?;
    let (tx, mut rx) = mpsc::channel(zoomwatch_log::source::CHANNEL_CAPACITY);
    let prep = Arc::new(zoomwatch_console::prepare::Preparer::new(Config::default(), None));
    tokio::spawn(file::run_prepared(FileSource::new(&path), prep, tx));

    let sent: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let seen = sent.clone();
    let consumer = tokio::spawn(async move {
        let mut state = State::new("file", Config::default(), Triage::default(), 100_000, unix_now() * 1000);
        let mut delays = Vec::with_capacity(count);
        while delays.len() < count {
            let Some(ev) = rx.recv().await else { break };
            let arrived = Instant::now();
            let ts: Vec<i64> = match &ev {
                SourceEvent::Records(b) => b.iter().filter_map(|p| p.record.event_ts).collect(),
                _ => Vec::new(),
            };
            update(&mut state, Msg::Source(ev));
            let sent = seen.lock().unwrap_or_else(|e| e.into_inner());
            delays.extend(ts.iter().filter_map(|t| sent.get(t)).map(|start| arrived.duration_since(*start)));
        }
        delays
    });

    let template = std::fs::read_to_string(fixtures().join("meeting.participant_joined__guest_real.json"))?;
    let sender = Sender::new(receiver.url(), Secret::new(SECRET))?;
    let base = unix_now() * 1000;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    for i in 0..count {
        tick.tick().await;
        let ts = base + i as i64;
        let body = template.replace("\"event_ts\":1749064313084", &format!("\"event_ts\":{ts}"));
        sent.lock().unwrap_or_else(|e| e.into_inner()).insert(ts, Instant::now());
        let d = sender.send(body.into_bytes(), None).await?;
        anyhow::ensure!(d.status == 200, "receiver answered {}", d.status);
    }
    let mut delays = tokio::time::timeout(Duration::from_secs(30), consumer).await.context("records did not all arrive")??;
    receiver.stop().await?;
    delays.sort_unstable();
    let pct = |p: f64| delays.get(((delays.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{{\"webhooks\":{},\"rate_per_s\":{rate},\"p50_ms\":{:.1},\"p90_ms\":{:.1},\"p99_ms\":{:.1},\"max_ms\":{:.1}}}",
        delays.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
