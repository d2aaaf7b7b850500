//! The scripted account day, sent as signed webhooks over loopback HTTP through the real
//! receiver into a JSONL file, then read back by the `zoomwatch tail` binary: one alert
//! per planted incident, nothing above `low` from the noise, filters and text safety.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tokio::net::TcpListener;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_ingest::{router, server};
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::SecretSet;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

const BIN: &str = env!("CARGO_BIN_EXE_zoomwatch");
const SECRET: &str = "tail-scenario-secret";

/// Plays the day through a receiver; `geo` as the demo's (the bundled test databases)
/// or none, as a receiver without `[enrichment]`.
async fn play_scenario(dir: &Path) -> std::path::PathBuf {
    play_scenario_with(dir, true).await
}

async fn play_scenario_with(dir: &Path, geo: bool) -> std::path::PathBuf {
    let events = dir.join("events.jsonl");
    let cfg_path = dir.join("zoomwatch.toml");
    std::fs::write(&cfg_path, scenario::CONFIG).unwrap();
    let mut cfg = ReceiverConfig::new(SecretSet::parse(SECRET).unwrap());
    cfg.rules = Arc::new(Config::parse(scenario::CONFIG, "scenario").unwrap());
    cfg.geo = geo.then(|| Arc::new(scenario::geoip()));
    let sink = FileSink::open(&events, Durability::Fsync).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/zoom/webhook", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, router(cfg, sink), async {
        let _ = stopped.await;
    }));
    let sender = Sender::new(url, Secret::new(SECRET)).unwrap();
    let t0 = (unix_now() - 3600) * 1000;
    let mut duplicates = 0;
    for step in scenario::account_day(t0) {
        let d = sender.send(step.body, None).await.unwrap();
        assert_eq!(d.status, 200, "{}", d.body);
        duplicates += usize::from(d.body.contains("\"duplicate\""));
    }
    assert_eq!(duplicates, 1, "the scripted Zoom retry is answered duplicate, not written again");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    cfg_path
}

fn tail(args: &[&str]) -> (String, String) {
    let out = Command::new(BIN).arg("tail").args(args).output().unwrap();
    assert!(out.status.success(), "tail {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[tokio::test]
async fn scenario_through_receiver_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = play_scenario(dir.path()).await;
    let file = dir.path().join("events.jsonl");
    let (f, c) = (file.to_str().unwrap(), cfg.to_str().unwrap());

    // Garbage lines in the file are skipped and counted, never fatal.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("START RequestId: 1b2c Version: $LATEST\nnot json at all\n");
    std::fs::write(&file, text).unwrap();

    let (out, err) = tail(&["--file", f, "--json", "--alerts-only", "--config", c]);
    let alerts: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(alerts.iter().all(|a| a["kind"] == "alert"));
    let mut above_low: Vec<&str> =
        alerts.iter().filter(|a| a["severity"] != "low" && a["severity"] != "info").map(|a| a["rule"].as_str().unwrap()).collect();
    above_low.sort_unstable();
    assert_eq!(above_low, scenario::expected_alerts(), "{out}");
    assert!(err.contains("2 lines skipped"), "{err}");

    let burst = alerts.iter().find(|a| a["rule"] == "join-burst").unwrap();
    assert_eq!(burst["meeting"]["topic"], "Company all-hands");
    assert_eq!(burst["severity"], "high");
    assert!(burst["record_ids"].as_array().unwrap().len() >= 8);
    assert!(burst["occurred_at"].as_str().unwrap().ends_with('Z'));
    let outsider = alerts.iter().find(|a| a["rule"] == "sensitive-meeting-outsider").unwrap();
    assert_eq!(outsider["participant"]["email"], "jdoe@freemail.example");
    let admin = alerts.iter().find(|a| a["rule"] == "privilege-granted").unwrap();
    assert_eq!(admin["actor"]["email"], "it-admin@acme.example");
    assert!(admin["meeting"].is_null());

    // Records: one per distinct delivery, with flags (the receiver did not store the retry).
    let (out, _) = tail(&["--file", f, "--json", "--config", c]);
    let records: Vec<Value> = out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|v| v["kind"] == "record").collect();
    assert_eq!(records.len(), scenario::account_day(0).len() - 1);
    let ids: std::collections::HashSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len(), "no duplicate stored");
    assert!(records.iter().all(|r| r["request"]["signed_at"].is_string()), "each record says when it was signed");

    // Filters.
    let (out, _) = tail(&["--file", f, "--json", "--alerts-only", "--config", c, "--user", "jdoe@"]);
    let rules: Vec<String> = out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["rule"].as_str().unwrap().to_owned()).collect();
    assert_eq!(rules, ["external-join", "sensitive-meeting-outsider"]);
    let (out, _) = tail(&["--file", f, "--alerts-only", "--config", c, "--meeting", "Q3 board"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (out, _) = tail(&["--file", f, "--config", c, "--filter", "type:participant_joined sev:>=high"]);
    assert_eq!(out.lines().count(), 1, "only the outsider's join carries a high flag: {out}");
    assert!(out.contains("jdoe@freemail.example") && out.contains("[high sensitive-meeting-outsider]"));
    let (out, _) = tail(&["--file", f, "--config", c, "--filter", "type:participant_joined sev:>=medium"]);
    assert!(
        out.lines().count() >= 6 && out.lines().all(|l| l.contains("participant_joined") && (l.contains("[medium") || l.contains("[high"))),
        "{out}"
    );

    // Where people came from, as the receiver stored it.
    let helen = records.iter().find(|r| r["participant"]["ip"] == "175.16.199.23").unwrap();
    assert_eq!(helen["participant"]["geo"]["country"], "CN");
    assert_eq!(helen["participant"]["geo"]["city"], "Changchun");
    let (out, _) = tail(&["--file", f, "--config", c, "--filter", "country:cn"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "Helen's join and the three alerts about it: {out}");
    assert!(lines[0].contains("helen.park@acme.example") && lines[0].contains("175.16.199.23 (Changchun, CN)"), "{out}");
    assert!(lines[1..].iter().all(|l| l.contains("ALERT")), "{out}");
    assert!(
        out.contains("ALERT HIGH   impossible-travel") && out.contains("8,010 km from 2.125.160.217 (Boxford, GB) 60 s apart"),
        "{out}"
    );

    // Text output carries no escape sequences or bidi overrides from hostile names.
    let (out, _) = tail(&["--file", f, "--config", c]);
    assert!(out.contains("hacked"), "the name is shown, cleaned");
    assert!(out.contains("81.2.69.160 (London, GB)"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202E}') && !out.contains('\u{7}'));
}

#[test]
fn clear_errors() {
    let out = Command::new(BIN).args(["tail", "--file", "/nonexistent/events.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file: /nonexistent/events.jsonl"));

    // A mistyped path is an error everywhere, and nothing creates it: the console, and
    // `watch --once` in a cron job (which would otherwise read nothing and exit 0).
    let typo_dir = tempfile::tempdir().unwrap();
    let typo = typo_dir.path().join("evnets.jsonl");
    let t = typo.to_str().unwrap();
    for args in [vec!["--file", t], vec!["watch", "--file", t, "--once", "--no-checkpoint"]] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no such file") && err.contains("--wait-for-file"), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert!(!typo.exists(), "{args:?} created the file it was asked to read");
    }

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[watchlist]\nips = [\n  \"10.0.0.0/8\",\n  \"nonsense\",\n]\n").unwrap();
    let out = Command::new(BIN).args(["check-config", "--config", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4") && err.contains("watchlist.ips"), "{err}");

    let good = dir.path().join("good.toml");
    std::fs::write(&good, scenario::CONFIG).unwrap();
    let out = Command::new(BIN).args(["check-config", "--config", good.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("internal_domains = [\"acme.example\"]") && text.contains("[rules.join-burst]") && text.contains("threshold = 8"),
        "{text}"
    );

    let out = Command::new(BIN).args(["tail", "--file", "x", "--filter", "sev:urgent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown severity"));
}

/// A file written by a receiver without GeoIP, read by `tail` with the analyst's own
/// databases (`[enrichment]`, relative to the config file); a missing database is a
/// clear error naming it.
#[tokio::test]
async fn tail_enriches_with_the_analysts_databases() {
    let dir = tempfile::tempdir().unwrap();
    play_scenario_with(dir.path(), false).await;
    let file = dir.path().join("events.jsonl");
    let f = file.to_str().unwrap();
    assert!(!std::fs::read_to_string(&file).unwrap().contains("\"geo\""), "written without geo");

    let mmdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/mmdb");
    std::fs::create_dir(dir.path().join("db")).unwrap();
    for name in ["GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb"] {
        std::fs::copy(mmdb.join(name), dir.path().join("db").join(name)).unwrap();
    }
    let cfg = dir.path().join("zoomwatch.toml");
    std::fs::write(
        &cfg,
        format!("{}\n[enrichment]\ngeoip_city = \"db/GeoLite2-City-Test.mmdb\"\ngeoip_asn = \"db/GeoLite2-ASN-Test.mmdb\"\ngeoip_anonymous = \"db/GeoIP2-Anonymous-IP-Test.mmdb\"\n", scenario::CONFIG),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let (out, _) = tail(&["--file", f, "--json", "--alerts-only", "--config", c]);
    let rules: Vec<String> = out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["rule"].as_str().unwrap().to_owned()).collect();
    for rule in ["impossible-travel", "anonymizer-join", "new-country"] {
        assert!(rules.iter().any(|r| r == rule), "{rule} missing: {rules:?}");
    }
    let (out, _) = tail(&["--file", f, "--config", c, "--filter", "asn:29518 type:joined"]);
    assert_eq!(out.lines().count(), 5, "the Linköping office's 5 joins (Zoom's retry of one was not stored again): {out}");

    let out = Command::new(BIN).args(["check-config", "--config", c]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# GeoIP: city: ") && text.contains("GeoLite2-City, built "), "{text}");

    // The same config with a database missing: exit 2, the path and the line named.
    std::fs::remove_file(dir.path().join("db/GeoLite2-ASN-Test.mmdb")).unwrap();
    for args in [vec!["tail", "--file", f, "--config", c], vec!["check-config", "--config", c]] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot read GeoIP database ") && err.contains("db/GeoLite2-ASN-Test.mmdb"), "{err}");
        let line = std::fs::read_to_string(&cfg).unwrap().lines().position(|l| l.starts_with("geoip_asn")).unwrap() + 1;
        assert!(err.contains("enrichment.geoip_asn") && err.contains(&format!("zoomwatch.toml:{line}")), "{err}");
    }
}

/// The bytes a terminal could act on: C0 controls but the newline, DEL, C1 controls
/// (U+0080–U+009F), bidi embeddings, overrides and isolates, line/paragraph separators.
fn terminal_active(out: &str) -> Vec<char> {
    out.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}')
        })
        .collect()
}

#[test]
fn tail_over_hostile_records_emits_nothing_a_terminal_acts_on() {
    use zoomwatch_shared::record::{Category, Flag, Participant, RecordV1, Severity};
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        "\u{1b}]52;c;cHduZWQ=\u{7}",
        "\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\",
        "\u{1b}[2J\u{1b}[31mred",
        "\u{9b}31mC1 CSI\u{85}NEL",
        "\u{202E}gnp.exe\u{2066}x\u{2069}",
        "line\u{2028}sep\u{2029}para\r\nCRLF",
    ];
    let mut lines = String::new();
    for (i, h) in hostile.iter().enumerate() {
        let t = 1_796_400_000_000 + i as i64 * 1000;
        let mut r = RecordV1::own(format!("h{i}"), "meeting.participant_joined", Category::Participant, "joined", t, t);
        r.participant =
            Some(Participant { name: Some((*h).into()), email: Some(format!("{h}@x.example")), guest: true, ..Participant::default() });
        r.meeting = Some(zoomwatch_shared::record::MeetingRef {
            id: Some("1".into()),
            uuid: Some(format!("U{i}")),
            topic: Some((*h).into()),
            ..Default::default()
        });
        r.flags = vec![Flag { rule: (*h).into(), severity: Severity::High, reason: (*h).into() }];
        lines.push_str(&zoomwatch_shared::lines::to_line(&r));
        lines.push('\n');
    }
    // And the fuzz corpus of stored lines (garbage included: skipped, never echoed).
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/stored_line");
    for e in std::fs::read_dir(corpus).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        lines.push_str(&String::from_utf8_lossy(&bytes).replace('\n', " "));
        lines.push('\n');
    }
    let file = dir.path().join("hostile.jsonl");
    std::fs::write(&file, lines).unwrap();
    let f = file.to_str().unwrap();
    for args in [vec!["--file", f], vec!["--file", f, "--json"]] {
        let (out, _) = tail(&args);
        assert!(out.lines().count() >= hostile.len(), "{out}");
        let bad = terminal_active(&out);
        assert!(bad.is_empty(), "{args:?}: {bad:?}");
    }
}
