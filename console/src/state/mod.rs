//! The console's state machine: everything the screen shows lives in [`State`], and only
//! [`update`] changes it, from a [`Msg`] (a key, a batch from the source, a tick). Render
//! code reads `&State`; the async shell (`app`) owns the terminal, the channels and the
//! I/O that [`Effect`]s ask for. Time comes in with messages, so the whole console runs
//! headless in tests.
//!
//! One file per concern, each adding its part of `State`'s methods (the screen regions
//! that show them are the same-named files under `ui/`):
//! - `feed.rs` — rows and lists: applying records, eviction, filter, cursors, pause;
//! - `meetings.rs` — meetings and rosters under the filter;
//! - `alerts.rs` — the alert queue, its order, triage, export;
//! - `response_flow.rs` — the `r` dialog and the outcome of Zoom calls;
//! - `keys.rs` — key actions from the one key table, and the prompt's keys.
//!
//! This file holds the types (messages, effects, overlays, the state itself), its
//! construction and [`update`], which dispatches.

use std::collections::VecDeque;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foldhash::{HashMap, HashMapExt};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{Category, Flag, RecordV1, Severity};
use zoomwatch_shared::roster::{Meeting, MeetingPhase};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector};
use zoomwatch_shared::timefmt::format_ms;

use crate::keymap::{self, Command};
use zoomwatch_log::source::{SourceEvent, Status};
use zoomwatch_shared::filter::{Filter, Term, place_matches};

use crate::prepare::{Prepared, Preparer};
use crate::triage::{self, Triage};

mod alerts;
mod feed;

pub use alerts::AlertItem;
pub use feed::Row;
mod keys;
mod meetings;
pub mod posture;
mod response_flow;

/// Shown at start when the configuration names no internal domain.
pub const NO_INTERNAL_DOMAINS: &str = "no internal domains configured: external-join and outsider rules are off (set organization.internal_domains, see zoomwatch.example.toml)";

/// Default number of records kept in memory.
pub const DEFAULT_RETENTION: usize = 100_000;

/// The screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Every record.
    Feed,
    /// Meetings and rosters.
    Meetings,
    /// Participant events.
    Participants,
    /// Admin and sign-in events.
    Admin,
    /// Alert triage.
    Alerts,
    /// Rates and counts.
    Overview,
    /// Policy posture and drift.
    Posture,
}

impl View {
    /// All views in tab order.
    pub const ALL: [View; 7] = [View::Feed, View::Meetings, View::Participants, View::Admin, View::Alerts, View::Overview, View::Posture];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            View::Feed => "Feed",
            View::Meetings => "Meetings",
            View::Participants => "Participants",
            View::Admin => "Admin",
            View::Alerts => "Alerts",
            View::Overview => "Overview",
            View::Posture => "Posture",
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// What the prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// Editing the filter.
    Filter,
    /// A note for the alert with this id.
    Note(String),
}

/// A one-line text prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Purpose.
    pub kind: PromptKind,
    /// Text typed.
    pub text: String,
    /// Why the text was refused (bad filter).
    pub error: Option<String>,
}

/// What covers the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// Key help.
    Help,
    /// Detail of the selected item.
    Detail,
    /// Text input.
    Prompt(Prompt),
    /// The Zoom actions and lookups that fit the selection.
    Respond(crate::respond::Menu),
    /// "Really?" before an action: exactly what will be called on whom.
    Confirm {
        /// The action (several for a batch, such as removing every raider).
        actions: Vec<zoomwatch_zoomapi::Action>,
        /// The alert it responds to.
        alert_id: Option<String>,
    },
    /// The saved filters of `[filters]` in zoomwatch.toml, to pick one.
    Saved {
        /// Selected entry.
        cursor: usize,
    },
    /// The answer of a lookup.
    Info {
        /// Title.
        title: String,
        /// Lines (untrusted text; sanitized when drawn).
        lines: Vec<String>,
    },
}

/// A call to Zoom's API the shell makes for `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoomCall {
    /// A confirmed response action, or a batch of one kind (removing every raider),
    /// each audited by the shell.
    Act {
        /// The actions, in order.
        actions: Vec<zoomwatch_zoomapi::Action>,
        /// The alert it responds to.
        alert_id: Option<String>,
    },
    /// A read-only lookup.
    Lookup(zoomwatch_zoomapi::Lookup),
}

/// I/O the shell performs for `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave.
    Quit,
    /// Persist the triage.
    SaveTriage(Triage),
    /// Call Zoom's API; the result comes back as [`Msg::Acted`] / [`Msg::LookedUp`].
    Zoom(ZoomCall),
    /// Tell other consoles and the SIEM about a verdict (a `zoomwatch.triage` record).
    ShareTriage {
        /// The alert.
        alert_id: String,
        /// The verdict.
        entry: triage::Entry,
    },
    /// Write an export file.
    Export {
        /// File name (in the working directory).
        path: String,
        /// Contents.
        contents: String,
    },
}

/// Messages into `update`.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// Something from the source.
    Source(SourceEvent<Prepared>),
    /// Records that came without their stored line (tests, a direct feed): prepared
    /// in the loop.
    Records(Vec<RecordV1>),
    /// The clock (Unix ms). Also drives time-based rules.
    Tick(i64),
    /// The terminal's height changed (rows available for lists).
    Resize(u16),
    /// A line for the status bar (results of effects).
    Notice(String),
    /// A response action finished (its audit record arrives through the source).
    Acted {
        /// The alert it responded to.
        alert_id: Option<String>,
        /// The result line.
        line: String,
        /// Whether Zoom accepted it.
        ok: bool,
    },
    /// A lookup finished.
    LookedUp {
        /// What was asked.
        lookup: zoomwatch_zoomapi::Lookup,
        /// Zoom's answer body, or the error line.
        result: Result<serde_json::Value, String>,
    },
}

/// Counters for the header and overview.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Records applied (duplicates excluded).
    pub records: u64,
    /// Duplicate deliveries ignored.
    pub duplicates: u64,
    /// Lines skipped by the source.
    pub skipped: u64,
    /// Rejected requests (including suppressed ones).
    pub rejected: u64,
    /// Webhooks Zoom reported it could not deliver (recovered by the poller).
    pub undelivered: u64,
    /// Records the receiver wrote while its claim store was unreachable (at least once:
    /// each may be stored twice).
    pub unclaimed: u64,
    /// When the newest record was received (ms).
    pub last_received_ms: Option<i64>,
    /// When the last URL validation was received (ms).
    pub last_validation_ms: Option<i64>,
    /// Receive → display delay of the newest record (ms).
    pub lag_ms: Option<i64>,
    /// Records by event type.
    pub by_event: HashMap<String, u64>,
    /// Alerts no longer listed, past the `[limits]` `alerts` cap (the log keeps them).
    pub alerts_dropped: u64,
    /// Joins by the joiner's country (ISO code → joins, country name), when GeoIP
    /// placed the IP.
    pub joins_by_country: HashMap<String, (u64, Option<String>)>,
    /// Joins whose IP GeoIP could not place (no IP, private, unknown, no database).
    pub joins_unplaced: u64,
    /// Arrivals per second (by receive time) for the last [`RATE_WINDOW`] seconds,
    /// newest last; `rate_base_s` is the second of the last bucket.
    pub rate: VecDeque<u32>,
    /// Second of the last rate bucket.
    pub rate_base_s: i64,
}

/// Seconds of history in the rate sparkline.
pub const RATE_WINDOW: usize = 120;

/// Everything on screen.
pub struct State {
    /// Wall clock of the last tick (ms).
    pub now_ms: i64,
    /// What we read from (`file:…`, `cloudwatch:…`).
    pub source: String,
    /// Connection state.
    pub conn: Status,
    /// The records kept (oldest first).
    pub rows: VecDeque<Row>,
    /// Sequence number of `rows[0]`.
    pub base_seq: u64,
    /// Most records kept.
    pub retention: usize,
    /// Rules and rosters.
    pub detector: Detector,
    /// Alerts in arrival order.
    pub alerts: Vec<AlertItem>,
    /// The Posture view's data.
    pub posture: posture::PostureBook,
    /// Actions whose `pending` intent was read but no outcome yet: (intent id → line).
    pub in_doubt: std::collections::BTreeMap<String, String>,
    alert_pos: HashMap<String, usize>,
    /// Display order of alerts (indices into `alerts`).
    pub alert_order: crate::alert_order::AlertOrder,
    /// Verdicts, persisted.
    pub triage: Triage,
    /// Current screen.
    pub view: View,
    /// Active filter.
    pub filter: Filter,
    /// The filter as typed.
    pub filter_text: String,
    /// Matching rows per list view (sequence numbers, oldest first).
    pub lists: HashMap<View, Vec<u64>>,
    /// Selection per view, 0 = newest / top.
    pub cursor: HashMap<View, usize>,
    /// Selected roster line in the Meetings view.
    pub roster_cursor: usize,
    /// Focus on the roster (else the meeting list).
    pub roster_focus: bool,
    /// What covers the screen.
    pub overlay: Overlay,
    /// Counters.
    pub stats: Stats,
    /// Status line and when it expires.
    pub notice: Option<(String, i64)>,
    /// Rows available to lists (for paging).
    pub page: usize,
    /// Scroll position of the detail pane.
    pub detail_scroll: u16,
    /// Worst alert severity per person in a meeting (`meeting key|identity key`), so
    /// rosters show what the stateful rules found, not only per-record flags.
    pub person_alerts: HashMap<String, Severity>,
    /// The analyst's GeoIP databases, for records written without `geo`.
    pub geo: Option<Arc<zoomwatch_shared::geo::GeoIp>>,
    /// Why response actions cannot be used here (no credentials, no writable audit
    /// destination); `None` when they can.
    pub respond_unavailable: Option<String>,
    /// Who this analyst is (for triage records and lines).
    pub analyst: String,
    /// While paused (`p`): the first sequence number not shown in the record lists.
    /// Records keep arriving and being judged; the lists show them on resume.
    pub paused_at: Option<u64>,
    /// Bytes the kept rows hold ([`Row::size`]).
    pub held_bytes: usize,
}

fn is_admin_row(r: &RecordV1) -> bool {
    matches!(r.category, Category::Admin | Category::Auth) || (r.actor.is_some() && !r.changes.is_empty())
}

fn in_list(view: View, r: &RecordV1) -> bool {
    match view {
        View::Feed => true,
        View::Participants => r.category == Category::Participant,
        View::Admin => is_admin_row(r),
        _ => false,
    }
}

const LIST_VIEWS: [View; 3] = [View::Feed, View::Participants, View::Admin];

impl State {
    /// An empty console reading from `source`.
    pub fn new(source: impl Into<String>, cfg: Config, triage: Triage, retention: usize, now_ms: i64) -> Self {
        let notice = cfg.internal_domains.is_empty().then(|| (NO_INTERNAL_DOMAINS.to_owned(), now_ms + 20_000));
        Self {
            now_ms,
            source: source.into(),
            conn: Status::Waiting("starting".into()),
            rows: VecDeque::new(),
            base_seq: 0,
            retention: retention.max(1),
            detector: Detector::new(cfg),
            alerts: Vec::new(),
            posture: posture::PostureBook::default(),
            in_doubt: std::collections::BTreeMap::new(),
            alert_pos: HashMap::new(),
            alert_order: crate::alert_order::AlertOrder::default(),
            triage,
            view: View::Feed,
            filter: Filter::default(),
            filter_text: String::new(),
            lists: LIST_VIEWS.iter().map(|v| (*v, Vec::new())).collect(),
            cursor: HashMap::new(),
            roster_cursor: 0,
            roster_focus: false,
            overlay: Overlay::None,
            stats: Stats::default(),
            notice,
            page: 20,
            detail_scroll: 0,
            person_alerts: HashMap::new(),
            geo: None,
            respond_unavailable: Some("not set up for this console".into()),
            analyst: "analyst".into(),
            paused_at: None,
            held_bytes: 0,
        }
    }

    /// Response actions are available (credentials and an audit destination are set
    /// up), taken by `analyst`; or not, and why.
    pub fn with_respond(mut self, analyst: impl Into<String>, unavailable: Option<String>) -> Self {
        self.analyst = analyst.into();
        self.respond_unavailable = unavailable;
        self
    }

    /// Enriches records that arrive without `geo` with these databases.
    pub fn with_geo(mut self, geo: Option<Arc<zoomwatch_shared::geo::GeoIp>>) -> Self {
        self.geo = geo;
        self
    }

    fn say(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), self.now_ms + 6000));
    }
}

/// Applies one message. Returns the I/O to perform.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            if matches!(state.overlay, Overlay::Prompt(_)) {
                if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
                    return vec![Effect::Quit];
                }
                return state.on_prompt_key(key);
            }
            if matches!(state.overlay, Overlay::Respond(_) | Overlay::Confirm { .. } | Overlay::Info { .. } | Overlay::Saved { .. }) {
                if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
                    return vec![Effect::Quit];
                }
                return state.on_respond_key(key);
            }
            let action = keymap::lookup(&key, state.view == View::Alerts, state.view == View::Meetings);
            // In the detail pane the movement keys scroll it.
            if state.overlay == Overlay::Detail {
                let page = u16::try_from(state.page).unwrap_or(20);
                let scroll = &mut state.detail_scroll;
                match action {
                    Some(Command::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Command::Down) => *scroll = scroll.saturating_add(1),
                    Some(Command::PageUp) => *scroll = scroll.saturating_sub(page),
                    Some(Command::PageDown) => *scroll = scroll.saturating_add(page),
                    Some(Command::Top) => *scroll = 0,
                    Some(a) => return state.on_command(a),
                    None => {}
                }
                return Vec::new();
            }
            match action {
                Some(a) => state.on_command(a),
                None => Vec::new(),
            }
        }
        Msg::Records(batch) => {
            state.apply_records(batch);
            Vec::new()
        }
        Msg::Source(SourceEvent::Records(batch)) => {
            state.apply_prepared(batch);
            Vec::new()
        }
        Msg::Source(SourceEvent::Skipped(n)) => {
            state.stats.skipped += n;
            Vec::new()
        }
        Msg::Source(SourceEvent::Status(s)) => {
            state.conn = s;
            Vec::new()
        }
        Msg::Source(SourceEvent::Position(_)) => Vec::new(),
        Msg::Tick(now) => {
            state.tick(now);
            Vec::new()
        }
        Msg::Resize(h) => {
            state.page = usize::from(h.saturating_sub(8)).max(1);
            Vec::new()
        }
        Msg::Notice(text) => {
            state.say(text);
            Vec::new()
        }
        Msg::Acted { alert_id, line, ok } => state.on_acted(alert_id, line, ok),
        Msg::LookedUp { lookup, result } => {
            state.on_looked_up(lookup, result);
            Vec::new()
        }
    }
}
