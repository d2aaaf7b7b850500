//! The rules about what admins and the endpoint do: removals, mass deletion, posture
//! runs that find a setting newly out of policy, bursts of rejected requests, and
//! operators' custom counting rules.

use super::*;

impl Detector {
    pub(super) fn removal_rules(&mut self, r: &RecordV1, t: i64, out: &mut Vec<Finding>) {
        let Some(rule) = self.cfg.rule("rejoin-after-removal") else {
            return;
        };
        let severity = rule.severity;
        let (Some(p), Some(m)) = (&r.participant, &r.meeting) else {
            return;
        };
        // Rejoins may land in a new instance of the same meeting number.
        let Some(mid) = m.id.as_ref().or(m.uuid.as_ref()) else {
            return;
        };
        if r.category == Category::Participant && r.action == "left" {
            let removed = p.leave_reason.as_deref().is_some_and(|reason| self.cfg.removal_reasons.iter().any(|re| re.is_match(reason)));
            if removed {
                let marks = self.mem.removals.entry(mid.clone()).or_default();
                if marks.len() < 1000 {
                    marks.push(RemovalMark { keys: Self::identity_marks(p), at_ms: t });
                }
            }
            return;
        }
        if !is_join(r) {
            return;
        }
        let Some(marks) = self.mem.removals.get(mid) else {
            return;
        };
        let keys = Self::identity_marks(p);
        if let Some(mark) = marks.iter().find(|mk| mk.at_ms <= t && mk.keys.iter().any(|k| keys.contains(k))) {
            let gap = (t - mark.at_ms) / 1000;
            let after = if gap < 120 { format!("{gap} s") } else { format!("{} min", gap / 60) };
            out.push(Finding {
                rule: Cow::Borrowed("rejoin-after-removal"),
                variant: "",
                severity,
                reason: format!("{} rejoined {} {after} after being removed by the host", who(p), meeting_label(r)),
                records: vec![r.id.clone()],
            });
        }
    }

    /// A posture run compared with the account's previous one: settings that fail now
    /// and passed before are `policy-drift` (the first run only sets the baseline).
    pub(super) fn posture_rule(&mut self, r: &RecordV1, out: &mut Vec<Finding>) {
        let Some(now) = crate::posture::summary_of(r) else {
            return;
        };
        let account = r.account_id.clone().unwrap_or_default();
        let Some(before) = self.mem.postures.insert(account, now.clone()) else {
            return;
        };
        if self.cfg.rule("policy-drift").is_none() {
            return;
        }
        let (new, _fixed) = crate::posture::posture_changes(&before, &now);
        let Some(severity) = new.iter().map(|f| f.severity).max() else {
            return;
        };
        let what: Vec<String> = new
            .iter()
            .take(20)
            .map(|f| format!("{} ({}) in {}: expected {}, found {}", f.title, f.control, f.scope, f.expected, f.actual))
            .collect();
        let more = if new.len() > 20 { format!(" and {} more", new.len() - 20) } else { String::new() };
        out.push(Finding {
            rule: Cow::Borrowed("policy-drift"),
            variant: "posture",
            severity,
            reason: crate::text::sanitize(&format!("posture check: newly out of policy: {}{more}", what.join("; ")), 4000).into_owned(),
            records: vec![r.id.clone()],
        });
    }

    pub(super) fn deletion_rule(&mut self, r: &RecordV1, t: i64, out: &mut Vec<Finding>) {
        if !matches!(r.event.as_str(), "meeting.deleted" | "webinar.deleted" | "recording.deleted" | "recording.trashed" | "user.deleted") {
            return;
        }
        let Some(rule) = self.cfg.rule("mass-deletion") else {
            return;
        };
        let (threshold, severity, window) = (rule.threshold, rule.severity, rule.window_secs);
        let Some(actor) = r.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.id.clone())) else {
            return;
        };
        // A clean-up announced in the config is noted, not raised.
        let announced = rule.announced.iter().find(|a| a.operator.eq_ignore_ascii_case(&actor) && (a.from_ms..=a.until_ms).contains(&t));
        let (severity, variant, why) = match announced {
            Some(a) => (Severity::Low, "announced", format!(" — announced in the config: {}", a.note)),
            None => (severity, "", String::new()),
        };
        let w = i64::try_from(window).unwrap_or(i64::MAX / 2).saturating_mul(1000);
        let series = self.mem.deletions.entry(actor.clone()).or_default();
        let (n, range) = insert_and_count(series, t, &r.id, w, threshold as usize);
        let ids = (n >= threshold as usize).then(|| window_ids(series, range, n, threshold as usize, &r.id));
        trim(series, t.saturating_sub(4 * w));
        if let Some(ids) = ids {
            out.push(Finding {
                rule: Cow::Borrowed("mass-deletion"),
                variant,
                severity,
                reason: format!("{actor} deleted {n} meetings/recordings/users within {} min{why}", window / 60),
                records: ids,
            });
        }
    }

    pub(super) fn rejected_rule(&mut self, r: &RecordV1, t: i64, out: &mut Vec<Finding>) {
        let Some(rej) = r.rejection.as_ref().filter(|_| r.event == crate::record::REJECTED_EVENT) else {
            return;
        };
        let Some(rule) = self.cfg.rule("rejected-burst") else {
            return;
        };
        let (threshold, severity, window) = (rule.threshold, rule.severity, rule.window_secs);
        let w = i64::try_from(window).unwrap_or(i64::MAX / 2).saturating_mul(1000);
        let src = r.request.as_ref().and_then(|q| q.source_ip.clone()).unwrap_or_else(|| "?".into());
        let series = &mut self.mem.refused;
        let pos = series.partition_point(|(x, ..)| *x <= t);
        series.insert(pos, (t, 1 + rej.suppressed, r.id.clone(), src.clone()));
        let cut = series.partition_point(|(x, ..)| *x < t.saturating_sub(4 * w)).max(series.len().saturating_sub(MAX_SERIES));
        series.drain(..cut);
        let lo = series.partition_point(|(x, ..)| *x < t.saturating_sub(w));
        let hi = series.partition_point(|(x, ..)| *x <= t);
        let in_window = &series[lo..hi];
        let n: u64 = in_window.iter().map(|(_, c, ..)| *c).sum();
        if n >= u64::from(threshold) {
            // Grouped by source: a flood from one address reads differently from a secret
            // that is wrong everywhere.
            let mut by_source: Vec<(&str, u64)> = Vec::new();
            for (_, c, _, s) in in_window {
                match by_source.iter_mut().find(|(k, _)| *k == s.as_str()) {
                    Some(e) => e.1 += c,
                    None => by_source.push((s.as_str(), *c)),
                }
            }
            by_source.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let mut sources: Vec<String> = by_source.iter().take(3).map(|(s, c)| format!("{s} ×{c}")).collect();
            if by_source.len() > 3 {
                sources.push(format!("{} more", by_source.len() - 3));
            }
            let sources = format!("{} source{}: {}", by_source.len(), if by_source.len() == 1 { "" } else { "s" }, sources.join(", "));
            // The window's records as evidence when the threshold is first reached.
            let first = n - (1 + rej.suppressed) < u64::from(threshold);
            let records: Vec<String> = if first {
                in_window.iter().rev().take(MAX_RECORD_IDS).map(|(_, _, id, _)| id.clone()).collect()
            } else {
                vec![r.id.clone()]
            };
            out.push(Finding {
                rule: Cow::Borrowed("rejected-burst"),
                variant: "",
                severity,
                reason: format!(
                    "{n} requests refused within {window} s from {sources} (latest: {}): someone is probing the endpoint, or the secret is wrong",
                    rej.reason
                ),
                records,
            });
        }
    }

    /// `[[custom_rules]]` with a `count`: that many matching records about one subject
    /// (`per`) within the window.
    pub(super) fn custom_counting_rules(
        &mut self,
        r: &RecordV1,
        t: i64,
        mkey: Option<&str>,
        worst: Option<Severity>,
        out: &mut Vec<Finding>,
    ) {
        if r.event == crate::record::ALERT_EVENT {
            return;
        }
        for c in self.cfg.custom_rules.iter().filter(|c| c.count > 0) {
            if !c.filter.matches_record(r, worst) {
                continue;
            }
            let key = format!("{}\n{}", c.id, Self::scope(c.grouping, r, mkey));
            let w = i64::try_from(c.window_secs).unwrap_or(i64::MAX / 2).saturating_mul(1000);
            let series = self.mem.custom_counts.entry(key).or_default();
            let threshold = c.count as usize;
            let (n, range) = insert_and_count(series, t, &r.id, w, threshold);
            let ids = (n >= threshold).then(|| window_ids(series, range, n, threshold, &r.id));
            trim(series, t.saturating_sub(4 * w));
            if let Some(ids) = ids {
                out.push(Finding {
                    rule: Cow::Owned(c.id.clone()),
                    variant: "",
                    severity: c.severity,
                    reason: format!("{}: {n} matching records within {} s (latest: {})", c.reason, c.window_secs, subjects::describe(r)),
                    records: ids,
                });
            }
        }
    }
}
