//! Exporting the current view (what the filter shows) as JSON Lines or CSV. CSV cells
//! are quoted as needed, and cells that a spreadsheet would run as a formula (`=`, `+`,
//! `-`, `@` first) are prefixed with `'` — display names are attacker-controlled.

use zoomwatch_shared::timefmt::format_ms;

use crate::state::{State, View};

/// One CSV cell: control and invisible characters removed, a leading formula trigger
/// (`= + - @`) defused with `'`, and always quoted — so a spreadsheet that splits on `;`
/// or tabs (other locales) cannot make a formula of a piece of it either.
fn cell(s: &str) -> String {
    let s = zoomwatch_shared::text::sanitize(s, 32_000);
    let s = if s.trim_start().starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.into_owned() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn line(cells: &[&str]) -> String {
    let mut out = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

/// The current view of `state` as JSONL (`csv == false`) or CSV.
pub fn export(state: &State, csv: bool) -> String {
    let mut out = String::new();
    match state.view {
        View::Feed | View::Participants | View::Admin => {
            if csv {
                out.push_str(&line(&[
                    "occurred_at",
                    "event",
                    "meeting_id",
                    "meeting_uuid",
                    "topic",
                    "participant",
                    "email",
                    "guest",
                    "ip",
                    "actor",
                    "flags",
                    "id",
                ]));
            }
            // Oldest first: the natural order of a log.
            let rows: Vec<_> = state.list_rows(state.view).collect();
            for row in rows.into_iter().rev() {
                let Some(mut rec) = row.record() else { continue };
                let r = &rec;
                if csv {
                    let m = r.meeting.as_ref();
                    let p = r.participant.as_ref();
                    let flags = row.flags.iter().map(|f| format!("{}:{}", f.severity.as_str(), f.rule)).collect::<Vec<_>>().join(" ");
                    out.push_str(&line(&[
                        &r.occurred_at,
                        &r.event,
                        m.and_then(|m| m.id.as_deref()).unwrap_or(""),
                        m.and_then(|m| m.uuid.as_deref()).unwrap_or(""),
                        m.and_then(|m| m.topic.as_deref()).unwrap_or(""),
                        p.and_then(|p| p.name.as_deref()).unwrap_or(""),
                        p.and_then(|p| p.email.as_deref()).unwrap_or(""),
                        if p.is_some_and(|p| p.guest) { "true" } else { "" },
                        p.and_then(|p| p.ip.as_deref()).unwrap_or(""),
                        r.actor.as_ref().and_then(|a| a.email.as_deref()).unwrap_or(""),
                        &flags,
                        &r.id,
                    ]));
                } else {
                    rec.flags = row.flags.clone();
                    out.push_str(&serde_json::to_string(&rec).unwrap_or_default());
                    out.push('\n');
                }
            }
        }
        View::Alerts => {
            if csv {
                out.push_str(&line(&["occurred_at", "severity", "rule", "status", "count", "reason", "meeting_topic", "note", "id"]));
            }
            for i in state.alert_order.iter() {
                let item = &state.alerts[*i];
                let a = &item.alert;
                if csv {
                    let count = a.count.to_string();
                    out.push_str(&line(&[
                        &a.occurred_at,
                        a.severity.as_str(),
                        &a.rule,
                        item.triage.status.as_str(),
                        &count,
                        &a.reason,
                        a.meeting.as_ref().and_then(|m| m.topic.as_deref()).unwrap_or(""),
                        &item.triage.note,
                        &a.id,
                    ]));
                } else {
                    let mut v = serde_json::to_value(a).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("triage".into(), serde_json::to_value(&item.triage).unwrap_or_default());
                    }
                    out.push_str(&v.to_string());
                    out.push('\n');
                }
            }
        }
        View::Meetings => {
            if csv {
                out.push_str(&line(&[
                    "meeting",
                    "uuid",
                    "topic",
                    "phase",
                    "present",
                    "participant",
                    "email",
                    "guest",
                    "ip",
                    "presence",
                    "first_join",
                    "left",
                ]));
            }
            for m in state.meetings() {
                for a in state.roster_of(m) {
                    let p = &a.participant;
                    let first = a.first_join_ms.map(format_ms).unwrap_or_default();
                    let left = a.left_ms.map(format_ms).unwrap_or_default();
                    let presence = format!("{:?}", a.presence).to_lowercase();
                    let phase = format!("{:?}", m.phase).to_lowercase();
                    if csv {
                        let present = m.present().to_string();
                        out.push_str(&line(&[
                            m.id.as_deref().unwrap_or(""),
                            &m.key,
                            m.topic.as_deref().unwrap_or(""),
                            &phase,
                            &present,
                            p.name().unwrap_or(""),
                            p.email().unwrap_or(""),
                            if p.guest() { "true" } else { "" },
                            p.ip().unwrap_or(""),
                            &presence,
                            &first,
                            &left,
                        ]));
                    } else {
                        let v = serde_json::json!({"meeting": {"id": m.id, "uuid": m.key, "topic": m.topic, "phase": phase},
                            "participant": p, "presence": presence, "first_join": first, "left": left, "joins": a.joins});
                        out.push_str(&v.to_string());
                        out.push('\n');
                    }
                }
            }
        }
        View::Posture => {
            use crate::state::posture::PostureRow;
            if csv {
                out.push_str(&line(&["state", "setting", "scope", "what", "severity", "at"]));
            }
            for row in state.posture.rows() {
                let (st, control, scope, what, sev, at) = match row {
                    PostureRow::Open(d) => {
                        ("drifted", d.control.as_str(), d.scope.as_str(), format!("{} by {}", d.change, d.who), d.severity, d.at.as_str())
                    }
                    PostureRow::Resolved(d) => {
                        ("restored", d.control.as_str(), d.scope.as_str(), d.change.clone(), d.severity, d.at.as_str())
                    }
                    PostureRow::Failing(f) => (
                        "failing",
                        f.control.as_str(),
                        f.scope.as_str(),
                        format!("found {}, expected {}", f.actual, f.expected),
                        f.severity,
                        "",
                    ),
                };
                if csv {
                    out.push_str(&line(&[st, control, scope, &what, sev.as_str(), at]));
                } else {
                    out.push_str(&serde_json::json!({"state": st, "setting": control, "scope": scope, "what": what, "severity": sev.as_str(), "at": at}).to_string());
                    out.push('\n');
                }
            }
        }
        View::Overview => {
            let mut counts: Vec<(&String, &u64)> = state.stats.by_event.iter().collect();
            counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            if csv {
                out.push_str(&line(&["event", "count"]));
            }
            for (e, n) in counts {
                if csv {
                    out.push_str(&line(&[e, &n.to_string()]));
                } else {
                    out.push_str(&serde_json::json!({"event": e, "count": n}).to_string());
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("a;=1+1;b"), "\"a;=1+1;b\"", "quoted: a ';' locale keeps it one cell");
        assert_eq!(cell(" =1+1"), "\"' =1+1\"");
        assert_eq!(cell("x\u{1b}[31my\u{202E}z"), "\"xyz\"");
    }
}
