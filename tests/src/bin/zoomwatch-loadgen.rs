//! `zoomwatch-loadgen` — concurrent load of signed Zoom webhooks against a receiver, for
//! `scripts/bench`. Every request is a distinct event (its `event_ts` differs, so its
//! record id does too) signed with the current time, as Zoom would send it. Prints
//! throughput and latency percentiles as one JSON object.
//!
//! `ZOOM_WEBHOOK_SECRET_TOKEN=… zoomwatch-loadgen --url URL [--concurrency 64]
//! [--requests 50000] [--body FILE] [--rate N --duration SECS]`
//!
//! With `--rate` and `--duration` (the soak), requests are paced: request `i` is sent
//! no earlier than `i / rate` seconds after the start, `rate × duration` in all.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zoomwatch_ingest::send::unix_now;
use zoomwatch_shared::signature::{self, Secret};

struct Args {
    url: String,
    concurrency: usize,
    requests: usize,
    body: Option<String>,
    rate: Option<f64>,
    duration: Option<f64>,
}

fn args() -> Result<Args> {
    let mut a = Args { url: String::new(), concurrency: 64, requests: 50_000, body: None, rate: None, duration: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value()?,
            "--concurrency" => a.concurrency = value()?.parse().context("--concurrency")?,
            "--requests" => a.requests = value()?.parse().context("--requests")?,
            "--body" => a.body = Some(value()?),
            "--rate" => a.rate = Some(value()?.parse().context("--rate")?),
            "--duration" => a.duration = Some(value()?.parse().context("--duration")?),
            "-h" | "--help" => {
                println!(
                    "zoomwatch-loadgen --url URL [--concurrency N] [--requests N] [--body FILE] [--rate N --duration SECS] (secret: ZOOM_WEBHOOK_SECRET_TOKEN)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    if a.url.is_empty() {
        bail!("--url is required");
    }
    match (a.rate, a.duration) {
        (Some(r), Some(d)) if r > 0.0 && d > 0.0 => a.requests = (r * d).round() as usize,
        (None, None) => {}
        _ => bail!("--rate and --duration go together, both above 0"),
    }
    Ok(a)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let a = args()?;
    let secret = Secret::new(
        std::env::var("ZOOM_WEBHOOK_SECRET_TOKEN").context("set ZOOM_WEBHOOK_SECRET_TOKEN")?.split(',').next().unwrap_or_default(),
    );
    let template = match &a.body {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?,
        None => std::fs::read_to_string(zoomwatch_e2e::fixtures().join("meeting.participant_joined__guest_real.json"))?,
    };
    let marker = template.find("\"event_ts\":").context("the body has no \"event_ts\"")?;
    let (head, tail) = template.split_at(marker + "\"event_ts\":".len());
    let digits = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
    let (head, tail) = (Arc::new(head.to_owned()), Arc::new(tail[digits..].to_owned()));

    let client = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).timeout(Duration::from_secs(10)).build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let base_ts = unix_now() * 1000;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..a.concurrency {
        let (client, next, head, tail, url, secret) =
            (client.clone(), next.clone(), head.clone(), tail.clone(), a.url.clone(), secret.clone());
        let total = a.requests;
        let rate = a.rate;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return (latencies, failures);
                }
                if let Some(r) = rate {
                    tokio::time::sleep_until((started + Duration::from_secs_f64(i as f64 / r)).into()).await;
                }
                let body = format!("{head}{}{tail}", base_ts + i as i64);
                let ts = unix_now().to_string();
                let sig = signature::sign(&secret, &ts, body.as_bytes());
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(signature::TIMESTAMP_HEADER, ts)
                    .header(signature::SIGNATURE_HEADER, sig)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 200);
                latencies.push(t.elapsed());
                if !ok {
                    failures += 1;
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(a.requests);
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.await?;
        all.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let pct = |p: f64| all.get(((all.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{{\"requests\":{},\"failures\":{failures},\"concurrency\":{},\"target_per_second\":{},\"seconds\":{:.3},\"per_second\":{:.0},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        all.len(),
        a.concurrency,
        a.rate.map_or_else(|| "null".to_owned(), |r| format!("{r:.0}")),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    if failures > 0 {
        bail!("{failures} requests were not answered 200");
    }
    Ok(())
}
