//! Notifications are owed at least once: an alert written is in the checkpoint's outbox
//! until every target took it; a watcher killed after writing an alert but before saving
//! its checkpoint reads its own record back after restart and owes the notification it
//! cannot have sent; one whose checkpoint already knew the alert as written owes nothing
//! more.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, raid};

use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::Severity;
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::watcher::{Watcher, notify_key};

const SOURCE: &str = "file:/tmp/events.jsonl";
const KEY: [u8; 32] = [9; 32];

fn targets() -> Vec<String> {
    vec!["webhook https://hooks.example/…".to_owned(), "sns:arn:aws:sns:eu-west-1:1:soc".to_owned()]
}

fn fresh() -> Watcher {
    let mut w = Watcher::new(Detector::new(Config::default()), SOURCE, Severity::Low).with_seal_key(KEY.to_vec());
    w.notify_to(Severity::Medium, targets());
    w
}

fn resume(saved: &[u8]) -> Watcher {
    let mut w = Watcher::resume(Config::default(), saved, SOURCE, Severity::Low).unwrap();
    w.notify_to(Severity::Medium, targets());
    w
}

#[test]
fn owed_until_every_target_took_it_and_kept_across_a_restart() {
    let mut w = fresh();
    w.observe(raid());
    let written = w.take_alerts(T0 + 60_000);
    let burst = written.iter().find(|r| r.alert.as_deref().is_some_and(|a| a.rule == "join-burst")).unwrap();
    let key = notify_key(burst).unwrap();
    assert_eq!(key, format!("{}#0", burst.alert.as_deref().unwrap().id));
    w.owe(&written);
    assert!(w.owed().any(|(k, o)| k == key && o.targets.len() == 2));

    // One target took it; then the process died. The other is still owed after restart.
    w.delivered(&key, &targets()[0]);
    let saved = w.checkpoint(T0 + 61_000).unwrap();
    let mut again = resume(&saved);
    let owed: Vec<(String, Vec<String>)> = again.owed().map(|(k, o)| (k.to_owned(), o.targets.iter().cloned().collect())).collect();
    assert!(owed.contains(&(key.clone(), vec![targets()[1].clone()])), "{owed:?}");
    again.delivered(&key, &targets()[1]);
    assert!(!again.owed().any(|(k, _)| k == key));
    // A target no longer configured is owed nothing.
    let mut w2 = resume(&saved);
    w2.notify_to(Severity::Medium, vec![targets()[0].clone()]);
    assert!(!w2.owed().any(|(k, _)| k == key));
}

#[test]
fn killed_between_writing_and_saving_it_still_notifies_after_restart() {
    // The last checkpoint was saved before the raid.
    let mut w = fresh();
    let saved_before = w.checkpoint(T0 - 1000).unwrap();
    w.observe(raid());
    let written = w.take_alerts(T0 + 60_000);
    // …the alert records were written, then SIGKILL: no owe saved, nothing sent.
    let high_or_medium: Vec<String> =
        written.iter().filter(|r| r.alert.as_deref().is_some_and(|a| a.severity >= Severity::Medium)).filter_map(notify_key).collect();
    assert!(!high_or_medium.is_empty());

    let mut again = resume(&saved_before);
    again.already_written(&written); // read back from its own destination
    let owed: Vec<String> = again.owed().map(|(k, _)| k.to_owned()).collect();
    assert_eq!(owed, high_or_medium, "every notification it could not have sent is owed");
    // Replaying the raid writes none of them again.
    again.observe(raid());
    assert!(again.take_alerts(T0 + 60_000).is_empty());

    // Had the checkpoint been saved after the write (owing them), reading them back again
    // owes nothing more, and a delivered one stays delivered.
    let mut w = fresh();
    w.observe(raid());
    let written = w.take_alerts(T0 + 60_000);
    w.owe(&written);
    for k in &high_or_medium {
        for t in targets() {
            w.delivered(k, &t);
        }
    }
    let saved_after = w.checkpoint(T0 + 61_000).unwrap();
    let mut again = resume(&saved_after);
    again.already_written(&written);
    assert_eq!(again.owed().count(), 0);
}

#[test]
fn a_fresh_watcher_reading_old_alerts_owes_nothing() {
    let mut w = fresh();
    w.observe(raid());
    let written = w.take_alerts(T0 + 60_000);
    // No checkpoint (lost, or --no-checkpoint): its old alerts read back are history.
    let mut new = fresh();
    new.already_written(&written);
    assert_eq!(new.owed().count(), 0);
}
