//! Meetings and their live rosters as the Meetings view shows them, under the filter.

use super::*;

impl State {
    /// Meetings matching the filter, for display: running first, then most recent.
    pub fn meetings(&self) -> Vec<&Meeting> {
        let mut v: Vec<&Meeting> = self.detector.meetings().meetings.values().filter(|m| self.meeting_matches(m)).collect();
        v.sort_by(|a, b| {
            let rank = |m: &Meeting| match m.phase {
                MeetingPhase::Running => 0,
                MeetingPhase::Scheduled => 1,
                MeetingPhase::Ended => 2,
            };
            rank(a).cmp(&rank(b)).then(b.last_ms.cmp(&a.last_ms)).then(a.key.cmp(&b.key))
        });
        v
    }

    pub(super) fn meeting_matches(&self, m: &Meeting) -> bool {
        self.filter.terms.iter().all(|t| match t {
            Term::Meeting(v) => zoomwatch_shared::filter::meeting_matches(v, m.id.as_deref(), Some(&m.key), m.topic.as_deref()),
            Term::User(v) => m.attendees.values().any(|a| {
                [a.participant.email(), a.participant.name(), a.participant.zoom_user_id()]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(v.as_str()))
            }),
            Term::Severity(s, at_least) => m.worst.is_some_and(|w| if *at_least { w >= *s } else { w == *s }),
            Term::Text(v) => m.topic.as_deref().is_some_and(|tp| tp.to_lowercase().contains(v.as_str())),
            Term::Country(_) | Term::Asn(_) => m.attendees.values().any(|a| place_matches(t, a.participant.geo())),
            Term::Is(tr) => m.attendees.values().any(|a| tr.of_attendee(&a.participant, m.host_id.as_deref())),
            // Meetings that were going on at some point of the window.
            Term::Time(from, to) => m.started_ms.unwrap_or(m.last_ms) <= *to && m.ended_ms.is_none_or(|e| e >= *from),
            Term::Type(_) => true,
        })
    }

    /// The selected meeting in the Meetings view.
    pub fn selected_meeting(&self) -> Option<&Meeting> {
        self.meetings().get(self.cursor_of(View::Meetings)).copied()
    }

    /// The roster of `m` as displayed (filtered by `user:`, `country:` and `asn:` terms).
    pub fn roster_of<'a>(&self, m: &'a Meeting) -> Vec<&'a zoomwatch_shared::roster::Attendee> {
        let users: Vec<&String> = self.filter.terms.iter().filter_map(|t| if let Term::User(v) = t { Some(v) } else { None }).collect();
        m.roster()
            .into_iter()
            .filter(|a| {
                users.iter().all(|u| {
                    [a.participant.email(), a.participant.name(), a.participant.zoom_user_id()]
                        .into_iter()
                        .flatten()
                        .any(|f| f.to_lowercase().contains(u.as_str()))
                }) && self.filter.terms.iter().all(|t| place_matches(t, a.participant.geo()))
            })
            .collect()
    }
}
