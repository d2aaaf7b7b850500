//! The Posture view's data: the latest `zoomwatch.posture` record (score, failing
//! controls by scope) and the drift seen since — every change, from any source, that
//! took a checked setting out of policy, open until a later change or posture run
//! brings it back. Fed only admin records, so the cost stays off the join path.

use zoomwatch_shared::posture::{Failing, SettingsPolicy, Summary, drifts, posture_changes, summary_of};
use zoomwatch_shared::record::{Category, RecordV1, Severity};
use zoomwatch_shared::text::sanitize;

use foldhash::HashMap;

/// The key of a control in a scope in [`PostureBook::open_by_scope`].
fn scope_hash(control: &str, scope: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x0064_7269_6674).hash_one((control, scope))
}

/// Drift entries kept (oldest dropped first).
const KEEP: usize = 500;

/// One setting that left the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftEntry {
    /// When (the record's `occurred_at`).
    pub at: String,
    /// The setting's key (API path, or label for operation-log-only settings).
    pub control: String,
    /// What a person reads.
    pub title: String,
    /// CIS ids, joined.
    pub cis: String,
    /// Where, for people.
    pub scope: String,
    /// Scope key for matching a later restore.
    pub scope_key: String,
    /// `account` / `group:ID` when it can be reverted there.
    pub revert: Option<String>,
    /// `old → new` (or what posture found).
    pub change: String,
    /// The catalogue's severity.
    pub severity: Severity,
    /// Who changed it (the operator, or "posture check").
    pub who: String,
    /// The record that showed it.
    pub record_id: String,
    /// When and how it came back into policy, once it did.
    pub resolved: Option<String>,
}

/// What the Posture view shows.
#[derive(Debug, Clone, Default)]
pub struct PostureBook {
    /// The latest posture run: when, and what it said.
    pub latest: Option<(String, Summary)>,
    /// Drift, oldest first.
    pub drifts: std::collections::VecDeque<DriftEntry>,
    /// How many entries of `drifts` are open, by [`scope_hash`] of control and scope
    /// (its key, and its description when that differs): most admin records concern a
    /// setting with no open drift there, which this answers without going through the
    /// list. (Two pairs sharing a hash only cost a look through the list.)
    open_by_scope: HashMap<u64, u32>,
}

/// One line of the Posture view's list: an open drift, a failing control, or a
/// resolved drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostureRow<'a> {
    /// Out of policy since a change (newest first).
    Open(&'a DriftEntry),
    /// Failing at the last posture run.
    Failing(&'a Failing),
    /// Back in policy.
    Resolved(&'a DriftEntry),
}

impl PostureBook {
    /// Takes what an admin record says about the policy.
    pub fn observe(&mut self, r: &RecordV1, policy: &SettingsPolicy) {
        if r.category != Category::Admin {
            return;
        }
        if let Some(now) = summary_of(r) {
            if let Some((_, before)) = self.latest.take() {
                let (new, fixed) = posture_changes(&before, &now);
                for f in new {
                    let key = (f.control.clone(), f.scope.clone());
                    if self.open_index(&key.0, &key.1).is_none() {
                        self.push(DriftEntry {
                            at: r.occurred_at.clone(),
                            control: f.control.clone(),
                            title: f.title.clone(),
                            cis: f.cis.join("/"),
                            scope: f.scope.clone(),
                            scope_key: f.scope.clone(),
                            revert: f.scope_key.clone(),
                            change: format!("found {} (expected {})", f.actual, f.expected),
                            severity: f.severity,
                            who: "posture check".to_owned(),
                            record_id: r.id.clone(),
                            resolved: None,
                        });
                    }
                }
                for f in before.failing.iter().filter(|f| fixed.contains(&format!("{} in {}", f.control, f.scope))) {
                    self.resolve(&f.control, &f.scope, &r.occurred_at, "posture check");
                }
            }
            self.latest = Some((r.occurred_at.clone(), now));
            return;
        }
        let who = r.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.id.clone())).unwrap_or_else(|| "?".to_owned());
        for d in drifts(r, policy) {
            let control = d.info.key().to_owned();
            if d.restored {
                self.resolve(&control, &d.scope.describe(), &r.occurred_at, &who);
                self.resolve(&control, &d.scope.key(), &r.occurred_at, &who);
                continue;
            }
            let entry = DriftEntry {
                at: r.occurred_at.clone(),
                control,
                title: d.info.title.to_owned(),
                cis: d.info.cis.join("/"),
                scope: d.scope.describe(),
                scope_key: d.scope.key(),
                revert: d.info.api.and(d.scope.revert_key()),
                change: format!("{} → {}", sanitize(&d.old.to_string(), 24), sanitize(&d.new.to_string(), 24)),
                severity: d.info.severity,
                who: who.clone(),
                record_id: r.id.clone(),
                resolved: None,
            };
            match self.open_index(&entry.control, &entry.scope_key) {
                Some(i) => {
                    self.count_open(i, -1);
                    self.drifts[i] = entry;
                    self.count_open(i, 1);
                }
                None => self.push(entry),
            }
        }
    }

    fn push(&mut self, e: DriftEntry) {
        if self.drifts.len() >= KEEP {
            self.count_open(0, -1);
            self.drifts.pop_front();
        }
        self.drifts.push_back(e);
        self.count_open(self.drifts.len() - 1, 1);
    }

    /// Counts entry `i` in (`delta` 1) or out of (-1) [`PostureBook::open_by_scope`]
    /// when it is open.
    fn count_open(&mut self, i: usize, delta: i32) {
        let Some(d) = self.drifts.get(i).filter(|d| d.resolved.is_none()) else { return };
        let key = scope_hash(&d.control, &d.scope_key);
        let described = (d.scope != d.scope_key).then(|| scope_hash(&d.control, &d.scope));
        for key in std::iter::once(key).chain(described) {
            let n = self.open_by_scope.entry(key).or_default();
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                self.open_by_scope.remove(&key);
            }
        }
    }

    fn open_index(&self, control: &str, scope_key: &str) -> Option<usize> {
        // Without an open entry of that control and scope, there is nothing to look for.
        if !self.open_by_scope.contains_key(&scope_hash(control, scope_key)) {
            return None;
        }
        self.drifts.iter().rposition(|d| d.resolved.is_none() && d.control == control && (d.scope_key == scope_key || d.scope == scope_key))
    }

    fn resolve(&mut self, control: &str, scope: &str, at: &str, who: &str) {
        while let Some(i) = self.open_index(control, scope) {
            self.count_open(i, -1);
            self.drifts[i].resolved = Some(format!("{at} by {who}"));
        }
    }

    /// Open drift, newest first.
    pub fn open(&self) -> impl Iterator<Item = &DriftEntry> {
        self.drifts.iter().rev().filter(|d| d.resolved.is_none())
    }

    /// The view's rows: open drift (newest first), the last run's failing controls
    /// (worst first), then resolved drift (newest first).
    pub fn rows(&self) -> Vec<PostureRow<'_>> {
        let mut rows: Vec<PostureRow<'_>> = self.open().map(PostureRow::Open).collect();
        if let Some((_, s)) = &self.latest {
            rows.extend(s.failing.iter().map(PostureRow::Failing));
        }
        rows.extend(self.drifts.iter().rev().filter(|d| d.resolved.is_some()).map(PostureRow::Resolved));
        rows
    }

    /// Settings a record's drift can be reverted at: (scope, path) of the open entries
    /// it raised, the most severe first.
    pub fn revertible_of(&self, record_ids: &[String]) -> Vec<(String, String)> {
        let mut open: Vec<&DriftEntry> = self.open().filter(|d| record_ids.contains(&d.record_id)).collect();
        open.sort_by_key(|d| std::cmp::Reverse(d.severity));
        open.into_iter().filter_map(|d| d.revert.clone().map(|s| (s, d.control.clone()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use zoomwatch_shared::envelope::Envelope;
    use zoomwatch_shared::normalize::Received;

    fn settings_change(id: u64, old: bool, new: bool) -> RecordV1 {
        let body = json!({"event": "account.settings_updated", "event_ts": id, "payload": {"account_id": "A", "operator": "it-admin@acme.example",
            "object": {"id": "A", "settings": {"meeting_security": {"waiting_room": new}}},
            "old_object": {"id": "A", "settings": {"meeting_security": {"waiting_room": old}}}}});
        let env = Envelope::parse(body.to_string().as_bytes()).unwrap();
        zoomwatch_shared::normalize::normalize(env, &Received { received_at_ms: 1_796_115_600_000, request: None })
    }

    #[test]
    fn drift_is_open_until_the_setting_comes_back() {
        let mut b = PostureBook::default();
        let p = SettingsPolicy::default();
        let off = settings_change(1, true, false);
        b.observe(&off, &p);
        assert_eq!(b.open().count(), 1);
        let d = b.open().next().unwrap();
        assert_eq!(
            (d.control.as_str(), d.scope.as_str(), d.revert.as_deref()),
            ("meeting_security.waiting_room", "account", Some("account"))
        );
        assert_eq!(d.who, "it-admin@acme.example");
        assert_eq!(b.revertible_of(std::slice::from_ref(&off.id)), [("account".to_owned(), "meeting_security.waiting_room".to_owned())]);
        b.observe(&settings_change(2, false, true), &p);
        assert_eq!(b.open().count(), 0);
        assert!(matches!(b.rows()[..], [PostureRow::Resolved(d)] if d.resolved.as_deref().is_some_and(|r| r.contains("it-admin"))));
    }

    #[test]
    fn the_open_index_agrees_with_the_list_past_its_length() {
        let user_change = |n: u64, user: u64, new: bool| {
            let body = json!({"event": "user.settings_updated", "event_ts": n, "payload": {"account_id": "A", "operator": "it-admin@acme.example",
                "object": {"id": format!("U{user}"), "settings": {"in_meeting": {"waiting_room": new}}},
                "old_object": {"id": format!("U{user}"), "settings": {"in_meeting": {"waiting_room": !new}}}}});
            zoomwatch_shared::normalize::normalize(
                Envelope::parse(body.to_string().as_bytes()).unwrap(),
                &Received { received_at_ms: 1_796_115_600_000, request: None },
            )
        };
        let mut b = PostureBook::default();
        let p = SettingsPolicy::default();
        // 700 users, drifted, some put back, some drifted twice: more entries than kept.
        for n in 0..1500u64 {
            b.observe(&user_change(n, n % 700, n % 3 == 2), &p);
        }
        assert_eq!(b.drifts.len(), KEEP);
        let mut counted: HashMap<u64, u32> = HashMap::default();
        for d in b.drifts.iter().filter(|d| d.resolved.is_none()) {
            *counted.entry(scope_hash(&d.control, &d.scope_key)).or_default() += 1;
            if d.scope != d.scope_key {
                *counted.entry(scope_hash(&d.control, &d.scope)).or_default() += 1;
            }
        }
        assert!(counted.len() > 100, "{}", counted.len());
        assert_eq!(b.open_by_scope, counted, "the index counts exactly the open entries");
        let scan = |control: &str, key: &str| {
            b.drifts.iter().rposition(|d| d.resolved.is_none() && d.control == control && (d.scope_key == key || d.scope == key))
        };
        let mut asked = 0;
        for d in &b.drifts {
            for key in [&d.scope_key, &d.scope] {
                assert_eq!(b.open_index(&d.control, key), scan(&d.control, key), "{} {key}", d.control);
                asked += 1;
            }
        }
        assert!(asked >= 2 * KEEP && b.open_index("in_meeting.waiting_room", "user:nobody").is_none());
    }
}
