//! `[[custom_rules]]`: rules an operator writes in the filter language, validated and
//! compiled (stateless ones also run in the receiver; counting ones in the detector).

use crate::record::Severity;
use crate::rules::catalog;

use super::file::{ConfigError, CustomRuleFile, line_of};

/// A custom rule, compiled.
#[derive(Debug, Clone)]
pub struct CustomRule {
    /// Id.
    pub id: String,
    /// The `when` filter as written.
    pub when: String,
    /// The compiled filter.
    pub filter: crate::filter::Filter,
    /// Severity of its findings.
    pub severity: Severity,
    /// Reason prefix.
    pub reason: String,
    /// Records needed within the window (0: every matching record is a finding; the rule
    /// is stateless and runs in the receiver too).
    pub count: u32,
    /// Window for `count`, seconds (0 when `count` is 0).
    pub window_secs: u64,
    /// Alert grouping (and what is counted together).
    pub grouping: catalog::Grouping,
    /// Line of its `id` in the file (0 when unknown).
    pub line: usize,
}

impl CustomRule {
    /// Stateless (judges one record) or stateful (counts).
    pub fn scope(&self) -> catalog::RuleScope {
        if self.count == 0 { catalog::RuleScope::Stateless } else { catalog::RuleScope::Stateful }
    }

    /// The `per` value for this rule's grouping.
    pub fn per(&self) -> &'static str {
        match self.grouping {
            catalog::Grouping::PerMeeting => "meeting",
            catalog::Grouping::PerParticipant => "participant",
            catalog::Grouping::PerActor => "operator",
            catalog::Grouping::PerRecord => "record",
            catalog::Grouping::Global => "account",
        }
    }
}

/// Validates and compiles `[[custom_rules]]`.
pub(crate) fn custom_rules(list: &[CustomRuleFile], text: &str, origin: &str) -> Result<Vec<CustomRule>, ConfigError> {
    let err = |line: usize, message: String| ConfigError { origin: origin.to_owned(), line, message, also: Vec::new() };
    let at = |span: std::ops::Range<usize>| if span.end == 0 { 0 } else { line_of(text, span.start) };
    let mut out: Vec<CustomRule> = Vec::new();
    for c in list {
        let id = c.id.get_ref().trim();
        let line = at(c.id.span());
        let kebab = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !kebab {
            return Err(err(
                line,
                format!("custom_rules.id: {id:?} must be kebab-case (lower-case letters, digits, dashes), e.g. \"board-from-guest\""),
            ));
        }
        if catalog::info(id).is_some() {
            return Err(err(line, format!("custom_rules.id: {id:?} is a built-in rule; tune it in [rules.{id}] or pick another id")));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(err(line, format!("custom_rules.id: {id:?} is defined twice")));
        }
        let when = c.when.get_ref().trim();
        if when.is_empty() {
            return Err(err(at(c.when.span()), format!("custom_rules {id}: `when` is empty (it would match every record)")));
        }
        let filter = crate::filter::Filter::parse(when, 0).map_err(|e| err(at(c.when.span()), format!("custom_rules {id}: when: {e}")))?;
        if filter.terms.iter().any(|t| matches!(t, crate::filter::Term::Time(..))) {
            return Err(err(
                at(c.when.span()),
                format!("custom_rules {id}: when: since:/between: filter what is shown, not what a rule judges; use count and window_secs"),
            ));
        }
        let severity = match &c.severity {
            None => Severity::Medium,
            Some(s) => Severity::parse(s.get_ref()).ok_or_else(|| {
                err(at(s.span()), format!("custom_rules {id}: severity {:?} is not one of info, low, medium, high", s.get_ref()))
            })?,
        };
        let reason = crate::text::sanitize(c.reason.get_ref().trim(), 200).into_owned();
        if reason.is_empty() {
            return Err(err(at(c.reason.span()), format!("custom_rules {id}: `reason` is empty; say what it means for the analyst")));
        }
        let count = match &c.count {
            None => 0,
            Some(n) if *n.get_ref() >= 2 => *n.get_ref(),
            Some(n) => {
                return Err(err(
                    at(n.span()),
                    format!("custom_rules {id}: count must be at least 2 (leave it out to fire on every match)"),
                ));
            }
        };
        let window_secs = match (&c.window_secs, count) {
            (Some(w), 0) => return Err(err(at(w.span()), format!("custom_rules {id}: window_secs needs a count"))),
            (Some(w), _) if *w.get_ref() == 0 => {
                return Err(err(at(w.span()), format!("custom_rules {id}: window_secs must be at least 1")));
            }
            (Some(w), _) => *w.get_ref(),
            (None, 0) => 0,
            (None, _) => 60,
        };
        let grouping = match c.per.as_ref().map(|p| (p.get_ref().trim(), p.span())) {
            None | Some(("meeting", _)) => catalog::Grouping::PerMeeting,
            Some(("participant", _)) => catalog::Grouping::PerParticipant,
            Some(("operator", _)) => catalog::Grouping::PerActor,
            Some(("record", _)) => catalog::Grouping::PerRecord,
            Some(("account", _)) => catalog::Grouping::Global,
            Some((other, span)) => {
                return Err(err(
                    at(span),
                    format!("custom_rules {id}: per {other:?} is not one of meeting, participant, operator, record, account"),
                ));
            }
        };
        if count > 0 && grouping == catalog::Grouping::PerRecord {
            return Err(err(
                line,
                format!("custom_rules {id}: per = \"record\" cannot count; use meeting, participant, operator or account"),
            ));
        }
        out.push(CustomRule { id: id.to_owned(), when: when.to_owned(), filter, severity, reason, count, window_secs, grouping, line });
    }
    Ok(out)
}
