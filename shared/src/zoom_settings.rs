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
    /// A number from the first to the second (inclusive) is secure.
    Within(i64, i64),
    /// Any number but zero is secure (zero means the protection is off); the number is
    /// the value a revert sets.
    NonZero(i64),
    /// Of these values, earlier ones are more secure; moving later weakens. Only the
    /// first is secure. `On` reads as the first and `Off` as the last (the operation log
    /// prints choices as toggles).
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
const ACCOUNT_LOCKABLE: Scopes = Scopes { account: true, group: false, user: false, lockable: true };

/// One catalogued setting.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// The CIS Zoom Benchmark v1.0.0 controls that check it (none for the hygiene
    /// entries CIS does not cover).
    pub cis: &'static [&'static str],
    /// Severity of weakening it.
    pub severity: Severity,
    /// Where zoomwatch's secure value differs from the benchmark's, and why.
    pub note: &'static str,
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
    cis: &'static [&'static str],
    severity: Severity,
) -> SettingInfo {
    SettingInfo { api, aliases, labels, title, secure, scopes, cis, severity, note: "" }
}

impl SettingInfo {
    const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }

    /// The name people and the policy use: the API path, else the first portal label.
    pub fn key(&self) -> &'static str {
        match self.api {
            Some(a) => a,
            None => self.labels[0],
        }
    }

    /// The secure value, as the API writes it (`None` for entries without an API field).
    pub fn secure_value(&self) -> Option<Value> {
        self.api?;
        Some(match self.secure {
            On => Value::Bool(true),
            Off => Value::Bool(false),
            AtLeast(n) => Value::from(n),
            Within(lo, _) => Value::from(lo),
            NonZero(n) => Value::from(n),
            Ordered(order) => match order[0].parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::from(order[0]),
            },
        })
    }

    /// The secure value in words, for tables.
    pub fn expected(&self) -> String {
        match self.secure {
            On => "on".to_owned(),
            Off => "off".to_owned(),
            AtLeast(n) => format!("≥ {n}"),
            Within(lo, hi) => format!("{lo}–{hi}"),
            NonZero(_) => "not 0".to_owned(),
            Ordered(order) => order[0].to_owned(),
        }
    }
}

use Secure::{AtLeast, NonZero, Off, On, Ordered, Within};
use Severity::{High, Low, Medium};

/// Every catalogued setting.
pub static SETTINGS: &[SettingInfo] = &[
    // Who gets in.
    s(Some("meeting_security.waiting_room"), &["waiting_room"], &["waiting room"], "waiting room", On, ALL, &["1.1.1.2"], High),
    s(
        Some("meeting_security.waiting_room_settings.participants_to_place_in_waiting_room"),
        &["participants_to_place_in_waiting_room"],
        &[],
        "who the waiting room holds (0 everyone, 1 outside the account, 2 outside the account and allowed domains)",
        Ordered(&["0", "1", "2"]),
        ALL,
        &["1.1.1.3"],
        Medium,
    ),
    s(
        Some("schedule_meeting.join_before_host"),
        &["join_before_host"],
        &["allow participants to join before host", "join before host"],
        "participants may join before the host",
        Off,
        ALL,
        &["1.1.2.4"],
        High,
    ),
    s(
        Some("meeting_security.auto_security"),
        &["auto_security"],
        &["require that all meetings are secured with one security option"],
        "every meeting secured with at least one option",
        On,
        ALL,
        &[],
        High,
    ),
    s(
        Some("meeting_authentication"),
        &["meeting_authentication.enabled", "enforce_login"],
        &[
            "only authenticated users can join meetings",
            "only authenticated meeting participants and webinar attendees can join meetings and webinars",
        ],
        "only authenticated users can join",
        On,
        ALL,
        &["1.1.1.9"],
        High,
    ),
    s(
        Some("meeting_security.only_authenticated_can_join_from_webclient"),
        &["only_authenticated_can_join_from_webclient"],
        &["only authenticated users can join meetings from web client"],
        "only authenticated users can join from the web client",
        On,
        ALL,
        &[],
        Medium,
    ),
    s(
        Some("meeting_security.approved_or_denied_countries_or_regions.enable"),
        &["approved_or_denied_countries_or_regions"],
        &["approve or block entry for users from specific countries/regions"],
        "entry approved or blocked by country",
        On,
        ALL,
        &["1.1.4.1.1"],
        Medium,
    ),
    s(
        Some("meeting_security.approved_or_denied_countries_or_regions.method"),
        &[],
        &[],
        "countries listed are the approved ones (not the blocked ones)",
        Ordered(&["approve", "deny"]),
        ALL,
        &["1.1.4.1.2"],
        Low,
    ),
    s(
        Some("schedule_meeting.enforce_login_with_domains"),
        &["enforce_login_with_domains"],
        &["only authenticated users in specified domains can join meetings"],
        "only users from listed domains can join",
        On,
        ALL,
        &[],
        Medium,
    ),
    s(
        Some("in_meeting.alert_guest_join"),
        &["alert_guest_join"],
        &["identify guest participants in the meeting/webinar"],
        "guests marked in the participant list",
        On,
        ALL,
        &[],
        Low,
    ),
    // Meeting passcodes.
    s(
        Some("meeting_security.meeting_password"),
        &["meeting_password", "require_password_for_all_meetings"],
        &[],
        "every meeting passcode-protected",
        On,
        ALL,
        &["1.1.1.4"],
        High,
    ),
    s(
        Some("schedule_meeting.require_password_for_scheduling_new_meetings"),
        &["require_password_for_scheduling_new_meetings"],
        &["require a passcode when scheduling new meetings"],
        "a passcode when scheduling new meetings",
        On,
        ALL,
        &[],
        High,
    ),
    s(
        Some("schedule_meeting.require_password_for_scheduled_meetings"),
        &["require_password_for_scheduled_meetings"],
        &["require a passcode for scheduled meetings"],
        "a passcode for scheduled meetings",
        On,
        ALL,
        &[],
        Medium,
    ),
    s(
        Some("schedule_meeting.require_password_for_instant_meetings"),
        &["require_password_for_instant_meetings"],
        &["require a passcode for instant meetings"],
        "a passcode for instant meetings",
        On,
        ALL,
        &[],
        Medium,
    ),
    s(
        Some("meeting_security.pmi_password"),
        &["password_for_pmi", "pmi_password"],
        &["require a passcode for personal meeting id (pmi)", "personal meeting id (pmi) passcode"],
        "a passcode for Personal Meeting ID meetings",
        On,
        ALL,
        &["1.1.1.7"],
        Medium,
    ),
    s(
        Some("schedule_meeting.require_password_for_pmi_meetings"),
        &["require_password_for_pmi_meetings"],
        &[],
        "which PMI meetings need a passcode",
        Ordered(&["all", "jbh_only", "none"]),
        ALL,
        &[],
        Medium,
    ),
    s(
        Some("meeting_security.embed_password_in_join_link"),
        &["embed_password_in_join_link"],
        &["embed passcode in invite link for one-click join"],
        "passcode embedded in the join link",
        Off,
        ALL,
        &["1.1.1.8"],
        Low,
    )
    .note("CIS 1.1.1.8 asks for on; zoomwatch counts off as secure: a link carrying its passcode admits whoever it is forwarded to"),
    s(
        Some("meeting_security.phone_password"),
        &["phone_password"],
        &["require passcode for participants joining by phone"],
        "a passcode for phone participants",
        On,
        ALL,
        &["1.1.1.10"],
        Medium,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.length"),
        &[],
        &["minimum passcode length"],
        "minimum meeting passcode length",
        AtLeast(6),
        ALL,
        &["1.1.1.1.1"],
        Medium,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.have_letter"),
        &[],
        &[],
        "a letter in meeting passcodes",
        On,
        ALL,
        &["1.1.1.1.2"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.have_number"),
        &[],
        &[],
        "a number in meeting passcodes",
        On,
        ALL,
        &["1.1.1.1.3"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.have_special_character"),
        &[],
        &[],
        "a special character in meeting passcodes",
        On,
        ALL,
        &["1.1.1.1.4"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.have_upper_and_lower_characters"),
        &[],
        &[],
        "upper and lower case in meeting passcodes",
        On,
        ALL,
        &["1.1.1.1.5"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.consecutive_characters_length"),
        &[],
        &[],
        "no long runs of consecutive characters in meeting passcodes",
        NonZero(4),
        ALL,
        &["1.1.1.1.6"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.weak_enhance_detection"),
        &[],
        &[],
        "enhanced weak-passcode detection for meetings",
        On,
        ALL,
        &["1.1.1.1.7"],
        Low,
    ),
    s(
        Some("meeting_security.meeting_password_requirement.only_allow_numeric"),
        &[],
        &[],
        "numeric-only meeting passcodes",
        Off,
        ALL,
        &["1.1.1.1.8"],
        Medium,
    ),
    s(
        Some("schedule_meeting.meeting_password_requirement.length"),
        &[],
        &[],
        "scheduled-meeting passcode length (8 to 32)",
        Within(8, 32),
        ACCOUNT_LOCKABLE,
        &["1.1.2.1.1", "1.1.2.1.2"],
        Medium,
    ),
    s(
        Some("schedule_meeting.meeting_password_requirement.have_letter"),
        &[],
        &[],
        "a letter in scheduled-meeting passcodes",
        On,
        ACCOUNT_LOCKABLE,
        &["1.1.2.1.3"],
        Low,
    ),
    s(
        Some("schedule_meeting.meeting_password_requirement.have_number"),
        &[],
        &[],
        "a number in scheduled-meeting passcodes",
        On,
        ACCOUNT_LOCKABLE,
        &["1.1.2.1.4"],
        Low,
    ),
    s(
        Some("schedule_meeting.meeting_password_requirement.have_special_character"),
        &[],
        &[],
        "a special character in scheduled-meeting passcodes",
        On,
        ACCOUNT_LOCKABLE,
        &["1.1.2.1.5"],
        Low,
    ),
    s(
        Some("schedule_meeting.meeting_password_requirement.have_upper_and_lower_characters"),
        &[],
        &[],
        "upper and lower case in scheduled-meeting passcodes",
        On,
        ACCOUNT_LOCKABLE,
        &["1.1.2.1.6"],
        Low,
    ),
    s(
        Some("meeting_security.require_password_for_scheduled_webinar"),
        &["require_password_for_scheduled_webinar"],
        &["require a passcode when scheduling new webinars"],
        "a passcode for scheduled webinars",
        On,
        ALL,
        &[],
        Medium,
    ),
    // Scheduling.
    s(Some("schedule_meeting.host_video"), &["host_video"], &[], "host video on at the start", Off, ALL, &["1.1.2.2"], Low),
    s(
        Some("schedule_meeting.participant_video"),
        &["participant_video", "participants_video"],
        &[],
        "participants' video on at the start",
        Off,
        ALL,
        &["1.1.2.3"],
        Low,
    ),
    s(
        Some("schedule_meeting.personal_meeting"),
        &["personal_meeting"],
        &["enable personal meeting id"],
        "Personal Meeting ID enabled",
        On,
        ALL,
        &["1.1.2.5"],
        Low,
    ),
    s(
        Some("schedule_meeting.use_pmi_for_scheduled_meetings"),
        &["use_pmi_for_scheduled_meetings", "use_pmi_for_schedule_meetings"],
        &["use personal meeting id (pmi) when scheduling a meeting"],
        "the Personal Meeting ID reused for scheduled meetings",
        Off,
        ALL,
        &["1.1.2.6"],
        Medium,
    ),
    s(
        Some("schedule_meeting.use_pmi_for_instant_meetings"),
        &["use_pmi_for_instant_meetings"],
        &["use personal meeting id (pmi) when starting an instant meeting"],
        "the Personal Meeting ID reused for instant meetings",
        Off,
        ALL,
        &["1.1.2.7"],
        Medium,
    ),
    s(Some("in_meeting.watermark"), &["watermark"], &["add watermark"], "watermark on shared content", On, ALL, &["1.1.2.8"], Low),
    s(
        Some("schedule_meeting.not_store_meeting_topic"),
        &["not_store_meeting_topic"],
        &["always display \"zoom meeting\" as the meeting topic"],
        "\"Zoom Meeting\" shown instead of the topic",
        On,
        ALL,
        &["1.1.2.10"],
        Low,
    ),
    s(
        Some("schedule_meeting.mute_upon_entry"),
        &["mute_upon_entry"],
        &["mute participants upon entry"],
        "participants muted on entry",
        On,
        ALL,
        &["1.1.2.12"],
        Low,
    ),
    // In the meeting.
    s(
        Some("in_meeting.e2e_encryption"),
        &["e2e_encryption"],
        &["require encryption for 3rd party endpoints (sip/h.323)", "require encryption for 3rd party endpoints (h323/sip)"],
        "encryption required for SIP/H.323 endpoints",
        On,
        ALL,
        &["1.1.3.7"],
        Medium,
    ),
    s(
        Some("meeting_security.end_to_end_encrypted_meetings"),
        &["end_to_end_encrypted_meetings"],
        &["allow use of end-to-end encryption", "end-to-end encryption"],
        "end-to-end encryption allowed",
        On,
        ALL,
        &[],
        Low,
    ),
    s(Some("in_meeting.chat"), &["chat"], &[], "chat visible to everyone", Off, ALL, &["1.1.3.1.1"], Low),
    s(
        Some("in_meeting.private_chat"),
        &["private_chat"],
        &["private chat"],
        "private 1:1 chat between participants",
        Off,
        ALL,
        &["1.1.3.8"],
        Low,
    ),
    s(
        Some("in_meeting.auto_saving_chat"),
        &["auto_saving_chat"],
        &["auto saving chats"],
        "chats saved automatically",
        On,
        ALL,
        &["1.1.3.9"],
        Low,
    ),
    s(
        Some("in_meeting.entry_exit_chime"),
        &["entry_exit_chime"],
        &[],
        "a chime when someone joins or leaves (host, everyone, nobody)",
        Ordered(&["host", "all", "none"]),
        ALL,
        &["1.1.3.2.1", "1.1.3.2.2"],
        Low,
    ),
    s(
        Some("in_meeting.record_play_own_voice"),
        &["record_play_own_voice"],
        &[],
        "phone participants record their name",
        On,
        ALL,
        &["1.1.3.2.3"],
        Low,
    ),
    s(
        Some("in_meeting.file_transfer"),
        &["file_transfer"],
        &["file transfer", "send files via meeting chat"],
        "file transfer in meetings",
        Off,
        ALL,
        &["1.1.3.3.1"],
        Medium,
    ),
    s(
        Some("in_meeting.screen_sharing"),
        &["screen_sharing"],
        &["screen sharing"],
        "screen sharing available",
        On,
        ALL,
        &["1.1.3.4.1"],
        Low,
    ),
    s(
        Some("in_meeting.who_can_share_screen"),
        &["who_can_share_screen"],
        &[],
        "who can share their screen (host, everyone)",
        Ordered(&["host", "all"]),
        ALL,
        &["1.1.3.4.2"],
        Medium,
    ),
    s(
        Some("in_meeting.who_can_share_screen_when_someone_is_sharing"),
        &["who_can_share_screen_when_someone_is_sharing"],
        &[],
        "who can start sharing while another shares (host, everyone)",
        Ordered(&["host", "all"]),
        ALL,
        &["1.1.3.4.3"],
        Medium,
    ),
    s(
        Some("in_meeting.disable_screen_sharing_for_in_meeting_guests"),
        &["disable_screen_sharing_for_in_meeting_guests"],
        &["disable desktop screen sharing for meetings you host when guests are in the meeting"],
        "no screen sharing while guests are in",
        On,
        ALL,
        &[],
        Medium,
    ),
    s(Some("in_meeting.annotation"), &["annotation"], &["annotation"], "annotation on shared screens", Off, ALL, &["1.1.3.5.1"], Low),
    s(Some("in_meeting.whiteboard"), &["whiteboard"], &["whiteboard", "zoom whiteboard"], "whiteboard", Off, ALL, &["1.1.3.6.1"], Low),
    s(
        Some("in_meeting.remote_control"),
        &["remote_control"],
        &["remote control"],
        "remote control by participants",
        Off,
        ALL,
        &["1.1.3.16"],
        Medium,
    ),
    s(Some("in_meeting.remote_support"), &["remote_support"], &["remote support"], "remote support", Off, ALL, &[], Medium),
    s(
        Some("in_meeting.far_end_camera_control"),
        &["far_end_camera_control"],
        &["far end camera control"],
        "another participant may control a camera",
        Off,
        ALL,
        &["1.1.4.9"],
        Medium,
    ),
    s(
        Some("in_meeting.auto_answer"),
        &["auto_answer"],
        &["auto-answer group in chat"],
        "calls from chat contacts answered with audio and video",
        Off,
        ALL,
        &["1.1.4.11"],
        Medium,
    ),
    s(
        Some("in_meeting.allow_live_streaming"),
        &["allow_live_streaming"],
        &["allow live streaming meetings"],
        "meetings may be live-streamed",
        Off,
        ALL,
        &["1.1.4.15"],
        Medium,
    ),
    s(
        Some("in_meeting.allow_participants_to_rename"),
        &["allow_participants_to_rename"],
        &["allow participants to rename themselves"],
        "participants may rename themselves",
        Off,
        ALL,
        &["1.1.3.20"],
        Low,
    )
    .note("CIS 1.1.3.20 asks for on; zoomwatch counts off as secure: a rename in a meeting is how impersonation starts"),
    s(
        Some("in_meeting.allow_users_to_delete_messages_in_meeting_chat"),
        &["allow_users_to_delete_messages_in_meeting_chat"],
        &["allow users to delete messages in meeting chat"],
        "participants may delete chat messages",
        Off,
        ALL,
        &[],
        Low,
    ),
    s(Some("in_meeting.meeting_reactions"), &["meeting_reactions"], &[], "reactions", Off, ALL, &["1.1.3.18"], Low),
    s(Some("in_meeting.feedback"), &["feedback"], &[], "feedback to Zoom", On, ALL, &["1.1.3.10"], Low),
    s(Some("in_meeting.co_host"), &["co_host"], &["co-host"], "co-hosts", On, ALL, &["1.1.3.11"], Low),
    s(Some("in_meeting.polling"), &["polling"], &[], "polls", On, ALL, &["1.1.3.12"], Low),
    s(
        Some("in_meeting.show_meeting_control_toolbar"),
        &["show_meeting_control_toolbar"],
        &["always show meeting control toolbar"],
        "meeting controls always shown",
        On,
        ALL,
        &["1.1.3.13"],
        Low,
    ),
    s(
        Some("in_meeting.allow_show_zoom_windows"),
        &["allow_show_zoom_windows"],
        &["show zoom windows during screen share"],
        "Zoom windows shown during screen share",
        On,
        ALL,
        &["1.1.3.14"],
        Low,
    ),
    s(Some("in_meeting.breakout_room"), &["breakout_room"], &["breakout room"], "breakout rooms", On, ALL, &["1.1.4.2.1"], Low),
    s(
        Some("in_meeting.virtual_background"),
        &["virtual_background"],
        &["virtual background"],
        "virtual backgrounds",
        On,
        ALL,
        &["1.1.4.3.1"],
        Low,
    ),
    s(
        Some("in_meeting.virtual_background_settings.allow_videos"),
        &[],
        &[],
        "videos as virtual backgrounds",
        Off,
        ALL,
        &["1.1.4.3.2"],
        Low,
    ),
    s(
        Some("in_meeting.virtual_background_settings.allow_upload_custom"),
        &[],
        &[],
        "custom virtual backgrounds uploaded by users",
        Off,
        ALL,
        &["1.1.4.3.3"],
        Low,
    ),
    s(
        Some("in_meeting.p2p_ports"),
        &["p2p_ports"],
        &["listening ports range"],
        "a custom listening ports range",
        Off,
        ALL,
        &["1.1.4.4.2"],
        Low,
    ),
    s(Some("in_meeting.closed_caption"), &["closed_caption"], &["closed captioning"], "closed captioning", Off, ALL, &["1.1.4.7"], Low),
    s(
        Some("in_meeting.sending_default_email_invites"),
        &["sending_default_email_invites"],
        &["only show default email when sending email invites"],
        "only the default email client for invites",
        On,
        ALL,
        &["1.1.4.12"],
        Low,
    ),
    s(
        Some("in_meeting.use_html_format_email"),
        &["use_html_format_email"],
        &["use html format email for outlook plugin"],
        "HTML invitations from the Outlook plugin",
        On,
        ALL,
        &["1.1.4.13"],
        Low,
    ),
    s(
        Some("in_meeting.show_a_join_from_your_browser_link"),
        &["show_a_join_from_your_browser_link", "show_browser_join_link"],
        &["show a \"join from your browser\" link"],
        "a join-from-browser link",
        On,
        ALL,
        &["1.1.4.14"],
        Low,
    ),
    s(
        Some("in_meeting.request_permission_to_unmute_participants"),
        &["request_permission_to_unmute_participants"],
        &["request permission to unmute participants"],
        "hosts ask before unmuting participants",
        On,
        ALL,
        &["1.1.4.17"],
        Low,
    ),
    // Email notifications.
    s(
        Some("email_notification.cloud_recording_available_reminder"),
        &["cloud_recording_available_reminder"],
        &[],
        "email when a cloud recording is available",
        On,
        ALL,
        &["1.1.6.1.1"],
        Low,
    ),
    s(
        Some("email_notification.jbh_reminder"),
        &["jbh_reminder"],
        &[],
        "email when attendees join before the host",
        On,
        ALL,
        &["1.1.6.2"],
        Low,
    ),
    s(
        Some("email_notification.cancel_meeting_reminder"),
        &["cancel_meeting_reminder"],
        &[],
        "email when a meeting is cancelled",
        On,
        ALL,
        &["1.1.6.3"],
        Low,
    ),
    s(
        Some("email_notification.alternative_host_reminder"),
        &["alternative_host_reminder"],
        &[],
        "email when an alternative host is set or removed",
        On,
        ALL,
        &["1.1.6.4"],
        Low,
    ),
    s(
        Some("email_notification.schedule_for_reminder"),
        &["schedule_for_reminder"],
        &[],
        "email when someone schedules a meeting for a host",
        On,
        ALL,
        &["1.1.6.5"],
        Low,
    ),
    // Recordings.
    s(Some("recording.local_recording"), &["local_recording"], &["local recording"], "local recording", On, ALL, &["1.2.1.1"], Low),
    s(Some("recording.cloud_recording"), &["cloud_recording"], &["cloud recording"], "cloud recording", On, ALL, &["1.2.2.1"], Low),
    s(
        Some("recording.record_speaker_view"),
        &["record_speaker_view"],
        &[],
        "active speaker recorded with the shared screen",
        On,
        ALL,
        &["1.2.2.2"],
        Low,
    ),
    s(
        Some("recording.record_gallery_view"),
        &["record_gallery_view"],
        &[],
        "gallery view recorded with the shared screen",
        On,
        ALL,
        &["1.2.2.3"],
        Low,
    ),
    s(Some("recording.record_audio_file"), &["record_audio_file"], &[], "an audio-only recording file", On, ALL, &["1.2.2.5"], Low),
    s(Some("recording.save_chat_text"), &["save_chat_text"], &[], "chat saved with the recording", On, ALL, &["1.2.2.6"], Low),
    s(Some("recording.show_timestamp"), &["show_timestamp"], &[], "a timestamp on recordings", On, ALL, &["1.2.3.1"], Low),
    s(
        Some("recording.auto_recording"),
        &["auto_recording"],
        &["automatic recording"],
        "meetings recorded automatically (cloud, local, none)",
        Ordered(&["cloud", "local", "none"]),
        ALL,
        &["1.2.4.1", "1.2.4.2"],
        Low,
    ),
    s(
        Some("recording.cloud_recording_download"),
        &["cloud_recording_download"],
        &["cloud recording downloads"],
        "cloud recordings downloadable",
        Off,
        ALL,
        &["1.2.5.1"],
        Medium,
    )
    .note(
        "CIS 1.2.5.1 asks for on; zoomwatch counts off as secure: a downloaded recording leaves the account's retention and access control",
    ),
    s(
        Some("recording.cloud_recording_download_host"),
        &["cloud_recording_download_host"],
        &["only the host can download cloud recordings"],
        "only the host can download cloud recordings",
        On,
        ALL,
        &["1.2.5.2"],
        Medium,
    ),
    s(
        Some("recording.recording_password_requirement.length"),
        &[],
        &[],
        "minimum recording passcode length",
        AtLeast(8),
        ALL,
        &["1.2.6.1"],
        Low,
    ),
    s(
        Some("recording.recording_password_requirement.have_letter"),
        &[],
        &[],
        "a letter in recording passcodes",
        On,
        ALL,
        &["1.2.6.2"],
        Low,
    ),
    s(
        Some("recording.recording_password_requirement.have_number"),
        &[],
        &[],
        "a number in recording passcodes",
        On,
        ALL,
        &["1.2.6.3"],
        Low,
    ),
    s(
        Some("recording.recording_password_requirement.have_special_character"),
        &[],
        &[],
        "a special character in recording passcodes",
        On,
        ALL,
        &["1.2.6.4"],
        Low,
    ),
    s(
        Some("recording.recording_password_requirement.only_allow_numeric"),
        &[],
        &[],
        "numeric-only recording passcodes",
        Off,
        ALL,
        &["1.2.6.5"],
        Low,
    ),
    s(
        Some("recording.recording_disclaimer"),
        &["recording_disclaimer"],
        &["recording disclaimer"],
        "a recording disclaimer",
        On,
        ALL,
        &["1.2.7.1"],
        Low,
    ),
    s(
        Some("recording.prevent_host_access_recording"),
        &["prevent_host_access_recording"],
        &["prevent hosts from accessing their cloud recordings"],
        "hosts kept from their cloud recordings",
        On,
        ALL,
        &["1.2.8"],
        Low,
    ),
    s(
        Some("recording.required_password_for_shared_cloud_recordings"),
        &["required_password_for_shared_cloud_recordings"],
        &["require passcode to access shared cloud recordings"],
        "a passcode for shared cloud recordings",
        On,
        ALL,
        &["1.2.10"],
        Medium,
    ),
    s(
        Some("recording.host_delete_cloud_recording"),
        &["host_delete_cloud_recording"],
        &["the host can delete cloud recordings"],
        "hosts may delete cloud recordings",
        Off,
        ALL,
        &["1.2.11"],
        Medium,
    ),
    s(
        Some("recording.allow_recovery_deleted_cloud_recordings"),
        &["allow_recovery_deleted_cloud_recordings"],
        &["allow recovery of deleted cloud recordings from trash"],
        "deleted cloud recordings recoverable from the trash",
        On,
        ALL,
        &["1.2.12"],
        Medium,
    ),
    // Signing in (account only).
    s(
        Some("security.sign_in_with_two_factor_auth"),
        &["sign_in_with_two_factor_auth"],
        &["sign in with two-factor authentication"],
        "two-factor authentication at sign-in (all, by role, by group, none)",
        Ordered(&["all", "role", "group", "none"]),
        ACCOUNT,
        &[],
        High,
    ),
    s(
        Some("security.sign_again_period_for_inactivity_on_client"),
        &["sign_again_period_for_inactivity_on_client"],
        &[],
        "sign in again after inactivity in the client (minutes, 0 never)",
        NonZero(15),
        ACCOUNT,
        &[],
        Low,
    ),
    s(
        Some("security.sign_again_period_for_inactivity_on_web"),
        &["sign_again_period_for_inactivity_on_web"],
        &[],
        "sign in again after inactivity on the web portal (minutes, 0 never)",
        NonZero(15),
        ACCOUNT,
        &[],
        Low,
    ),
    s(
        Some("security.password_requirement.minimum_password_length"),
        &["minimum_password_length"],
        &["have at least specified length of characters"],
        "minimum sign-in password length",
        AtLeast(9),
        ACCOUNT,
        &["3.1.1.1.1"],
        Medium,
    ),
    s(
        Some("security.password_requirement.have_special_character"),
        &[],
        &["have at least 1 special character"],
        "a special character in sign-in passwords",
        On,
        ACCOUNT,
        &["3.1.1.1.2"],
        Medium,
    ),
    s(
        Some("security.password_requirement.consecutive_characters_length"),
        &[],
        &["cannot contain consecutive characters"],
        "no long runs of consecutive characters in sign-in passwords",
        NonZero(4),
        ACCOUNT,
        &["3.1.1.1.3"],
        Medium,
    ),
    s(
        Some("security.password_requirement.weak_enhance_detection"),
        &[],
        &["use enhanced weak password detection"],
        "enhanced weak-password detection",
        On,
        ACCOUNT,
        &["3.1.1.1.4"],
        Medium,
    ),
    s(None, &[], &["include at least 1 letter"], "a letter in sign-in passwords", On, ACCOUNT, &[], Medium),
    s(None, &[], &["include at least 1 number"], "a number in sign-in passwords", On, ACCOUNT, &[], Medium),
    s(
        None,
        &[],
        &["include both uppercase and lowercase characters"],
        "upper and lower case in sign-in passwords",
        On,
        ACCOUNT,
        &[],
        Medium,
    ),
    s(None, &[], &["automatically sign users out after a specified time"], "automatic sign-out after a set time", On, ACCOUNT, &[], Medium),
    s(
        Some("security.signin_with_sso.enable"),
        &["signin_with_sso"],
        &["allow users to sign in with sso"],
        "sign-in with SSO",
        On,
        ACCOUNT,
        &[],
        Medium,
    ),
    s(
        Some("security.import_photos_from_devices"),
        &["import_photos_from_devices"],
        &["allow importing of photos from the photo library on the user's device"],
        "photos imported from users' devices",
        Off,
        ACCOUNT,
        &["3.1.1.3.2"],
        Low,
    ),
    s(
        Some("security.hide_billing_info"),
        &["hide_billing_info"],
        &["hide billing information from administrators"],
        "billing information hidden from admins",
        On,
        ACCOUNT,
        &["3.1.1.3.3"],
        Low,
    ),
    // Other ways in: enabling one widens who can sign in as a user of the account.
    s(None, &[], &["allow users to sign in with google"], "sign-in with Google", Off, ACCOUNT, &[], Medium),
    s(None, &[], &["allow users to sign in with apple id"], "sign-in with Apple ID", Off, ACCOUNT, &[], Medium),
    s(None, &[], &["allow users to sign in with facebook"], "sign-in with Facebook", Off, ACCOUNT, &[], Medium),
    s(None, &[], &["allow users to sign in with work email"], "sign-in with work email and password", Off, ACCOUNT, &[], Low),
];

/// The entry a portal label names (any case, surrounding space ignored).
pub fn by_label(label: &str) -> Option<&'static SettingInfo> {
    let l = label.trim().to_ascii_lowercase();
    SETTINGS.iter().find(|s| s.labels.contains(&l.as_str()))
}

/// The entry a settings path names: the API path, a path whose last part is one of the
/// entry's aliases in a section where that setting lives (webhooks and group or user
/// settings write the same setting under other sections), with or without a leading
/// `settings.` (as records write webhook changes).
pub fn by_path(path: &str) -> Option<&'static SettingInfo> {
    let p = path.strip_prefix("settings.").unwrap_or(path);
    let leaf = p.rsplit('.').next().unwrap_or(p);
    let section = p.split_once('.').map(|(s, _)| s);
    SETTINGS
        .iter()
        .find(|s| s.api == Some(p))
        .or_else(|| SETTINGS.iter().find(|s| s.aliases.contains(&p)))
        .or_else(|| SETTINGS.iter().find(|s| s.aliases.contains(&leaf) && section.is_none_or(|sec| same_home(s, sec))))
        .or_else(|| SETTINGS.iter().find(|s| s.api.is_none() && s.labels.iter().any(|l| slug_eq(l, p))))
}

/// Whether a setting found under `section` can be this entry: its own section, or one of
/// the meeting sections Zoom moves settings between (account, group and user views
/// differ: `meeting_security.waiting_room` is `in_meeting.waiting_room` for a group).
fn same_home(info: &SettingInfo, section: &str) -> bool {
    const MEETING: [&str; 3] = ["in_meeting", "meeting_security", "schedule_meeting"];
    let home = info.api.and_then(|a| a.split_once('.')).map(|(s, _)| s);
    home.is_none_or(|h| h == section || (MEETING.contains(&h) && MEETING.contains(&section)))
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

/// Where `v` stands in an ordered choice (0 = most secure).
fn position(order: &[&str], v: &Value) -> Option<usize> {
    let text = match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    text.and_then(|t| order.iter().position(|o| o.eq_ignore_ascii_case(&t)))
        .or_else(|| as_bool(v).map(|on| if on { 0 } else { order.len() - 1 }))
}

/// How secure `value` is for `info`, as a number to compare (higher is more secure).
fn rank(info: &SettingInfo, v: &Value) -> Option<i64> {
    match info.secure {
        On => as_bool(v).map(i64::from),
        Off => as_bool(v).map(|b| i64::from(!b)),
        AtLeast(_) => as_number(v),
        Within(lo, hi) => as_number(v).map(|n| i64::from((lo..=hi).contains(&n))),
        NonZero(_) => as_number(v).map(|n| i64::from(n != 0)),
        Ordered(order) => position(order, v).map(|i| -(i64::try_from(i).unwrap_or(0))),
    }
}

/// Whether `value` is the secure value (`None` when it cannot be told).
pub fn is_secure(info: &SettingInfo, value: &Value) -> Option<bool> {
    match info.secure {
        On | Off | Within(..) | NonZero(_) => rank(info, value).map(|r| r == 1),
        AtLeast(min) => as_number(value).map(|n| n >= min),
        Ordered(order) => position(order, value).map(|i| i == 0),
    }
}

/// What moving `info` from `old` to `new` does.
pub fn judge(info: &SettingInfo, old: &Value, new: &Value) -> Direction {
    match (rank(info, old), rank(info, new)) {
        (Some(a), Some(b)) if b < a => Direction::Weakened,
        (Some(a), Some(b)) if b > a => Direction::Hardened,
        _ => Direction::Neither,
    }
}

/// The entries with a CIS control.
pub fn cis_controls() -> impl Iterator<Item = (&'static str, &'static SettingInfo)> {
    SETTINGS.iter().flat_map(|s| s.cis.iter().map(move |c| (*c, s)))
}

/// The entry a policy names: an API path, a CIS control id, or a portal label.
pub fn by_name(name: &str) -> Option<&'static SettingInfo> {
    let n = name.trim();
    let p = n.strip_prefix("settings.").unwrap_or(n);
    SETTINGS.iter().find(|s| s.api == Some(p)).or_else(|| cis_controls().find(|(c, _)| *c == n).map(|(_, s)| s)).or_else(|| by_label(n))
}

/// The README's settings table (Markdown), generated from the catalogue so the two
/// agree (`shared/tests/oplog.rs` checks it).
pub fn markdown_table() -> String {
    let mut out = String::from("| setting | API path | secure | where | CIS | weakening |\n|---|---|---|---|---|---|\n");
    for info in SETTINGS {
        let mut secure = match info.secure {
            Ordered(order) => order.join(" > "),
            _ => info.expected(),
        };
        if !info.note.is_empty() {
            secure.push_str(" ¹");
        }
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
            info.title.replace('|', "\\|"),
            scopes.join(", "),
            if info.scopes.lockable { " (lockable)" } else { "" },
            info.cis.join(", "),
            info.severity.as_str()
        ));
    }
    out.push_str("\n¹ zoomwatch's secure value differs from the benchmark's:\n");
    for info in SETTINGS.iter().filter(|s| !s.note.is_empty()) {
        out.push_str(&format!("- `{}`: {}\n", info.key(), info.note));
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
                Within(lo, hi) => (json!(lo), json!(hi + 1)),
                NonZero(n) => (json!(n), json!(0)),
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
