//! Faults between the receiver and CloudWatch Logs, injected by a proxy in front of moto
//! (`zoomwatch_e2e::faults`): PutLogEvents answering 500, throttled, answering after the
//! write budget, accepting only part of a batch, resetting the connection. While it fails,
//! every signed delivery is answered 503 within Zoom's 3 s (the sender gives up at 3 s, as
//! Zoom does) — never a 4xx; once it recovers, Zoom-style retries (same body, same
//! signature timestamp) land every event, and a further retry is answered `duplicate`.
//! Prints one row per fault for the README's Reliability table (`--nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use tokio::net::TcpListener;
use zoomwatch_e2e::SECRET;
use zoomwatch_e2e::faults::{Fault, FaultProxy};
use zoomwatch_e2e::moto::{Moto, read_all};
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_ingest::{router, server};
use zoomwatch_log::aws::logs_client;
use zoomwatch_log::sink::{AnySink, CloudWatchSink};
use zoomwatch_shared::signature::Secret;
use zoomwatch_shared::{SecretSet, scenario};

/// How long a write of unknown outcome holds its retries off in these runs.
const LEASE: Duration = Duration::from_secs(4);

/// Distinct deliveries of the scripted day (its scripted Zoom retry left out).
fn deliveries(n: usize) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashSet::new();
    scenario::account_day(0)
        .into_iter()
        .filter(|s| seen.insert(s.body.clone()))
        .filter(|s| !String::from_utf8_lossy(&s.body).contains("endpoint.url_validation"))
        .map(|s| s.body)
        .take(n)
        .collect()
}

#[tokio::test]
async fn every_event_lands_once_cloudwatch_recovers_from_each_fault() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let direct = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let mut sdk = moto.sdk_config().await.into_builder();
    sdk.set_endpoint_url(Some(proxy.url.clone()));
    let sdk = sdk.build();
    let budget = Duration::from_secs(2);
    let zoom = |url: &str| Sender::with_timeout(url, Secret::new(SECRET), Duration::from_secs(3)).unwrap();

    let faults = [
        ("PutLogEvents answers 500", Fault::ServerError),
        ("PutLogEvents throttled", Fault::Throttle),
        ("PutLogEvents answers after 3 s", Fault::Slow(Duration::from_secs(3))),
        ("part of the batch refused", Fault::Partial),
        ("connection reset", Fault::Reset),
    ];
    let bodies = deliveries(8);
    let mut rows = Vec::new();
    for (i, (label, fault)) in faults.into_iter().enumerate() {
        let group = format!("/zoomwatch/faults/{i}");
        direct.create_log_group().log_group_name(&group).send().await.unwrap();
        let sink = CloudWatchSink::new(logs_client(&sdk, Some(budget)), &group, budget);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/zoom/webhook", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut cfg = ReceiverConfig::new(SecretSet::parse(SECRET).unwrap());
        // How long a late answer's write holds its retry off (30 s by default; Zoom's
        // first retry comes minutes later).
        cfg.write_lease = LEASE;
        let task = tokio::spawn(server::serve(listener, router(cfg, AnySink::CloudWatch(sink)), async {
            let _ = stopped.await;
        }));
        let sender = zoom(&url);

        // The stream exists before the outage (as on any day after the first write).
        let d = sender.send(bodies[0].clone(), None).await.unwrap();
        assert_eq!(d.status, 200, "{label}: {}", d.body);

        proxy.set("PutLogEvents", fault);
        let mut signed_at = Vec::new();
        for body in &bodies[1..] {
            let ts = unix_now();
            let d = sender.send(body.clone(), Some(ts)).await.unwrap_or_else(|e| panic!("{label}: no answer within 3 s: {e}"));
            assert_eq!(d.status, 503, "{label}: our own failure is a 5xx, so Zoom retries: {}", d.body);
            signed_at.push(ts);
        }
        let (_, faulted) = proxy.count("PutLogEvents");
        assert!(faulted > 0, "{label}: the fault was injected");
        proxy.clear();
        // A retry at once: a refused write (throttled) stored nothing and is written now;
        // after any other fault the write may still land, so the retry is held off for
        // the lease (Zoom's own retry comes minutes later) and then settled.
        let last = (bodies[bodies.len() - 1].clone(), signed_at[signed_at.len() - 1]);
        let d = sender.send(last.0, Some(last.1)).await.unwrap();
        let expect = if fault == Fault::Throttle { 200 } else { 503 };
        assert_eq!(d.status, expect, "{label}: a retry at once: {}", d.body);
        tokio::time::sleep(LEASE).await;

        // Zoom retries each delivery with its original signature.
        for (body, ts) in bodies[1..].iter().zip(&signed_at) {
            let d = sender.send(body.clone(), Some(*ts)).await.unwrap();
            assert_eq!(d.status, 200, "{label}: retry after recovery: {}", d.body);
        }
        // …and once more (Zoom's +25 min retry of a delivery whose 200 it missed).
        let d = sender.send(bodies[1].clone(), Some(signed_at[0])).await.unwrap();
        assert!(d.status == 200 && d.body.contains("duplicate"), "{label}: {}", d.body);

        let _ = stop.send(());
        task.await.unwrap().unwrap();
        // A late write from a slow answer may still be in flight inside the proxy.
        tokio::time::sleep(if matches!(fault, Fault::Slow(_)) { Duration::from_secs(4) } else { Duration::ZERO }).await;
        let stored = read_all(&direct, &group).await;
        let mut per_id: HashMap<&str, usize> = HashMap::new();
        for r in &stored {
            *per_id.entry(r.id.as_str()).or_default() += 1;
        }
        let sent = bodies.len();
        let lost = sent - per_id.len();
        let duplicated: usize = per_id.values().map(|n| n - 1).sum();
        assert_eq!(lost, 0, "{label}: every verified event is stored");
        assert_eq!(per_id.len(), sent, "{label}: nothing else is stored");
        // A refused write stored nothing, so its retry is the only copy; a write that
        // landed late is found in the log by its retry, which then writes nothing.
        assert_eq!(duplicated, 0, "{label}: every event is stored once");
        rows.push(format!("| {label} | {sent} | {} answered 503, then 200 | {} | {lost} | {duplicated} |", sent - 1, per_id.len()));
    }
    println!("| fault (receiver → CloudWatch) | events sent | during the fault | stored (distinct ids) | lost | duplicated |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
