//! The record ids this receiver stored recently, so a repeat delivery — a Zoom retry whose
//! first attempt was stored after all (the answer timed out), or a replay inside the
//! window — is answered `duplicate` without a second write. The shared bounded id set
//! ([`zoomwatch_shared::ids::RecentIds`]) behind a lock, for concurrent requests.
//!
//! It also remembers writes whose outcome is unknown (the store answered late or not at
//! all: the record may have landed), so their retry is settled by looking in the log
//! first. Per process (per Lambda execution environment): across instances, the shared
//! claim store ([`crate::claims`]) does both.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use zoomwatch_shared::ids;

/// Most unsettled writes remembered (the oldest goes first).
const MAX_UNKNOWN: usize = 10_000;

/// Record ids stored by this process, bounded (the oldest goes first), and writes of
/// unknown outcome.
pub struct RecentIds {
    stored: Mutex<ids::RecentIds>,
    unknown: Mutex<(HashMap<String, i64>, VecDeque<String>)>,
}

impl RecentIds {
    /// Remembers at most `capacity` ids (0: remembers nothing).
    pub fn new(capacity: usize) -> Self {
        Self { stored: Mutex::new(ids::RecentIds::new(capacity)), unknown: Mutex::default() }
    }

    /// Whether `id` was stored recently.
    pub fn contains(&self, id: &str) -> bool {
        self.stored.lock().is_ok_and(|g| g.contains(id))
    }

    /// Remembers `id` as stored (and no longer unsettled).
    pub fn insert(&self, id: &str) {
        if let Ok(mut g) = self.stored.lock() {
            g.insert(id);
        }
        if let Ok(mut u) = self.unknown.lock() {
            u.0.remove(id);
        }
    }

    /// Remembers that a write of `id` at `at_ms` may or may not have landed.
    pub fn mark_unknown(&self, id: &str, at_ms: i64) {
        if let Ok(mut u) = self.unknown.lock() {
            let (map, order) = &mut *u;
            if map.insert(id.to_owned(), at_ms).is_none() {
                order.push_back(id.to_owned());
            }
            while order.len() > MAX_UNKNOWN {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// When an unsettled write of `id` was tried, if one was.
    pub fn unknown_since(&self, id: &str) -> Option<i64> {
        self.unknown.lock().ok().and_then(|u| u.0.get(id).copied())
    }

    /// Forgets an unsettled write of `id` (it was found not to have landed).
    pub fn settle(&self, id: &str) {
        if let Ok(mut u) = self.unknown.lock() {
            u.0.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsettled_writes_are_remembered_until_stored_or_settled() {
        let r = RecentIds::new(10);
        r.mark_unknown("a", 5);
        r.mark_unknown("b", 6);
        assert_eq!((r.unknown_since("a"), r.unknown_since("b")), (Some(5), Some(6)));
        r.insert("a");
        assert!(r.contains("a") && r.unknown_since("a").is_none());
        r.settle("b");
        assert!(r.unknown_since("b").is_none() && !r.contains("b"));
        for i in 0..MAX_UNKNOWN + 5 {
            r.mark_unknown(&i.to_string(), 1);
        }
        assert!(r.unknown_since("0").is_none() && r.unknown_since(&(MAX_UNKNOWN + 4).to_string()).is_some());
    }
}
