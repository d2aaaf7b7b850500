//! Time series of record ids per key (a meeting, an operator, the account): sorted
//! inserts, the busiest window around a time, counts between two times. The counting
//! rules (bursts, mass deletion, custom counts) read their verdicts from them.

use super::MAX_RECORD_IDS;

/// Most entries one time series keeps (per meeting, per operator, globally). Rules only
/// compare counts with a threshold, so forgetting the oldest entries of a flood changes
/// no verdict — and keeps a raid of 100,000 joins from costing quadratic time.
pub(super) const MAX_SERIES: usize = 4096;

/// Sorted insert into a time series (capped at [`MAX_SERIES`]), then the largest count
/// in a window of `w` ms that contains `t`, and where that window is in the series.
/// Windows ending or starting at `t` are tried first; when neither reaches `threshold`,
/// the windows straddling `t` are too (records delivered out of order: the 8 joins of a
/// raid may arrive as the last 4, then the first 4). That scan only runs below the
/// threshold, over fewer than `2 × threshold` entries, so floods stay linear.
pub(super) fn insert_and_count(
    series: &mut Vec<(i64, String)>,
    t: i64,
    id: &str,
    w: i64,
    threshold: usize,
) -> (usize, std::ops::Range<usize>) {
    let pos = series.partition_point(|(x, _)| *x <= t);
    series.insert(pos, (t, id.to_owned()));
    if series.len() > MAX_SERIES {
        series.drain(..series.len() - MAX_SERIES);
    }
    let start = series.partition_point(|(x, _)| *x < t.saturating_sub(w));
    let at_lo = series.partition_point(|(x, _)| *x < t);
    let at_hi = series.partition_point(|(x, _)| *x <= t);
    let end = series.partition_point(|(x, _)| *x <= t.saturating_add(w));
    let (before, after) = (at_hi - start, end - at_lo);
    let mut best = if before >= after { (before, start..at_hi) } else { (after, at_lo..end) };
    if best.0 < threshold {
        // Windows [x, x + w] for each x in [t - w, t) that still contain t.
        let mut hi = at_hi;
        for lo in start..at_lo {
            let x = series[lo].0;
            while hi < end && series[hi].0 <= x.saturating_add(w) {
                hi += 1;
            }
            if hi - lo > best.0 {
                best = (hi - lo, lo..hi);
            }
        }
    }
    best
}

/// The record ids of a finding over `range` of `series`: the whole window when the count
/// first reaches the threshold (the alert's evidence), afterwards only the newest record
/// (the alert is open and grows by one).
pub(super) fn window_ids(
    series: &[(i64, String)],
    range: std::ops::Range<usize>,
    n: usize,
    threshold: usize,
    current: &str,
) -> Vec<String> {
    if n <= threshold {
        series[range].iter().rev().take(MAX_RECORD_IDS).map(|(_, id)| id.clone()).collect()
    } else {
        vec![current.to_owned()]
    }
}

/// How many entries of a sorted series lie within `from..=to`.
pub(super) fn count_between(series: &[(i64, String)], from: i64, to: i64) -> usize {
    series.partition_point(|(x, _)| *x <= to) - series.partition_point(|(x, _)| *x < from)
}

/// Drops entries older than `keep_from`.
pub(super) fn trim(series: &mut Vec<(i64, String)>, keep_from: i64) {
    let cut = series.partition_point(|(x, _)| *x < keep_from);
    if cut > 0 {
        series.drain(..cut);
    }
}
