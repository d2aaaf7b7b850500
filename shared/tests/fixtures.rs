//! Every real-shaped Zoom body in `testdata/zoom` (see its SOURCES.md) must parse and
//! normalize, with Zoom's quirks absorbed and no secret left in the record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::{Category, Envelope, Received, SCHEMA, normalize};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoom")
}

fn load(name: &str) -> RecordV1 {
    let body = std::fs::read(dir().join(name)).unwrap();
    let env = Envelope::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    normalize(env, &Received { received_at_ms: 1_800_000_000_000, request: None })
}

fn all_fixtures() -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.ends_with(".json")).collect();
    names.sort();
    names
}

#[test]
fn every_fixture_normalizes_and_round_trips() {
    let names = all_fixtures();
    assert!(names.len() >= 60, "fixtures missing: {}", names.len());
    for name in names {
        let r = load(&name);
        assert_eq!(r.schema, SCHEMA);
        assert_eq!(r.id.len(), 32, "{name}");
        assert_eq!(r.event, name.split("__").next().unwrap().trim_end_matches(".json"), "{name}");
        assert!(r.occurred_at.ends_with('Z') && r.occurred_at.len() == 24, "{name}: {}", r.occurred_at);
        assert!(r.raw.value().is_object(), "{name}");
        let line = serde_json::to_string(&r).unwrap();
        let back: RecordV1 = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r, "{name}: record does not round-trip");
        assert_ne!(r.category, Category::Other, "{name}: every fixture is a known event type");
    }
}

#[test]
fn no_secret_survives_normalization() {
    let secrets = [
        "PaSsWoRd",
        "c21EQzg0SXY2dlNTOFF2TENpSm1aQT09",
        "yNYIS408EJygs7rE5vVsJwXIz4-VW7MH",
        "ABCDEFG12345HIJ6789",
        "abJhbGciOiJIUzUxMiJ9",
        "XYz@BC!D1087",
        "\"132456\"",
    ];
    for name in all_fixtures() {
        let line = serde_json::to_string(&load(&name)).unwrap();
        for s in secrets {
            assert!(!line.contains(s), "{name} still contains {s}");
        }
    }
}

#[test]
fn meeting_id_is_a_string_whether_zoom_sent_a_number_or_not() {
    let numeric = load("meeting.created.json");
    assert_eq!(numeric.meeting.as_ref().unwrap().id.as_deref(), Some("1234567890"));
    let string = load("meeting.started.json");
    assert_eq!(string.meeting.as_ref().unwrap().id.as_deref(), Some("81234567890"));
    assert_eq!(string.occurred_at, "2025-06-04T19:11:50.000Z", "started → start_time");
}

#[test]
fn guest_with_empty_ids_and_undocumented_ips() {
    let r = load("meeting.participant_left__guest_real.json");
    assert_eq!(r.category, Category::Participant);
    assert_eq!(r.action, "left");
    let p = r.participant.unwrap();
    assert!(p.guest);
    assert_eq!(p.zoom_user_id, None);
    assert_eq!(p.email, None, "empty email is absent, not \"\"");
    assert_eq!(p.user_id.as_deref(), Some("16778240"));
    assert_eq!(p.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(p.private_ip.as_deref(), Some("10.102.199.170"));
    assert_eq!(r.occurred_at, "2025-06-04T19:13:05.000Z", "leave_time, not event_ts");
    assert_eq!(r.meeting.unwrap().uuid.as_deref(), Some("Rk3xQw7dT9uLmNpZq2vYsA=="));
}

#[test]
fn signed_in_participant() {
    let r = load("meeting.participant_joined.json");
    let p = r.participant.unwrap();
    assert!(!p.guest);
    assert_eq!(p.zoom_user_id.as_deref(), Some("iFxeBPYun6SAiWUzBcEkX"));
    assert_eq!(p.email.as_deref(), Some("jchill@example.com"));
    assert_eq!(r.occurred_at, "2021-07-13T21:44:51.000Z");
    assert_eq!(r.event_ts, Some(1_626_230_691_572));
    assert_eq!(r.account_id.as_deref(), Some("AAAAAABBBB"));
}

#[test]
fn leave_reason_html_is_flattened() {
    let p = load("meeting.participant_left.json").participant.unwrap();
    assert_eq!(p.leave_reason.as_deref(), Some("Jill Chill left the meeting. Reason: Host ended the meeting."));
}

#[test]
fn updated_events_list_changes_with_nested_paths() {
    let r = load("meeting.updated__settings_old_object.json");
    let find = |path: &str| r.changes.iter().find(|c| c.path == path).unwrap_or_else(|| panic!("no change {path}: {:?}", r.changes));
    assert_eq!(
        (find("settings.join_before_host").old.clone(), find("settings.join_before_host").new.clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    assert_eq!(find("type").new, Value::from(2));
    assert_eq!(r.actor.as_ref().unwrap().email.as_deref(), Some("someemail@email.com"));
    assert_eq!(r.occurred_at, "2019-07-10T20:52:33.209Z", "time_stamp");

    let e2e = load("account.settings_updated__e2e_encryption.json");
    assert_eq!(e2e.category, Category::Admin);
    assert_eq!(e2e.changes.len(), 1);
    assert_eq!(e2e.changes[0].path, "settings.in_meeting.e2e_encryption");

    let auth = load("user.settings_updated__meeting_auth_disabled.json");
    assert_eq!(auth.changes[0].path, "settings.meeting_authentication");
    assert_eq!(auth.changes[0].new, Value::Bool(false));
    assert_eq!(auth.target_user.unwrap().id.as_deref(), Some("fdhjfdhsj536274gfd"));
}

#[test]
fn role_change_is_a_change() {
    let r = load("meeting.participant_role_changed.json");
    assert_eq!(r.action, "role_changed");
    assert_eq!(r.changes[0].path, "participant.role");
    assert_eq!(r.changes[0].new, "host");
    assert_eq!(r.meeting.unwrap().uuid.as_deref(), Some("gsqg0HKxTQ2TxSVAxE9+0w=="));
}

#[test]
fn auth_and_admin_blocks() {
    let r = load("user.signed_in.json");
    assert_eq!(r.category, Category::Auth);
    assert_eq!(r.actor.unwrap().email.as_deref(), Some("jchill@example.com"));
    assert_eq!(r.raw.value()["object"]["login_type"], "100", "login_type kept as sent");

    let g = load("group.admin_added.json");
    let t = g.target_user.unwrap();
    assert_eq!(t.email.as_deref(), Some("jchill@example.com"));
    assert_eq!(t.role.as_deref(), Some("group_admin"));
    assert_eq!(g.actor.unwrap().email.as_deref(), Some("admin@example.com"));

    let u = load("user.created.json");
    assert_eq!(u.target_user.unwrap().name.as_deref(), Some("Jill Chill"));
}

#[test]
fn passcode_presence_is_visible_after_redaction() {
    let r = load("meeting.created.json");
    assert_eq!(r.raw.value()["object"]["password"], "[REDACTED]");
    assert_eq!(r.raw.value()["object"]["join_url"], "https://zoom.us/j/98884753832?pwd=[REDACTED]");
}

#[test]
fn zoom_retries_get_the_same_id_and_different_events_do_not() {
    let a = load("meeting.participant_joined.json");
    let b = load("meeting.participant_joined.json");
    assert_eq!(a.id, b.id);
    let ids: std::collections::HashSet<String> = all_fixtures().iter().map(|n| load(n).id).collect();
    // The two meeting.updated fixtures etc. are distinct events: every fixture is unique.
    assert_eq!(ids.len(), all_fixtures().len());
}

#[test]
fn unknown_events_are_kept() {
    let body = br#"{"event":"phone.callee_ringing","event_ts":1,"payload":{"account_id":"A","object":{"id":"x"}}}"#;
    let r = normalize(Envelope::parse(body).unwrap(), &Received::default());
    assert_eq!(r.category, Category::Other);
    assert_eq!(r.raw.value()["object"]["id"], "x");
}

#[test]
fn unicode_topics_survive() {
    let r = load("meeting.started__unicode_escapes_signed.json");
    let topic = r.meeting.unwrap().topic.unwrap();
    assert!(topic.contains('🚒') && topic.contains('’'), "{topic}");
}
