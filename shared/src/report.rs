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

/// The event name of an operation-log row's record.
pub const OPERATION_EVENT: &str = "zoom.report.operation";
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
    r.actor = Some(Box::new(Actor { email: Some(email.to_owned()), ip: s(row, "ip_address").map(str::to_owned), ..Actor::default() }));
    r.target_user = Some(Box::new(TargetUser { email: Some(email.to_owned()), ..TargetUser::default() }));
    Ok(r)
}

/// A `/report/operationlogs` row: `{time, operator, category_type, action,
/// operation_detail}`.
pub fn operation(row: &Value, received_ms: i64) -> Result<RecordV1, RowError> {
    let at = s(row, "time").and_then(parse_time).ok_or(RowError::Missing("time"))?;
    let action = s(row, "action").unwrap_or("operation").to_ascii_lowercase().replace(' ', "_");
    let mut r = base(OPERATION_EVENT, Category::Admin, &action, row, at, received_ms, OPERATIONS);
    let operator = s(row, "operator");
    r.actor = operator.map(|o| Box::new(Actor { email: Some(o.to_owned()), ..Actor::default() }));
    let detail = s(row, "operation_detail").unwrap_or("");
    let parsed = parse_detail(detail, operator);
    r.changes = parsed.changes;
    r.target_user = parsed.target.map(|t| Box::new(TargetUser { email: Some(t), ..TargetUser::default() }));
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
    /// Parsed changes: catalogued settings as `settings.<api path>` (see
    /// [`crate::zoom_settings`]), others as `settings.<label>`; role changes as `role`;
    /// group and channel admins added or removed as `group_admins` / `channel_admins`.
    pub changes: Vec<Change>,
    /// The user acted on, taken only from the shapes that name one (`Change Role - USER`,
    /// `Update|Edit|Add|Delete|Activate|Deactivate User USER`, `… Admins for G - USER`,
    /// `Assign admin for channel C - USER`), never from free text.
    pub target: Option<String>,
    /// Where the changes apply: `account`, `group NAME` or `user EMAIL`.
    pub scope: String,
}

/// The words of a label as a path part: lower-case, `_` between words.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.trim().to_ascii_lowercase().chars() {
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

/// The path a settings label is recorded under.
pub fn setting_path(label: &str) -> String {
    match crate::zoom_settings::by_label(label) {
        Some(info) => format!("settings.{}", info.api.map_or_else(|| slug(label), str::to_owned)),
        None => format!("settings.{}", slug(label)),
    }
}

/// An email-like word (`a@b.c`), trimmed of punctuation around it.
fn email_in(word: &str) -> Option<String> {
    let w = word.trim().trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '.' | '(' | ')' | '"' | '\''));
    (w.len() > 4 && w.contains('@') && !w.contains(char::is_whitespace) && w.rsplit('@').next().is_some_and(|d| d.contains('.')))
        .then(|| w.to_owned())
}

/// One `Label: …` item of a detail: (label, old, new); `old` is `None` for `set to`
/// and plain values.
fn item(token: &str) -> Option<(&str, Option<&str>, &str)> {
    let (label, rest) = token.split_once(':')?;
    let rest = rest.trim();
    let lower = rest.to_ascii_lowercase();
    if let Some(after) = lower.strip_prefix("from ") {
        let to = after.find(" to ").or_else(|| after.ends_with(" to").then(|| after.len() - 3))?;
        let old = rest[5..5 + to].trim();
        let new = rest.get(5 + to + 4..).unwrap_or("").trim();
        return Some((label.trim(), Some(old), new));
    }
    if lower == "set to" || lower.starts_with("set to ") {
        return Some((label.trim(), None, rest.get(7..).unwrap_or("").trim()));
    }
    Some((label.trim(), None, rest))
}

/// Parses an operation-log detail in Zoom's wording: `<Section or verb phrase>  - <Label>:
/// from <A> to <B>[ - <Label>: from <A> to <B>…]`, `set to <B>` (or nothing), any letter
/// case. Shapes it does not know yield no change: the detail stays in `raw`.
pub fn parse_detail(detail: &str, operator: Option<&str>) -> Detail {
    let mut out = Detail { changes: Vec::new(), target: None, scope: "account".into() };
    // Items are joined by " - " (the first after a double space); a token without a
    // colon continues the value before it, unless it is the subject of the head.
    let mut tokens = detail.split(" - ").map(str::trim);
    let head = tokens.next().unwrap_or("").trim();
    let lower_head = head.to_ascii_lowercase();
    let mut items: Vec<String> = Vec::new();
    let mut subject: Option<String> = None;
    for t in tokens {
        if t.contains(':') || items.is_empty() && subject.is_some() {
            items.push(t.to_owned());
        } else if items.is_empty() {
            subject = Some(t.to_owned());
        } else if let Some(last) = items.last_mut() {
            last.push_str(" - ");
            last.push_str(t);
        }
    }
    let not_operator = |e: &String| operator.is_none_or(|o| !o.eq_ignore_ascii_case(e));
    let head_words: Vec<&str> = head.split_whitespace().collect();
    let verb_user = matches!(
        head_words.first().map(|w| w.to_ascii_lowercase()).as_deref(),
        Some("update" | "edit" | "add" | "delete" | "activate" | "deactivate")
    ) && head_words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("user"));
    if lower_head.starts_with("change role") {
        // `Change Role  - USER: from A to B` (and `Change Role : ROLE - USER: …`).
        for it in &items {
            if let Some((who, Some(old), new)) = item(it)
                && let Some(email) = email_in(who)
                && !old.is_empty()
                && !new.is_empty()
            {
                out.target.get_or_insert(email);
                out.changes.push(Change { path: "role".into(), old: Value::String(old.into()), new: Value::String(new.into()) });
            }
        }
        if let Some(t) = &out.target {
            out.scope = format!("user {t}");
        }
        return out;
    }
    if verb_user {
        // `Delete User x@y`, or the lower-case `delete user - x@y`.
        out.target = head_words.get(2).and_then(|w| email_in(w)).or_else(|| subject.as_deref().and_then(email_in)).filter(not_operator);
        out.scope = out.target.as_ref().map_or_else(|| "a user".into(), |t| format!("user {t}"));
    } else if lower_head.starts_with("edit group ") || lower_head.starts_with("add group ") {
        let name = head.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
        if let Some(group) = name.strip_prefix("Admins for ").or_else(|| name.strip_prefix("admins for ")) {
            // `Add Group Admins for G - USER`: a group admin added.
            out.target = subject.as_deref().and_then(email_in);
            out.scope = format!("group {group}");
            if out.target.is_some() && lower_head.starts_with("add ") {
                out.changes.push(Change { path: "group_admins".into(), old: Value::Null, new: Value::String(group.to_owned()) });
            }
            return out;
        }
        out.scope = format!("group {name}");
    } else if let Some(group) = lower_head.strip_prefix("delete group admins for ") {
        out.target = subject.as_deref().and_then(email_in);
        let group = head.get(head.len() - group.len()..).unwrap_or(group);
        out.scope = format!("group {group}");
        if out.target.is_some() {
            out.changes.push(Change { path: "group_admins".into(), old: Value::String(group.to_owned()), new: Value::Null });
        }
        return out;
    } else if lower_head.starts_with("assign admin for channel ") {
        let channel = head.get("assign admin for channel ".len()..).unwrap_or("").trim();
        out.target = subject.as_deref().and_then(email_in);
        out.scope = format!("channel {channel}");
        if out.target.is_some() {
            out.changes.push(Change { path: "channel_admins".into(), old: Value::Null, new: Value::String(channel.to_owned()) });
        }
        return out;
    }
    for it in &items {
        let Some((label, old, new)) = item(it) else { continue };
        let Some(old) = old else { continue }; // `set to` and plain values: no old value to compare
        if label.is_empty() || old.is_empty() && new.is_empty() {
            continue;
        }
        let path = if label.to_ascii_lowercase().ends_with("role") { "role".to_owned() } else { setting_path(label) };
        if path == "settings." {
            continue; // a label with no letters or digits names nothing
        }
        let old = if old.is_empty() { Value::Null } else { value_of(old) };
        out.changes.push(Change { path, old, new: value_of(new) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_and_roles_from_details() {
        // A catalogued setting is recorded under its API path (the settings catalogue).
        let d = parse_detail("Meeting  - Waiting Room: from On to Off", Some("it@acme.example"));
        assert_eq!(d.changes, vec![Change { path: "settings.meeting_security.waiting_room".into(), old: json!(true), new: json!(false) }]);
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
