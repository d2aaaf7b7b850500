//! The rule catalog: every detection zoomwatch knows, with its default severity, the
//! events it needs and how to tune it. The README's Detections table mirrors this list.

use crate::record::Severity;

/// Where a rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleScope {
    /// Judges one record alone: runs in the receiver (flags reach the SIEM) and the console.
    Stateless,
    /// Needs history (rosters, counts, silence): runs in the console and `zoomwatch tail`.
    Stateful,
}

impl RuleScope {
    /// `stateless` / `stateful`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stateless => "stateless",
            Self::Stateful => "stateful",
        }
    }
}

/// How findings of a rule are grouped into alerts, so one incident is one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Every triggering record is its own alert.
    PerRecord,
    /// One alert per meeting instance (more findings are added to it).
    PerMeeting,
    /// One alert per participant identity in a meeting instance.
    PerParticipant,
    /// One alert per operator.
    PerActor,
    /// One alert for the whole account at a time.
    Global,
}

/// One rule.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable kebab-case id (used in config, flags and alerts).
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Stateless or stateful.
    pub scope: RuleScope,
    /// Alert grouping.
    pub grouping: Grouping,
    /// What it means, one line.
    pub summary: &'static str,
    /// The Zoom events it needs subscribed.
    pub events: &'static str,
    /// How to tune it.
    pub tuning: &'static str,
    /// Default threshold for counting rules (0 = not a counting rule).
    pub threshold: u32,
    /// Default window in seconds (0 = no window).
    pub window_secs: u64,
}

const fn rule(
    id: &'static str,
    severity: Severity,
    scope: RuleScope,
    grouping: Grouping,
    summary: &'static str,
    events: &'static str,
    tuning: &'static str,
) -> RuleInfo {
    RuleInfo { id, severity, scope, grouping, summary, events, tuning, threshold: 0, window_secs: 0 }
}

const fn counting(mut r: RuleInfo, threshold: u32, window_secs: u64) -> RuleInfo {
    r.threshold = threshold;
    r.window_secs = window_secs;
    r
}

const fn waiting(mut r: RuleInfo, window_secs: u64) -> RuleInfo {
    r.window_secs = window_secs;
    r
}

use Grouping::{Global, PerActor, PerMeeting, PerParticipant, PerRecord};
use RuleScope::{Stateful, Stateless};
use Severity::{High, Low, Medium};

const PARTICIPANT_EVENTS: &str = "meeting/webinar.participant_joined, participant_jbh_joined";
const LOCATED_EVENTS: &str = "participant joins and waiting-room arrivals with public_ip; sign-ins with an IP";

/// Every rule, in the order the README lists them.
pub const RULES: &[RuleInfo] = &[
    // Joins
    rule(
        "guest-join",
        Low,
        Stateless,
        PerMeeting,
        "someone without a Zoom identity joined",
        PARTICIPANT_EVENTS,
        "disable for public webinars; severity",
    ),
    rule(
        "external-join",
        Low,
        Stateless,
        PerMeeting,
        "a participant with an email outside the internal domains joined",
        PARTICIPANT_EVENTS,
        "organization.internal_domains (off while empty)",
    ),
    rule(
        "sensitive-meeting-outsider",
        High,
        Stateless,
        PerParticipant,
        "a guest or external participant joined a meeting whose topic is sensitive",
        PARTICIPANT_EVENTS,
        "patterns.sensitive_topics, organization.internal_domains",
    ),
    counting(
        rule(
            "join-burst",
            High,
            Stateful,
            PerMeeting,
            "many unvetted guests/external participants joined one meeting instance within a short time (raid); a crowd of registered attendees or people admitted from the waiting room is only noted",
            PARTICIPANT_EVENTS,
            "threshold (joins), window_secs, crowd_severity (low; off)",
        ),
        8,
        60,
    ),
    counting(
        rule(
            "join-trickle",
            High,
            Stateful,
            PerMeeting,
            "unvetted guests/external participants kept arriving in one meeting instance over several minutes, too slowly for join-burst, and most outsiders there are unvetted (a raid that trickles)",
            PARTICIPANT_EVENTS,
            "threshold (joins), window_secs",
        ),
        12,
        900,
    ),
    rule(
        "outsider-screen-share",
        Medium,
        Stateful,
        PerParticipant,
        "a guest or external participant started sharing their screen (high in a sensitive meeting); the host and colleagues stay quiet",
        "meeting/webinar.sharing_started, participant joins (to know who shares)",
        "severity, patterns.sensitive_topics, organization.internal_domains",
    ),
    rule(
        "outsider-promoted",
        High,
        Stateful,
        PerParticipant,
        "a guest or external participant was made host or co-host, and can now admit, remove, mute and share at will",
        "meeting/webinar.participant_role_changed, participant joins",
        "severity, organization.internal_domains",
    ),
    rule(
        "host-absent-join",
        Medium,
        Stateful,
        PerMeeting,
        "a guest or external participant joined while the host was not in the meeting",
        "meeting.started, participant_joined/left, participant_jbh_joined",
        "severity",
    ),
    rule(
        "display-name-impersonation",
        High,
        Stateful,
        PerParticipant,
        "display name matches the host or a known internal person while the identity differs",
        PARTICIPANT_EVENTS,
        "organization.known_people, organization.internal_domains",
    ),
    rule(
        "concurrent-sessions",
        Medium,
        Stateful,
        PerParticipant,
        "the same Zoom identity is in meetings at once from different IP addresses",
        "participant_joined/left (with public_ip)",
        "severity",
    ),
    rule(
        "rejoin-after-removal",
        High,
        Stateful,
        PerParticipant,
        "someone removed by the host joined the same meeting again",
        "participant_left (leave_reason), participant_joined",
        "patterns.removal_reasons",
    ),
    rule(
        "suspicious-display-name",
        Medium,
        Stateless,
        PerMeeting,
        "display name matches a suspicious pattern, contains URLs, control or invisible characters",
        "participant_joined, participant_joined_waiting_room",
        "patterns.suspicious_names",
    ),
    rule(
        "watchlist-hit",
        High,
        Stateless,
        PerParticipant,
        "a watched name, email, domain or IP appeared",
        "participant events, user.signed_in, admin events",
        "watchlist.*",
    ),
    // Where people come from (needs [enrichment] databases)
    rule(
        "anonymizer-join",
        Medium,
        Stateless,
        PerMeeting,
        "a join or sign-in came from a VPN, Tor exit, proxy or hosting network (high into a sensitive meeting)",
        LOCATED_EVENTS,
        "enrichment.geoip_anonymous, policy.anonymizer_asns",
    ),
    rule(
        "country-policy",
        High,
        Stateless,
        PerMeeting,
        "a join or sign-in came from a denied country, or from one outside the allowed list",
        LOCATED_EVENTS,
        "policy.denied_countries, policy.allowed_countries, policy.only_sensitive_meetings (off while both lists are empty)",
    ),
    waiting(
        rule(
            "new-country",
            Low,
            Stateful,
            PerParticipant,
            "an internal identity joined or signed in from a country not seen for it within the window (medium for admins, hosts and sensitive meetings)",
            LOCATED_EVENTS,
            "enrichment.geoip_city; window_secs (default 90 days)",
        ),
        7_776_000,
    ),
    waiting(
        rule(
            "impossible-travel",
            Medium,
            Stateful,
            PerParticipant,
            "the same identity appeared in two places too far apart for the time between (high while both sessions are live)",
            LOCATED_EVENTS,
            "enrichment.geoip_city; window_secs: countries-only comparison (default 1 h)",
        ),
        3_600,
    ),
    // Meetings
    rule(
        "meeting-no-passcode",
        Medium,
        Stateless,
        PerRecord,
        "a meeting or webinar was created without a passcode",
        "meeting.created, webinar.created",
        "severity",
    ),
    rule(
        "meeting-exposure-changed",
        Medium,
        Stateless,
        PerRecord,
        "a meeting gained an alternative host or an authentication exception outside the organization (someone who can start it and let anyone in, or skip sign-in)",
        "meeting.created/updated, webinar.created/updated",
        "organization.internal_domains (off while empty)",
    ),
    counting(
        rule(
            "registration-flood",
            Medium,
            Stateful,
            PerMeeting,
            "many registrations for one meeting or webinar within minutes, as before a raid; high when half of them come from one outside domain or from throwaway-mail domains",
            "meeting/webinar.registration_created",
            "threshold, window_secs, patterns.disposable_domains",
        ),
        20,
        600,
    ),
    rule(
        "meeting-security-weakened",
        High,
        Stateless,
        PerRecord,
        "an update removed the passcode, turned the waiting room or authentication off, or allowed join before host",
        "meeting.updated, webinar.updated",
        "severity",
    ),
    rule(
        "meeting-risk-alert",
        High,
        Stateless,
        PerRecord,
        "Zoom's At-Risk Meeting Notifier found the meeting link posted publicly",
        "meeting.risk_alert",
        "severity",
    ),
    rule(
        "sensitive-topic-info",
        Medium,
        Stateless,
        PerRecord,
        "a meeting topic contains what looks like a passcode, card or social security number",
        "meeting/webinar.created, updated",
        "patterns.sensitive_info",
    ),
    rule(
        "live-stream-started",
        Medium,
        Stateless,
        PerRecord,
        "a meeting or webinar started streaming to an outside service",
        "meeting/webinar.live_streaming_started",
        "severity",
    ),
    counting(
        rule(
            "mass-deletion",
            High,
            Stateful,
            PerActor,
            "one operator deleted many meetings, recordings or users within a short time",
            "meeting.deleted, recording.deleted/trashed, user.deleted",
            "threshold, window_secs, announced clean-ups (low)",
        ),
        5,
        600,
    ),
    // Admin
    rule(
        "policy-drift",
        High,
        Stateless,
        PerRecord,
        "a setting the policy checks moved from compliant to not (waiting room off, passcodes, sign-in rules…); severity is the settings catalogue's for that setting",
        "account/group/user.settings_updated, the operation-log poller",
        "policy.waive, policy.groups",
    ),
    rule(
        "account-security-weakened",
        High,
        Stateless,
        PerRecord,
        "a medium or high security setting was weakened but stays within the policy (a longer minimum lowered, a stricter choice relaxed)",
        "account/group/user.settings_updated, the operation-log poller",
        "severity, policy.waive",
    ),
    rule(
        "privilege-granted",
        High,
        Stateless,
        PerRecord,
        "a user was made admin or owner, or added as group admin",
        "group.admin_added, user.updated, role.members_assigned",
        "severity",
    ),
    rule(
        "user-lifecycle",
        Low,
        Stateless,
        PerRecord,
        "a user was created, deleted, deactivated or disassociated (medium when the email is external)",
        "user.created/deleted/deactivated/disassociated",
        "organization.internal_domains",
    ),
    rule(
        "recording-deleted",
        Low,
        Stateless,
        PerRecord,
        "a cloud recording was deleted or moved to trash",
        "recording.deleted, recording.trashed",
        "severity; see mass-deletion for bulk deletion",
    ),
    rule(
        "app-deauthorized",
        Medium,
        Stateless,
        PerRecord,
        "a Marketplace app was deauthorized (possibly this one)",
        "app_deauthorized",
        "severity",
    ),
    rule(
        "unlisted-admin",
        Medium,
        Stateless,
        PerActor,
        "an admin action was performed by an operator not in the admin list",
        "account.*, group.*, user.*, role.*",
        "organization.admin_operators (off while empty)",
    ),
    // Endpoint health
    rule(
        "webhook-deliveries-failed",
        Medium,
        Stateless,
        Global,
        "Zoom reports that it could not deliver a webhook to our endpoint (recovered from its delivery log by the poller)",
        "zoom.webhook_logs (written by `zoomwatch-ingest poll`)",
        "severity",
    ),
    counting(
        rule(
            "rejected-burst",
            Medium,
            Stateful,
            Global,
            "many requests with bad signatures or bodies were refused (probing the endpoint); medium, so an unsigned flood does not page whoever is notified of highs",
            "zoomwatch.rejected (written by the receiver)",
            "threshold, window_secs",
        ),
        20,
        60,
    ),
    waiting(
        rule(
            "endpoint-silent",
            Medium,
            Stateful,
            Global,
            "no event has arrived for a long time (subscription disabled? receiver down?)",
            "any",
            "window_secs (default 24 h)",
        ),
        86_400,
    ),
    waiting(
        rule(
            "validation-overdue",
            Medium,
            Stateful,
            Global,
            "no URL validation for longer than Zoom's 72 h revalidation interval",
            "endpoint.url_validation",
            "window_secs (default 80 h)",
        ),
        288_000,
    ),
];

/// The catalog entry of `id`.
pub fn info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// The README's rule table (Markdown), generated from the catalog so the two agree;
/// `tested_against` gives each rule's summary of its adversarial corpus.
pub fn markdown_table(tested_against: impl Fn(&str) -> String) -> String {
    let mut out = String::from(
        "| rule | severity | runs | what it means | Zoom events needed | tune with | tested against |\n|---|---|---|---|---|---|---|\n",
    );
    for r in RULES {
        let mut tune = r.tuning.to_owned();
        if r.threshold > 0 {
            tune = format!("{tune} (default {} in {} s)", r.threshold, r.window_secs);
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.id,
            r.severity.as_str(),
            if r.scope == RuleScope::Stateless { "receiver + console" } else { "console, tail, watch" },
            r.summary,
            r.events,
            tune,
            tested_against(r.id)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            assert!(r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", r.id);
        }
    }
}
