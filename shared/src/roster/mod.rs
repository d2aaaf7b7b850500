//! Live meeting state rebuilt from records: which meetings run, who is in each right now,
//! who is waiting. Used by the stateful detector and the console's Meetings view, so
//! both agree. Robust to Zoom's delivery: each participant's presence follows the event
//! with the latest *payload* time, so a leave delivered after a later rejoin does not
//! remove them, and duplicates change nothing.
//!
//! Why one file of this length: the meeting book is one state machine over one set of
//! tables (instances, rosters), and its unit tests (a quarter of the file) stay beside
//! it; the compact person it keeps is in `person.rs`, the caps that bound it
//! ([`Limits`]) in `caps.rs`, its tables keyed by hashed text ([`Keyed`]) in `keyed.rs`.

use foldhash::HashMap;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;

mod caps;
mod keyed;
mod person;

use crate::record::{Category, RecordV1, Severity};
pub use keyed::{BookKeys, HasKey, Keyed, hash_key};
pub use person::RosterPerson;

/// A meeting's attendees by identity key.
pub type Attendees = Keyed<Box<Attendee>>;

/// Meeting lifecycle as far as the records tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MeetingPhase {
    /// Only scheduling events seen.
    Scheduled,
    /// Started (or someone is in it).
    Running,
    /// Ended.
    Ended,
}

/// Where a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    /// In the meeting.
    In,
    /// In the waiting room (or waiting for the host).
    Waiting,
    /// Gone.
    Left,
}

/// One person's line in a roster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attendee {
    /// Identity key ([`Participant::identity_key`]).
    pub key: String,
    /// Latest known details.
    pub participant: RosterPerson,
    /// Where they are.
    pub presence: Presence,
    /// Payload time of the event that set `presence` (ms).
    pub since_ms: i64,
    /// First join time seen (ms).
    pub first_join_ms: Option<i64>,
    /// Last leave time seen (ms).
    pub left_ms: Option<i64>,
    /// How many joins seen.
    pub joins: u32,
    /// True when this is the meeting's host.
    pub is_host: bool,
    /// Worst flag seen on this person's records in this meeting.
    pub worst: Option<Severity>,
    /// True once the host let them in from the waiting room (an `admitted` event, or a
    /// join after `joined_waiting_room`): someone looked at them before they got in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admitted: bool,
    /// True while they have been in the host-controlled waiting room in this instance.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waited: bool,
    /// While they are in from more than one device (Zoom gives each device its own
    /// participant uuid): the devices other than the latest one shown, by a hash of their
    /// uuid. Leaving from one of them leaves the person in; see [`Attendee::devices`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_devices: Option<Box<Vec<u64>>>,
}

impl Attendee {
    /// Devices they are in the meeting from now: 0 when not in, else 1 and up.
    pub fn devices(&self) -> usize {
        match self.presence {
            Presence::In => 1 + self.other_devices.as_ref().map_or(0, |d| d.len()),
            Presence::Waiting | Presence::Left => 0,
        }
    }
}

/// A device's key among an attendee's devices.
fn device_hash(participant_uuid: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0xde71ce).hash_one(participant_uuid)
}

/// Keeps track of a person's devices for one non-stale presence event from device `uuid`.
/// Returns true when the event is a device leaving while another stays in: the person
/// stays in, and the event changes nothing else. Allocates only when a second device
/// joins.
fn track_devices(a: &mut Attendee, uuid: &str, after: Presence) -> bool {
    if a.presence != Presence::In {
        a.other_devices = None;
        return false;
    }
    let shown = a.participant.participant_uuid();
    match after {
        Presence::In => {
            if let Some(prev) = shown.filter(|s| *s != uuid) {
                // Another device joins: the one shown until now stays in beside it.
                let (prev, this) = (device_hash(prev), device_hash(uuid));
                let others = a.other_devices.get_or_insert_with(Default::default);
                if !others.contains(&prev) {
                    others.push(prev);
                }
                others.retain(|d| *d != this);
                if others.is_empty() {
                    a.other_devices = None;
                }
            }
            false
        }
        Presence::Left => {
            let Some(others) = a.other_devices.as_mut() else { return false };
            let this = device_hash(uuid);
            let stays_in = if let Some(i) = others.iter().position(|d| *d == this) {
                others.swap_remove(i); // a device not shown left
                true
            } else if shown == Some(uuid) {
                others.pop(); // the device shown left; another is still in
                true
            } else {
                others.clear();
                false
            };
            if others.is_empty() {
                a.other_devices = None;
            }
            stays_in
        }
        Presence::Waiting => {
            a.other_devices = None;
            false
        }
    }
}

/// One meeting instance (keyed by uuid).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meeting {
    /// Instance uuid (or `id:<number>` when Zoom sent no uuid).
    pub key: String,
    /// Meeting number.
    pub id: Option<String>,
    /// Topic.
    pub topic: Option<String>,
    /// Host's Zoom user id.
    pub host_id: Option<String>,
    /// `meeting` or `webinar`.
    pub kind: Option<String>,
    /// Lifecycle.
    pub phase: MeetingPhase,
    /// When it started (ms), if seen.
    pub started_ms: Option<i64>,
    /// When it ended (ms), if seen.
    pub ended_ms: Option<i64>,
    /// Latest payload time of any record about it.
    pub last_ms: i64,
    /// Everyone seen, by identity key ([`Attendees`]).
    pub attendees: Attendees,
    /// Worst flag seen on any record about it.
    pub worst: Option<Severity>,
    /// Whether `meeting.started` was seen (the roster is then complete).
    pub start_seen: bool,
    /// Closed by zoomwatch after [`Limits::idle_meeting_ms`] without a record: its
    /// `meeting.ended` never came.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed_idle: bool,
    /// Roster lines not kept (past [`Limits::departed_per_meeting`], or the whole roster
    /// of an ended meeting past [`Limits::ended_rosters`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u32,
    /// Fingerprint of the descriptive fields last applied (number, topic, host, kind):
    /// most records repeat them, and comparing the strings costs a cache miss each.
    #[serde(skip)]
    described: u64,
    /// True when `latest_by_id` maps this meeting's number to it (then a record about
    /// it needs no lookup there). Cleared when that changes; not saved (a restored book
    /// finds out again).
    #[serde(skip)]
    latest_for_id: bool,
    /// How many in `attendees` have left, when known: kept as presence changes, so the
    /// caps look at a roster only when it is over. Not saved: a restored meeting is
    /// counted the first time the caps are enforced.
    #[serde(skip)]
    left: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Meeting {
    fn new(key: String) -> Self {
        Self {
            key,
            id: None,
            topic: None,
            host_id: None,
            kind: None,
            phase: MeetingPhase::Scheduled,
            started_ms: None,
            ended_ms: None,
            last_ms: i64::MIN,
            attendees: Attendees::default(),
            worst: None,
            start_seen: false,
            closed_idle: false,
            dropped: 0,
            described: 0,
            latest_for_id: false,
            left: Some(0),
        }
    }

    /// How many are in the meeting now.
    pub fn present(&self) -> usize {
        self.attendees.values().filter(|a| a.presence == Presence::In).count()
    }

    /// How many are waiting now.
    pub fn waiting(&self) -> usize {
        self.attendees.values().filter(|a| a.presence == Presence::Waiting).count()
    }

    /// Whether the host is in the meeting now.
    pub fn host_present(&self) -> bool {
        self.attendees.values().any(|a| a.is_host && a.presence == Presence::In)
    }

    /// The roster line of `p`: by identity, else by display name when exactly one person
    /// of that name is in (screen-share and role webhooks name a guest only that way).
    pub fn find(&self, p: &crate::record::Participant) -> Option<&Attendee> {
        self.attendees.get(&p.identity_key()).map(|a| &**a).or_else(|| {
            let name = p.name.as_deref()?;
            let mut present = self.attendees.values().filter(|a| a.presence == Presence::In && a.participant.name() == Some(name));
            let one = present.next()?;
            present.next().is_none().then_some(&**one)
        })
    }

    /// Attendees sorted for display: present first, then waiting, then left; by join time.
    pub fn roster(&self) -> Vec<&Attendee> {
        let mut v: Vec<&Attendee> = self.attendees.values().map(|a| &**a).collect();
        let rank = |p: Presence| match p {
            Presence::In => 0,
            Presence::Waiting => 1,
            Presence::Left => 2,
        };
        v.sort_by(|a, b| rank(a.presence).cmp(&rank(b.presence)).then(a.first_join_ms.cmp(&b.first_join_ms)).then(a.key.cmp(&b.key)));
        v
    }
}

/// The key a record's meeting is tracked under, if it concerns a meeting.
pub fn meeting_key(r: &RecordV1) -> Option<String> {
    let m = r.meeting.as_ref()?;
    m.uuid.clone().or_else(|| m.id.as_ref().map(|id| format!("id:{id}")))
}

/// What applying a record changed for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Meeting key.
    pub meeting: String,
    /// Presence before.
    pub before: Option<Presence>,
    /// Presence after.
    pub after: Presence,
}

/// All meetings seen.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct MeetingBook {
    /// By meeting key.
    pub meetings: Keyed<Meeting>,
    /// Latest instance key per meeting number, for events that carry only the number
    /// (`meeting.updated`, some deletes).
    latest_by_id: HashMap<String, String>,
    /// What the limits took away so far.
    #[serde(default)]
    pub trimmed: Trimmed,
    /// The identity key of the record being applied (one buffer, not one per record).
    #[serde(skip)]
    key_buf: String,
    /// (Meeting key, person's identity) of those the `present` cap took to have left
    /// since [`MeetingBook::take_taken_as_left`] was last called: their sessions end too.
    #[serde(skip)]
    taken_as_left: Vec<(String, String)>,
}

/// What [`MeetingBook::enforce`] has dropped or closed, in total.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trimmed {
    /// Ended meetings whose roster was dropped.
    pub rosters: u64,
    /// Departed people dropped from rosters.
    pub departed: u64,
    /// Running meetings closed for being idle.
    pub closed_idle: u64,
    /// People taken to have left past [`Limits::present`] (silent longest first).
    #[serde(default)]
    pub presences: u64,
}

/// How full the book is, against its [`Limits`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Meetings tracked (running, scheduled and ended).
    pub meetings: usize,
    /// Ended meetings that still hold a roster.
    pub ended_rosters: usize,
    /// Roster lines held, all meetings.
    pub attendees: usize,
    /// The most departed people one roster holds.
    pub most_departed: usize,
    /// People in or waiting, all meetings.
    pub present: usize,
}

impl MeetingBook {
    /// Applies one record (in any order) whose worst flag is `worst`. Returns the
    /// presence change it caused, if any.
    pub fn apply(&mut self, r: &RecordV1, worst: Option<Severity>) -> Option<Transition> {
        self.apply_at(r, r.occurred_ms(), worst)
    }

    /// [`MeetingBook::apply`] with the record's payload time `t` (ms) already parsed.
    pub fn apply_at(&mut self, r: &RecordV1, t: i64, worst: Option<Severity>) -> Option<Transition> {
        self.apply_described(r, t, worst, &BookKeys::of(r))
    }

    /// [`MeetingBook::apply_at`] with the record's [`BookKeys`] already computed (where
    /// the record was prepared).
    pub fn apply_described(&mut self, r: &RecordV1, t: i64, worst: Option<Severity>, keys: &BookKeys) -> Option<Transition> {
        if !matches!(r.category, Category::Meeting | Category::Webinar | Category::Participant) {
            return None;
        }
        let info = r.meeting.as_ref()?;
        // Most records are about a known instance that already is its number's latest:
        // one lookup, nothing else to keep current.
        if info.uuid.is_some()
            && let Some(m) = self.meetings.get_mut_hashed(keys.instance)
            && (info.id.is_none() || (m.latest_for_id && m.id == info.id))
        {
            return apply_to(m, &mut self.key_buf, r, info, t, worst, keys);
        }
        let by_number;
        let key: &str = match (&info.uuid, &info.id) {
            (Some(uuid), id) => {
                // Keep "the latest instance of this number" current.
                if let Some(id) = id {
                    if self.latest_by_id.get(id) != Some(uuid)
                        && let Some(old) = self.latest_by_id.insert(id.clone(), uuid.clone())
                        && let Some(m) = self.meetings.get_mut(&old)
                    {
                        m.latest_for_id = false;
                    }
                    if let Some(m) = self.meetings.get_mut(uuid.as_str()) {
                        m.latest_for_id = m.id.as_ref() == Some(id);
                    }
                }
                uuid
            }
            // Only the number: the instance we know, else a per-number entry for presence
            // events; a settings change alone does not make a meeting appear.
            (None, Some(id)) => match self.latest_by_id.get(id) {
                Some(k) => {
                    by_number = k.clone();
                    &by_number
                }
                None if r.category == Category::Participant => {
                    by_number = format!("id:{id}");
                    &by_number
                }
                None => return None,
            },
            (None, None) => return None,
        };
        let (m, _) = self.meetings.get_or_add(key, || Meeting::new(key.to_owned()));
        apply_to(m, &mut self.key_buf, r, info, t, worst, keys)
    }
}

/// The fingerprint of a meeting description (number, topic, host, kind): most records
/// repeat their meeting's, and comparing the strings costs a cache miss each.
pub fn description_fingerprint(info: &crate::record::MeetingRef) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5a17).hash_one((&info.id, &info.topic, &info.host_id, &info.kind))
}

/// Applies `r` (about meeting `info`; `keys` are its [`BookKeys`]) to its meeting `m`;
/// `key_buf` holds the participant's identity key when they are new.
fn apply_to(
    m: &mut Meeting,
    key_buf: &mut String,
    r: &RecordV1,
    info: &crate::record::MeetingRef,
    t: i64,
    worst: Option<Severity>,
    keys: &BookKeys,
) -> Option<Transition> {
    let described = keys.described;
    // Later records win for descriptive fields, but never erase them; copy only what
    // changed (most events repeat the same topic and host).
    if (t >= m.last_ms || m.topic.is_none()) && m.described != described {
        m.described = described;
        if info.id.is_some() && m.id != info.id {
            // Its number changed: whether it is that number's latest is not known.
            m.latest_for_id = false;
        }
        set_if_changed(&mut m.id, &info.id);
        set_if_changed(&mut m.topic, &info.topic);
        set_if_changed(&mut m.host_id, &info.host_id);
        set_if_changed(&mut m.kind, &info.kind);
    }
    m.last_ms = m.last_ms.max(t);
    if worst.is_some() {
        m.worst = m.worst.max(worst);
    }
    match (r.category, r.action.as_str()) {
        (Category::Meeting | Category::Webinar, "started") => {
            m.start_seen = true;
            m.started_ms = Some(m.started_ms.map_or(t, |s| s.min(t)));
            if m.ended_ms.is_none_or(|e| e < t) {
                m.phase = MeetingPhase::Running;
                m.ended_ms = None;
            }
            None
        }
        (Category::Meeting | Category::Webinar, "ended") => {
            if m.started_ms.is_none_or(|s| s <= t) {
                m.phase = MeetingPhase::Ended;
                m.ended_ms = Some(t);
                for a in m.attendees.values_mut() {
                    if a.presence != Presence::Left && a.since_ms <= t {
                        a.presence = Presence::Left;
                        a.since_ms = t;
                        a.left_ms = Some(t);
                        count_left(&mut m.left, 1);
                    }
                }
            }
            None
        }
        (Category::Participant, action) => {
            let p = r.participant.as_ref()?;
            let after = match action {
                "joined" | "jbh_joined" | "admitted" => Presence::In,
                "joined_waiting_room" | "put_in_waiting_room" | "jbh_waiting" => Presence::Waiting,
                "left" | "left_waiting_room" | "jbh_waiting_left" => Presence::Left,
                _ => return None, // role changes, sharing, breakout rooms: no presence change
            };
            let is_host = m.host_id.is_some() && p.zoom_user_id == m.host_id;
            let (a, added) = m.attendees.get_or_add_hashed(keys.attendee, || {
                p.write_identity_key(key_buf);
                Box::new(Attendee {
                    key: key_buf.clone(),
                    participant: RosterPerson::from(p),
                    presence: Presence::Left,
                    since_ms: i64::MIN,
                    first_join_ms: None,
                    left_ms: None,
                    joins: 0,
                    is_host,
                    worst: None,
                    admitted: false,
                    waited: false,
                    other_devices: None,
                })
            });
            if added {
                count_left(&mut m.left, 1);
            }
            if worst.is_some() {
                a.worst = a.worst.max(worst);
            }
            match action {
                "joined_waiting_room" | "put_in_waiting_room" => a.waited = true,
                "admitted" => a.admitted = true,
                "joined" if a.waited => a.admitted = true,
                _ => {}
            }
            if after == Presence::In {
                a.joins += 1;
                a.first_join_ms = Some(a.first_join_ms.map_or(t, |f| f.min(t)));
            }
            if after == Presence::Left && action == "left" {
                a.left_ms = Some(a.left_ms.map_or(t, |l| l.max(t)));
            }
            // Leaving the waiting room to be admitted must not undo an earlier "in".
            let stale = t < a.since_ms || (action == "left_waiting_room" && a.presence == Presence::In);
            if stale {
                return None;
            }
            if let Some(uuid) = p.participant_uuid.as_deref().filter(|u| !u.is_empty())
                && track_devices(a, uuid, after)
            {
                return None;
            }
            let before = (a.since_ms != i64::MIN).then_some(a.presence);
            match (a.presence == Presence::Left, after == Presence::Left) {
                (true, false) => count_left(&mut m.left, -1),
                (false, true) => count_left(&mut m.left, 1),
                _ => {}
            }
            a.presence = after;
            a.since_ms = t;
            a.is_host |= is_host;
            a.participant.merge(p);
            if after == Presence::In && m.phase == MeetingPhase::Scheduled {
                m.phase = MeetingPhase::Running;
            }
            Some(Transition { meeting: m.key.clone(), before, after })
        }
        _ => None,
    }
}

/// Adds `delta` to a meeting's count of departed attendees, when it is known.
fn count_left(left: &mut Option<u32>, delta: i32) {
    if let Some(n) = left {
        *n = n.saturating_add_signed(delta);
    }
}

/// Copies `from` into `into` when it holds a different value (never erases).
pub(crate) fn set_if_changed(into: &mut Option<String>, from: &Option<String>) {
    if let Some(v) = from
        && into.as_deref() != Some(v.as_str())
    {
        *into = Some(v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Geo, Participant};

    #[test]
    fn a_roster_person_keeps_what_it_shows_and_merges_like_a_participant() {
        let joined = Participant {
            name: Some("Dana Whitfield".into()),
            email: Some("dana@acme.example".into()),
            user_id: Some("16778240".into()),
            zoom_user_id: Some("dWf3".into()),
            ip: Some("203.0.113.9".into()),
            private_ip: Some("10.0.0.4".into()),
            geo: Some(Box::new(Geo { country: Some("US".into()), ..Geo::default() })),
            ..Participant::default()
        };
        let mut p = RosterPerson::from(&joined);
        assert_eq!(
            (p.name(), p.email(), p.zoom_user_id(), p.ip()),
            (Some("Dana Whitfield"), Some("dana@acme.example"), Some("dWf3"), Some("203.0.113.9"))
        );
        assert_eq!((p.participant_uuid(), p.registrant_id(), p.leave_reason()), (None, None, None));
        assert_eq!(p.geo().and_then(|g| g.country.as_deref()), Some("US"));
        assert!(!p.guest());
        // An empty field is present and empty, not absent.
        assert_eq!(RosterPerson::from(&Participant { name: Some(String::new()), ..Participant::default() }).name(), Some(""));

        // A later event: present fields replace, absent ones erase nothing.
        let left = Participant {
            name: Some("Dana W.".into()),
            leave_reason: Some("left the meeting".into()),
            geo: Some(Box::new(Geo { country: Some("CA".into()), ..Geo::default() })),
            ..Participant::default()
        };
        p.merge(&left);
        assert_eq!(
            (p.name(), p.email(), p.zoom_user_id(), p.leave_reason()),
            (Some("Dana W."), Some("dana@acme.example"), Some("dWf3"), Some("left the meeting"))
        );
        assert_eq!(p.geo().and_then(|g| g.country.as_deref()), Some("CA"));
        assert!(!p.guest(), "still signed in: the Zoom id was kept");

        // Saved as a participant (without the per-session id and private IP), read back the same.
        let saved = serde_json::to_value(&p).unwrap();
        assert_eq!(saved["name"], "Dana W.");
        assert!(saved.get("user_id").is_none() && saved.get("private_ip").is_none(), "{saved}");
        let back: RosterPerson = serde_json::from_value(saved).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn the_place_shown_is_the_place_of_the_address_shown() {
        // One identity, a second device: its private address has no place, so the roster
        // must not show the first device's country beside it.
        let se = Participant {
            email: Some("dana@acme.example".into()),
            zoom_user_id: Some("dWf3".into()),
            ip: Some("89.160.20.112".into()),
            geo: Some(Box::new(Geo { country: Some("SE".into()), ..Geo::default() })),
            ..Participant::default()
        };
        let mut p = RosterPerson::from(&se);
        let lan = Participant { email: se.email.clone(), ip: Some("10.1.2.3".into()), ..Participant::default() };
        p.merge(&lan);
        assert_eq!((p.ip(), p.geo()), (Some("10.1.2.3"), None), "the private address came with no place");
        // Back on the first address: its place again. The same address repeated without a
        // place keeps the one it has.
        p.merge(&se);
        assert_eq!(p.geo().and_then(|g| g.country.as_deref()), Some("SE"));
        p.merge(&Participant { ip: Some("89.160.20.112".into()), ..Participant::default() });
        assert_eq!(p.geo().and_then(|g| g.country.as_deref()), Some("SE"));
    }
}
