//! The meeting book's instances: a record that carries only the meeting number (a
//! participant event without the instance uuid) belongs to the instance of that number
//! whose records came last — whichever order the instances' records interleave in, and
//! after the book is saved and restored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::roster::{MeetingBook, Presence};
use zoomwatch_shared::{Envelope, Received, normalize};

const T0: i64 = 1_796_115_600_000;

fn rec(v: &Value) -> RecordV1 {
    normalize(Envelope::parse(&serde_json::to_vec(v).unwrap()).unwrap(), &Received { received_at_ms: T0, request: None })
}

/// Person `n` joins meeting number `id` (instance `uuid`, or none) at `t`.
fn join(id: &str, uuid: Option<&str>, n: usize, t: i64) -> RecordV1 {
    let mut object = json!({"id": id, "topic": "Stand-up", "host_id": "HOST", "type": 2,
        "participant": {"user_name": format!("Person {n}"), "id": format!("Z{n}"), "participant_user_id": format!("Z{n}")}});
    if let Some(u) = uuid {
        object["uuid"] = json!(u);
    }
    rec(&json!({"event": "meeting.participant_joined", "event_ts": t, "payload": {"account_id": "A", "object": object}}))
}

/// The instance person `n` is in.
fn instance_of(book: &MeetingBook, n: usize) -> Vec<&str> {
    let key = format!("zoom:Z{n}");
    let mut v: Vec<&str> = book
        .meetings
        .values()
        .filter(|m| m.attendees.get(&key).is_some_and(|a| a.presence == Presence::In))
        .map(|m| m.key.as_str())
        .collect();
    v.sort_unstable();
    v
}

/// Applies the joins `(number, instance, person)` in order, a second apart.
fn apply(book: &mut MeetingBook, joins: &[(&str, Option<&str>, usize)]) {
    for (id, uuid, n) in joins {
        let t = T0 + 1000 * (*n as i64);
        book.apply_at(&join(id, *uuid, *n, t), t, None);
    }
}

#[test]
fn a_number_only_record_goes_to_the_instance_seen_last() {
    let mut book = MeetingBook::default();
    // Two instances of meeting 111 (a recurring meeting started twice), interleaved.
    apply(&mut book, &[("111", Some("inst-A"), 1), ("111", Some("inst-A"), 2), ("111", Some("inst-B"), 3), ("111", None, 10)]);
    assert_eq!(instance_of(&book, 10), ["inst-B"], "B came last");
    // A again (twice: the second is about an instance that already is the latest).
    apply(&mut book, &[("111", Some("inst-A"), 4), ("111", Some("inst-A"), 5), ("111", None, 11)]);
    assert_eq!(instance_of(&book, 11), ["inst-A"], "A came last");
    apply(&mut book, &[("111", Some("inst-B"), 6), ("111", None, 12)]);
    assert_eq!(instance_of(&book, 12), ["inst-B"]);
    // Another number in between changes nothing for 111.
    apply(&mut book, &[("222", Some("inst-C"), 7), ("111", None, 13)]);
    assert_eq!(instance_of(&book, 13), ["inst-B"]);

    // Saved and restored (a watcher's checkpoint): the same answers.
    let mut back: MeetingBook = serde_json::from_str(&serde_json::to_string(&book).unwrap()).unwrap();
    apply(&mut back, &[("111", None, 14)]);
    assert_eq!(instance_of(&back, 14), ["inst-B"]);
    apply(&mut back, &[("111", Some("inst-A"), 8), ("111", Some("inst-A"), 9), ("111", None, 15)]);
    assert_eq!(instance_of(&back, 15), ["inst-A"]);
    // Nobody was put anywhere else.
    let keys: Vec<&str> = back.meetings.keys().collect();
    assert!(keys.iter().all(|k| ["inst-A", "inst-B", "inst-C"].contains(k)), "{keys:?}");
}

/// One identity (`Z7`) in meeting instance `U1` from device `device` at `ip`.
fn device_event(event: &str, device: &str, ip: &str, t: i64) -> RecordV1 {
    let time_key = if event.ends_with("joined") { "join_time" } else { "leave_time" };
    let when = zoomwatch_shared::timefmt::format_ms(t);
    rec(&json!({"event": event, "event_ts": t, "payload": {"account_id": "A", "object": {
        "id": "841", "uuid": "U1", "topic": "Stand-up", "host_id": "HOST", "type": 2,
        "participant": {"user_name": "Dana Whitfield", "id": "Z7", "participant_user_id": "Z7", "email": "dana@acme.example",
            "participant_uuid": device, "public_ip": ip, time_key: when}}}}))
}

#[test]
fn one_person_on_two_devices_is_one_row_with_a_count_and_stays_in_until_both_leave() {
    let mut book = MeetingBook::default();
    let at = |book: &mut MeetingBook, event: &str, device: &str, ip: &str, secs: i64| {
        let t = T0 + secs * 1000;
        book.apply_at(&device_event(event, device, ip, t), t, None)
    };
    let dana = |book: &MeetingBook| book.meetings["U1"].attendees["zoom:Z7"].clone();
    at(&mut book, "meeting.participant_joined", "laptop", "89.160.20.112", 1);
    assert_eq!(dana(&book).devices(), 1);
    at(&mut book, "meeting.participant_joined", "phone", "10.1.2.3", 2);
    let d = dana(&book);
    assert_eq!((d.devices(), d.presence, d.participant.ip()), (2, Presence::In, Some("10.1.2.3")), "one row, two devices");
    // The same device joining again (a reconnect) is not a third.
    at(&mut book, "meeting.participant_joined", "phone", "10.1.2.3", 3);
    assert_eq!(dana(&book).devices(), 2);
    // The laptop leaves: still in, on the phone.
    assert!(at(&mut book, "meeting.participant_left", "laptop", "89.160.20.112", 4).is_none(), "no presence change");
    let d = dana(&book);
    assert_eq!((d.devices(), d.presence), (1, Presence::In));
    // The phone leaves: gone.
    at(&mut book, "meeting.participant_left", "phone", "10.1.2.3", 5);
    let d = dana(&book);
    assert_eq!((d.devices(), d.presence), (0, Presence::Left));

    // The device shown leaves first: the other keeps them in.
    at(&mut book, "meeting.participant_joined", "laptop", "89.160.20.112", 10);
    at(&mut book, "meeting.participant_joined", "phone", "10.1.2.3", 11);
    at(&mut book, "meeting.participant_left", "phone", "10.1.2.3", 12);
    assert_eq!((dana(&book).devices(), dana(&book).presence), (1, Presence::In));
    at(&mut book, "meeting.participant_left", "laptop", "89.160.20.112", 13);
    assert_eq!((dana(&book).devices(), dana(&book).presence), (0, Presence::Left));

    // Saved and restored mid-meeting, the count survives.
    at(&mut book, "meeting.participant_joined", "laptop", "89.160.20.112", 20);
    at(&mut book, "meeting.participant_joined", "phone", "10.1.2.3", 21);
    let back: MeetingBook = serde_json::from_value(serde_json::to_value(&book).unwrap()).unwrap();
    assert_eq!(back.meetings["U1"].attendees["zoom:Z7"].devices(), 2);
}
