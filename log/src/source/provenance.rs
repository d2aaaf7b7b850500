//! Where a record in a log group may come from. Every zoomwatch writer has streams of
//! its own (`YYYY/MM/DD/<writer>/…`) and IAM lets each role write only its own, so a
//! stream's name says who wrote it — if it has its writer's exact shape — and readers
//! believe a record only from the writer that makes that kind of record: Zoom's events
//! from the receiver and the poller, alerts from the watcher, actions from analysts and
//! the action broker, verdicts and posture runs from analysts.

/// Who a log stream's name says wrote it. IAM's stream patterns are globs (`*` matches
/// `/` too), so a name is believed only in the exact shape its writer uses; a name that
/// mentions a writer anywhere else is [`StreamOwner::Forged`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOwner<'a> {
    /// No stream name, or one no zoomwatch writer uses: not judged.
    Unknown,
    /// The receiver's or the poller's streams: Zoom's events.
    Receiver,
    /// The watcher's streams: alerts.
    Watch,
    /// The action broker's streams: actions, each in the name of the IAM identity that
    /// asked for it.
    Broker,
    /// An analyst's streams: actions, verdicts, posture runs. `analyst` is the IAM user
    /// name in `YYYY/MM/DD/zoomwatch-response/<analyst>/<instance>`, which the template's
    /// policy lets only that identity write; `None` for the older shared shape
    /// `YYYY/MM/DD/zoomwatch-response/<instance>`.
    Response {
        /// The analyst the stream is named after, if the shape names one.
        analyst: Option<&'a str>,
    },
    /// Names a writer out of place (`x/zoomwatch-response/bob/zoomwatch-response/ana/y`):
    /// nothing in it is believed.
    Forged,
}

/// Reads `stream`'s name (see [`StreamOwner`]).
pub fn owner(stream: Option<&str>) -> StreamOwner<'_> {
    use crate::sink::cloudwatch::{BROKER, POLLER, RECEIVER, RESPONSE, WATCH};
    let Some(name) = stream else { return StreamOwner::Unknown };
    let parts: Vec<&str> = name.split('/').collect();
    let writers = parts.iter().filter(|p| [RESPONSE, WATCH, RECEIVER, POLLER, BROKER].contains(p)).count();
    let dated = parts.len() >= 5 && parts[..3].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if name.contains(&format!("/{RESPONSE}/")) {
        // The analyst policy's glob is `*/zoomwatch-response/<analyst>/*`.
        return match parts.as_slice() {
            [_, _, _, w, inst] if dated && *w == RESPONSE && writers == 1 && !inst.is_empty() => StreamOwner::Response { analyst: None },
            [_, _, _, w, who, inst] if dated && *w == RESPONSE && writers == 1 && !who.is_empty() && !inst.is_empty() => {
                StreamOwner::Response { analyst: Some(who) }
            }
            _ => StreamOwner::Forged,
        };
    }
    match (writers, parts.get(3)) {
        (0, _) => StreamOwner::Unknown,
        (1, Some(w)) if dated && (*w == RECEIVER || *w == POLLER) => StreamOwner::Receiver,
        (1, Some(w)) if dated && *w == WATCH => StreamOwner::Watch,
        (1, Some(w)) if dated && *w == BROKER && parts.len() == 5 => StreamOwner::Broker,
        _ => StreamOwner::Forged,
    }
}

/// Whether a record of `event` may come from log stream `stream`: each writer's streams
/// carry only its own kinds (`…/zoomwatch-response/…`: actions, verdicts, posture runs;
/// `…/zoomwatch-watch/…`: alerts; the receiver's and poller's: Zoom's events, never
/// those). IAM lets analysts write only response streams, so an analyst cannot pass a
/// forged meeting event or alert through them. Streams of other names are not judged.
pub fn belongs(stream: Option<&str>, event: &str) -> bool {
    use zoomwatch_shared::record::{ACTION_EVENT, ALERT_EVENT, TRIAGE_EVENT};
    let own = [ACTION_EVENT, TRIAGE_EVENT, zoomwatch_shared::posture::POSTURE_EVENT];
    match owner(stream) {
        StreamOwner::Unknown => true,
        StreamOwner::Receiver => !own.contains(&event) && event != ALERT_EVENT,
        StreamOwner::Watch => event == ALERT_EVENT,
        StreamOwner::Broker => event == ACTION_EVENT,
        StreamOwner::Response { .. } => own.contains(&event),
        StreamOwner::Forged => false,
    }
}

/// [`belongs`], and in an analyst's own streams the record's analyst must be the one the
/// stream is named after: nobody can act or judge in another analyst's name.
pub fn belongs_record(stream: Option<&str>, record: &zoomwatch_shared::RecordV1) -> bool {
    if !belongs(stream, &record.event) {
        return false;
    }
    match (owner(stream), &record.response) {
        (StreamOwner::Response { analyst: Some(who) }, Some(resp)) => resp.analyst == who,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_writers_streams_carry_only_its_own_kinds() {
        let resp = Some("2026/12/07/zoomwatch-response/ana-1");
        let watch = Some("2026/12/07/zoomwatch-watch/w1");
        let ingest = Some("2026/12/07/zoomwatch-ingest/i-abc");
        assert!(belongs(resp, "zoomwatch.action") && belongs(resp, "zoomwatch.triage") && belongs(resp, "zoomwatch.posture"));
        assert!(!belongs(resp, "meeting.participant_joined") && !belongs(resp, "zoomwatch.alert") && !belongs(resp, "user.deactivated"));
        assert!(belongs(watch, "zoomwatch.alert") && !belongs(watch, "zoomwatch.triage"));
        let broker = Some("2026/12/07/zoomwatch-broker/b-1");
        assert!(belongs(broker, "zoomwatch.action") && !belongs(broker, "zoomwatch.triage") && !belongs(broker, "meeting.started"));
        assert!(
            belongs(ingest, "meeting.participant_joined") && !belongs(ingest, "zoomwatch.alert") && !belongs(ingest, "zoomwatch.action")
        );
        assert!(belongs(None, "zoomwatch.alert") && belongs(Some("other-stream"), "meeting.started"));
    }

    #[test]
    fn a_stream_is_believed_only_in_its_writers_exact_shape() {
        let ana = Some("2026/12/07/zoomwatch-response/ana/0123");
        assert_eq!(owner(ana), StreamOwner::Response { analyst: Some("ana") });
        assert_eq!(owner(Some("2026/12/07/zoomwatch-response/0123")), StreamOwner::Response { analyst: None });
        // Each of these matches the analyst policy's glob for ana, but says nothing true.
        for forged in [
            "x/zoomwatch-response/bob/zoomwatch-response/ana/y",
            "2026/12/07/zoomwatch-response/bob/zoomwatch-response/ana/y",
            "2026/12/07/zoomwatch-ingest/zoomwatch-response/ana/y",
            "2026/12/zoomwatch-response/ana/y",
            "a/b/c/zoomwatch-response/ana/y",
            "2026/12/07/zoomwatch-response/ana/y/z",
        ] {
            assert_eq!(owner(Some(forged)), StreamOwner::Forged, "{forged}");
            assert!(!belongs(Some(forged), "zoomwatch.action") && !belongs(Some(forged), "meeting.started"), "{forged}");
        }
        assert_eq!(owner(Some("2026/12/07/zoomwatch-ingest/zoomwatch-watch")), StreamOwner::Forged);
        assert_eq!(owner(Some("2026/12/07/zoomwatch-ingest/i-1")), StreamOwner::Receiver);
        assert_eq!(owner(Some("2026/12/07/zoomwatch-watch/w")), StreamOwner::Watch);
        assert_eq!(owner(Some("2026/12/07/zoomwatch-broker/b1")), StreamOwner::Broker);
        assert_eq!(owner(Some("2026/12/07/zoomwatch-broker/ana/b1")), StreamOwner::Forged);
    }

    #[test]
    fn an_analyst_cannot_write_in_anothers_name() {
        let rec = |analyst: &str| {
            let mut r = zoomwatch_shared::audit::triage_record(analyst, None, "a-1", "false-positive", "", 1_765_000_000_000);
            r.response.as_mut().unwrap().analyst = analyst.into();
            r
        };
        let anas = Some("2026/12/07/zoomwatch-response/ana/0123");
        assert!(belongs_record(anas, &rec("ana")));
        assert!(!belongs_record(anas, &rec("bob")), "ana's stream cannot carry bob's verdict");
        // The older shared streams prove no name; they are read as before.
        assert!(belongs_record(Some("2026/12/07/zoomwatch-response/0123"), &rec("bob")));
    }
}
