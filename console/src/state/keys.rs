//! Keys: every key arrives as a [`crate::keymap`] action (the one key table), and the
//! prompt overlay's own editing keys.

use super::*;

impl State {
    pub(super) fn on_action(&mut self, a: Action) -> Vec<Effect> {
        let page = self.page.max(1);
        match a {
            Action::Quit => return vec![Effect::Quit],
            Action::ViewFeed => self.view = View::Feed,
            Action::ViewMeetings => self.view = View::Meetings,
            Action::ViewParticipants => self.view = View::Participants,
            Action::ViewAdmin => self.view = View::Admin,
            Action::ViewAlerts => self.view = View::Alerts,
            Action::ViewOverview => self.view = View::Overview,
            Action::NextView => self.view = View::ALL[(self.view.index() + 1) % View::ALL.len()],
            Action::PrevView => self.view = View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()],
            Action::Up => self.set_cursor(self.view, self.current_cursor().saturating_sub(1)),
            Action::Down => self.set_cursor(self.view, self.current_cursor() + 1),
            Action::PageUp => self.set_cursor(self.view, self.current_cursor().saturating_sub(page)),
            Action::PageDown => self.set_cursor(self.view, self.current_cursor() + page),
            Action::Top => self.set_cursor(self.view, 0),
            Action::Bottom => self.set_cursor(self.view, usize::MAX),
            Action::SwitchPane => {
                if self.view == View::Meetings {
                    self.roster_focus = !self.roster_focus;
                    self.roster_cursor = 0;
                }
            }
            Action::Details => {
                let has = match self.view {
                    View::Meetings => self.selected_meeting().is_some(),
                    View::Alerts => self.selected_alert().is_some(),
                    View::Overview => false,
                    _ => self.selected_row().is_some(),
                };
                if has {
                    self.overlay = Overlay::Detail;
                    self.detail_scroll = 0;
                }
            }
            Action::Filter => {
                self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Filter, text: self.filter_text.clone(), error: None })
            }
            Action::Back => {
                if self.overlay != Overlay::None {
                    self.overlay = Overlay::None;
                } else if !self.filter.is_empty() {
                    let _ = self.set_filter("");
                    self.say("filter cleared");
                }
            }
            Action::ThisMeeting => match self.selection_subjects().0 {
                Some(m) => self.narrow("meeting:", &m),
                None => self.say("the selection has no meeting"),
            },
            Action::ThisUser => match self.selection_subjects().1 {
                Some(u) => self.narrow("user:", &u),
                None => self.say("the selection has no user"),
            },
            Action::Ack => return self.triage_selected(Some(triage::Status::Acked), None),
            Action::Dismiss => return self.triage_selected(Some(triage::Status::Dismissed), None),
            Action::Note => {
                if let Some(item) = self.selected_alert() {
                    let id = item.alert.id.clone();
                    let text = item.triage.note.clone();
                    self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Note(id), text, error: None });
                }
            }
            Action::Respond => self.open_respond(),
            Action::ExportJsonl => return self.export(false),
            Action::ExportCsv => return self.export(true),
            Action::Help => self.overlay = if self.overlay == Overlay::Help { Overlay::None } else { Overlay::Help },
            Action::Pause => self.toggle_pause(),
            Action::SavedFilters => {
                if self.detector.config().filters.is_empty() {
                    self.say("no saved filters: add a [filters] table to zoomwatch.toml (see zoomwatch.example.toml)");
                } else {
                    self.overlay = Overlay::Saved { cursor: 0 };
                }
            }
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
