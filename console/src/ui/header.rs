//! The header (source, connection, lag, rate, rejected, undelivered, last validation) and the tab bar
//! with the filter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, ago, safe};
use crate::state::{State, View};
use zoomwatch_log::source::Status;

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `n` seconds of the event rate as block characters.
pub fn sparkline(state: &State, n: usize) -> String {
    let rate = &state.stats.rate;
    let tail: Vec<u32> = rate.iter().skip(rate.len().saturating_sub(n)).copied().collect();
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    tail.iter().map(|v| if *v == 0 { ' ' } else { SPARK[((*v * 7) / max) as usize] }).collect()
}

pub(super) fn draw_header(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let (dot, conn, style) = match &state.conn {
        Status::Live => ("●", "LIVE".to_owned(), theme.accent()),
        Status::Backfilling => {
            // How far the catch-up has come: records read, and how recent the newest is.
            let upto = state.stats.last_received_ms.map(|l| format!(", newest {} old", ago(state.now_ms, l))).unwrap_or_default();
            (
                "◐",
                format!("BACKFILL {} read{upto}", zoomwatch_shared::text::group_digits(&state.stats.records.to_string())),
                theme.severity(Some(zoomwatch_shared::Severity::Low)),
            )
        }
        Status::Done => ("■", "END".to_owned(), theme.dim()),
        Status::Waiting(w) => ("○", format!("WAITING {}", safe(w, 40)), theme.severity(Some(zoomwatch_shared::Severity::Medium))),
        Status::Reconnecting(w) => ("○", format!("RECONNECTING {}", safe(w, 40)), theme.severity(Some(zoomwatch_shared::Severity::High))),
        Status::Failed(w) => ("■", format!("STOPPED {}", safe(w, 40)), theme.severity(Some(zoomwatch_shared::Severity::High))),
    };
    let mut spans = vec![
        Span::styled(" zoomwatch ", theme.accent()),
        Span::raw(format!("─ {} ", safe(&state.source, 48))),
        Span::styled(format!("{dot} {conn}"), style),
    ];
    if state.paused_at.is_some() {
        spans.push(Span::styled(
            format!("  ⏸ PAUSED +{} new (p)", state.arrived_while_paused()),
            theme.severity(Some(zoomwatch_shared::Severity::Medium)),
        ));
    }
    if let Some(lag) = state.stats.lag_ms {
        spans.push(Span::raw(format!("  lag {:.1}s", lag as f64 / 1000.0)));
    }
    spans.push(Span::raw(format!("  {:.1} ev/s ", state.rate_per_sec())));
    spans.push(Span::styled(sparkline(state, 12), theme.accent()));
    let rej_style = if state.stats.rejected > 0 { theme.severity(Some(zoomwatch_shared::Severity::Medium)) } else { Style::default() };
    spans.push(Span::styled(format!("  rejected {}", state.stats.rejected), rej_style));
    if state.stats.undelivered > 0 {
        // Receiver health: Zoom says it could not reach us (from its delivery log).
        spans.push(Span::styled(
            format!("  undelivered {}", state.stats.undelivered),
            theme.severity(Some(zoomwatch_shared::Severity::Medium)),
        ));
    }
    if state.stats.unclaimed > 0 {
        // Receiver health: written without the exactly-once check (claim store down).
        spans.push(Span::styled(
            format!("  at-least-once {}", state.stats.unclaimed),
            theme.severity(Some(zoomwatch_shared::Severity::Medium)),
        ));
    }
    match state.stats.last_validation_ms {
        Some(v) => spans.push(Span::raw(format!("  validated {} ago", ago(state.now_ms, v)))),
        None => spans.push(Span::styled("  not validated yet", theme.dim())),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub(super) fn draw_tabs(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let label = |i: usize, v: &View, title: &str| match v {
        View::Meetings => {
            // In progress among those the panel lists (under a filter, the ones it matches).
            let running = state.meetings().iter().filter(|m| m.phase == zoomwatch_shared::roster::MeetingPhase::Running).count();
            format!("{} {title} {running}", i + 1)
        }
        View::Alerts => {
            // Under a filter the badge counts what the panel shows.
            let open = if state.filter_text.is_empty() { state.open_alerts().0 } else { state.shown_alerts().0 };
            if open > 0 { format!("{} {title} {open}!", i + 1) } else { format!("{} {title}", i + 1) }
        }
        _ => format!("{} {title}", i + 1),
    };
    let full: Vec<String> = View::ALL.iter().enumerate().map(|(i, v)| label(i, v, v.title())).collect();
    // On a narrow terminal the other views' names shrink so that every tab shows.
    let width: usize = full.iter().map(|l| l.chars().count() + 3).sum();
    let labels: Vec<String> = if width > usize::from(area.width) {
        View::ALL
            .iter()
            .enumerate()
            .map(|(i, v)| if *v == state.view { full[i].clone() } else { label(i, v, &v.title()[..4.min(v.title().len())]) })
            .collect()
    } else {
        full
    };
    let mut spans = Vec::new();
    for (v, label) in View::ALL.iter().zip(labels) {
        let mut style = if *v == View::Alerts { theme.severity(state.open_alerts().1) } else { Style::default() };
        if *v == state.view {
            style = style.patch(theme.selected());
        }
        spans.push(Span::styled(format!("[{label}]"), style));
        spans.push(Span::raw(" "));
    }
    if !state.filter_text.is_empty() {
        spans.push(Span::styled(format!("  filter: {}", safe(&state.filter_text, 60)), theme.accent()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
