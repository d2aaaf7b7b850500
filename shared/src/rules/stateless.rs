//! Rules that judge one record alone. The receiver runs them before writing (so the SIEM
//! gets `flags`), and the console runs them again with the analyst's configuration.

use serde_json::Value;

use crate::config::{Config, domain_in, email_domain};
use crate::record::{Category, Flag, Participant, RecordV1};
use crate::rules::names::normalize_name;
use crate::text::{has_hidden_chars, sanitize};

use super::subjects::{QUOTE, describe, is_external, is_join, is_outsider, meeting_label, operator, quote, who};

fn topic_matches(r: &RecordV1, patterns: &[regex::Regex]) -> bool {
    r.meeting.as_ref().and_then(|m| m.topic.as_deref()).is_some_and(|t| patterns.iter().any(|p| p.is_match(t)))
}

/// Runs every enabled stateless rule on `r` and returns its flags.
pub fn evaluate(r: &RecordV1, cfg: &Config) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut external_user_created = false;
    let mut drift_flag = None;
    let mut push = |id: &str, reason: String| {
        if let Some(rule) = cfg.rule(id) {
            flags.push(Flag { rule: id.to_owned(), severity: rule.severity, reason });
        }
    };
    // Formatted only when a rule fires (most records raise nothing).
    let topic = || meeting_label(r);

    if let Some(p) = &r.participant {
        let from = || p.ip.as_deref().map(|ip| format!(" from {}", sanitize(ip, QUOTE))).unwrap_or_default();
        if is_join(r) {
            if p.guest {
                push(
                    "guest-join",
                    format!("guest {} (no Zoom identity) joined {}{}", quote(p.name.as_deref().unwrap_or("?")), topic(), from()),
                );
            }
            if is_external(p, cfg) {
                push("external-join", format!("external participant {} joined {}", who(p), topic()));
            }
            if is_outsider(p, cfg) && topic_matches(r, &cfg.sensitive_topics) {
                let kind = if p.guest { "guest" } else { "external participant" };
                let name = if p.guest { quote(p.name.as_deref().unwrap_or("?")) } else { who(p) };
                push("sensitive-meeting-outsider", format!("{kind} {name} joined {} (sensitive topic){}", topic(), from()));
            }
        }
        let arriving = is_join(r) || matches!(r.action.as_str(), "joined_waiting_room" | "jbh_waiting");
        if arriving {
            if let Some(name) = &p.name {
                let pattern = cfg.suspicious_names.iter().find(|re| re.is_match(name));
                let why = if has_hidden_chars(name) {
                    Some("control or invisible characters".to_owned())
                } else {
                    pattern.map(|re| format!("matches /{}/", sanitize(re.as_str(), 40)))
                };
                if let Some(why) = why {
                    push(
                        "suspicious-display-name",
                        format!("suspicious display name {} ({why}) joined {}{}", quote(name), topic(), from()),
                    );
                }
            }
            if let Some(hit) = watchlist_participant(p, cfg) {
                push("watchlist-hit", format!("watchlist {hit}: {} joined {}{}", who(p), topic(), from()));
            }
        }
    }

    match r.event.as_str() {
        "meeting.created" | "webinar.created" => {
            let raw = r.raw.value();
            let pw = raw.get("object").and_then(|o| o.get("password"));
            if pw.is_none_or(|v| v.as_str() == Some("") || v.is_null()) {
                push("meeting-no-passcode", format!("{} was created by {} without a passcode", topic(), operator(r)));
            }
            if topic_matches(r, &cfg.sensitive_info) {
                push(
                    "sensitive-topic-info",
                    format!("topic of meeting {} contains what looks like a passcode, card or ID number", meeting_id(r)),
                );
            }
            let exposed = exposure(r, cfg);
            if !exposed.is_empty() {
                push("meeting-exposure-changed", format!("{} created {} with {}", operator(r), topic(), exposed.join("; ")));
            }
        }
        "meeting.updated" | "webinar.updated" => {
            let exposed = exposure(r, cfg);
            if !exposed.is_empty() {
                push("meeting-exposure-changed", format!("{} changed {}: {}", operator(r), topic(), exposed.join("; ")));
            }
            let weakened = meeting_weakenings(r);
            if !weakened.is_empty() {
                push("meeting-security-weakened", format!("{} weakened {}: {}", operator(r), topic(), weakened.join(", ")));
            }
            let new_topic = r.changes.iter().find(|c| c.path == "topic").and_then(|c| c.new.as_str());
            if new_topic.is_some_and(|t| cfg.sensitive_info.iter().any(|p| p.is_match(t))) {
                push(
                    "sensitive-topic-info",
                    format!("topic of meeting {} contains what looks like a passcode, card or ID number", meeting_id(r)),
                );
            }
        }
        "meeting.risk_alert" => {
            let raw = r.raw.value();
            let d = raw.get("object").and_then(|o| o.get("armn_details"));
            let platform = d.and_then(|d| d.get("post_platform")).and_then(Value::as_str).unwrap_or("a public site");
            let link =
                d.and_then(|d| d.get("social_link")).and_then(Value::as_str).map(|l| format!(" ({})", sanitize(l, 80))).unwrap_or_default();
            push("meeting-risk-alert", format!("link to {} was posted publicly on {}{link}", topic(), sanitize(platform, 32)));
        }
        "meeting.live_streaming_started" | "webinar.live_streaming_started" => {
            let raw = r.raw.value();
            let ls = raw.get("object").and_then(|o| o.get("live_streaming"));
            let service = ls.and_then(|l| l.get("service")).and_then(Value::as_str).unwrap_or("an outside service");
            push("live-stream-started", format!("{} started streaming to {} (by {})", topic(), sanitize(service, 48), operator(r)));
        }
        "group.admin_added" => {
            let t = r.target_user.as_ref().and_then(|t| t.email.clone().or_else(|| t.id.clone())).unwrap_or_else(|| "a user".into());
            push("privilege-granted", format!("{} made {} a group admin", operator(r), sanitize(&t, QUOTE)));
        }
        "user.created" | "user.deleted" | "user.deactivated" | "user.disassociated" | "zoom.report.operation"
            if r.event != "zoom.report.operation" || oplog_user_verb(r).is_some() =>
        {
            let email = r.target_user.as_ref().and_then(|t| t.email.clone());
            let external = !cfg.internal_domains.is_empty() && email.as_deref().is_some_and(|e| !cfg.is_internal_email(e));
            let verb = oplog_user_verb(r).unwrap_or(r.action.as_str());
            let target = email.as_deref().map_or_else(|| "a user".to_owned(), |e| sanitize(e, QUOTE).into_owned());
            let reason = format!("{} {verb} user {target}{}", operator(r), if external { " (external domain)" } else { "" });
            push("user-lifecycle", reason);
            external_user_created = external && verb == "created";
        }
        "recording.deleted" | "recording.trashed" => {
            push(
                "recording-deleted",
                format!("{} {} the recording of {}", operator(r), if r.action == "trashed" { "trashed" } else { "deleted" }, topic()),
            );
        }
        e if e == "app_deauthorized" || e.ends_with(".deauthorized") || e.ends_with("app_deauthorized") => {
            push("app-deauthorized", "a Marketplace app was deauthorized for this account".to_owned());
        }
        _ => {}
    }

    if r.category == Category::Admin {
        let drifted: Vec<crate::posture::Drift> =
            crate::posture::drifts(r, &cfg.settings_policy).into_iter().filter(|d| !d.restored).collect();
        if !drifted.is_empty() && cfg.rule("policy-drift").is_some() {
            // Severity is the catalogue's for the setting (the worst of them).
            let severity = drifted.iter().map(|d| d.info.severity).max().unwrap_or(crate::record::Severity::Low);
            let what: Vec<String> = drifted.iter().map(crate::posture::Drift::describe).collect();
            drift_flag = Some(Flag {
                rule: "policy-drift".to_owned(),
                severity,
                reason: format!("{} moved out of policy: {}", operator(r), what.join("; ")),
            });
        }
        let weakened = settings_weakenings(r, cfg, &drifted);
        if !weakened.is_empty() {
            // An operation-log row says where in its own words (account, a group, a user).
            let logged = (r.event == "zoom.report.operation")
                .then(|| r.raw.value().get("operation_detail").and_then(Value::as_str).map(|d| crate::report::parse_detail(d, None).scope))
                .flatten();
            let whose = match (logged.as_deref(), r.event.split('.').next()) {
                (Some("account"), _) => "account settings".to_owned(),
                (Some(scope), _) => format!("settings of {}", sanitize(scope, 2 * QUOTE)),
                (None, Some("account")) => "account settings".to_owned(),
                (None, Some("group")) => "group settings".to_owned(),
                _ => format!(
                    "settings of {}",
                    r.target_user.as_ref().and_then(|t| t.email.clone().or_else(|| t.id.clone())).unwrap_or_else(|| "a user".into())
                ),
            };
            push("account-security-weakened", format!("{} weakened {whose}: {}", operator(r), weakened.join(", ")));
        }
        if r.event != "group.admin_added"
            && let Some(role) = granted_role(r)
        {
            let t = r.target_user.as_ref().and_then(|t| t.email.clone().or_else(|| t.id.clone())).unwrap_or_else(|| "a user".into());
            push("privilege-granted", format!("{} gave {} the role {}", operator(r), sanitize(&t, QUOTE), quote(&role)));
        }
        if let Some(email) = r.actor.as_ref().and_then(|a| a.email.as_deref()) {
            if !cfg.admin_operators.is_empty() && !cfg.admin_operators.iter().any(|a| a.eq_ignore_ascii_case(email)) {
                push("unlisted-admin", format!("{} performed {} but is not in the admin list", sanitize(email, QUOTE), r.event));
            }
            if let Some(hit) = watchlist_email(email, cfg) {
                push("watchlist-hit", format!("watchlist {hit}: admin action {} by {}", r.event, sanitize(email, QUOTE)));
            }
        }
    }
    if r.category == Category::Auth
        && let Some(email) = r.actor.as_ref().and_then(|a| a.email.as_deref())
        && let Some(hit) = watchlist_email(email, cfg)
    {
        push("watchlist-hit", format!("watchlist {hit}: {} {}", sanitize(email, QUOTE), r.action.replace('_', " ")));
    }
    if let Some(o) = r.origin.as_deref().filter(|o| o.source == crate::report::WEBHOOK_LOGS) {
        let status = match o.delivery_status {
            Some(-1) => "never sent".to_owned(),
            Some(s) => format!("HTTP {s}"),
            None => "no answer".to_owned(),
        };
        let why = o.delivery_failure.as_deref().map(|f| format!(", {f}")).unwrap_or_default();
        let at = o.attempted_at.as_deref().map(|t| format!(" at {t}")).unwrap_or_default();
        push(
            "webhook-deliveries-failed",
            format!(
                "Zoom could not deliver {} to the endpoint{at} ({status}{why}); recovered from its delivery log",
                sanitize(&r.event, 64)
            ),
        );
    }
    flags.extend(drift_flag);
    super::location::stateless_flags(r, cfg, &mut flags);
    if external_user_created {
        // Creating an account for an outside address is worth a closer look.
        for f in flags.iter_mut().filter(|f| f.rule == "user-lifecycle") {
            f.severity = f.severity.max(crate::record::Severity::Medium);
        }
    }
    if !cfg.custom_rules.is_empty() && r.event != crate::record::ALERT_EVENT {
        // The team's own stateless rules see the built-ins' verdict (`sev:` terms).
        let worst = flags.iter().map(|f| f.severity).max();
        for c in cfg.custom_rules.iter().filter(|c| c.count == 0) {
            if c.filter.matches_record(r, worst) {
                flags.push(Flag { rule: c.id.clone(), severity: c.severity, reason: format!("{}: {}", c.reason, describe(r)) });
            }
        }
    }
    flags
}

fn meeting_id(r: &RecordV1) -> String {
    r.meeting.as_ref().and_then(|m| m.id.clone()).map_or_else(|| "?".into(), |id| sanitize(&id, 24).into_owned())
}

fn is_true(v: &Value) -> bool {
    v.as_bool() == Some(true)
}
fn is_false(v: &Value) -> bool {
    v.as_bool() == Some(false)
}

/// What a meeting update weakened, in words.
fn meeting_weakenings(r: &RecordV1) -> Vec<String> {
    let mut out = Vec::new();
    for c in &r.changes {
        let leaf = c.path.rsplit('.').next().unwrap_or("");
        let removed_secret = (leaf == "password" || leaf == "passcode")
            && c.old.as_str().is_some_and(|s| !s.is_empty())
            && c.new.as_str().is_none_or(str::is_empty);
        let what = match leaf {
            _ if removed_secret => Some("passcode removed"),
            "waiting_room" if is_true(&c.old) && is_false(&c.new) => Some("waiting room off"),
            "join_before_host" if is_false(&c.old) && is_true(&c.new) => Some("join before host on"),
            "meeting_authentication" if is_true(&c.old) && is_false(&c.new) => Some("authentication off"),
            "enforce_login" if is_true(&c.old) && is_false(&c.new) => Some("sign-in requirement off"),
            "approval_type" if c.new.as_i64() == Some(2) && c.old.as_i64().is_some_and(|o| o != 2) => Some("registration approval off"),
            _ => None,
        };
        if let Some(w) = what {
            out.push(w.to_owned());
        }
    }
    out
}

/// Emails in a Zoom list value: `"a@x.example;b@y.example"`, `[{"email": …}]`, or an
/// array of strings.
fn emails_in(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split([';', ',', ' ']).map(str::trim).filter(|e| e.contains('@')).map(str::to_ascii_lowercase).collect(),
        Value::Array(a) => a
            .iter()
            .flat_map(|x| match x {
                Value::Object(o) => o.get("email").map(emails_in).unwrap_or_default(),
                other => emails_in(other),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Outsiders a meeting's settings newly let in through the side doors: alternative hosts
/// (who can start it and admit anyone) and authentication exceptions (who skip the
/// sign-in requirement). Needs the internal domains to tell.
fn exposure(r: &RecordV1, cfg: &Config) -> Vec<String> {
    if cfg.internal_domains.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let raw = r.raw.value();
    for (field, what) in [("alternative_hosts", "alternative host"), ("authentication_exception", "authentication exception")] {
        let path = format!("settings.{field}");
        let (old, new) = match r.changes.iter().find(|c| c.path == path || c.path.starts_with(&format!("{path}."))) {
            Some(_) if r.action == "updated" => {
                let get =
                    |o: &str| raw.get(o).and_then(|o| o.get("settings")).and_then(|s| s.get(field)).map(emails_in).unwrap_or_default();
                (get("old_object"), get("object"))
            }
            None if r.action == "created" => {
                let new = raw.get("object").and_then(|o| o.get("settings")).and_then(|s| s.get(field)).map(emails_in).unwrap_or_default();
                (Vec::new(), new)
            }
            _ => continue,
        };
        for e in new.iter().filter(|e| !old.contains(e) && !cfg.is_internal_email(e)) {
            out.push(format!("{what} {} added (outside the organization)", sanitize(e, QUOTE)));
        }
    }
    out
}

/// The user-lifecycle verb of an operation-log row about a user (`Add User …`,
/// `Delete User …`, `Deactivate User …`), if it is one.
fn oplog_user_verb(r: &RecordV1) -> Option<&'static str> {
    let raw = r.raw.value();
    let detail = raw.get("operation_detail").and_then(Value::as_str)?.trim_start().to_ascii_lowercase();
    let category = raw.get("category_type").and_then(Value::as_str).unwrap_or("");
    if !category.eq_ignore_ascii_case("user") || r.target_user.is_none() {
        return None;
    }
    [("add user ", "created"), ("delete user", "deleted"), ("deactivate user ", "deactivated")]
        .into_iter()
        .find(|(prefix, _)| detail.starts_with(prefix))
        .map(|(_, verb)| verb)
}

/// Catalogued settings ([`crate::zoom_settings`]) of medium or high severity this
/// record's changes weaken, apart from those that left the policy (`policy-drift` says
/// those) and those the policy waives. Lock changes move no value.
fn settings_weakenings(r: &RecordV1, cfg: &Config, drifted: &[crate::posture::Drift]) -> Vec<String> {
    use crate::zoom_settings::{Direction, by_path, judge};
    let mut out = Vec::new();
    if r.event.contains("lock_settings") {
        return out;
    }
    let scope = crate::posture::scope_of(r).unwrap_or(crate::posture::Scope::Account);
    for c in &r.changes {
        let path = c.path.strip_prefix("settings.").unwrap_or(&c.path);
        let Some(info) = by_path(&c.path) else { continue };
        if info.severity < crate::record::Severity::Medium
            || !cfg.settings_policy.applies(info, &scope)
            || drifted.iter().any(|d| d.path == path)
            || judge(info, &c.old, &c.new) != Direction::Weakened
        {
            continue;
        }
        out.push(format!("{path} {} → {}", c.old, c.new));
    }
    out
}

/// How much a role may do: member < billing admin < admin < co-owner < owner. A role
/// this list does not know (a custom role) counts as privileged, like an admin.
pub fn role_rank(name: &str) -> u8 {
    match name.trim().to_ascii_lowercase().as_str() {
        "member" | "user" | "normal" | "basic" | "" => 0,
        "billing admin" | "billing administrator" => 1,
        "admin" | "administrator" => 2,
        "co-owner" | "coowner" | "co owner" => 3,
        "owner" => 4,
        _ => 2,
    }
}

fn granted_role(r: &RecordV1) -> Option<String> {
    let privileged = |s: &str| role_rank(s) > 0;
    for c in &r.changes {
        let leaf = c.path.rsplit('.').next().unwrap_or("");
        // A promotion is a grant; a demotion, or a move between equals, is not.
        if matches!(leaf, "role_name" | "role")
            && let Some(n) = c.new.as_str().filter(|n| privileged(n))
            && c.old.as_str().is_none_or(|o| role_rank(n) > role_rank(o))
        {
            return Some(n.to_owned());
        }
        // The operation log's "Add Group Admins for G - USER", "Assign admin for channel C - USER".
        if matches!(leaf, "group_admins" | "channel_admins")
            && let Some(n) = c.new.as_str()
        {
            let what = if leaf == "group_admins" { "group" } else { "channel" };
            return Some(format!("admin of {what} {n}"));
        }
        // Zoom role ids: 0 owner, 1 admin, 2 member.
        if leaf == "role_id" {
            let id = c.new.as_str().map(str::to_owned).or_else(|| c.new.as_i64().map(|i| i.to_string()));
            match id.as_deref() {
                Some("0") => return Some("owner".into()),
                Some("1") => return Some("admin".into()),
                _ => {}
            }
        }
    }
    if r.event == "role.members_assigned" {
        let raw = r.raw.value();
        let name = raw.get("object").and_then(|o| o.get("name").or_else(|| o.get("role_name"))).and_then(Value::as_str)?;
        return privileged(name).then(|| name.to_owned());
    }
    None
}

fn watchlist_email(email: &str, cfg: &Config) -> Option<String> {
    if cfg.watch_emails.is_empty() && cfg.watch_domains.is_empty() {
        return None;
    }
    let e = email.to_ascii_lowercase();
    if cfg.watch_emails.contains(&e) {
        return Some(format!("email {}", sanitize(email, QUOTE)));
    }
    let d = email_domain(email)?;
    domain_in(&d, &cfg.watch_domains).then(|| format!("domain {d}"))
}

fn watchlist_participant(p: &Participant, cfg: &Config) -> Option<String> {
    if let Some(hit) = p.email.as_deref().and_then(|e| watchlist_email(e, cfg)) {
        return Some(hit);
    }
    if let Some(name) = p.name.as_ref().filter(|_| !cfg.watch_names.is_empty()) {
        let n = normalize_name(name);
        if !n.is_empty() && cfg.watch_names.contains(&n) {
            return Some(format!("name {}", quote(name)));
        }
    }
    if cfg.watch_ips.is_empty() {
        return None;
    }
    let ip: std::net::IpAddr = p.ip.as_deref()?.trim().parse().ok()?;
    cfg.watch_ips.iter().find(|net| net.contains(&ip)).map(|net| format!("network {net}"))
}
