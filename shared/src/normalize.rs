//! Envelope → [`RecordV1`]. This is where Zoom's inconsistencies are absorbed (see
//! DESIGN §4): ids as numbers or strings, guests with empty ids, optional IPs,
//! changed-fields-only `*.updated` events, HTML in `leave_reason`. Secrets are redacted
//! *before* any field is read, so no block of the record can carry one.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::diff;
use crate::envelope::{Envelope, as_i64};
use crate::record::{Actor, Category, Change, MeetingRef, Participant, RecordV1, RequestInfo, SCHEMA, TargetUser};
use crate::redact::redact;
use crate::text::strip_html;
use crate::timefmt::{format_ms, parse_rfc3339_ms};

/// Facts about the delivery that the body does not carry.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// When the receiver got the request, Unix ms.
    pub received_at_ms: i64,
    /// Request id, source address, user agent.
    pub request: Option<RequestInfo>,
}

/// Maps an event name to its category and action (`meeting.participant_joined` →
/// `participant`, `joined`).
pub fn classify(event: &str) -> (Category, String) {
    let (prefix, rest) = event.split_once('.').unwrap_or(("", event));
    let participant = |rest: &str| rest.strip_prefix("participant_").map(str::to_owned);
    let category = match prefix {
        "meeting" | "webinar" if rest.starts_with("participant_") => {
            return (Category::Participant, participant(rest).unwrap_or_default());
        }
        "meeting" | "webinar" if rest.starts_with("chat_message") => Category::Chat,
        "meeting" => Category::Meeting,
        "webinar" => Category::Webinar,
        "recording" => Category::Recording,
        "user" if rest == "signed_in" || rest == "signed_out" => Category::Auth,
        "account" | "group" | "user" | "role" | "app" | "information_barriers" => Category::Admin,
        "chat_message" | "chat_channel" => Category::Chat,
        "endpoint" | "zoomwatch" => Category::Endpoint,
        _ => Category::Other,
    };
    (category, rest.to_owned())
}

/// Normalizes one verified webhook into a record (with no flags yet; see the rules).
pub fn normalize(env: Envelope, rx: &Received) -> RecordV1 {
    let (category, action) = classify(&env.event);
    let kind = match env.event.split('.').next() {
        Some(k @ ("meeting" | "webinar")) => Some(k.to_owned()),
        Some("recording") => Some("meeting".to_owned()),
        _ => None,
    };
    let mut payload = Value::Object(env.payload);
    redact(&mut payload);
    let empty = Map::new();
    let p = payload.as_object().unwrap_or(&empty);
    let object = p.get("object").and_then(Value::as_object);
    let old_object = p.get("old_object").and_then(Value::as_object);

    let meeting = match category {
        Category::Meeting | Category::Participant | Category::Webinar | Category::Recording | Category::Chat => {
            object.map(|o| meeting_ref(o, kind))
        }
        _ => None,
    };
    let participant = match category {
        Category::Participant => object.and_then(|o| o.get("participant")).and_then(Value::as_object).map(participant_of),
        Category::Chat => object.and_then(|o| o.get("chat_message")).and_then(Value::as_object).map(chat_sender),
        // Who shares their screen.
        Category::Meeting | Category::Webinar if action.starts_with("sharing_") => {
            object.and_then(|o| o.get("participant")).and_then(Value::as_object).map(participant_of)
        }
        _ => None,
    };
    let actor = actor_of(p, object, category);
    let target_user = target_user_of(&env.event, object);

    let mut changes = match (old_object, object) {
        (Some(old), Some(new)) => diff::changes(old, new),
        _ => Vec::new(),
    };
    if let Some(part) = object.and_then(|o| o.get("participant")).and_then(Value::as_object)
        && let (Some(old), Some(new)) = (part.get("old_role"), part.get("new_role"))
    {
        changes.push(Change { path: "participant.role".to_owned(), old: old.clone(), new: new.clone() });
    }

    let occurred_ms = occurred_ms(&action, p, object).or(env.event_ts).unwrap_or(rx.received_at_ms);
    let id = record_id(&env.event, env.event_ts, object, participant.as_ref(), occurred_ms, &payload);

    RecordV1 {
        schema: SCHEMA.to_owned(),
        id,
        event: env.event,
        category,
        action,
        occurred_at: format_ms(occurred_ms),
        event_ts: env.event_ts,
        received_at: format_ms(rx.received_at_ms),
        account_id: p.get("account_id").and_then(text),
        actor: actor.map(Box::new),
        meeting,
        participant,
        target_user: target_user.map(Box::new),
        changes,
        flags: Vec::new(),
        request: rx.request.clone().map(Box::new),
        rejection: None,
        response: None,
        origin: None,
        alert: None,
        raw: payload.into(),
    }
}

/// A string or number field as a non-empty string.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn field(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(text)
}

fn meeting_ref(o: &Map<String, Value>, kind: Option<String>) -> MeetingRef {
    MeetingRef {
        id: field(o, "id"),
        uuid: field(o, "uuid"),
        topic: field(o, "topic"),
        host_id: field(o, "host_id"),
        host_email: field(o, "host_email"),
        meeting_type: o.get("type").and_then(as_i64),
        kind,
    }
}

fn participant_of(o: &Map<String, Value>) -> Participant {
    let zoom_user_id = field(o, "participant_user_id").or_else(|| field(o, "id"));
    Participant {
        name: field(o, "user_name"),
        email: field(o, "email"),
        user_id: field(o, "user_id"),
        guest: zoom_user_id.is_none(),
        zoom_user_id,
        participant_uuid: field(o, "participant_uuid"),
        registrant_id: field(o, "registrant_id"),
        ip: field(o, "public_ip"),
        geo: None,
        private_ip: field(o, "private_ip"),
        leave_reason: field(o, "leave_reason").map(|r| strip_html(&r)),
    }
}

fn chat_sender(o: &Map<String, Value>) -> Participant {
    Participant {
        name: field(o, "sender_name"),
        email: field(o, "sender_email"),
        user_id: field(o, "sender_session_id"),
        guest: o.get("sender_type").and_then(Value::as_str) == Some("guest"),
        ..Participant::default()
    }
}

fn actor_of(p: &Map<String, Value>, object: Option<&Map<String, Value>>, category: Category) -> Option<Actor> {
    let actor = Actor { id: field(p, "operator_id"), email: field(p, "operator"), ..Actor::default() };
    if actor.id.is_some() || actor.email.is_some() {
        return Some(actor);
    }
    if category == Category::Auth {
        let o = object?;
        return Some(Actor { id: field(o, "id"), email: field(o, "email"), ..Actor::default() });
    }
    None
}

fn target_user_of(event: &str, object: Option<&Map<String, Value>>) -> Option<TargetUser> {
    let o = object?;
    if event.starts_with("group.") {
        let first = ["admins", "members"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array).and_then(|a| a.first()))
            .and_then(Value::as_object)?;
        return Some(TargetUser {
            id: field(first, "id"),
            email: field(first, "email"),
            role: event.contains("admin").then(|| "group_admin".to_owned()),
            ..TargetUser::default()
        });
    }
    if !event.starts_with("user.") || event == "user.signed_in" || event == "user.signed_out" {
        return None;
    }
    let name = field(o, "display_name").or_else(|| {
        let full = [field(o, "first_name"), field(o, "last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!full.is_empty()).then_some(full)
    });
    Some(TargetUser {
        id: field(o, "id"),
        email: field(o, "email"),
        name,
        role: field(o, "role_name").or_else(|| field(o, "role_id")),
        user_type: field(o, "type"),
    })
}

fn time_at(o: &Map<String, Value>, key: &str) -> Option<i64> {
    o.get(key).and_then(Value::as_str).and_then(parse_rfc3339_ms)
}

/// The event's own time: what the analyst means by "when did it happen".
fn occurred_ms(action: &str, p: &Map<String, Value>, object: Option<&Map<String, Value>>) -> Option<i64> {
    if let Some(o) = object {
        if let Some(part) = o.get("participant").and_then(Value::as_object) {
            let order: &[&str] =
                if action.contains("left") { &["leave_time", "date_time", "join_time"] } else { &["join_time", "date_time", "leave_time"] };
            if let Some(t) = order.iter().find_map(|k| time_at(part, k)) {
                return Some(t);
            }
            if let Some(t) = part.get("sharing_details").and_then(Value::as_object).and_then(|s| time_at(s, "date_time")) {
                return Some(t);
            }
        }
        for nested in ["chat_message", "live_streaming"] {
            if let Some(t) = o.get(nested).and_then(Value::as_object).and_then(|n| time_at(n, "date_time")) {
                return Some(t);
            }
        }
        if let Some(t) = time_at(o, "date_time") {
            return Some(t);
        }
        if action == "started"
            && let Some(t) = time_at(o, "start_time")
        {
            return Some(t);
        }
        if action == "ended"
            && let Some(t) = time_at(o, "end_time")
        {
            return Some(t);
        }
    }
    p.get("time_stamp").and_then(as_i64)
}

/// Same Zoom event → same id, whatever the delivery: Zoom's retries resend the same body
/// (same `event_ts`). 128 bits of SHA-256, hex.
fn record_id(
    event: &str,
    event_ts: Option<i64>,
    object: Option<&Map<String, Value>>,
    participant: Option<&Participant>,
    occurred_ms: i64,
    payload: &Value,
) -> String {
    let mut h = Sha256::new();
    h.update(event.as_bytes());
    h.update([0]);
    // The (redacted) body is part of the identity: a second, different signed body with
    // the same event, time and object is another delivery, not a retry of the first.
    // Zoom's retries resend the same body.
    h.update(event_ts.unwrap_or(0).to_le_bytes());
    h.update(payload.to_string().as_bytes());
    h.update([0]);
    if let Some(o) = object {
        let key = field(o, "uuid").or_else(|| field(o, "id")).unwrap_or_default();
        h.update(key.as_bytes());
    }
    h.update([0]);
    if let Some(part) = participant {
        h.update(part.identity_key().as_bytes());
        h.update([0]);
        h.update(part.user_id.as_deref().unwrap_or("").as_bytes());
    }
    h.update([0]);
    h.update(occurred_ms.to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

/// A `zoomwatch.rejected` record: the receiver refused a request. Carries the reason,
/// the request's source and user agent, and nothing of the body or headers' secrets.
/// `seq` makes ids unique within one receiver process.
pub fn rejected_record(rejection: crate::record::Rejection, rx: &Received, seq: u64) -> RecordV1 {
    let mut h = Sha256::new();
    h.update(crate::record::REJECTED_EVENT.as_bytes());
    h.update(rx.received_at_ms.to_le_bytes());
    h.update(seq.to_le_bytes());
    if let Some(req) = &rx.request {
        h.update(req.request_id.as_deref().unwrap_or("").as_bytes());
        h.update(req.source_ip.as_deref().unwrap_or("").as_bytes());
    }
    h.update(rejection.reason.as_bytes());
    let id = hex::encode(&h.finalize()[..16]);
    let mut r = RecordV1::own(id, crate::record::REJECTED_EVENT, Category::Endpoint, "rejected", rx.received_at_ms, rx.received_at_ms);
    r.request = rx.request.clone().map(Box::new);
    r.rejection = Some(Box::new(rejection));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_events() {
        let c = |e: &str| classify(e);
        assert_eq!(c("meeting.participant_joined"), (Category::Participant, "joined".into()));
        assert_eq!(c("webinar.participant_left"), (Category::Participant, "left".into()));
        assert_eq!(c("meeting.participant_jbh_waiting"), (Category::Participant, "jbh_waiting".into()));
        assert_eq!(c("meeting.created"), (Category::Meeting, "created".into()));
        assert_eq!(c("webinar.updated"), (Category::Webinar, "updated".into()));
        assert_eq!(c("meeting.chat_message_sent"), (Category::Chat, "chat_message_sent".into()));
        assert_eq!(c("user.signed_in"), (Category::Auth, "signed_in".into()));
        assert_eq!(c("user.created"), (Category::Admin, "created".into()));
        assert_eq!(c("group.admin_added"), (Category::Admin, "admin_added".into()));
        assert_eq!(c("recording.trashed"), (Category::Recording, "trashed".into()));
        assert_eq!(c("endpoint.url_validation"), (Category::Endpoint, "url_validation".into()));
        assert_eq!(c("phone.callee_ringing"), (Category::Other, "callee_ringing".into()));
        assert_eq!(c("nodots"), (Category::Other, "nodots".into()));
    }

    #[test]
    fn a_different_body_with_the_same_event_time_and_object_is_another_record() {
        let rec = |name: &str| {
            let body = format!(
                r#"{{"event":"meeting.participant_joined","event_ts":1700000000000,"payload":{{"account_id":"A","object":{{"id":"1","uuid":"U","participant":{{"user_name":"{name}","user_id":"9","join_time":"2026-01-01T10:00:00Z"}}}}}}}}"#
            );
            normalize(Envelope::parse(body.as_bytes()).unwrap(), &Received { received_at_ms: 0, request: None })
        };
        assert_eq!(rec("Ana").id, rec("Ana").id, "a retry is the same record");
        assert_ne!(rec("Ana").id, rec("Ana2").id, "a second body is not dropped as a retry");
    }
}
