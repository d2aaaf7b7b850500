//! How the rules name who and where in their reasons (sanitized, quoted, shortened),
//! and who counts as an outsider. Every rule module uses these; they use no rule.

use crate::config::Config;
use crate::record::{Category, Participant, RecordV1};
use crate::text::sanitize;

/// Longest name or topic quoted in a reason.
pub const QUOTE: usize = 48;

/// Quotes untrusted text for a reason line: sanitized, shortened, in double quotes.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", sanitize(s, QUOTE))
}

/// `"Topic"` or `meeting 123` or `a meeting`.
pub fn meeting_label(r: &RecordV1) -> String {
    match &r.meeting {
        Some(m) => match (&m.topic, &m.id) {
            (Some(t), _) => quote(t),
            (None, Some(id)) => format!("meeting {}", sanitize(id, QUOTE)),
            _ => "a meeting".to_owned(),
        },
        None => "a meeting".to_owned(),
    }
}

/// How a participant is named in reasons: email if any, else quoted display name, plus
/// "(guest)" when they have no Zoom identity.
pub fn who(p: &Participant) -> String {
    let base = match (&p.email, &p.name) {
        (Some(e), _) => sanitize(e, QUOTE).into_owned(),
        (None, Some(n)) => quote(n),
        (None, None) => "someone".to_owned(),
    };
    if p.guest && p.email.is_none() { format!("guest {base}") } else { base }
}

/// How the operator of an admin record is named in reasons.
pub fn operator(r: &RecordV1) -> String {
    r.actor
        .as_ref()
        .and_then(|a| a.email.clone().or_else(|| a.id.clone()))
        .map_or_else(|| "an admin".to_owned(), |s| sanitize(&s, QUOTE).into_owned())
}

/// One line about any record, for custom rules' reasons: who, what, where.
pub fn describe(r: &RecordV1) -> String {
    let subject = match (&r.participant, &r.actor, &r.target_user) {
        (Some(p), _, _) => who(p),
        (None, Some(_), _) => operator(r),
        (None, None, Some(t)) => {
            t.email.as_deref().or(t.id.as_deref()).map_or_else(|| "someone".to_owned(), |s| sanitize(s, QUOTE).into_owned())
        }
        _ => "someone".to_owned(),
    };
    let mut s = format!("{subject}, {}", sanitize(&r.event, QUOTE));
    if r.meeting.is_some() {
        s.push_str(" in ");
        s.push_str(&meeting_label(r));
    }
    s
}

/// True for events that put someone *in* a meeting.
pub fn is_join(r: &RecordV1) -> bool {
    r.category == Category::Participant && matches!(r.action.as_str(), "joined" | "jbh_joined")
}

/// True when the participant is external: has an email outside the internal domains
/// (only when internal domains are configured).
pub fn is_external(p: &Participant, cfg: &Config) -> bool {
    !cfg.internal_domains.is_empty() && p.email.as_deref().is_some_and(|e| !cfg.is_internal_email(e))
}

/// Guest or external: not verifiably one of ours.
pub fn is_outsider(p: &Participant, cfg: &Config) -> bool {
    p.guest || is_external(p, cfg)
}
