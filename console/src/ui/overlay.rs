//! What is drawn over the body: the help (from the keymap table), the detail pane (the
//! selected record's JSON, an alert with its records, a meeting's roster), and the
//! status line at the bottom (notices, or the filter/note prompt).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::timefmt::format_ms;

use super::{Theme, safe, whereabouts};
use crate::state::{Overlay, PromptKind, State, View};

fn popup(area: Rect) -> Rect {
    let [_, mid, _] = Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(0)]).areas(area);
    let [_, c, _] = Layout::horizontal([Constraint::Length(2), Constraint::Min(10), Constraint::Length(2)]).areas(mid);
    c
}

/// The help's foot: every filter term, and what the columns' markers mean.
pub(crate) const HELP_FOOT: &str = " Filter (/), terms combine: meeting:X user:X type:X sev:>=medium country:GB asn:N \
is:guest|registered|host since:15m between:09:00..09:30, or text. \
Markers: H/M/L/i severity · ● running ○ ended · meeting (roster) ● in ○ left, ×N devices · cc country of the IP · ×N alert findings.";

pub(super) fn help(_state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    // Two columns of keys, the foot and the borders; on a short terminal the help covers
    // the header and the footer too, so every key shows.
    let rows = u16::try_from(crate::keymap::help().len().div_ceil(2)).unwrap_or(u16::MAX);
    let area = if popup(area).height < rows + 6 { frame.area() } else { popup(area) };
    frame.render_widget(Clear, area);
    let block = Block::default().borders(Borders::ALL).title(" Help · Esc or ? closes ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [cols, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(4)]).areas(inner);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(cols);
    let entries: Vec<Line<'_>> = crate::keymap::help()
        .into_iter()
        .map(|(keys, what, scope)| {
            let scope = match scope {
                crate::keymap::Scope::Global => "",
                crate::keymap::Scope::Alerts => " (alerts)",
                crate::keymap::Scope::Meetings => " (meetings)",
                crate::keymap::Scope::Dialog => " (dialogs)",
            };
            Line::from(vec![Span::styled(format!(" {keys:<10}"), theme.accent()), Span::raw(format!("{what}{scope}"))])
        })
        .collect();
    let half = entries.len().div_ceil(2);
    let (a, b) = entries.split_at(half);
    frame.render_widget(Paragraph::new(a.to_vec()), left);
    frame.render_widget(Paragraph::new(b.to_vec()), right);
    frame.render_widget(Paragraph::new(HELP_FOOT).style(theme.dim()).wrap(Wrap { trim: true }), foot);
}

fn record_lines(r: &RecordV1, out: &mut Vec<Line<'static>>) {
    // Through a JSON value so the stored payload text is laid out too.
    let pretty = serde_json::to_value(r).and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or_default();
    // serde_json escapes control characters; sanitize also drops bidi/zero-width ones.
    out.extend(pretty.lines().map(|l| Line::from(safe(l, 400))));
}

fn detail_lines(state: &State, theme: Theme) -> (String, Vec<Line<'static>>) {
    let mut out = Vec::new();
    match state.view {
        View::Alerts => {
            let Some(item) = state.selected_alert() else { return (String::new(), out) };
            let a = &item.alert;
            out.push(Line::from(Span::styled(
                format!("{} · {} · {}", a.severity.as_str().to_uppercase(), a.rule, item.triage.status.as_str()),
                theme.severity(Some(a.severity)),
            )));
            out.push(Line::from(safe(&a.reason, 1000)));
            out.push(Line::from(format!("first seen {} · {} record(s) of evidence", a.occurred_at, a.count)));
            match (item.own, item.from_watch) {
                (true, true) => {
                    out.push(Line::from(Span::styled("raised here and by zoomwatch watch (a zoomwatch.alert record)", theme.dim())))
                }
                (false, true) => out.push(Line::from(Span::styled(
                    "raised by zoomwatch watch (a zoomwatch.alert record); the records it rests on are not in this console",
                    theme.dim(),
                ))),
                _ => {}
            }
            if let Some(line) = a.participant.as_ref().and_then(|p| whereabouts(p.ip.as_deref(), p.geo.as_deref())) {
                out.push(Line::from(line));
            }
            if let Some(info) = zoomwatch_shared::rules::catalog::info(&a.rule) {
                out.push(Line::from(Span::styled(format!("rule: {}", info.summary), theme.dim())));
            }
            if !item.triage.note.is_empty() {
                out.push(Line::from(format!("note: {}", safe(&item.triage.note, 500))));
            }
            if !item.triage.by.is_empty() {
                out.push(Line::from(Span::styled(
                    format!("{} by {} at {}", item.triage.status.as_str(), safe(&item.triage.by, 60), item.triage.updated_at),
                    theme.dim(),
                )));
            }
            if !item.triage.actions.is_empty() {
                out.push(Line::from(Span::styled("response actions:", theme.accent())));
                for a in &item.triage.actions {
                    out.push(Line::from(format!("  {}", safe(a, 300))));
                }
            }
            out.push(Line::from(""));
            let listed =
                if a.record_ids.len() < a.count as usize { format!(" (the first {} listed)", a.record_ids.len()) } else { String::new() };
            out.push(Line::from(format!("evidence{listed}: {}", a.record_ids.join(" "))));
            if let Some(first) = a.record_ids.first()
                && let Some(r) = state
                    .rows
                    .iter()
                    .rev()
                    .filter(|r| r.line().contains(first.as_str()))
                    .filter_map(crate::state::Row::record)
                    .find(|r| &r.id == first)
            {
                out.push(Line::from(""));
                out.push(Line::from(Span::styled(format!("the first of them, {}:", safe(&r.event, 60)), theme.dim())));
                record_lines(&r, &mut out);
            }
            ("Alert".into(), out)
        }
        View::Meetings => {
            let Some(m) = state.selected_meeting() else { return (String::new(), out) };
            out.push(Line::from(format!(
                "{} · meeting {} · uuid {}",
                m.topic.as_deref().map(|t| safe(t, 80)).unwrap_or_default(),
                m.id.clone().unwrap_or_default(),
                safe(&m.key, 60)
            )));
            out.push(Line::from(format!(
                "{:?} · started {} · ended {} · host {} · {} in, {} waiting, {} seen",
                m.phase,
                m.started_ms.map(format_ms).unwrap_or_else(|| "?".into()),
                m.ended_ms.map(format_ms).unwrap_or_else(|| "-".into()),
                if m.host_present() { "in" } else { "away" },
                m.present(),
                m.waiting(),
                m.attendees.len()
            )));
            out.push(Line::from(""));
            for a in state.roster_of(m) {
                let p = &a.participant;
                out.push(Line::from(format!(
                    "{:<5} {:<28} {:<32} {:<16} joins {} · first {} · left {}{}",
                    format!("{:?}", a.presence).to_lowercase(),
                    p.name().map(|n| safe(n, 28)).unwrap_or_default(),
                    p.email().map(|e| safe(e, 32)).unwrap_or_else(|| if p.guest() { "guest".into() } else { String::new() }),
                    p.ip().map(|i| safe(i, 16)).unwrap_or_default(),
                    a.joins,
                    a.first_join_ms.map(format_ms).unwrap_or_default(),
                    a.left_ms.map(format_ms).unwrap_or_default(),
                    p.leave_reason().map(|r| format!(" · {}", safe(r, 80))).unwrap_or_default()
                )));
                if let Some(g) = p.geo() {
                    out.push(Line::from(Span::styled(format!("      {}", whereabouts(p.ip(), Some(g)).unwrap_or_default()), theme.dim())));
                }
            }
            ("Meeting".into(), out)
        }
        _ => {
            let Some(row) = state.selected_row() else { return (String::new(), out) };
            for f in &row.flags {
                out.push(Line::from(Span::styled(
                    format!("{} {} — {}", f.severity.as_str().to_uppercase(), f.rule, safe(&f.reason, 400)),
                    theme.severity(Some(f.severity)),
                )));
            }
            let Some(r) = row.record() else { return (String::new(), out) };
            let r = &r;
            let located = [
                r.participant.as_ref().map(|p| (p.ip.as_deref(), p.geo.as_deref())),
                r.actor.as_ref().map(|a| (a.ip.as_deref(), a.geo.as_deref())),
            ];
            for (ip, geo) in located.into_iter().flatten() {
                if let Some(line) = whereabouts(ip, geo) {
                    out.push(Line::from(line));
                }
            }
            if !out.is_empty() {
                out.push(Line::from(""));
            }
            record_lines(r, &mut out);
            ("Record".into(), out)
        }
    }
}

pub(super) fn detail(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let area = popup(area);
    let (title, lines) = detail_lines(state, theme);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((state.detail_scroll, 0))
        .block(Block::default().borders(Borders::ALL).title(format!(" {title} · ↑↓ PgUp PgDn scroll · Esc closes ")));
    frame.render_widget(p, area);
}

pub(super) fn status_line(state: &State, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let line = match &state.overlay {
        Overlay::Prompt(p) => {
            let label = match &p.kind {
                PromptKind::Filter => "filter",
                PromptKind::Note(_) => "note",
            };
            let mut spans =
                vec![Span::styled(format!(" {label}> "), theme.accent()), Span::raw(safe(&p.text, 200)), Span::styled("▏", theme.accent())];
            if let Some(e) = &p.error {
                spans.push(Span::styled(format!("  {}", safe(e, 120)), theme.severity(Some(zoomwatch_shared::Severity::High))));
            } else if p.kind == PromptKind::Filter {
                spans.push(Span::styled("  ⏎ apply · Esc cancel · e.g. meeting:all-hands user:jdoe sev:>=medium", theme.dim()));
            }
            Line::from(spans)
        }
        _ => match (&state.notice, &state.conn) {
            // A stopped source outranks any notice: nothing else works until it is fixed.
            (_, zoomwatch_log::source::Status::Failed(why)) => Line::from(Span::styled(
                format!(" stopped, not retrying: {} — then start zoomwatch again (q quits)", safe(why, usize::from(area.width).max(40))),
                theme.severity(Some(zoomwatch_shared::Severity::High)),
            )),
            (Some((text, _)), _) => Line::from(Span::styled(format!(" {}", safe(text, 200)), theme.accent())),
            // The source's trouble in full (the header has room for its start only): the
            // fix is usually in the message (credentials, region, the file's path).
            (None, zoomwatch_log::source::Status::Reconnecting(why) | zoomwatch_log::source::Status::Waiting(why)) => {
                Line::from(Span::styled(
                    format!(" {}", safe(why, usize::from(area.width).max(40))),
                    theme.severity(Some(zoomwatch_shared::Severity::High)),
                ))
            }
            (None, _) => {
                let skipped = if state.stats.skipped > 0 {
                    format!(" · {} lines skipped (not records)", state.stats.skipped)
                } else {
                    String::new()
                };
                Line::from(Span::styled(format!(" {} records · {} alerts{skipped}", state.stats.records, state.alerts.len()), theme.dim()))
            }
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The response menu: what fits the selection, ⏎ picks, Esc closes.
pub(super) fn respond(menu: &crate::respond::Menu, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let height = u16::try_from(menu.items.len()).unwrap_or(10).saturating_add(4).min(area.height);
    let area = centered(area, height);
    frame.render_widget(Clear, area);
    let mut lines = vec![Line::from(Span::styled(format!(" {}", safe(&menu.subject, 200)), theme.dim())), Line::from("")];
    for (i, item) in menu.items.iter().enumerate() {
        let read_only = matches!(item, crate::respond::Item::Look(_));
        let text = format!(
            "{} {}{}",
            if i == menu.cursor { "▶" } else { " " },
            safe(&item.label(), 200),
            if read_only { "  (read-only)" } else { "" }
        );
        lines.push(if i == menu.cursor { Line::from(Span::styled(text, theme.selected())) } else { Line::from(text) });
    }
    let block = Block::default().borders(Borders::ALL).title(" Respond through Zoom · ↑↓ choose · ⏎ select · Esc closes ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The saved filters menu.
pub(super) fn saved(filters: &[(String, String)], cursor: usize, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let height = u16::try_from(filters.len()).unwrap_or(10).saturating_add(2).min(area.height);
    let area = centered(area, height);
    frame.render_widget(Clear, area);
    let lines: Vec<Line<'_>> = filters
        .iter()
        .enumerate()
        .map(|(i, (name, text))| {
            let key = if i < 9 { format!("{}", i + 1) } else { " ".to_owned() };
            let line = format!("{} {key} {}  {}", if i == cursor { "▶" } else { " " }, safe(name, 40), safe(text, 200));
            if i == cursor { Line::from(Span::styled(line, theme.selected())) } else { Line::from(line) }
        })
        .collect();
    let block = Block::default().borders(Borders::ALL).title(" Saved filters · ↑↓ or 1–9 · ⏎ apply · Esc closes ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The confirmation: exactly what will be called on whom.
pub(super) fn confirm(
    actions: &[zoomwatch_zoomapi::Action],
    alert_id: Option<&str>,
    age: Option<&str>,
    frame: &mut Frame<'_>,
    area: Rect,
    theme: Theme,
) {
    let Some(action) = actions.first() else { return };
    let area = centered(area, 9.min(area.height));
    frame.render_widget(Clear, area);
    let (summary, request) = match actions.len() {
        1 => (action.summary(), action.request().to_string()),
        n => (format!("{} calls: {}, and {} more like it", n, action.summary(), n - 1), format!("{} … (one call each)", action.request())),
    };
    let lines = vec![
        Line::from(Span::styled(format!(" {}", safe(&summary, 300)), theme.severity(Some(zoomwatch_shared::Severity::High)))),
        Line::from(""),
        Line::from(format!(" {}", safe(&request, 300))),
        Line::from(Span::styled(format!(" needs scope {} · audited as zoomwatch.action", action.scope()), theme.dim())),
        Line::from(Span::styled(
            alert_id
                .map(|a| format!(" in response to alert {a}{}", age.map(|g| format!(", raised {g} ago")).unwrap_or_default()))
                .unwrap_or_default(),
            theme.dim(),
        )),
        Line::from(""),
        Line::from(vec![
            Span::styled(" y", theme.accent()),
            Span::raw(" do it   "),
            Span::styled("n / Esc", theme.accent()),
            Span::raw(" cancel"),
        ]),
    ];
    let block = Block::default().borders(Borders::ALL).title(" Confirm a Zoom action ");
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

/// A lookup's answer.
pub(super) fn info(state: &State, title: &str, lines: &[String], frame: &mut Frame<'_>, area: Rect) {
    let area = popup(area);
    frame.render_widget(Clear, area);
    let body: Vec<Line<'_>> = lines.iter().map(|l| Line::from(safe(l, 400))).collect();
    let p = Paragraph::new(body)
        .wrap(Wrap { trim: false })
        .scroll((state.detail_scroll, 0))
        .block(Block::default().borders(Borders::ALL).title(format!(" {} · Esc closes ", safe(title, 100))));
    frame.render_widget(p, area);
}

fn centered(area: Rect, height: u16) -> Rect {
    let [_, mid, _] = Layout::vertical([Constraint::Fill(1), Constraint::Length(height), Constraint::Fill(1)]).areas(area);
    let [_, c, _] = Layout::horizontal([Constraint::Length(2), Constraint::Min(10), Constraint::Length(2)]).areas(mid);
    c
}
