//! The record ids this receiver stored recently, so a repeat delivery — a Zoom retry whose
//! first attempt was stored after all (the answer timed out), or a replay inside the
//! window — is answered `duplicate` without a second write. The shared bounded id set
//! ([`zoomwatch_shared::ids::RecentIds`]) behind a lock, for concurrent requests. Per
//! process (per Lambda execution environment): downstream dedupe by record id stays the
//! guarantee across instances.

use std::sync::Mutex;

use zoomwatch_shared::ids;

/// Record ids stored by this process, bounded (the oldest goes first).
pub struct RecentIds(Mutex<ids::RecentIds>);

impl RecentIds {
    /// Remembers at most `capacity` ids (0: remembers nothing).
    pub fn new(capacity: usize) -> Self {
        Self(Mutex::new(ids::RecentIds::new(capacity)))
    }

    /// Whether `id` was stored recently.
    pub fn contains(&self, id: &str) -> bool {
        self.0.lock().is_ok_and(|g| g.contains(id))
    }

    /// Remembers `id` as stored.
    pub fn insert(&self, id: &str) {
        if let Ok(mut g) = self.0.lock() {
            g.insert(id);
        }
    }
}
