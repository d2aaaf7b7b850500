//! `zoomwatch-ingest poll` as an operator runs it, against the strict stand-in for
//! Zoom's API: sign-ins with their country, the operation log with a role change
//! flagged, a failed delivery with the id the receiver gives the same body; paging,
//! rate limits, a failure half-way, and a second run that adds nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::tools;
use zoomwatch_e2e::zoom_api::{APP_ID, CLIENT_SECRET, Fault, ZoomStandIn};
use zoomwatch_e2e::{Receiver, SECRET};

fn ago(mins: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::minutes(mins)
}

fn rfc(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// The body Zoom failed to deliver (a participant joining the board review). Made once
/// per test: its times come from the clock.
fn lost_body() -> String {
    let ts = ago(90).unix_timestamp() * 1000;
    format!(
        r#"{{"event":"meeting.participant_joined","event_ts":{ts},"payload":{{"account_id":"Acme9x","object":{{"id":"86623456789","uuid":"b0ArD+rEvIeW/Q3abcDEfg==","host_id":"dWf3","topic":"Q3 Board Review (confidential)","participant":{{"user_id":"16790528","user_name":"J. Doe","id":"xT9-Ext","participant_uuid":"67C1","email":"jdoe@freemail.example","join_time":"{}"}}}}}}}}"#,
        rfc(ago(90))
    )
}

fn seed(zoom: &ZoomStandIn, lost: &str) {
    let op_time = |m: i64| {
        let t = ago(m);
        format!("{} {}", &rfc(t)[..10], &rfc(t)[11..19])
    };
    zoom.set_report(
        "activities",
        vec![
            json!({"email": "helen.park@acme.example", "ip_address": "2.125.160.217", "time": rfc(ago(300)), "type": "Sign in", "client_type": "mac", "version": "6.4.2"}),
            json!({"email": "helen.park@acme.example", "ip_address": "175.16.199.23", "time": rfc(ago(240)), "type": "Sign in", "client_type": "windows", "version": "6.4.2"}),
            json!({"email": "dana.whitfield@acme.example", "ip_address": "216.160.83.56", "time": rfc(ago(200)), "type": "Sign in", "client_type": "web", "version": ""}),
            json!({"email": "dana.whitfield@acme.example", "ip_address": "216.160.83.56", "time": rfc(ago(100)), "type": "Sign out", "client_type": "web", "version": ""}),
            json!({"time": rfc(ago(50)), "type": "Sign in"}),
        ],
    );
    zoom.set_report(
        "operationlogs",
        vec![
            json!({"time": op_time(180), "operator": "it-admin@acme.example", "category_type": "User", "action": "Update", "operation_detail": "Update User contractor.ops@acme.example  - User Role: from Member to Admin"}),
            json!({"time": op_time(170), "operator": "it-admin@acme.example", "category_type": "Account", "action": "Update", "operation_detail": "Meeting  - Waiting Room: from On to Off"}),
            json!({"time": op_time(160), "operator": "it-admin@acme.example", "category_type": "Account", "action": "Update", "operation_detail": "\u{1b}[2J ;; from : to ::"}),
        ],
    );
    zoom.set_report(
        "webhook_logs",
        vec![
            json!({"event": "meeting.participant_joined", "status": 503, "failed_reason_type": 7, "request_body": lost, "date_time": rfc(ago(89)), "request_id": "req-1", "retry_num": 0, "trace_id": "t1"}),
            json!({"event": "meeting.participant_joined", "status": -1, "failed_reason_type": 1, "request_body": lost, "date_time": rfc(ago(84)), "request_id": "req-1", "retry_num": 1, "trace_id": "t1"}),
        ],
    );
}

fn poll(zoom: &ZoomStandIn, dir: &Path, out: &Path) -> Output {
    let config = dir.join("zw.toml");
    let mmdb = tools::repo_root().join("testdata/mmdb");
    std::fs::write(
        &config,
        format!(
            "[organization]\ninternal_domains = [\"acme.example\"]\n\n[enrichment]\ngeoip_city = \"{}\"\ngeoip_asn = \"{}\"\n",
            mmdb.join("GeoLite2-City-Test.mmdb").display(),
            mmdb.join("GeoLite2-ASN-Test.mmdb").display()
        ),
    )
    .unwrap();
    let out = Command::new(tools::workspace_bin("zoomwatch-ingest"))
        .args(["poll", "--once", "--since", "2d", "--sink", &format!("file:{}", out.display()), "--config"])
        .arg(&config)
        .arg("--cursor")
        .arg(dir.join("cursor.json"))
        .envs(zoom.env())
        .env("ZOOM_APP_ID", APP_ID)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(CLIENT_SECRET), "{all}");
    out
}

fn stored(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_become_records_once() {
    let zoom = ZoomStandIn::start().await;
    let lost = lost_body();
    seed(&zoom, &lost);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    // A per-second limit on the first page is waited out.
    zoom.push(Fault::Answer(429, json!({"code": 429, "message": "per-second rate limit"}), vec![("x-ratelimit-type", "QPS".into())]));
    let o = poll(&zoom, dir.path(), &out);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());

    let recs = stored(&out);
    let by = |e: &str| recs.iter().filter(|r| r["event"] == e).collect::<Vec<_>>();
    let sign_ins = by("zoom.report.sign_in");
    assert_eq!(sign_ins.len(), 3, "the row without an email is counted unreadable, not stored");
    assert_eq!(by("zoom.report.sign_out").len(), 1);
    let changchun = sign_ins.iter().find(|r| r["actor"]["ip"] == "175.16.199.23").unwrap();
    assert_eq!(changchun["actor"]["geo"]["country"], "CN");
    assert_eq!(changchun["origin"]["source"], "zoom.report.activities");

    let ops = by("zoom.report.operation");
    assert_eq!(ops.len(), 3);
    let promo = ops.iter().find(|r| r["target_user"]["email"] == "contractor.ops@acme.example").unwrap();
    assert_eq!(promo["flags"][0]["rule"], "privilege-granted", "{promo}");
    // The waiting room is catalogued: recorded under its API path (shared/src/zoom_settings.rs).
    let weakened = ops.iter().find(|r| r["changes"][0]["path"] == "settings.meeting_security.waiting_room").unwrap();
    assert!(weakened["flags"].as_array().unwrap().iter().any(|f| f["rule"] == "policy-drift"), "{weakened}");

    // The failed delivery (two attempts, one event): once, with the receiver's id.
    let recovered = by("meeting.participant_joined");
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0]["origin"]["source"], "zoom.webhook_logs");
    assert!(recovered[0]["flags"].as_array().unwrap().iter().any(|f| f["rule"] == "webhook-deliveries-failed"));
    let rx_file = dir.path().join("rx.jsonl");
    let rx = Receiver::start_file(&rx_file).await.unwrap();
    let sender = zoomwatch_ingest::send::Sender::new(rx.url(), zoomwatch_shared::signature::Secret::new(SECRET)).unwrap();
    assert_eq!(sender.send(lost.clone().into_bytes(), None).await.unwrap().status, 200);
    rx.stop().await.unwrap();
    assert_eq!(stored(&rx_file)[0]["id"], recovered[0]["id"], "the same id as the webhook, so a late retry is not a second record");

    // Again: nothing new.
    let before = recs.len();
    let o = poll(&zoom, dir.path(), &out);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let again = stored(&out);
    assert_eq!(again.len(), before, "a second run adds no record: {:?}", &again[before.min(again.len())..]);
    // New rows after the cursor are picked up.
    let mut rows = vec![
        json!({"email": "grace.liu@acme.example", "ip_address": "89.160.20.112", "time": rfc(ago(1)), "type": "Sign in", "client_type": "mac", "version": "6.5"}),
    ];
    rows.extend([json!({"email": "helen.park@acme.example", "ip_address": "2.125.160.217", "time": rfc(ago(300)), "type": "Sign in", "client_type": "mac", "version": "6.4.2"})]);
    zoom.set_report("activities", rows);
    let o = poll(&zoom, dir.path(), &out);
    assert_eq!(code(&o), 0);
    assert_eq!(stored(&out).len(), before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_half_way_loses_nothing() {
    let zoom = ZoomStandIn::start().await;
    let lost = lost_body();
    seed(&zoom, &lost);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    // Page 1 of the sign-ins arrives, page 2 fails: nothing of the sign-ins is written.
    zoom.push(Fault::Delay(std::time::Duration::ZERO));
    zoom.push(Fault::Answer(503, json!({"code": 503, "message": "Service Unavailable"}), vec![]));
    let o = poll(&zoom, dir.path(), &out);
    assert_eq!(code(&o), 1, "a failed report makes the run fail");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("activities") && err.contains("503"), "{err}");
    let first = stored(&out);
    assert_eq!(first.iter().filter(|r| r["event"] == "zoom.report.sign_in").count(), 0);
    assert!(first.iter().any(|r| r["event"] == "zoom.report.operation"), "the other reports still ran");

    // A daily limit on the operation log: that report waits, the rest is complete.
    zoom.push(Fault::Delay(std::time::Duration::ZERO)); // activities page 1
    zoom.push(Fault::Delay(std::time::Duration::ZERO)); // activities page 2
    zoom.push(Fault::Delay(std::time::Duration::ZERO)); // activities page 3
    let o = poll(&zoom, dir.path(), &out);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let recs = stored(&out);
    assert_eq!(recs.iter().filter(|r| r["event"] == "zoom.report.sign_in").count(), 3);
    let ids: std::collections::HashSet<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.len(),
        recs.len(),
        "no record twice: {:#?}",
        recs.iter().map(|r| (r["id"].clone(), r["event"].clone(), r["occurred_at"].clone())).collect::<Vec<_>>()
    );

    zoom.set_report(
        "operationlogs",
        vec![json!({"time": "2026-01-01 00:00:00", "operator": "x", "action": "Update", "operation_detail": ""})],
    );
    zoom.push(Fault::Answer(
        429,
        json!({"code": 429, "message": "You have reached the maximum daily rate limit for this API."}),
        vec![("x-ratelimit-type", "Daily-limit".into()), ("retry-after", "2099-01-01T00:00:00Z".into())],
    ));
    let o = Command::new(tools::workspace_bin("zoomwatch-ingest"))
        .args(["poll", "--once", "--reports", "operations", "--sink", &format!("file:{}", out.display()), "--cursor"])
        .arg(dir.path().join("cursor.json"))
        .envs(zoom.env())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("2099-01-01T00:00:00Z"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_cursor_lives_in_s3_beside_the_checkpoint() {
    use zoomwatch_ingest::poll::{Cursor, CursorStore, ReportCursor};
    use zoomwatch_ingest::state_store::{StateObject, s3_client};
    let moto = Moto::start();
    let client = s3_client(&moto.sdk_config().await);
    client.create_bucket().bucket("zw-state").send().await.unwrap();
    let object = |key: &str| StateObject { client: client.clone(), bucket: "zw-state".into(), key: key.into() };
    let store = CursorStore::S3(object("poll-cursor.json"));
    assert_eq!(store.load().await.unwrap(), Cursor::default(), "no object yet: start from --since");
    let mut c = Cursor::default();
    c.reports
        .insert("activities".into(), ReportCursor { through_ms: 1_764_633_600_000, ids_at: vec!["a".into()], recent: vec!["a".into()] });
    store.save(&c).await.unwrap();
    store.save(&c).await.unwrap();
    assert_eq!(store.load().await.unwrap(), c);
    // An empty object reads as an empty cursor; another key in the bucket is untouched.
    client.put_object().bucket("zw-state").key("fresh.json").body(b"{}".to_vec().into()).send().await.unwrap();
    assert_eq!(CursorStore::S3(object("fresh.json")).load().await.unwrap(), Cursor::default());
    // A missing bucket is an error that names the object, not an empty cursor.
    let gone = CursorStore::S3(StateObject { client: client.clone(), bucket: "no-such-bucket".into(), key: "poll-cursor.json".into() });
    let e = gone.load().await.unwrap_err();
    assert!(e.contains("s3://no-such-bucket/poll-cursor.json"), "{e}");
}
