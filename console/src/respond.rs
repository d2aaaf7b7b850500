//! The console's response menu (key `r`): which Zoom actions and lookups fit the
//! selection (an alert, a record, a meeting, a roster line), and the reconciliation of
//! a roster with Zoom's own list of who is in the meeting. Pure: the state machine asks,
//! the shell ([`crate::app`]) makes the calls.

use serde_json::Value;
use zoomwatch_shared::record::Participant;
use zoomwatch_shared::roster::{Meeting, Presence};
use zoomwatch_zoomapi::{Action, Lookup, Registrant};

/// What the selection is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// Meeting number.
    pub meeting_id: Option<String>,
    /// Meeting instance UUID.
    pub meeting_uuid: Option<String>,
    /// Topic, for the dialog.
    pub topic: Option<String>,
    /// The participant, when one is selected.
    pub participant: Option<Participant>,
    /// A Zoom user (id or email) to act on, when the selection names one.
    pub user: Option<String>,
    /// The alert responded to.
    pub alert_id: Option<String>,
    /// Settings out of policy that can be set back: (scope, API path).
    pub settings: Vec<(String, String)>,
    /// A raid's joiners still in the meeting (with their participant uuid).
    pub raiders: Vec<Participant>,
}

impl Subjects {
    /// Adds the participant and, when they have a Zoom identity, them as a user.
    pub fn with_participant(mut self, p: &Participant) -> Self {
        if self.user.is_none() && !p.guest {
            self.user = p.zoom_user_id.clone().or_else(|| p.email.clone());
        }
        self.participant = Some(p.clone());
        self
    }

    /// The meeting as Zoom's API takes it: the number when known, else the UUID.
    pub fn meeting(&self) -> Option<&str> {
        self.meeting_id.as_deref().or(self.meeting_uuid.as_deref())
    }
}

/// One entry of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Changes the account: confirmed first, audited.
    Act(Action),
    /// Several actions of one kind, confirmed together, each audited (removing every
    /// raider of a raid).
    ActAll {
        /// The menu line.
        label: String,
        /// The actions, in order.
        actions: Vec<Action>,
    },
    /// Read-only.
    Look(Lookup),
}

impl Item {
    /// The menu line.
    pub fn label(&self) -> String {
        match self {
            Self::Act(a) => a.summary(),
            Self::ActAll { label, .. } => label.clone(),
            Self::Look(Lookup::User { user }) => format!("look up user {user} (role, type, status)"),
            Self::Look(Lookup::LiveParticipants { meeting }) => format!("ask Zoom who is in meeting {meeting} now (Dashboard)"),
        }
    }
}

/// The menu over the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// What it is about, one line.
    pub subject: String,
    /// The entries.
    pub items: Vec<Item>,
    /// Selected entry.
    pub cursor: usize,
    /// The alert responded to.
    pub alert_id: Option<String>,
}

/// The actions and lookups that fit `s`, most urgent first.
pub fn menu(s: &Subjects) -> Menu {
    let mut items = Vec::new();
    let mut subject = Vec::new();
    for (scope, path) in &s.settings {
        let info = zoomwatch_shared::zoom_settings::by_name(path);
        if let (Ok(scope), Some(value)) = (zoomwatch_zoomapi::SettingsScope::parse(scope), info.and_then(|i| i.secure_value())) {
            subject.push(format!("{path} in {}", scope.name()));
            items.push(Item::Act(Action::SetSetting { scope, path: path.clone(), value }));
        }
    }
    if let Some(m) = s.meeting() {
        let topic = s.topic.as_deref().unwrap_or("");
        subject.push(format!("meeting {m} {topic}").trim().to_owned());
        // Ended by its instance when known: the number would end whatever instance of a
        // recurring meeting or PMI is live now, maybe not the one the alert is about.
        let instance = s.meeting_uuid.as_deref().unwrap_or(m);
        items.push(Item::Act(Action::EndMeeting { meeting: instance.to_owned() }));
        // A raid: every raider still in, one call each (Zoom removes one at a time).
        let actions: Vec<Action> = s
            .raiders
            .iter()
            .filter_map(|p| p.participant_uuid.clone())
            .map(|uuid| Action::RemoveParticipant { meeting: instance.to_owned(), participant_uuid: uuid })
            .collect();
        if actions.len() > 1 {
            let label = format!("remove all {} raiders still in the meeting (one call each)", actions.len());
            items.push(Item::ActAll { label, actions });
        }
    }
    if let (Some(p), Some(m)) = (&s.participant, s.meeting()) {
        let who = p.name.clone().or_else(|| p.email.clone()).unwrap_or_else(|| "participant".into());
        subject.push(format!("participant {who}"));
        if let Some(uuid) = &p.participant_uuid {
            items.push(Item::Act(Action::RemoveParticipant { meeting: m.to_owned(), participant_uuid: uuid.clone() }));
        }
        let registrant = p.registrant_id.clone().map(Registrant::Id).or_else(|| p.email.clone().map(Registrant::Email));
        if let (Some(r), Some(id)) = (registrant, &s.meeting_id) {
            items.push(Item::Act(Action::DenyRegistrant { meeting: id.clone(), registrant: r }));
        }
    }
    if let Some(u) = &s.user {
        if s.participant.is_none() {
            subject.push(format!("user {u}"));
        }
        items.push(Item::Act(Action::SignOutUser { user: u.clone() }));
        items.push(Item::Act(Action::DeactivateUser { user: u.clone() }));
    }
    if let Some(id) = &s.meeting_id {
        items.push(Item::Act(Action::HardenMeeting { meeting: id.clone(), passcode: None, require_auth: true }));
    }
    if let Some(m) = s.meeting_uuid.as_deref().or(s.meeting_id.as_deref()) {
        items.push(Item::Look(Lookup::LiveParticipants { meeting: m.to_owned() }));
    }
    if let Some(u) = &s.user {
        items.push(Item::Look(Lookup::User { user: u.clone() }));
    }
    Menu { subject: subject.join(" · "), items, cursor: 0, alert_id: s.alert_id.clone() }
}

/// Zoom's live list against the roster: who Zoom has that the roster lacks (missed
/// joins) and who the roster shows in the meeting that Zoom does not (missed leaves).
pub fn reconcile(meeting: Option<&Meeting>, body: &Value) -> Vec<String> {
    let Some(m) = meeting else { return vec!["(the meeting is not in this console's rosters)".into()] };
    let zoom: Vec<&Value> = body.get("participants").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let field = |p: &Value, k: &str| p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let present: Vec<Participant> =
        m.attendees.values().filter(|a| a.presence != Presence::Left).map(|a| a.participant.to_participant()).collect();
    let same = |z: &Value, p: &Participant| {
        let pairs = [
            (field(z, "participant_uuid"), p.participant_uuid.clone()),
            (field(z, "id"), p.zoom_user_id.clone()),
            (field(z, "email").map(|e| e.to_lowercase()), p.email.as_ref().map(|e| e.to_lowercase())),
        ];
        pairs.iter().any(|(a, b)| a.is_some() && a == b) || (field(z, "user_name").is_some() && field(z, "user_name") == p.name && p.guest)
    };
    let mut out = Vec::new();
    let missing: Vec<String> = zoom
        .iter()
        .filter(|z| !present.iter().any(|p| same(z, p)))
        .map(|z| format!("{} <{}>", field(z, "user_name").unwrap_or_default(), field(z, "email").unwrap_or_default()))
        .collect();
    let gone: Vec<String> = present
        .iter()
        .filter(|p| !zoom.iter().any(|z| same(z, p)))
        .map(|p| p.name.clone().or_else(|| p.email.clone()).unwrap_or_else(|| "?".into()))
        .collect();
    if missing.is_empty() && gone.is_empty() {
        out.push(format!("the roster agrees with Zoom ({} present)", present.len()));
    }
    if !missing.is_empty() {
        out.push(format!("in the meeting per Zoom, not in the roster (missed joins): {}", missing.join(", ")));
    }
    if !gone.is_empty() {
        out.push(format!("in the roster, not in the meeting per Zoom (missed leaves): {}", gone.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_on_a_participant_offers_everything_that_fits() {
        let p = Participant {
            name: Some("J. Doe".into()),
            email: Some("jdoe@freemail.example".into()),
            zoom_user_id: Some("xT9".into()),
            participant_uuid: Some("67C1".into()),
            ..Participant::default()
        };
        let s = Subjects {
            meeting_id: Some("866".into()),
            meeting_uuid: Some("b0A/==".into()),
            alert_id: Some("al1".into()),
            ..Subjects::default()
        }
        .with_participant(&p);
        let m = menu(&s);
        let names: Vec<String> = m
            .items
            .iter()
            .map(|i| match i {
                Item::Act(a) => a.name().to_owned(),
                Item::ActAll { label, .. } => label.clone(),
                Item::Look(l) => l.name().to_owned(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "end-meeting",
                "remove-participant",
                "deny-registrant",
                "sign-out-user",
                "deactivate-user",
                "harden-meeting",
                "live participants",
                "user lookup"
            ]
        );
        assert_eq!(m.alert_id.as_deref(), Some("al1"));
        // Live participants and ending by the alert's instance (UUID), not the number that
        // would end whichever instance is live now.
        assert!(m.items.contains(&Item::Look(Lookup::LiveParticipants { meeting: "b0A/==".into() })));
        assert!(m.items.contains(&Item::Act(Action::EndMeeting { meeting: "b0A/==".into() })));
    }

    #[test]
    fn guests_are_not_offered_as_users() {
        let p = Participant { name: Some("zoom raid".into()), guest: true, participant_uuid: Some("D3".into()), ..Participant::default() };
        let s = Subjects { meeting_uuid: Some("u==".into()), ..Subjects::default() }.with_participant(&p);
        let m = menu(&s);
        assert!(m.items.iter().all(|i| !matches!(i, Item::Act(Action::DeactivateUser { .. } | Action::SignOutUser { .. }))));
        assert!(m.items.contains(&Item::Act(Action::RemoveParticipant { meeting: "u==".into(), participant_uuid: "D3".into() })));
    }
}
