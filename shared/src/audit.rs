//! Records of what analysts did: response actions through Zoom's API
//! (`zoomwatch.action`) and verdicts on alerts (`zoomwatch.triage`). They go to the same
//! destination the receiver writes (the JSONL file, or the log group on a stream of
//! their own), so the SIEM keeps the trail and every console sees the others' work.
//! Ids are deterministic, so writing the same record twice is harmless downstream.

use sha2::{Digest, Sha256};

pub use crate::blocks::{Answer, CallInfo, Outcome, Response};
use crate::record::{ACTION_EVENT, Category, MeetingRef, Participant, RecordV1, TRIAGE_EVENT, TargetUser};

/// One response action, as it happened.
#[derive(Debug, Clone)]
pub struct ActionAudit {
    /// The command name (`end-meeting`).
    pub action: String,
    /// The meeting acted on.
    pub meeting: Option<String>,
    /// The user acted on (id or email).
    pub user: Option<String>,
    /// The participant acted on.
    pub participant_uuid: Option<String>,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Who, how, and what Zoom said.
    pub response: Response,
}

fn id_of(parts: &[&str], at_ms: i64) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.update(at_ms.to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

fn base(event: &str, action: String, id: String, at_ms: i64, response: Response) -> RecordV1 {
    let mut r = RecordV1::own(id, event, Category::Response, &action, at_ms, at_ms);
    r.response = Some(Box::new(response));
    r
}

/// The `zoomwatch.action` record of `a`.
pub fn action_record(a: &ActionAudit) -> RecordV1 {
    let r = &a.response;
    let outcome = r.outcome.map_or("", Outcome::as_str);
    let id = id_of(
        &[
            ACTION_EVENT,
            &r.analyst,
            &a.action,
            a.meeting.as_deref().unwrap_or(""),
            a.user.as_deref().unwrap_or(""),
            a.participant_uuid.as_deref().unwrap_or(""),
            outcome,
        ],
        a.at_ms,
    );
    let mut rec = base(ACTION_EVENT, a.action.clone(), id, a.at_ms, r.clone());
    rec.meeting = a.meeting.as_ref().map(|m| {
        if m.bytes().all(|b| b.is_ascii_digit()) {
            MeetingRef { id: Some(m.clone()), ..MeetingRef::default() }
        } else {
            MeetingRef { uuid: Some(m.clone()), ..MeetingRef::default() }
        }
    });
    rec.target_user = a.user.as_ref().map(|u| {
        Box::new(if u.contains('@') {
            TargetUser { email: Some(u.clone()), ..TargetUser::default() }
        } else {
            TargetUser { id: Some(u.clone()), ..TargetUser::default() }
        })
    });
    rec.participant = a.participant_uuid.as_ref().map(|p| Participant { participant_uuid: Some(p.clone()), ..Participant::default() });
    rec
}

/// The `zoomwatch.triage` record of an analyst's verdict on `alert_id`.
pub fn triage_record(analyst: &str, host: Option<&str>, alert_id: &str, status: &str, note: &str, at_ms: i64) -> RecordV1 {
    let id = id_of(&[TRIAGE_EVENT, analyst, alert_id, status, note], at_ms);
    let response = Response {
        analyst: analyst.to_owned(),
        host: host.map(str::to_owned),
        alert_id: Some(alert_id.to_owned()),
        status: Some(status.to_owned()),
        note: (!note.is_empty()).then(|| note.to_owned()),
        ..Response::default()
    };
    base(TRIAGE_EVENT, status.to_owned(), id, at_ms, response)
}

/// The response block of a record zoomwatch wrote itself (`zoomwatch.action` /
/// `zoomwatch.triage` with a `response` and no webhook `request`); `None` for anything
/// else, including a webhook that merely claims such an event name.
pub fn response_of(r: &RecordV1) -> Option<&Response> {
    if r.request.is_some() || (r.event != ACTION_EVENT && r.event != TRIAGE_EVENT) {
        return None;
    }
    r.response.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(outcome: Outcome) -> ActionAudit {
        ActionAudit {
            action: "end-meeting".into(),
            meeting: Some("84512345678".into()),
            user: None,
            participant_uuid: None,
            at_ms: 1_764_633_600_000,
            response: Response { analyst: "ana".into(), outcome: Some(outcome), ..Response::default() },
        }
    }

    #[test]
    fn action_records_round_trip_with_stable_ids() {
        let r = action_record(&audit(Outcome::Succeeded));
        assert_eq!(r.event, ACTION_EVENT);
        assert_eq!(r.category, Category::Response);
        assert_eq!(r.meeting.as_ref().unwrap().id.as_deref(), Some("84512345678"));
        assert_eq!(r.id, action_record(&audit(Outcome::Succeeded)).id);
        assert_ne!(r.id, action_record(&audit(Outcome::Refused)).id);
        let line = serde_json::to_string(&r).unwrap();
        let back: RecordV1 = serde_json::from_str(&line).unwrap();
        assert_eq!(response_of(&back).unwrap().outcome, Some(Outcome::Succeeded));
        assert!(line.contains("\"category\":\"response\""), "{line}");
    }

    #[test]
    fn only_our_own_records_count() {
        let mut r = triage_record("ana", None, "alert-1", "acked", "", 5);
        assert_eq!(response_of(&r).unwrap().status.as_deref(), Some("acked"));
        r.request = Some(Box::default());
        assert!(response_of(&r).is_none(), "a webhook delivery is never an analyst's verdict");
    }
}
