//! `zoomwatch.alert` records: the stateful detector's alerts written beside the events,
//! so the SIEM sees the raid and not only the flagged joins. [`AlertBook`] follows the
//! detector's [`AlertEvent`]s and turns each new or grown alert into one record.
//!
//! An alert's id follows from the records it rests on (rule, subject, first record), so
//! replaying the same stream raises the same alert again, never a second one. Each
//! record's id follows from the alert id and its count: the first is `raised`, later ones
//! `updated` (a raid of 8, then 20) — writing the same record twice is harmless
//! downstream, and a SIEM keeps the latest record per `alert.id`.

use std::collections::VecDeque;

use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::blocks::AlertBlock;
use crate::record::{ALERT_EVENT, Category, Flag, MeetingRef, RecordV1};
use crate::rules::{Alert, AlertEvent, MeetingBrief};

/// Record ids kept on one alert.
const MAX_RECORD_IDS: usize = 200;
/// Alerts an [`AlertBook`] follows; the least recently changed go first. The detector
/// closes an alert 30 minutes after its last finding, so this is far more than needed.
pub const MAX_TRACKED: usize = 20_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tracked {
    alert: Alert,
    last_seen: String,
    /// Count of the last record written (0: none yet).
    written: u32,
    /// Records written so far.
    updates: u32,
}

/// The alerts seen so far and what was already written of them.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AlertBook {
    alerts: HashMap<String, Tracked>,
    /// Alert ids, least recently changed first (may hold stale entries; see `touch`).
    order: VecDeque<String>,
    /// Ids with news not yet written (may repeat).
    dirty: Vec<String>,
    /// What the destination already holds of alerts not (yet) followed: (count,
    /// update) by alert id, from records read back ([`AlertBook::mark_written`]).
    #[serde(default)]
    marks: HashMap<String, (u32, u32)>,
}

/// The record id of the `count`-th state of alert `id`.
fn record_id(id: &str, count: u32) -> String {
    let mut h = Sha256::new();
    h.update(b"zoomwatch.alert\0");
    h.update(id.as_bytes());
    h.update([0]);
    h.update(count.to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

impl AlertBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many alerts are followed.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Whether an alert with this id was seen.
    pub fn contains(&self, id: &str) -> bool {
        self.alerts.contains_key(id)
    }

    fn touch(&mut self, id: &str) {
        // Repeats are harmless: `drain` writes an alert only when its count moved.
        self.dirty.push(id.to_owned());
        self.order.push_back(id.to_owned());
        // `order` holds an entry per change; compact it when it gets long.
        if self.order.len() > 4 * MAX_TRACKED {
            let mut keep = foldhash::HashSet::default();
            let mut fresh = VecDeque::with_capacity(self.alerts.len());
            for k in self.order.drain(..).rev() {
                if self.alerts.contains_key(&k) && keep.insert(k.clone()) {
                    fresh.push_front(k);
                }
            }
            self.order = fresh;
        }
        while self.alerts.len() > MAX_TRACKED {
            let Some(old) = self.order.pop_front() else { break };
            if !self.order.contains(&old) {
                self.alerts.remove(&old);
                self.dirty.retain(|d| d != &old);
            }
        }
    }

    /// Follows one detector event.
    pub fn apply(&mut self, ev: AlertEvent) {
        match ev {
            AlertEvent::Raised(a) => {
                if self.alerts.contains_key(&a.id) {
                    return; // raised again by a replay: nothing new
                }
                let id = a.id.clone();
                let last_seen = a.occurred_at.clone();
                let (written, updates) = self.marks.remove(&id).unwrap_or((0, 0));
                self.alerts.insert(id.clone(), Tracked { alert: *a, last_seen, written, updates });
                self.touch(&id);
            }
            AlertEvent::Grew { alert_id, record_id, count, severity, reason, occurred_at } => {
                let Some(t) = self.alerts.get_mut(&alert_id) else { return };
                if count <= t.alert.count {
                    return;
                }
                t.alert.count = count;
                t.alert.severity = t.alert.severity.max(severity);
                t.alert.reason = reason;
                if occurred_at > t.last_seen {
                    t.last_seen = occurred_at;
                }
                if t.alert.record_ids.len() < MAX_RECORD_IDS && !t.alert.record_ids.contains(&record_id) {
                    t.alert.record_ids.push(record_id);
                }
                self.touch(&alert_id);
            }
        }
    }

    /// One record for each alert raised or grown since the last call, in the order they
    /// changed; `received_ms` is the time of writing, `source` what was watched.
    pub fn drain(&mut self, received_ms: i64, source: &str) -> Vec<RecordV1> {
        let mut out = Vec::new();
        for id in std::mem::take(&mut self.dirty) {
            let Some(t) = self.alerts.get_mut(&id) else { continue };
            if t.alert.count <= t.written {
                continue;
            }
            let update = t.updates;
            t.updates += 1;
            t.written = t.alert.count;
            out.push(alert_record(&t.alert, &t.last_seen, update, received_ms, source));
        }
        out
    }

    /// Marks what a record already written says (read back from the destination after
    /// a crash, so nothing is written twice).
    /// Returns whether it was news: this update of the alert was not known as written.
    pub fn mark_written(&mut self, block: &AlertBlock) -> bool {
        if let Some(t) = self.alerts.get_mut(&block.id) {
            let news = t.updates <= block.update;
            t.written = t.written.max(block.count);
            t.updates = t.updates.max(block.update + 1);
            news
        } else if self.marks.len() < MAX_TRACKED || self.marks.contains_key(&block.id) {
            let m = self.marks.entry(block.id.clone()).or_insert((0, 0));
            let news = m.1 <= block.update;
            *m = (m.0.max(block.count), m.1.max(block.update + 1));
            news
        } else {
            false
        }
    }
}

fn seal_of(block: &AlertBlock, key: &[u8]) -> Option<String> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    for part in [block.id.as_bytes(), &block.count.to_le_bytes(), &block.update.to_le_bytes(), block.rule.as_bytes()] {
        mac.update(part);
        mac.update(&[0]);
    }
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Seals an alert record's block with `key` ([`AlertBlock::seal`]).
pub fn seal(r: &mut RecordV1, key: &[u8]) {
    if let Some(b) = r.alert.as_deref_mut() {
        b.seal = seal_of(b, key);
    }
}

/// Whether `r` is an alert record sealed with `key`: written by the watcher that holds it.
pub fn sealed_by(r: &RecordV1, key: &[u8]) -> bool {
    let Some(b) = r.alert.as_deref().filter(|_| r.event == ALERT_EVENT && r.request.is_none()) else {
        return false;
    };
    b.seal.is_some() && b.seal == seal_of(b, key)
}

/// The `zoomwatch.alert` record of `a` at its current count.
pub fn alert_record(a: &Alert, last_seen: &str, update: u32, received_ms: i64, source: &str) -> RecordV1 {
    let last_ms = crate::timefmt::parse_rfc3339_ms(last_seen).unwrap_or(received_ms);
    let action = if update == 0 { "raised" } else { "updated" };
    let mut r = RecordV1::own(record_id(&a.id, a.count), ALERT_EVENT, Category::Alert, action, last_ms, received_ms);
    r.meeting =
        a.meeting.as_ref().map(|m| MeetingRef { id: m.id.clone(), uuid: m.uuid.clone(), topic: m.topic.clone(), ..Default::default() });
    r.participant = a.participant.clone();
    r.actor = a.actor.clone().map(Box::new);
    r.flags = vec![Flag { rule: a.rule.clone(), severity: a.severity, reason: a.reason.clone() }];
    r.alert = Some(Box::new(AlertBlock {
        seal: None,
        id: a.id.clone(),
        rule: a.rule.clone(),
        severity: a.severity,
        reason: a.reason.clone(),
        record_ids: a.record_ids.clone(),
        first_seen: a.occurred_at.clone(),
        last_seen: last_seen.to_owned(),
        count: a.count,
        update,
        source: source.to_owned(),
    }));
    r
}

/// The alert a `zoomwatch.alert` record describes (for consoles merging service alerts
/// with their own), or `None` for any other record.
pub fn alert_of(r: &RecordV1) -> Option<Alert> {
    if r.event != ALERT_EVENT {
        return None;
    }
    let b = r.alert.as_deref()?;
    Some(Alert {
        id: b.id.clone(),
        rule: b.rule.clone(),
        severity: b.severity,
        reason: b.reason.clone(),
        meeting: r.meeting.as_ref().map(|m| MeetingBrief { id: m.id.clone(), uuid: m.uuid.clone(), topic: m.topic.clone() }),
        participant: r.participant.clone(),
        actor: r.actor.as_deref().cloned(),
        record_ids: b.record_ids.clone(),
        occurred_at: b.first_seen.clone(),
        count: b.count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn raised(id: &str) -> AlertEvent {
        AlertEvent::Raised(Box::new(Alert {
            id: id.into(),
            rule: "join-burst".into(),
            severity: Severity::High,
            reason: "5 guests joined".into(),
            meeting: Some(MeetingBrief { id: Some("1".into()), uuid: None, topic: Some("Board".into()) }),
            participant: None,
            actor: None,
            record_ids: vec!["r1".into()],
            occurred_at: "2026-11-28T10:00:00.000Z".into(),
            count: 1,
        }))
    }

    fn grew(id: &str, count: u32, rec: &str) -> AlertEvent {
        AlertEvent::Grew {
            alert_id: id.into(),
            record_id: rec.into(),
            count,
            severity: Severity::High,
            reason: format!("{} guests joined", count + 4),
            occurred_at: format!("2026-11-28T10:00:{:02}.000Z", count),
        }
    }

    #[test]
    fn raised_then_updated_once_per_drain() {
        let mut b = AlertBook::new();
        b.apply(raised("a1"));
        let first = b.drain(1, "file:x");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].action, "raised");
        assert_eq!(first[0].alert.as_ref().map(|a| a.count), Some(1));
        assert!(b.drain(2, "file:x").is_empty(), "nothing new, nothing written");
        for (n, rec) in [(2, "r2"), (3, "r3"), (4, "r4")] {
            b.apply(grew("a1", n, rec));
        }
        let upd = b.drain(3, "file:x");
        assert_eq!(upd.len(), 1, "three findings, one update");
        let blk = upd[0].alert.as_deref().expect("block");
        assert_eq!((blk.count, blk.update, blk.reason.as_str()), (4, 1, "8 guests joined"));
        assert_eq!(blk.last_seen, "2026-11-28T10:00:04.000Z");
        assert_eq!(blk.first_seen, "2026-11-28T10:00:00.000Z");
        assert_eq!(blk.record_ids, ["r1", "r2", "r3", "r4"]);
        assert_eq!(upd[0].action, "updated");
        assert_ne!(upd[0].id, first[0].id);
        // A replay of the same events changes nothing.
        b.apply(raised("a1"));
        b.apply(grew("a1", 3, "r3"));
        assert!(b.drain(4, "file:x").is_empty());
    }

    #[test]
    fn record_ids_follow_the_alert_and_its_count() {
        let mut a = AlertBook::new();
        let mut b = AlertBook::new();
        for book in [&mut a, &mut b] {
            book.apply(raised("a1"));
            book.apply(grew("a1", 2, "r2"));
        }
        let (ra, rb) = (a.drain(10, "s"), b.drain(99, "s"));
        assert_eq!(ra[0].id, rb[0].id, "same alert state, same record id, whenever written");
        assert_eq!(alert_of(&ra[0]).map(|x| (x.id, x.count)), Some(("a1".to_owned(), 2)));
        assert!(alert_of(&RecordV1::own("x".into(), "meeting.started", Category::Meeting, "started", 0, 0)).is_none());
    }

    #[test]
    fn written_marks_from_the_destination_suppress_rewrites() {
        let mut b = AlertBook::new();
        b.apply(raised("a1"));
        b.apply(grew("a1", 2, "r2"));
        let before = b.clone().drain(1, "s");
        let blk = before[0].alert.as_deref().expect("block").clone();
        b.mark_written(&blk);
        assert!(b.drain(2, "s").is_empty());
        b.apply(grew("a1", 3, "r3"));
        let next = b.drain(3, "s");
        assert_eq!(next[0].alert.as_deref().map(|x| (x.count, x.update)), Some((3, 1)));
        // Read back before the replay raises it again (a restart after a crash).
        let mut fresh = AlertBook::new();
        fresh.mark_written(&blk);
        fresh.apply(raised("a1"));
        fresh.apply(grew("a1", 2, "r2"));
        assert!(fresh.drain(4, "s").is_empty(), "already in the destination");
    }

    #[test]
    fn bounded() {
        let mut b = AlertBook::new();
        for i in 0..(MAX_TRACKED + 50) {
            b.apply(raised(&format!("a{i}")));
        }
        assert_eq!(b.len(), MAX_TRACKED);
        assert!(!b.contains("a0") && b.contains(&format!("a{}", MAX_TRACKED + 49)));
        assert_eq!(b.drain(1, "s").len(), MAX_TRACKED);
    }
}
