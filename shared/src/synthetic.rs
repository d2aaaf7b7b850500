//! Synthetic load for benchmarks, as the webhook bodies Zoom would POST. Two streams:
//!
//! - [`busy_account_body`] — a large account's working day: 2,000 meeting rooms, each
//!   running one instance after another (started, the host and 30 others join, the same
//!   31 leave, ended: about 21 minutes of events), attendees drawn from 100,000 employees
//!   with a guest now and then, and an admin settings change every 50 events.
//! - [`growing_account_body`] — the harsh case: 1,160 meetings that never end and a new
//!   person on every join, so rosters and learned names grow with every record.
//!
//! Event `i` happens `i * 10` ms after `t0`. Both are deterministic in `i`;
//! [`stored_line`] gives an event as the receiver stores it.

use crate::envelope::EnvelopeError;
use crate::{Envelope, Received, normalize};

/// Meeting rooms of the busy account.
pub const ROOMS: usize = 2_000;
/// Employees of the busy account.
pub const EMPLOYEES: usize = 100_000;
/// Events in one meeting instance: started, 31 joins, 31 leaves, ended.
const CYCLE: usize = 64;
const JOINS: usize = 31;

fn settings_change(i: usize, t: i64) -> String {
    let u = i % EMPLOYEES;
    format!(
        r#"{{"event":"user.settings_updated","event_ts":{t},"payload":{{"account_id":"A","operator":"it-admin@acme.example","operator_id":"O","object":{{"id":"U{u}","settings":{{"in_meeting":{{"waiting_room":false}}}}}},"old_object":{{"id":"U{u}","settings":{{"in_meeting":{{"waiting_room":true}}}}}}}}}}"#
    )
}

/// `who` is (display name, email, Zoom user id, per-meeting user id); empty email and
/// Zoom id make a guest, who is then known by the per-meeting id.
fn participant_event(event: &str, t: i64, meeting: (u64, &str, usize), who: (&str, &str, &str, &str), ip: usize) -> String {
    let (number, uuid, room) = meeting;
    let (name, email, zid, uid) = who;
    let times = if event.ends_with("joined") {
        r#""join_time":"2026-11-28T09:00:00Z""#
    } else {
        r#""leave_time":"2026-11-28T09:30:00Z","leave_reason":"left the meeting""#
    };
    format!(
        r#"{{"event":"{event}","event_ts":{t},"payload":{{"account_id":"A","object":{{"id":"{number}","uuid":"{uuid}","topic":"Team sync {room}","host_id":"H{room}","type":2,"participant":{{"user_name":"{name}","email":"{email}","id":"{zid}","participant_user_id":"{zid}","user_id":"{uid}","public_ip":"198.51.100.{}",{times}}}}}}}}}"#,
        ip % 250
    )
}

/// Event `i` of a stream (`body_of`: [`busy_account_body`] or [`growing_account_body`])
/// as the receiver stores it: normalized, received when sent, one JSON line (without
/// the newline).
pub fn stored_line(body_of: fn(usize, i64) -> String, i: usize, t0_ms: i64) -> Result<String, EnvelopeError> {
    let env = Envelope::parse(body_of(i, t0_ms).as_bytes())?;
    let r = normalize(env, &Received { received_at_ms: t0_ms + i as i64 * 10, request: None });
    serde_json::to_string(&r).map_err(|e| EnvelopeError::Json(e.to_string()))
}

/// Event `i` of the busy account (see the module docs).
pub fn busy_account_body(i: usize, t0_ms: i64) -> String {
    let t = t0_ms + i as i64 * 10;
    if i % 50 == 49 {
        return settings_change(i, t);
    }
    // The i-th meeting event, spread round-robin over the rooms.
    let e = i - (i + 1) / 50;
    let room = e % ROOMS;
    let k = e / ROOMS;
    let instance = k / CYCLE;
    let step = k % CYCLE;
    let number = 80_000_000_000u64 + room as u64;
    let uuid = format!("r{room}-i{instance}==");
    let meeting = (number, uuid.as_str(), room);
    let person = |j: usize| {
        // Attendee j of this instance: an employee, every 13th a guest. Instances of all
        // rooms run side by side, so nobody sits in two meetings at once; the next round
        // of instances seats the next 62,000 employees.
        let seat = (room * JOINS + j + instance * ROOMS * JOINS) % EMPLOYEES;
        if j == 1 {
            // The host opens the meeting.
            (format!("Host {room}"), format!("host{room}@acme.example"), format!("H{room}"), format!("{}", 16_000_000 + j))
        } else if j.is_multiple_of(13) {
            (format!("Guest {room}-{instance}-{j}"), String::new(), String::new(), format!("{}", 1_000_000 + j))
        } else {
            (format!("Person {seat}"), format!("p{seat}@acme.example"), format!("Z{seat}"), format!("{}", 16_000_000 + j))
        }
    };
    match step {
        0 | 63 => {
            let event = if step == 0 { "meeting.started" } else { "meeting.ended" };
            format!(
                r#"{{"event":"{event}","event_ts":{t},"payload":{{"account_id":"A","object":{{"id":"{number}","uuid":"{uuid}","topic":"Team sync {room}","host_id":"H{room}","type":2,"duration":30,"timezone":"UTC","start_time":"2026-11-28T09:00:00Z"}}}}}}"#
            )
        }
        1..=JOINS => {
            let (name, email, zid, uid) = person(step);
            participant_event("meeting.participant_joined", t, meeting, (&name, &email, &zid, &uid), i)
        }
        _ => {
            let (name, email, zid, uid) = person(step - JOINS);
            participant_event("meeting.participant_left", t, meeting, (&name, &email, &zid, &uid), i)
        }
    }
}

/// Event `i` of the growing account (see the module docs).
pub fn growing_account_body(i: usize, t0_ms: i64) -> String {
    let t = t0_ms + i as i64 * 10;
    match i % 50 {
        0 => settings_change(i, t),
        1..=29 => {
            let m = i % ROOMS;
            let number = 80_000_000_000u64 + m as u64;
            let uuid = format!("uuid-{m}==");
            let (email, zid) =
                if i.is_multiple_of(13) { (String::new(), String::new()) } else { (format!("p{i}@acme.example"), format!("Z{i}")) };
            participant_event(
                "meeting.participant_joined",
                t,
                (number, &uuid, m),
                (&format!("Person {i}"), &email, &zid, &i.to_string()),
                i,
            )
        }
        _ => {
            // The person who joined 25 events earlier leaves that meeting, as they joined.
            let j = i - 25;
            let m = j % ROOMS;
            let number = 80_000_000_000u64 + m as u64;
            let uuid = format!("uuid-{m}==");
            let (email, zid) =
                if j.is_multiple_of(13) { (String::new(), String::new()) } else { (format!("p{j}@acme.example"), format!("Z{j}")) };
            participant_event("meeting.participant_left", t, (number, &uuid, m), (&format!("Person {j}"), &email, &zid, &j.to_string()), j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordV1;
    use crate::roster::{MeetingBook, MeetingPhase};

    fn record(body: &str, t: i64) -> RecordV1 {
        let env = Envelope::parse(body.as_bytes()).expect("valid envelope");
        normalize(env, &Received { received_at_ms: t, request: None })
    }

    #[test]
    fn busy_meetings_fill_empty_and_end() {
        let t0 = 1_795_856_400_000;
        let mut book = MeetingBook::default();
        let mut events = std::collections::BTreeMap::<String, usize>::new();
        // One full cycle of every room.
        let n = CYCLE * ROOMS * 50 / 49 + 50;
        for i in 0..n {
            let r = record(&busy_account_body(i, t0), t0);
            *events.entry(r.event.clone()).or_default() += 1;
            book.apply(&r, None);
        }
        assert!(events["meeting.participant_joined"] >= ROOMS * JOINS, "{events:?}");
        assert_eq!(events["meeting.participant_joined"], events["meeting.participant_left"]);
        assert!(events["user.settings_updated"] >= n / 50 - 1);
        let first = &book.meetings["r7-i0=="];
        assert_eq!(first.phase, MeetingPhase::Ended);
        assert_eq!(first.attendees.len(), JOINS, "31 distinct attendees per instance");
        assert_eq!(first.present(), 0, "everyone who joined left");
    }

    #[test]
    fn growing_joins_are_new_people_and_leaves_match_them() {
        let t0 = 1_795_856_400_000;
        let mut book = MeetingBook::default();
        for i in 0..10_000 {
            book.apply(&record(&growing_account_body(i, t0), t0), None);
        }
        let attendees: usize = book.meetings.values().map(|m| m.attendees.len()).sum();
        let present: usize = book.meetings.values().map(|m| m.present()).sum();
        assert_eq!(attendees, (0..10_000).filter(|i| (1..=29).contains(&(i % 50))).count());
        assert!(present < attendees / 2, "leaves take people out: {present} of {attendees}");
        assert!(book.meetings.values().all(|m| m.phase == MeetingPhase::Running));
    }
}
