//! Every rule must fire where it should and stay quiet where it should not; the scripted
//! account day must raise exactly its planted incidents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

use serde_json::{Value, json};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::roster::Presence;
use zoomwatch_shared::rules::{AlertEvent, Detector, evaluate};
use zoomwatch_shared::scenario::{self, Purpose};
use zoomwatch_shared::{Envelope, Received, normalize};

fn rec_bytes(body: &[u8]) -> RecordV1 {
    normalize(Envelope::parse(body).unwrap(), &Received { received_at_ms: 1_800_000_000_000, request: None })
}

fn fixture(name: &str) -> RecordV1 {
    rec_bytes(&std::fs::read(format!("{}/../testdata/zoom/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap())
}

fn rec(v: Value) -> RecordV1 {
    rec_bytes(&serde_json::to_vec(&v).unwrap())
}

fn cfg(toml: &str) -> Config {
    Config::parse(toml, "test.toml").unwrap()
}

const ORG: &str = "[organization]\ninternal_domains = [\"acme.example\"]\nadmin_operators = [\"it-admin@acme.example\"]\nknown_people = [\"Chief Exec\"]\n[watchlist]\nemails = [\"bad@evil.example\"]\ndomains = [\"evil.example\"]\nips = [\"192.0.2.0/24\"]\nnames = [\"Known Troll\"]\n";

fn rules_fired(r: &RecordV1, c: &Config) -> Vec<String> {
    evaluate(r, c).into_iter().map(|f| f.rule).collect()
}

fn join(topic: &str, name: &str, email: &str, zoom_id: &str, ip: &str, t: &str, uuid: &str) -> RecordV1 {
    join_ts(topic, name, email, zoom_id, ip, t, uuid, 1)
}

#[allow(clippy::too_many_arguments)]
fn join_ts(topic: &str, name: &str, email: &str, zoom_id: &str, ip: &str, t: &str, uuid: &str, ts: i64) -> RecordV1 {
    rec(json!({"event": "meeting.participant_joined", "event_ts": ts, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": uuid, "topic": topic, "host_id": "HOST", "type": 2,
        "participant": {"user_name": name, "email": email, "id": zoom_id, "participant_user_id": zoom_id, "user_id": format!("{ts}"), "public_ip": ip, "join_time": t}}}}))
}

fn left(topic: &str, name: &str, zoom_id: &str, ip: &str, t: &str, uuid: &str, reason: &str, ts: i64) -> RecordV1 {
    rec(json!({"event": "meeting.participant_left", "event_ts": ts, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": uuid, "topic": topic, "host_id": "HOST", "type": 2,
        "participant": {"user_name": name, "email": "", "id": zoom_id, "participant_user_id": zoom_id, "user_id": format!("{ts}"), "public_ip": ip, "leave_time": t, "leave_reason": reason}}}}))
}

// ---- stateless rules -------------------------------------------------------------

#[test]
fn guest_external_and_sensitive_joins() {
    let c = cfg(ORG);
    let guest = fixture("meeting.participant_joined__guest_real.json");
    assert_eq!(rules_fired(&guest, &c), ["guest-join"]);
    let member = join("Weekly sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "u1");
    assert!(rules_fired(&member, &c).is_empty(), "internal join raises nothing");
    let ext = join("Weekly sync", "Jo", "jo@other.example", "Z2", "198.51.100.2", "2026-01-01T10:00:00Z", "u1");
    assert_eq!(rules_fired(&ext, &c), ["external-join"]);
    assert!(rules_fired(&ext, &Config::default()).is_empty(), "external-join is off without internal domains");
    let board_ext = join("Q3 Board Review", "Jo", "jo@other.example", "Z2", "198.51.100.2", "2026-01-01T10:00:00Z", "u1");
    let fired = evaluate(&board_ext, &c);
    let f = fired.iter().find(|f| f.rule == "sensitive-meeting-outsider").unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.reason, "external participant jo@other.example joined \"Q3 Board Review\" (sensitive topic) from 198.51.100.2");
    let board_int = join("Q3 Board Review", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "u1");
    assert!(rules_fired(&board_int, &c).is_empty());
}

#[test]
fn timezone_is_never_used_to_judge_a_participant() {
    let c = cfg(ORG);
    let mut a = join("Weekly sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "u1");
    let base = rules_fired(&a, &c);
    let mut raw = a.raw.value().into_owned();
    raw["object"]["timezone"] = json!("Asia/Pyongyang");
    a.raw = raw.into();
    assert_eq!(rules_fired(&a, &c), base);
}

#[test]
fn suspicious_names_and_watchlist() {
    let c = cfg(ORG);
    for name in ["FREE CRYPTO http://x.example", "a\u{1b}[2Jb", "admin\u{202E}gpj.exe", "xXbomberXx"] {
        let r = join("Sync", name, "", "", "198.51.100.9", "2026-01-01T10:00:00Z", "u1");
        assert!(rules_fired(&r, &c).contains(&"suspicious-display-name".to_owned()), "{name:?}");
        let reason = evaluate(&r, &c).into_iter().find(|f| f.rule == "suspicious-display-name").unwrap().reason;
        assert!(!reason.contains('\u{1b}') && !reason.contains('\u{202E}'), "reason is sanitized: {reason:?}");
    }
    let plain = join("Sync", "Jill Chill", "", "", "198.51.100.9", "2026-01-01T10:00:00Z", "u1");
    assert!(!rules_fired(&plain, &c).contains(&"suspicious-display-name".to_owned()));
    for (name, email, ip) in [
        ("Known  troll", "", "198.51.100.1"),
        ("X", "bad@evil.example", "198.51.100.1"),
        ("X", "y@sub.evil.example", "198.51.100.1"),
        ("X", "", "192.0.2.77"),
    ] {
        let r = join("Sync", name, email, "", ip, "2026-01-01T10:00:00Z", "u1");
        assert!(rules_fired(&r, &c).contains(&"watchlist-hit".to_owned()), "{name} {email} {ip}");
    }
    let signin = fixture("user.signed_in.json");
    assert!(!rules_fired(&signin, &c).contains(&"watchlist-hit".to_owned()));
    let watched = cfg("[watchlist]\nemails = [\"jchill@example.com\"]\n");
    assert_eq!(rules_fired(&signin, &watched), ["watchlist-hit"]);
}

#[test]
fn meeting_rules() {
    let c = Config::default();
    assert!(rules_fired(&fixture("meeting.created.json"), &c).is_empty(), "has a passcode");
    let mut no_pw: Value =
        serde_json::from_slice(&std::fs::read(format!("{}/../testdata/zoom/meeting.created.json", env!("CARGO_MANIFEST_DIR"))).unwrap())
            .unwrap();
    no_pw["payload"]["object"]["password"] = json!("");
    assert_eq!(rules_fired(&rec(no_pw.clone()), &c), ["meeting-no-passcode"]);
    no_pw["payload"]["object"]["topic"] = json!("Vendor call, passcode: 449911");
    no_pw["payload"]["object"]["password"] = json!("x");
    assert_eq!(rules_fired(&rec(no_pw), &c), ["sensitive-topic-info"]);

    assert_eq!(rules_fired(&fixture("meeting.risk_alert.json"), &c), ["meeting-risk-alert"]);
    let live = evaluate(&fixture("meeting.live_streaming_started.json"), &c);
    assert_eq!(live[0].rule, "live-stream-started");
    assert!(!live[0].reason.contains("ABCDEFG12345"), "no stream key in reasons");

    // join_before_host true → false is a tightening: nothing.
    assert!(rules_fired(&fixture("meeting.updated__settings_old_object.json"), &c).is_empty());
    let weakened = rec(
        json!({"event": "meeting.updated", "event_ts": 5, "payload": {"account_id": "A", "operator": "ops@acme.example", "operator_id": "O",
        "object": {"id": 5, "password": "", "settings": {"waiting_room": false, "join_before_host": true}},
        "old_object": {"id": 5, "password": "abc", "settings": {"waiting_room": true, "join_before_host": false}}}}),
    );
    let f = evaluate(&weakened, &c);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, "ops@acme.example weakened meeting 5: passcode removed, join before host on, waiting room off");
}

#[test]
fn admin_rules() {
    let c = cfg(ORG);
    let auth_off = evaluate(&fixture("user.settings_updated__meeting_auth_disabled.json"), &Config::default());
    assert_eq!(auth_off[0].rule, "policy-drift");
    assert!(auth_off[0].reason.contains("(meeting_authentication, CIS 1.1.1.9) in user"), "{}", auth_off[0].reason);
    assert!(auth_off[0].reason.contains("true → false"), "{}", auth_off[0].reason);
    assert!(
        rules_fired(&fixture("account.settings_updated__e2e_encryption.json"), &Config::default()).is_empty(),
        "e2e turned ON is not a weakening"
    );
    let e2e_off = rec(
        json!({"event": "account.settings_updated", "event_ts": 9, "payload": {"account_id": "A", "operator": "it-admin@acme.example",
        "object": {"id": "A", "settings": {"in_meeting": {"e2e_encryption": false}}}, "old_object": {"id": "A", "settings": {"in_meeting": {"e2e_encryption": true}}}}}),
    );
    assert_eq!(rules_fired(&e2e_off, &c), ["policy-drift"]);
    // Waived, it is nobody's concern.
    let waived = Config::parse("[policy]\nwaive = [\"1.1.3.7\"]\n", "test").unwrap();
    assert!(rules_fired(&e2e_off, &waived).is_empty());

    let grant = evaluate(&fixture("group.admin_added.json"), &Config::default());
    assert_eq!(grant[0].rule, "privilege-granted");
    assert_eq!(grant[0].reason, "admin@example.com made jchill@example.com a group admin");
    let role = rec(json!({"event": "user.updated", "event_ts": 3, "payload": {"account_id": "A", "operator": "it-admin@acme.example",
        "object": {"id": "U", "role_name": "Admin"}, "old_object": {"id": "U", "role_name": "Member"}}}));
    assert_eq!(rules_fired(&role, &c), ["privilege-granted"]);
    assert!(rules_fired(&fixture("user.updated.json"), &Config::default()).is_empty(), "email change is not a grant");

    let created = evaluate(&fixture("user.created.json"), &Config::default());
    assert_eq!((created[0].rule.as_str(), created[0].severity), ("user-lifecycle", Severity::Low));
    let created_ext = evaluate(&fixture("user.created.json"), &c);
    let lc = created_ext.iter().find(|f| f.rule == "user-lifecycle").unwrap();
    assert_eq!(lc.severity, Severity::Medium, "external account created");
    assert!(lc.reason.contains("(external domain)"));
    assert!(created_ext.iter().any(|f| f.rule == "unlisted-admin"), "admin@example.com is not a listed admin");
    assert_eq!(rules_fired(&fixture("recording.trashed.json"), &Config::default()), ["recording-deleted"]);
    assert_eq!(
        rules_fired(&rec(json!({"event": "app_deauthorized", "event_ts": 1, "payload": {"account_id": "A"}})), &c),
        ["app-deauthorized"]
    );
    assert!(rules_fired(&fixture("group.member_added.json"), &Config::default()).is_empty());
}

#[test]
fn disabled_and_reweighted_rules() {
    let c = cfg("[rules.guest-join]\nenabled = false\n[rules.meeting-risk-alert]\nseverity = \"low\"\n");
    assert!(rules_fired(&fixture("meeting.participant_joined__guest_real.json"), &c).is_empty());
    assert_eq!(evaluate(&fixture("meeting.risk_alert.json"), &c)[0].severity, Severity::Low);
}

#[test]
fn every_fixture_is_judged_without_panicking() {
    let c = cfg(ORG);
    let mut d = Detector::new(c.clone());
    for e in std::fs::read_dir(format!("{}/../testdata/zoom", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let r = rec_bytes(&std::fs::read(&p).unwrap());
            let _ = evaluate(&r, &c);
            let _ = d.observe(&r);
        }
    }
}

// ---- stateful rules --------------------------------------------------------------

fn raised(events: Vec<AlertEvent>) -> Vec<String> {
    events.into_iter().filter_map(|e| if let AlertEvent::Raised(a) = e { Some(a.rule) } else { None }).collect()
}

fn feed(d: &mut Detector, records: &[RecordV1]) -> Vec<String> {
    records.iter().flat_map(|r| raised(d.observe(r))).collect()
}

#[test]
fn join_burst_counts_outsiders_by_payload_time_and_groups() {
    let mut d = Detector::new(cfg(ORG));
    let mut recs: Vec<RecordV1> = (0..10)
        .map(|i| {
            join_ts("All hands", &format!("guest{i}"), "", "", "203.0.113.5", &format!("2026-01-01T10:00:{:02}Z", i * 3), "AH", 100 + i)
        })
        .collect();
    recs.reverse(); // delivered out of order
    let fired = feed(&mut d, &recs);
    assert_eq!(fired.iter().filter(|r| *r == "join-burst").count(), 1, "{fired:?}");
    assert_eq!(fired.iter().filter(|r| *r == "guest-join").count(), 1, "guest joins group per meeting");

    // Internal people joining fast is an all-hands, not a raid.
    let mut d = Detector::new(cfg(ORG));
    let staff: Vec<RecordV1> = (0..20)
        .map(|i| {
            join_ts(
                "All hands",
                &format!("s{i}"),
                &format!("s{i}@acme.example"),
                &format!("Z{i}"),
                "198.51.100.5",
                "2026-01-01T10:00:00Z",
                "AH",
                i,
            )
        })
        .collect();
    assert!(feed(&mut d, &staff).is_empty());
    // Slow trickle of guests: no burst.
    let mut d = Detector::new(cfg(ORG));
    let slow: Vec<RecordV1> = (0..10)
        .map(|i| join_ts("Office hours", &format!("g{i}"), "", "", "203.0.113.5", &format!("2026-01-01T1{}:00:00Z", i), "OH", i))
        .collect();
    assert!(!feed(&mut d, &slow).contains(&"join-burst".to_owned()));
}

#[test]
fn duplicates_never_alert_twice() {
    let mut d = Detector::new(cfg(ORG));
    let r = fixture("meeting.risk_alert.json");
    assert_eq!(raised(d.observe(&r)), ["meeting-risk-alert"]);
    assert!(d.observe(&r).is_empty());
}

#[test]
fn impersonation_of_the_host() {
    let mut d = Detector::new(cfg(ORG));
    let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", "S1", 1);
    let fake = join_ts("Sync", "morgan  REYES", "", "", "203.0.113.9", "2026-01-01T10:01:00Z", "S1", 2);
    let same = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:02:00Z", "S1", 3);
    assert!(feed(&mut d, &[host]).is_empty());
    assert!(feed(&mut d, &[same]).is_empty(), "the real host rejoining is fine");
    let fired = feed(&mut d, &[fake]);
    assert!(fired.contains(&"display-name-impersonation".to_owned()), "{fired:?}");
    // Known people from the config, without a learned identity.
    let mut d = Detector::new(cfg(ORG));
    let ceo_guest = join_ts("Sync", "Chief Exec", "", "", "203.0.113.9", "2026-01-01T10:01:00Z", "S1", 2);
    assert!(feed(&mut d, &[ceo_guest]).contains(&"display-name-impersonation".to_owned()));
    let ceo_real = join_ts("Sync", "Chief Exec", "ceo@acme.example", "CEO", "198.51.100.3", "2026-01-01T10:01:00Z", "S2", 3);
    assert!(!feed(&mut d, &[ceo_real]).contains(&"display-name-impersonation".to_owned()));
}

#[test]
fn learned_names_are_saved_by_name_and_still_protect_after_a_restore() {
    let mut d = Detector::new(cfg(ORG));
    let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", "R1", 1);
    assert!(feed(&mut d, &[host]).is_empty());
    let mut saved = Vec::new();
    d.save(&mut saved).unwrap();
    // The checkpoint names them (as earlier builds wrote and read it), not their keys.
    let v: Value = serde_json::from_slice(&saved).unwrap();
    let names: Vec<&str> = v[1]["protected"].as_object().unwrap().keys().map(String::as_str).collect();
    let (morgan, chief) =
        (zoomwatch_shared::rules::names::normalize_name("Morgan Reyes"), zoomwatch_shared::rules::names::normalize_name("Chief Exec"));
    assert!(names.contains(&morgan.as_str()) && names.contains(&chief.as_str()) && names.len() == 2, "{names:?}");
    let mut back = Detector::restore(cfg(ORG), &saved).unwrap();
    let fake = join_ts("Sync", "Morgan R.", "", "", "203.0.113.9", "2026-01-01T10:01:00Z", "R1", 2);
    let full = join_ts("Sync", "MORGAN REYES", "", "", "203.0.113.9", "2026-01-01T10:02:00Z", "R2", 3);
    assert!(feed(&mut back, &[fake]).contains(&"display-name-impersonation".to_owned()), "by initials, after the restore");
    assert!(feed(&mut back, &[full]).contains(&"display-name-impersonation".to_owned()), "in full, after the restore");
}

#[test]
fn a_detector_saved_before_its_tables_were_keyed_by_number_restores() {
    // `Detector::save` as the build of 2026-12-06 wrote it (meetings, rosters and learned
    // names as maps by their text keys), after `zoomwatch watch --once` read
    // testdata/stored/records.jsonl with the built-in configuration.
    let dir = format!("{}/../testdata/stored", env!("CARGO_MANIFEST_DIR"));
    let saved = std::fs::read(format!("{dir}/detector-memory-v1.json")).unwrap();
    let mut d = Detector::restore(Config::default(), &saved).unwrap();
    let standup = d.meetings().meetings.get("eNgStAnDuP9x8y7z6w5v4A==").expect("the stand-up's roster");
    assert_eq!(standup.attendees["zoom:lOz5-Host-0003AbCdEfGh"].participant.name(), Some("Lena Ortiz"));
    assert_eq!(standup.attendees.len(), 2);
    assert_eq!(d.memory().learned_names, 1, "the stand-up's host");
    // Every record read before the save is a duplicate now.
    let text = std::fs::read_to_string(format!("{dir}/records.jsonl")).unwrap();
    for line in text.lines() {
        let r = zoomwatch_shared::lines::parse(line.as_bytes()).unwrap();
        assert!(d.observe(&r).is_empty(), "{}", r.id);
    }
    // The learned host's name still protects, in full and by initials.
    let fake = join_ts("Sync", "Lena Ortiz", "", "", "203.0.113.9", "2026-12-02T03:00:00Z", "K1", 1_796_180_000_000);
    let short = join_ts("Sync", "L. Ortiz", "", "", "203.0.113.9", "2026-12-02T03:01:00Z", "K2", 1_796_180_060_000);
    assert!(feed(&mut d, &[fake]).contains(&"display-name-impersonation".to_owned()));
    assert!(feed(&mut d, &[short]).contains(&"display-name-impersonation".to_owned()));
}

#[test]
fn look_alike_host_names_are_impersonation_too() {
    // Each evasion in its own meeting instance, after the real host joined it.
    let evasions = ["Mоrgan Rеyes", "Reyes, Morgan", "M0rgan Reye5", "Morgan\u{200D} Reyes", "Mórgan Reyés", "Ｍｏｒｇａｎ Ｒｅｙｅｓ"];
    for (i, fake_name) in evasions.iter().enumerate() {
        let mut d = Detector::new(cfg(ORG));
        let uuid = format!("L{i}");
        let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", &uuid, 1);
        let fake = join_ts("Sync", fake_name, "", "", "203.0.113.9", "2026-01-01T10:01:00Z", &uuid, 2);
        assert!(feed(&mut d, &[host]).is_empty());
        let mut events = Vec::new();
        for e in d.observe(&fake) {
            if let AlertEvent::Raised(a) = e {
                events.push(*a);
            }
        }
        let a = events.iter().find(|a| a.rule == "display-name-impersonation").unwrap_or_else(|| panic!("{fake_name:?}: {events:?}"));
        assert!(a.reason.contains("after folding look-alike characters"), "{fake_name:?}: {}", a.reason);
    }
    // Colleagues with similar names are not.
    let mut d = Detector::new(cfg(ORG));
    let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", "N1", 1);
    assert!(feed(&mut d, &[host]).is_empty());
    for (i, other) in ["Morgan Reed", "Megan Reyes", "Morgana"].iter().enumerate() {
        let j = join_ts("Sync", other, "", "", "203.0.113.9", "2026-01-01T10:01:00Z", "N1", 10 + i as i64);
        assert!(!feed(&mut d, &[j]).contains(&"display-name-impersonation".to_owned()), "{other:?}");
    }
}

#[test]
fn initials_are_a_weaker_impersonation() {
    for (i, short) in ["Morgan R.", "M. Reyes", "Reyes M", "m.reyes"].iter().enumerate() {
        let mut d = Detector::new(cfg(ORG));
        let uuid = format!("I{i}");
        let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", &uuid, 1);
        let fake = join_ts("Sync", short, "", "", "203.0.113.9", "2026-01-01T10:01:00Z", &uuid, 2);
        assert!(feed(&mut d, &[host]).is_empty());
        let a = d
            .observe(&fake)
            .into_iter()
            .find_map(|e| if let AlertEvent::Raised(a) = e { (a.rule == "display-name-impersonation").then_some(a) } else { None })
            .unwrap_or_else(|| panic!("{short:?} is a shortened form of the host's name"));
        assert_eq!(a.severity, Severity::Medium, "{short:?}");
        assert!(a.reason.contains("by initials (a weaker match)") && a.reason.contains("\"Morgan Reyes\""), "{}", a.reason);
    }
    // Not initials: one letter alone, a different initial, a one-word name, the same
    // person signed in, and a full name (which is the strong match, not this one).
    let mut d = Detector::new(cfg(ORG));
    let host = join_ts("Sync", "Morgan Reyes", "morgan@acme.example", "HOST", "198.51.100.1", "2026-01-01T10:00:00Z", "I9", 1);
    assert!(feed(&mut d, &[host]).is_empty());
    for (i, other) in ["M R", "Morgan T.", "Morgan", "Morganr"].iter().enumerate() {
        let j = join_ts("Sync", other, "", "", "203.0.113.9", "2026-01-01T10:01:00Z", "I9", 10 + i as i64);
        assert!(!feed(&mut d, &[j]).contains(&"display-name-impersonation".to_owned()), "{other:?}");
    }
    let own_phone = join_ts("Sync", "Morgan R.", "morgan@acme.example", "HOST", "198.51.100.7", "2026-01-01T10:02:00Z", "I9", 20);
    assert!(!feed(&mut d, &[own_phone]).contains(&"display-name-impersonation".to_owned()));
    // Restored from a checkpoint, the shortened forms still match.
    let mut saved = Vec::new();
    d.save(&mut saved).unwrap();
    let mut back = Detector::restore(cfg(ORG), &saved).unwrap();
    let fake = join_ts("Sync", "Morgan R", "", "", "203.0.113.9", "2026-01-01T10:03:00Z", "I9", 30);
    assert!(feed(&mut back, &[fake]).contains(&"display-name-impersonation".to_owned()));
}

#[test]
fn rejoin_after_removal_and_plain_rejoin() {
    let mut d = Detector::new(cfg(ORG));
    let j1 = join_ts("Sync", "xXbomberXx", "", "", "203.0.113.9", "2026-01-01T10:00:00Z", "S1", 1);
    let l = left(
        "Sync",
        "xXbomberXx",
        "",
        "203.0.113.9",
        "2026-01-01T10:01:00Z",
        "S1",
        "xXbomberXx left the meeting.<br>Reason: Host removed the participant from the meeting.",
        2,
    );
    let j2 = join_ts("Sync", "totally new", "", "", "203.0.113.9", "2026-01-01T10:02:00Z", "S1", 3);
    feed(&mut d, &[j1, l]);
    assert!(feed(&mut d, &[j2]).contains(&"rejoin-after-removal".to_owned()));

    let mut d = Detector::new(cfg(ORG));
    let j1 = join_ts("Sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "S1", 1);
    let l = left("Sync", "Ann", "Z1", "198.51.100.1", "2026-01-01T10:01:00Z", "S1", "Ann left the meeting.<br>Reason: left the meeting", 2);
    let j2 = join_ts("Sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:02:00Z", "S1", 3);
    assert!(feed(&mut d, &[j1, l, j2]).is_empty());
}

#[test]
fn host_absent_and_concurrent_sessions() {
    let mut d = Detector::new(cfg(ORG));
    let started = rec(
        json!({"event": "meeting.started", "event_ts": 1, "payload": {"account_id": "A", "object": {"id": "111", "uuid": "S1", "topic": "Sync", "host_id": "HOST", "type": 2, "start_time": "2026-01-01T10:00:00Z"}}}),
    );
    let guest = join_ts("Sync", "Visitor", "", "", "203.0.113.9", "2026-01-01T10:00:10Z", "S1", 2);
    let fired = feed(&mut d, &[started, guest]);
    assert!(fired.contains(&"host-absent-join".to_owned()), "{fired:?}");

    let mut d = Detector::new(cfg(ORG));
    let a = join_ts("Sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "S1", 1);
    let b = join_ts("Other", "Ann", "ann@acme.example", "Z1", "203.0.113.50", "2026-01-01T10:05:00Z", "S2", 2);
    assert_eq!(feed(&mut d, &[a, b]), ["concurrent-sessions"]);
    // The first meeting ended (no leave came for Ann): she is not in two places.
    let mut d = Detector::new(cfg(ORG));
    let a = join_ts("Sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "S1", 1);
    let ended = rec(
        json!({"event": "meeting.ended", "event_ts": 3, "payload": {"account_id": "A", "object": {"id": "111", "uuid": "S1", "topic": "Sync", "host_id": "HOST", "type": 2, "start_time": "2026-01-01T09:59:00Z", "end_time": "2026-01-01T10:02:00Z"}}}),
    );
    let b = join_ts("Other", "Ann", "ann@acme.example", "Z1", "203.0.113.50", "2026-01-01T10:05:00Z", "S2", 2);
    assert!(feed(&mut d, &[a, ended, b]).is_empty());
    // Same IP (two devices at the desk): fine.
    let mut d = Detector::new(cfg(ORG));
    let a = join_ts("Sync", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:00:00Z", "S1", 1);
    let b = join_ts("Other", "Ann", "ann@acme.example", "Z1", "198.51.100.1", "2026-01-01T10:05:00Z", "S2", 2);
    assert!(feed(&mut d, &[a, b]).is_empty());
}

#[test]
fn mass_deletion_rejected_burst_and_silence() {
    let mut d = Detector::new(cfg(ORG));
    let dels: Vec<RecordV1> = (0..6).map(|i| rec(json!({"event": "meeting.deleted", "event_ts": 1_700_000_000_000_i64 + i * 10_000, "payload": {"account_id": "A", "operator": "it-admin@acme.example", "operator_id": "O", "object": {"id": 100 + i, "uuid": format!("D{i}"), "topic": "t"}}}))).collect();
    assert_eq!(feed(&mut d, &dels), ["mass-deletion"]);

    let mut d = Detector::new(Config::default());
    let rejected: Vec<RecordV1> = (0..3)
        .map(|i| {
            let mut r = zoomwatch_shared::normalize::rejected_record(
                zoomwatch_shared::record::Rejection {
                    reason: "bad_signature".into(),
                    detail: "x".into(),
                    status: 401,
                    suppressed: if i == 2 { 30 } else { 0 },
                },
                &Received { received_at_ms: 1_700_000_000_000 + i * 1000, request: None },
                i as u64,
            );
            r.received_at = r.occurred_at.clone();
            r
        })
        .collect();
    assert_eq!(feed(&mut d, &rejected), ["rejected-burst"], "suppressed rejections count too");

    let mut d = Detector::new(Config::default());
    let v = fixture("endpoint.url_validation.json");
    feed(&mut d, &[v]);
    let t = 1_800_000_000_000;
    assert!(d.tick(t + 3_600_000).is_empty());
    assert_eq!(raised(d.tick(t + 25 * 3_600_000)), ["endpoint-silent"]);
    assert!(d.tick(t + 26 * 3_600_000).is_empty(), "said once");
    assert_eq!(raised(d.tick(t + 81 * 3_600_000)), ["validation-overdue"], "Zoom revalidates every 72 h");
}

// ---- the scripted day -------------------------------------------------------------

fn scenario_records(only_benign: bool) -> Vec<RecordV1> {
    let c = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let geo = scenario::geoip();
    scenario::account_day(1_800_000_000_000)
        .into_iter()
        .filter(|s| !only_benign || s.purpose == Purpose::Benign)
        .map(|s| {
            let mut r = rec_bytes(&s.body);
            geo.enrich(&mut r); // as the demo's receiver does
            r.flags = evaluate(&r, &c);
            r
        })
        .collect()
}

#[test]
fn the_scripted_day_raises_each_planted_incident_once() {
    let c = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut d = Detector::new(c);
    let mut alerts = Vec::new();
    for r in scenario_records(false) {
        for e in d.observe(&r) {
            if let AlertEvent::Raised(a) = e {
                alerts.push(*a);
            }
        }
    }
    let mut above_low: Vec<&str> = alerts.iter().filter(|a| a.severity > Severity::Low).map(|a| a.rule.as_str()).collect();
    above_low.sort_unstable();
    assert_eq!(above_low, scenario::expected_alerts(), "{alerts:#?}");

    let burst = alerts.iter().find(|a| a.rule == "join-burst").unwrap();
    assert_eq!(burst.meeting.as_ref().unwrap().topic.as_deref(), Some("Company all-hands"));
    assert!(burst.record_ids.len() >= 8);
    let outsider = alerts.iter().find(|a| a.rule == "sensitive-meeting-outsider").unwrap();
    assert_eq!(
        outsider.reason,
        "external participant jdoe@freemail.example joined \"Q3 Board Review (confidential)\" (sensitive topic) from 203.0.113.77"
    );
    let imp = alerts.iter().find(|a| a.rule == "display-name-impersonation").unwrap();
    assert!(imp.reason.contains("the host's name"), "{}", imp.reason);
    let travel = alerts.iter().find(|a| a.rule == "impossible-travel").unwrap();
    assert_eq!(travel.severity, Severity::High, "both sessions live");
    assert!(
        travel.reason.starts_with("helen.park@acme.example joined \"Company all-hands\" from 175.16.199.23 (Changchun, CN)"),
        "{}",
        travel.reason
    );
    let tor = alerts.iter().find(|a| a.rule == "anonymizer-join").unwrap();
    assert!(tor.reason.contains("via Tor exit, VPN"), "{}", tor.reason);
    // Helen was last seen from GB: the stolen session is also a new country (low).
    assert!(alerts.iter().any(|a| a.rule == "new-country" && a.severity == Severity::Low), "{alerts:#?}");

    // The roster survived the late leave: Priya was in the stand-up until it ended.
    let standup = d.meetings().meetings.get("eNgStAnDuP9x8y7z6w5v4A==").unwrap();
    let priya = standup.attendees.values().find(|a| a.participant.name() == Some("Priya Natarajan")).unwrap();
    assert_eq!(priya.presence, Presence::Left);
    assert_eq!(priya.joins, 2);
    let all_hands = d.meetings().meetings.get("aLlH4nds/Q3+2026xYz0w==").unwrap();
    assert!(all_hands.present() >= 15, "{}", all_hands.present());
    assert!(all_hands.host_present());
}

#[test]
fn a_saved_and_restored_detector_goes_on_as_if_never_stopped() {
    let c = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let records = scenario_records(false);
    let all = |d: &mut Detector, rs: &[RecordV1]| rs.iter().flat_map(|r| d.observe(r)).collect::<Vec<_>>();
    let mut straight = Detector::new(c.clone());
    let expected = all(&mut straight, &records);
    assert!(expected.iter().filter(|e| matches!(e, AlertEvent::Grew { .. })).count() > 3, "the day has growing alerts");
    // Stop at several points (mid-raid among them), save, restore, go on; then replay
    // what came before the stop (a restart from an older cursor): nothing more.
    for cut in [1, records.len() / 3, records.len() / 2, records.len() - 1] {
        let mut before = Detector::new(c.clone());
        let mut events = all(&mut before, &records[..cut]);
        let mut saved = Vec::new();
        before.save(&mut saved).unwrap();
        drop(before);
        let mut after = Detector::restore(c.clone(), &saved).unwrap();
        events.extend(all(&mut after, &records[cut..]));
        assert_eq!(events, expected, "cut at {cut}");
        assert!(all(&mut after, &records[..cut]).is_empty(), "records seen before the stop are duplicates");
    }
    assert!(Detector::restore(c.clone(), b"{not json").err().unwrap().contains("unreadable"));
    assert!(Detector::restore(c, b"[99, {}]").is_err());
}

#[test]
fn the_benign_part_raises_nothing_above_low_even_twice() {
    let c = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut d = Detector::new(c);
    let records = scenario_records(true);
    let mut alerts = Vec::new();
    for r in records.iter().chain(records.iter()) {
        for e in d.observe(r) {
            if let AlertEvent::Raised(a) = e {
                alerts.push(*a);
            }
        }
    }
    assert!(alerts.iter().all(|a| a.severity <= Severity::Low), "{alerts:#?}");
}

#[test]
fn example_config_is_valid() {
    let text = std::fs::read_to_string(format!("{}/../zoomwatch.example.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let c = Config::parse(&text, "zoomwatch.example.toml").unwrap();
    assert_eq!(c.internal_domains, ["acme.example"]);
    // Copying the example keeps every built-in pattern (a list set there replaces the
    // built-in one, so it must start with it).
    let builtin = Config::default();
    let has = |mine: &[regex::Regex], theirs: &[regex::Regex]| theirs.iter().all(|b| mine.iter().any(|m| m.as_str() == b.as_str()));
    assert!(has(&c.sensitive_topics, &builtin.sensitive_topics), "sensitive_topics lost a built-in");
    assert!(has(&c.suspicious_names, &builtin.suspicious_names), "suspicious_names lost a built-in");
    assert!(has(&c.sensitive_info, &builtin.sensitive_info) && has(&c.removal_reasons, &builtin.removal_reasons));
    assert_eq!(c.disposable_domains, builtin.disposable_domains);
}

#[test]
fn a_flood_in_one_meeting_is_one_growing_alert() {
    // 30,000 guest joins into one meeting at the same second: the burst window must stay
    // bounded (it is capped) and the raid stays one alert.
    let mut d = Detector::new(cfg(ORG));
    let mut raised = Vec::new();
    let mut grew = 0;
    for i in 0..30_000 {
        let r = join_ts("All hands", &format!("g{i}"), "", "", "203.0.113.5", "2026-01-01T10:00:00Z", "AH", i);
        for e in d.observe(&r) {
            match e {
                AlertEvent::Raised(a) => raised.push(a.rule),
                AlertEvent::Grew { .. } => grew += 1,
            }
        }
    }
    assert_eq!(raised.iter().filter(|r| *r == "join-burst").count(), 1, "{raised:?}");
    assert!(grew > 29_000);
}

fn webinar_join(name: &str, email: &str, registrant: &str, t: &str, ts: i64) -> RecordV1 {
    let mut p = json!({"user_name": name, "email": email, "user_id": format!("{ts}"), "participant_uuid": format!("P{ts}"),
        "public_ip": "203.0.113.40", "join_time": t});
    if !registrant.is_empty() {
        p["registrant_id"] = json!(registrant);
    }
    rec(json!({"event": "webinar.participant_joined", "event_ts": ts, "payload": {"account_id": "A", "object": {
        "id": "222", "uuid": "WEB1", "topic": "Product launch webinar", "host_id": "HOST", "type": 5, "participant": p}}}))
}

fn high_or_medium(d: &mut Detector, records: &[RecordV1]) -> Vec<(String, Severity, String)> {
    let mut out = Vec::new();
    for r in records {
        for e in d.observe(r) {
            if let AlertEvent::Raised(a) = e {
                out.push((a.rule, a.severity, a.reason));
            }
        }
    }
    out.retain(|(_, s, _)| *s >= Severity::Medium);
    out
}

#[test]
fn a_registered_crowd_is_not_a_raid_but_unregistered_junk_names_are() {
    // 25 registered attendees of a webinar arriving in the minute it starts.
    let crowd: Vec<RecordV1> = (0..25)
        .map(|i| {
            webinar_join(
                &format!("Attendee {i}"),
                &format!("a{i}@customer{i}.example"),
                &format!("REG{i}"),
                &format!("2026-01-01T15:00:{:02}Z", i * 2),
                i,
            )
        })
        .collect();
    let mut d = Detector::new(cfg(ORG));
    let mut all = Vec::new();
    for r in &crowd {
        for e in d.observe(r) {
            if let AlertEvent::Raised(a) = e {
                all.push(*a);
            }
        }
    }
    assert!(all.iter().all(|a| a.severity < Severity::Medium), "{all:#?}");
    let note = all.iter().find(|a| a.rule == "join-burst").expect("the crowd is noted at low");
    assert_eq!(note.severity, Severity::Low);
    assert!(note.reason.contains("registered or admitted") && note.reason.contains("legitimate audience"), "{}", note.reason);
    // …and with crowd_severity off, not even that.
    let mut quiet = Detector::new(cfg(&format!("{ORG}[rules.join-burst]\ncrowd_severity = \"off\"\n")));
    assert!(!feed(&mut quiet, &crowd).contains(&"join-burst".to_owned()));

    // 8 unregistered guests with junk names in a minute: still a raid, high.
    let junk = ["xx", "asdf", "zzz", "qwerty", "lol", "aaaa", "h4x", "yo"];
    let raid: Vec<RecordV1> =
        junk.iter().enumerate().map(|(i, n)| webinar_join(n, "", "", &format!("2026-01-01T15:01:{:02}Z", i * 5), 100 + i as i64)).collect();
    let mut d = Detector::new(cfg(ORG));
    let fired = high_or_medium(&mut d, &raid);
    let burst = fired.iter().find(|(r, _, _)| r == "join-burst").expect("raid");
    assert_eq!(burst.1, Severity::High);
    assert!(burst.2.starts_with("8 unregistered"), "{}", burst.2);

    // The raid hidden inside the crowd still stands out, as its own alert.
    let mut d = Detector::new(cfg(ORG));
    let mixed: Vec<RecordV1> = crowd.iter().chain(&raid).cloned().collect();
    let fired = high_or_medium(&mut d, &mixed);
    let burst = fired.iter().find(|(r, _, _)| r == "join-burst").expect("raid among the crowd");
    // (the last 7 of the crowd arrived within the raid's minute)
    assert!(burst.2.starts_with("8 unregistered") && burst.2.contains("besides 7 registered"), "{}", burst.2);

    // Evasion: registering first does not launder a junk name that is flagged.
    let registered_spam: Vec<RecordV1> = (0..8)
        .map(|i| webinar_join(&format!("FREE CRYPTO {i}"), "", &format!("R{i}"), &format!("2026-01-01T15:02:{:02}Z", i * 5), 200 + i))
        .collect();
    let mut d = Detector::new(cfg(ORG));
    assert!(high_or_medium(&mut d, &registered_spam).iter().any(|(r, s, _)| r == "join-burst" && *s == Severity::High));
}

#[test]
fn guests_admitted_from_the_waiting_room_are_a_crowd() {
    let step = |event: &str, i: i64, t: &str| {
        rec(json!({"event": event, "event_ts": i, "payload": {"account_id": "A", "object": {
            "id": "111", "uuid": "TOWN", "topic": "Town hall", "host_id": "HOST", "type": 2,
            "participant": {"user_name": format!("Visitor {}", i % 100), "user_id": format!("{}", i % 100), "participant_uuid": format!("PU{}", i % 100),
                "public_ip": "203.0.113.50", "join_time": t, "date_time": t}}}}))
    };
    let mut admitted = Vec::new();
    for i in 0..12 {
        let t = format!("2026-01-01T09:00:{:02}Z", i * 4);
        admitted.push(step("meeting.participant_joined_waiting_room", i, &t));
        admitted.push(step("meeting.participant_admitted", 1000 + i, &t));
        admitted.push(step("meeting.participant_joined", 2000 + i, &t));
    }
    let mut d = Detector::new(cfg(ORG));
    assert!(high_or_medium(&mut d, &admitted).is_empty());
    // The same twelve walking straight in is a raid.
    let straight: Vec<RecordV1> = admitted.iter().filter(|r| r.action == "joined").cloned().collect();
    let mut d = Detector::new(cfg(ORG));
    assert!(high_or_medium(&mut d, &straight).iter().any(|(r, s, _)| r == "join-burst" && *s == Severity::High));
}

#[test]
fn a_posture_run_that_finds_a_setting_newly_out_of_policy_is_drift() {
    use zoomwatch_shared::posture::{Posture, Scope, SettingsPolicy, check_scope};
    let run = |waiting_room: bool, at: i64| {
        let doc = json!({"meeting_security": {"waiting_room": waiting_room}, "in_meeting": {"file_transfer": true}});
        Posture { checks: check_scope(&Scope::Account, &doc, None, &SettingsPolicy::default()), unread: Vec::new() }.record(Some("A"), at)
    };
    let mut d = Detector::new(Config::default());
    let raised = |events: Vec<AlertEvent>| -> Vec<zoomwatch_shared::rules::Alert> {
        events.into_iter().filter_map(|e| if let AlertEvent::Raised(a) = e { Some(*a) } else { None }).collect()
    };
    assert!(raised(d.observe(&run(true, 1_000))).is_empty(), "the first run is the baseline");
    assert!(raised(d.observe(&run(true, 2_000))).is_empty(), "file transfer failed before too: no news");
    let drift = raised(d.observe(&run(false, 3_000)));
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!((drift[0].rule.as_str(), drift[0].severity), ("policy-drift", Severity::High));
    assert!(drift[0].reason.contains("meeting_security.waiting_room") && drift[0].reason.contains("in account"), "{}", drift[0].reason);
    assert!(!drift[0].reason.contains("file_transfer"), "{}", drift[0].reason);
}

#[test]
fn rejected_burst_names_its_sources() {
    let mut d = Detector::new(Config::default());
    let rejected: Vec<RecordV1> = (0..24)
        .map(|i: i64| {
            let src = if i % 4 == 3 { "198.51.100.7" } else { "203.0.113.9" };
            let request = zoomwatch_shared::record::RequestInfo { source_ip: Some(src.into()), ..Default::default() };
            let mut r = zoomwatch_shared::normalize::rejected_record(
                zoomwatch_shared::record::Rejection { reason: "bad_signature".into(), detail: "x".into(), status: 401, suppressed: 0 },
                &Received { received_at_ms: 1_700_000_000_000 + i * 1000, request: Some(request) },
                i as u64,
            );
            r.received_at = r.occurred_at.clone();
            r
        })
        .collect();
    let mut reasons = Vec::new();
    for r in &rejected {
        for e in d.observe(r) {
            if let AlertEvent::Raised(a) = e {
                reasons.push(a.reason.clone());
            }
        }
    }
    let first = reasons.first().expect("raised at the 20th refusal");
    assert!(first.starts_with("20 requests refused within 60 s from 2 sources: 203.0.113.9 ×15, 198.51.100.7 ×5"), "{first}");
}
