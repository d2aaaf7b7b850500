//! Keys: every key arrives as a [`crate::keymap`] action (the one key table), and the
//! prompt overlay's own editing keys.

use super::*;

impl State {
    pub(super) fn on_command(&mut self, a: Command) -> Vec<Effect> {
        let page = self.page.max(1);
        match a {
            Command::Quit => return vec![Effect::Quit],
            Command::ViewFeed => self.view = View::Feed,
            Command::ViewMeetings => self.view = View::Meetings,
            Command::ViewParticipants => self.view = View::Participants,
            Command::ViewAdmin => self.view = View::Admin,
            Command::ViewAlerts => self.view = View::Alerts,
            Command::ViewOverview => self.view = View::Overview,
            Command::ViewPosture => self.view = View::Posture,
            Command::NextView => self.view = View::ALL[(self.view.index() + 1) % View::ALL.len()],
            Command::PrevView => self.view = View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()],
            Command::Up => self.set_cursor(self.view, self.current_cursor().saturating_sub(1)),
            Command::Down => self.set_cursor(self.view, self.current_cursor() + 1),
            Command::PageUp => self.set_cursor(self.view, self.current_cursor().saturating_sub(page)),
            Command::PageDown => self.set_cursor(self.view, self.current_cursor() + page),
            Command::Top => self.set_cursor(self.view, 0),
            Command::Bottom => self.set_cursor(self.view, usize::MAX),
            Command::SwitchPane => {
                if self.view == View::Meetings {
                    self.roster_focus = !self.roster_focus;
                    self.roster_cursor = 0;
                }
            }
            Command::Details => {
                let has = match self.view {
                    View::Meetings => self.selected_meeting().is_some(),
                    View::Alerts => self.selected_alert().is_some(),
                    View::Overview | View::Posture => false,
                    _ => self.selected_row().is_some(),
                };
                if has {
                    self.overlay = Overlay::Detail;
                    self.detail_scroll = 0;
                }
            }
            Command::Filter => {
                self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Filter, text: self.filter_text.clone(), error: None })
            }
            Command::Back => {
                if self.overlay != Overlay::None {
                    self.overlay = Overlay::None;
                } else if !self.filter.is_empty() {
                    let _ = self.set_filter("");
                    self.say("filter cleared");
                }
            }
            Command::ThisMeeting => match self.selection_subjects().0 {
                Some(m) => self.narrow("meeting:", &m),
                None => self.say("the selection has no meeting"),
            },
            Command::ThisUser => match self.selection_subjects().1 {
                Some(u) => self.narrow("user:", &u),
                None => self.say("the selection has no user"),
            },
            Command::Ack => return self.triage_selected(Some(triage::Status::Acked), None),
            Command::Dismiss => return self.triage_selected(Some(triage::Status::Dismissed), None),
            Command::Note => {
                if let Some(item) = self.selected_alert() {
                    let id = item.alert.id.clone();
                    let text = item.triage.note.clone();
                    self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Note(id), text, error: None });
                }
            }
            Command::Respond => self.open_respond(),
            Command::ExportJsonl => return self.export(false),
            Command::ExportCsv => return self.export(true),
            Command::Help => self.overlay = if self.overlay == Overlay::Help { Overlay::None } else { Overlay::Help },
            Command::Pause => self.toggle_pause(),
            Command::SavedFilters => {
                if self.detector.config().filters.is_empty() {
                    self.say("no saved filters: add a [filters] table to zoomwatch.toml (see zoomwatch.example.toml)");
                } else {
                    self.overlay = Overlay::Saved { cursor: 0 };
                }
            }
            // Dialog keys: only dialogs look them up (`keymap::lookup_dialog`).
            Command::Choose | Command::Confirm | Command::Decline => {}
        }
        Vec::new()
    }

    pub(super) fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Overlay::Prompt(mut prompt) = std::mem::replace(&mut self.overlay, Overlay::None) else { return Vec::new() };
        match key.code {
            KeyCode::Esc => return Vec::new(),
            KeyCode::Enter => match &prompt.kind {
                PromptKind::Filter => {
                    let text = prompt.text.clone();
                    if let Err(e) = self.set_filter(&text) {
                        prompt.error = Some(e);
                        self.overlay = Overlay::Prompt(prompt);
                    } else if text.trim().is_empty() {
                        self.say("filter cleared");
                    } else {
                        self.say(format!("filter: {}", text.trim()));
                    }
                    return Vec::new();
                }
                PromptKind::Note(id) => {
                    let id = id.clone();
                    let found = self.alert_order.iter().position(|i| self.alerts[*i].alert.id == id);
                    if let Some(pos) = found {
                        self.cursor.insert(View::Alerts, pos);
                        return self.triage_selected(None, Some(prompt.text.trim().to_owned()));
                    }
                    return Vec::new();
                }
            },
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => prompt.text.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if prompt.text.chars().count() < 256 {
                    prompt.text.push(c);
                }
                prompt.error = None;
            }
            _ => {}
        }
        self.overlay = Overlay::Prompt(prompt);
        Vec::new()
    }
}
