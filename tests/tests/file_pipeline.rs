//! Signed webhook → receiver (real HTTP on loopback) → JSONL file → console file source
//! (following live) → detector and rosters: the embedded default, end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tokio::sync::mpsc;
use zoomwatch_e2e::{Receiver, SECRET, fixtures};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_log::source::SourceEvent;
use zoomwatch_log::source::file::{self, FileSource};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::roster::Presence;
use zoomwatch_shared::rules::{AlertEvent, Detector};
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

#[tokio::test]
async fn webhooks_reach_the_console_state_while_it_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let rx_server = Receiver::start_file_enriched(&path).await.unwrap();

    // The console is already following when the first webhook arrives.
    let (tx, mut events) = mpsc::channel(64);
    tokio::spawn(file::run(FileSource::new(&path), tx));
    let mut detector = Detector::new(Config::parse(scenario::CONFIG, "scenario").unwrap());

    let sender = Sender::new(rx_server.url(), Secret::new(SECRET)).unwrap();
    let steps = scenario::account_day((unix_now() - 1800) * 1000);
    // The scripted Zoom retry is answered `duplicate` by the receiver and not written.
    let n = steps.len() - 1;
    let feeder = tokio::spawn(async move {
        let mut duplicates = 0;
        for s in steps {
            let d = sender.send(s.body, None).await.unwrap();
            assert_eq!(d.status, 200);
            duplicates += usize::from(d.body.contains("\"duplicate\""));
        }
        assert_eq!(duplicates, 1);
    });

    let mut seen = 0usize;
    let mut raised = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen < n {
        let ev = tokio::time::timeout_at(deadline, events.recv()).await.expect("records did not arrive").unwrap();
        if let SourceEvent::Records(batch) = ev {
            for r in batch {
                seen += 1;
                raised.extend(detector.observe(&r).into_iter().filter_map(
                    |e| {
                        if let AlertEvent::Raised(a) = e { Some(a.rule) } else { None }
                    },
                ));
            }
        }
    }
    feeder.await.unwrap();
    rx_server.stop().await.unwrap();

    assert_eq!(seen, n, "every distinct delivery became exactly one record");
    for rule in scenario::planted_incidents() {
        assert!(raised.iter().any(|r| r == rule), "{rule} not raised: {raised:?}");
    }
    let all_hands = detector.meetings().meetings.get("aLlH4nds/Q3+2026xYz0w==").unwrap();
    assert!(all_hands.host_present());
    // The removed raider came back from the same device under a new name: one roster
    // line (same participant_uuid), present again, two joins.
    let bomber = all_hands.attendees.values().find(|a| a.participant.name() == Some("bomber_is_back")).unwrap();
    assert_eq!((bomber.presence, bomber.joins), (Presence::In, 2));
    assert!(bomber.left_ms.is_some(), "the removal is remembered");
}

#[tokio::test]
async fn a_rejected_request_is_visible_to_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let server = Receiver::start_file(&path).await.unwrap();
    let forged = Sender::new(server.url(), Secret::new("not-the-secret")).unwrap();
    let body = std::fs::read(fixtures().join("meeting.participant_joined.json")).unwrap();
    assert_eq!(forged.send(body, None).await.unwrap().status, 401);
    server.stop().await.unwrap();

    let (tx, mut events) = mpsc::channel(8);
    let mut src = FileSource::new(&path);
    src.follow = false;
    tokio::spawn(file::run(src, tx));
    let mut records = Vec::new();
    while let Some(ev) = events.recv().await {
        if let SourceEvent::Records(b) = ev {
            records.extend(b);
        }
    }
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event, "zoomwatch.rejected");
    assert_eq!(records[0].rejection.as_ref().unwrap().reason, "bad_signature");
    assert!(records[0].received_at.starts_with(&zoomwatch_shared::timefmt::format_ms(unix_now() * 1000)[..10]));
}

#[tokio::test]
async fn the_console_state_follows_the_receiver_headless() {
    use zoomwatch_console::state::{Msg, State, View, update};
    use zoomwatch_console::triage::Triage;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let server = Receiver::start_file_enriched(&path).await.unwrap();
    let (tx, mut events) = mpsc::channel(64);
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let prep = std::sync::Arc::new(zoomwatch_console::prepare::Preparer::new(cfg.clone(), None));
    tokio::spawn(file::run_prepared(FileSource::new(&path), prep, tx));
    let mut state = State::new(format!("file:{}", path.display()), cfg, Triage::default(), 10_000, unix_now() * 1000);

    let sender = Sender::new(server.url(), Secret::new(SECRET)).unwrap();
    let steps = scenario::account_day_at_speed((unix_now() - 600) * 1000, 10.0);
    let distinct = steps.len() - 1; // one delivery is a Zoom retry of the previous body
    for s in steps {
        assert_eq!(sender.send(s.body, None).await.unwrap().status, 200);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while (state.stats.records as usize) < distinct {
        let ev = tokio::time::timeout_at(deadline, events.recv()).await.expect("the console did not catch up").unwrap();
        update(&mut state, Msg::Source(ev));
    }
    server.stop().await.unwrap();
    assert_eq!(state.stats.duplicates, 0, "the receiver answered the retry itself");
    assert_eq!(state.lists[&View::Feed].len(), distinct);
    let rules: Vec<&str> = state.alerts.iter().map(|a| a.alert.rule.as_str()).collect();
    for planted in scenario::planted_incidents() {
        assert!(rules.contains(&planted), "{planted}: {rules:?}");
    }
    assert!(state.stats.last_validation_ms.is_some(), "the header's last URL validation");
    assert_eq!(state.meetings().len(), 3);
    // Countries reached the roster from the receiver's enrichment.
    let all_hands = state.meetings().into_iter().find(|m| m.topic.as_deref() == Some("Company all-hands")).unwrap();
    let countries: std::collections::BTreeSet<String> =
        all_hands.attendees.values().filter_map(|a| a.participant.geo()?.country.clone()).collect();
    assert_eq!(countries.into_iter().collect::<Vec<_>>(), ["CN", "GB", "US"]);
}

/// Opening a file longer than the retention: the records before its last lines are only
/// judged (neither packed nor indexed for the filter), and the console ends where reading
/// every record in full ends: the same counts, alerts and meetings, and the same newest
/// rows — fewer by the garbage and duplicate lines among the last ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_long_file_judges_every_record_and_holds_the_newest() {
    use zoomwatch_console::prepare::Preparer;
    use zoomwatch_console::state::{Msg, State, update};
    use zoomwatch_console::triage::Triage;
    use zoomwatch_shared::synthetic;

    const RETENTION: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day.jsonl");
    let mut text = String::new();
    for i in 0..24_000 {
        text.push_str(&synthetic::stored_line(synthetic::busy_account_body, i, 1_780_000_000_000).unwrap());
        text.push('\n');
        if i == 22_000 {
            // Among the last lines: a line that is no record, and a delivery seen before.
            text.push_str("START RequestId: 1\n");
            text.push_str(&synthetic::stored_line(synthetic::busy_account_body, 21_990, 1_780_000_000_000).unwrap());
            text.push('\n');
        }
    }
    std::fs::write(&path, &text).unwrap();
    let cfg = Config::default();

    let open = |prep: Preparer| {
        let (path, cfg) = (path.clone(), cfg.clone());
        async move {
            let (tx, mut rx) = mpsc::channel(zoomwatch_log::source::CHANNEL_CAPACITY);
            let mut src = FileSource::new(&path);
            src.follow = false;
            tokio::spawn(file::run_prepared(src, std::sync::Arc::new(prep), tx));
            let mut state = State::new("file", cfg, Triage::default(), RETENTION, 1_780_000_000_000);
            while let Some(ev) = rx.recv().await {
                let done = matches!(ev, SourceEvent::Status(zoomwatch_log::source::Status::Done));
                update(&mut state, Msg::Source(ev));
                if done {
                    break;
                }
            }
            state
        }
    };
    let full = open(Preparer::new(cfg.clone(), None)).await;
    let quick = open(Preparer::new(cfg.clone(), None).keeping(RETENTION)).await;

    assert_eq!(full.stats.records, 24_000);
    assert_eq!((quick.stats.records, quick.stats.duplicates, quick.stats.skipped), (24_000, 1, 1));
    assert_eq!(quick.stats.by_event, full.stats.by_event);
    let alerts = |s: &State| -> Vec<String> {
        s.alerts
            .iter()
            .map(|a| format!("{} {} {} {:?} {:?}", a.alert.id, a.alert.rule, a.alert.count, a.alert.severity, a.alert.record_ids))
            .collect()
    };
    assert!(full.alerts.len() > 10, "the busy account raises alerts: {}", full.alerts.len());
    assert_eq!(alerts(&quick), alerts(&full), "the same alerts, grown the same way");
    assert_eq!(quick.meetings().len(), full.meetings().len());
    // The last 5,000 lines hold 4,998 records: those are the rows, the newest of the full read's.
    assert_eq!(full.rows.len(), RETENTION);
    assert_eq!(quick.rows.len(), RETENTION - 2);
    let lines = |s: &State| s.rows.iter().map(|r| r.line()).collect::<Vec<_>>();
    assert_eq!(lines(&quick)[..], lines(&full)[2..]);
    assert_eq!(quick.lists[&zoomwatch_console::state::View::Feed].len(), RETENTION - 2);
}
