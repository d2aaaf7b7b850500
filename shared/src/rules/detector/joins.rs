//! The rules a join triggers: bursts and trickles of outsiders, impersonation, watchlist
//! names, rejoins after removal, concurrent sessions and travel.

use super::*;

impl Detector {
    pub(super) fn join_rules(
        &mut self,
        r: &RecordV1,
        t: i64,
        norm_name: Option<(&str, u64)>,
        mkey: Option<&str>,
        worst_flag: Option<Severity>,
        out: &mut Vec<Finding>,
    ) {
        if !is_join(r) {
            return;
        }
        let (Some(p), Some(mkey)) = (&r.participant, mkey) else {
            return;
        };
        // Formatted only when a rule fires.
        let topic = || meeting_label(r);
        let outsider = is_outsider(p, &self.cfg);

        let burst = self.cfg.rule("join-burst").filter(|_| outsider);
        let trickle = self.cfg.rule("join-trickle").filter(|_| outsider);
        if burst.is_some() || trickle.is_some() {
            let ms = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX / 2).saturating_mul(1000);
            // Who is arriving: a registered attendee, or someone the host admitted from
            // the waiting room, was vetted; a flagged join (junk name, watchlist,
            // anonymizer) never counts as vetted, whatever its registration.
            let admitted = self.mem.book.meetings.get(mkey).and_then(|m| m.attendees.get(&p.identity_key())).is_some_and(|a| a.admitted);
            let vetted = worst_flag < Some(Severity::Medium) && (p.registrant_id.is_some() || admitted);
            let (threshold, w) = match (burst, trickle) {
                (Some(b), _) => (b.threshold as usize, ms(b.window_secs)),
                (None, Some(tr)) => (tr.threshold as usize, ms(tr.window_secs)),
                (None, None) => (usize::MAX, 0),
            };
            // Kept long enough for both time scales.
            let keep = (4 * w).max(trickle.map_or(0, |tr| ms(tr.window_secs)));
            let series = if vetted { &mut self.mem.vetted_joins } else { &mut self.mem.outsider_joins };
            let series = match series.get_mut(mkey) {
                Some(s) => s,
                None => series.entry(mkey.to_owned()).or_default(),
            };
            let (n, range) = insert_and_count(series, t, &r.id, w, threshold);
            let raid_ids = (!vetted && n >= threshold).then(|| window_ids(series, range, n, threshold, &r.id));
            trim(series, t.saturating_sub(keep));
            let others = if vetted { &self.mem.outsider_joins } else { &self.mem.vetted_joins };
            let other_n = others.get(mkey).map_or(0, |s| count_between(s, t.saturating_sub(w), t));
            let (unvetted_n, vetted_n) = if vetted { (other_n, n) } else { (n, other_n) };
            if let Some(rule) = burst {
                if let Some(ids) = raid_ids {
                    let besides = if vetted_n > 0 { format!(", besides {vetted_n} registered or admitted") } else { String::new() };
                    // The raid so far: the alert's evidence, which this join grows by one.
                    let scope = Self::scope(Grouping::PerMeeting, r, Some(mkey));
                    let reason = match self.open_count("join-burst", &scope, t) {
                        Some(so_far) => format!(
                            "{} unregistered guests/external participants joined {} ({n} within {} s{besides}; raid?)",
                            so_far + 1,
                            topic(),
                            rule.window_secs
                        ),
                        None => format!(
                            "{n} unregistered guests/external participants joined {} within {} s{besides} (raid?)",
                            topic(),
                            rule.window_secs
                        ),
                    };
                    out.push(Finding { rule: Cow::Borrowed("join-burst"), variant: "", severity: rule.severity, reason, records: ids });
                } else if let Some(severity) = rule.crowd_severity.filter(|_| unvetted_n < threshold && unvetted_n + vetted_n >= threshold)
                {
                    // A crowd: enough arrivals for a raid, but most of them vetted.
                    let total = unvetted_n + vetted_n;
                    out.push(Finding {
                        rule: Cow::Borrowed("join-burst"),
                        variant: "crowd",
                        severity,
                        reason: format!(
                            "a crowd of {total} outsiders joined {} within {} s, {vetted_n} of them registered or admitted from the waiting room: likely a legitimate audience",
                            topic(),
                            rule.window_secs
                        ),
                        records: vec![r.id.clone()],
                    });
                }
            }
            if let Some(rule) = trickle.filter(|_| !vetted) {
                let tw = ms(rule.window_secs);
                let slow = self.mem.outsider_joins.get(mkey).map_or(0, |s| count_between(s, t.saturating_sub(tw), t));
                let slow_vetted = self.mem.vetted_joins.get(mkey).map_or(0, |s| count_between(s, t.saturating_sub(tw), t));
                // A raid already raised at the short scale is not raised again.
                let burst_open = self
                    .mem
                    .open
                    .get(&format!("join-burst\n{}", Self::scope(Grouping::PerMeeting, r, Some(mkey))))
                    .is_some_and(|o| (t - o.last_ms).abs() <= GROUP_WINDOW_MS);
                let threshold = rule.threshold as usize;
                if slow >= threshold && slow > slow_vetted && !burst_open {
                    let ids = if slow == threshold {
                        let s = self.mem.outsider_joins.get(mkey).map(Vec::as_slice).unwrap_or_default();
                        let from = s.partition_point(|(x, _)| *x < t.saturating_sub(tw));
                        let to = s.partition_point(|(x, _)| *x <= t);
                        s[from..to].iter().rev().take(MAX_RECORD_IDS).map(|(_, id)| id.clone()).collect()
                    } else {
                        vec![r.id.clone()]
                    };
                    let besides = if slow_vetted > 0 { format!(", besides {slow_vetted} registered or admitted") } else { String::new() };
                    out.push(Finding {
                        rule: Cow::Borrowed("join-trickle"),
                        variant: "",
                        severity: rule.severity,
                        reason: format!(
                            "{slow} unregistered guests/external participants joined {} within {} min{besides} (a raid arriving slowly?)",
                            topic(),
                            rule.window_secs / 60
                        ),
                        records: ids,
                    });
                }
            }
        }

        if let Some(rule) = self.cfg.rule("host-absent-join").filter(|_| outsider) {
            let m = self.mem.book.meetings.get(mkey);
            let is_host = m.and_then(|m| m.host_id.as_ref()).is_some_and(|h| p.zoom_user_id.as_ref() == Some(h));
            let host_away = || m.is_some_and(|m| m.start_seen && !m.host_present());
            if !is_host && (r.action == "jbh_joined" || host_away()) {
                out.push(Finding {
                    rule: Cow::Borrowed("host-absent-join"),
                    variant: "",
                    severity: rule.severity,
                    reason: format!("{} joined {} while the host was not in the meeting", who(p), topic()),
                    records: vec![r.id.clone()],
                });
            }
        }

        if let Some(rule) = self.cfg.rule("display-name-impersonation")
            && let (Some(name), Some((norm, key))) = (&p.name, norm_name)
            && let Some((person, by_initials)) = self.mem.learned(key, norm).map(|x| (x, false)).or_else(|| {
                // "Dana W." for "Dana Whitfield": a weaker match (a colleague may share a
                // first name and an initial), so one step less severe.
                let (full, words) = self.mem.initials.get(&key)?;
                (crate::rules::names::name_word_count(name) == *words).then(|| self.mem.protected.get(full).map(|x| (x, true)))?
            })
        {
            let same_id = person.zoom_user_id.is_some() && person.zoom_user_id == p.zoom_user_id;
            let same_email = person.email.as_deref().zip(p.email.as_deref()).is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
            let unverifiable_but_internal =
                person.zoom_user_id.is_none() && person.email.is_none() && !is_outsider(p, &self.cfg) && !p.guest;
            if !same_id && !same_email && !unverifiable_but_internal {
                let whose = if person.host_of.as_deref() == Some(mkey) {
                    "the host's name".to_owned()
                } else {
                    match &person.email {
                        Some(e) => format!("the name of {e}"),
                        None => "a protected name".to_owned(),
                    }
                };
                let as_who = if p.guest { "as a guest".to_owned() } else { format!("as {}", who(p)) };
                // Say how it matched when the names differ beyond case and spacing.
                let plain = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
                let (how, severity) = if by_initials {
                    (" by initials (a weaker match)", rule.severity.lower())
                } else if plain(name) == plain(&person.display) {
                    ("", rule.severity)
                } else if crate::rules::names::is_costume(name) {
                    (" dressed up with role or title words", rule.severity)
                } else {
                    (" after folding look-alike characters", rule.severity)
                };
                let using = if by_initials { format!("a shortened form of {whose}") } else { format!("using {whose}") };
                out.push(Finding {
                    rule: Cow::Borrowed("display-name-impersonation"),
                    variant: "",
                    severity,
                    reason: format!("{} joined {} {as_who}, {using} ({}){how}", quote(name), topic(), quote(&person.display)),
                    records: vec![r.id.clone()],
                });
            }
        }

        if let Some(rule) = self.cfg.rule("concurrent-sessions")
            && let (Some(ident), Some(ip)) = (session_ident(p).filter(|_| !p.guest), &p.ip)
            && let Some((other, other_ip)) =
                self.mem.active.of(&ident).find(|(m, i)| i.is_some_and(|i| i != ip) && in_progress(&self.mem.book, m))
        {
            let other_topic =
                self.mem.book.meetings.get(other).and_then(|m| m.topic.clone()).map_or_else(|| "another meeting".to_owned(), |t| quote(&t));
            out.push(Finding {
                rule: Cow::Borrowed("concurrent-sessions"),
                variant: "",
                severity: rule.severity,
                reason: format!("{} joined {} from {ip} while also in {other_topic} from {}", who(p), topic(), other_ip.unwrap_or("?")),
                records: vec![r.id.clone()],
            });
        }
    }

    /// `new-country` and `impossible-travel` (see [`crate::rules::location`]).
    pub(super) fn travel_rules(&mut self, r: &RecordV1, t: i64, mkey: Option<&str>, out: &mut Vec<Finding>) {
        if r.participant.as_ref().is_some_and(|p| p.geo.is_none()) && r.actor.as_ref().is_none_or(|a| a.geo.is_none()) {
            return;
        }
        let ident = r
            .participant
            .as_ref()
            .and_then(session_ident)
            .or_else(|| r.actor.as_ref().and_then(|a| crate::rules::location::identity(a.id.as_deref(), a.email.as_deref())));
        let (active, book) = (&self.mem.active, &self.mem.book);
        let live = |m: &str| ident.as_deref().is_some_and(|i| active.of(i).any(|(k, _)| k == m)) && in_progress(book, m);
        for f in self.mem.travel.observe(r, t, &self.cfg, mkey, live) {
            out.push(Finding {
                rule: Cow::Borrowed(f.rule),
                variant: "",
                severity: f.severity,
                reason: f.reason,
                records: vec![r.id.clone()],
            });
        }
    }

    pub(super) fn identity_marks(p: &Participant) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(u) = &p.participant_uuid {
            keys.push(format!("puuid:{u}"));
        }
        if let Some(z) = &p.zoom_user_id {
            keys.push(format!("zoom:{z}"));
        }
        if let Some(e) = &p.email {
            keys.push(format!("email:{}", e.to_ascii_lowercase()));
        }
        if let (true, Some(ip)) = (p.guest, &p.ip) {
            keys.push(format!("ip:{ip}"));
        }
        if let Some(n) = &p.name {
            let norm = normalize_name(n);
            if norm.chars().count() >= 4 {
                keys.push(format!("name:{norm}"));
            }
        }
        keys
    }
}
