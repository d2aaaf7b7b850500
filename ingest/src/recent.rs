//! The record ids this receiver stored recently, so a repeat delivery — a Zoom retry whose
//! first attempt was stored after all (the answer timed out), or a replay inside the
//! window — is answered `duplicate` without a second write. Bounded: the oldest id goes
//! first. Per process (per Lambda execution environment): downstream dedupe by record id
//! stays the guarantee across instances.

use std::collections::VecDeque;
use std::sync::Mutex;

use foldhash::HashSet;

/// A bounded set of record ids.
pub struct RecentIds {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    set: HashSet<u128>,
    order: VecDeque<u128>,
}

/// Record ids are 128-bit hex; anything else is hashed into the same space.
fn key(id: &str) -> u128 {
    if id.len() == 32
        && let Ok(v) = u128::from_str_radix(id, 16)
    {
        return v;
    }
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in id.bytes() {
        h = (h ^ u128::from(b)).wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    h
}

impl RecentIds {
    /// Remembers at most `capacity` ids (0: remembers nothing).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, inner: Mutex::new(Inner::default()) }
    }

    /// Whether `id` was stored recently.
    pub fn contains(&self, id: &str) -> bool {
        self.capacity > 0 && self.inner.lock().is_ok_and(|g| g.set.contains(&key(id)))
    }

    /// Remembers `id` as stored.
    pub fn insert(&self, id: &str) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut g) = self.inner.lock() else { return };
        let k = key(id);
        if g.set.insert(k) {
            g.order.push_back(k);
            if g.order.len() > self.capacity
                && let Some(old) = g.order.pop_front()
            {
                g.set.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_oldest_first() {
        let r = RecentIds::new(2);
        r.insert("00000000000000000000000000000001");
        r.insert("00000000000000000000000000000002");
        r.insert("00000000000000000000000000000002");
        assert!(r.contains("00000000000000000000000000000001"));
        r.insert("not-hex-id");
        assert!(!r.contains("00000000000000000000000000000001"), "the oldest went first");
        assert!(r.contains("00000000000000000000000000000002") && r.contains("not-hex-id"));
        let off = RecentIds::new(0);
        off.insert("x");
        assert!(!off.contains("x"));
    }
}
