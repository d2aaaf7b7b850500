//! The CloudWatch backfill's time slices ([`Slicer`]): after a first page, the rest of
//! the window in slices of about a page each, sized from the slice before.

/// How a backfill goes on after its first page: in time slices of about a page each.
/// A service that scans a call's whole window for every page (moto does) then reads
/// each event about once instead of once per page; on CloudWatch a slice costs about the
/// call a page would. Each slice is as wide as the last one would have had to be to hold
/// a page (between a quarter and four times as wide), four times wider after an empty
/// one, so quiet hours are crossed in a few calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slicer {
    /// Start of the next slice (Unix ms, inclusive).
    from: i64,
    /// Its width (ms).
    width: i64,
    /// Events a page holds (the first page's).
    page: usize,
    /// Where slices stop: the last one, from there, is open.
    end_ms: i64,
}

impl Slicer {
    /// After a first page of these timestamps, when more followed: `None` unless the page
    /// is in time order (then everything before its last millisecond was in it; that
    /// millisecond is read again, and deduplicated).
    pub(super) fn after_first_page(timestamps: &[i64], end_ms: i64) -> Option<Self> {
        let (&first, &last) = (timestamps.first()?, timestamps.last()?);
        if timestamps.len() < 2 || !timestamps.is_sorted() || last >= end_ms {
            return None;
        }
        Some(Self { from: last, width: (last - first).max(1), page: timestamps.len(), end_ms })
    }

    /// The next slice: (start, end inclusive, or `None` for the open last one).
    pub(super) fn next(&self) -> (i64, Option<i64>) {
        let to = self.from.saturating_add(self.width);
        if to > self.end_ms { (self.from, None) } else { (self.from, Some(to - 1)) }
    }

    /// The slice just read held `events`: on to the next, sized from it.
    pub(super) fn advance(&mut self, events: usize) {
        self.from = self.from.saturating_add(self.width);
        let w = self.width as f64;
        let wanted = if events == 0 { w * 4.0 } else { (w * self.page as f64 / events as f64).clamp(w / 4.0, w * 4.0) };
        self.width = (wanted as i64).max(1);
    }
}

/// A backfill window's end: now, by this machine's clock (the last slice is open, so
/// events stamped later are read too).
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_hold_about_a_page_and_cross_quiet_hours_quickly() {
        // Not in time order, a single event, or already at the end: no slicing.
        assert_eq!(Slicer::after_first_page(&[5, 3, 9], 100), None);
        assert_eq!(Slicer::after_first_page(&[5], 100), None);
        assert_eq!(Slicer::after_first_page(&[5, 100], 100), None);
        // A page of 100 events over 1,000 ms: the next slice starts at its last ms again.
        let stamps: Vec<i64> = (0..100).map(|i| 1_000 + i * 10).collect();
        let mut s = Slicer::after_first_page(&stamps, 1_000_000).unwrap();
        assert_eq!(s.next(), (1_990, Some(2_979)));
        // Slices follow each other without gap or overlap.
        let mut end = 2_979;
        s.advance(100);
        assert_eq!(s.next().0, end + 1);
        // Four times as dense: a quarter as wide; empty: four times wider, so a quiet hour
        // is crossed in a few calls.
        s.advance(400);
        assert_eq!(s.width, 247);
        end = s.next().1.unwrap();
        s.advance(0);
        assert_eq!((s.next().0, s.width), (end + 1, 988));
        let mut calls = 0;
        while s.next().1.is_some() {
            s.advance(0);
            calls += 1;
        }
        assert!(calls <= 6, "{calls}");
        // The last slice is open: events stamped after the window's end are read too.
        assert_eq!(s.next().1, None);
    }
}
