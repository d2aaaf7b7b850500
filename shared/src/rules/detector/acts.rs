//! The rules about what people do in and around a meeting, not who joins: an outsider
//! sharing their screen, an outsider made host or co-host, and registration floods
//! before a meeting or webinar starts. Who someone is comes from the roster (the
//! sharing and role webhooks say little about the person).

use serde_json::Value;

use super::*;

/// What the roster (or, failing it, the record) says about a participant.
struct Who {
    outsider: bool,
    host: bool,
    label: String,
}

impl Detector {
    /// Looks the participant of `r` up in meeting `mkey`'s roster: by identity, else by
    /// display name among those present (guests have no other key in these webhooks).
    fn who_in_meeting(&self, r: &RecordV1, p: &Participant, mkey: Option<&str>) -> Who {
        let m = mkey.and_then(|k| self.mem.book.meetings.get(k));
        let host_id = m.and_then(|m| m.host_id.as_deref()).or_else(|| r.meeting.as_ref().and_then(|m| m.host_id.as_deref()));
        let found = m.and_then(|m| m.find(p));
        match found {
            Some(a) => {
                let known = a.participant.to_participant();
                let host = a.is_host || known.zoom_user_id.as_deref().is_some_and(|z| Some(z) == host_id);
                Who { outsider: !host && is_outsider(&known, &self.cfg), host, label: who(&known) }
            }
            None => {
                let host = p.zoom_user_id.as_deref().is_some_and(|z| Some(z) == host_id);
                Who { outsider: !host && is_outsider(p, &self.cfg), host, label: who(p) }
            }
        }
    }

    pub(super) fn act_rules(&mut self, r: &RecordV1, t: i64, mkey: Option<&str>, out: &mut Vec<Finding>) {
        match (r.category, r.action.as_str()) {
            (Category::Meeting | Category::Webinar, "sharing_started") => self.share_rule(r, mkey, out),
            (Category::Participant, "role_changed") => self.promotion_rule(r, mkey, out),
            (Category::Meeting | Category::Webinar, "registration_created") => self.registration_rule(r, t, mkey, out),
            _ => {}
        }
    }

    fn share_rule(&mut self, r: &RecordV1, mkey: Option<&str>, out: &mut Vec<Finding>) {
        let (Some(rule), Some(p)) = (self.cfg.rule("outsider-screen-share"), &r.participant) else {
            return;
        };
        let w = self.who_in_meeting(r, p, mkey);
        if !w.outsider || w.host {
            return;
        }
        let sensitive =
            r.meeting.as_ref().and_then(|m| m.topic.as_deref()).is_some_and(|t| self.cfg.sensitive_topics.iter().any(|re| re.is_match(t)));
        let severity = if sensitive { rule.severity.max(Severity::High) } else { rule.severity };
        out.push(Finding {
            rule: Cow::Borrowed("outsider-screen-share"),
            variant: "",
            severity,
            reason: format!(
                "{} started sharing their screen in {}{}",
                w.label,
                meeting_label(r),
                if sensitive { " (sensitive topic)" } else { "" }
            ),
            records: vec![r.id.clone()],
        });
    }

    fn promotion_rule(&mut self, r: &RecordV1, mkey: Option<&str>, out: &mut Vec<Finding>) {
        let (Some(rule), Some(p)) = (self.cfg.rule("outsider-promoted"), &r.participant) else {
            return;
        };
        let role = |path: &str, which: fn(&crate::record::Change) -> &Value| {
            r.changes.iter().find(|c| c.path == path).and_then(|c| which(c).as_str()).map(|s| s.trim().to_ascii_lowercase())
        };
        let new = role("participant.role", |c| &c.new).unwrap_or_default();
        let old = role("participant.role", |c| &c.old).unwrap_or_default();
        let powerful = |s: &str| matches!(s, "host" | "co-host" | "cohost" | "co_host" | "alternative host");
        if !powerful(&new) || powerful(&old) && (old == "host" || new != "host") {
            return;
        }
        let w = self.who_in_meeting(r, p, mkey);
        if !w.outsider {
            return;
        }
        out.push(Finding {
            rule: Cow::Borrowed("outsider-promoted"),
            variant: "",
            severity: rule.severity,
            reason: format!(
                "{} was made {} in {} (was {})",
                w.label,
                quote(&new),
                meeting_label(r),
                if old.is_empty() { "?" } else { old.as_str() }
            ),
            records: vec![r.id.clone()],
        });
    }

    fn registration_rule(&mut self, r: &RecordV1, t: i64, mkey: Option<&str>, out: &mut Vec<Finding>) {
        let Some(rule) = self.cfg.rule("registration-flood") else {
            return;
        };
        // Registrations come before any instance exists: counted per meeting number.
        let Some(key) = r.meeting.as_ref().and_then(|m| m.id.clone()).or_else(|| mkey.map(str::to_owned)) else {
            return;
        };
        let (threshold, severity, window) = (rule.threshold as usize, rule.severity, rule.window_secs);
        let w = i64::try_from(window).unwrap_or(i64::MAX / 2).saturating_mul(1000);
        let raw = r.raw.value();
        let email = raw.get("object").and_then(|o| o.get("registrant")).and_then(|g| g.get("email")).and_then(Value::as_str);
        let domain = email.and_then(crate::config::email_domain).unwrap_or_default();
        let series = self.mem.registrations.entry(key).or_default();
        // The domain rides along in the id slot: `id\tdomain`.
        let (n, range) = insert_and_count(series, t, &format!("{}\t{domain}", r.id), w, threshold);
        if n < threshold {
            trim(series, t.saturating_sub(4 * w));
            return;
        }
        let window_entries: Vec<(i64, String)> = series[range].to_vec();
        trim(series, t.saturating_sub(4 * w));
        let domains: Vec<&str> = window_entries.iter().map(|(_, s)| s.split_once('\t').map_or("", |(_, d)| d)).collect();
        let disposable = domains.iter().filter(|d| !d.is_empty() && crate::config::domain_in(d, &self.cfg.disposable_domains)).count();
        let mut by_domain: HashMap<&str, usize> = HashMap::new();
        for d in domains.iter().filter(|d| !d.is_empty() && !crate::config::domain_in(d, &self.cfg.internal_domains)) {
            *by_domain.entry(d).or_default() += 1;
        }
        let top = by_domain.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
        let half = n.div_ceil(2);
        let (severity, why) = if disposable >= half {
            (severity.max(Severity::High), format!(", {disposable} from throwaway-mail domains"))
        } else if let Some((d, k)) = top.filter(|(_, k)| *k >= half) {
            (severity.max(Severity::High), format!(", {k} from {}", crate::text::sanitize(d, 60)))
        } else {
            (severity, String::new())
        };
        // The window is the evidence when the count first reaches the threshold; after
        // that the open alert grows by each new registration.
        let ids = if n <= threshold {
            window_entries
                .iter()
                .rev()
                .take(MAX_RECORD_IDS)
                .map(|(_, s)| s.split_once('\t').map_or(s.as_str(), |(id, _)| id).to_owned())
                .collect()
        } else {
            vec![r.id.clone()]
        };
        out.push(Finding {
            rule: Cow::Borrowed("registration-flood"),
            variant: "",
            severity,
            reason: format!("{n} registrations for {} within {} min{why}", meeting_label(r), window / 60),
            records: ids,
        });
    }
}
