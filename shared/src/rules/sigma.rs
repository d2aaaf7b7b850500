//! `zoomwatch rules --sigma`: the stateless rules as Sigma rules over Record v1 fields, for
//! SIEMs that speak Sigma. A built-in rule becomes "a record the receiver flagged with
//! it" (`flags.rule`), which is exactly what the receiver judged; a custom stateless rule
//! is compiled from its filter terms. Stateful rules (counts, rosters, silence) have no
//! single-record form and are listed in a comment instead.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::config::{Config, CustomRule};
use crate::filter::{Term, Trait};
use crate::record::Severity;
use crate::rules::catalog::RuleScope;

/// Every stateless rule of `cfg` (built-in, enabled, then custom) as a multi-document
/// Sigma YAML collection.
pub fn export(cfg: &Config) -> String {
    let mut out = String::from("# zoomwatch detections as Sigma rules over Record v1 (docs/record-v1.md).\n");
    let stateful: Vec<&str> = cfg
        .rules
        .iter()
        .filter(|r| r.enabled && r.info.scope == RuleScope::Stateful)
        .map(|r| r.info.id)
        .chain(cfg.custom_rules.iter().filter(|c| c.count > 0).map(|c| c.id.as_str()))
        .collect();
    if !stateful.is_empty() {
        let _ = writeln!(
            out,
            "# Not exported (stateful; run `zoomwatch watch`, whose alerts are zoomwatch.alert records): {}",
            stateful.join(", ")
        );
    }
    let mut docs = Vec::new();
    for r in cfg.rules.iter().filter(|r| r.enabled && r.info.scope == RuleScope::Stateless) {
        let mut d = header(r.info.id, &format!("{} (as judged by the zoomwatch receiver)", r.info.summary));
        d.push_str("detection:\n  selection:\n    flags.rule: ");
        d.push_str(&yaml_str(r.info.id));
        d.push_str("\n  condition: selection\n");
        let _ = writeln!(d, "falsepositives:\n  - {}", yaml_str(&format!("see the tuning of {}: {}", r.info.id, r.info.tuning)));
        let _ = writeln!(d, "level: {}", level(r.severity));
        docs.push(d);
    }
    for c in cfg.custom_rules.iter().filter(|c| c.count == 0) {
        docs.push(custom(c));
    }
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    out
}

fn header(id: &str, description: &str) -> String {
    let mut d = String::new();
    let _ = writeln!(d, "title: {}", yaml_str(&format!("zoomwatch {id}")));
    let _ = writeln!(d, "id: {}", rule_uuid(id));
    let _ = writeln!(d, "status: experimental");
    let _ = writeln!(d, "description: {}", yaml_str(description));
    let _ = writeln!(d, "author: zoomwatch");
    d.push_str("logsource:\n  product: zoom\n  service: zoomwatch\n");
    d
}

fn custom(c: &CustomRule) -> String {
    let mut d = header(&c.id, &format!("{} (zoomwatch custom rule: {})", c.reason, c.when));
    d.push_str("detection:\n");
    let mut condition = Vec::new();
    for (i, t) in c.filter.terms.iter().enumerate() {
        let name = format!("term{}", i + 1);
        let mut alternatives: Vec<(String, String)> = Vec::new(); // (field|modifier, YAML value)
        let mut keyword = None;
        let mut not_above = None;
        match t {
            Term::Meeting(v) => {
                alternatives.push(("meeting.id".into(), yaml_str(&escape(v))));
                alternatives.push(("meeting.uuid".into(), yaml_str(&escape(v))));
                alternatives.push(("meeting.topic|contains".into(), yaml_str(&escape(v))));
            }
            Term::User(v) => {
                for f in [
                    "participant.email",
                    "participant.name",
                    "participant.zoom_user_id",
                    "participant.user_id",
                    "actor.email",
                    "actor.id",
                    "target_user.email",
                    "target_user.name",
                    "target_user.id",
                ] {
                    alternatives.push((format!("{f}|contains"), yaml_str(&escape(v))));
                }
            }
            Term::Type(v) => {
                alternatives.push(("event|contains".into(), yaml_str(&escape(v))));
                alternatives.push(("category".into(), yaml_str(&escape(v))));
            }
            Term::Severity(s, at_least) => {
                let levels: Vec<Severity> = [Severity::Info, Severity::Low, Severity::Medium, Severity::High]
                    .into_iter()
                    .filter(|l| if *at_least { l >= s } else { l == s })
                    .collect();
                alternatives.push(("flags.severity".into(), yaml_list(levels.iter().map(|l| l.as_str()))));
                if !at_least && *s < Severity::High {
                    // Exactly this severity: the worst flag is not above it.
                    let above = [Severity::Low, Severity::Medium, Severity::High].into_iter().filter(|l| l > s).map(Severity::as_str);
                    not_above = Some(yaml_list(above));
                }
            }
            Term::Country(v) => {
                let v = v.to_ascii_uppercase();
                alternatives.push(("participant.geo.country".into(), yaml_str(&v)));
                alternatives.push(("actor.geo.country".into(), yaml_str(&v)));
            }
            Term::Asn(n) => {
                alternatives.push(("participant.geo.asn".into(), n.to_string()));
                alternatives.push(("actor.geo.asn".into(), n.to_string()));
            }
            Term::Is(Trait::Guest) => alternatives.push(("participant.guest".into(), "true".into())),
            Term::Is(Trait::Registered) => alternatives.push(("participant.registrant_id|exists".into(), "true".into())),
            Term::Is(Trait::Host) => alternatives.push(("participant.zoom_user_id|fieldref".into(), "meeting.host_id".into())),
            Term::Text(v) => keyword = Some(yaml_str(&escape(v))),
            // Refused in custom rules (config validation): a rule has no "now".
            Term::Time(..) => continue,
        }
        if let Some(k) = keyword {
            let _ = writeln!(d, "  {name}:\n    - {k}");
        } else if alternatives.len() == 1 {
            let (f, v) = &alternatives[0];
            let _ = writeln!(d, "  {name}:\n    {f}: {v}");
        } else {
            let _ = writeln!(d, "  {name}:");
            for (f, v) in &alternatives {
                let _ = writeln!(d, "    - {f}: {v}");
            }
        }
        condition.push(name.clone());
        if let Some(above) = not_above {
            let _ = writeln!(d, "  {name}_above:\n    flags.severity: {above}");
            condition.push(format!("not {name}_above"));
        }
    }
    let _ = writeln!(d, "  condition: {}", condition.join(" and "));
    let _ = writeln!(d, "falsepositives:\n  - {}", yaml_str("whatever the team's rule also matches"));
    let _ = writeln!(d, "level: {}", level(c.severity));
    d
}

/// Sigma's level for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "informational",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// A stable UUID (version 5 layout) for a rule id, so re-exports keep their ids.
fn rule_uuid(id: &str) -> String {
    let h = Sha256::digest(format!("zoomwatch-rule:{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

/// Sigma's wildcards (`*`, `?`) and its escape character are literal in our filters.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '*' | '?' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn yaml_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", items.map(yaml_str).collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_uuids() {
        let a = rule_uuid("guest-join");
        assert_eq!(a, rule_uuid("guest-join"));
        assert_ne!(a, rule_uuid("external-join"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(escape(r"a*b?c\d"), r"a\*b\?c\\d");
    }
}
