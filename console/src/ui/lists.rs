//! The record lists: Feed (everything), Participants (joins, leaves, waiting rooms),
//! Admin (admin and sign-in events, old → new changes). Participants shows the joiner's
//! country when GeoIP placed their IP. Newest on top; only the visible
//! rows are built, so a frame costs the same with 200 or 200,000 records held.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row as TRow, Table};
use zoomwatch_shared::record::RecordV1;

use super::{Theme, clock, column_widths, country, event_in, fit, safe, scroll_offset, sev_letter};
use crate::state::{Row, State, View};

fn who(r: &RecordV1) -> String {
    if let Some(resp) = zoomwatch_shared::audit::response_of(r) {
        return format!("analyst {}", safe(&resp.analyst, 40));
    }
    if let Some(p) = &r.participant {
        let name = p.name.as_deref().map(|n| safe(n, 28)).unwrap_or_else(|| "?".into());
        return match (&p.email, p.guest) {
            (Some(e), _) => format!("{name} <{}>", safe(e, 36)),
            (None, true) => format!("{name} (guest)"),
            (None, false) => name,
        };
    }
    if let Some(a) = &r.actor {
        return a.email.as_deref().or(a.id.as_deref()).map(|s| safe(s, 40)).unwrap_or_default();
    }
    String::new()
}

fn what(row: &Row, r: &RecordV1) -> String {
    // The worst flag; among equals the first (catalog order: the most specific rule).
    if let Some(f) = row.flags.iter().rev().max_by_key(|f| f.severity) {
        return safe(&f.reason, 200);
    }
    if let Some(resp) = zoomwatch_shared::audit::response_of(r) {
        return match (&resp.result, &resp.status) {
            (Some(line), _) => safe(line, 200),
            (None, Some(status)) => format!(
                "alert {} → {status}{}",
                resp.alert_id.as_deref().unwrap_or("?"),
                resp.note.as_deref().map(|n| format!(" · {}", safe(n, 100))).unwrap_or_default()
            ),
            (None, None) => String::new(),
        };
    }
    if let Some(rej) = &r.rejection {
        let src = r.request.as_ref().and_then(|q| q.source_ip.as_deref()).unwrap_or("?");
        return format!("{} {} from {}", rej.status, rej.reason, safe(src, 40));
    }
    if !r.changes.is_empty() {
        return changes(r, 3);
    }
    r.participant.as_ref().and_then(|p| p.ip.as_deref()).map(|ip| safe(ip, 40)).unwrap_or_default()
}

/// `path: old → new` for the first `n` changes.
pub fn changes(r: &RecordV1, n: usize) -> String {
    let mut parts: Vec<String> = r
        .changes
        .iter()
        .take(n)
        .map(|c| format!("{}: {} → {}", safe(&c.path, 48), safe(&c.old.to_string(), 24), safe(&c.new.to_string(), 24)))
        .collect();
    if r.changes.len() > n {
        parts.push(format!("+{}", r.changes.len() - n));
    }
    parts.join("  ")
}

fn topic(r: &RecordV1) -> String {
    r.meeting.as_ref().and_then(|m| m.topic.as_deref().or(m.id.as_deref())).map(|t| safe(t, 40)).unwrap_or_default()
}

pub(super) fn draw(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let view = state.view;
    let list = state.shown(view);
    let height = usize::from(area.height.saturating_sub(3));
    let cursor = state.cursor_of(view);
    let offset = scroll_offset(cursor, height);
    let visible = (offset..list.len().min(offset + height)).filter_map(|i| state.row(list[list.len() - 1 - i]).map(|row| (i, row)));

    let (header, widths): (Vec<&str>, Vec<Constraint>) = match view {
        View::Admin => (
            vec!["time", "!", "event", "by", "target", "changes"],
            vec![
                Constraint::Length(8),
                Constraint::Length(1),
                Constraint::Length(24),
                Constraint::Length(24),
                Constraint::Length(22),
                Constraint::Min(10),
            ],
        ),
        View::Participants => (
            vec!["time", "!", "action", "meeting", "who", "cc", "detail"],
            vec![
                Constraint::Length(8),
                Constraint::Length(1),
                Constraint::Length(18),
                Constraint::Length(20),
                Constraint::Length(30),
                Constraint::Length(2),
                Constraint::Min(10),
            ],
        ),
        _ => (
            vec!["time", "!", "event", "meeting", "who", "detail"],
            vec![
                Constraint::Length(8),
                Constraint::Length(1),
                Constraint::Length(26),
                Constraint::Length(18),
                Constraint::Length(26),
                Constraint::Min(10),
            ],
        ),
    };
    // Each cell in its column's width, cut with `…` when it does not fit.
    let cols = column_widths(&widths, area.width);
    let col = |i: usize| cols.get(i).copied().unwrap_or(u16::MAX);
    let rows: Vec<TRow<'_>> = visible
        .map(|(i, row)| {
            let Some(r) = row.record() else { return TRow::new(vec![Cell::from("(unreadable row)")]) };
            let r = &r;
            let style = if i == cursor { theme.severity(row.worst).patch(theme.selected()) } else { theme.severity(row.worst) };
            let cells = match view {
                View::Admin => vec![
                    Cell::from(clock(&r.occurred_at).to_owned()),
                    Cell::from(sev_letter(row.worst)),
                    Cell::from(event_in(&safe(&r.event, 32), col(2))),
                    Cell::from(fit(&who(r), col(3))),
                    Cell::from(fit(
                        &r.target_user
                            .as_ref()
                            .and_then(|t| t.email.as_deref().or(t.id.as_deref()))
                            .map(|s| safe(s, 36))
                            .unwrap_or_default(),
                        col(4),
                    )),
                    Cell::from(fit(&if r.changes.is_empty() { what(row, r) } else { changes(r, 4) }, col(5))),
                ],
                View::Participants => vec![
                    Cell::from(clock(&r.occurred_at).to_owned()),
                    Cell::from(sev_letter(row.worst)),
                    Cell::from(fit(&safe(&r.action, 36), col(2))),
                    Cell::from(fit(&topic(r), col(3))),
                    Cell::from(fit(&who(r), col(4))),
                    Cell::from(r.participant.as_ref().map(country).unwrap_or_default()),
                    Cell::from(fit(&what(row, r), col(6))),
                ],
                _ => vec![
                    Cell::from(clock(&r.occurred_at).to_owned()),
                    Cell::from(sev_letter(row.worst)),
                    Cell::from(event_in(&safe(&r.event, 36), col(2))),
                    Cell::from(fit(&topic(r), col(3))),
                    Cell::from(fit(&who(r), col(4))),
                    Cell::from(fit(&what(row, r), col(5))),
                ],
            };
            TRow::new(cells).style(style)
        })
        .collect();

    let title = format!(" {} · {} of {} records ", view.title(), list.len(), state.stats.records);
    let empty = list.is_empty();
    let table = Table::new(rows, widths)
        .header(TRow::new(header).style(theme.dim()))
        .block(Block::default().borders(Borders::TOP).title(Line::from(title)))
        .column_spacing(1);
    frame.render_widget(table, area);
    if empty {
        let msg = if state.filter.is_empty() { "waiting for records…" } else { "no record matches the filter (Esc clears it)" };
        let inner = Rect { x: area.x + 1, y: area.y + 2, width: area.width.saturating_sub(2), height: 1 };
        frame.render_widget(ratatui::widgets::Paragraph::new(msg).style(theme.dim().patch(Style::default())), inner);
    }
}
