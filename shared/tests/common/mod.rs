//! What several of this crate's integration tests build: a raid of ten guests.

#![allow(dead_code, clippy::unwrap_used)]

use serde_json::json;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::{Envelope, Received, normalize};

/// When the raid starts (Unix ms).
pub const T0: i64 = 1_796_300_000_000;

/// Ten guests joining the all-hands three seconds apart from `T0`.
pub fn raid() -> Vec<RecordV1> {
    (0..10)
        .map(|i| {
            let t = T0 + i * 3000;
            let body = json!({"event": "meeting.participant_joined", "event_ts": t, "payload": {"account_id": "A", "object": {
                "id": "845", "uuid": "AH1", "topic": "All hands", "host_id": "H",
                "participant": {"user_name": format!("raider{i}"), "user_id": format!("{i}"), "participant_uuid": format!("R{i}"), "join_time": "x"}}}});
            normalize(Envelope::parse(body.to_string().as_bytes()).unwrap(), &Received { received_at_ms: t, request: None })
        })
        .collect()
}
