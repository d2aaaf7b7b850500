//! The OCSF projection checked by someone else's implementation: every record of the
//! scripted day, every webhook fixture, the watcher's alert records, analysts' actions and
//! verdicts, printed by `zoomwatch tail --format ocsf` and validated against the OCSF
//! 1.8.0 schema by `ocsf-json-schema` + `jsonschema` (PyPI, pinned in
//! scripts/requirements-test.txt; `scripts/ocsf-validate`). An invalid event fails the
//! test. And the shell completions and man pages of both binaries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use zoomwatch_e2e::{fixtures, stored_day, tools};
use zoomwatch_shared::audit::{ActionAudit, Response, action_record, triage_record};
use zoomwatch_shared::blocks::{CallInfo, Outcome};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::watcher::Watcher;
use zoomwatch_shared::{Envelope, Received, lines, normalize, scenario};

fn validate(ocsf: &str) -> (bool, String) {
    let mut child = Command::new(tools::find("python3"))
        .arg(tools::repo_root().join("scripts/ocsf-validate"))
        .arg("1.8.0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ocsf.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The records the test projects: the day, the fixtures, alerts, actions, verdicts.
fn records() -> Vec<RecordV1> {
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let geo = scenario::geoip();
    let mut out = stored_day(3_600_000);
    let mut names: Vec<_> = std::fs::read_dir(fixtures()).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for (i, path) in names.iter().filter(|p| p.extension().is_some_and(|e| e == "json")).enumerate() {
        let body = std::fs::read(path).unwrap();
        let Ok(env) = Envelope::parse(&body) else { continue };
        let mut r = normalize(env, &Received { received_at_ms: 1_796_000_000_000 + i as i64, request: None });
        geo.enrich(&mut r);
        r.flags = zoomwatch_shared::rules::evaluate(&r, &cfg);
        out.push(r);
    }
    // The reports: sign-ins with their address (the webhook carries none), and the
    // operation log's kinds of row.
    let rows = [
        serde_json::json!({"email": "dana@acme.example", "ip_address": "89.160.20.128", "time": "2026-12-01T08:00:00Z", "type": "Sign in", "client_type": "mac", "version": "6.4.2"}),
        serde_json::json!({"email": "dana@acme.example", "ip_address": "89.160.20.128", "time": "2026-12-01T17:00:00Z", "type": "Sign out", "client_type": "mac", "version": "6.4.2"}),
    ];
    for row in &rows {
        let mut r = zoomwatch_shared::report::sign_in(row, 1_796_000_000_000).unwrap();
        geo.enrich(&mut r);
        out.push(r);
    }
    for (category, action, detail) in [
        ("Role", "Update", "Change Role : Admin - dana@acme.example: from Member to Admin"),
        ("Role", "Add", "Add Role : Auditors"),
        ("User", "Add", "Add User : new.hire@acme.example"),
        ("User", "Deactivate", "Deactivate User : lena@acme.example"),
        ("Group", "Add Member", "Add Group Members : Sales - lena@acme.example"),
        ("Account", "Update", "Meeting > Waiting room: from On to Off"),
    ] {
        let row = serde_json::json!({"time": "2026-12-01T09:00:00Z", "operator": "it-admin@acme.example", "category_type": category, "action": action, "operation_detail": detail});
        out.push(zoomwatch_shared::report::operation(&row, 1_796_000_000_000).unwrap());
    }
    // The watcher's alert records over the day: raised and updated.
    let mut w = Watcher::new(Detector::new(cfg), "file:day.jsonl", Severity::Low);
    w.observe(stored_day(3_600_000));
    out.extend(w.take_alerts(1_796_000_100_000));
    // An analyst's action (and its intent), the same through the action broker (with the
    // IAM identity), and a verdict.
    let call = CallInfo { method: "PATCH".into(), path: "/meetings/84512345678/status".into(), body: None };
    for (outcome, principal) in
        [(Outcome::Pending, None), (Outcome::Succeeded, None), (Outcome::Succeeded, Some("arn:aws:iam::123456789012:user/ana".to_owned()))]
    {
        let response = Response {
            analyst: "ana".into(),
            host: principal.is_none().then(|| "soc-1".into()),
            principal,
            outcome: Some(outcome),
            call: Some(call.clone()),
            ..Response::default()
        };
        out.push(action_record(&ActionAudit {
            action: "end-meeting".into(),
            meeting: Some("84512345678".into()),
            user: None,
            participant_uuid: None,
            at_ms: 1_796_000_200_000,
            response,
        }));
    }
    out.push(triage_record("ana", Some("soc-1"), "a-1", "dismissed", "known tester", 1_796_000_300_000));
    out
}

#[test]
fn every_projected_record_is_valid_ocsf() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("day.jsonl");
    let recs = records();
    let text: String = recs.iter().map(|r| lines::to_line(r) + "\n").collect();
    std::fs::write(&day, text).unwrap();
    let cfg = dir.path().join("zoomwatch.toml");
    std::fs::write(&cfg, scenario::CONFIG).unwrap();
    let out = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["tail", "--format", "ocsf", "--file"])
        .arg(&day)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ocsf = String::from_utf8(out.stdout).unwrap();
    let events: Vec<Value> = ocsf.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (ok, report) = validate(&ocsf);
    println!("{}", report.lines().last().unwrap_or_default());
    assert!(ok, "{report}");
    // One event per record, plus the alerts tail raises itself (Detection Findings).
    let records: Vec<&Value> = events.iter().filter(|e| e["metadata"]["log_provider"] == "zoomwatch").collect();
    assert_eq!(records.len(), events.len());
    let uids: std::collections::HashSet<&str> = events.iter().filter_map(|e| e["metadata"]["uid"].as_str()).collect();
    for r in &recs {
        assert!(uids.contains(r.id.as_str()), "record {} ({}) has its event", r.id, r.event);
    }

    // A sign-in: Authentication Logon with the user, the address and where it is (from
    // the sign-in report: Zoom's user.signed_in webhook carries no address).
    let webhook = events.iter().find(|e| e["metadata"]["event_code"] == "user.signed_in").unwrap();
    assert_eq!((webhook["class_uid"].as_u64(), webhook["activity_id"].as_u64()), (Some(3002), Some(1)), "{webhook}");
    assert!(webhook["user"]["email_addr"].is_string(), "{webhook}");
    let signin = events.iter().find(|e| e["metadata"]["event_code"] == "zoom.report.sign_in").unwrap();
    assert_eq!(signin["src_endpoint"]["ip"], "89.160.20.128");
    assert_eq!(signin["src_endpoint"]["location"]["city"], "Linköping");
    assert_eq!((signin["class_uid"].as_u64(), signin["type_uid"].as_u64()), (Some(3002), Some(300_201)));
    assert!(signin["user"]["email_addr"].as_str().is_some_and(|e| e.contains('@')), "{signin}");
    assert!(signin["src_endpoint"]["location"]["country"].is_string(), "{signin}");
    // A privilege grant raised as an alert: a Detection Finding naming the rule and
    // the evidence records.
    let grant = events
        .iter()
        .find(|e| e["class_uid"] == 2004 && e["finding_info"]["analytic"]["name"] == "privilege-granted")
        .expect("a privilege-granted finding");
    let evidence: Vec<&str> =
        grant["finding_info"]["related_events"].as_array().unwrap().iter().filter_map(|e| e["uid"].as_str()).collect();
    assert!(!evidence.is_empty() && evidence.iter().all(|id| uids.contains(id)), "{grant}");
    // Every record keeps the original.
    assert!(events.iter().all(|e| e["raw_data"].as_str().is_some_and(|raw| lines::parse(raw.as_bytes()).is_ok())));
    // An analyst's action is an API Activity, a verdict a finding's update.
    assert!(events.iter().any(|e| e["class_uid"] == 6003 && e["api"]["operation"] == "PATCH /meetings/84512345678/status"));
    assert!(events.iter().any(|e| e["class_uid"] == 2004 && e["activity_id"] == 2 && e["status"] == "Suppressed"));
    // Operation-log rows as AppFabric projects them: a role change is a Web Resources
    // Activity update, a group member added Group Management's Add User.
    let op = |detail: &str| events.iter().find(|e| e["raw_data"].as_str().is_some_and(|r| r.contains(detail))).unwrap();
    assert_eq!(op("from Member to Admin")["type_uid"], 600_103);
    assert_eq!(op("Add Group Members")["type_uid"], 300_603);
    assert_eq!(op("Deactivate User")["type_uid"], 300_105);
    assert_eq!(op("Waiting room")["type_uid"], 300_403);
}

#[test]
fn the_validator_refuses_what_ocsf_does_not_allow() {
    // So a pass above means something: a missing user, an unknown attribute, a wrong type.
    let good = r#"{"class_uid":3002,"category_uid":3,"activity_id":1,"type_uid":300201,"severity_id":1,"time":1,"metadata":{"version":"1.8.0","product":{"name":"Zoom","vendor_name":"Zoom"}},"user":{"name":"a"},"service":{"name":"Zoom"}}"#;
    assert!(validate(good).0, "{}", validate(good).1);
    for bad in [
        good.replace(r#""user":{"name":"a"},"#, ""),
        good.replace(r#""time":1"#, r#""time":1,"meeting_topic":"x""#),
        good.replace(r#""time":1"#, r#""time":"yesterday""#),
    ] {
        let (ok, report) = validate(&bad);
        assert!(!ok, "accepted: {bad}\n{report}");
    }
}

/// The receiver writing an OCSF copy beside its records: every stored record has its
/// valid OCSF event, written first; a repeat delivery adds neither.
#[tokio::test(flavor = "multi_thread")]
async fn the_receiver_writes_an_ocsf_copy_of_every_record() {
    use zoomwatch_ingest::send::Sender;
    let dir = tempfile::tempdir().unwrap();
    let (events, copy) = (dir.path().join("events.jsonl"), dir.path().join("ocsf.jsonl"));
    let port = tools::free_port();
    let args: Vec<String> = ["serve", "--listen", &format!("127.0.0.1:{port}"), "--sink", &format!("file:{}", events.display())]
        .into_iter()
        .map(str::to_owned)
        .chain(["--ocsf-to".to_owned(), format!("file:{}", copy.display())])
        .collect();
    let env = [("ZOOM_WEBHOOK_SECRET_TOKEN".to_owned(), zoomwatch_e2e::SECRET.to_owned())];
    let p = zoomwatch_e2e::process::Process::start("zoomwatch-ingest", &args, &env, dir.path(), "receiver");
    p.wait_for("listening on");
    assert!(p.said().contains("and OCSF to file:"), "{}", p.said());
    let sender =
        Sender::new(format!("http://127.0.0.1:{port}/zoom/webhook"), zoomwatch_shared::signature::Secret::new(zoomwatch_e2e::SECRET))
            .unwrap();
    let names =
        ["user.signed_in.json", "meeting.started.json", "meeting.participant_joined.json", "group.admin_added.json", "meeting.ended.json"];
    for name in names {
        let d = sender.send(std::fs::read(fixtures().join(name)).unwrap(), None).await.unwrap();
        assert_eq!(d.status, 200, "{name}: {}", d.body);
    }
    let again = sender.send(std::fs::read(fixtures().join(names[1])).unwrap(), None).await.unwrap();
    assert!(again.body.contains("duplicate"), "{}", again.body);
    let stored: Vec<RecordV1> = std::fs::read_to_string(&events).unwrap().lines().map(|l| lines::parse(l.as_bytes()).unwrap()).collect();
    let ocsf = std::fs::read_to_string(&copy).unwrap();
    let uids: Vec<String> =
        ocsf.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["metadata"]["uid"].as_str().unwrap().to_owned()).collect();
    assert_eq!(uids, stored.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), "one OCSF event per record, in order");
    let (ok, report) = validate(&ocsf);
    assert!(ok, "{report}");
    let grant: Value = serde_json::from_str(ocsf.lines().nth(3).unwrap()).unwrap();
    assert_eq!(grant["class_uid"], 3006, "{grant}");
}

fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new(tools::workspace_bin(bin)).args(args).output().unwrap();
    assert!(out.status.success(), "{bin} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_cover_every_subcommand_and_work_in_bash() {
    for (bin, subs) in [
        ("zoomwatch", &["demo", "tail", "act", "watch", "posture", "check-config", "rules", "completions", "man"][..]),
        ("zoomwatch-ingest", &["serve", "send", "poll", "completions", "man"][..]),
    ] {
        let script = run(bin, &["completions", "bash"]);
        for s in subs {
            assert!(script.contains(s), "{bin}: {s} missing from the bash completions");
        }
        for shell in ["zsh", "fish"] {
            let other = run(bin, &["completions", shell]);
            assert!(subs.iter().all(|s| other.contains(s)), "{bin} {shell}");
        }
        // Loaded into bash, it completes a subcommand from its first letters.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.bash");
        std::fs::write(&file, &script).unwrap();
        let function = format!("_{}", bin.replace('-', "__"));
        let probe = format!(
            "source {}; COMP_WORDS=({bin} ta); COMP_CWORD=1; COMP_LINE='{bin} ta'; COMP_POINT=${{#COMP_LINE}}; {function} {bin} ta {bin}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        if bin == "zoomwatch" {
            let out = Command::new("bash").args(["--norc", "-c", &probe]).output().unwrap();
            let words = String::from_utf8_lossy(&out.stdout);
            assert!(
                words.lines().any(|w| w == "tail"),
                "bash completed `zoomwatch ta` to {words:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn man_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(tools::workspace_bin("zoomwatch")).args(["man", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for page in ["zoomwatch.1", "zoomwatch-tail.1", "zoomwatch-act.1", "zoomwatch-watch.1", "zoomwatch-posture.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page} is roff");
    }
    let tail = std::fs::read_to_string(dir.path().join("zoomwatch-tail.1")).unwrap();
    assert!(tail.contains("ocsf") && tail.contains("follow"), "the page documents the options");
    let ingest = run("zoomwatch-ingest", &["man"]);
    assert!(ingest.contains(".TH") && ingest.contains("serve"), "{}", &ingest[..ingest.len().min(300)]);
}
