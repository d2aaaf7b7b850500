//! Posture: the latest posture run's score and counts on top; below, settings out of
//! policy — open drift first (what changed, who, when), then the controls the last run
//! found failing, then drift that has come back. `r` on a row offers to set it back.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TRow, Table};

use super::{Theme, clock, safe, scroll_offset, sev_letter};
use crate::state::posture::PostureRow;
use crate::state::{State, View};

pub(super) fn draw(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let [top, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let book = &state.posture;
    let open = book.open().count();
    let summary = match &book.latest {
        Some((at, s)) => Line::from(vec![
            Span::styled(format!("score {}", s.score), theme.accent()),
            Span::raw(format!(
                "  ·  {} pass · {} fail · {} not reported  ·  last posture run {}",
                s.passed,
                s.failed,
                s.unknown,
                safe(at, 32)
            )),
        ]),
        None => Line::from(Span::styled("no posture run yet: `zoomwatch posture --to <this destination>` writes one", theme.dim())),
    };
    let drift = Line::from(format!("{open} setting(s) drifted out of policy and not yet restored  ·  r on a row sets it back"));
    frame.render_widget(Paragraph::new(vec![summary, drift]).block(Block::default().borders(Borders::TOP).title(" Policy posture ")), top);

    let rows_all = book.rows();
    let cursor = state.cursor_of(View::Posture);
    let height = usize::from(list.height.saturating_sub(3));
    let offset = scroll_offset(cursor, height);
    let rows: Vec<TRow<'_>> = rows_all
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let (when, sev, state_word, control, scope, what, style) = match row {
                PostureRow::Open(d) => (
                    clock(&d.at).to_owned(),
                    d.severity,
                    "drifted",
                    d.control.clone(),
                    d.scope.clone(),
                    format!("{} · {} by {}", d.change, d.title, d.who),
                    theme.severity(Some(d.severity)),
                ),
                PostureRow::Failing(f) => (
                    String::new(),
                    f.severity,
                    "failing",
                    f.control.clone(),
                    f.scope.clone(),
                    format!("found {}, expected {} · {}", f.actual, f.expected, f.title),
                    theme.severity(Some(f.severity)),
                ),
                PostureRow::Resolved(d) => (
                    clock(&d.at).to_owned(),
                    d.severity,
                    "restored",
                    d.control.clone(),
                    d.scope.clone(),
                    format!("{} · back {}", d.change, d.resolved.as_deref().unwrap_or("")),
                    theme.dim(),
                ),
            };
            let style = if i == cursor { style.patch(theme.selected()) } else { style };
            TRow::new(vec![
                Cell::from(when),
                Cell::from(sev_letter(Some(sev))),
                Cell::from(state_word),
                Cell::from(safe(&control, 60)),
                Cell::from(safe(&scope, 40)),
                Cell::from(safe(&what, 300)),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(1),
            Constraint::Length(8),
            Constraint::Length(38),
            Constraint::Length(18),
            Constraint::Min(20),
        ],
    )
    .header(TRow::new(vec!["time", "!", "state", "setting", "where", "what"]).style(theme.dim()))
    .block(Block::default().borders(Borders::TOP).title(format!(" Out of policy · {} ", rows_all.len())))
    .column_spacing(1);
    frame.render_widget(table, list);
}
