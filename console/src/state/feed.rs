//! The rows and lists: records applied (through the detector) and evicted past the
//! retention, the Feed/Participants/Admin lists under the filter, cursors, pause.

use super::*;

/// Frees records and evicted rows on the file source's workers
/// ([`zoomwatch_log::source::workers`]), below the screen's priority. A record owns a few
/// dozen small allocations; freeing 8,000 of them at the tail of every batch would stall
/// the screen as long as applying them did, and most were allocated on those workers,
/// where freeing them is cheapest.
pub(super) fn drop_elsewhere<T: Send + 'static>(items: Vec<T>) {
    if !items.is_empty() {
        zoomwatch_log::source::workers::Workers::shared().spare(move || drop(items));
    }
}

/// One stored record with what the console computed for it, held compactly: the
/// record's stored JSON line (parsed again only to be shown: a screenful at a time)
/// and what the filter needs. About a third of the memory of the parsed record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Arrival sequence number.
    pub seq: u64,
    /// The record as one JSON line, packed ([`crate::packed`]).
    pub(super) line: crate::packed::PackedLine,
    /// Effective flags (rules re-run with this console's configuration).
    pub flags: Vec<Flag>,
    /// Worst flag.
    pub worst: Option<Severity>,
    /// Lower-cased text the filter searches, and the facts it compares.
    pub search: zoomwatch_shared::filter::SearchText,
    /// Which list views it belongs to ([`list_bit`]).
    pub(super) lists: u8,
}

impl Row {
    /// The record, parsed from its stored line (`None` only if that line were not a
    /// record, which a row's never is: it was parsed from it or written from one).
    pub fn record(&self) -> Option<RecordV1> {
        zoomwatch_shared::lines::parse(self.line.unpack().as_bytes()).ok()
    }

    /// The stored line.
    pub fn line(&self) -> String {
        self.line.unpack()
    }

    /// Bytes this row holds (estimate: itself, its line, search text and flags).
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.line.packed_len() + self.search.size()
            - std::mem::size_of::<zoomwatch_shared::filter::SearchText>()
            + self.flags.iter().map(|f| std::mem::size_of::<Flag>() + f.rule.len() + f.reason.len()).sum::<usize>()
    }
}

pub(super) fn list_bit(v: View) -> u8 {
    match v {
        View::Feed => 1,
        View::Participants => 2,
        View::Admin => 4,
        _ => 0,
    }
}

impl State {
    /// The row with sequence number `seq`, if still kept.
    pub fn row(&self, seq: u64) -> Option<&Row> {
        let i = seq.checked_sub(self.base_seq)?;
        self.rows.get(usize::try_from(i).ok()?)
    }

    /// The cursor of a view.
    pub fn cursor_of(&self, v: View) -> usize {
        self.cursor.get(&v).copied().unwrap_or(0)
    }

    /// The sequence numbers a list view shows (oldest first): all of them, or while
    /// paused those that arrived before the pause.
    pub fn shown(&self, v: View) -> &[u64] {
        let list = self.lists.get(&v).map_or(&[][..], Vec::as_slice);
        match self.paused_at {
            Some(at) => &list[..list.partition_point(|s| *s < at)],
            None => list,
        }
    }

    /// Records that arrived since the pause (none when not paused).
    pub fn arrived_while_paused(&self) -> u64 {
        self.paused_at.map_or(0, |at| (self.base_seq + self.rows.len() as u64).saturating_sub(at))
    }

    /// Rows of a list view, newest first.
    pub fn list_rows(&self, v: View) -> impl Iterator<Item = &Row> {
        self.shown(v).iter().rev().filter_map(|s| self.row(*s))
    }

    /// Number of entries in the current view's list.
    pub fn len_of(&self, v: View) -> usize {
        match v {
            View::Feed | View::Participants | View::Admin => self.shown(v).len(),
            View::Alerts => self.alert_order.len(),
            View::Meetings => {
                if self.roster_focus {
                    self.selected_meeting().map_or(0, |m| self.roster_of(m).len())
                } else {
                    self.meetings().len()
                }
            }
            View::Overview => 0,
            View::Posture => self.posture.rows().len(),
        }
    }

    /// The row selected in a list view.
    pub fn selected_row(&self) -> Option<&Row> {
        match self.view {
            View::Feed | View::Participants | View::Admin => self.list_rows(self.view).nth(self.cursor_of(self.view)),
            _ => None,
        }
    }

    /// Events per second over the last 10 s.
    pub fn rate_per_sec(&self) -> f64 {
        let now_s = self.now_ms.div_euclid(1000);
        let lag = (now_s - self.stats.rate_base_s).max(0) as usize;
        let n: u32 = self.stats.rate.iter().rev().skip(lag).take(10usize.saturating_sub(lag)).sum();
        f64::from(n) / 10.0
    }

    pub(super) fn set_cursor(&mut self, v: View, c: usize) {
        let len = self.len_of(v);
        let c = if len == 0 { 0 } else { c.min(len - 1) };
        if v == View::Meetings && self.roster_focus {
            self.roster_cursor = c;
        } else {
            self.cursor.insert(v, c);
        }
    }

    pub(super) fn current_cursor(&self) -> usize {
        if self.view == View::Meetings && self.roster_focus { self.roster_cursor } else { self.cursor_of(self.view) }
    }

    pub(super) fn rebuild_lists(&mut self) {
        // One filter evaluation per row, shared by the three list views. The lists are
        // refilled in place: their capacity (and pages) are reused across filter changes.
        let mut lists = std::mem::take(&mut self.lists);
        for v in LIST_VIEWS {
            lists.entry(v).or_default().clear();
        }
        for row in &self.rows {
            if !self.filter.matches_search(row.worst, &row.search) {
                continue;
            }
            for v in LIST_VIEWS {
                if row.lists & list_bit(v) != 0
                    && let Some(l) = lists.get_mut(&v)
                {
                    l.push(row.seq);
                }
            }
        }
        self.lists = lists;
        for v in LIST_VIEWS {
            self.cursor.insert(v, 0);
        }
        self.sort_alerts();
        self.cursor.insert(View::Alerts, 0);
        self.cursor.insert(View::Meetings, 0);
        self.roster_cursor = 0;
    }

    pub(super) fn apply_records(&mut self, batch: Vec<RecordV1>) {
        // Records that came without their line (tests, the demo's direct feed): prepared
        // here, as a source given a `Preparer` does in its task.
        let cfg = self.detector.config();
        let geo = self.geo.as_deref();
        let prepared = batch.into_iter().map(|r| Preparer::prepare_with(cfg, geo, r)).collect();
        self.apply_prepared(prepared);
    }

    pub(super) fn apply_prepared(&mut self, mut batch: Vec<Prepared>) {
        let mut added: HashMap<View, usize> = HashMap::new();
        // The records stay in the batch (moving a record costs as much as a small rule)
        // and leave with it, to the drop thread; rows take the line, flags and search.
        let want = self.rows.len() + batch.len();
        if want > self.rows.capacity() {
            // Doubling, but never past the retention plus this batch: the rows never
            // need more, and a doubled deque past it would hold a third more than that.
            let cap = self.rows.capacity().saturating_mul(2).min(self.retention.saturating_add(batch.len())).max(want);
            self.rows.reserve_exact(cap - self.rows.len());
        }
        for p in &mut batch {
            let r = &p.record;
            let (line, flags, search) = (std::mem::take(&mut p.line), std::mem::take(&mut p.flags), std::mem::take(&mut p.search));
            let Some((flags, events)) = self.detector.observe_prepared(r, flags, &p.keys) else {
                self.stats.duplicates += 1;
                continue;
            };
            self.count(r, p.keys.received_ms);
            if r.response.is_some() {
                self.apply_response(r);
            }
            if r.category == zoomwatch_shared::record::Category::Admin {
                self.posture.observe(r, &self.detector.config().settings_policy);
            }
            if let Some(a) = zoomwatch_shared::alert::alert_of(r) {
                self.merge_watch_alert(a);
            }
            if p.passing {
                // Read before the records this console keeps: it would be evicted
                // before anyone saw it.
                for e in events {
                    self.apply_alert_event(e);
                }
                continue;
            }
            let worst = flags.iter().map(|f| f.severity).max();
            let seq = self.base_seq + self.rows.len() as u64;
            let matches = self.filter.is_empty() || self.filter.matches_search(worst, &search);
            let mut bits = 0;
            for v in LIST_VIEWS {
                if in_list(v, r) {
                    bits |= list_bit(v);
                    if matches {
                        if let Some(l) = self.lists.get_mut(&v) {
                            l.push(seq);
                        }
                        *added.entry(v).or_default() += 1;
                    }
                }
            }
            let row = Row { seq, line, flags, worst, search, lists: bits };
            self.held_bytes += row.size();
            self.rows.push_back(row);
            for e in events {
                self.apply_alert_event(e);
            }
        }
        drop_elsewhere(batch);
        // Keep the analyst's selection on the same row while new rows arrive on top
        // (while paused they are not shown yet: nothing moves).
        for (v, n) in added.into_iter().filter(|_| self.paused_at.is_none()) {
            let c = self.cursor_of(v);
            if c > 0 {
                self.cursor.insert(v, c + n);
            }
        }
        self.evict();
    }

    pub(super) fn evict(&mut self) {
        let excess = self.rows.len().saturating_sub(self.retention);
        if excess > 0 {
            let gone: Vec<Row> = self.rows.drain(..excess).collect();
            self.held_bytes = self.held_bytes.saturating_sub(gone.iter().map(Row::size).sum());
            drop_elsewhere(gone);
            self.base_seq += excess as u64;
        }
        let base = self.base_seq;
        for l in self.lists.values_mut() {
            let cut = l.partition_point(|s| *s < base);
            if cut > 0 {
                l.drain(..cut);
            }
        }
        for v in LIST_VIEWS {
            let c = self.cursor_of(v);
            self.set_cursor(v, c);
        }
    }

    /// Counts `r` (received at `received_ms`, when readable) in the Overview's figures.
    pub(super) fn count(&mut self, r: &RecordV1, received_ms: Option<i64>) {
        self.stats.records += 1;
        match self.stats.by_event.get_mut(&r.event) {
            Some(n) => *n += 1,
            None => {
                self.stats.by_event.insert(r.event.clone(), 1);
            }
        }
        if zoomwatch_shared::rules::subjects::is_join(r) {
            let geo = r.participant.as_ref().and_then(|p| p.geo.as_deref());
            match geo.and_then(|g| g.country.as_ref().map(|c| (c, &g.country_name))) {
                Some((cc, name)) => match self.stats.joins_by_country.get_mut(cc.as_str()) {
                    Some(slot) => slot.0 += 1,
                    None => {
                        self.stats.joins_by_country.insert(cc.clone(), (1, name.clone()));
                    }
                },
                None => self.stats.joins_unplaced += 1,
            }
        }
        let received = received_ms.unwrap_or(self.now_ms);
        self.stats.last_received_ms = Some(self.stats.last_received_ms.map_or(received, |l| l.max(received)));
        self.stats.lag_ms = Some((self.now_ms - received).max(0));
        if let Some(rej) = &r.rejection {
            self.stats.rejected += 1 + rej.suppressed;
        }
        if r.origin.as_deref().is_some_and(|o| o.source == zoomwatch_shared::report::WEBHOOK_LOGS) {
            self.stats.undelivered += 1;
        }
        if r.request.as_ref().is_some_and(|q| q.claim.as_deref() == Some(zoomwatch_shared::record::CLAIM_UNAVAILABLE)) {
            self.stats.unclaimed += 1;
        }
        if r.event == zoomwatch_shared::record::URL_VALIDATION_EVENT {
            self.stats.last_validation_ms = Some(self.stats.last_validation_ms.map_or(received, |l| l.max(received)));
        }
        // Arrivals per second, by receive time, within the sparkline window.
        let s = received.div_euclid(1000);
        let rate = &mut self.stats.rate;
        if rate.is_empty() {
            self.stats.rate_base_s = s.max(self.now_ms.div_euclid(1000));
            rate.extend(std::iter::repeat_n(0, RATE_WINDOW));
        }
        if s > self.stats.rate_base_s {
            let shift = usize::try_from(s - self.stats.rate_base_s).unwrap_or(RATE_WINDOW).min(RATE_WINDOW);
            for _ in 0..shift {
                rate.pop_front();
                rate.push_back(0);
            }
            self.stats.rate_base_s = s;
        }
        let back = usize::try_from(self.stats.rate_base_s - s).unwrap_or(usize::MAX);
        if back < RATE_WINDOW {
            let i = RATE_WINDOW - 1 - back;
            if let Some(slot) = rate.get_mut(i) {
                *slot += 1;
            }
        }
    }

    pub(super) fn tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        let s = now_ms.div_euclid(1000);
        if !self.stats.rate.is_empty() && s > self.stats.rate_base_s {
            let shift = usize::try_from(s - self.stats.rate_base_s).unwrap_or(RATE_WINDOW).min(RATE_WINDOW);
            for _ in 0..shift {
                self.stats.rate.pop_front();
                self.stats.rate.push_back(0);
            }
            self.stats.rate_base_s = s;
        }
        for e in self.detector.tick(now_ms) {
            self.apply_alert_event(e);
        }
        if self.notice.as_ref().is_some_and(|(_, until)| *until < now_ms) {
            self.notice = None;
        }
    }

    /// Replaces the filter with `text` (as typed at the `/` prompt) and rebuilds the lists.
    pub fn set_filter(&mut self, text: &str) -> Result<(), String> {
        let f = Filter::parse(text, self.now_ms).map_err(|e| e.to_string())?;
        self.filter = f;
        self.filter_text = text.trim().to_owned();
        self.rebuild_lists();
        Ok(())
    }

    /// Adds `term` (as text) to the filter, replacing an existing term of the same kind.
    pub(super) fn narrow(&mut self, prefix: &str, value: &str) {
        let quoted = if value.contains(char::is_whitespace) { format!("{prefix}\"{value}\"") } else { format!("{prefix}{value}") };
        let mut words: Vec<String> = self.filter_text.split_whitespace().filter(|w| !w.starts_with(prefix)).map(str::to_owned).collect();
        words.push(quoted);
        let text = words.join(" ");
        match self.set_filter(&text) {
            Ok(()) => self.say(format!("filter: {text}  (Esc clears)")),
            Err(e) => self.say(e),
        }
    }

    pub(super) fn toggle_pause(&mut self) {
        match self.paused_at.take() {
            None => {
                self.paused_at = Some(self.base_seq + self.rows.len() as u64);
                self.say("paused: records keep arriving and being judged; p shows them");
            }
            Some(at) => {
                // Keep the selection on the same row as the held-back rows appear above it.
                for v in LIST_VIEWS {
                    let c = self.cursor_of(v);
                    let revealed = self.lists.get(&v).map_or(0, |l| l.len() - l.partition_point(|s| *s < at));
                    if c > 0 {
                        self.cursor.insert(v, c + revealed);
                    }
                }
                let n = (self.base_seq + self.rows.len() as u64).saturating_sub(at);
                self.say(format!("resumed: {n} records arrived while paused"));
            }
        }
    }
}
