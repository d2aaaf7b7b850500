//! The response actions and lookups, each with the exact call it makes and the one
//! granular scope it needs (`../README.md` lists them for setting up the Zoom app).
//! Sources: Zoom's OpenAPI specs and granular-scope list; `participant.remove` is not in
//! Zoom's published reference (see [`Action::RemoveParticipant`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::request::{ApiRequest, Method, meeting_segment, segment};
use crate::settings::SettingsScope;

/// A registrant, by id or by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registrant {
    /// Registrant id.
    Id(String),
    /// Registrant email.
    Email(String),
}

impl Registrant {
    /// An email when it contains `@`, else an id.
    pub fn parse(s: &str) -> Self {
        if s.contains('@') { Self::Email(s.to_owned()) } else { Self::Id(s.to_owned()) }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Id(s) | Self::Email(s) => s,
        }
    }
}

/// Something that changes the account. Every one is confirmed, audited, and reversible
/// only by hand in Zoom. On the wire (the action broker's requests) an action is an
/// object tagged by its command name: `{"action":"end-meeting","meeting":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// End a meeting for everyone: `PUT /meetings/{id}/status {"action":"end"}`.
    EndMeeting {
        /// Meeting number or UUID.
        meeting: String,
    },
    /// Harden a meeting's settings: waiting room on, join-before-host off, optionally
    /// sign-in required and a new passcode. Zoom refuses this for a meeting that has
    /// started (code 3000): it protects the next start or occurrence.
    HardenMeeting {
        /// Meeting number.
        meeting: String,
        /// New passcode.
        passcode: Option<String>,
        /// Require signed-in (authenticated) participants.
        require_auth: bool,
    },
    /// Remove a participant from a live meeting:
    /// `PATCH /live_meetings/{id}/events {"method":"participant.remove",…}`. Not in Zoom's
    /// published reference (only in the 2026 API-hub spec): Zoom's answer decides.
    RemoveParticipant {
        /// Meeting number or UUID.
        meeting: String,
        /// The participant's `participant_uuid` (from the join webhook or the Dashboard).
        participant_uuid: String,
    },
    /// Deny a registrant: `PUT /meetings/{id}/registrants/status {"action":"deny",…}`.
    DenyRegistrant {
        /// Meeting number.
        meeting: String,
        /// Who.
        registrant: Registrant,
    },
    /// Deactivate a user: `PUT /users/{id}/status {"action":"deactivate"}`.
    DeactivateUser {
        /// User id or email.
        user: String,
    },
    /// Sign a user out of every Zoom session: `DELETE /users/{id}/token`.
    SignOutUser {
        /// User id or email.
        user: String,
    },
    /// Set one account or group setting (back to its compliant value):
    /// `PATCH /accounts/me/settings` or `/groups/{id}/settings`, with the `option` its
    /// section needs and a body holding that one setting only.
    #[serde(rename = "revert-setting")]
    SetSetting {
        /// Account or group.
        scope: SettingsScope,
        /// The API path (`meeting_security.waiting_room`).
        path: String,
        /// The value to set.
        value: Value,
    },
}

/// A meeting number (digits) or an instance UUID (base64, 16 to 64 characters, not all
/// digits).
fn check_meeting(m: &str) -> Result<(), String> {
    let digits = !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit());
    let uuid = (16..=64).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
    if (digits && m.len() <= 20) || (uuid && !digits) {
        Ok(())
    } else {
        Err(format!("{m:?} is not a meeting number (digits) or meeting UUID"))
    }
}

/// A user: an email, or a Zoom user id (letters, digits, `-`, `_`). `me` names the
/// app's own account and `.`/`..` walk the URL: both refused.
fn check_user(u: &str, what: &str) -> Result<(), String> {
    let email = u.len() <= 254
        && u.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/');
    let id = (2..=64).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if (email || id) && !u.eq_ignore_ascii_case("me") { Ok(()) } else { Err(format!("{u:?} is not a {what} id or email")) }
}

/// An opaque id Zoom gave (participant uuid, group id): no path characters, not `.`/`..`.
fn check_opaque(s: &str, what: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_{}=+".contains(&b))
        && !s.eq_ignore_ascii_case("me");
    if ok { Ok(()) } else { Err(format!("{s:?} is not a {what}")) }
}

impl Action {
    /// Whether the targets are what Zoom's ids look like: nothing is sent otherwise
    /// (`.`, `..` and `me` would act on another resource than the one named).
    pub fn check(&self) -> Result<(), String> {
        match self {
            Self::EndMeeting { meeting } | Self::HardenMeeting { meeting, .. } => check_meeting(meeting),
            Self::RemoveParticipant { meeting, participant_uuid } => {
                check_meeting(meeting)?;
                check_opaque(participant_uuid, "participant uuid")
            }
            Self::DenyRegistrant { meeting, registrant } => {
                check_meeting(meeting)?;
                check_user(registrant.as_str(), "registrant")
            }
            Self::DeactivateUser { user } | Self::SignOutUser { user } => check_user(user, "user"),
            Self::SetSetting { scope, path, .. } => {
                if let SettingsScope::Group(g) = scope {
                    check_opaque(g, "group id")?;
                }
                if path.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')) {
                    Ok(())
                } else {
                    Err(format!("{path:?} is not a settings path"))
                }
            }
        }
    }

    /// The command name (`end-meeting`), also the audit record's `action`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::EndMeeting { .. } => "end-meeting",
            Self::HardenMeeting { .. } => "harden-meeting",
            Self::RemoveParticipant { .. } => "remove-participant",
            Self::DenyRegistrant { .. } => "deny-registrant",
            Self::DeactivateUser { .. } => "deactivate-user",
            Self::SignOutUser { .. } => "sign-out-user",
            Self::SetSetting { .. } => "revert-setting",
        }
    }

    /// The exact call.
    pub fn request(&self) -> ApiRequest {
        match self {
            Self::EndMeeting { meeting } => {
                ApiRequest::new(Method::Put, format!("/meetings/{}/status", meeting_segment(meeting))).with_body(json!({"action": "end"}))
            }
            Self::HardenMeeting { meeting, passcode, require_auth } => {
                let mut settings = json!({"waiting_room": true, "join_before_host": false});
                if *require_auth {
                    settings["meeting_authentication"] = json!(true);
                }
                let mut body = json!({"settings": settings});
                if let Some(p) = passcode {
                    body["password"] = json!(p);
                }
                ApiRequest::new(Method::Patch, format!("/meetings/{}", meeting_segment(meeting))).with_body(body)
            }
            Self::RemoveParticipant { meeting, participant_uuid } => {
                ApiRequest::new(Method::Patch, format!("/live_meetings/{}/events", meeting_segment(meeting)))
                    .with_body(json!({"method": "participant.remove", "params": {"participant_uuid": participant_uuid}}))
            }
            Self::DenyRegistrant { meeting, registrant } => {
                let who = match registrant {
                    Registrant::Id(id) => json!({"id": id}),
                    Registrant::Email(e) => json!({"email": e}),
                };
                ApiRequest::new(Method::Put, format!("/meetings/{}/registrants/status", meeting_segment(meeting)))
                    .with_body(json!({"action": "deny", "registrants": [who]}))
            }
            Self::DeactivateUser { user } => {
                ApiRequest::new(Method::Put, format!("/users/{}/status", segment(user))).with_body(json!({"action": "deactivate"}))
            }
            Self::SignOutUser { user } => ApiRequest::new(Method::Delete, format!("/users/{}/token", segment(user))),
            Self::SetSetting { scope, path, value } => scope.set_one(path, value),
        }
    }

    /// The granular scope (admin level) an S2S app needs for it.
    pub fn scope(&self) -> &'static str {
        match self {
            Self::EndMeeting { .. } => "meeting:update:status:admin",
            Self::HardenMeeting { .. } => "meeting:update:meeting:admin",
            Self::RemoveParticipant { .. } => "meeting:update:in_meeting_controls:admin",
            Self::DenyRegistrant { .. } => "meeting:update:registrant_status:admin",
            Self::DeactivateUser { .. } => "user:update:status:admin",
            Self::SignOutUser { .. } => "user:delete:token:admin",
            Self::SetSetting { scope, .. } => scope.write_scope(),
        }
    }

    /// The meeting acted on.
    pub fn meeting(&self) -> Option<&str> {
        match self {
            Self::EndMeeting { meeting }
            | Self::HardenMeeting { meeting, .. }
            | Self::RemoveParticipant { meeting, .. }
            | Self::DenyRegistrant { meeting, .. } => Some(meeting),
            _ => None,
        }
    }

    /// The user acted on (a registrant counts).
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::DeactivateUser { user } | Self::SignOutUser { user } => Some(user),
            Self::DenyRegistrant { registrant, .. } => Some(registrant.as_str()),
            _ => None,
        }
    }

    /// The participant acted on.
    pub fn participant_uuid(&self) -> Option<&str> {
        match self {
            Self::RemoveParticipant { participant_uuid, .. } => Some(participant_uuid),
            _ => None,
        }
    }

    /// One line for a confirmation prompt: what will happen to whom.
    pub fn summary(&self) -> String {
        match self {
            Self::EndMeeting { meeting } => format!("end meeting {meeting} for every participant"),
            Self::HardenMeeting { meeting, passcode, require_auth } => format!(
                "harden meeting {meeting}: waiting room on, join before host off{}{}",
                if *require_auth { ", sign-in required" } else { "" },
                if passcode.is_some() { ", new passcode" } else { "" }
            ),
            Self::RemoveParticipant { meeting, participant_uuid } => {
                format!("remove participant {participant_uuid} from meeting {meeting}")
            }
            Self::DenyRegistrant { meeting, registrant } => format!("deny registrant {} of meeting {meeting}", registrant.as_str()),
            Self::DeactivateUser { user } => format!("deactivate user {user} (they cannot sign in until reactivated)"),
            Self::SignOutUser { user } => format!("sign user {user} out of every Zoom session"),
            Self::SetSetting { scope, path, value } => format!("set {path} to {value} in the {} settings", scope.name()),
        }
    }
}

/// Read-only calls made on an analyst's request (never polled in a loop). On the wire:
/// `{"lookup":"user","user":"…"}`, `{"lookup":"live-participants","meeting":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "lookup", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Lookup {
    /// A user's role, type and status: `GET /users/{id}`.
    User {
        /// User id or email.
        user: String,
    },
    /// Who is in a meeting now, from the Dashboard API (a Heavy call, Business plans and
    /// up): `GET /metrics/meetings/{id}/participants?type=live`.
    LiveParticipants {
        /// Meeting number or UUID.
        meeting: String,
    },
}

impl Lookup {
    /// Name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::User { .. } => "user lookup",
            Self::LiveParticipants { .. } => "live participants",
        }
    }

    /// The exact call.
    pub fn request(&self) -> ApiRequest {
        match self {
            Self::User { user } => ApiRequest::new(Method::Get, format!("/users/{}", segment(user))),
            Self::LiveParticipants { meeting } => {
                ApiRequest::new(Method::Get, format!("/metrics/meetings/{}/participants", meeting_segment(meeting)))
                    .with_query("type", "live")
                    .with_query("page_size", "300")
            }
        }
    }

    /// The granular scope it needs.
    pub fn scope(&self) -> &'static str {
        match self {
            Self::User { .. } => "user:read:user:admin",
            Self::LiveParticipants { .. } => "dashboard:read:list_meeting_participants:admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_makes_the_documented_call() {
        let cases = [
            (Action::EndMeeting { meeting: "845".into() }, "PUT /meetings/845/status {\"action\":\"end\"}"),
            (
                Action::HardenMeeting { meeting: "845".into(), passcode: None, require_auth: true },
                "PATCH /meetings/845 {\"settings\":{\"join_before_host\":false,\"meeting_authentication\":true,\"waiting_room\":true}}",
            ),
            (
                Action::RemoveParticipant { meeting: "845".into(), participant_uuid: "AB-1".into() },
                "PATCH /live_meetings/845/events {\"method\":\"participant.remove\",\"params\":{\"participant_uuid\":\"AB-1\"}}",
            ),
            (
                Action::DenyRegistrant { meeting: "845".into(), registrant: Registrant::parse("x@y.example") },
                "PUT /meetings/845/registrants/status {\"action\":\"deny\",\"registrants\":[{\"email\":\"x@y.example\"}]}",
            ),
            (Action::DeactivateUser { user: "x@y.example".into() }, "PUT /users/x%40y.example/status {\"action\":\"deactivate\"}"),
            (Action::SignOutUser { user: "u1".into() }, "DELETE /users/u1/token"),
        ];
        for (action, want) in cases {
            assert_eq!(action.request().to_string(), want, "{}", action.name());
        }
    }

    #[test]
    fn targets_that_would_walk_the_url_are_refused() {
        for a in [
            Action::SignOutUser { user: ".".into() },
            Action::SignOutUser { user: "..".into() },
            Action::DeactivateUser { user: "me".into() },
            Action::DeactivateUser { user: "a/b@x.example".into() },
            Action::EndMeeting { meeting: "..".into() },
            Action::RemoveParticipant { meeting: "84512345678".into(), participant_uuid: "../x".into() },
            Action::SetSetting { scope: SettingsScope::Group("..".into()), path: "in_meeting.chat".into(), value: json!(false) },
        ] {
            assert!(a.check().is_err(), "{a:?}");
        }
        for a in [
            Action::SignOutUser { user: "hPk8-Usr-0017AbCdEfGh".into() },
            Action::DeactivateUser { user: "jane.doe+zoom@acme.example".into() },
            Action::EndMeeting { meeting: "84512345678".into() },
            Action::EndMeeting { meeting: "aLlH4nds/Q3+2026xYz0w==".into() },
            Action::RemoveParticipant { meeting: "84512345678".into(), participant_uuid: "67C1A429-1476-BE1C-7324-EDCA76B69406".into() },
        ] {
            assert!(a.check().is_ok(), "{a:?}");
        }
    }

    #[test]
    fn registrants_by_id_or_email() {
        assert_eq!(Registrant::parse("9tboDiHUQAeOnbmudzWa5g"), Registrant::Id("9tboDiHUQAeOnbmudzWa5g".into()));
        let a = Action::DenyRegistrant { meeting: "1".into(), registrant: Registrant::parse("9tbo") };
        assert_eq!(a.request().body.unwrap()["registrants"][0]["id"], "9tbo");
    }

    #[test]
    fn live_participants_lookup() {
        let l = Lookup::LiveParticipants { meeting: "aLlH4nds/Q3+2026xYz0w==".into() };
        assert_eq!(l.request().url(""), "/metrics/meetings/aLlH4nds%2FQ3%2B2026xYz0w%3D%3D/participants?type=live&page_size=300");
    }

    #[test]
    fn actions_cross_the_wire_by_their_command_names() {
        let all = [
            Action::EndMeeting { meeting: "85746065432".into() },
            Action::HardenMeeting { meeting: "85746065432".into(), passcode: Some("n3w".into()), require_auth: true },
            Action::RemoveParticipant { meeting: "85746065432".into(), participant_uuid: "P-1".into() },
            Action::DenyRegistrant { meeting: "85746065432".into(), registrant: Registrant::parse("x@example.org") },
            Action::DeactivateUser { user: "jdoe@example.com".into() },
            Action::SignOutUser { user: "KDcuGIm1QgePTO8WbOqwIQ".into() },
            Action::SetSetting {
                scope: SettingsScope::Group("g1".into()),
                path: "meeting_security.waiting_room".into(),
                value: json!(true),
            },
        ];
        for a in all {
            let wire = serde_json::to_value(&a).unwrap();
            assert_eq!(wire["action"], a.name(), "{wire}");
            assert_eq!(serde_json::from_value::<Action>(wire).unwrap(), a);
        }
        let typo = json!({"action": "harden-meeting", "meeting": "1", "require_auht": true});
        assert!(serde_json::from_value::<Action>(typo).is_err(), "an unknown field is refused, not ignored");
        assert!(serde_json::from_value::<Action>(json!({"action": "delete-account"})).is_err());
        let scope = json!({"action": "revert-setting", "scope": "galaxy", "path": "p", "value": 1});
        assert!(serde_json::from_value::<Action>(scope).is_err());
        let l = Lookup::User { user: "a@b.co".into() };
        assert_eq!(serde_json::from_value::<Lookup>(serde_json::to_value(&l).unwrap()).unwrap(), l);
    }
}
