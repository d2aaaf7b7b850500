//! A meeting's attendees by identity key: the table the meeting book looks a participant
//! up in for nearly every record. Entries are keyed by 64 bits of a per-process keyed
//! hash (SipHash with a random key) of the identity key, so a lookup compares numbers in
//! the table instead of following each candidate's key to the heap (a cache miss on
//! every record in rosters of thousands). Two identities of one meeting sharing a key is
//! about as likely as two record ids doing so ([`crate::ids`]), and nobody can aim for it:
//! the hash key is secret and new in each process. Saved as a map from the identity key,
//! as before.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Attendee;

/// The table's key of an identity key ([`crate::record::Participant::identity_key`]).
fn key_of(identity: &str) -> u64 {
    static HASH: OnceLock<RandomState> = OnceLock::new();
    HASH.get_or_init(RandomState::new).hash_one(identity)
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

/// Everyone seen in one meeting, by identity key.
#[derive(Debug, Clone, Default)]
pub struct Attendees {
    map: HashMap<u64, Box<Attendee>, BuildHasherDefault<AsIs>>,
}

impl Attendees {
    /// The attendee of identity key `identity`.
    pub fn get(&self, identity: &str) -> Option<&Attendee> {
        self.map.get(&key_of(identity)).map(|a| &**a)
    }

    /// The attendee of identity key `identity`, to change.
    pub fn get_mut(&mut self, identity: &str) -> Option<&mut Attendee> {
        self.map.get_mut(&key_of(identity)).map(|a| &mut **a)
    }

    /// The attendee of identity key `identity`, added by `new` when not there yet (then
    /// `true` with it).
    pub(super) fn get_or_add(&mut self, identity: &str, new: impl FnOnce() -> Attendee) -> (&mut Attendee, bool) {
        let mut added = false;
        let a = self.map.entry(key_of(identity)).or_insert_with(|| {
            added = true;
            Box::new(new())
        });
        (&mut **a, added)
    }

    /// Takes the attendee of identity key `identity` out.
    pub fn remove(&mut self, identity: &str) -> Option<Box<Attendee>> {
        self.map.remove(&key_of(identity))
    }

    /// Everyone, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Attendee> {
        self.map.values().map(|a| &**a)
    }

    /// Everyone, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Attendee> {
        self.map.values_mut().map(|a| &mut **a)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nobody was seen.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lines the table has room for.
    pub(super) fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Gives back room not needed.
    pub(super) fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
    }
}

impl std::ops::Index<&str> for Attendees {
    type Output = Attendee;
    fn index(&self, identity: &str) -> &Attendee {
        self.get(identity).unwrap_or_else(|| panic!("no attendee {identity:?}"))
    }
}

impl Serialize for Attendees {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.map.values().map(|a| (&a.key, a)))
    }
}

impl<'de> Deserialize<'de> for Attendees {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: HashMap<String, Box<Attendee>> = Deserialize::deserialize(d)?;
        let mut map = HashMap::with_capacity_and_hasher(saved.len(), BuildHasherDefault::default());
        for (identity, mut a) in saved {
            a.key.clone_from(&identity);
            map.insert(key_of(&identity), a);
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
        let mut t = Attendees::default();
        for i in 0..1000 {
            let id = format!("zoom:U{i}");
            let (a, added) = t.get_or_add(&id, || someone(id.clone()));
            assert!(added, "{id}");
            a.joins = i;
        }
        let (again, added) = t.get_or_add("zoom:U7", || unreachable!("already there"));
        assert!(!added && again.joins == 7);
        assert_eq!(t.len(), 1000);
        assert!(t.get("zoom:U1000").is_none() && t.get("email:U7").is_none());
        let saved = serde_json::to_value(&t).unwrap();
        assert_eq!(saved["zoom:U42"]["joins"], 42, "a map from the identity key");
        let back: Attendees = serde_json::from_value(saved).unwrap();
        assert_eq!(back["zoom:U42"].joins, 42);
        assert_eq!(back["zoom:U42"].key, "zoom:U42");
        let mut back = back;
        assert_eq!(back.remove("zoom:U42").map(|a| a.joins), Some(42));
        assert!(back.get("zoom:U42").is_none() && back.len() == 999);
    }
}
