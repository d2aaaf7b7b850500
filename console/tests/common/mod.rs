//! Shared helpers: a console State fed with the scripted day at a fixed clock.

#![allow(dead_code, clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use zoomwatch_console::state::{Effect, Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_log::source::{SourceEvent, Status};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::scenario;
use zoomwatch_shared::{Envelope, Received, normalize};

/// 2026-11-28T09:00:00Z
pub const T0: i64 = 1_795_856_400_000;

/// The scripted day as records, received when sent (no flags: the console computes them).
pub fn day() -> Vec<RecordV1> {
    scenario::account_day(T0)
        .into_iter()
        .map(|s| normalize(Envelope::parse(&s.body).unwrap(), &Received { received_at_ms: T0 + s.offset_ms + 120, request: None }))
        .collect()
}

/// A console that has applied the whole day, clock at the end of it. The records carry
/// no `geo`: the console enriches them with its own databases (the bundled test ones),
/// as for a log group written by a receiver without GeoIP.
pub fn console() -> State {
    let cfg = Config::parse(scenario::CONFIG, "scenario").unwrap();
    let mut s = State::new("file:/var/log/zoomwatch/events.jsonl", cfg, Triage::default(), 10_000, T0)
        .with_geo(Some(std::sync::Arc::new(scenario::geoip())));
    update(&mut s, Msg::Resize(30));
    update(&mut s, Msg::Source(SourceEvent::Status(Status::Live)));
    update(&mut s, Msg::Records(day()));
    update(&mut s, Msg::Tick(T0 + 901_000));
    s
}

pub fn key(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}
