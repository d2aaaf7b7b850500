//! Rows of Zoom's reports as Record v1, so the SIEM, the consoles and the rules see
//! what webhooks miss: sign-ins with their IP (`zoom.report.sign_in` / `sign_out`),
//! the admin operation log (`zoom.report.operation`, with `changes` parsed from
//! "… : from Member to Admin" / "from On to Off" details so the admin rules fire), and
//! failed webhook deliveries, normalized exactly as the webhook would have been — the
//! same record id, so a delivery that also arrived by Zoom's retry is not doubled.
//! Ids of report rows are a fingerprint of their fields: polling a window twice yields
//! the same ids.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::envelope::Envelope;
use crate::normalize::{Received, normalize};
use crate::record::{Actor, Category, Change, Origin, RecordV1, TargetUser};
use crate::timefmt::{format_ms, parse_rfc3339_ms};

/// `origin.source` of sign-in rows.
pub const ACTIVITIES: &str = "zoom.report.activities";
/// `origin.source` of operation-log rows.
pub const OPERATIONS: &str = "zoom.report.operationlogs";
/// `origin.source` of failed deliveries.
pub const WEBHOOK_LOGS: &str = "zoom.webhook_logs";

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Zoom's report times: RFC 3339 (`2026-12-01T09:12:00Z`) or the operation log's
/// `2026-12-01 09:12:00` (UTC).
pub fn parse_time(t: &str) -> Option<i64> {
    parse_rfc3339_ms(t).or_else(|| {
        let t = t.trim();
        (t.len() == 19 && t.as_bytes().get(10) == Some(&b' '))
            .then(|| format!("{}T{}Z", &t[..10], &t[11..]))
            .and_then(|x| parse_rfc3339_ms(&x))
    })
}

fn fingerprint(kind: &str, row: &Value) -> String {
    // Canonical: serde_json's maps are sorted, so the same row always hashes the same.
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(row.to_string().as_bytes());
    hex::encode(&h.finalize()[..16])
}

fn base(event: &str, category: Category, action: &str, row: &Value, at_ms: i64, received_ms: i64, source: &str) -> RecordV1 {
    let mut r = RecordV1::own(fingerprint(event, row), event, category, action, at_ms, received_ms);
    r.origin = Some(Box::new(Origin { source: source.to_owned(), ..Origin::default() }));
    r.raw = row.clone().into();
    r
}

/// Why a row was not turned into a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// A field the record needs is missing or unreadable.
    #[error("report row without a usable {0}")]
    Missing(&'static str),
    /// A failed delivery whose stored body is not a webhook.
    #[error("failed delivery whose request_body is not a Zoom webhook: {0}")]
    Body(String),
}

/// A `/report/activities` row: `{email, ip_address, time, type: "Sign in"|"Sign out",
/// client_type, version}`.
pub fn sign_in(row: &Value, received_ms: i64) -> Result<RecordV1, RowError> {
    let at = s(row, "time").and_then(parse_time).ok_or(RowError::Missing("time"))?;
    let email = s(row, "email").ok_or(RowError::Missing("email"))?;
    let out = s(row, "type").is_some_and(|t| t.to_ascii_lowercase().contains("out"));
    let (event, action) = if out { ("zoom.report.sign_out", "signed_out") } else { ("zoom.report.sign_in", "signed_in") };
    let mut r = base(event, Category::Auth, action, row, at, received_ms, ACTIVITIES);
    r.actor = Some(Actor { email: Some(email.to_owned()), ip: s(row, "ip_address").map(str::to_owned), ..Actor::default() });
    r.target_user = Some(TargetUser { email: Some(email.to_owned()), ..TargetUser::default() });
    Ok(r)
}

/// A `/report/operationlogs` row: `{time, operator, category_type, action,
/// operation_detail}`.
pub fn operation(row: &Value, received_ms: i64) -> Result<RecordV1, RowError> {
    let at = s(row, "time").and_then(parse_time).ok_or(RowError::Missing("time"))?;
    let action = s(row, "action").unwrap_or("operation").to_ascii_lowercase().replace(' ', "_");
    let mut r = base("zoom.report.operation", Category::Admin, &action, row, at, received_ms, OPERATIONS);
    let operator = s(row, "operator");
    r.actor = operator.map(|o| Actor { email: Some(o.to_owned()), ..Actor::default() });
    let detail = s(row, "operation_detail").unwrap_or("");
    let parsed = parse_detail(detail, operator);
    r.changes = parsed.changes;
    r.target_user = parsed.target.map(|t| TargetUser { email: Some(t), ..TargetUser::default() });
    Ok(r)
}

/// A `/marketplace/apps/{id}/webhook_logs` row: its `request_body` normalized as the
/// webhook, with where it came from in `origin`.
pub fn failed_delivery(row: &Value, received_ms: i64) -> Result<RecordV1, RowError> {
    let body = match row.get("request_body") {
        Some(Value::String(b)) => b.clone(),
        Some(v @ Value::Object(_)) => v.to_string(),
        _ => return Err(RowError::Missing("request_body")),
    };
    let env = Envelope::parse(body.as_bytes()).map_err(|e| RowError::Body(e.to_string()))?;
    let mut r = normalize(env, &Received { received_at_ms: received_ms, request: None });
    r.origin = Some(Box::new(Origin {
        source: WEBHOOK_LOGS.to_owned(),
        delivery_status: row.get("status").and_then(Value::as_i64),
        delivery_failure: row.get("failed_reason_type").and_then(Value::as_i64).map(|t| failure_reason(t).to_owned()),
        retry_num: row.get("retry_num").and_then(Value::as_i64),
        attempted_at: s(row, "date_time").and_then(parse_time).map(format_ms),
    }));
    Ok(r)
}

/// Zoom's `failed_reason_type` codes.
pub fn failure_reason(t: i64) -> &'static str {
    match t {
        1 => "read timeout",
        2 => "connection refused",
        3 => "hystrix fallback",
        4 => "hystrix timeout",
        5 => "async error",
        6 => "DNS forbidden",
        7 => "remote error",
        8 => "in delegate allow list",
        9 => "certificate error",
        10 => "needs instant retry",
        11 => "host name verification failed",
        12 => "TLS verification failed",
        13 => "DNS resolution timeout",
        14 => "no client",
        15 => "resource not found",
        16 => "too many requests",
        _ => "unknown reason",
    }
}

/// What an operation-log detail says changed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    /// Parsed changes.
    pub changes: Vec<Change>,
    /// The user acted on (an email in the detail other than the operator's).
    pub target: Option<String>,
}

/// Portal labels of settings the rules know by their API names.
const LABELS: &[(&str, &str)] = &[
    ("waiting room", "waiting_room"),
    ("join before host", "join_before_host"),
    ("allow participants to join before host", "join_before_host"),
    ("only authenticated users can join meetings", "meeting_authentication"),
    ("only authenticated meeting participants and webinar attendees can join meetings and webinars", "meeting_authentication"),
    ("require a passcode when scheduling new meetings", "require_password_for_scheduling_new_meetings"),
    ("require a passcode for instant meetings", "require_password_for_instant_meetings"),
    ("require a passcode for personal meeting id (pmi)", "password_for_pmi"),
    ("embed passcode in invite link for one-click join", "embed_password_in_join_link"),
    ("sign in with two-factor authentication", "sign_in_with_two_factor_auth"),
    ("allow use of end-to-end encryption", "e2e_encryption"),
    ("end-to-end encryption", "e2e_encryption"),
];

fn api_name(label: &str) -> String {
    let l = label.trim().to_ascii_lowercase();
    if let Some((_, n)) = LABELS.iter().find(|(k, _)| *k == l) {
        return (*n).to_owned();
    }
    let mut out = String::new();
    for c in l.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').chars().take(80).collect()
}

fn value_of(v: &str) -> Value {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "enabled" | "yes" => Value::Bool(true),
        "off" | "false" | "disabled" | "no" => Value::Bool(false),
        _ => Value::String(v.trim().chars().take(200).collect()),
    }
}

/// Parses `"[Section  - ]Label: from OLD to NEW"` parts (several may be joined by `;` or
/// `,` between parts) and an email naming the target. Role labels become `role`; other
/// labels `settings.<api name>`. Anything else yields no change: the detail stays in
/// `raw` for the analyst.
pub fn parse_detail(detail: &str, operator: Option<&str>) -> Detail {
    let target = detail
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '"' | '\''))
        .map(|w| w.trim_end_matches(['.', ':']))
        .find(|w| w.contains('@') && w.len() > 3 && operator.is_none_or(|o| !o.eq_ignore_ascii_case(w)))
        .map(str::to_owned);
    let mut out = Detail { changes: Vec::new(), target };
    for part in detail.split(';') {
        let lower = part.to_ascii_lowercase();
        let Some(from_at) = lower.rfind(" from ").or_else(|| lower.starts_with("from ").then_some(0)) else { continue };
        let Some(to_rel) = lower[from_at..].find(" to ") else { continue };
        let to_at = from_at + to_rel;
        let old = part[from_at..to_at]
            .trim()
            .strip_prefix("from ")
            .or_else(|| part[from_at..to_at].trim().strip_prefix("From "))
            .unwrap_or("")
            .trim();
        let new = part[to_at + 4..].trim();
        let head = part[..from_at].trim().trim_end_matches(':').trim();
        // "Section  - Label" → Label; "Update User x@y - Role" → Role.
        let label = head.rsplit(" - ").next().unwrap_or(head).rsplit(':').next().unwrap_or(head).trim();
        if old.is_empty() || new.is_empty() {
            continue;
        }
        let path = if label.to_ascii_lowercase().contains("role") || label.is_empty() && lower.contains("role") {
            "role".to_owned()
        } else if label.is_empty() {
            continue;
        } else {
            format!("settings.{}", api_name(label))
        };
        out.changes.push(Change { path, old: value_of(old), new: value_of(new) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_and_roles_from_details() {
        let d = parse_detail("Meeting  - Waiting Room: from On to Off", Some("it@acme.example"));
        assert_eq!(d.changes, vec![Change { path: "settings.waiting_room".into(), old: json!(true), new: json!(false) }]);
        let d = parse_detail("Update User contractor@ext.example  - User Role: from Member to Admin", Some("it@acme.example"));
        assert_eq!(d.target.as_deref(), Some("contractor@ext.example"));
        assert_eq!(d.changes, vec![Change { path: "role".into(), old: json!("Member"), new: json!("Admin") }]);
        let d = parse_detail("Sign-in Methods  - Allow users to sign in with Google: from Off to On", None);
        assert_eq!(d.changes[0].path, "settings.allow_users_to_sign_in_with_google");
        // Odd shapes: nothing parsed, nothing invented.
        for odd in ["", "Delete User x@y.example", "from", "Role: from  to Admin", " - : from On", "🙂 from 🙃 to"] {
            let d = parse_detail(odd, None);
            assert!(d.changes.iter().all(|c| !c.path.is_empty()), "{odd}: {d:?}");
        }
        assert!(parse_detail("Role: from  to Admin", None).changes.is_empty());
    }

    #[test]
    fn report_times() {
        assert_eq!(parse_time("2022-12-16 18:20:07"), parse_rfc3339_ms("2022-12-16T18:20:07Z"));
        assert!(parse_time("16/12/2022").is_none());
    }

    #[test]
    fn the_same_row_gets_the_same_id() {
        let row = json!({"email": "a@acme.example", "ip_address": "1.2.3.4", "time": "2026-12-01T09:00:00Z", "type": "Sign in", "client_type": "mac", "version": "6.4"});
        let a = sign_in(&row, 1).unwrap();
        let b = sign_in(&row, 2).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.event, "zoom.report.sign_in");
        assert_eq!(a.actor.as_ref().unwrap().ip.as_deref(), Some("1.2.3.4"));
        assert!(sign_in(&json!({"email": "a"}), 1).is_err());
    }
}
