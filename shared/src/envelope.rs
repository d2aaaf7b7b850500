//! The outer shape of every Zoom webhook body: `{"event": "...", "event_ts": ms, "payload": {...}}`.
//!
//! Everything below `payload` is kept as JSON values: Zoom's payloads vary by event, by
//! API version and even by delivery (ids as numbers or strings, `login_type` as string or
//! number), and an unknown event must still be stored, so the envelope is the only part
//! that is strictly typed. [`crate::normalize`] reads the payload tolerantly.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The longest event name accepted (Zoom's longest today is about 50 characters).
pub const MAX_EVENT_NAME: usize = 128;

/// A parsed webhook body.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Event type, e.g. `meeting.participant_joined`.
    pub event: String,
    /// When Zoom emitted the event, Unix ms (absent in some old samples).
    pub event_ts: Option<i64>,
    /// The event's payload (`account_id`, `object`, `old_object`, `operator`…).
    pub payload: Map<String, Value>,
}

/// Why a body is not a Zoom webhook envelope. Safe to return to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum EnvelopeError {
    /// The body is not JSON at all.
    #[error("body is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not an object with a string `event`.
    #[error("body has no string \"event\" field")]
    MissingEvent,
    /// The event name is empty, too long or contains characters Zoom never uses.
    #[error("\"event\" is not a valid event name")]
    BadEventName,
    /// `payload` is present but not an object.
    #[error("\"payload\" is not a JSON object")]
    BadPayload,
}

#[derive(Deserialize)]
struct RawEnvelope {
    event: Option<Value>,
    #[serde(default)]
    event_ts: Option<Value>,
    #[serde(default)]
    payload: Option<Value>,
}

impl Envelope {
    /// Parses a raw body. Key order does not matter; unknown top-level keys (such as the
    /// `download_token` that `recording.completed` carries) are dropped here, so they can
    /// never reach storage.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let raw: RawEnvelope = serde_json::from_slice(body)
            .map_err(|e| if e.is_data() { EnvelopeError::MissingEvent } else { EnvelopeError::Json(e.to_string()) })?;
        let event = match raw.event {
            Some(Value::String(s)) => s,
            _ => return Err(EnvelopeError::MissingEvent),
        };
        if !valid_event_name(&event) {
            return Err(EnvelopeError::BadEventName);
        }
        let payload = match raw.payload {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(EnvelopeError::BadPayload),
        };
        let event_ts = raw.event_ts.as_ref().and_then(as_i64);
        Ok(Self { event, event_ts, payload })
    }

    /// `payload.object`, if it is an object.
    pub fn object(&self) -> Option<&Map<String, Value>> {
        self.payload.get("object").and_then(Value::as_object)
    }
}

fn valid_event_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_EVENT_NAME && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Reads an integer that Zoom may send as a number or as a numeric string.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_key_order_and_string_timestamps() {
        let a = Envelope::parse(br#"{"payload":{"x":1},"event_ts":"17","event":"a.b"}"#).unwrap();
        assert_eq!(a.event, "a.b");
        assert_eq!(a.event_ts, Some(17));
        assert_eq!(a.payload["x"], 1);
        let b = Envelope::parse(br#"{"event":"only.event"}"#).unwrap();
        assert!(b.payload.is_empty());
        assert_eq!(b.event_ts, None);
    }

    #[test]
    fn rejects_what_is_not_an_envelope() {
        assert!(matches!(Envelope::parse(b"{not json"), Err(EnvelopeError::Json(_))));
        assert!(matches!(Envelope::parse(b""), Err(EnvelopeError::Json(_))));
        assert_eq!(Envelope::parse(b"[1,2]"), Err(EnvelopeError::MissingEvent));
        assert_eq!(Envelope::parse(br#"{"event":5}"#), Err(EnvelopeError::MissingEvent));
        assert_eq!(Envelope::parse(br#"{"payload":{}}"#), Err(EnvelopeError::MissingEvent));
        assert_eq!(Envelope::parse(br#"{"event":""}"#), Err(EnvelopeError::BadEventName));
        assert_eq!(Envelope::parse(br#"{"event":"a\u001b[2J"}"#), Err(EnvelopeError::BadEventName));
        assert_eq!(Envelope::parse(br#"{"event":"a.b","payload":[]}"#), Err(EnvelopeError::BadPayload));
    }
}
