//! The filter language, used by `zoomwatch tail` flags and the console's `/` prompt.
//! Terms are separated by spaces and must all match:
//!
//! | term | matches |
//! |---|---|
//! | `meeting:X` | meeting number or uuid equal to X, or topic containing X |
//! | `user:X` | participant, operator or target user whose email, name or id contains X |
//! | `type:X` | event type or category containing X (`type:joined`, `type:admin`) |
//! | `sev:>=medium`, `sev:high` | worst flag (or alert severity) at least / exactly |
//! | anything else | text anywhere in event, topic, names, emails, IPs, reasons |
//!
//! Matching is case-insensitive. `"quoted words"` keep their spaces.

use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::Alert;

/// One term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `meeting:`
    Meeting(String),
    /// `user:`
    User(String),
    /// `type:`
    Type(String),
    /// `sev:>=` (true) or `sev:` exact (false).
    Severity(Severity, bool),
    /// Free text.
    Text(String),
}

/// A conjunction of terms. The empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The terms, lower-cased.
    pub terms: Vec<Term>,
}

/// A filter that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct FilterError(pub String);

fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Filter {
    /// Parses filter text.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        let mut terms = Vec::new();
        for word in split_words(s) {
            let lower = word.to_lowercase();
            let term = if let Some(v) = lower.strip_prefix("meeting:") {
                Term::Meeting(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("user:") {
                Term::User(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("type:") {
                Term::Type(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("sev:") {
                let (at_least, name) = match v.strip_prefix(">=") {
                    Some(n) => (true, n),
                    None => (false, v),
                };
                let sev = Severity::parse(name)
                    .ok_or_else(|| FilterError(format!("unknown severity {name:?}: use info, low, medium or high (sev:>=medium)")))?;
                Term::Severity(sev, at_least)
            } else {
                Term::Text(lower)
            };
            if matches!(&term, Term::Meeting(v) | Term::User(v) | Term::Type(v) if v.is_empty()) {
                return Err(FilterError(format!("{word:?} needs a value, e.g. {word}x")));
            }
            terms.push(term);
        }
        Ok(Self { terms })
    }

    /// Adds a term (from `--meeting`, `--user`, or a jump to "this meeting").
    pub fn with(mut self, term: Term) -> Self {
        self.terms.push(term);
        self
    }

    /// True when no term is set.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `r` (whose effective worst severity is `worst`) matches.
    pub fn matches_record(&self, r: &RecordV1, worst: Option<Severity>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Meeting(v) => r.meeting.as_ref().is_some_and(|m| {
                m.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(v))
                    || m.uuid.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(v))
                    || m.topic.as_deref().is_some_and(|tp| contains(tp, v))
            }),
            Term::User(v) => user_fields(r).any(|f| contains(f, v)),
            Term::Type(v) => contains(&r.event, v) || r.category.as_str() == v,
            Term::Severity(s, at_least) => worst.is_some_and(|w| if *at_least { w >= *s } else { w == *s }),
            Term::Text(v) => text_fields(r).any(|f| contains(f, v)),
        })
    }

    /// Whether alert `a` matches.
    pub fn matches_alert(&self, a: &Alert) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Meeting(v) => a.meeting.as_ref().is_some_and(|m| {
                m.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(v))
                    || m.uuid.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(v))
                    || m.topic.as_deref().is_some_and(|tp| contains(tp, v))
            }),
            Term::User(v) => {
                let p = a.participant.iter().flat_map(|p| [&p.email, &p.name, &p.zoom_user_id, &p.user_id]);
                let ac = a.actor.iter().flat_map(|x| [&x.email, &x.id]);
                p.chain(ac).flatten().any(|f| contains(f, v))
            }
            Term::Type(v) => contains(&a.rule, v) || v == "alert",
            Term::Severity(s, at_least) => {
                if *at_least {
                    a.severity >= *s
                } else {
                    a.severity == *s
                }
            }
            Term::Text(v) => contains(&a.reason, v) || contains(&a.rule, v),
        })
    }
}

/// Case-insensitive containment; `needle` is already lower-case.
fn contains(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        hay.as_bytes().windows(needle.len().max(1)).any(|w| w.eq_ignore_ascii_case(needle.as_bytes())) || needle.is_empty()
    } else {
        hay.to_lowercase().contains(needle)
    }
}

fn user_fields(r: &RecordV1) -> impl Iterator<Item = &str> {
    let p = r.participant.iter().flat_map(|p| [&p.email, &p.name, &p.zoom_user_id, &p.user_id, &p.participant_uuid]);
    let a = r.actor.iter().flat_map(|a| [&a.email, &a.id]);
    let t = r.target_user.iter().flat_map(|t| [&t.email, &t.id, &t.name]);
    p.chain(a).chain(t).flatten().map(String::as_str)
}

fn text_fields(r: &RecordV1) -> impl Iterator<Item = &str> {
    let base = [Some(&r.event)].into_iter().flatten().map(String::as_str);
    let m = r.meeting.iter().flat_map(|m| [&m.topic, &m.id, &m.uuid]).flatten().map(String::as_str);
    let ips = r.participant.iter().flat_map(|p| [&p.ip, &p.private_ip]).flatten().map(String::as_str);
    let req = r.request.iter().flat_map(|q| [&q.source_ip]).flatten().map(String::as_str);
    let flags = r.flags.iter().map(|f| f.reason.as_str());
    base.chain(m).chain(user_fields(r)).chain(ips).chain(req).chain(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        let f = Filter::parse("meeting:8451 user:\"Morgan Reyes\" type:joined sev:>=medium raid").unwrap();
        assert_eq!(
            f.terms,
            vec![
                Term::Meeting("8451".into()),
                Term::User("morgan reyes".into()),
                Term::Type("joined".into()),
                Term::Severity(Severity::Medium, true),
                Term::Text("raid".into())
            ]
        );
        assert!(Filter::parse("sev:critical").unwrap_err().0.contains("unknown severity"));
        assert!(Filter::parse("user:").is_err());
        assert!(Filter::parse("").unwrap().is_empty());
    }

    #[test]
    fn case_insensitive_containment() {
        assert!(contains("Company All-Hands", "all-hands"));
        assert!(contains("회의 제목 예시", "제목"));
        assert!(!contains("abc", "abcd"));
    }
}
