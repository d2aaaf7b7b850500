//! The console's state machine, headless: records in, keys pressed, state and effects
//! checked. No terminal involved.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, console, day, key, typed};
use crossterm::event::KeyCode;
use zoomwatch_console::state::{Effect, Msg, Overlay, State, View, update};
use zoomwatch_console::triage::{Status, Triage};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::roster::Presence;
use zoomwatch_shared::scenario;

#[test]
fn the_day_fills_feed_meetings_and_alerts() {
    let s = console();
    let day = day();
    assert_eq!(s.stats.records as usize, day.len() - 1, "the retried delivery is a duplicate");
    assert_eq!(s.stats.duplicates, 1);
    assert_eq!(s.lists[&View::Feed].len(), day.len() - 1);
    let rules: Vec<&str> = s.alerts.iter().map(|a| a.alert.rule.as_str()).collect();
    for planted in scenario::planted_incidents() {
        assert!(rules.contains(&planted), "{planted} missing from {rules:?}");
    }
    let meetings = s.meetings();
    assert_eq!(meetings.len(), 3);
    let all_hands = meetings.iter().find(|m| m.topic.as_deref() == Some("Company all-hands")).unwrap();
    assert!(all_hands.present() >= 18);
    let standup = meetings.iter().find(|m| m.topic.as_deref() == Some("Eng stand-up")).unwrap();
    assert!(standup.attendees.values().all(|a| a.presence == Presence::Left), "ended meeting: everyone left");
    assert!(s.stats.last_validation_ms.is_some());
}

#[test]
fn views_cursor_and_details() {
    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    assert_eq!(s.view, View::Alerts);
    // New alerts first, highest severity first.
    let first = s.selected_alert().unwrap();
    assert_eq!(first.alert.severity, zoomwatch_shared::Severity::High);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.overlay, Overlay::Detail);
    key(&mut s, KeyCode::Down);
    assert_eq!(s.detail_scroll, 1, "arrows scroll the detail pane");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.view, View::Overview);
    key(&mut s, KeyCode::Char('?'));
    assert_eq!(s.overlay, Overlay::Help);
    key(&mut s, KeyCode::Char('?'));
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(key(&mut s, KeyCode::Char('q')), vec![Effect::Quit]);
}

#[test]
fn filtering_by_prompt_and_jumps() {
    let mut s = console();
    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, "meeting:\"board review\"");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.filter_text, "meeting:\"board review\"");
    let feed = &s.lists[&View::Feed];
    assert!(!feed.is_empty());
    assert!(
        feed.iter().all(|seq| s.row(*seq).unwrap().record().unwrap().meeting.as_ref().unwrap().topic.as_deref().unwrap().contains("Board"))
    );
    assert_eq!(s.meetings().len(), 1);
    // A bad filter keeps the prompt open with the error.
    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, " sev:urgent");
    key(&mut s, KeyCode::Enter);
    match &s.overlay {
        Overlay::Prompt(p) => assert!(p.error.as_deref().unwrap().contains("unknown severity")),
        o => panic!("prompt closed: {o:?}"),
    }
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Esc);
    assert!(s.filter.is_empty(), "Esc clears the filter");

    // Jump to "this user" from the outsider's alert.
    key(&mut s, KeyCode::Char('5'));
    let pos = s.alert_order.iter().position(|i| s.alerts[*i].alert.rule == "sensitive-meeting-outsider").unwrap();
    for _ in 0..pos {
        key(&mut s, KeyCode::Down);
    }
    key(&mut s, KeyCode::Char('u'));
    assert_eq!(s.filter_text, "user:jdoe@freemail.example");
    let rules: Vec<&str> = s.alert_order.iter().map(|i| s.alerts[*i].alert.rule.as_str()).collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    key(&mut s, KeyCode::Char('m'));
    assert!(s.filter_text.contains("meeting:b0ArD+rEvIeW/Q3abcDEfg=="), "{}", s.filter_text);
}

#[test]
fn triage_is_saved_and_restored() {
    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    let id = s.selected_alert().unwrap().alert.id.clone();
    let effects = key(&mut s, KeyCode::Char('a'));
    let Some(Effect::SaveTriage(t)) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(t.alerts[&id].status, Status::Acked);
    assert_ne!(s.selected_alert().unwrap().alert.id, id, "acked alerts sink below new ones");

    let pos = s.alert_order.iter().position(|i| s.alerts[*i].alert.id == id).unwrap();
    s.cursor.insert(View::Alerts, pos);
    key(&mut s, KeyCode::Char('n'));
    typed(&mut s, "host aware, guest admitted on purpose");
    let effects = key(&mut s, KeyCode::Enter);
    let Some(Effect::SaveTriage(t)) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(t.alerts[&id].note, "host aware, guest admitted on purpose");

    // A new console with the saved triage shows the verdict on the same alert.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.json");
    t.save(&path).unwrap();
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut again = State::new("x", cfg, Triage::load(&path).unwrap(), 10_000, T0);
    update(&mut again, Msg::Records(day()));
    let item = again.alerts.iter().find(|a| a.alert.id == id).unwrap();
    assert_eq!((item.triage.status, item.triage.note.as_str()), (Status::Acked, "host aware, guest admitted on purpose"));
}

#[test]
fn export_writes_the_current_view() {
    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    let effects = key(&mut s, KeyCode::Char('E'));
    let Some(Effect::Export { path, contents }) = effects.first() else { panic!("{effects:?}") };
    assert!(path.starts_with("zoomwatch-alerts-") && path.ends_with(".csv"), "{path}");
    let lines: Vec<&str> = contents.lines().collect();
    assert_eq!(lines[0], "\"occurred_at\",\"severity\",\"rule\",\"status\",\"count\",\"reason\",\"meeting_topic\",\"note\",\"id\"");
    assert_eq!(lines.len(), s.alert_order.len() + 1);

    key(&mut s, KeyCode::Char('3'));
    let effects = key(&mut s, KeyCode::Char('e'));
    let Some(Effect::Export { contents, .. }) = effects.first() else { panic!() };
    let n = contents.lines().count();
    assert_eq!(n, s.lists[&View::Participants].len());
    for l in contents.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["category"], "participant");
    }
}

#[test]
fn retention_bounds_memory_and_keeps_rosters() {
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut s = State::new("x", cfg, Triage::default(), 10, T0);
    update(&mut s, Msg::Records(day()));
    assert_eq!(s.rows.len(), 10);
    assert_eq!(s.lists[&View::Feed].len(), 10);
    assert!(s.lists.values().all(|l| l.iter().all(|seq| s.row(*seq).is_some())));
    assert_eq!(s.meetings().len(), 3, "rosters and alerts outlive the rows");
}

#[test]
fn the_selection_stays_put_while_records_arrive() {
    let mut s = console();
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    let before = s.selected_row().unwrap().record().unwrap().id.clone();
    let extra = common::day().into_iter().map(|mut r| {
        r.id = format!("x{}", r.id);
        r
    });
    update(&mut s, Msg::Records(extra.take(5).collect()));
    assert_eq!(s.selected_row().unwrap().record().unwrap().id, before);
    key(&mut s, KeyCode::Home);
    assert_eq!(s.cursor_of(View::Feed), 0);
}

#[test]
fn alerts_placed_one_by_one_are_in_display_order() {
    // Alerts are placed as they are raised (no re-sort per batch): the order must be the
    // one a full sort gives, with verdicts from a saved triage and a filter in force.
    let full = console();
    let acked = full.alerts.iter().find(|a| a.alert.severity == zoomwatch_shared::Severity::High).unwrap().alert.id.clone();
    let mut triage = Triage::default();
    triage.alerts.insert(acked.clone(), zoomwatch_console::triage::Entry { status: Status::Acked, ..Default::default() });
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut s = State::new("x", cfg, triage, 10_000, T0);
    s.set_filter("sev:>=low").unwrap();
    key(&mut s, KeyCode::Char('5'));
    let mut selected = None;
    for r in day() {
        update(&mut s, Msg::Records(vec![r]));
        if selected.is_none() && s.alert_order.len() >= 3 {
            // Select the second alert; later alerts must not move the selection.
            key(&mut s, KeyCode::Down);
            selected = s.selected_alert().map(|a| a.alert.id.clone());
        }
    }
    let placed = s.alert_order.clone();
    assert!(placed.len() >= 5, "{placed:?}");
    let still = s.selected_alert().map(|a| a.alert.id.clone());
    assert!(placed.len() > 3 && selected.is_some(), "alerts arrived after the selection was made");
    assert_eq!(still, selected, "the selection follows its alert");
    s.set_filter("sev:>=low").unwrap();
    assert_eq!(placed, s.alert_order, "incremental order = full sort");
    assert_eq!(s.alerts[*s.alert_order.last().unwrap()].alert.id, acked, "the acked alert sinks to the bottom");
}

#[test]
fn countries_from_the_consoles_own_databases() {
    // The day's records carry no geo; the console's databases place them.
    let mut s = console();
    let by = |s: &State, cc: &str| s.stats.joins_by_country.get(cc).map(|(n, name)| (*n, name.clone()));
    assert_eq!(by(&s, "GB"), Some((15, Some("United Kingdom".to_owned()))), "13 raid joins, the impostor, Helen in the board review");
    assert_eq!(by(&s, "CN"), Some((1, Some("China".to_owned()))));
    assert_eq!(s.stats.joins_unplaced, 1, "the external guest's TEST-NET address");

    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, "country:cn");
    key(&mut s, KeyCode::Enter);
    let rows: Vec<_> = s.lists[&View::Participants].iter().map(|q| s.row(*q).unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record().unwrap().participant.as_ref().unwrap().email.as_deref(), Some("helen.park@acme.example"));
    // Meetings narrow to those with someone from there, rosters to those people.
    let meetings = s.meetings();
    assert_eq!(meetings.len(), 1);
    let roster = s.roster_of(meetings[0]);
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].participant.geo().unwrap().city.as_deref(), Some("Changchun"));
    // The alert about it matches the same term.
    let rules: Vec<&str> = s.alert_order.iter().map(|i| s.alerts[*i].alert.rule.as_str()).collect();
    assert!(rules.contains(&"impossible-travel") && !rules.contains(&"join-burst"), "{rules:?}");

    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, "asn:29518");
    key(&mut s, KeyCode::Enter);
    let n = s.lists[&View::Participants].len();
    assert_eq!(n, 9, "the Linköping office: 4 joins and a rejoin, the late leave and 3 more leaves");
    assert!(s.lists[&View::Participants].iter().all(|q| {
        let r = &s.row(*q).unwrap().record().unwrap();
        r.meeting.as_ref().unwrap().topic.as_deref() == Some("Eng stand-up")
    }));
}

#[test]
fn under_a_filter_the_alerts_tab_counts_what_the_panel_shows_and_overview_says_it_is_unfiltered() {
    let mut s = console();
    let draw = |s: &State| {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 30)).unwrap();
        term.draw(|f| zoomwatch_console::ui::draw(s, f, zoomwatch_console::ui::Theme { color: false })).unwrap();
        let buf = term.backend().buffer().clone();
        (0..30).map(|y| (0..160).map(|x| buf[(x, y)].symbol().to_owned()).collect::<String>()).collect::<Vec<_>>()
    };
    let all = s.open_alerts().0;
    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, "meeting:\"board review\"");
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('5'));
    let (shown_new, shown) = s.shown_alerts();
    assert!(shown_new < all && shown > 0, "the filter hides some alerts: {shown_new} of {all}");
    let screen = draw(&s);
    assert!(screen[1].contains(&format!("Alerts {shown_new}!")), "{}", screen[1]);
    key(&mut s, KeyCode::Char('6'));
    let screen = draw(&s);
    assert!(screen.iter().any(|l| l.contains("Totals · every record")), "{screen:#?}");
}

#[test]
fn deliveries_zoom_could_not_make_show_in_the_header() {
    let mut s = console();
    let body = r#"{"event":"meeting.started","event_ts":1795856400000,"payload":{"object":{"id":"1","uuid":"u1","topic":"t"}}}"#;
    let row = serde_json::json!({"event": "meeting.started", "status": 503, "failed_reason_type": 1, "request_body": body, "date_time": "2026-11-28T09:01:00Z", "retry_num": 0});
    let r = zoomwatch_shared::report::failed_delivery(&row, T0).unwrap();
    update(&mut s, Msg::Records(vec![r]));
    assert_eq!(s.stats.undelivered, 1);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 10)).unwrap();
    term.draw(|f| zoomwatch_console::ui::draw(&s, f, zoomwatch_console::ui::Theme { color: false })).unwrap();
    let top: String = (0..140).map(|x| term.backend().buffer()[(x, 0)].symbol().to_owned()).collect();
    assert!(top.contains("undelivered 1"), "{top}");
}

#[test]
fn records_written_without_the_exactly_once_check_show_in_the_header() {
    let mut s = console();
    let started = |ts: i64, claim: Option<&str>| {
        let body =
            format!(r#"{{"event":"meeting.started","event_ts":{ts},"payload":{{"object":{{"id":"1","uuid":"u{ts}","topic":"t"}}}}}}"#);
        let request = zoomwatch_shared::record::RequestInfo { claim: claim.map(str::to_owned), ..Default::default() };
        let rx = zoomwatch_shared::Received { received_at_ms: T0, request: Some(request) };
        zoomwatch_shared::normalize(zoomwatch_shared::Envelope::parse(body.as_bytes()).unwrap(), &rx)
    };
    // The receiver's claim store was down for the first; the second was claimed.
    let records = vec![started(1_795_856_400_000, Some(zoomwatch_shared::record::CLAIM_UNAVAILABLE)), started(1_795_856_401_000, None)];
    update(&mut s, Msg::Records(records));
    assert_eq!(s.stats.unclaimed, 1);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 10)).unwrap();
    term.draw(|f| zoomwatch_console::ui::draw(&s, f, zoomwatch_console::ui::Theme { color: false })).unwrap();
    let top: String = (0..160).map(|x| term.backend().buffer()[(x, 0)].symbol().to_owned()).collect();
    assert!(top.contains("at-least-once 1"), "{top}");
}

#[test]
fn alerts_written_by_the_watch_service_merge_with_the_consoles_own() {
    use zoomwatch_shared::rules::Detector;
    use zoomwatch_shared::watcher::Watcher;
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut w = Watcher::new(Detector::new(cfg.clone()), "file:/var/log/zoomwatch/events.jsonl", zoomwatch_shared::Severity::Info)
        .with_geo(Some(std::sync::Arc::new(scenario::geoip())));
    w.observe(common::day());
    let written = w.take_alerts(T0 + 901_000);
    let ids: std::collections::BTreeSet<String> = written.iter().map(|r| r.alert.as_ref().unwrap().id.clone()).collect();
    assert!(ids.len() > 5);
    let fresh = || {
        let mut s = State::new("x", cfg.clone(), Triage::default(), 10_000, T0).with_geo(Some(std::sync::Arc::new(scenario::geoip())));
        update(&mut s, Msg::Resize(30));
        s
    };

    // Opened in the morning: only the service's alert records are in reach.
    let mut morning = fresh();
    update(&mut morning, Msg::Records(written.clone()));
    assert_eq!(morning.alerts.len(), ids.len());
    assert!(morning.alerts.iter().all(|a| a.from_watch && !a.own));
    let burst = morning.alerts.iter().find(|a| a.alert.rule == "join-burst").unwrap();
    assert!(burst.alert.reason.contains("guests/external participants joined"), "{}", burst.alert.reason);

    // Both, in either order: the same alerts, each once.
    let alone = console();
    for records_first in [true, false] {
        let mut s = fresh();
        let (a, b) = if records_first { (common::day(), written.clone()) } else { (written.clone(), common::day()) };
        update(&mut s, Msg::Records(a));
        update(&mut s, Msg::Records(b));
        update(&mut s, Msg::Tick(T0 + 901_000));
        let mut got: Vec<&str> = s.alerts.iter().map(|a| a.alert.id.as_str()).collect();
        let mut want: Vec<&str> = alone.alerts.iter().map(|a| a.alert.id.as_str()).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "records first: {records_first}");
        assert!(s.alerts.iter().filter(|a| ids.contains(&a.alert.id)).all(|a| a.own && a.from_watch));
    }
}

#[test]
fn pause_freezes_the_lists_while_records_keep_arriving() {
    let day = day();
    let (first, rest) = day.split_at(20);
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut s = State::new("file:x", cfg, Triage::default(), 10_000, T0);
    update(&mut s, Msg::Resize(30));
    update(&mut s, Msg::Records(first.to_vec()));
    let before: Vec<String> = s.list_rows(View::Feed).map(|r| r.record().unwrap().id.clone()).collect();
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    let selected = s.list_rows(View::Feed).nth(s.cursor_of(View::Feed)).unwrap().record().unwrap().id.clone();
    key(&mut s, KeyCode::Char('p'));
    update(&mut s, Msg::Records(rest.to_vec()));
    // The lists hold still; the records were judged all the same.
    let during: Vec<String> = s.list_rows(View::Feed).map(|r| r.record().unwrap().id.clone()).collect();
    assert_eq!(during, before);
    assert_eq!(s.arrived_while_paused() as usize, rest.len());
    assert!(s.alerts.iter().any(|a| a.alert.rule == "join-burst"), "alerts keep coming while paused");
    assert_eq!(s.list_rows(View::Feed).nth(s.cursor_of(View::Feed)).unwrap().record().unwrap().id, selected);
    // Resumed: everything shows, the selection stays on the same record.
    key(&mut s, KeyCode::Char('p'));
    assert_eq!(s.list_rows(View::Feed).count(), day.len() - 1, "the scripted retry is a duplicate");
    assert_eq!(s.list_rows(View::Feed).nth(s.cursor_of(View::Feed)).unwrap().record().unwrap().id, selected);
    assert_eq!(s.arrived_while_paused(), 0);
}

#[test]
fn saved_filters_are_picked_from_a_menu() {
    let text = format!("{}\n[filters]\nraid = \"type:joined sev:>=medium\"\nboard = \"meeting:board\"\n", scenario::CONFIG);
    let cfg = Config::parse(&text, "zoomwatch.toml").unwrap();
    let mut s = State::new("file:x", cfg, Triage::default(), 10_000, T0);
    update(&mut s, Msg::Resize(30));
    update(&mut s, Msg::Records(day()));
    key(&mut s, KeyCode::Char('f'));
    assert!(matches!(s.overlay, Overlay::Saved { cursor: 0 }));
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.filter_text, "type:joined sev:>=medium", "by name: board, raid");
    assert!(s.list_rows(View::Feed).count() > 0);
    assert!(
        s.list_rows(View::Feed)
            .all(|r| r.record().unwrap().event.contains("joined") && r.worst >= Some(zoomwatch_shared::Severity::Medium))
    );
    key(&mut s, KeyCode::Char('f'));
    key(&mut s, KeyCode::Char('1'));
    assert_eq!(s.filter_text, "meeting:board");
    // Without saved filters the key says how to add them.
    let mut plain = console();
    key(&mut plain, KeyCode::Char('f'));
    assert_eq!(plain.overlay, Overlay::None);
    assert!(plain.notice.as_ref().is_some_and(|(n, _)| n.contains("[filters]")));
    // A mistake in one names its line.
    let e = Config::parse("[filters]\nok = \"type:joined\"\nbad = \"sev:>=urgent\"\n", "zoomwatch.toml").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("filters.bad"), "{e}");
}

#[test]
fn past_the_alerts_cap_the_bottom_of_the_queue_goes_first() {
    use zoomwatch_shared::Severity;
    use zoomwatch_shared::synthetic;
    let records: Vec<zoomwatch_shared::record::RecordV1> = (20_000..30_000)
        .map(|i| zoomwatch_shared::lines::parse(synthetic::stored_line(synthetic::busy_account_body, i, T0).unwrap().as_bytes()).unwrap())
        .collect();
    let run = |limits: &str, triage: Triage| {
        let cfg = Config::parse(&format!("[organization]\ninternal_domains = [\"acme.example\"]\n{limits}"), "t").unwrap();
        let mut s = State::new("x", cfg, triage, 10_000, T0);
        key(&mut s, KeyCode::Char('5'));
        for chunk in records.chunks(1_000) {
            update(&mut s, Msg::Records(chunk.to_vec()));
        }
        s
    };
    let all = run("", Triage::default());
    let by_sev = |s: &State, sev: Severity| s.alerts.iter().filter(|a| a.alert.severity == sev).count();
    let total = all.alerts.len();
    eprintln!(
        "{total} alerts: high {} medium {} low {}",
        by_sev(&all, Severity::High),
        by_sev(&all, Severity::Medium),
        by_sev(&all, Severity::Low)
    );
    assert!(by_sev(&all, Severity::High) > 100 && by_sev(&all, Severity::Low) > 600, "both kinds, more than the cap");
    // The oldest high alert acknowledged: handled, it goes before any unhandled one.
    let acked = all.alerts.iter().find(|a| a.alert.severity == Severity::High).unwrap().alert.id.clone();
    let mut triage = Triage::default();
    triage.alerts.insert(acked.clone(), zoomwatch_console::triage::Entry { status: Status::Acked, ..Default::default() });
    let capped = run("[limits]\nalerts = 500\n", triage);
    let n = capped.alerts.len();
    assert!((500..=550).contains(&n), "{n}");
    assert_eq!(capped.stats.alerts_dropped as usize + n, total, "every alert listed or counted as dropped");
    assert!(capped.alert_by_id(&acked).is_none(), "the handled alert went first");
    // Higher severities outrank lower ones: every unhandled high alert is kept, and of
    // the low ones exactly the newest that fit (an alert only ever drops in rank).
    let kept: std::collections::HashSet<&str> = capped.alerts.iter().map(|a| a.alert.id.as_str()).collect();
    let mut room = n;
    for sev in [Severity::High, Severity::Medium, Severity::Low] {
        let of: Vec<&str> =
            all.alerts.iter().filter(|a| a.alert.severity == sev && a.alert.id != acked).map(|a| a.alert.id.as_str()).collect();
        if of.len() <= room {
            assert!(of.iter().all(|id| kept.contains(id)), "{sev:?}: all kept");
            room -= of.len();
        } else {
            let newest: std::collections::HashSet<&str> = of[of.len() - room..].iter().copied().collect();
            let kept_of: std::collections::HashSet<&str> = of.iter().copied().filter(|id| kept.contains(id)).collect();
            assert_eq!(kept_of, newest, "{sev:?}: the newest {room} kept");
            room = 0;
        }
    }
    // The queue is still in order (as a full sort gives it).
    let mut capped = capped;
    let placed = capped.alert_order.clone();
    capped.set_filter("").unwrap();
    assert_eq!(placed, capped.alert_order);
}
