//! Overview: the event rate over the last two minutes, totals, alerts by severity,
//! joins by country (GeoIP), and counts by event type.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};
use zoomwatch_shared::record::Severity;

use super::{Theme, safe};
use crate::state::{RATE_WINDOW, State};

pub(super) fn draw(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let [top, bottom] = Layout::vertical([Constraint::Length(6), Constraint::Min(3)]).areas(area);
    let data: Vec<u64> = state.stats.rate.iter().map(|v| u64::from(*v)).collect();
    let width = usize::from(top.width.saturating_sub(2)).min(RATE_WINDOW);
    let shown = &data[data.len().saturating_sub(width)..];
    let spark = Sparkline::default()
        .block(Block::default().borders(Borders::TOP).title(format!(
            " Events per second · last {} s · now {:.1}/s ",
            shown.len(),
            state.rate_per_sec()
        )))
        .data(shown)
        .style(theme.accent());
    frame.render_widget(spark, top);

    let [left, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(bottom);
    let s = &state.stats;
    let mut sev = [0usize; 4];
    for a in &state.alerts {
        sev[a.alert.severity as usize] += 1;
    }
    let lines = vec![
        Line::from(format!("records      {}", s.records)),
        Line::from(format!("duplicates   {} (Zoom retries, ignored)", s.duplicates)),
        Line::from(format!("not records  {} (skipped lines)", s.skipped)),
        Line::from(format!("rejected     {} requests", s.rejected)),
        Line::from(""),
        Line::from(vec![
            Span::raw("alerts  "),
            Span::styled(format!("high {}  ", sev[Severity::High as usize]), theme.severity(Some(Severity::High))),
            Span::styled(format!("medium {}  ", sev[Severity::Medium as usize]), theme.severity(Some(Severity::Medium))),
            Span::styled(format!("low {}", sev[Severity::Low as usize]), theme.severity(Some(Severity::Low))),
        ]),
        Line::from(format!("meetings     {}", state.detector.meetings().meetings.len())),
        match state.in_doubt.values().next() {
            Some(first) => Line::from(Span::styled(
                format!("actions sent, no outcome recorded: {} (first: {})", state.in_doubt.len(), safe(first, 60)),
                theme.severity(Some(Severity::Medium)),
            )),
            None => Line::from(""),
        },
    ];
    let [totals, caps, places] = Layout::vertical([Constraint::Length(9), Constraint::Length(10), Constraint::Min(2)]).areas(left);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP | Borders::RIGHT).title(if state.filter_text.is_empty() {
            " Totals "
        } else {
            " Totals · every record (the filter applies to the lists) "
        })),
        totals,
    );
    frame.render_widget(
        Paragraph::new(memory_lines(state)).block(Block::default().borders(Borders::TOP | Borders::RIGHT).title(" Memory · held / cap ")),
        caps,
    );

    let mut by_country: Vec<(&String, &(u64, Option<String>))> = s.joins_by_country.iter().collect();
    by_country.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let rows = usize::from(places.height.saturating_sub(1));
    let mut lines: Vec<Line<'_>> = by_country
        .iter()
        .take(rows.saturating_sub(1).max(1))
        .map(|(cc, (n, name))| {
            Line::from(format!("{:<2} {:<24} {:>7}", safe(cc, 2), name.as_deref().map(|x| safe(x, 24)).unwrap_or_default(), n))
        })
        .collect();
    if s.joins_unplaced > 0 || lines.is_empty() {
        lines.push(Line::from(Span::styled(format!("{:<27} {:>7}", "no location", s.joins_unplaced), theme.dim())));
    }
    let title = format!(" Joins by country · {} ", s.joins_by_country.len());
    frame.render_widget(Paragraph::new(lines).block(Block::default().borders(Borders::TOP | Borders::RIGHT).title(title)), places);

    let mut counts: Vec<(&String, &u64)> = s.by_event.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let max = counts.first().map_or(1, |c| *c.1).max(1);
    let bar_w = usize::from(right.width.saturating_sub(44)).max(4);
    let lines: Vec<Line<'_>> = counts
        .iter()
        .take(usize::from(right.height.saturating_sub(1)))
        .map(|(e, n)| {
            let bar = "█".repeat(((**n as usize) * bar_w).div_ceil(max as usize).max(1));
            Line::from(vec![Span::raw(format!("{:<34} {:>6} ", safe(e, 34), n)), Span::styled(bar, theme.accent())])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(" By event type ")), right);
}

/// A byte count for a person: KB below a megabyte, MB above.
fn bytes(n: usize) -> String {
    if n < 1 << 20 { format!("{} KB", n.div_ceil(1 << 10)) } else { format!("{} MB", n.div_ceil(1 << 20)) }
}

/// A cap's time span: hours when whole, minutes otherwise.
fn span(ms: i64) -> String {
    if ms % 3_600_000 == 0 { format!("{} h", ms / 3_600_000) } else { format!("{} min", ms / 60_000) }
}

/// What the console holds against each cap (`--retention`, `[limits]`, built-in caps).
fn memory_lines(state: &State) -> Vec<Line<'static>> {
    let g = |n: u64| zoomwatch_shared::text::group_digits(&n.to_string());
    let m = state.detector.memory();
    let u = |n: usize| g(n as u64);
    // "label  held / cap (n gone)", the part in brackets only once something went.
    let cap = |label: &str, held: usize, cap: usize, gone: u64, what: &str| {
        let gone = if gone > 0 { format!(" ({} {what})", g(gone)) } else { String::new() };
        Line::from(format!("{label:<13} {} / {}{gone}", u(held), u(cap)))
    };
    vec![
        Line::from(format!("records       {} / {} · {}", u(state.rows.len()), u(state.retention), bytes(state.held_bytes))),
        cap("alerts", state.alerts.len(), m.limits.alerts, state.stats.alerts_dropped, "dropped"),
        cap("present", m.book.present, m.limits.present, m.trimmed.presences, "taken as left"),
        cap("ended rosters", m.book.ended_rosters, m.limits.ended_rosters, m.trimmed.rosters, "dropped"),
        cap("left/roster", m.book.most_departed, m.limits.departed_per_meeting, m.trimmed.departed, "dropped"),
        Line::from(format!("idle closed   {} (silent {})", g(m.trimmed.closed_idle), span(m.limits.idle_meeting_ms))),
        cap("learned names", m.learned_names, m.limits.learned_names, m.forgotten_names, "forgotten"),
        cap("travel ids", m.travel_identities, m.travel_cap, 0, ""),
        cap("record ids", m.record_ids, m.record_ids_cap, 0, ""),
    ]
}
