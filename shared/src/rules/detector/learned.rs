//! Learned names, the impersonation rule's memory: hosts' and internal people's display
//! names as they join, their shortened forms ("Dana W."), the order they were last seen
//! in, and forgetting the least recently seen past the `learned_names` cap
//! ([`crate::limits::Limits`]). Kept by 64-bit keys of the folded names ([`form_key`]);
//! saved by name.

use foldhash::HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Detector, Memory};
use crate::record::RecordV1;

/// Whose a learned name is, as last seen.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Person {
    /// The learned name, normalized ([`crate::rules::names::normalize_name`]): what its key in
    /// [`Memory::protected`] is the [`form_key`] of. Saved as the map's key.
    #[serde(skip)]
    pub(super) norm: String,
    pub(super) display: String,
    pub(super) zoom_user_id: Option<String>,
    pub(super) email: Option<String>,
    pub(super) host_of: Option<String>,
    /// When last seen (the detector's record count), for forgetting the least recent
    /// learned names past [`Limits::learned_names`](crate::limits::Limits).
    #[serde(default)]
    pub(super) seen: u64,
    /// The keys of its shortened forms in [`Memory::initials`] ([`form_key`]), to forget
    /// them with it without working them out again. Derived, not saved.
    #[serde(skip)]
    pub(super) forms: Box<[u64]>,
}

/// The key of a learned name in [`Memory::protected`] and of a shortened form in
/// [`Memory::initials`]: 64 bits of a fixed hash of the folded text. The tables hold at
/// most a few hundred thousand: two names sharing a key is about as likely as two record
/// ids doing so ([`crate::ids`]). A learned name is still compared in full before it
/// counts as the joiner's; a shortened form sharing a key would only point at another
/// learned name.
pub(super) fn form_key(form: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7a77_6174_6368).hash_one(form)
}

/// Saves the learned names as a map from the normalized name, as before they were kept
/// by key (`#[serde(with = "learned")]` on [`Memory::protected`]).
pub(super) fn serialize<S: Serializer>(m: &HashMap<u64, Person>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.values().map(|p| (&p.norm, p)))
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<u64, Person>, D::Error> {
    let by_name: HashMap<String, Person> = Deserialize::deserialize(d)?;
    Ok(by_name
        .into_iter()
        .map(|(norm, mut p)| {
            p.norm = norm;
            (form_key(&p.norm), p)
        })
        .collect())
}

impl Memory {
    /// The learned name `norm` (of key `key`), when it is one.
    pub(super) fn learned(&self, key: u64, norm: &str) -> Option<&Person> {
        self.protected.get(&key).filter(|p| p.norm == norm)
    }

    /// Starts protecting the name of `person` (its `norm`, of key [`form_key`]); a name
    /// whose key another learned name has (about as likely as two record ids sharing
    /// one) is not learned.
    pub(super) fn protect(&mut self, key: u64, mut person: Person) {
        if self.protected.contains_key(&key) {
            return;
        }
        person.forms = self.index_initials(key, &person.norm, &person.display);
        self.recency.push_back((person.seen, key));
        self.protected.insert(key, person);
    }

    /// The learned name `norm` (of key `key`) was seen again now: it moves to the back
    /// of the forgetting order. Returns it, to update; `None` when it is not learned.
    pub(super) fn touch(&mut self, key: u64, norm: &str) -> Option<&mut Person> {
        let seen = self.applied;
        let p = self.protected.get_mut(&key).filter(|p| p.norm == norm)?;
        if p.seen != seen {
            p.seen = seen;
            self.recency.push_back((seen, key));
        }
        Some(p)
    }

    /// The forgetting order again from each name's `seen` (after a restore, or when most
    /// queued entries are stale).
    pub(super) fn rebuild_recency(&mut self) {
        let mut order: Vec<(u64, u64)> = self.protected.iter().map(|(k, p)| (p.seen, *k)).collect();
        order.sort_unstable();
        self.recency = order.into();
    }

    /// Forgets the least recently seen learned names beyond `cap` (never one of
    /// `known`), with their shortened forms: from the front of the recency queue, so each
    /// forgotten name costs the same however many are held.
    pub(super) fn forget_names(&mut self, cap: usize, known: &[(String, String)]) {
        if self.recency.len() > 2 * self.protected.len() + 1024 {
            self.rebuild_recency();
        }
        while self.protected.len() > cap {
            let Some((stamp, key)) = self.recency.pop_front() else { break };
            if self.protected.get(&key).is_none_or(|p| p.seen != stamp || known.iter().any(|(n, _)| *n == p.norm)) {
                continue; // seen again since (queued again further back), or never forgotten
            }
            if let Some(p) = self.protected.remove(&key) {
                for form in &p.forms {
                    if self.initials.get(form).is_some_and(|(full, _)| *full == key) {
                        self.initials.remove(form);
                    }
                }
                self.forgotten_names += 1;
            }
        }
    }

    /// Indexes the shortened forms of `display` (learned as `norm`, of key `full`);
    /// returns their keys.
    pub(super) fn index_initials(&mut self, full: u64, norm: &str, display: &str) -> Box<[u64]> {
        let mut forms: Vec<(u64, usize)> = Vec::new();
        crate::rules::names::each_initial_form(display, |form, words| {
            if form != norm {
                forms.push((form_key(form), words));
            }
        });
        forms.sort_unstable();
        forms.dedup();
        for &(key, words) in &forms {
            self.initials.entry(key).or_insert((full, words));
        }
        forms.into_iter().map(|(key, _)| key).collect()
    }
}

impl Detector {
    /// Learns the display name (`norm`: normalized, of a join) of hosts and internal
    /// people, for the impersonation rule.
    pub(super) fn learn_people(&mut self, r: &RecordV1, norm: Option<&str>, key: u64, mkey: Option<&str>) {
        let (Some(p), Some(norm)) = (&r.participant, norm) else { return };
        let Some(name) = &p.name else { return };
        if p.guest || norm.chars().count() < 3 {
            return;
        }
        let host_id = r.meeting.as_ref().and_then(|m| m.host_id.as_ref());
        let is_host = host_id.is_some() && p.zoom_user_id.as_ref() == host_id;
        let internal = !self.cfg.internal_domains.is_empty() && p.email.as_deref().is_some_and(|e| self.cfg.is_internal_email(e));
        if is_host || internal {
            let host_of = if is_host { mkey } else { None };
            if let Some(entry) = self.mem.touch(key, norm) {
                // Most joins repeat what is known: copy only what changed.
                crate::roster::set_if_changed(&mut entry.zoom_user_id, &p.zoom_user_id);
                crate::roster::set_if_changed(&mut entry.email, &p.email);
                if is_host && entry.host_of.as_deref() != mkey {
                    entry.host_of = mkey.map(str::to_owned);
                }
            } else {
                let person = Person {
                    norm: norm.to_owned(),
                    display: name.clone(),
                    zoom_user_id: p.zoom_user_id.clone(),
                    email: p.email.clone(),
                    host_of: host_of.map(str::to_owned),
                    seen: self.mem.applied,
                    forms: Box::default(),
                };
                self.mem.protect(key, person);
                self.mem.forget_names(self.cfg.limits.learned_names, &self.cfg.known_people);
            }
        }
    }
}
