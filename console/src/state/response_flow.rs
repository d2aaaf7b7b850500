//! The response flow (key `r`): which Zoom actions fit the selection, the dialog's
//! keys, and the outcome of a call or lookup.

use super::*;

/// Rules whose evidence is a crowd of joins: responding offers removing all of them.
const RAIDS: [&str; 2] = ["join-burst", "join-trickle"];

impl State {
    /// What the selection is about, for the response menu.
    pub(super) fn respond_subjects(&self) -> Option<crate::respond::Subjects> {
        use crate::respond::Subjects;
        if self.view == View::Alerts {
            let item = self.selected_alert()?;
            let a = &item.alert;
            let m = a.meeting.as_ref();
            let mut s = Subjects {
                meeting_id: m.and_then(|m| m.id.clone()),
                meeting_uuid: m.and_then(|m| m.uuid.clone()),
                topic: m.and_then(|m| m.topic.clone()),
                user: a.actor.as_ref().and_then(|x| x.id.clone().or_else(|| x.email.clone())),
                alert_id: Some(a.id.clone()),
                settings: self.posture.revertible_of(&a.record_ids),
                ..Subjects::default()
            };
            if let Some(p) = &a.participant {
                s = s.with_participant(&self.roster_person(m.and_then(|m| m.uuid.as_deref()), p));
            }
            if RAIDS.contains(&a.rule.as_str()) {
                s.raiders = self.raiders(m.and_then(|m| m.uuid.as_deref()), &a.record_ids);
            }
            return Some(s);
        }
        if self.view == View::Posture {
            use posture::PostureRow;
            let rows = self.posture.rows();
            let (revert, control) = match rows.get(self.cursor_of(View::Posture))? {
                PostureRow::Open(d) | PostureRow::Resolved(d) => (d.revert.clone(), d.control.clone()),
                PostureRow::Failing(f) => (f.scope_key.clone(), f.control.clone()),
            };
            return Some(Subjects { settings: revert.map(|s| vec![(s, control)]).unwrap_or_default(), ..Subjects::default() });
        }
        if self.view == View::Meetings {
            let m = self.selected_meeting()?;
            let uuid = (!m.key.starts_with("id:")).then(|| m.key.clone());
            let mut s = Subjects { meeting_id: m.id.clone(), meeting_uuid: uuid, topic: m.topic.clone(), ..Subjects::default() };
            if self.roster_focus
                && let Some(a) = self.roster_of(m).get(self.roster_cursor)
            {
                s = s.with_participant(&a.participant.to_participant());
            }
            return Some(s);
        }
        let r = self.selected_row()?.record()?;
        let r = &r;
        let m = r.meeting.as_ref();
        let mut s = Subjects {
            meeting_id: m.and_then(|m| m.id.clone()),
            meeting_uuid: m.and_then(|m| m.uuid.clone()),
            topic: m.and_then(|m| m.topic.clone()),
            user: r
                .target_user
                .as_ref()
                .and_then(|t| t.id.clone().or_else(|| t.email.clone()))
                .or_else(|| r.actor.as_ref().and_then(|x| x.id.clone().or_else(|| x.email.clone()))),
            settings: zoomwatch_shared::posture::drifts(r, &self.detector.config().settings_policy)
                .into_iter()
                .filter(|d| !d.restored && d.info.api.is_some())
                .filter_map(|d| Some((d.scope.revert_key()?, d.info.key().to_owned())))
                .collect(),
            ..Subjects::default()
        };
        if let Some(p) = &r.participant {
            s = s.with_participant(p);
        }
        Some(s)
    }

    /// The people an alert's evidence records joined as who are still in meeting `uuid`
    /// (each by the roster's latest record of them, so with the device to remove). The
    /// evidence is recent, so the newest rows are searched, a bounded number of them.
    fn raiders(&self, uuid: Option<&str>, evidence: &[String]) -> Vec<zoomwatch_shared::record::Participant> {
        const SEARCHED: usize = 50_000;
        let Some(m) = uuid.and_then(|u| self.detector.meetings().meetings.get(u)) else { return Vec::new() };
        let mut wanted: std::collections::HashSet<&str> = evidence.iter().map(String::as_str).collect();
        let mut out: Vec<zoomwatch_shared::record::Participant> = Vec::new();
        for row in self.rows.iter().rev().take(SEARCHED) {
            if wanted.is_empty() {
                break;
            }
            let line = row.line();
            let id = match zoomwatch_shared::lines::stored_id(&line) {
                Some(id) => wanted.get(id).copied(),
                None => wanted.iter().copied().find(|id| line.contains(id)),
            };
            let Some(id) = id else { continue };
            let Some(r) = row.record().filter(|r| r.id == id) else { continue };
            wanted.remove(id);
            let Some(p) = &r.participant else { continue };
            let Some(a) = m.find(p).filter(|a| a.presence == zoomwatch_shared::roster::Presence::In) else { continue };
            let person = a.participant.to_participant();
            if person.participant_uuid.is_some() && !out.iter().any(|o| o.identity_key() == person.identity_key()) {
                out.push(person);
            }
        }
        out
    }

    /// The roster's fuller record of `p` in meeting `uuid` (a screen share or role change
    /// names a guest only by display name; removing them needs their participant uuid).
    fn roster_person(&self, uuid: Option<&str>, p: &zoomwatch_shared::record::Participant) -> zoomwatch_shared::record::Participant {
        if p.participant_uuid.is_some() {
            return p.clone();
        }
        let m = uuid.and_then(|u| self.detector.meetings().meetings.get(u));
        m.and_then(|m| m.find(p)).map_or_else(|| p.clone(), |a| a.participant.to_participant())
    }

    pub(super) fn open_respond(&mut self) {
        if let Some(why) = &self.respond_unavailable {
            let why = why.clone();
            self.say(format!("Zoom actions unavailable: {why}"));
            return;
        }
        let Some(subjects) = self.respond_subjects() else {
            self.say("select an alert, a record, a meeting or a roster line first");
            return;
        };
        let menu = crate::respond::menu(&subjects);
        if menu.items.is_empty() {
            self.say("nothing to act on in the selection (no meeting, participant or Zoom user)");
            return;
        }
        self.overlay = Overlay::Respond(menu);
    }

    pub(super) fn on_respond_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let overlay = std::mem::replace(&mut self.overlay, Overlay::None);
        let action = keymap::lookup_dialog(&key);
        match overlay {
            Overlay::Respond(mut menu) => match (key.code, action) {
                (_, Some(Command::Back | Command::Quit | Command::Respond)) => {}
                (_, Some(Command::Up)) => {
                    menu.cursor = menu.cursor.saturating_sub(1);
                    self.overlay = Overlay::Respond(menu);
                }
                (_, Some(Command::Down)) => {
                    menu.cursor = (menu.cursor + 1).min(menu.items.len().saturating_sub(1));
                    self.overlay = Overlay::Respond(menu);
                }
                (_, Some(Command::Choose)) => match menu.items.get(menu.cursor).cloned() {
                    Some(crate::respond::Item::Act(a)) => self.overlay = Overlay::Confirm { actions: vec![a], alert_id: menu.alert_id },
                    Some(crate::respond::Item::ActAll { actions, .. }) => {
                        self.overlay = Overlay::Confirm { actions, alert_id: menu.alert_id }
                    }
                    Some(crate::respond::Item::Look(l)) => {
                        self.say(format!("asking Zoom: {}…", l.name()));
                        return vec![Effect::Zoom(ZoomCall::Lookup(l))];
                    }
                    None => {}
                },
                _ => self.overlay = Overlay::Respond(menu),
            },
            Overlay::Confirm { actions, alert_id } => match action {
                Some(Command::Confirm) => {
                    let what = match actions.as_slice() {
                        [one] => one.summary(),
                        many => format!("{} actions", many.len()),
                    };
                    self.say(format!("calling Zoom: {what}…"));
                    return vec![Effect::Zoom(ZoomCall::Act { actions, alert_id })];
                }
                Some(Command::Decline | Command::Quit | Command::Back) => self.say("not done"),
                _ => self.overlay = Overlay::Confirm { actions, alert_id },
            },
            Overlay::Saved { cursor } => {
                let n = self.detector.config().filters.len();
                let pick = match (key.code, action) {
                    (_, Some(Command::Back | Command::Quit | Command::SavedFilters)) => return Vec::new(),
                    (_, Some(Command::Up)) => {
                        self.overlay = Overlay::Saved { cursor: cursor.saturating_sub(1) };
                        return Vec::new();
                    }
                    (_, Some(Command::Down)) => {
                        self.overlay = Overlay::Saved { cursor: (cursor + 1).min(n.saturating_sub(1)) };
                        return Vec::new();
                    }
                    (_, Some(Command::Choose)) => cursor,
                    // A digit picks by number (the menu shows them), as typed text does.
                    (KeyCode::Char(c @ '1'..='9'), _) => (c as usize) - ('1' as usize),
                    _ => {
                        self.overlay = Overlay::Saved { cursor };
                        return Vec::new();
                    }
                };
                if let Some((name, text)) = self.detector.config().filters.get(pick).cloned() {
                    match self.set_filter(&text) {
                        Ok(()) => self.say(format!("filter {name}: {text}")),
                        Err(e) => self.say(format!("filter {name}: {e}")),
                    }
                }
            }
            Overlay::Info { title, lines } => match (key.code, action) {
                (_, Some(Command::Back | Command::Choose | Command::Quit)) => {}
                (_, Some(Command::Up)) => {
                    self.detail_scroll = self.detail_scroll.saturating_sub(1);
                    self.overlay = Overlay::Info { title, lines };
                }
                (_, Some(Command::Down)) => {
                    self.detail_scroll = self.detail_scroll.saturating_add(1);
                    self.overlay = Overlay::Info { title, lines };
                }
                _ => self.overlay = Overlay::Info { title, lines },
            },
            other => self.overlay = other,
        }
        Vec::new()
    }

    pub(super) fn on_acted(&mut self, alert_id: Option<String>, line: String, ok: bool) -> Vec<Effect> {
        self.say(line.clone());
        let Some(id) = alert_id else { return Vec::new() };
        let stamp = format_ms(self.now_ms);
        let entry = self.triage.alerts.entry(id.clone()).or_default();
        entry.actions.push(format!("{} {}: {line}", stamp.get(11..19).unwrap_or(&stamp), self.analyst));
        if ok && entry.status == triage::Status::New {
            entry.status = triage::Status::Acked;
        }
        entry.updated_at = stamp;
        entry.by = self.analyst.clone();
        let entry = entry.clone();
        if let Some(item) = self.alert_pos.get(&id).and_then(|i| self.alerts.get_mut(*i)) {
            item.triage = entry.clone();
        }
        self.sort_alerts();
        vec![Effect::SaveTriage(self.triage.clone()), Effect::ShareTriage { alert_id: id, entry }]
    }

    pub(super) fn on_looked_up(&mut self, lookup: zoomwatch_zoomapi::Lookup, result: Result<serde_json::Value, String>) {
        let body = match result {
            Ok(b) => b,
            Err(e) => return self.say(e),
        };
        let (title, mut lines) = crate::act::describe_lookup(&lookup, &body);
        if let zoomwatch_zoomapi::Lookup::LiveParticipants { meeting } = &lookup {
            let m = self.detector.meetings().meetings.values().find(|m| &m.key == meeting || m.id.as_deref() == Some(meeting.as_str()));
            let mut head = crate::respond::reconcile(m, &body);
            head.push(String::new());
            head.append(&mut lines);
            lines = head;
        }
        self.detail_scroll = 0;
        self.overlay = Overlay::Info { title, lines };
    }

    /// The meeting and user of the selection (for `m` / `u`).
    pub(super) fn selection_subjects(&self) -> (Option<String>, Option<String>) {
        if let Some(r) = self.selected_row().and_then(Row::record) {
            let r = &r;
            let meeting = r.meeting.as_ref().and_then(|m| m.uuid.clone().or_else(|| m.id.clone()));
            let user = r
                .participant
                .as_ref()
                .and_then(|p| p.email.clone().or_else(|| p.name.clone()))
                .or_else(|| r.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.id.clone())))
                .or_else(|| r.target_user.as_ref().and_then(|t| t.email.clone()));
            return (meeting, user);
        }
        if let Some(item) = self.selected_alert() {
            let a = &item.alert;
            let meeting = a.meeting.as_ref().and_then(|m| m.uuid.clone().or_else(|| m.id.clone()));
            let user = a
                .participant
                .as_ref()
                .and_then(|p| p.email.clone().or_else(|| p.name.clone()))
                .or_else(|| a.actor.as_ref().and_then(|x| x.email.clone()));
            return (meeting, user);
        }
        if self.view == View::Meetings {
            let m = self.selected_meeting();
            let meeting = m.map(|m| m.key.clone());
            let user = if self.roster_focus {
                m.and_then(|m| {
                    self.roster_of(m)
                        .get(self.roster_cursor)
                        .and_then(|a| a.participant.email().or_else(|| a.participant.name()).map(str::to_owned))
                })
            } else {
                None
            };
            return (meeting, user);
        }
        (None, None)
    }
}
