//! The alert queue: alerts raised here or read back from `zoomwatch watch`, their
//! order, triage verdicts (own and other analysts'), and exporting the current view.

use super::*;

/// An alert with the analyst's verdict.
#[derive(Debug, Clone)]
pub struct AlertItem {
    /// The alert.
    pub alert: Alert,
    /// Verdict and note.
    pub triage: triage::Entry,
    /// Also (or only) raised by `zoomwatch watch`: a `zoomwatch.alert` record said so.
    pub from_watch: bool,
    /// Raised by this console's own detector.
    pub own: bool,
}

impl State {
    /// The alert selected in the Alerts view.
    pub fn selected_alert(&self) -> Option<&AlertItem> {
        if self.view != View::Alerts {
            return None;
        }
        self.alert_order.get(self.cursor_of(View::Alerts)).and_then(|i| self.alerts.get(*i))
    }

    /// Alerts shown (filtered) and how many of them are new.
    pub fn shown_alerts(&self) -> (usize, usize) {
        let new = self.alert_order.iter().filter(|i| self.alerts[**i].triage.status == triage::Status::New).count();
        (new, self.alert_order.len())
    }

    /// Unhandled alerts (status new) by severity, for the tab badge.
    pub fn open_alerts(&self) -> (usize, Option<Severity>) {
        let open: Vec<&AlertItem> = self.alerts.iter().filter(|a| a.triage.status == triage::Status::New).collect();
        (open.len(), open.iter().map(|a| a.alert.severity).max())
    }

    /// Where alert `i` sorts: unhandled first, then by severity (newest first within).
    pub(super) fn alert_rank(&self, i: usize) -> crate::alert_order::Rank {
        let a = &self.alerts[i];
        (a.triage.status, std::cmp::Reverse(a.alert.severity))
    }

    pub(super) fn sort_alerts(&mut self) {
        let shown = (0..self.alerts.len()).filter(|i| self.filter.matches_alert(&self.alerts[*i].alert));
        self.alert_order = crate::alert_order::AlertOrder::from_ranked(shown.map(|i| (i, self.alert_rank(i))).collect::<Vec<_>>());
    }

    /// Re-sorts after something arrived (an escalation), the highlighted alert staying
    /// highlighted while the analyst looks at the list.
    fn resort_keeping_selection(&mut self) {
        let selected = (self.view == View::Alerts).then(|| self.alert_order.get(self.cursor_of(View::Alerts)).copied()).flatten();
        self.sort_alerts();
        if let Some(pos) = selected.and_then(|i| self.alert_order.iter_from(0).position(|j| *j == i)) {
            self.cursor.insert(View::Alerts, pos);
        }
    }

    /// Puts the new alert `i` in its place in the display order (if the filter shows it),
    /// keeping the analyst's selection on the same alert.
    pub(super) fn place_alert(&mut self, i: usize) {
        if !self.filter.matches_alert(&self.alerts[i].alert) {
            return;
        }
        let c = self.cursor_of(View::Alerts);
        let had_selection = self.alert_order.len() > c;
        let pos = self.alert_order.insert(i, self.alert_rank(i));
        // While the analyst looks at the list, a new alert is announced (the tab's count),
        // never jumped to: `a`, `x` and `r` act on the alert that was highlighted, even on
        // the top row. Elsewhere the list keeps its newest on top.
        let looking = self.view == View::Alerts;
        if had_selection && pos <= c && (c > 0 || looking) {
            self.cursor.insert(View::Alerts, c + 1);
        }
    }

    /// An alert `zoomwatch watch` wrote: merged by id with the one this console raised
    /// from the same records (ids follow from the records), else added.
    pub(super) fn merge_watch_alert(&mut self, a: zoomwatch_shared::rules::Alert) {
        if let Some(item) = self.alert_pos.get(&a.id).and_then(|i| self.alerts.get_mut(*i)) {
            item.from_watch = true;
            if a.count > item.alert.count {
                item.alert.count = a.count;
                item.alert.record_ids = a.record_ids;
                if !item.own {
                    item.alert.reason = a.reason; // the raid's latest size
                }
            }
            item.alert.severity = item.alert.severity.max(a.severity);
            return;
        }
        self.add_alert(a, false);
    }

    pub(super) fn add_alert(&mut self, a: zoomwatch_shared::rules::Alert, own: bool) {
        // Only alerts about one person mark that person's roster line.
        let about_person = zoomwatch_shared::rules::catalog::info(&a.rule)
            .is_some_and(|i| i.grouping == zoomwatch_shared::rules::Grouping::PerParticipant);
        if let (true, Some(m), Some(p)) = (about_person, &a.meeting, &a.participant)
            && let Some(key) = m.uuid.clone().or_else(|| m.id.as_ref().map(|id| format!("id:{id}")))
        {
            let slot = self.person_alerts.entry(format!("{key}|{}", p.identity_key())).or_insert(a.severity);
            *slot = (*slot).max(a.severity);
        }
        let triage = self.triage.alerts.get(&a.id).cloned().unwrap_or_default();
        let i = self.alerts.len();
        self.alert_pos.insert(a.id.clone(), i);
        self.alerts.push(AlertItem { alert: a, triage, from_watch: !own, own });
        self.place_alert(i);
        self.trim_alerts();
    }

    /// Past the `[limits]` `alerts` cap (once a tenth over it), the bottom of the queue
    /// goes: handled before unhandled, then the lowest severity, then the oldest. The
    /// highlighted alert stays highlighted if it is kept.
    fn trim_alerts(&mut self) {
        let cap = self.detector.config().limits.alerts.max(1);
        if self.alerts.len() <= cap + cap / 10 {
            return;
        }
        let selected = self.alert_order.get(self.cursor_of(View::Alerts)).map(|i| self.alerts[*i].alert.id.clone());
        // Display order is ascending (rank, newest first): the first `cap` stay.
        let mut order: Vec<(crate::alert_order::Rank, std::cmp::Reverse<usize>)> =
            (0..self.alerts.len()).map(|i| (self.alert_rank(i), std::cmp::Reverse(i))).collect();
        order.select_nth_unstable(cap - 1);
        let mut keep = vec![false; self.alerts.len()];
        for (_, std::cmp::Reverse(i)) in &order[..cap] {
            keep[*i] = true;
        }
        let before = self.alerts.len();
        let mut kept = keep.into_iter();
        self.alerts.retain(|_| kept.next().unwrap_or(true));
        self.stats.alerts_dropped += (before - self.alerts.len()) as u64;
        self.alert_pos = self.alerts.iter().enumerate().map(|(i, a)| (a.alert.id.clone(), i)).collect();
        self.sort_alerts();
        if let Some(pos) = selected.and_then(|id| self.alert_order.iter().position(|i| self.alerts[*i].alert.id == id)) {
            self.cursor.insert(View::Alerts, pos);
        } else {
            let c = self.cursor_of(View::Alerts);
            self.set_cursor(View::Alerts, c);
        }
    }

    pub(super) fn apply_alert_event(&mut self, e: AlertEvent) {
        match e {
            AlertEvent::Raised(a) if self.alert_pos.contains_key(&a.id) => {
                // `zoomwatch watch` wrote it first (a log group's streams interleave).
                if let Some(item) = self.alert_pos.get(&a.id).and_then(|i| self.alerts.get_mut(*i)) {
                    item.own = true;
                }
            }
            AlertEvent::Raised(a) => self.add_alert(*a, true),
            AlertEvent::Grew { alert_id, record_id, count, severity, reason, .. } => {
                if let Some(item) = self.alert_pos.get(&alert_id).and_then(|i| self.alerts.get_mut(*i)) {
                    item.alert.count = item.alert.count.max(count);
                    // The newest finding says what the alert is now (a raid's reason counts
                    // the raiders so far), as the watch service's alert records do.
                    item.alert.reason = reason;
                    let escalated = severity > item.alert.severity;
                    if escalated {
                        // An escalation moves up the list.
                        item.alert.severity = severity;
                    }
                    if item.alert.record_ids.len() < 200 {
                        item.alert.record_ids.push(record_id);
                    }
                    if escalated {
                        self.resort_keeping_selection();
                    }
                }
            }
        }
    }

    /// Applies another analyst's (or this one's, read back) action or verdict.
    /// The alert with this id, if this console holds it.
    pub fn alert_by_id(&self, id: &str) -> Option<&AlertItem> {
        self.alert_pos.get(id).and_then(|i| self.alerts.get(*i))
    }

    pub(super) fn apply_response(&mut self, r: &RecordV1) {
        let Some(resp) = zoomwatch_shared::audit::response_of(r) else { return };
        // An action sent with no outcome recorded (yet): the sender may have died mid-call.
        if resp.outcome == Some(zoomwatch_shared::audit::Outcome::Pending) {
            let what = format!("{} {} by {}", r.occurred_at.get(..19).unwrap_or(&r.occurred_at), r.action, resp.analyst);
            if self.in_doubt.len() < 1000 {
                self.in_doubt.insert(r.id.clone(), what);
            }
            return;
        }
        if let Some(intent) = &resp.intent {
            self.in_doubt.remove(intent);
        }
        let Some(id) = resp.alert_id.clone() else { return };
        let entry = self.triage.alerts.entry(id.clone()).or_default();
        if r.event == zoomwatch_shared::record::TRIAGE_EVENT {
            // Last writer wins; an older verdict read late changes nothing. A verdict
            // dated in the future counts as written when it arrived: a forged far-future
            // time must not pin a verdict over every later one.
            let latest_plausible = zoomwatch_shared::timefmt::format_ms(self.now_ms + 5 * 60_000);
            let at =
                if r.occurred_at > latest_plausible { zoomwatch_shared::timefmt::format_ms(self.now_ms) } else { r.occurred_at.clone() };
            if at < entry.updated_at {
                return;
            }
            if let Some(s) = resp.status.as_deref().and_then(triage::Status::parse) {
                entry.status = s;
            }
            entry.note = resp.note.clone().unwrap_or_default();
            entry.updated_at = at;
            entry.by = resp.analyst.clone();
        } else {
            let line = format!(
                "{} {}: {}",
                r.occurred_at.get(11..19).unwrap_or(&r.occurred_at),
                resp.analyst,
                resp.result.as_deref().unwrap_or(&r.action)
            );
            // This console's own actions are already listed (from `Acted`).
            let listed =
                resp.result.as_deref().is_some_and(|res| entry.actions.iter().any(|a| a.ends_with(res) && a.contains(&resp.analyst)));
            if listed {
                return;
            }
            entry.actions.push(line);
        }
        let entry = entry.clone();
        if let Some(item) = self.alert_pos.get(&id).and_then(|i| self.alerts.get_mut(*i)) {
            item.triage = entry;
        }
        self.sort_alerts();
    }

    pub(super) fn triage_selected(&mut self, status: Option<triage::Status>, note: Option<String>) -> Vec<Effect> {
        let Some(pos) = self.alert_order.get(self.cursor_of(View::Alerts)).copied() else {
            self.say("no alert selected");
            return Vec::new();
        };
        let now = format_ms(self.now_ms);
        let item = &mut self.alerts[pos];
        if let Some(s) = status {
            // Pressing the same key again undoes it.
            item.triage.status = if item.triage.status == s { triage::Status::New } else { s };
        }
        let msg = match (&note, status) {
            (Some(_), _) => format!("note saved on {}", item.alert.rule),
            _ => format!("{} → {}", item.alert.rule, item.triage.status.as_str()),
        };
        if let Some(n) = note {
            item.triage.note = n;
        }
        item.triage.updated_at = now;
        item.triage.by = self.analyst.clone();
        let id = item.alert.id.clone();
        let entry = item.triage.clone();
        self.triage.alerts.insert(id.clone(), entry.clone());
        self.sort_alerts();
        self.say(msg);
        vec![Effect::SaveTriage(self.triage.clone()), Effect::ShareTriage { alert_id: id, entry }]
    }

    pub(super) fn export(&mut self, csv: bool) -> Vec<Effect> {
        let stamp = format_ms(self.now_ms).replace([':', '-'], "").replace('T', "-");
        let stamp = stamp.get(..15).unwrap_or(&stamp).to_owned();
        let name = format!("zoomwatch-{}-{stamp}.{}", self.view.title().to_lowercase(), if csv { "csv" } else { "jsonl" });
        let contents = crate::export::export(self, csv);
        vec![Effect::Export { path: name, contents }]
    }
}
