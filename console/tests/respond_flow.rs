//! The console's response flow, headless: `r` on an alert opens the actions that fit,
//! ⏎ asks for confirmation showing the exact call, `y` hands the call to the shell; the
//! result marks the alert; verdicts and actions of other analysts arrive as records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, console, key};
use crossterm::event::KeyCode;
use zoomwatch_console::respond::Item;
use zoomwatch_console::state::{Effect, Msg, Overlay, State, View, ZoomCall, update};
use zoomwatch_console::triage::Status;
use zoomwatch_shared::audit;
use zoomwatch_zoomapi::{Action, Lookup};

fn ready() -> State {
    let mut s = console().with_respond("ana", None);
    key(&mut s, KeyCode::Char('5'));
    s
}

fn select_rule(s: &mut State, rule: &str) -> String {
    key(s, KeyCode::Home);
    for _ in 0..s.alerts.len() {
        if s.selected_alert().unwrap().alert.rule == rule {
            return s.selected_alert().unwrap().alert.id.clone();
        }
        key(s, KeyCode::Down);
    }
    panic!("no {rule} alert");
}

#[test]
fn ending_the_raided_meeting_from_its_alert() {
    let mut s = ready();
    let id = select_rule(&mut s, "join-burst");
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!("no menu: {:?}", s.overlay) };
    assert_eq!(menu.items[0], Item::Act(Action::EndMeeting { meeting: "aLlH4nds/Q3+2026xYz0w==".into() }));
    assert!(menu.items.contains(&Item::Look(Lookup::LiveParticipants { meeting: "aLlH4nds/Q3+2026xYz0w==".into() })));
    key(&mut s, KeyCode::Enter);
    assert!(
        matches!(&s.overlay, Overlay::Confirm { actions, alert_id: Some(a) } if a == &id && matches!(actions.as_slice(), [Action::EndMeeting { .. }]))
    );
    // Anything but y/n keeps the dialog.
    assert!(key(&mut s, KeyCode::Char('j')).is_empty());
    assert!(matches!(s.overlay, Overlay::Confirm { .. }));
    let effects = key(&mut s, KeyCode::Char('y'));
    assert_eq!(
        effects,
        vec![Effect::Zoom(ZoomCall::Act {
            actions: vec![Action::EndMeeting { meeting: "aLlH4nds/Q3+2026xYz0w==".into() }],
            alert_id: Some(id.clone())
        })]
    );
    assert_eq!(s.overlay, Overlay::None);

    let effects = update(
        &mut s,
        Msg::Acted { alert_id: Some(id.clone()), line: "done: end meeting 84512345678 (Zoom answered HTTP 204)".into(), ok: true },
    );
    assert!(matches!(&effects[..], [Effect::SaveTriage(_), Effect::ShareTriage { alert_id, .. }] if alert_id == &id));
    let item = s.alerts.iter().find(|a| a.alert.id == id).unwrap();
    assert_eq!(item.triage.status, Status::Acked, "a successful action acknowledges the alert");
    assert_eq!(item.triage.by, "ana");
    assert!(item.triage.actions[0].ends_with("ana: done: end meeting 84512345678 (Zoom answered HTTP 204)"), "{:?}", item.triage.actions);
    assert!(s.notice.as_ref().unwrap().0.contains("done: end meeting"));
}

#[test]
fn cancel_and_unavailable() {
    let mut s = ready();
    select_rule(&mut s, "impossible-travel");
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!() };
    // Helen is a Zoom user: signing her out is offered.
    assert!(menu.items.contains(&Item::Act(Action::SignOutUser { user: "hPk8-Usr-0017AbCdEfGh".into() })));
    key(&mut s, KeyCode::Enter);
    assert!(key(&mut s, KeyCode::Char('n')).is_empty());
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.notice.as_ref().unwrap().0, "not done");

    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    assert!(key(&mut s, KeyCode::Char('r')).is_empty());
    assert_eq!(s.overlay, Overlay::None);
    assert!(s.notice.as_ref().unwrap().0.starts_with("Zoom actions unavailable"));
}

#[test]
fn a_roster_line_offers_removal_and_a_lookup_reconciles() {
    let mut s = ready();
    key(&mut s, KeyCode::Char('2'));
    while s.selected_meeting().unwrap().topic.as_deref() != Some("Company all-hands") {
        key(&mut s, KeyCode::Down);
    }
    key(&mut s, KeyCode::Right);
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = s.overlay.clone() else { panic!() };
    assert!(menu.items.iter().any(|i| matches!(i, Item::Act(Action::RemoveParticipant { .. }))), "{menu:?}");
    // Pick the Dashboard lookup.
    let pos = menu.items.iter().position(|i| matches!(i, Item::Look(_))).unwrap();
    for _ in 0..pos {
        key(&mut s, KeyCode::Down);
    }
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Zoom(ZoomCall::Lookup(lookup))] = &effects[..] else { panic!("{effects:?}") };
    // Zoom lists one person the roster does not have.
    let body = serde_json::json!({"participants": [{"user_name": "Ghost", "email": "ghost@x.example", "participant_uuid": "ZZ"}]});
    update(&mut s, Msg::LookedUp { lookup: lookup.clone(), result: Ok(body) });
    let Overlay::Info { lines, .. } = &s.overlay else { panic!() };
    assert!(lines[0].contains("missed joins): Ghost <ghost@x.example>"), "{lines:?}");
    assert!(lines[1].starts_with("in the roster, not in the meeting per Zoom"), "{lines:?}");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.view, View::Meetings);
}

#[test]
fn another_analysts_verdicts_and_actions_arrive_as_records() {
    let mut s = ready();
    let id = select_rule(&mut s, "sensitive-meeting-outsider");
    let later = audit::triage_record("bob", Some("soc-2"), &id, "dismissed", "board invited him", T0 + 950_000);
    let earlier = audit::triage_record("carol", None, &id, "acked", "", T0 + 940_000);
    let action = audit::action_record(&audit::ActionAudit {
        action: "deny-registrant".into(),
        meeting: Some("86623456789".into()),
        user: Some("jdoe@freemail.example".into()),
        participant_uuid: None,
        at_ms: T0 + 945_000,
        response: audit::Response {
            analyst: "bob".into(),
            outcome: Some(audit::Outcome::Succeeded),
            result: Some("done: deny registrant jdoe@freemail.example".into()),
            alert_id: Some(id.clone()),
            ..audit::Response::default()
        },
    });
    update(&mut s, Msg::Records(vec![later, action, earlier]));
    let item = s.alerts.iter().find(|a| a.alert.id == id).unwrap();
    assert_eq!(item.triage.status, Status::Dismissed, "the later verdict wins, whatever the order read");
    assert_eq!(item.triage.by, "bob");
    assert_eq!(item.triage.note, "board invited him");
    assert_eq!(item.triage.actions.len(), 1);
    assert!(item.triage.actions[0].contains("bob: done: deny registrant"));
    // The records are in the feed too, like any other.
    assert!(s.rows.iter().any(|r| r.record().unwrap().event == "zoomwatch.triage"));
}

#[test]
fn reverting_a_drifted_setting_from_its_alert_and_from_the_posture_view() {
    use serde_json::json;
    use zoomwatch_zoomapi::SettingsScope;
    let waiting_room =
        Action::SetSetting { scope: SettingsScope::Account, path: "meeting_security.waiting_room".into(), value: json!(true) };
    let mut s = ready();
    let id = select_rule(&mut s, "policy-drift");
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!("no menu: {:?}", s.overlay) };
    assert_eq!(menu.items[0], Item::Act(waiting_room.clone()), "{:?}", menu.items);
    assert!(menu.items.iter().any(|i| matches!(i, Item::Act(Action::SetSetting { path, .. })
        if path == "schedule_meeting.require_password_for_scheduled_meetings")));
    key(&mut s, KeyCode::Enter);
    let effects = key(&mut s, KeyCode::Char('y'));
    assert_eq!(effects, vec![Effect::Zoom(ZoomCall::Act { actions: vec![waiting_room.clone()], alert_id: Some(id) })]);

    // The Posture view: the drifted row offers the same, and Zoom's restoring webhook
    // closes it.
    key(&mut s, KeyCode::Char('7'));
    assert_eq!(s.posture.open().count(), 2);
    let rows = s.posture.rows();
    let at = rows
        .iter()
        .position(|r| matches!(r, zoomwatch_console::state::posture::PostureRow::Open(d) if d.control == "meeting_security.waiting_room"))
        .unwrap();
    for _ in 0..at {
        key(&mut s, KeyCode::Down);
    }
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!("no menu: {:?}", s.overlay) };
    assert_eq!(menu.items, [Item::Act(waiting_room)]);
    key(&mut s, KeyCode::Esc);
    let restore = json!({"event": "account.settings_updated", "event_ts": T0 + 950_000, "payload": {"account_id": "A",
        "operator": "it-admin@acme.example", "object": {"id": "A", "settings": {"meeting_security": {"waiting_room": true}}},
        "old_object": {"id": "A", "settings": {"meeting_security": {"waiting_room": false}}}}});
    let r = zoomwatch_shared::normalize(
        zoomwatch_shared::Envelope::parse(restore.to_string().as_bytes()).unwrap(),
        &zoomwatch_shared::Received { received_at_ms: T0 + 950_100, request: None },
    );
    update(&mut s, Msg::Records(vec![r]));
    assert_eq!(s.posture.open().count(), 1, "the waiting room is back; the passcode is still off");
}

#[test]
fn removing_a_guest_who_shares_their_screen() {
    let mut s = ready();
    select_rule(&mut s, "outsider-screen-share");
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!("no menu: {:?}", s.overlay) };
    // The share webhook names the guest only by display name; the roster knows the device.
    assert!(
        menu.items
            .iter()
            .any(|i| matches!(i, Item::Act(Action::RemoveParticipant { participant_uuid, .. }) if !participant_uuid.is_empty())),
        "{:?}",
        menu.items
    );
    assert!(menu.items.contains(&Item::Act(Action::EndMeeting { meeting: "aLlH4nds/Q3+2026xYz0w==".into() })));
}

#[test]
fn a_verdict_dated_in_the_future_does_not_pin_the_alert() {
    let mut s = ready();
    let id = select_rule(&mut s, "join-burst");
    // A forged verdict far in the future, then a genuine one written a minute later.
    let mut forged = audit::triage_record("mallory", None, &id, "dismissed", "nothing to see", T0 + 902_000);
    forged.id = "forged-1".into();
    forged.occurred_at = "9999-12-31T23:59:59.000Z".into();
    update(&mut s, Msg::Records(vec![forged]));
    assert_eq!(s.alerts.iter().find(|a| a.alert.id == id).unwrap().triage.status, Status::Dismissed);
    update(&mut s, Msg::Tick(T0 + 960_000));
    let genuine = audit::triage_record("ana", None, &id, "acked", "looking", T0 + 960_000);
    update(&mut s, Msg::Records(vec![genuine]));
    assert_eq!(s.alerts.iter().find(|a| a.alert.id == id).unwrap().triage.status, Status::Acked, "the later genuine verdict wins");
}

#[test]
fn a_new_alert_arriving_does_not_move_the_selection() {
    let mut s = ready();
    key(&mut s, KeyCode::Home);
    let seen = s.selected_alert().unwrap().alert.id.clone();
    // A new high alert arrives a moment before the key press.
    let body = serde_json::json!({"event": "user.settings_updated", "event_ts": T0 + 905_000, "payload": {"account_id": "A",
        "operator": "it-admin@acme.example", "object": {"id": "U9", "settings": {"meeting_authentication": false}},
        "old_object": {"id": "U9", "settings": {"meeting_authentication": true}}}});
    let r = zoomwatch_shared::normalize(
        zoomwatch_shared::Envelope::parse(body.to_string().as_bytes()).unwrap(),
        &zoomwatch_shared::Received { received_at_ms: T0 + 905_100, request: None },
    );
    let before = s.alerts.len();
    update(&mut s, Msg::Records(vec![r]));
    assert_eq!(s.alerts.len(), before + 1, "a new alert was raised");
    key(&mut s, KeyCode::Char('a'));
    let acked: Vec<&str> = s.alerts.iter().filter(|a| a.triage.status == Status::Acked).map(|a| a.alert.id.as_str()).collect();
    assert_eq!(acked, [seen.as_str()], "the alert that was highlighted is the one acknowledged");
}

#[test]
fn responding_to_a_raid_offers_removing_every_raider() {
    let mut s = ready();
    let id = select_rule(&mut s, "join-burst");
    let evidence = s.selected_alert().unwrap().alert.record_ids.len();
    key(&mut s, KeyCode::Char('r'));
    let Overlay::Respond(menu) = &s.overlay else { panic!("no menu: {:?}", s.overlay) };
    let pos = menu.items.iter().position(|i| matches!(i, Item::ActAll { .. })).expect("no remove-all entry");
    let Item::ActAll { label, actions } = &menu.items[pos] else { unreachable!() };
    let mut uuids: Vec<&str> = actions
        .iter()
        .map(|a| match a {
            Action::RemoveParticipant { meeting, participant_uuid } => {
                assert_eq!(meeting, "aLlH4nds/Q3+2026xYz0w==", "the alert's own instance");
                participant_uuid.as_str()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    let n = uuids.len();
    assert!(n >= 2 && n <= evidence, "{n} raiders of {evidence} records of evidence");
    assert!(label.contains(&format!("all {n} raiders")), "{label}");
    uuids.sort_unstable();
    uuids.dedup();
    assert_eq!(uuids.len(), n, "each raider once");
    let actions = actions.clone();
    for _ in 0..pos {
        key(&mut s, KeyCode::Down);
    }
    key(&mut s, KeyCode::Enter);
    assert!(matches!(&s.overlay, Overlay::Confirm { actions: a, .. } if a.len() == n));
    let effects = key(&mut s, KeyCode::Char('y'));
    assert_eq!(effects, vec![Effect::Zoom(ZoomCall::Act { actions, alert_id: Some(id) })]);
}
