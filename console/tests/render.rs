//! What reaches the terminal: snapshots of every view at a fixed size and clock, colours
//! of highlighted rows (snapshots do not carry colour), NO_COLOR, 80×24, and hostile
//! display names that must never put a control or formatting character into a cell.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{T0, console, key};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use zoomwatch_console::state::{Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_console::ui::{self, Theme};
use zoomwatch_log::source::SourceEvent;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::{Envelope, Received, normalize};

fn draw(state: &State, w: u16, h: u16, theme: Theme) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(state, f, theme)).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect::<String>().trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

const COLOR: Theme = Theme { color: true };

#[test]
fn snapshots_of_every_view() {
    let mut s = console();
    for (k, name) in
        [('1', "feed"), ('2', "meetings"), ('3', "participants"), ('4', "admin"), ('5', "alerts"), ('6', "overview"), ('7', "posture")]
    {
        key(&mut s, KeyCode::Char(k));
        insta::assert_snapshot!(name, text(&draw(&s, 120, 32, COLOR)));
    }
    key(&mut s, KeyCode::Char('2'));
    key(&mut s, KeyCode::Right);
    key(&mut s, KeyCode::Down);
    insta::assert_snapshot!("meetings_roster_focus", text(&draw(&s, 120, 32, COLOR)));
    key(&mut s, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", text(&draw(&s, 80, 24, COLOR)));
    key(&mut s, KeyCode::Esc);
    // 80×24: the roster keeps names and emails (the address gives way), the Feed tells a
    // join from a leave, and a cut cell ends in `…`.
    key(&mut s, KeyCode::Left);
    insta::assert_snapshot!("meetings_80x24", text(&draw(&s, 80, 24, COLOR)));
    key(&mut s, KeyCode::Char('1'));
    let feed = text(&draw(&s, 80, 24, COLOR));
    assert!(feed.contains("participant_joined") || feed.contains("participant_left"), "{feed}");
    assert!(feed.contains('…'), "{feed}");
    insta::assert_snapshot!("feed_80x24", feed);
}

#[test]
fn high_alerts_are_red_and_medium_yellow() {
    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    let buf = draw(&s, 120, 32, COLOR);
    let row_of = |needle: &str| (0..32).find(|y| (0..120).map(|x| buf[(x, *y)].symbol()).collect::<String>().contains(needle)).unwrap();
    let burst = row_of("join-burst");
    assert_eq!(buf[(40, burst)].fg, Color::Red, "high severity rows are red");
    let names = row_of("suspicious-display-name");
    assert_eq!(buf[(40, names)].fg, Color::Yellow);
    let low = row_of("guest-join");
    assert_eq!(buf[(40, low)].fg, Color::Cyan);
}

#[test]
fn no_color_means_no_colour_but_still_marked() {
    let mut s = console();
    key(&mut s, KeyCode::Char('5'));
    let buf = draw(&s, 120, 32, Theme { color: false });
    for y in 0..32 {
        for x in 0..120 {
            let c = &buf[(x, y)];
            assert!(matches!(c.fg, Color::Reset) && matches!(c.bg, Color::Reset), "colour at {x},{y}: {c:?}");
        }
    }
    let t = text(&buf);
    assert!(t.lines().any(|l| l.contains(" H join-burst")), "severity letters carry the meaning:\n{t}");
}

#[test]
fn every_view_fits_80x24() {
    let mut s = console();
    for k in ['1', '2', '3', '4', '5', '6'] {
        key(&mut s, KeyCode::Char(k));
        let t = text(&draw(&s, 80, 24, COLOR));
        assert_eq!(t.lines().count(), 24);
        assert!(t.lines().last().unwrap().contains("q quit"), "footer visible at 80x24 in view {k}:\n{t}");
        key(&mut s, KeyCode::Enter);
        let _ = draw(&s, 80, 24, COLOR);
        key(&mut s, KeyCode::Esc);
    }
    // Even a tiny terminal does not panic.
    let _ = draw(&s, 20, 5, COLOR);
}

#[test]
fn hostile_names_never_reach_a_cell() {
    let hostile = [
        "\u{1b}[2J\u{1b}[H\u{1b}[31mowned",
        "\u{1b}]0;new window title\u{7}title",
        "\u{1b}]8;;http://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\",
        "admin\u{202E}gpj.exe",
        "Mor\u{200B}gan\u{2066}Reyes",
        "c1\u{9b}31mcontrol",
        "bell\u{7}\u{0}nul\u{8}backspace",
        &"A".repeat(10_000),
    ];
    let cfg = Config::default();
    let mut s = State::new("file:x", cfg, Triage::default(), 1000, T0);
    let records = hostile
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let body = serde_json::json!({"event": "meeting.participant_joined", "event_ts": T0 + i as i64, "payload": {"object": {
                "uuid": format!("u{i}\u{1b}[5m"), "id": 1, "topic": format!("topic {name}"), "host_id": "H",
                "participant": {"user_name": name, "email": "", "id": "", "user_id": format!("{i}"), "public_ip": format!("203.0.113.{i}\u{202E}"), "join_time": "2026-11-28T09:00:00Z"}}}});
            normalize(Envelope::parse(body.to_string().as_bytes()).unwrap(), &Received { received_at_ms: T0, request: None })
        })
        .collect();
    update(&mut s, Msg::Records(records));
    let forbidden = |c: char| c.is_control() || zoomwatch_shared::text::is_invisible_format(c);
    for k in ['1', '2', '3', '4', '5', '6'] {
        key(&mut s, KeyCode::Char(k));
        for (w, h) in [(120, 40), (80, 24)] {
            for overlay in [false, true] {
                if overlay {
                    key(&mut s, KeyCode::Enter);
                }
                let buf = draw(&s, w, h, COLOR);
                for cell in buf.content() {
                    assert!(!cell.symbol().chars().any(forbidden), "view {k} {w}x{h}: cell {:?}", cell.symbol());
                }
                if overlay {
                    key(&mut s, KeyCode::Esc);
                }
            }
        }
    }
    key(&mut s, KeyCode::Char('1'));
    let t = text(&draw(&s, 120, 40, COLOR));
    assert!(t.contains("owned") && t.contains("admingpj.exe"), "the names are shown, cleaned:\n{t}");
}

#[test]
fn the_detail_pane_lays_out_a_stored_payload() {
    let mut s = console();
    // Records as a source delivers them: payload kept as stored text.
    let line = serde_json::to_string(&common::day()[10]).unwrap();
    let r = zoomwatch_shared::lines::parse(line.as_bytes()).unwrap();
    assert!(matches!(r.raw, zoomwatch_shared::record::RawPayload::Text(_)));
    let mut r2 = r.clone();
    r2.id = "ffffffffffffffffffffffffffffffff".into();
    update(&mut s, Msg::Records(vec![r2]));
    key(&mut s, KeyCode::Char('1'));
    key(&mut s, KeyCode::Home);
    key(&mut s, KeyCode::Enter);
    let t = text(&draw(&s, 120, 60, COLOR));
    assert!(t.contains("\"raw\": {") && t.contains("\"object\": {"), "payload laid out:\n{t}");
}

#[test]
fn the_response_menu_and_confirmation_at_80x24() {
    let mut s = console().with_respond("ana", None);
    key(&mut s, KeyCode::Char('5'));
    key(&mut s, KeyCode::Char('r'));
    insta::assert_snapshot!("respond_menu_80x24", text(&draw(&s, 80, 24, COLOR)));
    key(&mut s, KeyCode::Enter);
    let shown = text(&draw(&s, 80, 24, COLOR));
    insta::assert_snapshot!("respond_confirm_80x24", shown);
}

#[test]
fn the_header_shows_how_far_a_backfill_has_come() {
    let mut s = console();
    update(&mut s, Msg::Source(SourceEvent::Status(zoomwatch_log::source::Status::Backfilling)));
    let head = text(&draw(&s, 160, 30, COLOR)).lines().next().unwrap().to_owned();
    assert!(head.contains("◐ BACKFILL 53 read, newest "), "{head}");
    assert!(head.contains(" old"), "{head}");
    key(&mut s, KeyCode::Char('p'));
    let head = text(&draw(&s, 160, 30, COLOR)).lines().next().unwrap().to_owned();
    assert!(head.contains("⏸ PAUSED +0 new (p)"), "{head}");
}

#[test]
fn a_source_error_is_readable_in_full() {
    let mut s = console();
    let why = "no usable AWS credentials (request forbidden): set AWS_PROFILE or run `aws sso login --profile security`, then the console reconnects";
    update(&mut s, Msg::Source(SourceEvent::Status(zoomwatch_log::source::Status::Reconnecting(why.into()))));
    let screen = text(&draw(&s, 160, 30, COLOR));
    assert!(screen.contains("aws sso login --profile security`, then the console reconnects"), "{screen}");
}

#[test]
fn a_source_that_cannot_be_fixed_by_retrying_says_it_stopped() {
    let mut s = console();
    let why = "no usable AWS credentials: set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
    update(&mut s, Msg::Source(SourceEvent::Status(zoomwatch_log::source::Status::Failed(why.into()))));
    let screen = text(&draw(&s, 80, 24, COLOR));
    assert!(screen.lines().next().unwrap().contains("■ STOPPED"), "{screen}");
    // At 80 columns the start of the reason, which says what to do, shows.
    assert!(screen.contains("stopped, not retrying: no usable AWS credentials: set AWS_PROFILE"), "{screen}");
}

#[test]
fn the_meetings_tab_and_panel_count_the_same_meetings() {
    let mut s = console();
    key(&mut s, KeyCode::Char('2'));
    let count = |s: &State| {
        let screen = text(&draw(s, 160, 40, COLOR));
        let tab: usize = screen.split("2 Meetings ").nth(1).and_then(|t| t.split(']').next()).and_then(|n| n.trim().parse().ok()).unwrap();
        let panel: usize =
            screen.split("Meetings · ").nth(1).and_then(|t| t.split(" in progress").next()).and_then(|n| n.trim().parse().ok()).unwrap();
        (tab, panel, screen)
    };
    let (tab, panel, screen) = count(&s);
    assert_eq!(tab, panel, "{screen}");
    // A filter that matches no running meeting: both say so.
    s.set_filter("meeting:no-such-meeting").unwrap();
    let (tab, panel, screen) = count(&s);
    assert_eq!((tab, panel), (0, 0), "{screen}");
}
