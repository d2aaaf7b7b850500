//! The receiver inside the real Lambda runtime loop: `cargo lambda watch` runs the
//! `zoomwatch-ingest` binary against its Lambda Runtime API emulator, signed webhooks go
//! through its function-URL emulation, and records land in a CloudWatch-compatible server.
//! The same bootstrap as the scheduled report poller (`ZOOMWATCH_MODE=poll`), invoked as
//! EventBridge would, against the strict Zoom API stand-in, its cursor in S3 (moto); and
//! as the scheduled watch function (`ZOOMWATCH_MODE=watch`), its checkpoint in the same bucket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::{fixtures, tools};
use zoomwatch_ingest::send::Sender;
use zoomwatch_log::aws::logs_client;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::signature::Secret;

const SECRET: &str = "emulated-lambda-secret";
const GROUP: &str = "/zoomwatch/events";

/// `cargo lambda watch` in its own process group, killed with its children on drop.
struct Emulator {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let pgid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
        let _ = self.child.wait();
    }
}

fn start_emulator(moto: &Moto, port: u16, dir: &std::path::Path) -> Emulator {
    start_emulator_with(moto, port, dir, &[])
}

fn start_emulator_with(moto: &Moto, port: u16, dir: &std::path::Path, extra: &[(&str, String)]) -> Emulator {
    let cargo_lambda = tools::find("cargo-lambda");
    let venv_bin = cargo_lambda.parent().unwrap().to_path_buf();
    let path = format!("{}:{}", venv_bin.display(), std::env::var("PATH").unwrap_or_default());
    let log = dir.join("watch.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(&cargo_lambda);
    cmd.args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(tools::repo_root().join("ingest"))
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0);
    for (k, v) in moto.env() {
        // An extra AWS_ENDPOINT_URL (a fault-injecting proxy in front of moto) wins.
        if !extra.iter().any(|(e, _)| *e == k) {
            cmd.args(["--env-var", &format!("{k}={v}")]);
        }
    }
    cmd.args(["--env-var", &format!("ZOOM_WEBHOOK_SECRET_TOKEN={SECRET}")]);
    cmd.args(["--env-var", "ZOOMWATCH_SINK=cloudwatch", "--env-var", &format!("ZOOMWATCH_LOG_GROUP={GROUP}")]);
    // As the template sets them when a GeoIP layer is attached (there: under /opt).
    let mmdb = tools::repo_root().join("testdata/mmdb");
    cmd.args(["--env-var", &format!("ZOOMWATCH_GEOIP_CITY={}", mmdb.join("GeoLite2-City-Test.mmdb").display())]);
    cmd.args(["--env-var", &format!("ZOOMWATCH_GEOIP_ASN={}", mmdb.join("GeoLite2-ASN-Test.mmdb").display())]);
    for (k, v) in extra {
        cmd.args(["--env-var", &format!("{k}={v}")]);
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", cargo_lambda.display()));
    let emu = Emulator { child, log };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen: {}", std::fs::read_to_string(&emu.log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(200));
    }
    emu
}

/// Invokes the emulated function directly with `event` (as EventBridge does): status, body.
async fn invoke_raw(port: u16, event: Vec<u8>) -> (u16, String) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
    let r =
        http.post(format!("http://127.0.0.1:{port}/2015-03-31/functions/zoomwatch-ingest/invocations")).body(event).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// A scheduled event, as EventBridge sends it.
const SCHEDULED: &str = r#"{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-01T00:00:00Z","resources":[],"detail":{}}"#;

#[tokio::test]
async fn webhooks_through_the_lambda_runtime_land_in_cloudwatch() {
    let moto = Moto::start();
    let client = logs_client(&moto.sdk_config().await, Some(Duration::from_secs(5)));
    client.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = tools::free_port();
    let emu = start_emulator(&moto, port, dir.path());
    let url = format!("http://127.0.0.1:{port}/lambda-url/zoomwatch-ingest/zoom/webhook");
    // The first invocation may have to build the function: allow for it.
    let sender = Sender::with_timeout(&url, Secret::new(SECRET), Duration::from_secs(600)).unwrap();
    let log = || std::fs::read_to_string(&emu.log).unwrap_or_default();

    let d = sender.send(std::fs::read(fixtures().join("endpoint.url_validation.json")).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 200, "{} / {}", d.body, log());
    let v: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(v["encryptedToken"], zoomwatch_shared::signature::url_validation_token(&Secret::new(SECRET), "qgg8vlvZRS6UYooatFL8Aw"));

    for name in ["meeting.started.json", "meeting.participant_joined__guest_real.json", "user.settings_updated__meeting_auth_disabled.json"]
    {
        let d = sender.send(std::fs::read(fixtures().join(name)).unwrap(), None).await.unwrap();
        assert_eq!(d.status, 200, "{name}: {} / {}", d.body, log());
    }
    // A join from a Swedish address: enriched inside the Lambda.
    let mut join: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("meeting.participant_joined.json")).unwrap()).unwrap();
    join["payload"]["object"]["participant"]["public_ip"] = serde_json::json!("89.160.20.128");
    let d = sender.send(serde_json::to_vec(&join).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 200, "{} / {}", d.body, log());
    // An event lambda_http cannot turn into a request (an invalid host name; found by the
    // lambda_event fuzz target): that one invocation fails, the function goes on.
    let hostile = std::fs::read(tools::repo_root().join("fuzz/corpus/lambda_event/regression-invalid-domain-name")).unwrap();
    let (status, body) = invoke_raw(port, hostile).await;
    assert!(status >= 400 || body.contains("errorType"), "the invocation failed: {status} {body}");
    let forged = Sender::with_timeout(&url, Secret::new("wrong"), Duration::from_secs(60)).unwrap();
    let d = forged.send(std::fs::read(fixtures().join("meeting.ended.json")).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 401);

    let page = client.filter_log_events().log_group_name(GROUP).send().await.unwrap();
    let records: Vec<RecordV1> = page.events().iter().map(|e| serde_json::from_str(e.message().unwrap()).unwrap()).collect();
    let events: Vec<&str> = records.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "endpoint.url_validation",
            "meeting.started",
            "meeting.participant_joined",
            "user.settings_updated",
            "meeting.participant_joined",
            "zoomwatch.rejected"
        ]
    );
    let geo = records[4].participant.as_ref().unwrap().geo.as_deref().expect("GeoIP from ZOOMWATCH_GEOIP_*");
    assert_eq!((geo.country.as_deref(), geo.city.as_deref(), geo.asn), (Some("SE"), Some("Linköping"), Some(29518)));
    assert!(log().contains("GeoIP enrichment on"), "{}", log());
    let auth = &records[3];
    assert_eq!(auth.flags[0].rule, "policy-drift", "stateless flags are written by the Lambda too");
    let req = records[1].request.as_ref().unwrap();
    assert!(req.request_id.as_deref().is_some_and(|id| !id.is_empty()), "request id from the Lambda request context");
    assert_eq!(records[5].rejection.as_ref().unwrap().reason, "bad_signature");
    assert!(!log().contains(SECRET), "the secret never reaches the function's logs");
}

/// CloudWatch failing under the Lambda (500s on PutLogEvents, through the fault proxy):
/// each delivery is answered 503 within Zoom's 3 s, and Zoom-style retries after recovery
/// land every event once; a further retry is answered `duplicate` by the same instance.
#[tokio::test]
async fn the_lambda_answers_503_while_cloudwatch_fails_and_loses_nothing() {
    use zoomwatch_e2e::faults::{Fault, FaultProxy};
    use zoomwatch_ingest::send::unix_now;
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let client = logs_client(&moto.sdk_config().await, Some(Duration::from_secs(5)));
    client.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = tools::free_port();
    // The claim store, as the template creates it (the function only uses its items).
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let claims = zoomwatch_ingest::claims::Claims::new(ddb.clone(), "zoomwatch-claims");
    claims.create_if_missing().await.unwrap();
    let emu = start_emulator_with(
        &moto,
        port,
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", proxy.url.clone()),
            ("ZOOMWATCH_CLAIMS", "dynamodb:zoomwatch-claims".into()),
            ("ZOOMWATCH_CLAIM_LEASE_SECS", "2".into()),
        ],
    );
    let url = format!("http://127.0.0.1:{port}/lambda-url/zoomwatch-ingest/zoom/webhook");
    let log = || std::fs::read_to_string(&emu.log).unwrap_or_default();
    let bodies: Vec<Vec<u8>> = [
        "meeting.started.json",
        "meeting.participant_joined.json",
        "meeting.participant_left.json",
        "meeting.ended.json",
        "user.signed_in.json",
    ]
    .iter()
    .map(|n| std::fs::read(fixtures().join(n)).unwrap())
    .collect();
    // The first invocation may have to build the function: allow for it.
    let warm = Sender::with_timeout(&url, Secret::new(SECRET), Duration::from_secs(600)).unwrap();
    let d = warm.send(std::fs::read(fixtures().join("meeting.created.json")).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 200, "{} / {}", d.body, log());

    let zoom = Sender::with_timeout(&url, Secret::new(SECRET), Duration::from_secs(3)).unwrap();
    proxy.set("PutLogEvents", Fault::ServerError);
    let mut signed_at = Vec::new();
    for body in &bodies {
        let ts = unix_now();
        let d = zoom.send(body.clone(), Some(ts)).await.unwrap_or_else(|e| panic!("no answer within 3 s: {e} / {}", log()));
        assert_eq!(d.status, 503, "{} / {}", d.body, log());
        signed_at.push(ts);
    }
    assert!(proxy.count("PutLogEvents").1 >= bodies.len() as u64, "every write met the fault");
    proxy.clear();
    // A 500 says nothing about whether the write landed: each claim was left "unknown",
    // holding retries off for the lease, after which each retry looks in the log first.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (body, ts) in bodies.iter().zip(&signed_at) {
        let d = zoom.send(body.clone(), Some(*ts)).await.unwrap();
        assert_eq!(d.status, 200, "{} / {}", d.body, log());
    }
    let d = zoom.send(bodies[0].clone(), Some(signed_at[0])).await.unwrap();
    assert!(d.status == 200 && d.body.contains("duplicate"), "{}", d.body);

    let page = client.filter_log_events().log_group_name(GROUP).send().await.unwrap();
    let ids: Vec<String> = page.events().iter().map(|e| serde_json::from_str::<RecordV1>(e.message().unwrap()).unwrap().id).collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (bodies.len() + 1, bodies.len() + 1), "every event once: {ids:?}");
    assert!(log().contains("503") || log().contains("sink write failed"), "the failure is in the function's log");
    // Every record's claim ended stored.
    let items = ddb.scan().table_name("zoomwatch-claims").send().await.unwrap();
    let states: Vec<&str> = items.items().iter().filter_map(|i| i.get("state").and_then(|v| v.as_s().ok()).map(String::as_str)).collect();
    assert_eq!(states, vec!["stored"; bodies.len() + 1], "{states:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_poller_runs_in_the_lambda_runtime() {
    use zoomwatch_e2e::zoom_api::{CLIENT_SECRET, ZoomStandIn};
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let logs = logs_client(&sdk, Some(Duration::from_secs(5)));
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("zw-state").send().await.unwrap();
    let zoom = ZoomStandIn::start().await;
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let t = |mins: i64| (now - time::Duration::minutes(mins)).format(&time::format_description::well_known::Rfc3339).unwrap();
    zoom.set_report(
        "activities",
        vec![
            serde_json::json!({"email": "helen.park@acme.example", "ip_address": "89.160.20.128", "time": t(30), "type": "Sign in", "client_type": "mac", "version": "6.4"}),
            serde_json::json!({"email": "helen.park@acme.example", "ip_address": "89.160.20.128", "time": t(10), "type": "Sign out", "client_type": "mac", "version": "6.4"}),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let port = tools::free_port();
    let mut env = zoom.env();
    env.extend([
        ("ZOOMWATCH_MODE", "poll".to_owned()),
        ("ZOOMWATCH_POLL_REPORTS", "activities".to_owned()),
        ("ZOOMWATCH_STATE_BUCKET", "zw-state".to_owned()),
    ]);
    let emu = start_emulator_with(&moto, port, dir.path(), &env);
    let log = || std::fs::read_to_string(&emu.log).unwrap_or_default();
    // As EventBridge invokes it: a scheduled event.
    let invoke = || invoke_raw(port, SCHEDULED.into());
    let (status, body) = invoke().await;
    assert_eq!(status, 200, "{body} / {}", log());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body} / {}", log()));
    assert_eq!(v["reports"][0]["written"], 2, "{v}");
    let (status, body) = invoke().await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["reports"][0]["written"], 0, "the cursor in S3: a second run adds nothing ({v})");

    let page = logs.filter_log_events().log_group_name(GROUP).send().await.unwrap();
    let events: Vec<serde_json::Value> = page.events().iter().map(|e| serde_json::from_str(e.message().unwrap()).unwrap()).collect();
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["zoom.report.sign_in", "zoom.report.sign_out"]);
    let streams = logs.describe_log_streams().log_group_name(GROUP).send().await.unwrap();
    assert!(streams.log_streams().iter().all(|s| s.log_stream_name().unwrap_or("").contains("/zoomwatch-poll/")));
    let cursor = s3.get_object().bucket("zw-state").key("poll-cursor.json").send().await.unwrap();
    let cursor = cursor.body.collect().await.unwrap().into_bytes();
    assert!(String::from_utf8_lossy(&cursor).contains("activities"));
    assert!(!log().contains(CLIENT_SECRET), "the client secret never reaches the function's logs");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_watcher_runs_in_the_lambda_runtime() {
    use zoomwatch_log::sink::{CloudWatchSink, Sink};
    use zoomwatch_shared::scenario;
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let logs = logs_client(&sdk, Some(Duration::from_secs(5)));
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("zw-watch-state").send().await.unwrap();
    // Three hours ago the receiver stored the day; nobody had a console open.
    let receiver = CloudWatchSink::new(logs.clone(), GROUP, Duration::from_secs(10));
    receiver.write(zoomwatch_e2e::stored_day(3 * 3600 * 1000)).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zoomwatch.toml");
    std::fs::write(&config, scenario::CONFIG).unwrap();
    let (hook, hook_log) = zoomwatch_e2e::hook::start_hook(1).await;
    let port = tools::free_port();
    let env = [
        ("ZOOMWATCH_MODE", "watch".to_owned()),
        ("ZOOMWATCH_WATCH_BUCKET", "zw-watch-state".to_owned()),
        ("ZOOMWATCH_WATCH_SINCE", "4h".to_owned()),
        ("ZOOMWATCH_CONFIG", config.display().to_string()),
        ("ZOOMWATCH_NOTIFY", "webhook-env:ZOOMWATCH_HOOK".to_owned()),
        ("ZOOMWATCH_HOOK", hook),
    ];
    let emu = start_emulator_with(&moto, port, dir.path(), &env);
    let log = || std::fs::read_to_string(&emu.log).unwrap_or_default();
    let invoke = || async {
        let (status, body) = invoke_raw(port, SCHEDULED.into()).await;
        assert_eq!(status, 200, "{body} / {}", log());
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_else(|e| panic!("{e}: {body} / {}", log()))
    };
    let alert_records = || async {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = logs.filter_log_events().log_group_name(GROUP).set_next_token(token.clone()).send().await.unwrap();
            out.extend(
                page.events()
                    .iter()
                    .map(|e| serde_json::from_str::<serde_json::Value>(e.message().unwrap()).unwrap())
                    .filter(|v| v["event"] == "zoomwatch.alert"),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return out;
            }
        }
    };

    let first = invoke().await;
    assert_eq!((first["resumed"].as_bool(), first["complete"].as_bool()), (Some(false), Some(true)), "{first}");
    let written = alert_records().await;
    assert_eq!(first["written"].as_u64(), Some(written.len() as u64), "{first}");
    let mut above_low: Vec<&str> =
        written.iter().filter(|r| r["alert"]["severity"] != "low").map(|r| r["alert"]["rule"].as_str().unwrap()).collect();
    above_low.sort_unstable();
    assert_eq!(above_low, scenario::expected_alerts(), "{first}");
    let high = written.iter().filter(|r| r["alert"]["severity"] == "high").count();
    assert_eq!(first["notified"].as_u64(), Some(high as u64), "{first}");

    // The same schedule again, and once more after losing the checkpoint: nothing new.
    let second = invoke().await;
    assert_eq!((second["resumed"].as_bool(), second["written"].as_u64()), (Some(true), Some(0)), "{second}");
    s3.delete_object().bucket("zw-watch-state").key("watch-checkpoint.json").send().await.unwrap();
    let third = invoke().await;
    assert_eq!(
        (third["resumed"].as_bool(), third["written"].as_u64(), third["notified"].as_u64()),
        (Some(false), Some(0), Some(0)),
        "{third}"
    );
    assert_eq!(alert_records().await.len(), written.len());
    {
        let hook = hook_log.lock().unwrap();
        assert!(hook.unexpected.is_empty(), "{:?}", hook.unexpected);
        assert_eq!(hook.delivered.len(), high, "one notification per high alert, the refused one retried");
        assert_eq!(hook.requests, high + 1);
    }
    let streams = logs.describe_log_streams().log_group_name(GROUP).send().await.unwrap();
    assert!(streams.log_streams().iter().any(|s| s.log_stream_name().unwrap_or("").contains("/zoomwatch-watch/")));

    // An analyst arriving in the morning reads only the last half hour: the service's
    // alerts are there, each once, though the records they rest on are older.
    let mut tail = Command::new(tools::workspace_bin("zoomwatch"));
    tail.args([
        "tail",
        "--log-group",
        GROUP,
        "--since",
        "30m",
        "--alerts-only",
        "--json",
        "--endpoint-url",
        &moto.url,
        "--region",
        "us-east-1",
    ]);
    for (k, v) in moto.env() {
        tail.env(k, v);
    }
    let out = tail.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let distinct: std::collections::BTreeSet<&str> = written.iter().map(|r| r["alert"]["id"].as_str().unwrap()).collect();
    assert_eq!(lines.len(), distinct.len(), "{lines:#?}");
    assert!(lines.iter().all(|l| l["kind"] == "alert" && distinct.contains(l["id"].as_str().unwrap())));
}

/// A function URL event with no IAM identity: what the broker would get behind a URL
/// with `AuthType: NONE`, or from someone invoking the function directly.
const ANONYMOUS_URL_EVENT: &str = r#"{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"","headers":{"content-type":"application/json"},"requestContext":{"accountId":"anonymous","apiId":"x","domainName":"x.lambda-url.us-east-1.on.aws","domainPrefix":"x","http":{"method":"POST","path":"/","protocol":"HTTP/1.1","sourceIp":"203.0.113.9","userAgent":"curl"},"requestId":"r1","routeKey":"$default","stage":"$default","time":"07/Dec/2026:05:00:00 +0000","timeEpoch":1796446800000},"body":"{\"action\":{\"action\":\"end-meeting\",\"meeting\":\"85746065432\"}}","isBase64Encoded":false}"#;

/// The action broker (`ZOOMWATCH_MODE=broker`) in the Lambda runtime, behind a stand-in
/// for its IAM-authenticated function URL: `zoomwatch act --broker` signs with the
/// analyst's AWS keys and holds no Zoom credentials; the broker names the analyst after
/// the IAM identity (not `--analyst`), writes the intent and the outcome on its own
/// streams, and refuses anyone AWS did not authenticate.
#[tokio::test(flavor = "multi_thread")]
async fn the_action_broker_acts_for_the_iam_identity_and_audits_it_itself() {
    use zoomwatch_e2e::function_url::{FunctionUrl, Identity};
    use zoomwatch_e2e::zoom_api::{CLIENT_SECRET, ZoomStandIn};
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let logs = logs_client(&sdk, Some(Duration::from_secs(5)));
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = tools::free_port();
    let mut env = zoom.env();
    env.push(("ZOOMWATCH_MODE", "broker".to_owned()));
    let emu = start_emulator_with(&moto, port, dir.path(), &env);
    let log = || std::fs::read_to_string(&emu.log).unwrap_or_default();

    // Invoked directly, or behind a URL without IAM auth: no identity, refused (this
    // first invocation also waits for the function to be built).
    let (status, body) = invoke_raw(port, ANONYMOUS_URL_EVENT.into()).await;
    assert_eq!(status, 200, "{body} / {}", log());
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body} / {}", log()));
    assert_eq!(answer["statusCode"], 403, "{answer}");
    assert!(zoom.calls().is_empty(), "nothing reached Zoom for a caller nobody authenticated");

    let ana = Identity::user("ana");
    let front = FunctionUrl::start(port, "zoomwatch-ingest", "us-east-1", vec![ana.clone()]).await;
    let act = |args: &[&str], who: &Identity| {
        let mut cmd = Command::new(tools::workspace_bin("zoomwatch"));
        cmd.arg("act")
            .args(args)
            .args(["--broker", &front.url, "--yes", "--json"])
            .env("AWS_ACCESS_KEY_ID", &who.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &who.secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::null());
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "ZOOMWATCH_AUDIT",
            "ZOOM_CREDENTIALS_FILE",
            "ZOOM_CREDENTIALS_SECRET",
            "ZOOM_CLIENT_SECRET",
        ] {
            cmd.env_remove(var);
        }
        async move { tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap() }
    };

    // ana ends a meeting, claiming to be bob: the trail says ana, from her IAM identity.
    let out = act(&["end-meeting", "85746065432", "--reason", "INC-7", "--analyst", "bob"], &ana).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}{} / {}", String::from_utf8_lossy(&out.stderr), log());
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (v["outcome"].as_str(), v["analyst"].as_str(), v["principal"].as_str()),
        (Some("succeeded"), Some("ana"), Some(ana.arn.as_str()))
    );
    let calls = zoom.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].method.as_str(), calls[0].path.as_str()), ("PUT", "/meetings/85746065432/status"));

    // A dry run is audited too, and calls nothing.
    let out = act(&["deactivate-user", "jdoe@example.com", "--dry-run"], &ana).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(zoom.calls().len(), 1);

    // Someone AWS does not know (a wrong key), an unsigned request, a request with a
    // name of its own, a target that walks Zoom's URL: refused, nothing reaches Zoom.
    let mallory = Identity::user("mallory");
    let out = act(&["sign-out-user", "ceo@example.com"], &mallory).await;
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 403"), "{}", String::from_utf8_lossy(&out.stderr));
    let http = reqwest::Client::new();
    let body = r#"{"action":{"action":"sign-out-user","user":"ceo@example.com"}}"#;
    let r = http.post(&front.url).header("content-type", "application/json").body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let signed = |body: &str| {
        let url = reqwest::Url::parse(&front.url).unwrap();
        let creds = aws_credential_types::Credentials::new(&ana.access_key, &ana.secret, None, None, "test");
        let headers = zoomwatch_log::broker::sign(&url, "us-east-1", &creds, body.as_bytes(), std::time::SystemTime::now()).unwrap();
        let mut rb = http.post(url).header("content-type", "application/json").body(body.to_owned());
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        rb.send()
    };
    let r = signed(r#"{"action":{"action":"end-meeting","meeting":"85746065432"},"analyst":"bob"}"#).await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "a request cannot name its analyst");
    let r = signed(r#"{"action":{"action":"sign-out-user","user":"."}}"#).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["outcome"], "refused", "{v}");
    assert_eq!(zoom.calls().len(), 1, "none of these reached Zoom: {:?}", zoom.calls());
    assert!(front.refused().len() >= 2, "{:?}", front.refused());

    // The trail: on the broker's own streams, each action's intent then its outcome, in
    // ana's name with her ARN; readers believe them there.
    let page = logs.filter_log_events().log_group_name(GROUP).send().await.unwrap();
    let mut trail = Vec::new();
    for e in page.events() {
        let r: RecordV1 = serde_json::from_str(e.message().unwrap()).unwrap();
        let stream = e.log_stream_name();
        assert!(stream.unwrap_or("").contains("/zoomwatch-broker/"), "{stream:?}");
        assert!(zoomwatch_log::source::cloudwatch::belongs_record(stream, &r), "{stream:?} {r:?}");
        let resp = r.response.clone().unwrap();
        assert_eq!((resp.analyst.as_str(), resp.principal.as_deref()), ("ana", Some(ana.arn.as_str())));
        trail.push((r.action.clone(), resp.outcome.map(|o| o.as_str()), resp.reason, r.id.clone(), resp.intent));
    }
    let kinds: Vec<(&str, Option<&str>)> = trail.iter().map(|t| (t.0.as_str(), t.1)).collect();
    assert_eq!(
        kinds,
        [
            ("end-meeting", Some("pending")),
            ("end-meeting", Some("succeeded")),
            ("deactivate-user", Some("dry_run")),
            ("sign-out-user", Some("refused"))
        ],
        "{trail:?}"
    );
    assert_eq!(trail[1].4.as_deref(), Some(trail[0].3.as_str()), "the outcome names its intent");
    assert_eq!(trail[1].2.as_deref(), Some("INC-7"));
    assert!(!log().contains(CLIENT_SECRET), "the client secret never reaches the function's logs");
}
