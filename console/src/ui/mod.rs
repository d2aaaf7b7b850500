//! Drawing the console. Every function here takes `&State`: rendering cannot change
//! anything. Text from Zoom passes through [`safe`] before it reaches a cell.
//!
//! ```text
//! ┌ header: source · ● LIVE · lag · ev/s ▁▂▅ · rejected · validated ┐  1 row
//! │ tabs: [1 Feed] [2 Meetings 3] … [5 Alerts 7!] …   filter: …      │  1 row
//! │                                                                   │
//! │ body: the current view (feed / meetings+roster / … / overview)   │  rest
//! │                                                                   │
//! │ status line: notice, or the prompt                                │  1 row
//! └ footer: key hints from the keymap table                          ┘  1 row
//! ```
//! Overlays (help, detail) are drawn over the body.

mod alerts;
mod header;
mod lists;
mod meetings;
mod overlay;
mod overview;
mod posture;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use zoomwatch_shared::record::Severity;
use zoomwatch_shared::text::sanitize;

use crate::keymap;
use crate::state::{Overlay, State, View};

/// Colours or not (`NO_COLOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use colours.
    pub color: bool,
}

impl Theme {
    /// From the environment: no colours when `NO_COLOR` is set and non-empty.
    pub fn from_env() -> Self {
        Self { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    /// Style of something with this severity.
    pub fn severity(self, s: Option<Severity>) -> Style {
        let base = Style::default();
        match (s, self.color) {
            (Some(Severity::High), true) => base.fg(Color::Red).add_modifier(Modifier::BOLD),
            (Some(Severity::Medium), true) => base.fg(Color::Yellow),
            (Some(Severity::Low), true) => base.fg(Color::Cyan),
            (Some(Severity::High), false) => base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            (Some(Severity::Medium), false) => base.add_modifier(Modifier::BOLD),
            _ => base,
        }
    }

    /// The selected row.
    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        if self.color { Style::default().fg(Color::DarkGray) } else { Style::default() }
    }

    /// Emphasis.
    pub fn accent(self) -> Style {
        if self.color {
            Style::default().fg(Color::Green).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }
}

/// One-letter severity marker (readable without colour).
pub fn sev_letter(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::High) => "H",
        Some(Severity::Medium) => "M",
        Some(Severity::Low) => "L",
        Some(Severity::Info) => "i",
        None => " ",
    }
}

/// Untrusted text made safe and at most `max` characters.
pub fn safe(s: &str, max: usize) -> String {
    sanitize(s, max).into_owned()
}

/// `s` in `width` cells: whole when it fits, else cut and ending in `…` (so a cut value
/// never passes for a whole one: `left ho…`, not `left ho`).
pub fn fit(s: &str, width: u16) -> String {
    let width = usize::from(width);
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// The widths a table with `constraints` and one cell between columns gives its columns
/// in `width` cells, as `Table` lays them out.
pub fn column_widths(constraints: &[Constraint], width: u16) -> Vec<u16> {
    Layout::horizontal(constraints.iter().copied())
        .spacing(1)
        .flex(ratatui::layout::Flex::Start)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| r.width)
        .collect()
}

/// An event name in `width` cells: whole, else without its prefix
/// (`meeting.participant_joined` → `participant_joined`), else cut with `…`.
pub fn event_in(event: &str, width: u16) -> String {
    let short = match event.split_once('.') {
        Some((_, rest)) if event.chars().count() > usize::from(width) => rest,
        _ => event,
    };
    fit(short, width)
}

/// A participant's two-letter country, when GeoIP placed their IP (safe: at most two
/// characters of sanitized text).
pub fn country(p: &zoomwatch_shared::record::Participant) -> String {
    country_of(p.geo.as_deref())
}

/// The two-letter country of a place, as [`country`].
pub fn country_of(geo: Option<&zoomwatch_shared::record::Geo>) -> String {
    geo.and_then(|g| g.country.as_deref()).map(|c| safe(c, 2)).unwrap_or_default()
}

/// `from 81.2.69.142 — London, GB (United Kingdom) · AS29518 Bredband2 AB · Tor exit`:
/// where an address is, for detail panes. `None` without an IP.
pub fn whereabouts(ip: Option<&str>, geo: Option<&zoomwatch_shared::record::Geo>) -> Option<String> {
    let ip = ip?;
    let mut s = format!("from {}", safe(ip, 45));
    let Some(g) = geo else {
        s.push_str(" — not in the GeoIP databases (or none configured)");
        return Some(s);
    };
    if let Some(place) = g.place() {
        s.push_str(&format!(" — {}", safe(&place, 60)));
        if let Some(name) = &g.country_name {
            s.push_str(&format!(" ({})", safe(name, 40)));
        }
    }
    if let Some(net) = g.network() {
        s.push_str(&format!(" · {}", safe(&net, 80)));
    }
    if let Some(a) = g.anonymous.filter(|a| a.any()) {
        s.push_str(&format!(" · {}", a.describe()));
    }
    Some(s)
}

/// `HH:MM:SS` of an RFC 3339 UTC time.
pub fn clock(ts: &str) -> &str {
    ts.get(11..19).unwrap_or("--:--:--")
}

/// "3s", "4m", "2h", "5d" ago.
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Draws the whole screen.
pub fn draw(state: &State, frame: &mut Frame<'_>, theme: Theme) {
    let [head, tabs, body, status, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(3), Constraint::Length(1), Constraint::Length(1)])
            .areas(frame.area());
    header::draw_header(state, frame, head, theme);
    header::draw_tabs(state, frame, tabs, theme);
    match state.view {
        View::Feed | View::Participants | View::Admin => lists::draw(state, frame, body, theme),
        View::Meetings => meetings::draw(state, frame, body, theme),
        View::Alerts => alerts::draw(state, frame, body, theme),
        View::Overview => overview::draw(state, frame, body, theme),
        View::Posture => posture::draw(state, frame, body, theme),
    }
    // The status line and footer first: an overlay that needs the whole screen (the help,
    // on a short terminal) covers them.
    overlay::status_line(state, frame, status, theme);
    draw_footer(state, frame, foot, theme);
    match &state.overlay {
        Overlay::Help => overlay::help(state, frame, body, theme),
        Overlay::Detail => overlay::detail(state, frame, body, theme),
        Overlay::Respond(menu) => overlay::respond(menu, frame, body, theme),
        Overlay::Saved { cursor } => overlay::saved(&state.detector.config().filters, *cursor, frame, body, theme),
        Overlay::Confirm { actions, alert_id } => {
            // How old the alert is: acting on an hours-old alert deserves a second look.
            let age = alert_id
                .as_deref()
                .and_then(|id| state.alert_by_id(id))
                .and_then(|a| zoomwatch_shared::timefmt::parse_rfc3339_ms(&a.alert.occurred_at).map(|t| ago(state.now_ms, t)));
            overlay::confirm(actions, alert_id.as_deref(), age.as_deref(), frame, body, theme)
        }
        Overlay::Info { title, lines } => overlay::info(state, title, lines, frame, body),
        _ => {}
    }
}

fn draw_footer(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let mut hints = keymap::footer(state.view == View::Alerts, state.view == View::Meetings);
    // Narrow terminals: drop hints from the middle, never "? help" and "q quit" (last).
    let width = |h: &[(&str, &str)]| h.iter().map(|(k, w)| k.chars().count() + w.chars().count() + 3).sum::<usize>();
    while width(&hints) > usize::from(area.width) && hints.len() > 2 {
        hints.remove(hints.len() - 3);
    }
    let mut spans = Vec::new();
    for (key, what) in hints {
        spans.push(Span::styled(format!(" {key}"), theme.accent()));
        spans.push(Span::raw(format!(" {what} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The first row to show so that `cursor` stays visible in `height` rows.
pub fn scroll_offset(cursor: usize, height: usize) -> usize {
    if height == 0 { cursor } else { cursor.saturating_sub(height - 1) }
}
