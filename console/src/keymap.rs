//! The one key table: it drives key handling, the footer hints and the help overlay, so
//! the three can never disagree. Each [`Command`] is also the vocabulary of the console's
//! state machine (`update`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Something the analyst asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Leave the console.
    Quit,
    /// Show the live feed of records.
    ViewFeed,
    /// Show meetings with their live rosters.
    ViewMeetings,
    /// Show participant joins and leaves.
    ViewParticipants,
    /// Show admin actions with old → new changes.
    ViewAdmin,
    /// Show the alert triage queue.
    ViewAlerts,
    /// Show the overview (event rate, counts by type).
    ViewOverview,
    /// Show policy posture and drift.
    ViewPosture,
    /// Next view.
    NextView,
    /// Previous view.
    PrevView,
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Up a page.
    PageUp,
    /// Down a page.
    PageDown,
    /// To the newest row.
    Top,
    /// To the oldest row.
    Bottom,
    /// Switch focus between the meeting list and its roster.
    SwitchPane,
    /// Open the detail pane (the record's JSON, or the alert).
    Details,
    /// Open the filter prompt.
    Filter,
    /// Close an overlay, or clear the filter.
    Back,
    /// Filter to the selected row's meeting.
    ThisMeeting,
    /// Filter to the selected row's user.
    ThisUser,
    /// Acknowledge the selected alert.
    Ack,
    /// Dismiss the selected alert.
    Dismiss,
    /// Add a note to the selected alert.
    Note,
    /// Open the Zoom response actions and lookups for the selection.
    Respond,
    /// Export the current view as JSON Lines.
    ExportJsonl,
    /// Export the current view as CSV.
    ExportCsv,
    /// Show or hide the help overlay.
    Help,
    /// Freeze the record lists while records keep arriving; again to catch up.
    Pause,
    /// Pick one of the saved filters (`[filters]` in zoomwatch.toml).
    SavedFilters,
    /// In a dialog: take the highlighted choice.
    Choose,
    /// In a confirmation: yes, do it.
    Confirm,
    /// In a confirmation: no.
    Decline,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// Only in the Alerts view.
    Alerts,
    /// Only in the Meetings view.
    Meetings,
    /// In the dialogs (the response menu, its confirmation, saved filters, results);
    /// these take precedence there, and the global keys apply after them.
    Dialog,
}

/// One key binding.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The key.
    pub code: KeyCode,
    /// Required modifiers.
    pub mods: KeyModifiers,
    /// What it does.
    pub action: Command,
    /// How the key is written in hints.
    pub label: &'static str,
    /// What it does, in a few words.
    pub help: &'static str,
    /// Where it applies.
    pub scope: Scope,
    /// Shown in the footer as (keys, what), if at all.
    pub footer: Option<(&'static str, &'static str)>,
}

const fn b(code: KeyCode, action: Command, label: &'static str, help: &'static str, scope: Scope) -> Binding {
    Binding { code, mods: KeyModifiers::NONE, action, label, help, scope, footer: None }
}

/// A binding that also appears in the footer.
const fn f(
    code: KeyCode,
    action: Command,
    label: &'static str,
    help: &'static str,
    scope: Scope,
    hint: (&'static str, &'static str),
) -> Binding {
    Binding { code, mods: KeyModifiers::NONE, action, label, help, scope, footer: Some(hint) }
}

use Scope::{Alerts, Dialog, Global, Meetings};

/// Every binding. Earlier entries win when two match.
pub const KEYMAP: &[Binding] = &[
    b(KeyCode::Char('1'), Command::ViewFeed, "1", "feed", Global),
    b(KeyCode::Char('2'), Command::ViewMeetings, "2", "meetings and rosters", Global),
    b(KeyCode::Char('3'), Command::ViewParticipants, "3", "participants", Global),
    b(KeyCode::Char('4'), Command::ViewAdmin, "4", "admin actions", Global),
    b(KeyCode::Char('5'), Command::ViewAlerts, "5", "alerts (triage)", Global),
    b(KeyCode::Char('6'), Command::ViewOverview, "6", "overview", Global),
    b(KeyCode::Char('7'), Command::ViewPosture, "7", "policy posture and drift", Global),
    b(KeyCode::Tab, Command::NextView, "Tab", "next view", Global),
    b(KeyCode::BackTab, Command::PrevView, "S-Tab", "previous view", Global),
    f(KeyCode::Up, Command::Up, "↑", "up", Global, ("↑↓", "move")),
    b(KeyCode::Char('k'), Command::Up, "k", "up", Global),
    b(KeyCode::Down, Command::Down, "↓", "down", Global),
    b(KeyCode::Char('j'), Command::Down, "j", "down", Global),
    b(KeyCode::PageUp, Command::PageUp, "PgUp", "page up", Global),
    b(KeyCode::PageDown, Command::PageDown, "PgDn", "page down", Global),
    b(KeyCode::Home, Command::Top, "Home", "newest", Global),
    b(KeyCode::Char('g'), Command::Top, "g", "newest", Global),
    b(KeyCode::End, Command::Bottom, "End", "oldest", Global),
    b(KeyCode::Char('G'), Command::Bottom, "G", "oldest", Global),
    f(KeyCode::Left, Command::SwitchPane, "←", "list ↔ roster", Meetings, ("←→", "list/roster")),
    b(KeyCode::Right, Command::SwitchPane, "→", "list ↔ roster", Meetings),
    f(KeyCode::Enter, Command::Details, "⏎", "details (↑↓ scroll)", Global, ("⏎", "details")),
    f(KeyCode::Char('r'), Command::Respond, "r", "respond through Zoom", Global, ("r", "respond")),
    f(KeyCode::Char('/'), Command::Filter, "/", "filter", Global, ("/", "filter")),
    b(KeyCode::Esc, Command::Back, "Esc", "close / clear filter", Global),
    b(KeyCode::Char('f'), Command::SavedFilters, "f", "saved filters", Global),
    f(KeyCode::Char('m'), Command::ThisMeeting, "m", "only this meeting", Global, ("m", "this meeting")),
    f(KeyCode::Char('u'), Command::ThisUser, "u", "only this user", Global, ("u", "this user")),
    f(KeyCode::Char('a'), Command::Ack, "a", "acknowledge alert", Alerts, ("a", "ack")),
    f(KeyCode::Char('x'), Command::Dismiss, "x", "dismiss alert", Alerts, ("x", "dismiss")),
    f(KeyCode::Char('n'), Command::Note, "n", "note on alert", Alerts, ("n", "note")),
    f(KeyCode::Char('p'), Command::Pause, "p", "pause / resume lists", Global, ("p", "pause")),
    b(KeyCode::Char('e'), Command::ExportJsonl, "e", "export view as JSONL", Global),
    b(KeyCode::Char('E'), Command::ExportCsv, "E", "export view as CSV", Global),
    f(KeyCode::Char('?'), Command::Help, "?", "help", Global, ("?", "help")),
    f(KeyCode::Char('q'), Command::Quit, "q", "quit", Global, ("q", "quit")),
    b(KeyCode::Enter, Command::Choose, "⏎", "take the highlighted choice", Dialog),
    b(KeyCode::Char('y'), Command::Confirm, "y", "yes, do it", Dialog),
    b(KeyCode::Char('Y'), Command::Confirm, "Y", "yes, do it", Dialog),
    b(KeyCode::Char('n'), Command::Decline, "n", "no", Dialog),
    b(KeyCode::Char('N'), Command::Decline, "N", "no", Dialog),
    Binding {
        code: KeyCode::Char('c'),
        mods: KeyModifiers::CONTROL,
        action: Command::Quit,
        label: "C-c",
        help: "quit",
        scope: Global,
        footer: None,
    },
];

/// The bindings that apply in the Alerts / Meetings context, in table order.
fn active(in_alerts: bool, in_meetings: bool) -> impl Iterator<Item = &'static Binding> {
    KEYMAP.iter().filter(move |bnd| match bnd.scope {
        Global => true,
        Alerts => in_alerts,
        Meetings => in_meetings,
        Dialog => false,
    })
}

/// The action for `key` in `in_alerts`/`in_meetings` context, if any.
pub fn lookup(key: &KeyEvent, in_alerts: bool, in_meetings: bool) -> Option<Command> {
    let mods = key.modifiers - KeyModifiers::SHIFT; // 'G', '?' and BackTab arrive with SHIFT
    active(in_alerts, in_meetings).find(|bnd| bnd.code == key.code && bnd.mods == mods).map(|bnd| bnd.action)
}

/// The command for `key` in a dialog: the dialog's own bindings first, then the global
/// ones (moving, Esc, q).
pub fn lookup_dialog(key: &KeyEvent) -> Option<Command> {
    let mods = key.modifiers - KeyModifiers::SHIFT;
    let matches = |bnd: &&Binding| bnd.code == key.code && bnd.mods == mods;
    KEYMAP
        .iter()
        .filter(|b| b.scope == Dialog)
        .find(matches)
        .or_else(|| KEYMAP.iter().filter(|b| b.scope == Global).find(matches))
        .map(|b| b.action)
}

/// Footer hints for the context, in table order.
pub fn footer(in_alerts: bool, in_meetings: bool) -> Vec<(&'static str, &'static str)> {
    active(in_alerts, in_meetings).filter_map(|bnd| bnd.footer).collect()
}

/// The help: one entry per action, in table order, with every key bound to it and where
/// it applies. Dialog keys are left out: each dialog names its keys in its own title.
pub fn help() -> Vec<(String, &'static str, Scope)> {
    let mut out: Vec<(String, &'static str, Scope)> = Vec::new();
    let mut seen: Vec<Command> = Vec::new();
    for bnd in KEYMAP.iter().filter(|b| b.scope != Dialog) {
        if seen.contains(&bnd.action) {
            continue;
        }
        seen.push(bnd.action);
        let keys: Vec<&str> = KEYMAP.iter().filter(|o| o.action == bnd.action).map(|o| o.label).collect();
        out.push((keys.join(" "), bnd.help, bnd.scope));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_resolve_by_context() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(lookup(&key('q'), false, false), Some(Command::Quit));
        assert_eq!(lookup(&key('a'), false, false), None, "ack only in Alerts");
        assert_eq!(lookup(&key('a'), true, false), Some(Command::Ack));
        assert_eq!(lookup(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT), false, false), Some(Command::Bottom));
        assert_eq!(lookup(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), false, false), Some(Command::Quit));
        let hints = footer(true, false);
        assert!(hints.contains(&("a", "ack")) && hints.contains(&("q", "quit")));
        assert!(!footer(false, false).contains(&("a", "ack")));
    }

    #[test]
    fn dialogs_take_their_keys_from_the_table() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(lookup_dialog(&key('y')), Some(Command::Confirm));
        assert_eq!(lookup_dialog(&KeyEvent::new(KeyCode::Char('Y'), KeyModifiers::SHIFT)), Some(Command::Confirm));
        assert_eq!(lookup_dialog(&key('n')), Some(Command::Decline), "n is no in a dialog, not a note");
        assert_eq!(lookup_dialog(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)), Some(Command::Choose));
        assert_eq!(lookup_dialog(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)), Some(Command::Back));
        assert_eq!(lookup_dialog(&KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)), Some(Command::Down));
        assert_eq!(lookup(&key('y'), true, true), None, "dialog keys do nothing outside dialogs");
        assert!(help().iter().all(|(_, _, scope)| *scope != Scope::Dialog), "dialogs name their keys in their titles");
    }

    #[test]
    fn actions_are_config_vocabulary() {
        assert_eq!(serde_json::to_string(&Command::ThisMeeting).unwrap(), "\"this_meeting\"");
    }
}
