//! How `zoomwatch watch` delivers what it decides: alert records written once (a write
//! of unknown outcome is settled by looking in the destination before anything is
//! written again), and owed notifications offered to the notifiers until each target
//! took them.

use std::time::Duration;

use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::watcher::Watcher;

use super::Log;
use crate::clock::now_ms;

/// How long after a failed delivery an owed notification is offered to that target again.
pub const RETRY_OWED: Duration = Duration::from_secs(30);

/// Offers the watcher's owed notifications to the notifiers: one at a time per
/// notification and target, again after [`RETRY_OWED`] when a delivery failed.
#[derive(Default)]
pub(super) struct Outbound {
    pub(super) in_flight: std::collections::HashSet<(String, String)>,
    not_before: std::collections::HashMap<(String, String), std::time::Instant>,
}

impl Outbound {
    pub(super) fn offer(&mut self, w: &Watcher, notifiers: &[zoomwatch_log::notify::Notifier]) {
        let now = std::time::Instant::now();
        for (key, owed) in w.owed() {
            for n in notifiers.iter().filter(|n| owed.targets.contains(n.describe())) {
                let k = (key.to_owned(), n.describe().to_owned());
                if self.in_flight.contains(&k) || self.not_before.get(&k).is_some_and(|t| now < *t) {
                    continue;
                }
                if n.send(key, &owed.record) {
                    self.not_before.remove(&k);
                    self.in_flight.insert(k);
                }
            }
        }
    }

    /// Takes the notifiers' results into the outbox; true when one was delivered.
    pub(super) fn collect(&mut self, w: &mut Watcher, notifiers: &[zoomwatch_log::notify::Notifier]) -> bool {
        let mut delivered = false;
        for n in notifiers {
            for (key, ok) in n.take_results() {
                let k = (key, n.describe().to_owned());
                self.in_flight.remove(&k);
                if ok {
                    w.delivered(&k.0, &k.1);
                    delivered = true;
                } else {
                    self.not_before.insert(k, std::time::Instant::now() + RETRY_OWED);
                }
            }
        }
        delivered
    }
}

/// How long after a write of unknown outcome the log is searched for its records (a
/// write CloudWatch answered late may still land meanwhile).
pub const SETTLE_AFTER: Duration = Duration::from_secs(5);

/// Writes `records`, retrying with back-off until they are stored or `stop` fires:
/// alert records are never dropped while the process lives, nor written twice — after a
/// write whose outcome is unknown, the records found in the log are not written again.
pub(super) async fn write_all(
    sink: &zoomwatch_log::sink::MaybeOcsf,
    records: &[RecordV1],
    log: &Log,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    use zoomwatch_log::sink::Sink;
    let mut wait = Duration::from_millis(500);
    let mut records = records.to_vec();
    loop {
        match sink.write(records.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                if *stop.borrow() {
                    return Err(format!("{} alert records not written to {}: {e}", records.len(), sink.describe()));
                }
                let pause = if e.may_have_landed() { wait.max(SETTLE_AFTER) } else { wait };
                log(format!("alert records not written to {} ({e}); retrying in {:.1} s", sink.describe(), pause.as_secs_f32()));
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
                if e.may_have_landed() {
                    records = match settle(sink, records, log, stop).await {
                        Some(rest) => rest,
                        None => return Err("stopped before the alert records could be settled".to_owned()),
                    };
                    if records.is_empty() {
                        return Ok(());
                    }
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// The records of a write whose outcome is unknown that are not in the destination:
/// each is looked for (until the destination answers, or `stop` fires: `None`), so none
/// that landed is written again.
pub(super) async fn settle<S: zoomwatch_log::sink::Sink>(
    sink: &S,
    records: Vec<RecordV1>,
    log: &Log,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Vec<RecordV1>> {
    let mut rest = Vec::with_capacity(records.len());
    for r in records {
        let at = zoomwatch_shared::timefmt::parse_rfc3339_ms(&r.received_at).unwrap_or_else(now_ms);
        let mut wait = Duration::from_millis(500);
        loop {
            match sink.holds(&r.id, at).await {
                Ok(true) => break,
                Ok(false) => {
                    rest.push(r);
                    break;
                }
                Err(e) => {
                    if *stop.borrow() {
                        return None;
                    }
                    log(format!("cannot tell yet whether alert record {} landed ({e}); asking again", r.id));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
    Some(rest)
}
