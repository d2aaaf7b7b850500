//! Custom rules from `zoomwatch.toml`, end to end: the receiver (local server on loopback)
//! flags records with the stateless ones, `zoomwatch tail` and the console raise alerts
//! from both kinds, `zoomwatch rules` lists them with the built-ins, and `zoomwatch rules
//! --sigma` parses and validates as Sigma with pySigma.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::Value;
use zoomwatch_console::state::{Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_e2e::{Receiver, SECRET, tools};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_log::source::{SourceEvent, Status};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::lines;
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

const CUSTOM: &str = r#"
[[custom_rules]]
id = "outsider-in-board"
when = "type:participant_joined meeting:board sev:>=medium"
severity = "high"
reason = "an outsider joined a board meeting"

[[custom_rules]]
id = "all-hands-guests"
when = "type:participant_joined meeting:all-hands is:guest"
severity = "medium"
reason = "guests are pouring into the all-hands"
count = 5
window_secs = 300

[[custom_rules]]
id = "starred-name"
when = "user:\"dr *\" country:gb is:registered"
severity = "low"
reason = "a registered participant from GB named like a doctor"
"#;

fn zoomwatch(args: &[&str]) -> String {
    let out = Command::new(tools::workspace_bin("zoomwatch")).args(args).output().unwrap();
    assert!(out.status.success(), "zoomwatch {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn custom_rules_run_in_the_receiver_tail_and_console_and_export_as_sigma() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\n{CUSTOM}", scenario::CONFIG);
    let cfg_path = dir.path().join("zoomwatch.toml");
    std::fs::write(&cfg_path, &text).unwrap();
    let events = dir.path().join("events.jsonl");

    // The receiver judges with the same file.
    let rx = Receiver::start_file_rules(&events, Config::parse(&text, "zoomwatch.toml").unwrap()).await.unwrap();
    let sender = Sender::new(rx.url(), Secret::new(SECRET)).unwrap();
    for step in scenario::account_day((unix_now() - 3600) * 1000) {
        assert_eq!(sender.send(step.body, None).await.unwrap().status, 200);
    }
    rx.stop().await.unwrap();
    let stored: Vec<_> = std::fs::read_to_string(&events).unwrap().lines().filter_map(|l| lines::parse(l.as_bytes()).ok()).collect();
    let flagged: Vec<_> = stored.iter().filter(|r| r.flags.iter().any(|f| f.rule == "outsider-in-board")).collect();
    assert_eq!(flagged.len(), 1, "the stateless custom rule flags the record for the SIEM");
    assert_eq!(flagged[0].participant.as_ref().unwrap().email.as_deref(), Some("jdoe@freemail.example"));
    assert!(stored.iter().all(|r| r.flags.iter().all(|f| f.rule != "all-hands-guests")), "a counting rule never flags one record");

    // `zoomwatch tail` raises both.
    let (f, c) = (events.to_str().unwrap(), cfg_path.to_str().unwrap());
    let out = zoomwatch(&["tail", "--file", f, "--json", "--alerts-only", "--config", c]);
    let alerts: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let board: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "outsider-in-board").collect();
    assert_eq!(board.len(), 1, "{out}");
    assert_eq!(board[0]["severity"], "high");
    let guests: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "all-hands-guests").collect();
    assert_eq!(guests.len(), 1, "{out}");
    assert_eq!(guests[0]["meeting"]["topic"], "Company all-hands");
    assert_eq!(guests[0]["record_ids"].as_array().unwrap().len(), 5);
    // The built-ins are unchanged beside them.
    let mut above_low: Vec<&str> = alerts
        .iter()
        .filter(|a| {
            !["low", "info"].contains(&a["severity"].as_str().unwrap())
                && !a["rule"].as_str().unwrap().contains("-in-board")
                && a["rule"] != "all-hands-guests"
        })
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    above_low.sort_unstable();
    assert_eq!(above_low, scenario::expected_alerts());
    // Filters see them as any rule.
    let out = zoomwatch(&["tail", "--file", f, "--alerts-only", "--config", c, "--filter", "type:all-hands-guests"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("guests are pouring into the all-hands: 5 matching records within 300 s"), "{out}");

    // The console, reading the same file with the same configuration.
    let mut s =
        State::new("file:events.jsonl", Config::parse(&text, "zoomwatch.toml").unwrap(), Triage::default(), 10_000, unix_now() * 1000);
    update(&mut s, Msg::Resize(30));
    update(&mut s, Msg::Source(SourceEvent::Status(Status::Live)));
    update(&mut s, Msg::Records(stored.clone()));
    let rules: Vec<&str> = s.alerts.iter().map(|a| a.alert.rule.as_str()).collect();
    assert_eq!(rules.iter().filter(|r| **r == "outsider-in-board").count(), 1, "{rules:?}");
    assert_eq!(rules.iter().filter(|r| **r == "all-hands-guests").count(), 1, "{rules:?}");

    // Listed with the built-ins.
    let out = zoomwatch(&["rules", "--config", c]);
    assert!(out.lines().any(|l| l.starts_with("guest-join ") && l.contains("stateless")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("all-hands-guests ") && l.contains("stateful") && l.contains("(5 within 300 s per meeting)")),
        "{out}"
    );

    // Sigma: parsed and validated by pySigma.
    let sigma = dir.path().join("zoomwatch-sigma.yml");
    std::fs::write(&sigma, zoomwatch(&["rules", "--config", c, "--sigma"])).unwrap();
    let out = Command::new(tools::find("python")).arg(tools::repo_root().join("tests/sigma/check.py")).arg(&sigma).output().unwrap();
    assert!(out.status.success(), "pySigma: {}", String::from_utf8_lossy(&out.stderr));
    let rules: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let cfg = Config::parse(&text, "zoomwatch.toml").unwrap();
    let stateless_built_in =
        cfg.rules.iter().filter(|r| r.enabled && r.info.scope == zoomwatch_shared::rules::RuleScope::Stateless).count();
    assert_eq!(rules.len(), stateless_built_in + 2, "every stateless rule, the counting one left out");
    let guest = rules.iter().find(|r| r["title"] == "zoomwatch guest-join").unwrap();
    assert_eq!((guest["level"].as_str(), guest["fields"][0].as_str()), (Some("low"), Some("flags.rule")));
    let board = rules.iter().find(|r| r["title"] == "zoomwatch outsider-in-board").unwrap();
    assert_eq!(board["level"], "high");
    assert_eq!(board["fields"], serde_json::json!(["category", "event", "flags.severity", "meeting.id", "meeting.topic", "meeting.uuid"]));
    let starred = rules.iter().find(|r| r["title"] == "zoomwatch starred-name").unwrap();
    assert!(starred["fields"].as_array().unwrap().iter().any(|f| f == "participant.registrant_id"), "{starred}");
    assert!(rules.iter().all(|r| r["title"] != "zoomwatch all-hands-guests" && r["title"] != "zoomwatch join-burst"));
}
