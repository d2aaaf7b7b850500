//! The admin plane as an operator uses it: `zoomwatch posture` reading an account's and
//! its groups' settings from the strict stand-in for Zoom's API (split into Zoom's
//! views), printing the failing controls, writing a `zoomwatch.posture` record and
//! exiting 1; `zoomwatch act revert-setting` sending exactly one setting back, audited;
//! and a settings webhook that turns the waiting room off raising `policy-drift`
//! through the real receiver.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use zoomwatch_e2e::zoom_api::ZoomStandIn;

/// An account with the waiting room off, file transfer on and screen sharing open to
/// everyone; the rest as a careful admin leaves it.
fn weak_account() -> Value {
    json!({
        "meeting_security": {"waiting_room": false, "auto_security": true, "meeting_password": true, "pmi_password": true,
            "phone_password": true, "embed_password_in_join_link": false, "only_authenticated_can_join_from_webclient": true,
            "meeting_password_requirement": {"length": 8, "have_letter": true, "have_number": true, "have_special_character": true,
                "have_upper_and_lower_characters": true, "consecutive_characters_length": 4, "weak_enhance_detection": true, "only_allow_numeric": false}},
        "meeting_authentication": true,
        "schedule_meeting": {"join_before_host": false, "require_password_for_scheduling_new_meetings": true},
        "in_meeting": {"file_transfer": true, "remote_control": false, "who_can_share_screen": "all", "annotation": false},
        "recording": {"cloud_recording_download": false},
        "security": {"password_requirement": {"minimum_password_length": 10, "have_special_character": true}}
    })
}

fn zoomwatch(zoom: &ZoomStandIn, args: &[&str]) -> Output {
    zoom.zoomwatch(args)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).expect("JSON lines")).collect()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn posture_prints_the_failing_controls_writes_a_record_and_exits_non_zero() {
    let zoom = ZoomStandIn::start().await;
    zoom.set_settings("account", "", weak_account());
    zoom.set_locks(json!({"meeting_security": {"waiting_room": false}, "in_meeting": {"file_transfer": false}}));
    zoom.set_settings("group:gRp-Contractors-7", "Contractors", json!({"in_meeting": {"waiting_room": true, "remote_control": true}}));
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("events.jsonl");

    let out = zoomwatch(&zoom, &["posture", "--to", &format!("file:{}", out_file.display())]);
    let shown = text(&out);
    println!("{shown}"); // the README's example is this output (`-- --nocapture`)
    assert_eq!(out.status.code(), Some(1), "{shown}");
    for want in [
        "meeting_security.waiting_room",
        "1.1.1.2",
        "in_meeting.file_transfer",
        "1.1.3.3.1",
        "in_meeting.who_can_share_screen",
        "in_meeting.remote_control",
        "group Contractors",
    ] {
        assert!(shown.contains(want), "{want} missing from:\n{shown}");
    }
    assert!(!shown.contains("in_meeting.annotation"), "passing controls are not listed without --all:\n{shown}");
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());
    // Every view read, exactly as Zoom splits them.
    let reads: Vec<String> = zoom.calls().iter().map(|c| format!("{} {}?{}", c.method, c.path, c.query)).collect();
    for want in [
        "GET /accounts/me/settings?",
        "GET /accounts/me/settings?option=meeting_security",
        "GET /accounts/me/settings?option=meeting_authentication",
        "GET /accounts/me/lock_settings?",
        "GET /accounts/me/lock_settings?option=meeting_security",
        "GET /groups?page_size=300",
        "GET /groups/gRp-Contractors-7/settings?option=meeting_security",
    ] {
        assert!(reads.iter().any(|r| r == want), "{want} not in {reads:#?}");
    }
    assert!(reads.iter().all(|r| r.starts_with("GET ")), "posture only reads: {reads:?}");

    let records = lines(&out_file);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r["event"].as_str(), r["schema"].as_str()), (Some("zoomwatch.posture"), Some("zoomwatch.v1")));
    let failing: Vec<(&str, &str)> =
        r["raw"]["failing"].as_array().unwrap().iter().map(|f| (f["control"].as_str().unwrap(), f["scope"].as_str().unwrap())).collect();
    assert!(failing.contains(&("meeting_security.waiting_room", "account")), "{failing:?}");
    assert!(failing.contains(&("in_meeting.remote_control", "group Contractors (gRp-Contractors-7)")), "{failing:?}");
    assert!(!failing.iter().any(|(c, s)| *c == "meeting_security.waiting_room" && s.contains("Contractors")), "the group keeps it on");
    assert!(r["raw"]["score"].as_u64().unwrap() < 100);

    // --json for scripts; the same verdict.
    let out = zoomwatch(&zoom, &["posture", "--json", "--no-groups"]);
    assert_eq!(out.status.code(), Some(1));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(j["failing"].as_array().unwrap().iter().any(|f| f["control"] == "in_meeting.file_transfer" && f["cis"][0] == "1.1.3.3.1"));
    assert_eq!(j["failing"][0]["severity"], "high", "worst first");

    // Waived in zoomwatch.toml, per account and per group: what remains fails.
    let cfg = dir.path().join("zoomwatch.toml");
    std::fs::write(&cfg, "[policy]\nwaive = [\"1.1.3.3.1\", \"in_meeting.who_can_share_screen\"]\n[policy.groups.Contractors]\nwaive = [\"remote control\"]\n").unwrap();
    let out = zoomwatch(&zoom, &["posture", "--json", "--config", cfg.to_str().unwrap()]);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let controls: Vec<&str> = j["failing"].as_array().unwrap().iter().map(|f| f["control"].as_str().unwrap()).collect();
    assert!(controls.contains(&"meeting_security.waiting_room"), "{controls:?}");
    assert!(
        !controls.iter().any(|c| ["in_meeting.file_transfer", "in_meeting.who_can_share_screen", "in_meeting.remote_control"].contains(c)),
        "{controls:?}"
    );

    // The account made compliant: exit 0.
    let mut good = weak_account();
    good["meeting_security"]["waiting_room"] = json!(true);
    good["in_meeting"]["file_transfer"] = json!(false);
    good["in_meeting"]["who_can_share_screen"] = json!("host");
    zoom.set_settings("account", "", good);
    let out = zoomwatch(&zoom, &["posture", "--no-groups"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn posture_says_when_the_settings_cannot_be_read() {
    let zoom = ZoomStandIn::start().await;
    zoom.push(zoomwatch_e2e::zoom_api::Fault::Answer(
        400,
        json!({"code": 4711, "message": "Invalid access token, does not contain scopes:[account:read:settings:admin]"}),
        vec![],
    ));
    let out = zoomwatch(&zoom, &["posture"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("account:read:settings:admin"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn revert_setting_patches_exactly_that_setting_back_and_is_audited() {
    let zoom = ZoomStandIn::start().await;
    zoom.set_settings("account", "", weak_account());
    zoom.set_settings("group:gRp-Contractors-7", "Contractors", json!({"in_meeting": {"waiting_room": true, "file_transfer": true}}));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("events.jsonl");
    let audit_arg = format!("file:{}", audit.display());
    let act = |args: &[&str]| {
        let mut all = vec!["act"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--yes", "--audit", &audit_arg, "--analyst", "ana.lyst", "--reason", "INC-7"]);
        zoomwatch(&zoom, &all)
    };

    let out = act(&["revert-setting", "account", "meeting_security.waiting_room"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let calls = zoom.calls();
    let patch: Vec<_> = calls.iter().filter(|c| c.method == "PATCH").collect();
    assert_eq!(patch.len(), 1, "{calls:?}");
    assert_eq!(
        (patch[0].path.as_str(), patch[0].query.as_str(), patch[0].body.clone()),
        ("/accounts/me/settings", "option=meeting_security", Some(json!({"meeting_security": {"waiting_room": true}})))
    );
    assert_eq!(zoom.settings("account").unwrap()["meeting_security"]["waiting_room"], true);
    let mut expected = weak_account();
    expected["meeting_security"]["waiting_room"] = json!(true);
    assert_eq!(zoom.settings("account").unwrap(), expected, "nothing else changed");

    // A group, by CIS id; then the authentication flag with its own option.
    assert_eq!(act(&["revert-setting", "group:gRp-Contractors-7", "1.1.3.3.1"]).status.code(), Some(0));
    assert_eq!(zoom.settings("group:gRp-Contractors-7").unwrap()["in_meeting"]["file_transfer"], false);
    let mut acct = zoom.settings("account").unwrap();
    acct["meeting_authentication"] = json!(false);
    zoom.set_settings("account", "", acct);
    assert_eq!(act(&["revert-setting", "account", "meeting_authentication"]).status.code(), Some(0));
    let last = zoom.calls().into_iter().rev().find(|c| c.method == "PATCH").unwrap();
    assert_eq!((last.query.as_str(), last.body), ("option=meeting_authentication", Some(json!({"meeting_authentication": true}))));
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());

    // Each revert: its intent (`pending`, written before the PATCH), then its outcome.
    let audited = lines(&audit);
    assert_eq!(audited.len(), 6);
    assert_eq!(audited[0]["response"]["outcome"], "pending");
    assert_eq!(audited[1]["response"]["intent"], audited[0]["id"]);
    let first = &audited[1];
    assert_eq!((first["event"].as_str(), first["action"].as_str()), (Some("zoomwatch.action"), Some("revert-setting")));
    assert_eq!(first["response"]["outcome"], "succeeded");
    assert_eq!(first["response"]["call"]["body"], json!({"meeting_security": {"waiting_room": true}}));
    assert_eq!(first["response"]["reason"], "INC-7");

    // What cannot be reverted says why and calls nothing.
    let before = zoom.calls().len();
    let out = act(&["revert-setting", "account", "Allow users to sign in with Google"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("web portal"), "{}", text(&out));
    let out = act(&["revert-setting", "group:gRp-Contractors-7", "security.password_requirement.minimum_password_length"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = act(&["revert-setting", "user:u1", "meeting_security.waiting_room"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(zoom.calls().len(), before);

    // A dry run shows the body and is audited as one.
    let out = act(&["revert-setting", "account", "in_meeting.file_transfer", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("{\"in_meeting\":{\"file_transfer\":false}}"), "{}", text(&out));
    assert_eq!(zoom.calls().len(), before);
    assert_eq!(lines(&audit).last().unwrap()["response"]["outcome"], "dry_run");
}
