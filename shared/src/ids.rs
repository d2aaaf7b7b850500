//! A bounded set of record ids, oldest forgotten first: the detector's duplicate
//! suppression and the receiver's "stored recently" answer share it. Ids are ours
//! (128 bits of SHA-256, hex) and kept as 64 bits (the two halves folded); anything else
//! is hashed into the same space. Two million ids, the detector's cap, then hold one
//! chance in ten million of any two sharing a key (n² / 2⁶⁵) — a record wrongly taken
//! for a duplicate — and pinning a key on a chosen record takes 2⁶⁴ hashes. Half the
//! memory of 128-bit keys: at a million ids, 27 MB instead of 52.

use std::collections::VecDeque;

use foldhash::{HashSet, HashSetExt};
use sha2::{Digest, Sha256};

/// Record ids seen, at most `capacity` of them.
pub struct RecentIds {
    capacity: usize,
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

/// Most ids a saved set keeps (the newest): enough for Zoom's retries of the last
/// hours on a busy account, small enough for a checkpoint (about 4 MB of JSON).
pub const SAVED_IDS: usize = 200_000;

impl serde::Serialize for RecentIds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let skip = self.order.len().saturating_sub(SAVED_IDS);
        s.collect_seq(self.order.iter().skip(skip).map(|k| format!("{k:016x}")))
    }
}

impl<'de> serde::Deserialize<'de> for RecentIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let keys: Vec<String> = serde::Deserialize::deserialize(d)?;
        let mut r = Self::new(keys.len().max(SAVED_IDS));
        for k in keys {
            // 16 hex digits; 32 from a checkpoint of 128-bit keys, folded as ids are.
            let v = match k.len() {
                16 => u64::from_str_radix(&k, 16).ok(),
                32 => u128::from_str_radix(&k, 16).ok().map(fold),
                _ => None,
            }
            .ok_or_else(|| serde::de::Error::custom(format!("not an id key: {k:?}")))?;
            if r.set.insert(v) {
                r.order.push_back(v);
            }
        }
        Ok(r)
    }
}

/// 128 bits to 64: the halves xor-ed (both are uniform: ids are hashes).
fn fold(v: u128) -> u64 {
    (v as u64) ^ ((v >> 64) as u64)
}

/// The set's key of a record id.
pub fn id_key(id: &str) -> u64 {
    if id.len() == 32
        && let Ok(v) = u128::from_str_radix(id, 16)
    {
        return fold(v);
    }
    let d = Sha256::digest(id.as_bytes());
    u64::from_le_bytes(d[..8].try_into().unwrap_or([0; 8]))
}

impl RecentIds {
    /// Remembers at most `capacity` ids (0: remembers nothing).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, set: HashSet::new(), order: VecDeque::new() }
    }

    /// Adds `id`; true if it was not there. Past the capacity the oldest id goes.
    pub fn insert(&mut self, id: &str) -> bool {
        self.insert_key(id_key(id))
    }

    /// [`RecentIds::insert`] by the id's key ([`id_key`]), computed beforehand.
    pub fn insert_key(&mut self, key: u64) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if !self.set.insert(key) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(key);
        true
    }

    /// Changes the capacity; past it the oldest ids go at once.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `id` is remembered.
    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(&id_key(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_oldest_first() {
        let mut r = RecentIds::new(2);
        assert!(r.insert("00000000000000000000000000000001"));
        assert!(r.insert("00000000000000000000000000000002"));
        assert!(!r.insert("00000000000000000000000000000002"), "already there");
        assert!(r.contains("00000000000000000000000000000001"));
        assert!(r.insert("not-hex-id"));
        assert!(!r.contains("00000000000000000000000000000001"), "the oldest went first");
        assert!(r.contains("00000000000000000000000000000002") && r.contains("not-hex-id"));
        // A checkpoint written with 128-bit keys reads back as the same ids.
        let old: RecentIds = serde_json::from_str("[\"0000000000000000000000000000000a\",\"00000000000000050000000000000003\"]").unwrap();
        assert!(old.contains("0000000000000000000000000000000a") && old.contains("00000000000000050000000000000003"));
        assert!(!old.contains("0000000000000000000000000000000b"));
        let saved = serde_json::to_string(&old).unwrap();
        let back: RecentIds = serde_json::from_str(&saved).unwrap();
        assert!(back.contains("00000000000000050000000000000003") && back.len() == 2, "{saved}");
        assert!(serde_json::from_str::<RecentIds>("[\"xyz\"]").is_err());
        let mut off = RecentIds::new(0);
        assert!(off.insert("x") && off.insert("x"));
        assert!(!off.contains("x"));
    }
}
