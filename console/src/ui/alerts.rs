//! The triage queue: new alerts first, then by severity; acknowledged and dismissed
//! ones stay visible with their status and note.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row as TRow, Table};

use super::{Theme, clock, safe, scroll_offset, sev_letter};
use crate::state::{State, View};
use crate::triage::Status;

pub(super) fn draw(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let cursor = state.cursor_of(View::Alerts);
    let height = usize::from(area.height.saturating_sub(3));
    let offset = scroll_offset(cursor, height);
    let rows: Vec<TRow<'_>> = state
        .alert_order
        .iter_from(offset)
        .enumerate()
        .map(|(i, idx)| (i + offset, idx))
        .take(height)
        .map(|(i, idx)| {
            let item = &state.alerts[*idx];
            let a = &item.alert;
            let mut style = theme.severity(Some(a.severity));
            if item.triage.status == Status::Dismissed {
                style = theme.dim();
            }
            if i == cursor {
                style = style.patch(theme.selected());
            }
            let count = if a.count > 1 { format!("×{}", a.count) } else { String::new() };
            let mut status = item.triage.status.as_str().to_owned();
            if !item.triage.note.is_empty() {
                status.push('*');
            }
            TRow::new(vec![
                Cell::from(clock(&a.occurred_at).to_owned()),
                Cell::from(sev_letter(Some(a.severity))),
                Cell::from(a.rule.clone()),
                Cell::from(if item.from_watch && !item.own {
                    // Raised by `zoomwatch watch` (overnight, say) from records this
                    // console no longer holds.
                    format!("[watch] {}", safe(&a.reason, 300))
                } else {
                    safe(&a.reason, 300)
                }),
                Cell::from(count),
                Cell::from(status),
            ])
            .style(style)
        })
        .collect();
    let (new, shown) = state.shown_alerts();
    let title = format!(" Alerts · {new} new of {shown} ");
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(1),
            Constraint::Length(26),
            Constraint::Min(20),
            Constraint::Length(4),
            Constraint::Length(10),
        ],
    )
    .header(TRow::new(vec!["time", "!", "rule", "what", "n", "status"]).style(theme.dim()))
    .block(Block::default().borders(Borders::TOP).title(Line::from(title)))
    .column_spacing(1);
    frame.render_widget(table, area);
}
