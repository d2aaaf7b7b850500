//! `zoomwatch act` with its AWS parts against moto: the audit record on the log group's
//! own response stream (which the template's analyst policy is limited to), a missing
//! log group refused before Zoom is called, and credentials from Secrets Manager.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::tools;
use zoomwatch_e2e::zoom_api::{ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, ZoomStandIn};

const GROUP: &str = "/zoomwatch/events";

fn act(moto: &Moto, env: &[(&'static str, String)], args: &[&str]) -> Output {
    let out = Command::new(tools::workspace_bin("zoomwatch"))
        .arg("act")
        .args(args)
        .envs(moto.env())
        .envs(env.iter().cloned())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(CLIENT_SECRET), "{all}");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_record_lands_on_the_response_stream() {
    let moto = Moto::start();
    let zoom = ZoomStandIn::start().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();

    let out = act(
        &moto,
        &zoom.env(),
        &["end-meeting", "84512345678", "--yes", "--json", "--log-group", GROUP, "--reason", "INC-7", "--analyst", "ana"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["audit"], format!("cloudwatch:{GROUP}"));

    let streams = logs.describe_log_streams().log_group_name(GROUP).send().await.unwrap();
    let names: Vec<String> = streams.log_streams().iter().filter_map(|s| s.log_stream_name().map(str::to_owned)).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // The analyst's own stream: the template's policy lets only IAM user ana write it.
    assert!(names[0].contains("/zoomwatch-response/ana/"), "{names:?}");
    assert_eq!(
        zoomwatch_log::source::cloudwatch::owner(Some(&names[0])),
        zoomwatch_log::source::cloudwatch::StreamOwner::Response { analyst: Some("ana") }
    );
    let events = logs.filter_log_events().log_group_name(GROUP).send().await.unwrap();
    let msgs: Vec<Value> = events.events().iter().map(|e| serde_json::from_str(e.message().unwrap()).unwrap()).collect();
    // The intent, written before Zoom was called, then the outcome naming it.
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["response"]["outcome"], "pending");
    assert_eq!(msgs[1]["event"], "zoomwatch.action");
    assert_eq!(msgs[1]["id"], j["record_id"]);
    assert_eq!(msgs[1]["response"]["intent"], msgs[0]["id"]);
    assert_eq!(msgs[1]["response"]["reason"], "INC-7");
    assert_eq!(msgs[1]["response"]["analyst"], "ana");
    assert_eq!(zoom.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_analyst_name_that_cannot_name_a_stream_is_refused_before_zoom_is_called() {
    let moto = Moto::start();
    let zoom = ZoomStandIn::start().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let out = act(&moto, &zoom.env(), &["end-meeting", "84512345678", "--yes", "--log-group", GROUP, "--analyst", "bob/../ana"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IAM user name") && err.contains("--analyst"), "{err}");
    assert!(zoom.calls().is_empty() && zoom.token_requests() == 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_log_group_stops_the_action_before_zoom_is_called() {
    let moto = Moto::start();
    let zoom = ZoomStandIn::start().await;
    let out = act(&moto, &zoom.env(), &["deactivate-user", "u1", "--yes", "--log-group", "/nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log group /nope does not exist") && err.contains("nothing was done"), "{err}");
    assert!(zoom.calls().is_empty() && zoom.token_requests() == 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_from_secrets_manager() {
    let moto = Moto::start();
    let zoom = ZoomStandIn::start().await;
    let sm = aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await);
    let secret = serde_json::json!({"account_id": ACCOUNT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).to_string();
    sm.create_secret().name("zoomwatch/zoom-api").secret_string(secret).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = format!("file:{}", dir.path().join("a.jsonl").display());
    let env = [
        ("ZOOM_API_URL", zoom.api_url()),
        ("ZOOM_OAUTH_URL", zoom.oauth_url()),
        ("ZOOM_CREDENTIALS_SECRET", "zoomwatch/zoom-api".to_owned()),
    ];
    let out = act(&moto, &env, &["sign-out-user", "u1", "--yes", "--audit", &audit]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(zoom.token_requests(), 1);

    let env = [("ZOOM_CREDENTIALS_SECRET", "zoomwatch/absent".to_owned())];
    let out = act(&moto, &env, &["sign-out-user", "u1", "--yes", "--audit", &audit]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Secrets Manager secret zoomwatch/absent") && err.contains("ResourceNotFoundException"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
