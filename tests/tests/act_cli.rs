//! `zoomwatch act …` as a SOAR script or an analyst runs it: the real binary against
//! the strict stand-in for Zoom's API. Each action must make exactly its documented
//! call with a bearer token obtained by Basic-auth S2S, survive an expired token and
//! rate limits, name a missing scope, refuse without confirmation, call nothing on a
//! dry run, audit every action, and never print the client secret.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use zoomwatch_e2e::tools;
use zoomwatch_e2e::zoom_api::{CLIENT_SECRET, Call, Fault, ZoomStandIn};

fn act(zoom: &ZoomStandIn, audit: &Path, args: &[&str]) -> Output {
    let audit = format!("file:{}", audit.display());
    let mut all = vec!["act"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--audit", &audit, "--analyst", "ana.lyst"]);
    zoom.zoomwatch(&all)
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Every audit record, intents (`pending`, written before Zoom is called) included.
fn all_records(audit: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(audit).unwrap_or_default();
    assert!(!text.contains(CLIENT_SECRET), "the client secret reached the audit file");
    text.lines().map(|l| serde_json::from_str(l).expect("audit lines are JSON")).collect()
}

/// The outcome records; each one that called Zoom names its intent, written just before.
fn records(audit: &Path) -> Vec<Value> {
    let all = all_records(audit);
    for (i, r) in all.iter().enumerate() {
        if let Some(intent) = r["response"]["intent"].as_str() {
            assert!(i > 0 && all[i - 1]["id"] == intent && all[i - 1]["response"]["outcome"] == "pending", "{r}");
        }
    }
    all.into_iter().filter(|r| r["response"]["outcome"] != "pending").collect()
}

fn call(method: &str, path: &str, body: Option<Value>) -> Call {
    Call { method: method.into(), path: path.into(), query: String::new(), body }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_action_makes_exactly_its_documented_call_and_is_audited() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("events.jsonl");
    let cases: Vec<(Vec<&str>, Call)> = vec![
        (vec!["end-meeting", "84512345678"], call("PUT", "/meetings/84512345678/status", Some(json!({"action": "end"})))),
        (
            vec!["harden-meeting", "84512345678", "--require-auth", "--passcode", "N3w-pass"],
            call(
                "PATCH",
                "/meetings/84512345678",
                Some(
                    json!({"settings": {"waiting_room": true, "join_before_host": false, "meeting_authentication": true}, "password": "N3w-pass"}),
                ),
            ),
        ),
        (
            // A UUID with `//` is double-encoded.
            vec!["remove-participant", "aLlH4nds//Q3+2026==", "67C1A429-1476"],
            call(
                "PATCH",
                "/live_meetings/aLlH4nds%252F%252FQ3%252B2026%253D%253D/events",
                Some(json!({"method": "participant.remove", "params": {"participant_uuid": "67C1A429-1476"}})),
            ),
        ),
        (
            vec!["deny-registrant", "84512345678", "jdoe@freemail.example"],
            call(
                "PUT",
                "/meetings/84512345678/registrants/status",
                Some(json!({"action": "deny", "registrants": [{"email": "jdoe@freemail.example"}]})),
            ),
        ),
        (
            vec!["deactivate-user", "helen.park@acme.example"],
            call("PUT", "/users/helen.park%40acme.example/status", Some(json!({"action": "deactivate"}))),
        ),
        (vec!["sign-out-user", "hPk8-Usr-0017AbCdEfGh"], call("DELETE", "/users/hPk8-Usr-0017AbCdEfGh/token", None)),
    ];
    for (i, (args, want)) in cases.iter().enumerate() {
        let mut a = args.clone();
        a.extend(["--yes", "--json", "--reason", "INC-42"]);
        let out = act(&zoom, &audit, &a);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        let j = stdout_json(&out);
        assert_eq!(j["ok"], true, "{j}");
        assert_eq!(j["outcome"], "succeeded");
        assert_eq!(zoom.calls().last(), Some(want), "{args:?}");
        assert_eq!(zoom.calls().len(), i + 1, "one call per action");
    }
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());
    // One process, one token.
    assert_eq!(zoom.token_requests(), cases.len());
    let recs = records(&audit);
    assert_eq!(recs.len(), cases.len(), "one zoomwatch.action record per action");
    for (r, (args, _)) in recs.iter().zip(&cases) {
        assert_eq!(r["event"], "zoomwatch.action");
        assert_eq!(r["action"], args[0]);
        assert_eq!(r["response"]["outcome"], "succeeded");
        assert_eq!(r["response"]["analyst"], "ana.lyst");
        assert_eq!(r["response"]["reason"], "INC-42");
    }
    // The new passcode is sent to Zoom but never printed or stored.
    assert_eq!(recs[1]["response"]["call"]["body"]["password"], "<redacted>");
    assert!(!std::fs::read_to_string(&audit).unwrap().contains("N3w-pass"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_fetched_again_once() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    zoom.push(Fault::ExpireToken);
    let out = act(&zoom, &audit, &["end-meeting", "1", "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(zoom.token_requests(), 2);
    assert_eq!(zoom.calls().len(), 2, "the call is repeated once with the new token");

    // A token refused again after the refresh: an auth failure, not a loop.
    zoom.push(Fault::ExpireToken);
    zoom.push(Fault::ExpireToken);
    let out = act(&zoom, &audit, &["end-meeting", "1", "--yes"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("freshly issued access token"), "{out:?}");
    assert_eq!(zoom.calls().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_are_waited_out_or_reported() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    let qps = json!({"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."});
    zoom.push(Fault::Answer(429, qps.clone(), vec![("x-ratelimit-type", "QPS".into()), ("retry-after", soon)]));
    zoom.push(Fault::Answer(429, qps, vec![]));
    let out = act(&zoom, &audit, &["sign-out-user", "u1", "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(zoom.calls().len(), 3, "two 429s, then the call succeeds");
    assert!(stderr(&out).contains("rate-limited"), "the wait is shown: {}", stderr(&out));

    // Daily limit: no retry, and the analyst learns when it resets.
    let daily = json!({"code": 429, "message": "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."});
    zoom.push(Fault::Answer(429, daily, vec![("x-ratelimit-type", "Daily-limit".into()), ("retry-after", "2026-12-02T00:00:00Z".into())]));
    let out = act(&zoom, &audit, &["sign-out-user", "u1", "--yes", "--json"]);
    assert_eq!(code(&out), 1);
    assert_eq!(zoom.calls().len(), 4, "a daily limit is not retried");
    let j = stdout_json(&out);
    assert!(j["result"].as_str().unwrap().contains("2026-12-02T00:00:00Z"), "{j}");
    assert_eq!(j["outcome"], "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_say_what_zoom_said_and_what_to_do() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");

    zoom.push(Fault::Answer(
        400,
        json!({"code": 4711, "message": "Invalid access token, does not contain scopes:[user:update:status:admin]."}),
        vec![],
    ));
    let out = act(&zoom, &audit, &["deactivate-user", "u1", "--yes"]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("lacks the scope user:update:status:admin") && text.contains("deactivate-user"), "{text}");

    zoom.start_meeting("84512345678");
    let out = act(&zoom, &audit, &["harden-meeting", "84512345678", "--yes"]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("has started") && text.contains("end-meeting"), "{text}");

    zoom.push(Fault::Answer(503, json!({"code": 503, "message": "Service Unavailable"}), vec![]));
    let out = act(&zoom, &audit, &["end-meeting", "1", "--yes", "--json"]);
    assert_eq!(code(&out), 1);
    let j = stdout_json(&out);
    assert_eq!(j["outcome"], "failed");
    assert!(j["result"].as_str().unwrap().contains("may or may not"), "{j}");

    zoom.push(Fault::Answer(404, json!({"code": 3001, "message": "Meeting 1 is not found or has expired."}), vec![]));
    let out = act(&zoom, &audit, &["end-meeting", "1", "--yes"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("HTTP 404 3001 Meeting 1 is not found"), "{out:?}");

    let outcomes: Vec<String> = records(&audit).iter().map(|r| r["response"]["outcome"].as_str().unwrap().to_owned()).collect();
    assert_eq!(outcomes, ["refused", "refused", "failed", "refused"]);
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_answer_times_out_with_a_clear_message() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    zoom.push(Fault::Delay(Duration::from_secs(5)));
    let out = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["act", "end-meeting", "1", "--yes", "--audit", &format!("file:{}", audit.display())])
        .envs(zoom.env())
        .env("ZOOM_API_TIMEOUT_SECS", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("did not answer end-meeting within 1s"), "{out:?}");
    assert_eq!(records(&audit)[0]["response"]["outcome"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_runs_and_unconfirmed_actions_call_nothing() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let out = act(&zoom, &audit, &["deactivate-user", "helen.park@acme.example", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("PUT /users/helen.park%40acme.example/status {\"action\":\"deactivate\"}"));
    // No terminal, no --yes: refused before anything is called.
    let out = act(&zoom, &audit, &["end-meeting", "1"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(zoom.calls().is_empty() && zoom.token_requests() == 0, "nothing may reach Zoom");
    let recs = records(&audit);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["response"]["outcome"], "dry_run");
}

/// Under cron or in a container `$USER` is often unset: the audit names the account
/// the process runs as, not "unknown".
#[test]
fn without_user_in_the_environment_the_analyst_is_the_accounts_name() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let out = std::process::Command::new(zoomwatch_e2e::tools::workspace_bin("zoomwatch"))
        .args(["act", "deactivate-user", "helen.park@acme.example", "--dry-run", "--audit"])
        .arg(format!("file:{}", audit.display()))
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let analyst = records(&audit)[0]["response"]["analyst"].as_str().unwrap().to_owned();
    let me = String::from_utf8(std::process::Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    assert_eq!(analyst, me.trim());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_give_one_line_without_the_secret() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let out = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["act", "end-meeting", "1", "--yes", "--audit", &format!("file:{}", audit.display())])
        .envs(zoom.env())
        .env("ZOOM_CLIENT_SECRET", "wrong-secret-value-123")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("refused the Server-to-Server credentials: Invalid client_id or client_secret"), "{text}");
    assert!(!text.contains("wrong-secret-value-123") && !stderr(&out).contains("wrong-secret-value-123"));
    assert!(zoom.calls().is_empty());

    // A credentials file others can read is refused.
    let creds = dir.path().join("creds.toml");
    std::fs::write(&creds, format!("account_id = \"a\"\nclient_id = \"b\"\nclient_secret = \"{CLIENT_SECRET}\"\n")).unwrap();
    let out = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["act", "end-meeting", "1", "--yes", "--audit", &format!("file:{}", audit.display()), "--credentials"])
        .arg(&creds)
        .env("ZOOM_API_URL", zoom.api_url())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    #[cfg(unix)]
    {
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    }
    let _ = out;
}

#[tokio::test(flavor = "multi_thread")]
async fn lookups_read_and_do_not_audit() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let out = act(&zoom, &audit, &["show-user", "helen.park@acme.example"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("status active · Licensed · role Member"), "{text}");
    let out = act(&zoom, &audit, &["live-participants", "aLlH4nds/Q3+2026xYz0w=="]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("according to Zoom: 2") && text.contains("zoom raid 2026"), "{text}");
    assert_eq!(zoom.calls()[1].path, "/metrics/meetings/aLlH4nds%2FQ3%2B2026xYz0w%3D%3D/participants");
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());
    assert!(records(&audit).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_in_zoom_answers_does_not_reach_the_terminal() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    zoom.push(Fault::Answer(400, json!({"code": 1, "message": "no\u{1b}]0;owned\u{7} \u{202e}cod\u{200b}e"}), vec![]));
    let out = act(&zoom, &audit, &["end-meeting", "1", "--yes"]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.contains("Zoom refused end-meeting"), "{text}");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' || zoomwatch_shared::text::is_invisible_format(c)), "{text:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_that_would_act_on_something_else_are_refused_before_any_call() {
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("events.jsonl");
    for args in [
        vec!["sign-out-user", ".", "--yes"],
        vec!["deactivate-user", "..", "--yes"],
        vec!["deactivate-user", "me", "--yes"],
        vec!["end-meeting", "..", "--yes"],
        vec!["remove-participant", "84512345678", "../token", "--yes"],
    ] {
        let out = act(&zoom, &audit, &args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("nothing was done"), "{args:?}: {}", stderr(&out));
    }
    assert!(zoom.calls().is_empty() && zoom.token_requests() == 0, "{:?}", zoom.calls());
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_call_an_action_still_leaves_its_intent() {
    let zoom = ZoomStandIn::start().await;
    zoom.push(Fault::Delay(Duration::from_secs(30)));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("events.jsonl");
    let mut child = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["act", "end-meeting", "84512345678", "--yes", "--reason", "raid"])
        .args(["--audit", &format!("file:{}", audit.display()), "--analyst", "ana.lyst"])
        .envs(zoom.env())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until Zoom has the call in hand, then kill the process hard.
    for _ in 0..200 {
        if !zoom.calls().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(zoom.calls().len(), 1, "the call reached Zoom");
    child.kill().unwrap();
    child.wait().unwrap();
    let recs = all_records(&audit);
    assert_eq!(recs.len(), 1, "{recs:?}");
    let r = &recs[0]["response"];
    assert_eq!((r["outcome"].as_str(), r["analyst"].as_str()), (Some("pending"), Some("ana.lyst")));
    assert_eq!(r["call"]["path"], "/meetings/84512345678/status");

    // Run to the end, the outcome names its intent.
    let out = act(&zoom, &audit, &["end-meeting", "84512345678", "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let recs = all_records(&audit);
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1]["response"]["outcome"], "pending");
    assert_eq!(recs[2]["response"]["outcome"], "succeeded");
    assert_eq!(recs[2]["response"]["intent"], recs[1]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_passcode_can_come_from_standard_input() {
    use std::io::Write;
    let zoom = ZoomStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("events.jsonl");
    let mut child = Command::new(tools::workspace_bin("zoomwatch"))
        .args(["act", "harden-meeting", "84512345678", "--passcode-stdin", "--yes"])
        .args(["--audit", &format!("file:{}", audit.display()), "--analyst", "ana.lyst"])
        .envs(zoom.env())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"St4dIn-pass\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let patch = zoom.calls().into_iter().find(|c| c.method == "PATCH").unwrap();
    assert_eq!(patch.body.unwrap()["password"], "St4dIn-pass");
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(!text.contains("St4dIn-pass") && !String::from_utf8_lossy(&out.stdout).contains("St4dIn-pass"));
    // Without --yes it refuses: standard input cannot also confirm.
    let out = act(&zoom, &audit, &["harden-meeting", "84512345678", "--passcode-stdin"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
