//! The Alerts view's display order: unhandled first, then by severity, newest first.
//!
//! Kept as one list per (status, severity), each in raising order. A new alert is the
//! newest of its group, so placing it is a push, not an insert into the middle of one
//! long list — a busy day raises tens of thousands of alerts, and each insert used to
//! move half of them.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use zoomwatch_shared::Severity;

use crate::triage::Status;

/// Where an alert sorts: its triage status, then its severity (highest first).
pub type Rank = (Status, Reverse<Severity>);

/// Indices into the console's alerts, in display order.
#[derive(Debug, Clone, Default)]
pub struct AlertOrder {
    /// By rank; each group's indices ascending (the display shows them newest first).
    groups: BTreeMap<Rank, Vec<usize>>,
    len: usize,
}

impl PartialEq for AlertOrder {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl AlertOrder {
    /// Alerts shown.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The alert at display position `pos`.
    pub fn get(&self, pos: usize) -> Option<&usize> {
        let mut pos = pos;
        for g in self.groups.values() {
            if pos < g.len() {
                return g.get(g.len() - 1 - pos);
            }
            pos -= g.len();
        }
        None
    }

    /// The last alert shown.
    pub fn last(&self) -> Option<&usize> {
        self.len.checked_sub(1).and_then(|p| self.get(p))
    }

    /// The alerts in display order.
    pub fn iter(&self) -> impl Iterator<Item = &usize> + '_ {
        self.groups.values().flat_map(|g| g.iter().rev())
    }

    /// The alerts from display position `from` on (without walking the ones before).
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &usize> + '_ {
        let mut skip = from;
        self.groups.values().flat_map(move |g| {
            let here = skip.min(g.len());
            skip -= here;
            g[..g.len() - here].iter().rev()
        })
    }

    /// Adds alert `i` of `rank`; returns its display position.
    pub fn insert(&mut self, i: usize, rank: Rank) -> usize {
        let before: usize = self.groups.range(..rank).map(|(_, g)| g.len()).sum();
        let g = self.groups.entry(rank).or_default();
        // Usually the newest: a push. An older index (re-placing one) goes in order.
        let at = g.partition_point(|j| *j < i);
        g.insert(at, i);
        self.len += 1;
        before + (g.len() - 1 - at)
    }

    /// Built from `(index, rank)` pairs in any order.
    pub fn from_ranked(items: impl IntoIterator<Item = (usize, Rank)>) -> Self {
        let mut order = Self::default();
        for (i, rank) in items {
            order.groups.entry(rank).or_default().push(i);
            order.len += 1;
        }
        for g in order.groups.values_mut() {
            g.sort_unstable();
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(s: Status, sev: Severity) -> Rank {
        (s, Reverse(sev))
    }

    #[test]
    fn unhandled_first_then_severity_then_newest() {
        let items = [
            (0, rank(Status::New, Severity::Low)),
            (1, rank(Status::New, Severity::High)),
            (2, rank(Status::Acked, Severity::High)),
            (3, rank(Status::New, Severity::Low)),
            (4, rank(Status::Dismissed, Severity::High)),
            (5, rank(Status::New, Severity::High)),
        ];
        let want = [5, 1, 3, 0, 2, 4];
        let built = AlertOrder::from_ranked(items);
        assert_eq!(built.iter().copied().collect::<Vec<_>>(), want);
        // Placed one by one, each at the position it reports: the same order.
        let mut placed = AlertOrder::default();
        let mut shadow: Vec<usize> = Vec::new();
        for (i, r) in items {
            let pos = placed.insert(i, r);
            shadow.insert(pos, i);
            assert_eq!(placed.iter().copied().collect::<Vec<_>>(), shadow);
        }
        assert_eq!(placed, built);
        assert_eq!(placed.len(), 6);
        for (pos, i) in want.iter().enumerate() {
            assert_eq!(placed.get(pos), Some(i));
            assert_eq!(placed.iter_from(pos).copied().collect::<Vec<_>>(), want[pos..]);
        }
        assert_eq!((placed.get(6), placed.last()), (None, Some(&4)));
        assert_eq!(placed.iter_from(9).count(), 0);
        // An older alert re-placed goes among its group by age.
        let mut o = AlertOrder::from_ranked([(1, rank(Status::New, Severity::Low)), (7, rank(Status::New, Severity::Low))]);
        assert_eq!(o.insert(4, rank(Status::New, Severity::Low)), 1);
        assert_eq!(o.iter().copied().collect::<Vec<_>>(), [7, 4, 1]);
        assert!(AlertOrder::default().is_empty() && AlertOrder::default().last().is_none());
    }
}
