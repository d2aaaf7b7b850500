//! `zoomwatch demo` with response actions: the demo's Zoom stand-in answers like Zoom
//! and sends the webhook Zoom would send next, through the real receiver. Ending the
//! raided meeting closes it in the console's state; the action is audited in the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use zoomwatch_console::act::{self, Analyst, Context};
use zoomwatch_console::demo::Demo;
use zoomwatch_console::state::{Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_shared::lines;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::roster::MeetingPhase;
use zoomwatch_zoomapi::{Action, Lookup};

fn stored(demo: &Demo) -> Vec<RecordV1> {
    let text = std::fs::read_to_string(&demo.path).unwrap();
    text.lines().filter_map(|l| lines::parse(l.as_bytes()).ok()).collect()
}

async fn wait_for(demo: &Demo, what: impl Fn(&RecordV1) -> bool) -> RecordV1 {
    for _ in 0..100 {
        if let Some(r) = stored(demo).into_iter().find(|r| what(r)) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the record did not arrive");
}

/// A demo whose scripted day has been played (fast).
async fn played_demo() -> Demo {
    let demo = Demo::start(1000.0).await.unwrap();
    while !demo.finished() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    demo
}

#[tokio::test(flavor = "multi_thread")]
async fn ending_the_raided_meeting_closes_it() {
    let demo = played_demo().await;
    let analyst = Analyst { name: "ana".into(), host: None, principal: None };
    let responder = demo.responder(analyst.clone()).unwrap();
    let client = responder.client.clone().unwrap();
    let sink = responder.sink.clone().unwrap();

    // Zoom's Dashboard lists the raiders in the all-hands.
    let (title, live) = act::lookup(&client, &Lookup::LiveParticipants { meeting: "aLlH4nds/Q3+2026xYz0w==".into() }).await.unwrap();
    assert!(title.contains("Live in meeting"), "{title}");
    assert!(live.iter().any(|l| l.contains("bomber_is_back")), "{live:?}");
    assert!(!live.iter().any(|l| l.contains("xXbomberXx")), "the raider removed by the host has left");

    // Remove one raider, then end the meeting.
    let raider = stored(&demo)
        .into_iter()
        .filter(|r| r.event == "meeting.participant_joined")
        .filter_map(|r| r.participant)
        .find(|p| p.name.as_deref() == Some("bomber_is_back"))
        .and_then(|p| p.participant_uuid)
        .unwrap();
    let ctx = Context { reason: Some("raid".into()), alert_id: Some("a1".into()) };
    for action in [
        Action::RemoveParticipant { meeting: "84512345678".into(), participant_uuid: raider.clone() },
        Action::EndMeeting { meeting: "84512345678".into() },
    ] {
        let done = act::execute(Some(&client), &action, &analyst, &ctx, None, zoomwatch_console::clock::now_ms).await;
        assert_eq!(done.outcome, zoomwatch_shared::audit::Outcome::Succeeded, "{}", done.line);
        act::write_audit(&sink, done.record).await.unwrap();
    }
    let left = wait_for(&demo, |r| {
        r.event == "meeting.participant_left"
            && r.participant.as_ref().and_then(|p| p.participant_uuid.as_deref()) == Some(raider.as_str())
            && r.participant.as_ref().and_then(|p| p.leave_reason.as_deref()).is_some_and(|l| l.contains("Host removed"))
    })
    .await;
    assert!(left.request.is_some(), "it came through the receiver, signed");
    wait_for(&demo, |r| r.event == "meeting.ended" && r.meeting.as_ref().and_then(|m| m.id.as_deref()) == Some("84512345678")).await;

    // The console, reading the file, shows the meeting closed and both actions audited.
    let cfg = demo.config.clone();
    let mut s = State::new("demo", cfg, Triage::default(), 10_000, zoomwatch_console::clock::now_ms());
    update(&mut s, Msg::Records(stored(&demo)));
    let all_hands = s.meetings().into_iter().find(|m| m.id.as_deref() == Some("84512345678")).unwrap();
    assert_eq!(all_hands.phase, MeetingPhase::Ended);
    assert_eq!(all_hands.present(), 0);
    let actions: Vec<RecordV1> = stored(&demo).into_iter().filter(|r| r.event == "zoomwatch.action").collect();
    assert_eq!(actions.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["remove-participant", "end-meeting"]);
    assert_eq!(s.triage.alerts["a1"].actions.len(), 2, "actions on an alert are listed on it");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stand_in_refuses_what_zoom_refuses() {
    let demo = played_demo().await;
    let analyst = Analyst { name: "ana".into(), host: None, principal: None };
    let responder = demo.responder(analyst.clone()).unwrap();
    let client = responder.client.clone().unwrap();
    // The all-hands is still running: Zoom does not update a started meeting.
    let harden = Action::HardenMeeting { meeting: "84512345678".into(), passcode: None, require_auth: true };
    let done = act::execute(Some(&client), &harden, &analyst, &Context::default(), None, zoomwatch_console::clock::now_ms).await;
    assert_eq!(done.outcome, zoomwatch_shared::audit::Outcome::Refused);
    assert!(done.line.contains("end-meeting stops it"), "{}", done.line);
    // The stand-up has ended: it cannot be ended again.
    let end = Action::EndMeeting { meeting: "87734567890".into() };
    let done = act::execute(Some(&client), &end, &analyst, &Context::default(), None, zoomwatch_console::clock::now_ms).await;
    assert_eq!(done.outcome, zoomwatch_shared::audit::Outcome::Refused, "{}", done.line);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admins_weakening_shows_as_drift_and_reverting_it_restores_it() {
    let demo = played_demo().await;
    let records = stored(&demo);
    let posture = records.iter().find(|r| r.event == "zoomwatch.posture").expect("a posture run before the day");
    let summary = zoomwatch_shared::posture::summary_of(posture).unwrap();
    assert!(summary.passed > 0 && summary.score > 0, "{summary:?}");
    assert!(!summary.failing.iter().any(|f| f.control == "meeting_security.waiting_room"), "the waiting room was on at the start");

    // The console: the weakening is open drift in the Posture view.
    let cfg = demo.config.clone();
    let mut s = State::new("demo", cfg, Triage::default(), 10_000, zoomwatch_console::clock::now_ms());
    update(&mut s, Msg::Records(records));
    let open: Vec<&str> = s.posture.open().map(|d| d.control.as_str()).collect();
    assert!(open.contains(&"meeting_security.waiting_room"), "{open:?}");

    // Set it back through the demo's Zoom stand-in: Zoom's webhook closes the drift.
    let analyst = Analyst { name: "ana".into(), host: None, principal: None };
    let responder = demo.responder(analyst.clone()).unwrap();
    let action = act::revert_action("account", "meeting_security.waiting_room", None).unwrap();
    let done = act::execute(
        Some(&responder.client.clone().unwrap()),
        &action,
        &analyst,
        &Context::default(),
        None,
        zoomwatch_console::clock::now_ms,
    )
    .await;
    assert_eq!(done.outcome, zoomwatch_shared::audit::Outcome::Succeeded, "{}", done.line);
    let restored = wait_for(&demo, |r| {
        r.event == "account.settings_updated"
            && r.changes.iter().any(|c| c.path == "settings.meeting_security.waiting_room" && c.new == true)
    })
    .await;
    assert!(restored.flags.is_empty(), "setting it back raises nothing: {:?}", restored.flags);
    update(&mut s, Msg::Records(vec![restored]));
    assert!(!s.posture.open().any(|d| d.control == "meeting_security.waiting_room"));
    demo.stop().await;
}

/// The console is told when the scripted day is over (its header says so), after every
/// record of the day, and the source goes on following.
#[tokio::test(flavor = "multi_thread")]
async fn the_source_says_when_the_day_is_over() {
    use zoomwatch_log::source::{AsRead, SourceEvent, Status};
    let demo = Demo::start(1000.0).await.unwrap();
    let mut rx = demo.source(std::sync::Arc::new(AsRead));
    let mut records = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await.expect("the day ends within 2 minutes") {
            Some(SourceEvent::Records(b)) => records += b.len(),
            Some(SourceEvent::Status(Status::Waiting(w))) if w == zoomwatch_console::demo::DAY_OVER => break,
            Some(_) => {}
            None => panic!("the source stopped"),
        }
    }
    assert!(demo.finished());
    assert_eq!(records, stored(&demo).len(), "every record of the day came before the notice");
}
