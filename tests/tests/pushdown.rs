//! Filtering at the source, end to end: `zoomwatch tail --log-group … --user/--meeting/
//! --filter` sends what its filter can express to CloudWatch Logs (`filterPattern`, a
//! later `startTime`) and still prints exactly the records the filter matches — never
//! one less. Against moto through the proxy, twice: as moto answers (it matches every
//! event for a regex pattern, and applies `startTime`), and with the proxy applying the
//! regex patterns to moto's answers as CloudWatch does, where fewer events travel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use zoomwatch_e2e::faults::FaultProxy;
use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::tools;
use zoomwatch_ingest::send::unix_now;
use zoomwatch_log::Sink;
use zoomwatch_log::aws::logs_client;
use zoomwatch_log::sink::CloudWatchSink;
use zoomwatch_shared::filter::Filter;
use zoomwatch_shared::{Envelope, Received, RecordV1, normalize, scenario};

const GROUP: &str = "/zoomwatch/events";

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix ms time, as `between:` takes it.
fn iso(ms: i64) -> String {
    let s = zoomwatch_shared::timefmt::format_ms(ms);
    format!("{}Z", &s[..19])
}

/// `zoomwatch tail --json` through the proxy with `extra` arguments: the record ids it
/// printed.
fn tail(proxy: &str, extra: &[&str]) -> BTreeSet<String> {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .arg(tools::workspace_bin("zoomwatch"))
        .args(["tail", "--log-group", GROUP, "--endpoint-url", proxy, "--since", "3h", "--json"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs([("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "record")
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

// Multi-threaded: the proxy answers on the runtime while a test thread waits for `tail`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_travel_to_cloudwatch_and_no_matching_record_is_missed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    // The scripted day at a quarter of its speed (an hour long), received a second and
    // a half after each event, starting 90 minutes ago.
    let t0 = unix_now() * 1000 - 90 * 60_000;
    let records: Vec<RecordV1> = scenario::account_day_at_speed(t0, 0.25)
        .iter()
        .filter_map(|s| Envelope::parse(&s.body).ok().map(|e| (s, e)))
        .map(|(s, e)| normalize(e, &Received { received_at_ms: t0 + s.offset_ms + 1_500, request: None }))
        .collect();
    let writer = logs_client(&moto.sdk_config().await, Some(Duration::from_secs(30)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    CloudWatchSink::new(writer, GROUP, Duration::from_secs(60)).write(records.clone()).await.unwrap();

    // The day has a redelivered event (same record id): printed once.
    let unique: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(unique.len(), records.len() - 1);
    let all = tail(&proxy.url, &[]);
    assert_eq!(all.len(), unique.len(), "everything written is read back");
    let baseline: usize = proxy.take_reads().iter().map(|r| r.events).sum();
    assert_eq!(baseline, records.len());

    let mid = iso(t0 + 40 * 60_000);
    let end = iso(t0 + 80 * 60_000);
    let between = format!("between:{mid}..{end}");
    let cases: [(&[&str], &str); 6] = [
        (&["--user", "jdoe"], "user:jdoe"),
        (&["--user", "HELEN.PARK@ACME"], "user:helen.park@acme"),
        (&["--meeting", "board review"], "meeting:\"board review\""),
        (&["--filter", "type:joined 203.0.113.77"], "type:joined 203.0.113.77"),
        (&["--filter", "NATARAJAN"], "natarajan"),
        (&["--filter", &between], &between),
    ];
    for applied in [false, true] {
        proxy.apply_regex_patterns(applied);
        for (args, filter) in &cases {
            let f = Filter::parse(filter, zoomwatch_console::clock::now_ms()).unwrap();
            let expected: BTreeSet<String> =
                records.iter().filter(|r| f.matches_record(r, r.worst_severity())).map(|r| r.id.clone()).collect();
            assert!(!expected.is_empty() && expected.len() < records.len(), "{filter}: a selective case ({})", expected.len());
            let got = tail(&proxy.url, args);
            let reads = proxy.take_reads();
            let read: usize = reads.iter().map(|r| r.events).sum();
            assert_eq!(got, expected, "{filter} (patterns applied: {applied}): exactly the matching records");
            let window = f.terms.iter().any(|t| matches!(t, zoomwatch_shared::filter::Term::Time(..)));
            if window {
                // A later start time, which moto applies: fewer events read either way.
                assert!(reads.iter().all(|r| r.start_ms >= Some(t0 + 40 * 60_000 - 15 * 60_000)), "{reads:?}");
                assert!(read < baseline, "{filter}: {read} of {baseline} events read");
            } else {
                assert!(reads.iter().all(|r| r.pattern.as_deref().is_some_and(|p| p.starts_with('%'))), "{filter}: {reads:?}");
                if applied {
                    assert!(read < baseline / 2, "{filter}: {read} of {baseline} events read");
                    assert!(read >= expected.len());
                } else {
                    assert_eq!(read, baseline, "{filter}: moto answers a regex pattern with every event");
                }
            }
        }
    }
}
