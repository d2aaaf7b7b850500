//! `[limits]`: caps on the detector's memory, so a console or watcher running for days
//! holds a bounded amount whatever the day brings. Parsed and validated with the rest of
//! `zoomwatch.toml` ([`crate::config`]); enforced by the meeting book
//! ([`crate::roster`]) and the detector.

/// Caps on the detector's memory (`[limits]`): what a long-running console or watcher
/// holds stays bounded however many meetings and people a day brings. Past a cap the
/// oldest goes first; the Overview shows each cap and its fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Ended meetings that keep their rosters (the most recently ended); older ones keep
    /// their summary line only.
    pub ended_rosters: usize,
    /// People who left, kept per roster (the most recent); everyone present or waiting
    /// is always kept. A roster is trimmed back to it once a tenth over it.
    pub departed_per_meeting: usize,
    /// A running meeting without any record for this long is closed (its
    /// `meeting.ended` never came), in ms.
    pub idle_meeting_ms: i64,
    /// Learned internal names; names from `known_people` are never forgotten.
    pub learned_names: usize,
    /// People in or waiting in meetings, all meetings together. Past it, those silent
    /// longest are taken to have left (their `participant_left` was most likely lost):
    /// a roster of people who never leave cannot grow without end.
    pub present: usize,
    /// Alerts the console lists. Past it, the bottom of the queue goes first: handled
    /// before unhandled, the lowest severity, the oldest (the log keeps every alert).
    pub alerts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ended_rosters: 2_000,
            departed_per_meeting: 200,
            idle_meeting_ms: 12 * 3_600_000,
            learned_names: 100_000,
            present: 200_000,
            alerts: 20_000,
        }
    }
}
