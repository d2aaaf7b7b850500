//! The meeting book's tables by text key — meetings by instance key, a meeting's
//! attendees by identity key —, looked up for nearly every record. Entries are keyed by
//! 64 bits of a per-process keyed hash (SipHash with a random key) of the text, so a
//! lookup compares numbers in the table instead of following each candidate's key to the
//! heap (a cache miss per record in tables of thousands). Two keys of one table sharing a
//! hash is about as likely as two record ids doing so ([`crate::ids`]), and nobody can aim
//! for it: the hash key is secret and new in each process. Each entry keeps its text key
//! ([`HasKey`]); a table is saved as a map from it, as before. A record's hashes are
//! worked out where it is prepared ([`BookKeys`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Attendee, Meeting};

/// The table's key of a text key.
pub fn hash_key(text: &str) -> u64 {
    static HASH: OnceLock<RandomState> = OnceLock::new();
    HASH.get_or_init(RandomState::new).hash_one(text)
}

/// Hashes the table's keys, which are hashes already: as they are.
#[derive(Default)]
struct AsIs(u64);

impl Hasher for AsIs {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; anything else still spreads.
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// What the meeting book derives from a record alone: computed where records are
/// prepared, so applying them in order does not hash text again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookKeys {
    /// The fingerprint of its meeting's description ([`description_fingerprint`]).
    pub described: u64,
    /// [`hash_key`] of its meeting's instance uuid (read only when it has one).
    pub instance: u64,
    /// [`hash_key`] of its participant's identity key (read only when it has one).
    pub attendee: u64,
}

impl BookKeys {
    /// The keys of `r`.
    pub fn of(r: &crate::record::RecordV1) -> Self {
        let meeting = r.meeting.as_ref();
        Self {
            described: meeting.map_or(0, super::description_fingerprint),
            instance: meeting.and_then(|m| m.uuid.as_deref()).map_or(0, hash_key),
            attendee: r.participant.as_ref().map_or(0, |p| hash_key(&p.identity_key())),
        }
    }
}

/// An entry of a [`Keyed`] table: it knows its text key.
pub trait HasKey {
    /// The entry's text key.
    fn key(&self) -> &str;
    /// Sets it (when read back from a saved map).
    fn set_key(&mut self, key: String);
}

impl HasKey for Box<Attendee> {
    fn key(&self) -> &str {
        &self.key
    }
    fn set_key(&mut self, key: String) {
        self.key = key;
    }
}

impl HasKey for Meeting {
    fn key(&self) -> &str {
        &self.key
    }
    fn set_key(&mut self, key: String) {
        self.key = key;
    }
}

/// Entries by their text key.
#[derive(Debug, Clone)]
pub struct Keyed<T> {
    map: HashMap<u64, T, BuildHasherDefault<AsIs>>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Self { map: HashMap::default() }
    }
}

impl<T: HasKey> Keyed<T> {
    /// The entry of `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.map.get(&hash_key(key))
    }

    /// The entry of `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.get_mut_hashed(hash_key(key))
    }

    /// The entry whose key's [`hash_key`] is `hash`, to change.
    pub fn get_mut_hashed(&mut self, hash: u64) -> Option<&mut T> {
        self.map.get_mut(&hash)
    }

    /// Whether there is an entry of `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(&hash_key(key))
    }

    /// The entry of `key`, added by `new` when not there yet (then `true` with it).
    pub fn get_or_add(&mut self, key: &str, new: impl FnOnce() -> T) -> (&mut T, bool) {
        self.get_or_add_hashed(hash_key(key), new)
    }

    /// [`Keyed::get_or_add`] by the key's [`hash_key`]; `new` must make an entry of
    /// that key.
    pub fn get_or_add_hashed(&mut self, hash: u64, new: impl FnOnce() -> T) -> (&mut T, bool) {
        let mut added = false;
        let e = self.map.entry(hash).or_insert_with(|| {
            added = true;
            new()
        });
        (e, added)
    }

    /// Takes the entry of `key` out.
    pub fn remove(&mut self, key: &str) -> Option<T> {
        self.map.remove(&hash_key(key))
    }

    /// Keeps only the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        self.map.retain(|_, e| keep(e));
    }

    /// The text keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.values().map(HasKey::key)
    }

    /// The entries, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.map.values()
    }

    /// The entries, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.map.values_mut()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries the table has room for.
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Gives back room not needed.
    pub fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
    }
}

impl<T: HasKey> std::ops::Index<&str> for Keyed<T> {
    type Output = T;
    fn index(&self, key: &str) -> &T {
        self.get(key).unwrap_or_else(|| panic!("no entry {key:?}"))
    }
}

impl<T: HasKey + Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.map.values().map(|e| (e.key(), e)))
    }
}

impl<'de, T: HasKey + Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: HashMap<String, T> = Deserialize::deserialize(d)?;
        let mut map = HashMap::with_capacity_and_hasher(saved.len(), BuildHasherDefault::default());
        for (key, mut e) in saved {
            let h = hash_key(&key);
            e.set_key(key);
            map.insert(h, e);
        }
        Ok(Self { map })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{Presence, RosterPerson};

    fn someone(key: String) -> Attendee {
        Attendee {
            key,
            participant: RosterPerson::from(&crate::record::Participant::default()),
            presence: Presence::Left,
            since_ms: 0,
            first_join_ms: None,
            left_ms: None,
            joins: 0,
            is_host: false,
            worst: None,
            admitted: false,
            waited: false,
            other_devices: None,
        }
    }

    #[test]
    fn keys_are_per_identity_and_saved_by_identity() {
        let mut t = Keyed::<Box<Attendee>>::default();
        for i in 0..1000 {
            let id = format!("zoom:U{i}");
            let (a, added) = t.get_or_add(&id, || Box::new(someone(id.clone())));
            assert!(added, "{id}");
            a.joins = i;
        }
        let (again, added) = t.get_or_add("zoom:U7", || unreachable!("already there"));
        assert!(!added && again.joins == 7);
        assert_eq!(t.len(), 1000);
        assert!(t.get("zoom:U1000").is_none() && t.get("email:U7").is_none());
        let saved = serde_json::to_value(&t).unwrap();
        assert_eq!(saved["zoom:U42"]["joins"], 42, "a map from the identity key");
        let back: Keyed<Box<Attendee>> = serde_json::from_value(saved).unwrap();
        assert_eq!(back["zoom:U42"].joins, 42);
        assert_eq!(back["zoom:U42"].key, "zoom:U42");
        let mut back = back;
        assert_eq!(back.remove("zoom:U42").map(|a| a.joins), Some(42));
        assert!(back.get("zoom:U42").is_none() && back.len() == 999);
    }
}
