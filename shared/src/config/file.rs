//! `zoomwatch.toml` as written: the serde shapes, with the spans that let every error
//! name its line ([`ConfigError`]), the built-in pattern lists, and `[limits]` checked
//! against their ranges. [`super::Config`] is what they resolve to.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::limits::Limits;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    /// Who belongs to the organization.
    pub organization: Organization,
    /// Regular expressions for topics and names.
    pub patterns: Patterns,
    /// Specific people, addresses and networks to alert on.
    pub watchlist: Watchlist,
    /// Offline GeoIP/ASN databases.
    pub enrichment: EnrichmentFile,
    /// Where people may join from.
    pub policy: PolicyFile,
    /// Per-rule settings, keyed by rule id.
    pub rules: BTreeMap<String, RuleSettings>,
    /// The team's own rules, written in the filter language.
    pub custom_rules: Vec<CustomRuleFile>,
    /// Saved filters for the console's `f` menu: name → filter text.
    pub filters: BTreeMap<String, Spanned<String>>,
    /// Caps on what the detector remembers.
    pub limits: LimitsFile,
}

/// `[limits]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    /// Ended meetings that keep their rosters.
    pub ended_rosters: Option<Spanned<u64>>,
    /// People who left, kept per meeting roster.
    pub departed_per_meeting: Option<Spanned<u64>>,
    /// Hours without a record after which a running meeting is closed.
    pub idle_meeting_hours: Option<Spanned<u64>>,
    /// Learned internal names (the impersonation rule's memory).
    pub learned_names: Option<Spanned<u64>>,
    /// People in or waiting in meetings, all meetings together.
    pub present: Option<Spanned<u64>>,
    /// Alerts the console lists.
    pub alerts: Option<Spanned<u64>>,
}

/// `[[custom_rules]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRuleFile {
    /// Kebab-case id, not one of the built-in rules.
    pub id: Spanned<String>,
    /// Filter-language terms a record must match (`type:participant_joined meeting:board`).
    pub when: Spanned<String>,
    /// `info`, `low`, `medium` (default), `high`.
    #[serde(default)]
    pub severity: Option<Spanned<String>>,
    /// One line for the analyst; the matching record is described after it.
    pub reason: Spanned<String>,
    /// Fire only when this many matching records arrive within `window_secs`.
    #[serde(default)]
    pub count: Option<Spanned<u32>>,
    /// The window for `count` (default 60 s).
    #[serde(default)]
    pub window_secs: Option<Spanned<u64>>,
    /// What one alert (and one count) is about: `meeting` (default), `participant`,
    /// `operator`, `record`, `account`.
    #[serde(default)]
    pub per: Option<Spanned<String>>,
}

/// `[enrichment]` — MaxMind DB files (GeoLite2, GeoIP2, DB-IP Lite). Relative paths are
/// relative to the config file. Each can be overridden by an environment variable
/// (`ZOOMWATCH_GEOIP_CITY`, `…_ASN`, `…_ANONYMOUS`), which is how the Lambda finds them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichmentFile {
    /// City (or Country) database: country, city, coordinates.
    pub geoip_city: Option<Spanned<String>>,
    /// ASN database: network number and organization.
    pub geoip_asn: Option<Spanned<String>>,
    /// GeoIP2 Anonymous-IP database: VPN, Tor exit, hosting, proxy markers.
    pub geoip_anonymous: Option<Spanned<String>>,
}

/// `[policy]` — location rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyFile {
    /// ISO country codes nobody should join or sign in from (rule `country-policy`).
    pub denied_countries: Vec<Spanned<String>>,
    /// When not empty: the only countries people may join or sign in from.
    pub allowed_countries: Vec<Spanned<String>>,
    /// Apply `country-policy` only to meetings whose topic is sensitive.
    pub only_sensitive_meetings: bool,
    /// Networks (AS numbers) treated as anonymizers by `anonymizer-join`, besides what
    /// the Anonymous-IP database says (VPN providers, hosting companies).
    pub anonymizer_asns: Vec<Spanned<u32>>,
    /// Catalogued settings (API path, CIS control id or portal label) that posture and
    /// `policy-drift` do not check anywhere.
    pub waive: Vec<Spanned<String>>,
    /// Per group, by id or name: settings waived there, or required there although
    /// waived account-wide.
    pub groups: BTreeMap<String, GroupPolicyFile>,
}

/// `[policy.groups.NAME]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupPolicyFile {
    /// Settings not checked in this group.
    pub waive: Vec<Spanned<String>>,
    /// Settings checked in this group although waived account-wide.
    pub require: Vec<Spanned<String>>,
}

/// `[organization]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Organization {
    /// Email domains of the organization (`acme.example`); subdomains count too.
    pub internal_domains: Vec<Spanned<String>>,
    /// Emails allowed to perform admin actions; empty = rule `unlisted-admin` is off.
    pub admin_operators: Vec<Spanned<String>>,
    /// Display names of people worth protecting from impersonation (executives, IT).
    pub known_people: Vec<Spanned<String>>,
}

/// `[patterns]` — regular expressions, case-insensitive.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Patterns {
    /// Topics of sensitive meetings (board, M&A, legal…).
    pub sensitive_topics: Vec<Spanned<String>>,
    /// Display names that look hostile or spammy.
    pub suspicious_names: Vec<Spanned<String>>,
    /// Sensitive information that should never be in a topic (passcodes, card numbers).
    pub sensitive_info: Vec<Spanned<String>>,
    /// Leave reasons meaning "removed by the host".
    pub removal_reasons: Vec<Spanned<String>>,
    /// Throwaway-mail domains (subdomains match): registrations from them weigh more in
    /// `registration-flood`.
    pub disposable_domains: Vec<Spanned<String>>,
}

impl Default for Patterns {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|p| Spanned::new(0..0, (*p).to_owned())).collect();
        Self {
            sensitive_topics: s(DEFAULT_SENSITIVE_TOPICS),
            suspicious_names: s(DEFAULT_SUSPICIOUS_NAMES),
            sensitive_info: s(DEFAULT_SENSITIVE_INFO),
            removal_reasons: s(DEFAULT_REMOVAL_REASONS),
            disposable_domains: s(DEFAULT_DISPOSABLE_DOMAINS),
        }
    }
}

/// Built-in sensitive-topic patterns.
pub const DEFAULT_SENSITIVE_TOPICS: &[&str] = &[
    r"\b(board|confidential|restricted|privileged|attorney|legal hold|m&a|merger|acquisition|layoffs?|reorg|earnings|incident response)\b",
];
/// Built-in suspicious display-name patterns.
pub const DEFAULT_SUSPICIOUS_NAMES: &[&str] = &[
    r"(https?://|www\.|\.(com|net|org|io|xyz|ru|tk)\b)",
    r"\b(free|crypto|bitcoin|btc|giveaway|casino|porn|xxx|onlyfans|telegram)\b",
    r"(bomb|raid|troll|hacked|pwned)",
];
/// Built-in patterns for sensitive information in topics.
pub const DEFAULT_SENSITIVE_INFO: &[&str] =
    &[r"\b(password|passcode|pwd|pin)\s*[:=]\s*\S+", r"\b(?:\d[ -]?){13,16}\b", r"\b\d{3}-\d{2}-\d{4}\b"];
/// Built-in patterns for removal by the host in `leave_reason`.
pub const DEFAULT_REMOVAL_REASONS: &[&str] = &[r"(removed|expelled|kicked)\b"];

/// Built-in throwaway-mail domains: widely used disposable-inbox services.
pub const DEFAULT_DISPOSABLE_DOMAINS: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "sharklasers.com",
    "10minutemail.com",
    "temp-mail.org",
    "tempmail.com",
    "tempmailo.com",
    "throwawaymail.com",
    "yopmail.com",
    "getnada.com",
    "dispostable.com",
    "trashmail.com",
    "maildrop.cc",
    "mailnesia.com",
    "fakeinbox.com",
    "mintemail.com",
    "emailondeck.com",
    "mohmal.com",
    "spamgourmet.com",
    "mytemp.email",
    "tempr.email",
    "burnermail.io",
    "moakt.com",
    "inboxkitten.com",
];

/// `[watchlist]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Watchlist {
    /// Display names (case-insensitive, exact after normalization).
    pub names: Vec<Spanned<String>>,
    /// Emails (case-insensitive).
    pub emails: Vec<Spanned<String>>,
    /// Email domains (subdomains match).
    pub domains: Vec<Spanned<String>>,
    /// IP addresses or CIDR networks.
    pub ips: Vec<Spanned<String>>,
}

/// `[rules.<id>]`
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Turn the rule off with `false`.
    pub enabled: Option<bool>,
    /// Re-weight: `info`, `low`, `medium`, `high`.
    pub severity: Option<String>,
    /// Count threshold for rules that count (`join-burst`, `mass-deletion`…).
    pub threshold: Option<u32>,
    /// Time window in seconds for rules that count or wait.
    pub window_secs: Option<u64>,
    /// `join-burst` only: severity of a burst made mostly of vetted arrivals (registered
    /// attendees, people admitted from the waiting room) — `off` to stay silent.
    pub crowd_severity: Option<String>,
    /// `mass-deletion` only: bulk clean-ups announced in advance (operator and time).
    pub announced: Vec<AnnouncedFile>,
}

/// `[[rules.mass-deletion.announced]]`: an operator's planned bulk deletion.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AnnouncedFile {
    /// Who (email).
    pub operator: Spanned<String>,
    /// From (RFC 3339).
    pub from: Spanned<String>,
    /// Until (RFC 3339).
    pub until: Spanned<String>,
    /// Why, for the alert ("retiring the 2024 webinars").
    #[serde(default)]
    pub note: Option<String>,
}

/// A planned bulk deletion: `mass-deletion` by this operator within this time is noted at
/// low severity instead of raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// Lower-cased operator email.
    pub operator: String,
    /// Start, Unix ms.
    pub from_ms: i64,
    /// End, Unix ms.
    pub until_ms: i64,
    /// Why.
    pub note: String,
}

/// A configuration problem, located in the file, with the file's other problems (one
/// per line when shown).
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// File name (or `<built-in>`).
    pub origin: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
    /// The file's other problems, in line order.
    pub also: Vec<ConfigError>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.message)?;
        for e in &self.also {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// `[limits]`: each a whole number within its range.
pub(crate) fn limits(file: &LimitsFile, text: &str, origin: &str) -> Result<Limits, ConfigError> {
    let mut out = Limits::default();
    let get = |v: &Option<Spanned<u64>>, key: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u64>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        if !range.contains(v.get_ref()) {
            return Err(ConfigError {
                origin: origin.to_owned(),
                line: line_of(text, v.span().start),
                message: format!("limits.{key}: {} is outside {}..={}", v.get_ref(), range.start(), range.end()),
                also: Vec::new(),
            });
        }
        Ok(Some(*v.get_ref()))
    };
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    if let Some(v) = get(&file.ended_rosters, "ended_rosters", 10..=1_000_000)? {
        out.ended_rosters = size(v);
    }
    if let Some(v) = get(&file.departed_per_meeting, "departed_per_meeting", 10..=100_000)? {
        out.departed_per_meeting = size(v);
    }
    if let Some(v) = get(&file.idle_meeting_hours, "idle_meeting_hours", 1..=24 * 30)? {
        out.idle_meeting_ms = i64::try_from(v).unwrap_or(i64::MAX).saturating_mul(3_600_000);
    }
    if let Some(v) = get(&file.learned_names, "learned_names", 1_000..=10_000_000)? {
        out.learned_names = size(v);
    }
    if let Some(v) = get(&file.present, "present", 1_000..=10_000_000)? {
        out.present = size(v);
    }
    if let Some(v) = get(&file.alerts, "alerts", 100..=10_000_000)? {
        out.alerts = size(v);
    }
    Ok(out)
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(0, |t| t.matches('\n').count() + 1)
}
