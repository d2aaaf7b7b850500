//! Which alert records a watcher believes when it reads them back: only those it sealed
//! with the key in its private checkpoint. A forged line with the real alert's id and a
//! huge count, written into the log before the raid, must not stop the raid's alert from
//! being written; the watcher's own records read back after a restart still stop it
//! from being written twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, raid};

use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::Severity;
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::watcher::Watcher;

fn watcher(key: &[u8]) -> Watcher {
    Watcher::new(Detector::new(Config::default()), "file:/tmp/events.jsonl", Severity::Medium).with_seal_key(key.to_vec())
}

#[test]
fn a_forged_alert_line_does_not_silence_the_real_alert() {
    // A dry run tells the forger the alert's id (predictable from the first join).
    let mut probe = watcher(b"someone else's key, 32 bytes...");
    probe.observe(raid());
    let real = probe.take_alerts(T0 + 60_000);
    let block = real.iter().find_map(|r| r.alert.as_deref().filter(|a| a.rule == "join-burst")).unwrap().clone();

    // The forged line: that id, a count no alert reaches, sealed with a key not ours.
    let mut forged = real[0].clone();
    if let Some(b) = forged.alert.as_deref_mut() {
        b.id = block.id.clone();
        b.count = u32::MAX;
        b.update = u32::MAX - 1;
        b.seal = Some("00".repeat(32));
    }
    let mut w = watcher(&[7u8; 32]);
    w.already_written(std::slice::from_ref(&forged));
    let mut batch = vec![forged.clone()];
    batch.extend(raid());
    w.observe(batch);
    let out = w.take_alerts(T0 + 60_000);
    assert!(out.iter().any(|r| r.alert.as_deref().is_some_and(|a| a.id == block.id)), "the raid's alert is written: {out:?}");
}

#[test]
fn its_own_sealed_records_read_back_are_not_written_again() {
    let key = [9u8; 32];
    let mut first = watcher(&key);
    first.observe(raid());
    let written = first.take_alerts(T0 + 60_000);
    assert!(!written.is_empty());
    assert!(written.iter().all(|r| r.alert.as_deref().is_some_and(|a| a.seal.is_some())), "sealed");
    // Killed before its checkpoint: a new run with the same key finds its records.
    let mut again = watcher(&key);
    again.already_written(&written);
    again.observe(raid());
    assert!(again.take_alerts(T0 + 60_000).is_empty(), "nothing is written twice");
    // A record whose seal does not match what it says (count raised) is not believed.
    let mut tampered = written.clone();
    for r in &mut tampered {
        if let Some(b) = r.alert.as_deref_mut() {
            b.count += 1000;
        }
    }
    let mut third = watcher(&key);
    third.already_written(&tampered);
    third.observe(raid());
    assert!(!third.take_alerts(T0 + 60_000).is_empty());
}
