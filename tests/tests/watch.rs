//! `zoomwatch watch` as an operator runs it: the real binary following the receiver's
//! file (real HTTP on loopback, signed deliveries), alert records to a file, a webhook
//! for notifications that fails before it recovers. Killed with SIGKILL mid-day and
//! started again: every incident is raised exactly once, growing alerts are updated,
//! the result equals one uninterrupted pass, and each high alert is notified once. And
//! on a log group (moto): alerts on the watch streams, a second run adding none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use zoomwatch_e2e::hook::start_hook;
use zoomwatch_e2e::tools::workspace_bin;
use zoomwatch_e2e::{Receiver, SECRET};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

struct Paths {
    events: PathBuf,
    alerts: PathBuf,
    checkpoint: PathBuf,
    config: PathBuf,
    dir: PathBuf,
}

fn watcher(p: &Paths, hook: &str, run: usize) -> Child {
    let log = std::fs::File::create(p.dir.join(format!("watch-{run}.log"))).unwrap();
    Command::new(workspace_bin("zoomwatch"))
        .args(["watch", "--file"])
        .arg(&p.events)
        .arg("--alerts-to")
        .arg(format!("file:{}", p.alerts.display()))
        .arg("--checkpoint")
        .arg(&p.checkpoint)
        .arg("--config")
        .arg(&p.config)
        .args(["--notify", "webhook-env:ZOOMWATCH_TEST_HOOK"])
        .env("ZOOMWATCH_TEST_HOOK", hook)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Waits until the checkpoint says the whole events file was read.
async fn caught_up(p: &Paths) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let len = std::fs::metadata(&p.events).map(|m| m.len()).unwrap_or(0);
        let offset = std::fs::read(&p.checkpoint)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["cursor"]["offset"].as_u64());
        if offset == Some(len) && len > 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the watcher did not catch up: checkpoint at {offset:?} of {len} bytes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn alert_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn run_once(args: &[&str]) -> String {
    let out = Command::new(workspace_bin("zoomwatch")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_raises_each_incident_once_across_a_kill_and_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let p = Paths {
        events: dir.join("events.jsonl"),
        alerts: dir.join("alerts.jsonl"),
        checkpoint: dir.join("state/watch.json"),
        config: dir.join("zoomwatch.toml"),
        dir: dir.clone(),
    };
    std::fs::write(&p.config, scenario::CONFIG).unwrap();
    let receiver = Receiver::start_file_enriched(&p.events).await.unwrap();
    let (hook, hook_log) = start_hook(2).await;
    let sender = Sender::new(receiver.url(), Secret::new(SECRET)).unwrap();
    let steps = scenario::account_day((unix_now() - 1800) * 1000);
    // Split inside the raid, so the join-burst alert grows across the restart.
    let split = steps.iter().position(|s| String::from_utf8_lossy(&s.body).contains(scenario::RAID_NAMES[9])).unwrap();
    let (first, second) = steps.split_at(split);

    let mut w = watcher(&p, &hook, 1);
    for s in first {
        assert_eq!(sender.send(s.body.clone(), None).await.unwrap().status, 200);
    }
    caught_up(&p).await;
    w.kill().unwrap(); // SIGKILL: no chance to save anything more
    w.wait().unwrap();
    let before_restart = alert_records(&p.alerts).len();
    assert!(before_restart > 0, "alerts were written before the kill");

    let mut w = watcher(&p, &hook, 2);
    for s in second {
        assert_eq!(sender.send(s.body.clone(), None).await.unwrap().status, 200);
    }
    caught_up(&p).await;
    receiver.stop().await.unwrap();

    let records = alert_records(&p.alerts);
    let raised: Vec<&Value> = records.iter().filter(|r| r["action"] == "raised").collect();
    let high: BTreeSet<String> =
        raised.iter().filter(|r| r["alert"]["severity"] == "high").map(|r| r["alert"]["id"].as_str().unwrap().to_owned()).collect();
    // Notifications: the first two attempts were refused (503); wait for the retries.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while hook_log.lock().unwrap().delivered.len() < high.len() {
        assert!(tokio::time::Instant::now() < deadline, "notifications not delivered: {:?}", hook_log.lock().unwrap().delivered);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // SIGTERM: a clean stop.
    Command::new("kill").arg(w.id().to_string()).status().unwrap();
    assert!(w.wait().unwrap().success());

    // Each alert raised once; every record id once; updates carry the same alert id.
    let mut ids = BTreeSet::new();
    for r in &records {
        assert_eq!(r["event"], "zoomwatch.alert");
        assert!(ids.insert(r["id"].as_str().unwrap().to_owned()), "record written twice: {r}");
    }
    let mut per_alert: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for r in &records {
        per_alert.entry(r["alert"]["id"].as_str().unwrap()).or_default().push(r);
    }
    for (id, rs) in &per_alert {
        assert_eq!(rs.iter().filter(|r| r["action"] == "raised").count(), 1, "alert {id}: {rs:#?}");
        let counts: Vec<u64> = rs.iter().map(|r| r["alert"]["count"].as_u64().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "alert {id} updates grow: {counts:?}");
    }
    let mut above_low: Vec<&str> =
        raised.iter().filter(|r| r["alert"]["severity"] != "low").map(|r| r["alert"]["rule"].as_str().unwrap()).collect();
    above_low.sort_unstable();
    assert_eq!(above_low, scenario::expected_alerts());
    let burst = per_alert.values().find(|rs| rs[0]["alert"]["rule"] == "join-burst").unwrap();
    assert!(burst.len() > 1, "the raid grew across the restart: {burst:#?}");
    assert!(burst.last().unwrap()["alert"]["reason"].as_str().unwrap().contains("guests/external participants joined"));

    // The same as one uninterrupted pass over the whole file.
    let reference = dir.join("reference.jsonl");
    let config = p.config.display().to_string();
    let events = p.events.display().to_string();
    run_once(&[
        "watch",
        "--once",
        "--no-checkpoint",
        "--file",
        &events,
        "--config",
        &config,
        "--alerts-to",
        &format!("file:{}", reference.display()),
    ]);
    let ref_alerts: BTreeSet<String> = alert_records(&reference).iter().map(|r| r["alert"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ref_alerts, per_alert.keys().map(|k| (*k).to_owned()).collect::<BTreeSet<_>>());

    // A third start from the checkpoint: nothing new to say.
    let said = run_once(&[
        "watch",
        "--once",
        "--file",
        &events,
        "--config",
        &config,
        "--checkpoint",
        &p.checkpoint.display().to_string(),
        "--alerts-to",
        &format!("file:{}", p.alerts.display()),
    ]);
    assert!(said.contains("resuming from the checkpoint") && said.contains(" 0 records read; 0 alert records written"), "{said}");
    assert_eq!(alert_records(&p.alerts).len(), records.len());

    // One notification per high alert, none twice, none for lower ones.
    let log = hook_log.lock().unwrap();
    assert!(log.unexpected.is_empty(), "{:?}", log.unexpected);
    let notified: Vec<String> = log.delivered.iter().map(|v| v["zoomwatch"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(notified.iter().cloned().collect::<BTreeSet<_>>(), high);
    assert_eq!(notified.len(), high.len(), "each key delivered once (the hook keeps the first of a key)");
    // At least once: a notification sent just before the kill may be sent again after
    // the restart, with the same idempotency key; never more than that.
    assert!(log.repeats <= 1, "{} repeats", log.repeats);
    assert_eq!(log.requests, high.len() + 2 + log.repeats, "the two refused attempts were retried");
    // The hook's URL (a secret) is in no log line.
    for run in [1, 2] {
        let text = std::fs::read_to_string(dir.join(format!("watch-{run}.log"))).unwrap();
        assert!(!text.contains("hook-secret"), "{text}");
    }
}

/// `zoomwatch watch --log-group` from a workstation (no Lambda): the same alerts, on the
/// group's watch streams, and a second run from its checkpoint adds none.
#[tokio::test(flavor = "multi_thread")]
async fn zoomwatch_watch_on_a_log_group_resumes_from_its_checkpoint() {
    use zoomwatch_log::sink::{CloudWatchSink, Sink};
    let moto = zoomwatch_e2e::moto::Moto::start();
    let sdk = moto.sdk_config().await;
    let logs = zoomwatch_log::aws::logs_client(&sdk, Some(Duration::from_secs(5)));
    logs.create_log_group().log_group_name("/zoomwatch/events").send().await.unwrap();
    CloudWatchSink::new(logs.clone(), "/zoomwatch/events", Duration::from_secs(10))
        .write(zoomwatch_e2e::stored_day(20 * 60 * 1000))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zoomwatch.toml");
    std::fs::write(&config, zoomwatch_shared::scenario::CONFIG).unwrap();
    let checkpoint = dir.path().join("watch.json");
    // High alerts also go to an SNS topic; moto delivers to its HTTP subscriber.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns.create_topic().name("soc-alerts").send().await.unwrap().topic_arn().unwrap().to_owned();
    let (subscriber, received) = zoomwatch_e2e::hook::start_sns_subscriber().await;
    sns.subscribe().topic_arn(&topic).protocol("http").endpoint(&subscriber).send().await.unwrap();
    let notify = format!("sns:{topic}");
    let run = || {
        let mut cmd = Command::new(workspace_bin("zoomwatch"));
        cmd.args([
            "watch",
            "--once",
            "--log-group",
            "/zoomwatch/events",
            "--since",
            "1h",
            "--endpoint-url",
            &moto.url,
            "--region",
            "us-east-1",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--checkpoint")
        .arg(&checkpoint)
        .args(["--notify", &notify]);
        for (k, v) in moto.env() {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        err
    };
    let first = run();
    assert!(first.contains("alert records written"), "{first}");
    let alerts = |logs: aws_sdk_cloudwatchlogs::Client| async move {
        let page = logs.filter_log_events().log_group_name("/zoomwatch/events").filter_pattern("\"zoomwatch.alert\"").send().await.unwrap();
        page.events().iter().map(|e| serde_json::from_str::<serde_json::Value>(e.message().unwrap()).unwrap()).collect::<Vec<_>>()
    };
    let written = alerts(logs.clone()).await;
    let mut above_low: Vec<&str> =
        written.iter().filter(|r| r["alert"]["severity"] != "low").map(|r| r["alert"]["rule"].as_str().unwrap()).collect();
    above_low.sort_unstable();
    assert_eq!(above_low, zoomwatch_shared::scenario::expected_alerts(), "{first}");
    let high: std::collections::BTreeSet<&str> =
        written.iter().filter(|r| r["alert"]["severity"] == "high").map(|r| r["alert"]["id"].as_str().unwrap()).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < high.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    {
        let got = received.lock().unwrap();
        let ids: Vec<String> = got
            .iter()
            .map(|n| {
                assert_eq!((n["Type"].as_str(), n["TopicArn"].as_str()), (Some("Notification"), Some(topic.as_str())), "{n}");
                assert!(n["Subject"].as_str().unwrap().starts_with("zoomwatch HIGH alert "), "{n}");
                let msg: Value = serde_json::from_str(n["Message"].as_str().unwrap()).unwrap();
                msg["zoomwatch"]["id"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(ids.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), high);
        assert_eq!(ids.len(), high.len(), "one message per high alert");
    }
    let second = run();
    assert!(second.contains("resuming from the checkpoint") && second.contains("0 alert records written"), "{second}");
    assert_eq!(received.lock().unwrap().len(), high.len(), "nothing notified again");
    assert_eq!(alerts(logs.clone()).await.len(), written.len());
    let streams = logs.describe_log_streams().log_group_name("/zoomwatch/events").send().await.unwrap();
    assert!(streams.log_streams().iter().any(|s| s.log_stream_name().unwrap_or("").contains("/zoomwatch-watch/")));
}

#[test]
fn a_one_shot_run_on_a_missing_file_fails_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let out = Command::new(workspace_bin("zoomwatch"))
        .args(["watch", "--once", "--no-checkpoint", "--alerts-to", "stdout", "--file"])
        .arg(&missing)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no such file") && err.contains("nope.jsonl"), "{err}");
    // Writing alerts to the source itself (the default) creates nothing either.
    let out =
        Command::new(workspace_bin("zoomwatch")).args(["watch", "--once", "--no-checkpoint", "--file"]).arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}
