//! Findings grouped into alerts: one incident, one alert that grows (the subject a
//! rule groups by, the window that keeps an alert open).

use super::*;

impl Detector {
    pub(super) fn scope(grouping: Grouping, r: &RecordV1, mkey: Option<&str>) -> String {
        let mkey = mkey.unwrap_or_default();
        let actor = r.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.id.clone()));
        match grouping {
            Grouping::PerRecord => r.id.clone(),
            Grouping::PerMeeting => {
                if mkey.is_empty() {
                    r.id.clone()
                } else {
                    mkey.to_owned()
                }
            }
            Grouping::PerParticipant => match &r.participant {
                Some(p) => format!("{mkey}|{}", p.identity_key()),
                None => actor.unwrap_or_else(|| r.id.clone()),
            },
            Grouping::PerActor => actor.unwrap_or_else(|| r.id.clone()),
            Grouping::Global => String::new(),
        }
    }

    /// The evidence count of `rule`'s open alert with `scope` at time `t`, if one is open
    /// (what a record joining it would make its count, less one).
    pub(super) fn open_count(&self, rule: &str, scope: &str, t: i64) -> Option<u32> {
        self.mem.open.get(&format!("{rule}\n{scope}")).filter(|o| (t - o.last_ms).abs() <= GROUP_WINDOW_MS).map(|o| o.count)
    }

    pub(super) fn group(&mut self, r: &RecordV1, t: i64, mkey: Option<&str>, f: Finding) -> Option<AlertEvent> {
        let grouping = match catalog::info(&f.rule) {
            Some(info) => info.grouping,
            None => self.cfg.custom_rule(&f.rule)?.grouping,
        };
        let mut scope = Self::scope(grouping, r, mkey);
        if !f.variant.is_empty() {
            scope = format!("{}|{scope}", f.variant);
        }
        let key = format!("{}\n{scope}", f.rule);
        if let Some(open) = self.mem.open.get_mut(&key)
            && (t - open.last_ms).abs() <= GROUP_WINDOW_MS
        {
            open.last_ms = open.last_ms.max(t);
            // One more piece of evidence: the record that made the alert grow.
            open.count += 1;
            return Some(AlertEvent::Grew {
                alert_id: open.id.clone(),
                record_id: r.id.clone(),
                count: open.count,
                severity: f.severity,
                reason: f.reason,
                occurred_at: r.occurred_at.clone(),
            });
        }
        let id = hash_id(&[&f.rule, &scope, &r.id]);
        // An alert's count is its evidence: the records that raised it (a raid's window
        // of joins), then one per record that made it grow — so the count column, the
        // evidence list and a reason that counts (join-burst) say the same number.
        let count = u32::try_from(f.records.len().clamp(1, MAX_RECORD_IDS)).unwrap_or(1);
        self.mem.open.insert(key, OpenAlert { id: id.clone(), last_ms: t, count });
        let meeting = r.meeting.as_ref().map(|m| MeetingBrief { id: m.id.clone(), uuid: m.uuid.clone(), topic: m.topic.clone() });
        let mut records = f.records;
        records.truncate(MAX_RECORD_IDS);
        Some(AlertEvent::Raised(Box::new(Alert {
            id,
            rule: f.rule.into_owned(),
            severity: f.severity,
            reason: f.reason,
            meeting,
            participant: r.participant.clone(),
            actor: r.actor.as_deref().cloned(),
            record_ids: records,
            occurred_at: r.occurred_at.clone(),
            count,
        })))
    }
}
