//! One alert, one set of numbers: a raid's join-burst alert counts its evidence — the
//! joins — in its count, its evidence list and its reason alike, and all three grow
//! together as more raiders arrive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, raid};
use zoomwatch_shared::alert::AlertBook;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::rules::Detector;

#[test]
fn the_raid_alert_says_one_number_everywhere() {
    let mut d = Detector::new(Config::default());
    let mut book = AlertBook::new();
    let mut written = Vec::new();
    for r in raid() {
        for e in d.observe(&r) {
            book.apply(e);
        }
        written.extend(book.drain(T0 + 60_000, "file:x"));
    }
    let burst: Vec<_> = written.iter().filter_map(|r| r.alert.as_deref()).filter(|a| a.rule == "join-burst").collect();
    assert!(burst.len() >= 2, "raised, then grew: {burst:?}");
    for a in &burst {
        assert_eq!(a.count as usize, a.record_ids.len(), "count and evidence agree: {a:?}");
        let said: u32 = a.reason.split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(said, a.count, "the reason counts the same: {}", a.reason);
    }
    let last = burst.last().unwrap();
    assert_eq!(last.count, 10, "all ten raiders: {}", last.reason);
    assert!(burst.windows(2).all(|w| w[0].count < w[1].count), "they grow together");
}
