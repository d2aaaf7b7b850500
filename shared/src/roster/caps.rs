//! The caps on the meeting book ([`Limits`]): idle meetings closed, departed people and
//! ended meetings' rosters trimmed, people past the `present` cap taken to have left,
//! and how full the book is against them.

use super::*;

impl MeetingBook {
    /// Drops ended meetings whose last record is older than `older_than_ms` (memory bound).
    pub fn prune_ended(&mut self, older_than_ms: i64) {
        self.meetings.retain(|m| !(m.phase == MeetingPhase::Ended && m.last_ms < older_than_ms));
        let meetings = &self.meetings;
        self.latest_by_id.retain(|_, key| meetings.contains_key(key));
    }

    /// Applies `limits` at payload time `t`: closes running meetings idle for longer
    /// than allowed (everyone in them leaves), keeps the most recent departed people
    /// of each roster, and the rosters of the most recently ended meetings. Meetings
    /// keep their summary. Called now and then (every few thousand records): between
    /// calls a cap can be exceeded by what those records brought.
    pub fn enforce(&mut self, t: i64, limits: &Limits) {
        let idle_before = t.saturating_sub(limits.idle_meeting_ms);
        for m in self.meetings.values_mut() {
            if m.phase == MeetingPhase::Running && m.last_ms < idle_before {
                m.phase = MeetingPhase::Ended;
                m.ended_ms = Some(m.last_ms);
                m.closed_idle = true;
                for a in m.attendees.values_mut().filter(|a| a.presence != Presence::Left) {
                    a.presence = Presence::Left;
                    a.since_ms = m.last_ms;
                    a.left_ms = Some(m.last_ms);
                    count_left(&mut m.left, 1);
                }
                self.trimmed.closed_idle += 1;
            }
            let departed = match m.left {
                Some(n) => n as usize,
                None => {
                    let n = m.attendees.values().filter(|a| a.presence == Presence::Left).count();
                    m.left = Some(u32::try_from(n).unwrap_or(u32::MAX));
                    n
                }
            };
            // Trimmed back to the cap once a tenth over it, so a roster where people keep
            // leaving is sorted now and then, not at every call.
            if departed > limits.departed_per_meeting + limits.departed_per_meeting / 10 {
                let mut left: Vec<(i64, &str)> =
                    m.attendees.values().filter(|a| a.presence == Presence::Left).map(|a| (a.since_ms, a.key.as_str())).collect();
                m.left = Some(u32::try_from(left.len().min(limits.departed_per_meeting)).unwrap_or(u32::MAX));
                if left.len() > limits.departed_per_meeting {
                    let n = left.len() - limits.departed_per_meeting;
                    left.select_nth_unstable(n - 1);
                    let gone: Vec<String> = left[..n].iter().map(|(_, k)| (*k).to_owned()).collect();
                    for k in &gone {
                        m.attendees.remove(k);
                    }
                    // Given back when mostly empty; a roster trimmed by a tenth keeps its
                    // table (shrinking rehashes every line, each time).
                    if m.attendees.capacity() > 4 * m.attendees.len() {
                        m.attendees.shrink_to_fit();
                    }
                    m.dropped = m.dropped.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                    self.trimmed.departed += n as u64;
                }
            }
        }
        self.enforce_present(limits.present);
        let mut ended: Vec<(i64, &str)> = self
            .meetings
            .values()
            .filter(|m| m.phase == MeetingPhase::Ended && !m.attendees.is_empty())
            .map(|m| (m.ended_ms.unwrap_or(m.last_ms), m.key.as_str()))
            .collect();
        if ended.len() > limits.ended_rosters {
            let n = ended.len() - limits.ended_rosters;
            ended.select_nth_unstable(n - 1);
            let gone: Vec<String> = ended[..n].iter().map(|(_, k)| (*k).to_owned()).collect();
            for k in gone {
                if let Some(m) = self.meetings.get_mut(&k) {
                    m.dropped = m.dropped.saturating_add(u32::try_from(m.attendees.len()).unwrap_or(u32::MAX));
                    m.attendees = super::Attendees::default();
                    m.left = Some(0);
                    self.trimmed.rosters += 1;
                }
            }
        }
    }

    /// People in or waiting, all meetings (each roster's departures are counted).
    fn present_total(&self) -> usize {
        let here = |m: &Meeting| match m.left {
            Some(n) => m.attendees.len().saturating_sub(n as usize),
            None => m.attendees.values().filter(|a| a.presence != Presence::Left).count(),
        };
        self.meetings.values().map(here).sum()
    }

    /// Past `cap` people in or waiting (once a tenth over it), those silent longest are
    /// taken to have left when they were last heard of: nobody stays in a meeting
    /// forever, and a lost `participant_left` would otherwise keep them in for good.
    fn enforce_present(&mut self, cap: usize) {
        let total = self.present_total();
        if total <= cap + cap / 10 {
            return;
        }
        let mut here: Vec<(i64, &str, &str)> = self
            .meetings
            .values()
            .flat_map(|m| {
                m.attendees.values().filter(|a| a.presence != Presence::Left).map(|a| (a.since_ms, m.key.as_str(), a.key.as_str()))
            })
            .collect();
        let n = here.len().saturating_sub(cap);
        if n == 0 {
            return;
        }
        here.select_nth_unstable(n - 1);
        let mut gone: Vec<(String, String)> = here[..n].iter().map(|(_, m, a)| ((*m).to_owned(), (*a).to_owned())).collect();
        gone.sort_unstable();
        for (mkey, akey) in gone {
            let Some(m) = self.meetings.get_mut(&mkey) else { continue };
            if let Some(a) = m.attendees.get_mut(&akey) {
                a.presence = Presence::Left;
                a.left_ms = Some(a.since_ms);
                a.other_devices = None;
                count_left(&mut m.left, 1);
                if let Some(ident) = crate::rules::location::identity(a.participant.zoom_user_id(), a.participant.email()) {
                    self.taken_as_left.push((mkey.clone(), ident.into_owned()));
                }
            }
        }
        self.trimmed.presences += n as u64;
    }

    /// (Meeting key, identity) of each person the `present` cap took to have left since
    /// the last call.
    pub fn take_taken_as_left(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.taken_as_left)
    }

    /// How full the book is.
    pub fn fill(&self) -> Fill {
        let mut f = Fill { meetings: self.meetings.len(), present: self.present_total(), ..Fill::default() };
        for m in self.meetings.values() {
            f.attendees += m.attendees.len();
            if m.phase == MeetingPhase::Ended && !m.attendees.is_empty() {
                f.ended_rosters += 1;
            }
            if m.attendees.len() > f.most_departed {
                let departed = m.left.map_or_else(|| m.attendees.values().filter(|a| a.presence == Presence::Left).count(), |n| n as usize);
                f.most_departed = f.most_departed.max(departed);
            }
        }
        f
    }
}
