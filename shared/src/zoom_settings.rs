//! The settings catalogue: Zoom's security-relevant settings, one entry each, with the
//! names each source uses for it — the API path (`GET /accounts/{id}/settings`), the
//! leaf in `account|group|user.settings_updated` webhooks, the portal label the
//! operation log prints — which value is the secure one, where it can be set, the CIS
//! Zoom Benchmark v1.0.0 control where one exists, and how serious weakening it is.
//!
//! Every rule that judges a settings change goes through [`judge`], so a change reads the
//! same whether it came from a webhook or from the operation log's wording. Some settings
//! have no API field (the sign-in methods, some sign-in password rules, automatic
//! sign-out): they are judged from the operation log alone, and `api` is `None`.
//!
//! Why one file of this length: most of it is the table, one entry per setting, which
//! reads best whole; the lookups and the judge are short.

use serde_json::Value;

use crate::record::Severity;

/// Which value of a setting is the secure one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secure {
    /// On (`true`) is secure: turning it off weakens.
    On,
    /// Off (`false`) is secure: turning it on weakens.
    Off,
    /// A number at least this large is secure; lowering it weakens.
    AtLeast(i64),
    /// Of these values, earlier ones are more secure; moving later weakens.
    Ordered(&'static [&'static str]),
}

/// Where a setting can be set (and locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    /// Account settings.
    pub account: bool,
    /// Group settings.
    pub group: bool,
    /// A user's own settings.
    pub user: bool,
    /// The account or a group can lock it for those below.
    pub lockable: bool,
}

const ALL: Scopes = Scopes { account: true, group: true, user: true, lockable: true };
const ACCOUNT: Scopes = Scopes { account: true, group: false, user: false, lockable: false };

/// One catalogued setting.
#[derive(Debug, Clone, Copy)]
pub struct SettingInfo {
    /// The API path (`section.field`), or `None` where Zoom's API has no field for it.
    pub api: Option<&'static str>,
    /// Other leaf names the same setting has in webhooks and older API versions.
    pub aliases: &'static [&'static str],
    /// Portal labels the operation log prints for it (lower-case).
    pub labels: &'static [&'static str],
    /// What a person reads.
    pub title: &'static str,
    /// The secure value or direction.
    pub secure: Secure,
    /// Where it can be set.
    pub scopes: Scopes,
    /// The CIS Zoom Benchmark v1.0.0 control, where one checks it.
    pub cis: Option<&'static str>,
    /// Severity of weakening it.
    pub severity: Severity,
}

/// One row of the table (positional, so the table reads as a table).
#[allow(clippy::too_many_arguments)]
const fn s(
    api: Option<&'static str>,
    aliases: &'static [&'static str],
    labels: &'static [&'static str],
    title: &'static str,
    secure: Secure,
    scopes: Scopes,
    cis: Option<&'static str>,
    severity: Severity,
) -> SettingInfo {
    SettingInfo { api, aliases, labels, title, secure, scopes, cis, severity }
}

use Secure::{AtLeast, Off, On, Ordered};
use Severity::{High, Low, Medium};

/// Every catalogued setting.
pub static SETTINGS: &[SettingInfo] = &[
    // Who gets in.
    s(Some("meeting_security.waiting_room"), &["waiting_room"], &["waiting room"], "waiting room", On, ALL, Some("1.1.1.2"), High),
    s(
        Some("schedule_meeting.join_before_host"),
        &["join_before_host"],
        &["allow participants to join before host", "join before host"],
        "participants may join before the host",
        Off,
        ALL,
        Some("1.1.2.4"),
        High,
    ),
    s(
        Some("meeting_security.auto_security"),
        &["auto_security"],
        &["require that all meetings are secured with one security option"],
        "every meeting secured with at least one option",
        On,
        ALL,
        None,
        High,
    ),
    s(
        Some("meeting_authentication.enabled"),
        &["meeting_authentication", "enforce_login"],
        &[
            "only authenticated users can join meetings",
            "only authenticated meeting participants and webinar attendees can join meetings and webinars",
        ],
        "only authenticated users can join",
        On,
        ALL,
        Some("1.1.1.9"),
        High,
    ),
    s(
        Some("meeting_security.only_authenticated_can_join_from_webclient"),
        &["only_authenticated_can_join_from_webclient"],
        &["only authenticated users can join meetings from web client"],
        "only authenticated users can join from the web client",
        On,
        ALL,
        None,
        Medium,
    ),
    s(
        Some("meeting_security.approved_or_denied_countries_or_regions.enable"),
        &["approved_or_denied_countries_or_regions"],
        &["approve or block entry for users from specific countries/regions"],
        "entry approved or blocked by country",
        On,
        ALL,
        Some("1.1.4.1.1"),
        Medium,
    ),
    s(
        Some("schedule_meeting.enforce_login_with_domains"),
        &["enforce_login_with_domains"],
        &["only authenticated users in specified domains can join meetings"],
        "only users from listed domains can join",
        On,
        ALL,
        None,
        Medium,
    ),
    s(
        Some("in_meeting.alert_guest_join"),
        &["alert_guest_join"],
        &["identify guest participants in the meeting/webinar"],
        "guests marked in the participant list",
        On,
        ALL,
        None,
        Low,
    ),
    // Passcodes.
    s(
        Some("meeting_security.meeting_password"),
        &["meeting_password", "require_password_for_all_meetings"],
        &[],
        "every meeting passcode-protected",
        On,
        ALL,
        Some("1.1.1.4"),
        High,
    ),
    s(
        Some("schedule_meeting.require_password_for_scheduling_new_meetings"),
        &["require_password_for_scheduling_new_meetings"],
        &["require a passcode when scheduling new meetings"],
        "a passcode when scheduling new meetings",
        On,
        ALL,
        None,
        High,
    ),
    s(
        Some("schedule_meeting.require_password_for_scheduled_meetings"),
        &["require_password_for_scheduled_meetings"],
        &["require a passcode for scheduled meetings"],
        "a passcode for scheduled meetings",
        On,
        ALL,
        None,
        Medium,
    ),
    s(
        Some("schedule_meeting.require_password_for_instant_meetings"),
        &["require_password_for_instant_meetings"],
        &["require a passcode for instant meetings"],
        "a passcode for instant meetings",
        On,
        ALL,
        None,
        Medium,
    ),
    s(
        Some("meeting_security.pmi_password"),
        &["password_for_pmi", "pmi_password"],
        &["require a passcode for personal meeting id (pmi)", "personal meeting id (pmi) passcode"],
        "a passcode for Personal Meeting ID meetings",
        On,
        ALL,
        Some("1.1.1.7"),
        Medium,
    ),
    s(
        Some("schedule_meeting.require_password_for_pmi_meetings"),
        &["require_password_for_pmi_meetings"],
        &[],
        "which PMI meetings need a passcode",
        Ordered(&["all", "jbh_only", "none"]),
        ALL,
        None,
        Medium,
    ),
    s(
        Some("meeting_security.embed_password_in_join_link"),
        &["embed_password_in_join_link"],
        &["embed passcode in invite link for one-click join"],
        "passcode embedded in the join link",
        Off,
        ALL,
        Some("1.1.1.8"),
        Low,
    ),
    s(
        Some("meeting_security.phone_password"),
        &["phone_password"],
        &["require passcode for participants joining by phone"],
        "a passcode for phone participants",
        On,
        ALL,
        Some("1.1.1.10"),
        Medium,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.length"),
        &[],
        &["minimum passcode length"],
        "minimum meeting passcode length",
        AtLeast(6),
        ALL,
        Some("1.1.1.1.1"),
        Medium,
    ),
    s(
        Some("meeting_security.require_password_for_scheduled_webinar"),
        &["require_password_for_scheduled_webinar"],
        &["require a passcode when scheduling new webinars"],
        "a passcode for scheduled webinars",
        On,
        ALL,
        None,
        Medium,
    ),
    // In the meeting.
    s(
        Some("in_meeting.e2e_encryption"),
        &["e2e_encryption", "encryption"],
        &["allow use of end-to-end encryption", "end-to-end encryption"],
        "end-to-end encryption allowed",
        On,
        ALL,
        Some("1.1.3.7"),
        Medium,
    ),
    s(
        Some("in_meeting.file_transfer"),
        &["file_transfer"],
        &["file transfer", "send files via meeting chat"],
        "file transfer in meetings",
        Off,
        ALL,
        Some("1.1.3.3.1"),
        Medium,
    ),
    s(
        Some("in_meeting.remote_control"),
        &["remote_control"],
        &["remote control"],
        "remote control by participants",
        Off,
        ALL,
        Some("1.1.3.16"),
        Medium,
    ),
    s(Some("in_meeting.remote_support"), &["remote_support"], &["remote support"], "remote support", Off, ALL, None, Medium),
    s(
        Some("in_meeting.allow_users_to_delete_messages_in_meeting_chat"),
        &["allow_users_to_delete_messages_in_meeting_chat"],
        &["allow users to delete messages in meeting chat"],
        "participants may delete chat messages",
        Off,
        ALL,
        None,
        Low,
    ),
    s(
        Some("in_meeting.disable_screen_sharing_for_in_meeting_guests"),
        &["disable_screen_sharing_for_in_meeting_guests"],
        &["disable desktop screen sharing for meetings you host when guests are in the meeting"],
        "no screen sharing while guests are in",
        On,
        ALL,
        None,
        Medium,
    ),
    s(Some("in_meeting.annotation"), &["annotation"], &["annotation"], "annotation on shared screens", Off, ALL, Some("1.1.3.5.1"), Low),
    s(Some("in_meeting.whiteboard"), &["whiteboard"], &["whiteboard", "zoom whiteboard"], "whiteboard", Off, ALL, Some("1.1.3.6.1"), Low),
    // Recordings.
    s(
        Some("recording.cloud_recording_download"),
        &["cloud_recording_download"],
        &["cloud recording downloads"],
        "cloud recordings downloadable",
        Off,
        ALL,
        None,
        Medium,
    ),
    // Signing in (account only).
    s(
        Some("security.sign_in_with_two_factor_auth"),
        &["sign_in_with_two_factor_auth"],
        &["sign in with two-factor authentication"],
        "two-factor authentication at sign-in",
        On,
        ACCOUNT,
        None,
        High,
    ),
    s(
        Some("security.password_requirement.minimum_password_length"),
        &["minimum_password_length"],
        &["have at least specified length of characters"],
        "minimum sign-in password length",
        AtLeast(9),
        ACCOUNT,
        Some("3.1.1.1.1"),
        Medium,
    ),
    s(
        Some("security.password_requirement.have_special_character"),
        &["have_special_character"],
        &["have at least 1 special character"],
        "a special character in sign-in passwords",
        On,
        ACCOUNT,
        Some("3.1.1.1.2"),
        Medium,
    ),
    s(
        Some("security.password_requirement.weak_enhance_detection"),
        &["weak_enhance_detection"],
        &["use enhanced weak password detection"],
        "enhanced weak-password detection",
        On,
        ACCOUNT,
        Some("3.1.1.1.4"),
        Medium,
    ),
    s(None, &[], &["include at least 1 letter"], "a letter in sign-in passwords", On, ACCOUNT, None, Medium),
    s(None, &[], &["include at least 1 number"], "a number in sign-in passwords", On, ACCOUNT, None, Medium),
    s(
        None,
        &[],
        &["include both uppercase and lowercase characters"],
        "upper and lower case in sign-in passwords",
        On,
        ACCOUNT,
        None,
        Medium,
    ),
    s(
        None,
        &[],
        &["automatically sign users out after a specified time"],
        "automatic sign-out after a set time",
        On,
        ACCOUNT,
        None,
        Medium,
    ),
    s(
        Some("security.signin_with_sso.enable"),
        &["signin_with_sso"],
        &["allow users to sign in with sso"],
        "sign-in with SSO",
        On,
        ACCOUNT,
        None,
        Medium,
    ),
    // Other ways in: enabling one widens who can sign in as a user of the account.
    s(None, &[], &["allow users to sign in with google"], "sign-in with Google", Off, ACCOUNT, None, Medium),
    s(None, &[], &["allow users to sign in with apple id"], "sign-in with Apple ID", Off, ACCOUNT, None, Medium),
    s(None, &[], &["allow users to sign in with facebook"], "sign-in with Facebook", Off, ACCOUNT, None, Medium),
    s(None, &[], &["allow users to sign in with work email"], "sign-in with work email and password", Off, ACCOUNT, None, Low),
];

/// The entry a portal label names (any case, surrounding space ignored).
pub fn by_label(label: &str) -> Option<&'static SettingInfo> {
    let l = label.trim().to_ascii_lowercase();
    SETTINGS.iter().find(|s| s.labels.contains(&l.as_str()))
}

/// The entry a settings path names: the API path, or a path whose last part is one of
/// the entry's aliases (webhooks write the same setting under other sections), with or
/// without a leading `settings.` (as records write webhook changes).
pub fn by_path(path: &str) -> Option<&'static SettingInfo> {
    let p = path.strip_prefix("settings.").unwrap_or(path);
    let leaf = p.rsplit('.').next().unwrap_or(p);
    SETTINGS
        .iter()
        .find(|s| s.api == Some(p))
        .or_else(|| SETTINGS.iter().find(|s| s.aliases.contains(&p) || s.aliases.contains(&leaf)))
        .or_else(|| SETTINGS.iter().find(|s| s.api.is_none() && s.labels.iter().any(|l| slug_eq(l, p))))
}

/// Whether `slug` is `label` written as a path part (`allow_users_to_sign_in_with_google`).
fn slug_eq(label: &str, slug: &str) -> bool {
    let mut words = label.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    let mut parts = slug.split('_');
    loop {
        match (words.next(), parts.next()) {
            (None, None) => return true,
            (Some(w), Some(p)) if w.eq_ignore_ascii_case(p) => {}
            _ => return false,
        }
    }
}

/// What a change does to security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Less secure than before.
    Weakened,
    /// More secure than before.
    Hardened,
    /// No change in security, or values this entry cannot compare.
    Neither,
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "enabled" | "yes" => Some(true),
            "off" | "false" | "disabled" | "no" => Some(false),
            _ => None,
        },
        Value::Object(o) => o.get("enable").or_else(|| o.get("enabled")).and_then(as_bool),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether `value` is the secure value (`None` when it cannot be told).
pub fn is_secure(info: &SettingInfo, value: &Value) -> Option<bool> {
    match info.secure {
        On => as_bool(value),
        Off => as_bool(value).map(|b| !b),
        AtLeast(min) => as_number(value).map(|n| n >= min),
        Ordered(order) => value.as_str().and_then(|v| order.iter().position(|o| o.eq_ignore_ascii_case(v))).map(|i| i == 0),
    }
}

/// What moving `info` from `old` to `new` does.
pub fn judge(info: &SettingInfo, old: &Value, new: &Value) -> Direction {
    let rank = |v: &Value| -> Option<i64> {
        match info.secure {
            On => as_bool(v).map(i64::from),
            Off => as_bool(v).map(|b| i64::from(!b)),
            AtLeast(_) => as_number(v),
            Ordered(order) => {
                v.as_str().and_then(|s| order.iter().position(|o| o.eq_ignore_ascii_case(s))).map(|i| -(i64::try_from(i).unwrap_or(0)))
            }
        }
    };
    match (rank(old), rank(new)) {
        (Some(a), Some(b)) if b < a => Direction::Weakened,
        (Some(a), Some(b)) if b > a => Direction::Hardened,
        _ => Direction::Neither,
    }
}

/// The README's settings table (Markdown), generated from the catalogue so the two
/// agree (`shared/tests/oplog.rs` checks it).
pub fn markdown_table() -> String {
    let mut out = String::from("| setting | API path | secure | where | CIS | weakening |\n|---|---|---|---|---|---|\n");
    for info in SETTINGS {
        let secure = match info.secure {
            On => "on".to_owned(),
            Off => "off".to_owned(),
            AtLeast(n) => format!("≥ {n}"),
            Ordered(order) => order.join(" > "),
        };
        let mut scopes: Vec<&str> = Vec::new();
        if info.scopes.account {
            scopes.push("account");
        }
        if info.scopes.group {
            scopes.push("group");
        }
        if info.scopes.user {
            scopes.push("user");
        }
        let api = info.api.map_or_else(|| "— (operation log only; no revert)".to_owned(), |a| format!("`{a}`"));
        out.push_str(&format!(
            "| {} | {api} | {secure} | {}{} | {} | {} |\n",
            info.title,
            scopes.join(", "),
            if info.scopes.lockable { " (lockable)" } else { "" },
            info.cis.unwrap_or(""),
            info.severity.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_entry_weakens_one_way_and_hardens_the_other() {
        for info in SETTINGS {
            let (secure, weak) = match info.secure {
                On => (json!(true), json!(false)),
                Off => (json!(false), json!(true)),
                AtLeast(min) => (json!(min), json!(min - 1)),
                Ordered(order) => (json!(order[0]), json!(order[order.len() - 1])),
            };
            assert_eq!(judge(info, &secure, &weak), Direction::Weakened, "{}", info.title);
            assert_eq!(judge(info, &weak, &secure), Direction::Hardened, "{}", info.title);
            assert_eq!(judge(info, &secure, &secure), Direction::Neither, "{}", info.title);
            assert_eq!(is_secure(info, &secure), Some(true), "{}", info.title);
            assert_eq!(is_secure(info, &weak), Some(false), "{}", info.title);
            // Every entry can be found by each of its names.
            for l in info.labels {
                assert!(by_label(&l.to_uppercase()).is_some_and(|f| std::ptr::eq(f, info)), "{l}");
            }
            if let Some(api) = info.api {
                assert!(by_path(api).is_some_and(|f| std::ptr::eq(f, info)), "{api}");
                assert!(by_path(&format!("settings.{api}")).is_some_and(|f| std::ptr::eq(f, info)), "{api}");
            }
        }
    }

    #[test]
    fn names_and_values_as_zoom_writes_them() {
        let wr = by_label("Waiting Room").unwrap();
        assert_eq!(wr.api, Some("meeting_security.waiting_room"));
        assert_eq!(judge(wr, &json!("On"), &json!("Off")), Direction::Weakened);
        assert_eq!(judge(wr, &json!("ON"), &json!("OFF")), Direction::Weakened);
        assert!(std::ptr::eq(by_path("settings.in_meeting.waiting_room").unwrap(), wr), "the group/user path's leaf");
        let len = by_label("Have at least specified length of characters").unwrap();
        assert_eq!(judge(len, &json!("8"), &json!("6")), Direction::Weakened);
        assert_eq!(judge(len, &json!("8"), &json!("14")), Direction::Hardened);
        let pmi = by_path("require_password_for_pmi_meetings").unwrap();
        assert_eq!(judge(pmi, &json!("all"), &json!("none")), Direction::Weakened);
        assert_eq!(judge(pmi, &json!("none"), &json!("jbh_only")), Direction::Hardened);
        let google = by_label("Allow users to sign in with Google").unwrap();
        assert_eq!((google.api, judge(google, &json!("Off"), &json!("On"))), (None, Direction::Weakened));
        assert!(by_path("settings.allow_users_to_sign_in_with_google").is_some_and(|f| std::ptr::eq(f, google)), "by its label's slug");
        // Values it cannot compare decide nothing.
        assert_eq!(judge(wr, &json!("maybe"), &json!("Off")), Direction::Neither);
        assert!(by_label("Job Title").is_none() && by_path("settings.job_title").is_none());
    }
}
