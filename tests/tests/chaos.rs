//! The chaos run: the scripted day and its raid delivered the way Zoom delivers — each
//! event to one of two `zoomwatch-ingest serve` processes sharing a claim store (DynamoDB
//! in moto), retried on anything but a 200 on Zoom's schedule, compressed — while
//! CloudWatch, behind the fault proxy, answers 500, throttles, resets, accepts late
//! (writes that land after the receiver gave up on them) and answers late, at random
//! (seeded); `zoomwatch watch` on the log group is SIGKILLed at random points and
//! restarted; the notification endpoint fails and recovers.
//!
//! At the end: every event in the log exactly once, every alert record once per update,
//! every high alert notified at least once (the endpoint keeps the first of each
//! idempotency key) and no notification without its alert record. Prints the figures
//! for the README's Reliability table (`--nocapture`).
//!
//! `ZOOMWATCH_CHAOS_SEED` (default 7) picks the faults; `ZOOMWATCH_CHAOS_DAYS` (default
//! 1) plays the day more times, shifted (`scripts/bench` runs a longer one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use zoomwatch_e2e::faults::{Fault, FaultProxy};
use zoomwatch_e2e::hook::start_hook;
use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::process::{self, Process};
use zoomwatch_e2e::{SECRET, tools};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

const GROUP: &str = "/zoomwatch/events";
/// How long a write of unknown outcome holds its retries off (the receivers' lease):
/// longer than a late acceptance takes to land.
const LEASE_SECS: u64 = 5;
/// Zoom retries after about 5, 25 and 85 minutes; here after these seconds (and, unlike
/// Zoom, which then lists the delivery as failed for the poller to recover, on at the
/// last interval until it lands).
const RETRY_AFTER: [u64; 3] = [6, 12, 24];

fn env_num(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small seeded generator for the test's own choices (receiver, kill times).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Distinct webhook bodies of `days` scripted days (each shifted, so each is new).
fn deliveries(days: u64) -> Vec<Vec<u8>> {
    let now = unix_now() * 1000;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for d in 0..days {
        let t0 = now - 1_800_000 - i64::try_from(days - 1 - d).unwrap() * 2 * 3_600_000;
        for s in scenario::account_day(t0) {
            if !String::from_utf8_lossy(&s.body).contains("endpoint.url_validation") && seen.insert(s.body.clone()) {
                out.push(s.body);
            }
        }
    }
    out
}

/// Zoom's side of one event: attempts until a 200 (the record id it names). Returns
/// (id, attempts).
async fn deliver(urls: Arc<Vec<String>>, body: Vec<u8>, mut pick: u64) -> (String, u32) {
    let ts = unix_now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let url = &urls[usize::try_from(pick % urls.len() as u64).unwrap()];
        pick = pick.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let sender = Sender::with_timeout(url, Secret::new(SECRET), Duration::from_secs(3)).unwrap();
        if let Ok(d) = sender.send(body.clone(), Some(ts)).await
            && d.status == 200
        {
            let v: Value = serde_json::from_str(&d.body).unwrap();
            return (v["id"].as_str().unwrap().to_owned(), attempts);
        }
        let wait = RETRY_AFTER[usize::try_from(attempts - 1).unwrap().min(RETRY_AFTER.len() - 1)];
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// Every record of the log group, with its stream, read directly from moto.
async fn read_group(logs: &aws_sdk_cloudwatchlogs::Client) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = logs.filter_log_events().log_group_name(GROUP).set_next_token(token).send().await.unwrap();
        for e in page.events() {
            let v: Value = serde_json::from_str(e.message().unwrap()).unwrap();
            out.push((e.log_stream_name().unwrap_or_default().to_owned(), v));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

fn watcher(env: &[(String, String)], dir: &std::path::Path, run: u32) -> Process {
    let cfg = dir.join("zoomwatch.toml");
    let args: Vec<String> = [
        "watch",
        "--log-group",
        GROUP,
        "--since",
        "4h",
        "--config",
        &cfg.display().to_string(),
        "--checkpoint",
        &dir.join("watch-checkpoint.json").display().to_string(),
        "--notify",
        "webhook-env:ZOOMWATCH_CHAOS_HOOK",
    ]
    .map(str::to_owned)
    .to_vec();
    let p = Process::start("zoomwatch", &args, env, dir, &format!("watch-{run}"));
    p.wait_for("alerts at");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_every_event_once_every_high_alert_notified() {
    let seed = env_num("ZOOMWATCH_CHAOS_SEED", 7);
    let days = env_num("ZOOMWATCH_CHAOS_DAYS", 1).max(1);
    let started = Instant::now();
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("zoomwatch.toml"), scenario::CONFIG).unwrap();
    let (hook, hook_log) = start_hook(0).await;

    // Everything reaches AWS through the proxy.
    let mmdb = tools::repo_root().join("testdata/mmdb");
    let mut env: Vec<(String, String)> = moto.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push(("AWS_ENDPOINT_URL".into(), proxy.url.clone()));
    env.push(("ZOOMWATCH_GEOIP_CITY".into(), mmdb.join("GeoLite2-City-Test.mmdb").display().to_string()));
    env.push(("ZOOMWATCH_GEOIP_ASN".into(), mmdb.join("GeoLite2-ASN-Test.mmdb").display().to_string()));
    env.push(("ZOOMWATCH_CHAOS_HOOK".into(), hook));
    env.push(("XDG_STATE_HOME".into(), dir.display().to_string()));
    let cfg = dir.join("zoomwatch.toml").display().to_string();
    let claims = ["--claims", "dynamodb:zoomwatch-claims", "--claim-lease", &LEASE_SECS.to_string(), "--config", &cfg];
    let (ra, url_a) = process::receiver(GROUP, &claims, &env, dir, "receiver-a");
    let (rb, url_b) = process::receiver(GROUP, &claims, &env, dir, "receiver-b");
    let urls = Arc::new(vec![url_a, url_b]);

    // The faults, from now on.
    let kinds = [
        Fault::ServerError,
        Fault::Throttle,
        Fault::Reset,
        Fault::Slow(Duration::from_secs(3)),
        Fault::LateAnswer(Duration::from_secs(3)),
        Fault::Partial,
    ];
    proxy.set_random("PutLogEvents", seed, 0.3, &kinds);
    proxy.set_random("FilterLogEvents", seed ^ 0x9e37_79b9, 0.1, &[Fault::ServerError, Fault::Throttle]);

    // The watcher, killed and restarted at random points while the day plays.
    let watcher_proc = Arc::new(Mutex::new(Some(watcher(&env, dir, 0))));
    let kills = Arc::new(Mutex::new(0u32));
    let playing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let killer = {
        let (w, kills, playing, env, dir) = (watcher_proc.clone(), kills.clone(), playing.clone(), env.clone(), dir.to_path_buf());
        tokio::task::spawn_blocking(move || {
            let mut rng = Rng(seed.wrapping_mul(31).max(1));
            let mut run = 0;
            while playing.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(3000 + rng.below(7000)));
                if !playing.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let mut g = w.lock().unwrap();
                if let Some(mut p) = g.take() {
                    p.child.kill().unwrap(); // SIGKILL
                    p.child.wait().unwrap();
                }
                *kills.lock().unwrap() += 1;
                run += 1;
                *g = Some(watcher(&env, &dir, run));
            }
        })
    };

    // The notification endpoint fails for a while, then recovers (and fails once more).
    let flapper = {
        let (log, playing) = (hook_log.clone(), playing.clone());
        tokio::spawn(async move {
            for (failing, secs) in [(true, 12), (false, 10), (true, 8)] {
                log.lock().unwrap().failing = failing;
                tokio::time::sleep(Duration::from_secs(secs)).await;
                if !playing.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
            }
            log.lock().unwrap().failing = false;
        })
    };

    // Zoom: the events in order, a few at a time, each retried until it lands.
    let bodies = deliveries(days);
    let mut rng = Rng(seed.max(1));
    let limit = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for body in bodies.clone() {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let urls = urls.clone();
        let pick = rng.below(1 << 30);
        tasks.push(tokio::spawn(async move {
            let out = deliver(urls, body, pick).await;
            drop(permit);
            out
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut acknowledged = Vec::new();
    let mut attempts = 0u32;
    for t in tasks {
        let (id, n) = t.await.unwrap();
        acknowledged.push(id);
        attempts += n;
    }
    // The faults stop; the watcher is left running until it has caught up.
    playing.store(false, std::sync::atomic::Ordering::SeqCst);
    killer.await.unwrap();
    flapper.await.unwrap();
    let injected = proxy.injected();
    proxy.clear();

    // Wait for the watcher to write every alert of the day and for every high one to be
    // notified (the endpoint is up again).
    let deadline = Instant::now() + Duration::from_secs(240);
    let (records, alert_keys, high) = loop {
        let records = read_group(&logs).await;
        let alerts: Vec<&Value> = records.iter().map(|(_, v)| v).filter(|v| v["event"] == "zoomwatch.alert").collect();
        let high: BTreeSet<String> = alerts
            .iter()
            .filter(|v| v["alert"]["severity"] == "high" && v["alert"]["update"] == 0)
            .map(|v| format!("{}#0", v["alert"]["id"].as_str().unwrap()))
            .collect();
        let keys: Vec<String> =
            alerts.iter().map(|v| format!("{}#{}", v["alert"]["id"].as_str().unwrap(), v["alert"]["update"].as_u64().unwrap())).collect();
        let delivered: BTreeSet<String> =
            hook_log.lock().unwrap().delivered.iter().map(|v| v["idempotency_key"].as_str().unwrap().to_owned()).collect();
        let rules: BTreeSet<&str> = alerts.iter().filter_map(|v| v["alert"]["rule"].as_str()).collect();
        if rules.contains("join-burst") && !high.is_empty() && high.is_subset(&delivered) {
            break (records, keys, high);
        }
        let w = watcher_proc.lock().unwrap().as_ref().map(Process::said).unwrap_or_default();
        assert!(Instant::now() < deadline, "the watcher did not catch up: rules {rules:?}, high {high:?}, delivered {delivered:?}\n{w}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    // Let anything still under way land, then stop the watcher cleanly.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let records = {
        let again = read_group(&logs).await;
        if again.len() == records.len() { records } else { again }
    };
    if let Some(p) = watcher_proc.lock().unwrap().take() {
        std::process::Command::new("kill").arg(p.child.id().to_string()).status().unwrap();
        drop(p);
    }

    // 1. Every event acknowledged is in the log exactly once; nothing else is.
    let mut per_event: HashMap<&str, usize> = HashMap::new();
    for (stream, v) in &records {
        if v["event"] != "zoomwatch.alert" {
            assert!(stream.contains("/zoomwatch-ingest/"), "{stream}: {v}");
            *per_event.entry(v["id"].as_str().unwrap()).or_default() += 1;
            assert!(v["request"]["claim"].is_null(), "written with the exactly-once check: {v}");
        }
    }
    let sent: BTreeSet<&str> = acknowledged.iter().map(String::as_str).collect();
    assert_eq!(sent.len(), bodies.len(), "one record id per event");
    let lost: Vec<&&str> = sent.iter().filter(|id| !per_event.contains_key(**id)).collect();
    let doubled: Vec<(&&str, &usize)> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    let strays: Vec<&&str> = per_event.keys().filter(|id| !sent.contains(**id)).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(doubled.is_empty(), "written more than once: {doubled:?}");
    assert!(strays.is_empty(), "stored but never acknowledged: {strays:?}");

    // 2. Every alert record once per update, and updates in order.
    let mut per_alert: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &alert_keys {
        *per_alert.entry(k.as_str()).or_default() += 1;
    }
    let alert_dups: Vec<_> = per_alert.iter().filter(|(_, n)| **n > 1).collect();
    assert!(alert_dups.is_empty(), "alert records written twice: {alert_dups:?}");

    // 3. Every high alert notified at least once; no notification without its alert.
    let log = hook_log.lock().unwrap();
    assert!(log.unexpected.is_empty(), "{:?}", log.unexpected);
    let delivered: BTreeSet<String> = log.delivered.iter().map(|v| v["idempotency_key"].as_str().unwrap().to_owned()).collect();
    assert!(high.is_subset(&delivered), "not notified: {:?}", high.difference(&delivered).collect::<Vec<_>>());
    let orphans: Vec<&String> = delivered.iter().filter(|k| !per_alert.contains_key(k.as_str())).collect();
    assert!(orphans.is_empty(), "notified without an alert record: {orphans:?}");
    drop((ra, rb));

    let faults: u64 = injected.values().sum();
    let mut kinds: Vec<String> = injected.iter().map(|(k, n)| format!("{n} {k}")).collect();
    kinds.sort();
    println!("| chaos run (seed {seed}, {days} day(s), {:.0} s) | figure |", started.elapsed().as_secs_f64());
    println!("|---|---|");
    println!("| events sent (two receivers, one claim store) | {} |", bodies.len());
    println!("| delivery attempts (Zoom's retries, compressed) | {attempts} |");
    println!("| faults injected at CloudWatch | {faults}: {} |", kinds.join(", "));
    println!("| watcher SIGKILLs (restarted each time) | {} |", kills.lock().unwrap());
    println!("| events stored | {} (lost 0, duplicates written 0) |", per_event.len());
    println!("| alert records (alert × update) | {} (duplicates written 0) |", per_alert.len());
    println!(
        "| high alerts notified | {} of {} ({} attempts refused while the endpoint was down, {} repeats the endpoint dropped by key) |",
        high.intersection(&delivered).count(),
        high.len(),
        log.requests - log.delivered.len() - log.repeats,
        log.repeats
    );
}
