//! `zoomwatch.toml`: who is internal, what is sensitive, what to watch for, and per-rule
//! switches. Everything is optional; an empty file means built-in defaults.
//! `zoomwatch.example.toml` at the repository root documents every key.
//!
//! Parsing is strict — an unknown key, a bad regex, a bad CIDR or an unknown rule id is an
//! error naming the field and its line, because a silently ignored typo in a detection
//! config is a blind spot.
//!
//! Why one file of this length: resolving the file into [`Config`] is one pass that
//! checks every key against the rest, and its tests (a fifth of the file) stay beside
//! it; the file's shapes are in `file.rs`, custom rules in `custom.rs`.

use std::fmt::Write as _;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use toml::Spanned;

use crate::limits::Limits;
use crate::record::Severity;
use crate::rules::catalog::{self, RuleInfo};
use crate::rules::names::normalize_name;

mod custom;
mod file;

pub use custom::CustomRule;
use custom::custom_rules;
pub use file::{
    Announced, AnnouncedFile, ConfigError, ConfigFile, CustomRuleFile, DEFAULT_REMOVAL_REASONS, DEFAULT_SENSITIVE_INFO,
    DEFAULT_SENSITIVE_TOPICS, DEFAULT_SUSPICIOUS_NAMES, EnrichmentFile, LimitsFile, Organization, Patterns, PolicyFile, RuleSettings,
    Watchlist,
};
use file::{limits, line_of};

/// Effective settings of one rule.
#[derive(Debug, Clone)]
pub struct EffectiveRule {
    /// The catalog entry.
    pub info: &'static RuleInfo,
    /// On or off.
    pub enabled: bool,
    /// Severity after re-weighting.
    pub severity: Severity,
    /// Threshold (rules that count), else 0.
    pub threshold: u32,
    /// Window in seconds (rules that count or wait), else 0.
    pub window_secs: u64,
    /// `join-burst`: severity of a crowd of vetted arrivals (`None`: silent).
    pub crowd_severity: Option<Severity>,
    /// `mass-deletion`: announced clean-ups.
    pub announced: Vec<Announced>,
}

/// The compiled configuration the rules run with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Lower-cased internal domains.
    pub internal_domains: Vec<String>,
    /// Lower-cased admin operator emails.
    pub admin_operators: Vec<String>,
    /// Known people: (normalized name, name as written).
    pub known_people: Vec<(String, String)>,
    /// Compiled sensitive-topic patterns.
    pub sensitive_topics: Vec<Regex>,
    /// Compiled suspicious-name patterns.
    pub suspicious_names: Vec<Regex>,
    /// Compiled sensitive-information patterns.
    pub sensitive_info: Vec<Regex>,
    /// Compiled removal-reason patterns.
    pub removal_reasons: Vec<Regex>,
    /// Lower-cased throwaway-mail domains.
    pub disposable_domains: Vec<String>,
    /// Watchlist names, normalized.
    pub watch_names: Vec<String>,
    /// Watchlist emails, lower-cased.
    pub watch_emails: Vec<String>,
    /// Watchlist domains, lower-cased.
    pub watch_domains: Vec<String>,
    /// Watchlist networks.
    pub watch_ips: Vec<IpNet>,
    /// GeoIP database paths as configured (the binaries load them).
    pub enrichment: Enrichment,
    /// Upper-cased ISO codes of denied countries.
    pub denied_countries: Vec<String>,
    /// Upper-cased ISO codes of allowed countries (empty: all but the denied).
    pub allowed_countries: Vec<String>,
    /// `country-policy` only for sensitive meetings.
    pub policy_sensitive_only: bool,
    /// AS numbers treated as anonymizers.
    pub anonymizer_asns: Vec<u32>,
    /// Which catalogued settings posture and `policy-drift` check, where.
    pub settings_policy: crate::posture::SettingsPolicy,
    /// Every rule in the catalog with its effective settings, in catalog order.
    pub rules: Vec<EffectiveRule>,
    /// The `[[custom_rules]]`, in file order.
    pub custom_rules: Vec<CustomRule>,
    /// `[filters]`: (name, filter text), by name.
    pub filters: Vec<(String, String)>,
    /// `[limits]`.
    pub limits: Limits,
}

/// One configured database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbPath {
    /// The path as written.
    pub path: String,
    /// Line in the config file (0 when unknown).
    pub line: usize,
}

/// The `[enrichment]` paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// `geoip_city`.
    pub city: Option<DbPath>,
    /// `geoip_asn`.
    pub asn: Option<DbPath>,
    /// `geoip_anonymous`.
    pub anonymous: Option<DbPath>,
}

impl Enrichment {
    /// True when no database is configured.
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.asn.is_none() && self.anonymous.is_none()
    }
}

impl Default for Config {
    fn default() -> Self {
        // The built-in patterns are tested to compile (see tests), so this cannot fail.
        Self::parse("", "<built-in>").unwrap_or_else(|e| unreachable!("built-in config: {e}"))
    }
}

impl Config {
    /// Parses and validates TOML text. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let err = |line: usize, message: String| ConfigError { origin: origin.to_owned(), line, message, also: Vec::new() };
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            err(line, e.message().trim().to_owned())
        })?;
        let at = |s: &Spanned<String>| {
            if s.span().end == 0 { 0 } else { line_of(text, s.span().start) }
        };

        let regexes = |field: &str, list: &[Spanned<String>]| -> Result<Vec<Regex>, ConfigError> {
            list.iter()
                .map(|p| {
                    RegexBuilder::new(p.get_ref())
                        .case_insensitive(true)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| err(at(p), format!("patterns.{field}: invalid regular expression {:?}: {e}", p.get_ref())))
                })
                .collect()
        };
        let lower = |list: &[Spanned<String>]| list.iter().map(|s| s.get_ref().trim().to_ascii_lowercase()).collect::<Vec<_>>();

        // Problems are collected, not returned one by one: each check below records what
        // is wrong and goes on with a neutral value.
        let mut problems: Vec<ConfigError> = Vec::new();
        macro_rules! keep {
            ($result:expr, $otherwise:expr) => {
                match $result {
                    Ok(v) => v,
                    Err(e) => {
                        problems.push(e);
                        $otherwise
                    }
                }
            };
        }
        let mut watch_ips = Vec::new();
        for ip in &file.watchlist.ips {
            let t = ip.get_ref().trim();
            let net = t
                .parse::<IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| err(at(ip), format!("watchlist.ips: {t:?} is not an IP address or CIDR network (e.g. 203.0.113.0/24)")));
            watch_ips.push(keep!(net, continue));
        }
        for d in file.organization.internal_domains.iter().chain(&file.watchlist.domains) {
            let v = d.get_ref().trim();
            if v.is_empty() || v.contains('@') || v.contains(char::is_whitespace) {
                problems.push(err(at(d), format!("{v:?} is not a domain: write it as acme.example (no @)")));
            }
        }

        let countries = |field: &str, list: &[Spanned<String>]| -> Result<Vec<String>, ConfigError> {
            list.iter()
                .map(|c| {
                    let v = c.get_ref().trim();
                    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
                        Ok(v.to_ascii_uppercase())
                    } else {
                        Err(err(at(c), format!("policy.{field}: {v:?} is not an ISO 3166-1 alpha-2 country code (e.g. \"GB\", \"US\")")))
                    }
                })
                .collect()
        };
        let db_path = |key: &str, v: &Option<Spanned<String>>| -> Result<Option<DbPath>, ConfigError> {
            let Some(p) = v else { return Ok(None) };
            let path = p.get_ref().trim();
            if path.is_empty() {
                return Err(err(at(p), format!("enrichment.{key}: empty path (remove the line to run without this database)")));
            }
            Ok(Some(DbPath { path: path.to_owned(), line: at(p) }))
        };
        let enrichment = Enrichment {
            city: keep!(db_path("geoip_city", &file.enrichment.geoip_city), None),
            asn: keep!(db_path("geoip_asn", &file.enrichment.geoip_asn), None),
            anonymous: keep!(db_path("geoip_anonymous", &file.enrichment.geoip_anonymous), None),
        };
        let mut anonymizer_asns = Vec::new();
        for a in &file.policy.anonymizer_asns {
            if *a.get_ref() == 0 {
                let line = if a.span().end == 0 { 0 } else { line_of(text, a.span().start) };
                problems.push(err(line, "policy.anonymizer_asns: AS numbers start at 1".to_owned()));
                continue;
            }
            anonymizer_asns.push(*a.get_ref());
        }

        let settings = |field: &str, list: &[Spanned<String>]| -> Result<Vec<&'static str>, ConfigError> {
            list.iter()
                .map(|n| {
                    crate::zoom_settings::by_name(n.get_ref()).map(|i| i.key()).ok_or_else(|| {
                        err(
                            at(n),
                            format!(
                                "{field}: {:?} is not a catalogued setting (an API path such as meeting_security.waiting_room, a CIS id such as 1.1.1.2, or a portal label; `zoomwatch posture --list` shows them)",
                                n.get_ref()
                            ),
                        )
                    })
                })
                .collect()
        };
        let mut settings_policy =
            crate::posture::SettingsPolicy { waive: keep!(settings("policy.waive", &file.policy.waive), Vec::new()), groups: Vec::new() };
        for (group, g) in &file.policy.groups {
            settings_policy.groups.push(crate::posture::GroupPolicy {
                group: group.clone(),
                waive: keep!(settings(&format!("policy.groups.{group}.waive"), &g.waive), Vec::new()),
                require: keep!(settings(&format!("policy.groups.{group}.require"), &g.require), Vec::new()),
            });
        }

        let mut rules: Vec<EffectiveRule> = catalog::RULES
            .iter()
            .map(|info| EffectiveRule {
                info,
                enabled: true,
                severity: info.severity,
                threshold: info.threshold,
                window_secs: info.window_secs,
                crowd_severity: (info.id == "join-burst").then_some(Severity::Low),
                announced: Vec::new(),
            })
            .collect();
        for (id, settings) in &file.rules {
            let line =
                text.find(&format!("[rules.{id}]")).or_else(|| text.find(&format!("[rules.\"{id}\"]"))).map_or(0, |o| line_of(text, o));
            let Some(rule) = rules.iter_mut().find(|r| r.info.id == id) else {
                let known: Vec<&str> = catalog::RULES.iter().map(|r| r.id).collect();
                problems.push(err(line, format!("unknown rule {id:?}; known rules: {}", known.join(", "))));
                continue;
            };
            if let Some(e) = settings.enabled {
                rule.enabled = e;
            }
            if let Some(s) = &settings.severity {
                rule.severity = keep!(
                    Severity::parse(s)
                        .ok_or_else(|| err(line, format!("rules.{id}.severity: {s:?} is not one of info, low, medium, high"))),
                    rule.severity
                );
            }
            if let Some(t) = settings.threshold {
                if rule.info.threshold == 0 {
                    problems.push(err(line, format!("rules.{id}.threshold: this rule does not count anything")));
                    continue;
                }
                if t < 2 {
                    problems.push(err(line, format!("rules.{id}.threshold: must be at least 2")));
                    continue;
                }
                rule.threshold = t;
            }
            if let Some(w) = settings.window_secs {
                if rule.info.window_secs == 0 {
                    problems.push(err(line, format!("rules.{id}.window_secs: this rule has no time window")));
                    continue;
                }
                if w == 0 {
                    problems.push(err(line, format!("rules.{id}.window_secs: must be at least 1")));
                    continue;
                }
                rule.window_secs = w;
            }
            for a in &settings.announced {
                let at = |s: &Spanned<String>| if s.span().end == 0 { line } else { line_of(text, s.span().start) };
                if rule.info.id != "mass-deletion" {
                    problems.push(err(at(&a.operator), format!("rules.{id}.announced: only mass-deletion takes announced clean-ups")));
                    continue;
                }
                let time = |s: &Spanned<String>, field: &str| {
                    crate::timefmt::parse_rfc3339_ms(s.get_ref().trim()).ok_or_else(|| {
                        err(
                            at(s),
                            format!("rules.{id}.announced.{field}: {:?} is not an RFC 3339 time (e.g. 2026-01-10T18:00:00Z)", s.get_ref()),
                        )
                    })
                };
                let (from_ms, until_ms) = match (time(&a.from, "from"), time(&a.until, "until")) {
                    (Ok(f), Ok(u)) => (f, u),
                    (f, u) => {
                        problems.extend(f.err().into_iter().chain(u.err()));
                        continue;
                    }
                };
                if until_ms <= from_ms {
                    problems.push(err(at(&a.until), format!("rules.{id}.announced.until: must be after from")));
                    continue;
                }
                if until_ms - from_ms > 7 * 24 * 3_600_000 {
                    problems.push(err(
                        at(&a.until),
                        format!("rules.{id}.announced: longer than 7 days; announce a clean-up, not a blind spot"),
                    ));
                    continue;
                }
                let operator = a.operator.get_ref().trim().to_ascii_lowercase();
                if !operator.contains('@') {
                    problems.push(err(at(&a.operator), format!("rules.{id}.announced.operator: {operator:?} is not an email")));
                    continue;
                }
                let note = crate::text::sanitize(a.note.as_deref().unwrap_or("announced clean-up").trim(), 120).into_owned();
                rule.announced.push(Announced { operator, from_ms, until_ms, note });
            }
            if let Some(s) = &settings.crowd_severity {
                if rule.info.id != "join-burst" {
                    problems.push(err(line, format!("rules.{id}.crowd_severity: only join-burst tells crowds from raids")));
                    continue;
                }
                rule.crowd_severity = if s == "off" {
                    None
                } else {
                    let parsed = Severity::parse(s)
                        .ok_or_else(|| err(line, format!("rules.{id}.crowd_severity: {s:?} is not one of off, info, low, medium, high")));
                    Some(keep!(parsed, continue))
                };
            }
        }

        let custom_rules = keep!(custom_rules(&file.custom_rules, text, origin), Vec::new());
        let mut filters = Vec::new();
        for (name, f) in &file.filters {
            let line = if f.span().end == 0 { 0 } else { line_of(text, f.span().start) };
            if name.trim().is_empty() || name.chars().count() > 40 {
                problems.push(err(line, format!("filters: {name:?}: a name of 1 to 40 characters")));
                continue;
            }
            // Only the syntax is checked here: the console reads the filter again, with its
            // clock, when it is applied.
            keep!(crate::filter::Filter::parse(f.get_ref(), 0).map_err(|e| err(line, format!("filters.{name}: {e}"))), continue);
            filters.push((name.clone(), f.get_ref().trim().to_owned()));
        }

        let limits = keep!(limits(&file.limits, text, origin), Limits::default());
        let sensitive_topics = keep!(regexes("sensitive_topics", &file.patterns.sensitive_topics), Vec::new());
        let suspicious_names = keep!(regexes("suspicious_names", &file.patterns.suspicious_names), Vec::new());
        let sensitive_info = keep!(regexes("sensitive_info", &file.patterns.sensitive_info), Vec::new());
        let removal_reasons = keep!(regexes("removal_reasons", &file.patterns.removal_reasons), Vec::new());
        let denied_countries = keep!(countries("denied_countries", &file.policy.denied_countries), Vec::new());
        let allowed_countries = keep!(countries("allowed_countries", &file.policy.allowed_countries), Vec::new());
        // Every problem at once, in file order: fixing one at a time is slow.
        problems.sort_by_key(|p| p.line);
        if !problems.is_empty() {
            let mut first = problems.remove(0);
            first.also = problems;
            return Err(first);
        }

        Ok(Self {
            internal_domains: lower(&file.organization.internal_domains),
            admin_operators: lower(&file.organization.admin_operators),
            known_people: file.organization.known_people.iter().map(|n| (normalize_name(n.get_ref()), n.get_ref().clone())).collect(),
            sensitive_topics,
            suspicious_names,
            sensitive_info,
            removal_reasons,
            disposable_domains: lower(&file.patterns.disposable_domains),
            watch_names: file.watchlist.names.iter().map(|n| normalize_name(n.get_ref())).collect(),
            watch_emails: lower(&file.watchlist.emails),
            watch_domains: lower(&file.watchlist.domains),
            watch_ips,
            enrichment,
            denied_countries,
            allowed_countries,
            policy_sensitive_only: file.policy.only_sensitive_meetings,
            anonymizer_asns,
            settings_policy,
            rules,
            custom_rules,
            filters,
            limits,
        })
    }

    /// The custom rule `id`, if there is one.
    pub fn custom_rule(&self, id: &str) -> Option<&CustomRule> {
        self.custom_rules.iter().find(|c| c.id == id)
    }

    /// The effective settings of rule `id`, if it exists and is enabled.
    pub fn rule(&self, id: &str) -> Option<&EffectiveRule> {
        self.rules.iter().find(|r| r.info.id == id && r.enabled)
    }

    /// True when `email`'s domain is internal (or a subdomain of one).
    pub fn is_internal_email(&self, email: &str) -> bool {
        // As `domain_in(email_domain(email))`, without lower-casing into a new string:
        // this runs for every join (and the last '@' found with memrchr, not a
        // one-byte comparison per candidate).
        let e = email.trim().as_bytes();
        let Some(at) = memchr::memrchr(b'@', e) else { return false };
        let d = &e[at + 1..];
        !d.is_empty()
            && self.internal_domains.iter().any(|x| {
                let x = x.as_bytes();
                d.len() >= x.len()
                    && d[d.len() - x.len()..].eq_ignore_ascii_case(x)
                    && (d.len() == x.len() || d[d.len() - x.len() - 1] == b'.')
            })
    }

    /// The effective configuration as commented TOML (`zoomwatch check-config`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let list = |v: &[String]| v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        let pats = |v: &[Regex]| v.iter().map(|r| format!("{:?}", r.as_str())).collect::<Vec<_>>().join(",\n    ");
        let _ = writeln!(
            out,
            "[organization]\ninternal_domains = [{}]\nadmin_operators = [{}]",
            list(&self.internal_domains),
            list(&self.admin_operators)
        );
        let known: Vec<String> = self.known_people.iter().map(|(_, n)| n.clone()).collect();
        let _ = writeln!(out, "known_people = [{}]\n", list(&known));
        let _ = writeln!(
            out,
            "[patterns]\nsensitive_topics = [\n    {}\n]\nsuspicious_names = [\n    {}\n]",
            pats(&self.sensitive_topics),
            pats(&self.suspicious_names)
        );
        let _ = writeln!(
            out,
            "sensitive_info = [\n    {}\n]\nremoval_reasons = [\n    {}\n]\ndisposable_domains = [{}]\n",
            pats(&self.sensitive_info),
            pats(&self.removal_reasons),
            list(&self.disposable_domains)
        );
        let ips: Vec<String> = self.watch_ips.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "[watchlist]\nnames = [{}]\nemails = [{}]\ndomains = [{}]\nips = [{}]\n",
            list(&self.watch_names),
            list(&self.watch_emails),
            list(&self.watch_domains),
            list(&ips)
        );
        let db = |d: &Option<DbPath>| d.as_ref().map_or_else(|| "# not set".to_owned(), |d| format!("{:?}", d.path));
        let _ = writeln!(
            out,
            "[enrichment]\ngeoip_city = {}\ngeoip_asn = {}\ngeoip_anonymous = {}\n",
            db(&self.enrichment.city),
            db(&self.enrichment.asn),
            db(&self.enrichment.anonymous)
        );
        let asns: Vec<String> = self.anonymizer_asns.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "[policy]\ndenied_countries = [{}]\nallowed_countries = [{}]\nonly_sensitive_meetings = {}\nanonymizer_asns = [{}]\nwaive = [{}]\n",
            list(&self.denied_countries),
            list(&self.allowed_countries),
            self.policy_sensitive_only,
            asns.join(", "),
            self.settings_policy.waive.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
        );
        for g in &self.settings_policy.groups {
            let keys = |l: &[&str]| l.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
            let _ = writeln!(out, "[policy.groups.{:?}]\nwaive = [{}]\nrequire = [{}]\n", g.group, keys(&g.waive), keys(&g.require));
        }
        for r in &self.rules {
            let _ = writeln!(out, "[rules.{}]  # {} — {}", r.info.id, r.info.scope.as_str(), r.info.summary);
            let _ = write!(out, "enabled = {}\nseverity = {:?}\n", r.enabled, r.severity.as_str());
            if r.info.threshold > 0 {
                let _ = writeln!(out, "threshold = {}", r.threshold);
            }
            if r.info.window_secs > 0 {
                let _ = writeln!(out, "window_secs = {}", r.window_secs);
            }
            if r.info.id == "join-burst" {
                let _ = writeln!(out, "crowd_severity = {:?}", r.crowd_severity.map_or("off", Severity::as_str));
            }
            for a in &r.announced {
                let _ = writeln!(
                    out,
                    "[[rules.{}.announced]]\noperator = {:?}\nfrom = {:?}\nuntil = {:?}\nnote = {:?}",
                    r.info.id,
                    a.operator,
                    crate::timefmt::format_ms(a.from_ms),
                    crate::timefmt::format_ms(a.until_ms),
                    a.note
                );
            }
            out.push('\n');
        }
        if !self.filters.is_empty() {
            out.push_str("[filters]\n");
            for (name, f) in &self.filters {
                let _ = writeln!(out, "{name:?} = {f:?}");
            }
            out.push('\n');
        }
        for c in &self.custom_rules {
            let _ = writeln!(out, "[[custom_rules]]  # {}", c.scope().as_str());
            let _ = writeln!(out, "id = {:?}\nwhen = {:?}\nseverity = {:?}\nreason = {:?}", c.id, c.when, c.severity.as_str(), c.reason);
            if c.count > 0 {
                let _ = writeln!(out, "count = {}\nwindow_secs = {}", c.count, c.window_secs);
            }
            let _ = writeln!(out, "per = {:?}\n", c.per());
        }
        out
    }
}

/// The lower-cased domain of an email address.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    (!d.is_empty()).then(|| d.to_ascii_lowercase())
}

/// True when `domain` equals or is a subdomain of one of `list` (lower-case).
pub fn domain_in(domain: &str, list: &[String]) -> bool {
    list.iter().any(|d| domain == d || domain.strip_suffix(d.as_str()).is_some_and(|p| p.ends_with('.')))
}

/// Where the config is looked up when `--config` is not given:
/// `$XDG_CONFIG_HOME/zoomwatch/zoomwatch.toml`, else `$HOME/.config/zoomwatch/zoomwatch.toml`.
pub fn default_path(xdg_config_home: Option<&str>, home: Option<&str>) -> Option<std::path::PathBuf> {
    let base = match (xdg_config_home.filter(|s| !s.is_empty()), home.filter(|s| !s.is_empty())) {
        (Some(x), _) => std::path::PathBuf::from(x),
        (None, Some(h)) => std::path::Path::new(h).join(".config"),
        (None, None) => return None,
    };
    Some(base.join("zoomwatch").join("zoomwatch.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_compile() {
        let c = Config::default();
        assert_eq!(c.rules.len(), catalog::RULES.len());
        assert!(c.sensitive_topics[0].is_match("Q3 Board Review"));
        assert!(c.suspicious_names.iter().any(|r| r.is_match("FREE CRYPTO giveaway")));
        assert!(c.sensitive_info.iter().any(|r| r.is_match("Standup (passcode: 1234)")));
    }

    #[test]
    fn settings_apply() {
        let c = Config::parse(
            "[organization]\ninternal_domains = [\"Acme.example\"]\n[rules.guest-join]\nenabled = false\n[rules.join-burst]\nthreshold = 4\nwindow_secs = 30\nseverity = \"medium\"\n",
            "t.toml",
        )
        .unwrap();
        assert!(c.rule("guest-join").is_none());
        let b = c.rule("join-burst").unwrap();
        assert_eq!((b.threshold, b.window_secs, b.severity), (4, 30, Severity::Medium));
        assert!(c.is_internal_email("morgan@acme.example"));
        assert!(c.is_internal_email("x@eu.acme.example"));
        assert!(!c.is_internal_email("x@notacme.example"));
        // The same answers as the domain helpers it stands for.
        for e in [
            "MORGAN@ACME.EXAMPLE",
            " x@Eu.Acme.Example ",
            "x@acme.example.evil",
            "x@.acme.example",
            "x@cme.example",
            "x@",
            "@acme.example",
            "no-at-sign",
            "a@b@acme.example",
            "ü@acme.exämple",
            "x@xacme.example",
        ] {
            let by_helpers = email_domain(e).is_some_and(|d| domain_in(&d, &c.internal_domains));
            assert_eq!(c.is_internal_email(e), by_helpers, "{e:?}");
        }
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let e = Config::parse("[organization]\ninternal_domain = [\"a.example\"]\n", "z.toml").unwrap_err();
        assert_eq!((e.origin.as_str(), e.line), ("z.toml", 2));
        assert!(e.message.contains("internal_domain"), "{e}");

        let e = Config::parse("\n[patterns]\nsuspicious_names = [\n  \"ok\",\n  \"(unclosed\",\n]\n", "z.toml").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("patterns.suspicious_names"));

        let e = Config::parse("[watchlist]\nips = [\"10.0.0.0/33\"]\n", "z.toml").unwrap_err();
        assert_eq!(e.line, 2);

        let e = Config::parse("# comment\n[rules.guest-joins]\nenabled = false\n", "z.toml").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown rule \"guest-joins\"") && e.message.contains("guest-join,"), "{e}");

        let e = Config::parse("[rules.guest-join]\nseverity = \"critical\"\n", "z.toml").unwrap_err();
        assert!(e.message.contains("critical"));
        let e = Config::parse("[rules.guest-join]\nthreshold = 3\n", "z.toml").unwrap_err();
        assert!(e.message.contains("does not count"));
        let e = Config::parse("[organization]\ninternal_domains = [\"@acme.example\"]\n", "z.toml").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn every_problem_is_reported_at_once_in_file_order() {
        let text = "[watchlist]\nips = [\"10.0.0.0/33\"]\n\n[patterns]\nsuspicious_names = [\"(unclosed\"]\n\n[rules.guest-join]\nseverity = \"critical\"\n\n[rules.nope]\nenabled = false\n\n[policy]\ndenied_countries = [\"Narnia\"]\n";
        let e = Config::parse(text, "z.toml").unwrap_err();
        let lines: Vec<usize> = std::iter::once(e.line).chain(e.also.iter().map(|a| a.line)).collect();
        assert_eq!(lines, [2, 5, 7, 10, 14], "{e}");
        let shown = e.to_string();
        assert_eq!(shown.lines().filter(|l| l.starts_with("z.toml:")).count(), 5, "{shown}");
        for part in ["10.0.0.0/33", "(unclosed", "critical", "unknown rule \"nope\"", "Narnia"] {
            assert!(shown.contains(part), "{part}: {shown}");
        }
    }

    #[test]
    fn enrichment_and_policy() {
        let c = Config::parse(
            "[enrichment]\ngeoip_city = \"db/City.mmdb\"\ngeoip_asn = \"/abs/ASN.mmdb\"\n[policy]\ndenied_countries = [\"kp\", \"IR\"]\nallowed_countries = [\"GB\"]\nonly_sensitive_meetings = true\nanonymizer_asns = [14061]\n",
            "z.toml",
        )
        .unwrap();
        assert_eq!(c.enrichment.city, Some(DbPath { path: "db/City.mmdb".into(), line: 2 }));
        assert_eq!(c.enrichment.asn.as_ref().map(|d| d.line), Some(3));
        assert!(c.enrichment.anonymous.is_none());
        assert_eq!(c.denied_countries, ["KP", "IR"]);
        assert_eq!(c.allowed_countries, ["GB"]);
        assert!(c.policy_sensitive_only);
        assert_eq!(c.anonymizer_asns, [14061]);
        assert!(c.describe().contains("geoip_city = \"db/City.mmdb\""));
        assert!(Config::default().enrichment.is_empty());

        let e = Config::parse("[policy]\n\ndenied_countries = [\"GBR\"]\n", "z.toml").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("ISO 3166-1"), "{e}");
        let e = Config::parse("[enrichment]\ngeoip_cty = \"x\"\n", "z.toml").unwrap_err();
        assert!(e.message.contains("geoip_cty"), "{e}");
        let e = Config::parse("[enrichment]\ngeoip_asn = \" \"\n", "z.toml").unwrap_err();
        assert!(e.message.contains("empty path"), "{e}");
        assert!(Config::parse("[policy]\nanonymizer_asns = [0]\n", "z.toml").is_err());
    }

    #[test]
    fn default_paths() {
        assert_eq!(default_path(Some("/x"), Some("/h")).unwrap(), std::path::PathBuf::from("/x/zoomwatch/zoomwatch.toml"));
        assert_eq!(default_path(None, Some("/h")).unwrap(), std::path::PathBuf::from("/h/.config/zoomwatch/zoomwatch.toml"));
    }
}
