//! The caps on what the detector remembers (`[limits]`): rosters keep their present
//! people and their most recent departures, idle meetings close, learned names are
//! forgotten least-recent first (never a `known_people` name), and bad values in
//! `[limits]` are errors that name the line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::limits::Limits;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::roster::{MeetingBook, MeetingPhase, Presence};
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::{Envelope, Received, normalize};

const T0: i64 = 1_796_115_600_000;

fn rec(v: &serde_json::Value) -> RecordV1 {
    normalize(Envelope::parse(&serde_json::to_vec(v).unwrap()).unwrap(), &Received { received_at_ms: T0, request: None })
}

/// A participant event in meeting `uuid` at `t` (ms) by person `n`.
fn presence(event: &str, uuid: &str, n: usize, t: i64) -> RecordV1 {
    rec(&json!({"event": format!("meeting.participant_{event}"), "event_ts": t, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": uuid, "topic": "Stand-up", "host_id": "HOST", "type": 2,
        "participant": {"user_name": format!("Person {n}"), "email": format!("p{n}@acme.example"), "id": format!("Z{n}"),
            "participant_user_id": format!("Z{n}"), "user_id": format!("{n}"), "public_ip": "198.51.100.1"}}}}))
}

fn meeting(event: &str, uuid: &str, t: i64) -> RecordV1 {
    rec(&json!({"event": format!("meeting.{event}"), "event_ts": t, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": uuid, "topic": "Stand-up", "host_id": "HOST", "type": 2, "start_time": "2026-12-01T09:00:00Z"}}}))
}

fn small() -> Limits {
    Limits { ended_rosters: 2, departed_per_meeting: 3, idle_meeting_ms: 3_600_000, learned_names: 1_000, ..Limits::default() }
}

#[test]
fn a_roster_keeps_everyone_present_and_its_most_recent_departures() {
    let mut book = MeetingBook::default();
    book.apply(&meeting("started", "m1", T0), None);
    for n in 0..10 {
        book.apply(&presence("joined", "m1", n, T0 + 1_000 * n as i64), None);
    }
    // Six leave, in order: the last three to leave stay on the roster.
    for n in 0..6 {
        book.apply(&presence("left", "m1", n, T0 + 60_000 + 1_000 * n as i64), None);
    }
    book.enforce(T0 + 120_000, &small());
    let m = &book.meetings["m1"];
    assert_eq!(m.present(), 4, "everyone still in is kept");
    let mut left: Vec<&str> = m.attendees.values().filter(|a| a.presence == Presence::Left).map(|a| a.key.as_str()).collect();
    left.sort_unstable();
    assert_eq!(left.len(), 3);
    assert!(m.attendees.values().filter(|a| a.presence == Presence::Left).all(|a| a.since_ms >= T0 + 63_000), "{left:?}");
    assert_eq!((m.dropped, book.trimmed.departed), (3, 3));
    // A dropped person who comes back is simply a new line.
    book.apply(&presence("joined", "m1", 0, T0 + 130_000), None);
    assert_eq!(book.meetings["m1"].present(), 5);
    assert_eq!(book.fill().most_departed, 3);
}

/// People who have left meeting `uuid`'s roster.
fn departed(book: &MeetingBook, uuid: &str) -> usize {
    book.meetings[uuid].attendees.values().filter(|a| a.presence == Presence::Left).count()
}

#[test]
fn a_roster_is_trimmed_back_to_its_cap_once_a_tenth_over_it() {
    let limits = Limits { departed_per_meeting: 20, ..small() };
    let mut book = MeetingBook::default();
    let mut t = T0;
    let mut at = || {
        t += 1_000;
        t
    };
    book.apply(&meeting("started", "m1", at()), None);
    for n in 0..100 {
        book.apply(&presence("joined", "m1", n, at()), None);
    }
    for n in 0..60 {
        book.apply(&presence("left", "m1", n, at()), None);
    }
    // Someone who left comes back, someone present rejoins (no change): counted right.
    book.apply(&presence("joined", "m1", 59, at()), None);
    book.apply(&presence("joined", "m1", 99, at()), None);
    book.enforce(at(), &limits);
    assert_eq!((departed(&book, "m1"), book.meetings["m1"].present()), (20, 41), "59 left, trimmed to 20; all 41 present kept");
    // Two more leave: within a tenth over the cap, left alone; a third: trimmed again.
    for n in 60..62 {
        book.apply(&presence("left", "m1", n, at()), None);
    }
    book.enforce(at(), &limits);
    assert_eq!(departed(&book, "m1"), 22);
    book.apply(&presence("left", "m1", 62, at()), None);
    book.enforce(at(), &limits);
    assert_eq!(departed(&book, "m1"), 20);
    // Saved and restored (a watcher's checkpoint): the departures are counted again.
    let mut back: MeetingBook = serde_json::from_str(&serde_json::to_string(&book).unwrap()).unwrap();
    for n in 63..70 {
        back.apply(&presence("left", "m1", n, at()), None);
    }
    back.enforce(at(), &limits);
    assert_eq!((departed(&back, "m1"), back.meetings["m1"].present()), (20, 31));
    // The meeting ends: everyone has left, the most recent 20 stay.
    back.apply(&meeting("ended", "m1", at()), None);
    back.enforce(at(), &limits);
    assert_eq!((departed(&back, "m1"), back.meetings["m1"].present()), (20, 0));
}

#[test]
fn a_running_meeting_without_records_for_the_idle_time_is_closed() {
    let mut book = MeetingBook::default();
    book.apply(&meeting("started", "quiet", T0), None);
    book.apply(&presence("joined", "quiet", 1, T0 + 1_000), None);
    book.apply(&meeting("started", "busy", T0), None);
    book.apply(&presence("joined", "busy", 2, T0 + 3_500_000), None);
    // 59 minutes after its last record: still running.
    book.enforce(T0 + 1_000 + 3_540_000, &small());
    assert_eq!(book.meetings["quiet"].phase, MeetingPhase::Running);
    // Past the hour: closed, with everyone in it gone, and counted; the other stays.
    book.enforce(T0 + 1_000 + 3_600_001, &small());
    let quiet = &book.meetings["quiet"];
    assert_eq!(quiet.phase, MeetingPhase::Ended);
    assert!(quiet.closed_idle);
    assert_eq!(quiet.ended_ms, Some(T0 + 1_000));
    assert_eq!(quiet.present(), 0);
    assert_eq!(book.meetings["busy"].phase, MeetingPhase::Running);
    assert_eq!(book.trimmed.closed_idle, 1);
    // Closing is done once.
    book.enforce(T0 + 10 * 3_600_000, &small());
    assert_eq!(book.trimmed.closed_idle, 2, "busy went idle too");
}

#[test]
fn only_the_most_recently_ended_meetings_keep_their_rosters() {
    let mut book = MeetingBook::default();
    for (i, uuid) in ["a", "b", "c", "d"].iter().enumerate() {
        let t = T0 + 600_000 * i as i64;
        book.apply(&meeting("started", uuid, t), None);
        book.apply(&presence("joined", uuid, i, t + 1_000), None);
        book.apply(&meeting("ended", uuid, t + 60_000), None);
    }
    book.enforce(T0 + 3_000_000, &small());
    let with_roster: Vec<&str> = ["a", "b", "c", "d"].into_iter().filter(|k| !book.meetings[*k].attendees.is_empty()).collect();
    assert_eq!(with_roster, ["c", "d"]);
    assert_eq!(book.meetings.len(), 4, "every meeting keeps its summary");
    assert_eq!((book.meetings["a"].dropped, book.trimmed.rosters), (1, 2));
    assert_eq!(book.fill().ended_rosters, 2);
}

#[test]
fn learned_names_are_capped_and_known_people_never_forgotten() {
    let toml = "[organization]\ninternal_domains = [\"acme.example\"]\nknown_people = [\"Chief Exec\"]\n[limits]\nlearned_names = 1000\n";
    let mut d = Detector::new(Config::parse(toml, "test.toml").unwrap());
    // 20,000 different internal people join (two enforcement rounds).
    for n in 0..20_000 {
        d.observe(&presence("joined", "all-hands", n, T0 + n as i64));
    }
    let m = d.memory();
    assert!(m.learned_names <= 1_100, "{}", m.learned_names);
    assert!(m.forgotten_names >= 18_000, "{}", m.forgotten_names);
    assert_eq!(m.limits.learned_names, 1_000);
    // The known name still protects: a guest using it is flagged as impersonation.
    let imp = rec(&json!({"event": "meeting.participant_joined", "event_ts": T0 + 30_000, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": "all-hands", "topic": "Stand-up", "host_id": "HOST", "type": 2,
        "participant": {"user_name": "Chief Exec", "email": "", "id": "", "user_id": "99999", "public_ip": "203.0.113.9"}}}}));
    let events = d.observe(&imp);
    assert!(
        events.iter().any(|e| matches!(e, zoomwatch_shared::rules::AlertEvent::Raised(a) if a.rule == "display-name-impersonation")),
        "{events:?}"
    );
}

#[test]
fn bad_limits_name_their_line() {
    for (text, want) in [
        ("[limits]\nidle_meeting_hours = 0\n", "test.toml:2: limits.idle_meeting_hours: 0 is outside 1..=720"),
        ("[limits]\n\nended_rosters = 5\n", "test.toml:3: limits.ended_rosters: 5 is outside 10..=1000000"),
        ("[limits]\nlearned_names = 1\n", "test.toml:2: limits.learned_names: 1 is outside 1000..=10000000"),
        ("[limits]\npresent = 999\n", "test.toml:2: limits.present: 999 is outside 1000..=10000000"),
        ("[limits]\nalerts = 0\n", "test.toml:2: limits.alerts: 0 is outside 100..=10000000"),
    ] {
        let e = Config::parse(text, "test.toml").unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
    }
    let e = Config::parse("[limits]\nroster = 5\n", "test.toml").unwrap_err().to_string();
    assert!(e.contains("roster"), "{e}");
    let c =
        Config::parse("[limits]\nidle_meeting_hours = 2\ndeparted_per_meeting = 50\npresent = 5000\nalerts = 300\n", "test.toml").unwrap();
    assert_eq!(c.limits, Limits { idle_meeting_ms: 7_200_000, departed_per_meeting: 50, present: 5_000, alerts: 300, ..Limits::default() });
}

#[test]
fn the_least_recently_seen_name_is_forgotten_first() {
    let toml = "[organization]\ninternal_domains = [\"acme.example\"]\n[limits]\nlearned_names = 1000\n";
    let mut d = Detector::new(Config::parse(toml, "test.toml").unwrap());
    // 5,000 different internal people join once; Person 7 comes back every 400 joins.
    for n in 0..5_000 {
        d.observe(&presence("joined", "all-hands", n, T0 + n as i64));
        if n % 400 == 399 {
            d.observe(&presence("joined", &format!("regular-{n}"), 7, T0 + n as i64));
        }
    }
    let m = d.memory();
    assert_eq!(m.learned_names, 1_000, "trimmed back to the cap");
    // Each in a meeting of its own (an alert groups a meeting's findings).
    let guest = |name: &str, t: i64| {
        rec(&json!({"event": "meeting.participant_joined", "event_ts": t, "payload": {"account_id": "A", "object": {
            "id": "222", "uuid": format!("town-hall-{t}"), "topic": "Town hall", "host_id": "HOST", "type": 2,
            "participant": {"user_name": name, "email": "", "id": "", "user_id": "99999", "public_ip": "203.0.113.9"}}}}))
    };
    let impersonates = |d: &mut Detector, name: &str, t: i64| {
        d.observe(&guest(name, t))
            .iter()
            .any(|e| matches!(e, zoomwatch_shared::rules::AlertEvent::Raised(a) if a.rule == "display-name-impersonation"))
    };
    // Seen 4,600 joins ago but again since: still protected. Seen once, long ago: forgotten.
    assert!(impersonates(&mut d, "Person 7", T0 + 10_000), "a name seen again stays");
    assert!(!impersonates(&mut d, "Person 3", T0 + 10_001), "a name seen once, 5,000 joins ago, is forgotten");
    assert!(impersonates(&mut d, "Person 4990", T0 + 10_002), "a recent name stays");
}

/// People who never leave (their `participant_left` lost) do not fill the book for good:
/// past the `present` cap, once a tenth over it, those silent longest are taken to have
/// left when last heard of, across all meetings; someone heard of since stays in.
#[test]
fn past_the_present_cap_the_longest_silent_are_taken_to_have_left() {
    let limits = Limits { present: 1_000, departed_per_meeting: 10_000, ..small() };
    let mut book = MeetingBook::default();
    for m in ["a", "b", "c"] {
        book.apply(&meeting("started", m, T0), None);
    }
    // 1,100 join over three meetings: at the cap plus a tenth, nothing happens yet.
    for n in 0..1_100 {
        book.apply(&presence("joined", ["a", "b", "c"][n % 3], n, T0 + 1_000 * n as i64), None);
    }
    book.enforce(T0 + 2_000_000, &limits);
    assert_eq!((book.fill().present, book.trimmed.presences), (1_100, 0));
    // Person 0 (the first to join) is heard of again: a second device joins.
    let mut again = presence("joined", "a", 0, T0 + 1_150_000);
    again.participant.as_mut().unwrap().participant_uuid = Some("second-device".into());
    book.apply(&again, None);
    // One more: over. Back to the cap: the 101 silent longest leave, person 0 stays.
    book.apply(&presence("joined", "b", 5_000, T0 + 1_200_000), None);
    book.enforce(T0 + 2_000_000, &limits);
    let f = book.fill();
    assert_eq!((f.present, book.trimmed.presences), (1_000, 101));
    let in_a = |n: usize| {
        book.meetings.values().flat_map(|m| m.attendees.values()).find(|a| a.participant.name() == Some(&format!("Person {n}"))).unwrap()
    };
    assert_eq!(in_a(0).presence, Presence::In, "heard of since");
    for n in 1..=101 {
        let a = in_a(n);
        assert_eq!((a.presence, a.left_ms), (Presence::Left, Some(a.since_ms)), "person {n}");
    }
    assert_eq!(in_a(102).presence, Presence::In);
    assert_eq!(in_a(5_000).presence, Presence::In);
    // Each roster's count of who is in agrees with its lines.
    let present: usize = book.meetings.values().map(|m| m.present()).sum();
    assert_eq!(present, 1_000);
}

/// A forgotten name's shortened forms go with it ("Dana W." no longer protects Dana
/// Whitfield once she is forgotten), and a name learned later takes such a form over.
#[test]
fn a_forgotten_names_shortened_forms_go_and_can_be_taken_over() {
    let toml = "[organization]\ninternal_domains = [\"acme.example\"]\n[limits]\nlearned_names = 1000\n";
    let mut d = Detector::new(Config::parse(toml, "test.toml").unwrap());
    let join = |name: &str, email: &str, uuid: &str, t: i64| {
        rec(&json!({"event": "meeting.participant_joined", "event_ts": t, "payload": {"account_id": "A", "object": {
            "id": "111", "uuid": uuid, "topic": "Stand-up", "host_id": "HOST", "type": 2,
            "participant": {"user_name": name, "email": email, "id": format!("Z{t}"), "user_id": format!("{t}"), "public_ip": "198.51.100.1"}}}}))
    };
    let by_initials = |d: &mut Detector, t: i64| {
        d.observe(&join("Dana W.", "", &format!("town-hall-{t}"), t)).iter().find_map(|e| match e {
            zoomwatch_shared::rules::AlertEvent::Raised(a) if a.rule == "display-name-impersonation" => Some(a.reason.clone()),
            _ => None,
        })
    };
    d.observe(&join("Dana Whitfield", "dana@acme.example", "all-hands", T0));
    assert!(by_initials(&mut d, T0 + 1).is_some_and(|r| r.contains("Dana Whitfield")), "learned: her shortened form protects her");
    // 5,000 other colleagues, each with names of letters only (digits would fold to letters).
    let word = |mut n: usize| {
        let mut w = String::from("Q");
        for _ in 0..4 {
            w.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        w
    };
    for n in 0..5_000 {
        d.observe(&join(&format!("Alex {}", word(n)), &format!("a{n}@acme.example"), "all-hands", T0 + 10 + n as i64));
    }
    assert_eq!(by_initials(&mut d, T0 + 20_000), None, "forgotten, and her shortened form with her");
    d.observe(&join("Dana Wolfe", "wolfe@acme.example", "all-hands", T0 + 20_001));
    assert!(by_initials(&mut d, T0 + 20_002).is_some_and(|r| r.contains("Dana Wolfe")), "the form now names who holds it");
}

/// Someone the `present` cap took to have left is out of that meeting for the rules too:
/// joining another meeting from elsewhere is not "in two meetings at once".
#[test]
fn taken_as_left_ends_the_session_too() {
    let toml = "[organization]\ninternal_domains = [\"acme.example\"]\n[limits]\npresent = 1000\n";
    let mut d = Detector::new(Config::parse(toml, "test.toml").unwrap());
    // Person 0 first, then 10,999 others: the first enforcement (at 10,000 records) finds
    // 10,000 present and takes the longest silent, Person 0 among them, to have left.
    for n in 0..11_000 {
        d.observe(&presence("joined", &format!("room-{}", n % 50), n, T0 + n as i64));
    }
    let m = d.memory();
    assert!(m.trimmed.presences >= 9_000 && m.book.present <= 2_100, "{:?}", (m.trimmed.presences, m.book.present));
    let elsewhere = rec(&json!({"event": "meeting.participant_joined", "event_ts": T0 + 20_000, "payload": {"account_id": "A", "object": {
        "id": "222", "uuid": "elsewhere", "topic": "Other", "host_id": "HOST", "type": 2,
        "participant": {"user_name": "Person 0", "email": "p0@acme.example", "id": "Z0", "participant_user_id": "Z0",
            "user_id": "0", "public_ip": "203.0.113.5"}}}}));
    let rules: Vec<String> = d
        .observe(&elsewhere)
        .iter()
        .filter_map(|e| match e {
            zoomwatch_shared::rules::AlertEvent::Raised(a) => Some(a.rule.clone()),
            _ => None,
        })
        .collect();
    assert!(!rules.contains(&"concurrent-sessions".to_owned()), "{rules:?}");
    // Person 10,999 (still in, from 198.51.100.1) joining elsewhere from another address is.
    let mut still_in = elsewhere.clone();
    let p = still_in.participant.as_mut().unwrap();
    (p.name, p.email, p.zoom_user_id) = (Some("Person 10999".into()), Some("p10999@acme.example".into()), Some("Z10999".into()));
    still_in.id = "another-delivery".into();
    let raised = d.observe(&still_in);
    assert!(
        raised.iter().any(|e| matches!(e, zoomwatch_shared::rules::AlertEvent::Raised(a) if a.rule == "concurrent-sessions")),
        "{raised:?}"
    );
}
