//! Meetings on the left (running first, participants now / total, worst flag), the
//! selected meeting's live roster on the right (who is in, waiting, gone; their country
//! when GeoIP knows it; flags).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row as TRow, Table};
use zoomwatch_shared::roster::{MeetingPhase, Presence};
use zoomwatch_shared::timefmt::format_ms;

use super::{Theme, clock, country_of, safe, scroll_offset, sev_letter};
use crate::state::{State, View};

pub(super) fn draw(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let [left, right] = Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    let meetings = state.meetings();
    let cursor = state.cursor_of(View::Meetings);
    let height = usize::from(left.height.saturating_sub(3));
    let offset = scroll_offset(cursor, height);
    let list_cols = [Constraint::Length(1), Constraint::Min(12), Constraint::Length(3), Constraint::Length(3), Constraint::Length(1)];
    // The pane's right border takes a cell.
    let topic_width = super::column_widths(&list_cols, left.width.saturating_sub(1)).get(1).copied().unwrap_or(u16::MAX);
    let rows: Vec<TRow<'_>> = meetings
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, m)| {
            let icon = match m.phase {
                MeetingPhase::Running => "●",
                MeetingPhase::Scheduled => "·",
                MeetingPhase::Ended => "○",
            };
            let label = m.topic.as_deref().or(m.id.as_deref()).map(|t| safe(t, 40)).unwrap_or_else(|| "?".into());
            let label = super::fit(&label, topic_width);
            let mut style = theme.severity(m.worst);
            if i == cursor && !state.roster_focus {
                style = style.patch(theme.selected());
            }
            TRow::new(vec![
                Cell::from(icon),
                Cell::from(label),
                Cell::from(format!("{:>3}", m.present())),
                Cell::from(format!("{:>3}", m.attendees.len() + m.dropped as usize)),
                Cell::from(sev_letter(m.worst)),
            ])
            .style(style)
        })
        .collect();
    let running = meetings.iter().filter(|m| m.phase == MeetingPhase::Running).count();
    let title = format!(" Meetings · {running} in progress of {} ", meetings.len());
    let list = Table::new(rows, list_cols)
        .header(TRow::new(vec!["", "topic", "now", "all", "!"]).style(theme.dim()))
        .block(Block::default().borders(Borders::TOP | Borders::RIGHT).title(Line::from(title)))
        .column_spacing(1);
    frame.render_widget(list, left);

    let Some(m) = meetings.get(cursor) else {
        let block = Block::default().borders(Borders::TOP).title(" Roster ");
        frame.render_widget(block, right);
        return;
    };
    let roster = state.roster_of(m);
    // Time, country, address and presence keep their width; name and email share what
    // is left (an IPv4 address is never cut). On a narrow terminal the address gives way
    // first (the detail pane has it): who is in the meeting matters more.
    let with_ip = right.width >= 70;
    let mut constraints = vec![
        Constraint::Length(8),
        Constraint::Fill(5),
        Constraint::Fill(6),
        Constraint::Length(2),
        Constraint::Length(15),
        Constraint::Length(7),
        Constraint::Length(1),
    ];
    if !with_ip {
        constraints.remove(4);
    }
    let cols = super::column_widths(&constraints, right.width);
    let col = |i: usize| cols.get(i).copied().unwrap_or(u16::MAX);
    let rh = usize::from(right.height.saturating_sub(3));
    let rcur = state.roster_cursor;
    let roff = if state.roster_focus { scroll_offset(rcur, rh) } else { 0 };
    let rows: Vec<TRow<'_>> = roster
        .iter()
        .enumerate()
        .skip(roff)
        .take(rh)
        .map(|(i, a)| {
            let p = &a.participant;
            let since = a.first_join_ms.map(format_ms).unwrap_or_default();
            let name = p.name().map(|n| safe(n, 30)).unwrap_or_else(|| "?".into());
            let id = match (p.email(), p.guest()) {
                (Some(e), _) => safe(e, 36),
                (None, true) => "guest".to_owned(),
                (None, false) => String::new(),
            };
            let role = if a.is_host { "host" } else { "" };
            let presence = match a.presence {
                Presence::In => "in",
                Presence::Waiting => "wait",
                Presence::Left => "left",
            };
            let worst = a.worst.max(state.person_alerts.get(&format!("{}|{}", m.key, a.key)).copied());
            let mut style = theme.severity(worst);
            if a.presence == Presence::Left {
                style = style.patch(theme.dim());
            }
            if state.roster_focus && i == rcur {
                style = style.patch(theme.selected());
            }
            let mut cells = vec![
                Cell::from(clock(&since).to_owned()),
                Cell::from(super::fit(&name, col(1))),
                Cell::from(super::fit(&id, col(2))),
                Cell::from(country_of(p.geo())),
                Cell::from(p.ip().map(|ip| safe(ip, 40)).unwrap_or_default()),
                Cell::from(super::fit(
                    &match a.devices() {
                        // One person on several devices: one row, the count beside it.
                        n @ 2.. => format!("{presence}×{n} {role}"),
                        _ => format!("{presence} {role}"),
                    },
                    col(if with_ip { 5 } else { 4 }),
                )),
                Cell::from(sev_letter(worst)),
            ];
            if !with_ip {
                cells.remove(4);
            }
            TRow::new(cells).style(style)
        })
        .collect();
    let topic = m.topic.as_deref().map(|t| safe(t, 40)).unwrap_or_else(|| m.id.clone().unwrap_or_default());
    let host = if m.host_present() { "host in" } else { "host away" };
    let mut title = format!(" Roster · {topic} · {} in, {} waiting · {host} ", m.present(), m.waiting());
    if m.closed_idle {
        title.push_str("· closed: idle, no meeting.ended came ");
    }
    if m.dropped > 0 {
        title.push_str(&format!("· {} earlier lines not kept ([limits]) ", m.dropped));
    }
    let mut header = vec!["joined", "name", "email", "cc", "ip", "where", "!"];
    if !with_ip {
        header.remove(4);
    }
    let table = Table::new(rows, constraints)
        .header(TRow::new(header).style(theme.dim()))
        .block(Block::default().borders(Borders::TOP).title(Line::from(title)))
        .column_spacing(1);
    frame.render_widget(table, right);
}
