//! The console's state machine: everything the screen shows lives in [`State`], and only
//! [`update`] changes it, from a [`Msg`] (a key, a batch from the source, a tick). Render
//! code reads `&State`; the async shell (`app`) owns the terminal, the channels and the
//! I/O that [`Effect`]s ask for. Time comes in with messages, so the whole console runs
//! headless in tests.

use std::collections::VecDeque;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foldhash::{HashMap, HashMapExt};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{Category, Flag, RecordV1, Severity};
use zoomwatch_shared::roster::{Meeting, MeetingPhase};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector};
use zoomwatch_shared::timefmt::format_ms;

use crate::filter::{Filter, Term, place_matches};
use crate::keymap::{self, Action};
use crate::source::{SourceEvent, Status};
use crate::triage::{self, Triage};

/// Frees records and evicted rows on a helper thread. A record owns a few dozen small
/// allocations; freeing 8,000 of them at the tail of every batch would stall the screen
/// as long as applying them did. The helper is started on first use; if it cannot be,
/// they are freed here.
fn drop_elsewhere<T: Send + 'static>(items: Vec<T>) {
    use std::sync::OnceLock;
    use std::sync::mpsc::{Sender, channel};
    type Garbage = Box<dyn Send>;
    static DROPPER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    if items.is_empty() {
        return;
    }
    let dropper = DROPPER.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        std::thread::Builder::new().name("zoomwatch-drop".into()).spawn(move || rx.into_iter().for_each(drop)).ok().map(|_| tx)
    });
    if let Some(tx) = dropper
        && let Err(back) = tx.send(Box::new(items))
    {
        drop(back.0); // the helper is gone: free them here
    }
}

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
}

impl View {
    /// All views in tab order.
    pub const ALL: [View; 6] = [View::Feed, View::Meetings, View::Participants, View::Admin, View::Alerts, View::Overview];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            View::Feed => "Feed",
            View::Meetings => "Meetings",
            View::Participants => "Participants",
            View::Admin => "Admin",
            View::Alerts => "Alerts",
            View::Overview => "Overview",
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// One stored record with what the console computed for it, held compactly: the
/// record's stored JSON line (parsed again only to be shown: a screenful at a time)
/// and what the filter needs. About a third of the memory of the parsed record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Arrival sequence number.
    pub seq: u64,
    /// The record as one JSON line, packed ([`crate::packed`]).
    line: crate::packed::PackedLine,
    /// Effective flags (rules re-run with this console's configuration).
    pub flags: Vec<Flag>,
    /// Worst flag.
    pub worst: Option<Severity>,
    /// Lower-cased text the filter searches, and the facts it compares.
    pub search: crate::filter::SearchText,
    /// Which list views it belongs to ([`list_bit`]).
    lists: u8,
}

impl Row {
    /// The record, parsed from its stored line (`None` only if that line were not a
    /// record, which a row's never is: it was parsed from it or written from one).
    pub fn record(&self) -> Option<RecordV1> {
        crate::lines::parse(self.line.unpack().as_bytes()).ok()
    }

    /// The stored line.
    pub fn line(&self) -> String {
        self.line.unpack()
    }

    /// Bytes this row holds (estimate: itself, its line, search text and flags).
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.line.packed_len() + self.search.size() - std::mem::size_of::<crate::filter::SearchText>()
            + self.flags.iter().map(|f| std::mem::size_of::<Flag>() + f.rule.len() + f.reason.len()).sum::<usize>()
    }
}

fn list_bit(v: View) -> u8 {
    match v {
        View::Feed => 1,
        View::Participants => 2,
        View::Admin => 4,
        _ => 0,
    }
}

/// An alert with the analyst's verdict.
#[derive(Debug, Clone)]
pub struct AlertItem {
    /// The alert.
    pub alert: Alert,
    /// Verdict and note.
    pub triage: triage::Entry,
    /// Also (or only) raised by `zoomwatch watch`: a `zoomwatch.alert` record said so.
    pub from_watch: bool,
    /// Raised by this console's own detector.
    pub own: bool,
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
        /// The action.
        action: zoomwatch_zoomapi::Action,
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
    /// A confirmed response action (audited by the shell).
    Act {
        /// The action.
        action: zoomwatch_zoomapi::Action,
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
    Source(SourceEvent),
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
    /// When the newest record was received (ms).
    pub last_received_ms: Option<i64>,
    /// When the last URL validation was received (ms).
    pub last_validation_ms: Option<i64>,
    /// Receive → display delay of the newest record (ms).
    pub lag_ms: Option<i64>,
    /// Records by event type.
    pub by_event: HashMap<String, u64>,
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

    /// The row with sequence number `seq`, if still kept.
    pub fn row(&self, seq: u64) -> Option<&Row> {
        let i = seq.checked_sub(self.base_seq)?;
        self.rows.get(usize::try_from(i).ok()?)
    }

    /// The cursor of a view.
    pub fn cursor_of(&self, v: View) -> usize {
        self.cursor.get(&v).copied().unwrap_or(0)
    }

    /// The sequence numbers a list view shows (oldest first): all of them, or while
    /// paused those that arrived before the pause.
    pub fn shown(&self, v: View) -> &[u64] {
        let list = self.lists.get(&v).map_or(&[][..], Vec::as_slice);
        match self.paused_at {
            Some(at) => &list[..list.partition_point(|s| *s < at)],
            None => list,
        }
    }

    /// Records that arrived since the pause (none when not paused).
    pub fn arrived_while_paused(&self) -> u64 {
        self.paused_at.map_or(0, |at| (self.base_seq + self.rows.len() as u64).saturating_sub(at))
    }

    /// Rows of a list view, newest first.
    pub fn list_rows(&self, v: View) -> impl Iterator<Item = &Row> {
        self.shown(v).iter().rev().filter_map(|s| self.row(*s))
    }

    /// Number of entries in the current view's list.
    pub fn len_of(&self, v: View) -> usize {
        match v {
            View::Feed | View::Participants | View::Admin => self.shown(v).len(),
            View::Alerts => self.alert_order.len(),
            View::Meetings => {
                if self.roster_focus {
                    self.selected_meeting().map_or(0, |m| self.roster_of(m).len())
                } else {
                    self.meetings().len()
                }
            }
            View::Overview => 0,
        }
    }

    /// Meetings matching the filter, for display: running first, then most recent.
    pub fn meetings(&self) -> Vec<&Meeting> {
        let mut v: Vec<&Meeting> = self.detector.meetings().meetings.values().filter(|m| self.meeting_matches(m)).collect();
        v.sort_by(|a, b| {
            let rank = |m: &Meeting| match m.phase {
                MeetingPhase::Running => 0,
                MeetingPhase::Scheduled => 1,
                MeetingPhase::Ended => 2,
            };
            rank(a).cmp(&rank(b)).then(b.last_ms.cmp(&a.last_ms)).then(a.key.cmp(&b.key))
        });
        v
    }

    fn meeting_matches(&self, m: &Meeting) -> bool {
        self.filter.terms.iter().all(|t| match t {
            Term::Meeting(v) => crate::filter::meeting_matches(v, m.id.as_deref(), Some(&m.key), m.topic.as_deref()),
            Term::User(v) => m.attendees.values().any(|a| {
                [a.participant.email(), a.participant.name(), a.participant.zoom_user_id()]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(v.as_str()))
            }),
            Term::Severity(s, at_least) => m.worst.is_some_and(|w| if *at_least { w >= *s } else { w == *s }),
            Term::Text(v) => m.topic.as_deref().is_some_and(|tp| tp.to_lowercase().contains(v.as_str())),
            Term::Country(_) | Term::Asn(_) => m.attendees.values().any(|a| place_matches(t, a.participant.geo())),
            Term::Is(tr) => m.attendees.values().any(|a| tr.of_attendee(&a.participant, m.host_id.as_deref())),
            // Meetings that were going on at some point of the window.
            Term::Time(from, to) => m.started_ms.unwrap_or(m.last_ms) <= *to && m.ended_ms.is_none_or(|e| e >= *from),
            Term::Type(_) => true,
        })
    }

    /// The selected meeting in the Meetings view.
    pub fn selected_meeting(&self) -> Option<&Meeting> {
        self.meetings().get(self.cursor_of(View::Meetings)).copied()
    }

    /// The roster of `m` as displayed (filtered by `user:`, `country:` and `asn:` terms).
    pub fn roster_of<'a>(&self, m: &'a Meeting) -> Vec<&'a zoomwatch_shared::roster::Attendee> {
        let users: Vec<&String> = self.filter.terms.iter().filter_map(|t| if let Term::User(v) = t { Some(v) } else { None }).collect();
        m.roster()
            .into_iter()
            .filter(|a| {
                users.iter().all(|u| {
                    [a.participant.email(), a.participant.name(), a.participant.zoom_user_id()]
                        .into_iter()
                        .flatten()
                        .any(|f| f.to_lowercase().contains(u.as_str()))
                }) && self.filter.terms.iter().all(|t| place_matches(t, a.participant.geo()))
            })
            .collect()
    }

    /// The row selected in a list view.
    pub fn selected_row(&self) -> Option<&Row> {
        match self.view {
            View::Feed | View::Participants | View::Admin => self.list_rows(self.view).nth(self.cursor_of(self.view)),
            _ => None,
        }
    }

    /// The alert selected in the Alerts view.
    pub fn selected_alert(&self) -> Option<&AlertItem> {
        if self.view != View::Alerts {
            return None;
        }
        self.alert_order.get(self.cursor_of(View::Alerts)).and_then(|i| self.alerts.get(*i))
    }

    /// Alerts shown (filtered) and how many of them are new.
    pub fn shown_alerts(&self) -> (usize, usize) {
        let new = self.alert_order.iter().filter(|i| self.alerts[**i].triage.status == triage::Status::New).count();
        (new, self.alert_order.len())
    }

    /// Unhandled alerts (status new) by severity, for the tab badge.
    pub fn open_alerts(&self) -> (usize, Option<Severity>) {
        let open: Vec<&AlertItem> = self.alerts.iter().filter(|a| a.triage.status == triage::Status::New).collect();
        (open.len(), open.iter().map(|a| a.alert.severity).max())
    }

    /// Events per second over the last 10 s.
    pub fn rate_per_sec(&self) -> f64 {
        let now_s = self.now_ms.div_euclid(1000);
        let lag = (now_s - self.stats.rate_base_s).max(0) as usize;
        let n: u32 = self.stats.rate.iter().rev().skip(lag).take(10usize.saturating_sub(lag)).sum();
        f64::from(n) / 10.0
    }

    fn set_cursor(&mut self, v: View, c: usize) {
        let len = self.len_of(v);
        let c = if len == 0 { 0 } else { c.min(len - 1) };
        if v == View::Meetings && self.roster_focus {
            self.roster_cursor = c;
        } else {
            self.cursor.insert(v, c);
        }
    }

    fn current_cursor(&self) -> usize {
        if self.view == View::Meetings && self.roster_focus { self.roster_cursor } else { self.cursor_of(self.view) }
    }

    fn rebuild_lists(&mut self) {
        // One filter evaluation per row, shared by the three list views. The lists are
        // refilled in place: their capacity (and pages) are reused across filter changes.
        let mut lists = std::mem::take(&mut self.lists);
        for v in LIST_VIEWS {
            lists.entry(v).or_default().clear();
        }
        for row in &self.rows {
            if !self.filter.matches_search(row.worst, &row.search) {
                continue;
            }
            for v in LIST_VIEWS {
                if row.lists & list_bit(v) != 0
                    && let Some(l) = lists.get_mut(&v)
                {
                    l.push(row.seq);
                }
            }
        }
        self.lists = lists;
        for v in LIST_VIEWS {
            self.cursor.insert(v, 0);
        }
        self.sort_alerts();
        self.cursor.insert(View::Alerts, 0);
        self.cursor.insert(View::Meetings, 0);
        self.roster_cursor = 0;
    }

    /// Where alert `i` sorts: unhandled first, then by severity (newest first within).
    fn alert_rank(&self, i: usize) -> crate::alert_order::Rank {
        let a = &self.alerts[i];
        (a.triage.status, std::cmp::Reverse(a.alert.severity))
    }

    fn sort_alerts(&mut self) {
        let shown = (0..self.alerts.len()).filter(|i| self.filter.matches_alert(&self.alerts[*i].alert));
        self.alert_order = crate::alert_order::AlertOrder::from_ranked(shown.map(|i| (i, self.alert_rank(i))).collect::<Vec<_>>());
    }

    /// Puts the new alert `i` in its place in the display order (if the filter shows it),
    /// keeping the analyst's selection on the same alert.
    fn place_alert(&mut self, i: usize) {
        if !self.filter.matches_alert(&self.alerts[i].alert) {
            return;
        }
        let pos = self.alert_order.insert(i, self.alert_rank(i));
        let c = self.cursor_of(View::Alerts);
        if c > 0 && pos <= c {
            self.cursor.insert(View::Alerts, c + 1);
        }
    }

    fn apply_records(&mut self, batch: Vec<RecordV1>) {
        // Records that came without their line (tests, the demo's direct feed): prepared
        // here, as a source given a `Preparer` does in its task.
        let cfg = self.detector.config();
        let geo = self.geo.as_deref();
        let prepared = batch.into_iter().map(|r| crate::source::Preparer::prepare_with(cfg, geo, r)).collect();
        self.apply_prepared(prepared);
    }

    fn apply_prepared(&mut self, mut batch: Vec<crate::source::Prepared>) {
        let mut added: HashMap<View, usize> = HashMap::new();
        // The records stay in the batch (moving a record costs as much as a small rule)
        // and leave with it, to the drop thread; rows take the line, flags and search.
        let want = self.rows.len() + batch.len();
        if want > self.rows.capacity() {
            // Doubling, but never past the retention plus this batch: the rows never
            // need more, and a doubled deque past it would hold a third more than that.
            let cap = self.rows.capacity().saturating_mul(2).min(self.retention.saturating_add(batch.len())).max(want);
            self.rows.reserve_exact(cap - self.rows.len());
        }
        for p in &mut batch {
            let r = &p.record;
            let (line, flags, search) = (std::mem::take(&mut p.line), std::mem::take(&mut p.flags), std::mem::take(&mut p.search));
            let Some((flags, events)) = self.detector.observe_prepared(r, flags, &p.keys) else {
                self.stats.duplicates += 1;
                continue;
            };
            self.count(r, p.keys.received_ms);
            if r.response.is_some() {
                self.apply_response(r);
            }
            if let Some(a) = zoomwatch_shared::alert::alert_of(r) {
                self.merge_watch_alert(a);
            }
            let worst = flags.iter().map(|f| f.severity).max();
            let seq = self.base_seq + self.rows.len() as u64;
            let matches = self.filter.is_empty() || self.filter.matches_search(worst, &search);
            let mut bits = 0;
            for v in LIST_VIEWS {
                if in_list(v, r) {
                    bits |= list_bit(v);
                    if matches {
                        if let Some(l) = self.lists.get_mut(&v) {
                            l.push(seq);
                        }
                        *added.entry(v).or_default() += 1;
                    }
                }
            }
            let row = Row { seq, line, flags, worst, search, lists: bits };
            self.held_bytes += row.size();
            self.rows.push_back(row);
            for e in events {
                self.apply_alert_event(e);
            }
        }
        drop_elsewhere(batch);
        // Keep the analyst's selection on the same row while new rows arrive on top
        // (while paused they are not shown yet: nothing moves).
        for (v, n) in added.into_iter().filter(|_| self.paused_at.is_none()) {
            let c = self.cursor_of(v);
            if c > 0 {
                self.cursor.insert(v, c + n);
            }
        }
        self.evict();
    }

    fn evict(&mut self) {
        let excess = self.rows.len().saturating_sub(self.retention);
        if excess > 0 {
            let gone: Vec<Row> = self.rows.drain(..excess).collect();
            self.held_bytes = self.held_bytes.saturating_sub(gone.iter().map(Row::size).sum());
            drop_elsewhere(gone);
            self.base_seq += excess as u64;
        }
        let base = self.base_seq;
        for l in self.lists.values_mut() {
            let cut = l.partition_point(|s| *s < base);
            if cut > 0 {
                l.drain(..cut);
            }
        }
        for v in LIST_VIEWS {
            let c = self.cursor_of(v);
            self.set_cursor(v, c);
        }
    }

    /// Counts `r` (received at `received_ms`, when readable) in the Overview's figures.
    fn count(&mut self, r: &RecordV1, received_ms: Option<i64>) {
        self.stats.records += 1;
        match self.stats.by_event.get_mut(&r.event) {
            Some(n) => *n += 1,
            None => {
                self.stats.by_event.insert(r.event.clone(), 1);
            }
        }
        if zoomwatch_shared::rules::stateless::is_join(r) {
            let geo = r.participant.as_ref().and_then(|p| p.geo.as_deref());
            match geo.and_then(|g| g.country.as_ref().map(|c| (c, &g.country_name))) {
                Some((cc, name)) => match self.stats.joins_by_country.get_mut(cc.as_str()) {
                    Some(slot) => slot.0 += 1,
                    None => {
                        self.stats.joins_by_country.insert(cc.clone(), (1, name.clone()));
                    }
                },
                None => self.stats.joins_unplaced += 1,
            }
        }
        let received = received_ms.unwrap_or(self.now_ms);
        self.stats.last_received_ms = Some(self.stats.last_received_ms.map_or(received, |l| l.max(received)));
        self.stats.lag_ms = Some((self.now_ms - received).max(0));
        if let Some(rej) = &r.rejection {
            self.stats.rejected += 1 + rej.suppressed;
        }
        if r.origin.as_deref().is_some_and(|o| o.source == zoomwatch_shared::report::WEBHOOK_LOGS) {
            self.stats.undelivered += 1;
        }
        if r.event == zoomwatch_shared::record::URL_VALIDATION_EVENT {
            self.stats.last_validation_ms = Some(self.stats.last_validation_ms.map_or(received, |l| l.max(received)));
        }
        // Arrivals per second, by receive time, within the sparkline window.
        let s = received.div_euclid(1000);
        let rate = &mut self.stats.rate;
        if rate.is_empty() {
            self.stats.rate_base_s = s.max(self.now_ms.div_euclid(1000));
            rate.extend(std::iter::repeat_n(0, RATE_WINDOW));
        }
        if s > self.stats.rate_base_s {
            let shift = usize::try_from(s - self.stats.rate_base_s).unwrap_or(RATE_WINDOW).min(RATE_WINDOW);
            for _ in 0..shift {
                rate.pop_front();
                rate.push_back(0);
            }
            self.stats.rate_base_s = s;
        }
        let back = usize::try_from(self.stats.rate_base_s - s).unwrap_or(usize::MAX);
        if back < RATE_WINDOW {
            let i = RATE_WINDOW - 1 - back;
            if let Some(slot) = rate.get_mut(i) {
                *slot += 1;
            }
        }
    }

    /// An alert `zoomwatch watch` wrote: merged by id with the one this console raised
    /// from the same records (ids follow from the records), else added.
    fn merge_watch_alert(&mut self, a: zoomwatch_shared::rules::Alert) {
        if let Some(item) = self.alert_pos.get(&a.id).and_then(|i| self.alerts.get_mut(*i)) {
            item.from_watch = true;
            if a.count > item.alert.count {
                item.alert.count = a.count;
                item.alert.record_ids = a.record_ids;
                if !item.own {
                    item.alert.reason = a.reason; // the raid's latest size
                }
            }
            item.alert.severity = item.alert.severity.max(a.severity);
            return;
        }
        self.add_alert(a, false);
    }

    fn add_alert(&mut self, a: zoomwatch_shared::rules::Alert, own: bool) {
        // Only alerts about one person mark that person's roster line.
        let about_person = zoomwatch_shared::rules::catalog::info(&a.rule)
            .is_some_and(|i| i.grouping == zoomwatch_shared::rules::Grouping::PerParticipant);
        if let (true, Some(m), Some(p)) = (about_person, &a.meeting, &a.participant)
            && let Some(key) = m.uuid.clone().or_else(|| m.id.as_ref().map(|id| format!("id:{id}")))
        {
            let slot = self.person_alerts.entry(format!("{key}|{}", p.identity_key())).or_insert(a.severity);
            *slot = (*slot).max(a.severity);
        }
        let triage = self.triage.alerts.get(&a.id).cloned().unwrap_or_default();
        let i = self.alerts.len();
        self.alert_pos.insert(a.id.clone(), i);
        self.alerts.push(AlertItem { alert: a, triage, from_watch: !own, own });
        self.place_alert(i);
    }

    fn apply_alert_event(&mut self, e: AlertEvent) {
        match e {
            AlertEvent::Raised(a) if self.alert_pos.contains_key(&a.id) => {
                // `zoomwatch watch` wrote it first (a log group's streams interleave).
                if let Some(item) = self.alert_pos.get(&a.id).and_then(|i| self.alerts.get_mut(*i)) {
                    item.own = true;
                }
            }
            AlertEvent::Raised(a) => self.add_alert(*a, true),
            AlertEvent::Grew { alert_id, record_id, count, severity, reason, .. } => {
                if let Some(item) = self.alert_pos.get(&alert_id).and_then(|i| self.alerts.get_mut(*i)) {
                    item.alert.count = item.alert.count.max(count);
                    let escalated = severity > item.alert.severity;
                    if escalated {
                        // An escalation explains itself, and moves up the list.
                        item.alert.severity = severity;
                        item.alert.reason = reason;
                    }
                    if item.alert.record_ids.len() < 200 {
                        item.alert.record_ids.push(record_id);
                    }
                    if escalated {
                        self.sort_alerts();
                    }
                }
            }
        }
    }

    fn tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        let s = now_ms.div_euclid(1000);
        if !self.stats.rate.is_empty() && s > self.stats.rate_base_s {
            let shift = usize::try_from(s - self.stats.rate_base_s).unwrap_or(RATE_WINDOW).min(RATE_WINDOW);
            for _ in 0..shift {
                self.stats.rate.pop_front();
                self.stats.rate.push_back(0);
            }
            self.stats.rate_base_s = s;
        }
        for e in self.detector.tick(now_ms) {
            self.apply_alert_event(e);
        }
        if self.notice.as_ref().is_some_and(|(_, until)| *until < now_ms) {
            self.notice = None;
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), self.now_ms + 6000));
    }

    /// Replaces the filter with `text` (as typed at the `/` prompt) and rebuilds the lists.
    pub fn set_filter(&mut self, text: &str) -> Result<(), String> {
        let f = Filter::parse_at(text, self.now_ms).map_err(|e| e.to_string())?;
        self.filter = f;
        self.filter_text = text.trim().to_owned();
        self.rebuild_lists();
        Ok(())
    }

    /// Adds `term` (as text) to the filter, replacing an existing term of the same kind.
    fn narrow(&mut self, prefix: &str, value: &str) {
        let quoted = if value.contains(char::is_whitespace) { format!("{prefix}\"{value}\"") } else { format!("{prefix}{value}") };
        let mut words: Vec<String> = self.filter_text.split_whitespace().filter(|w| !w.starts_with(prefix)).map(str::to_owned).collect();
        words.push(quoted);
        let text = words.join(" ");
        match self.set_filter(&text) {
            Ok(()) => self.say(format!("filter: {text}  (Esc clears)")),
            Err(e) => self.say(e),
        }
    }

    /// What the selection is about, for the response menu.
    fn respond_subjects(&self) -> Option<crate::respond::Subjects> {
        use crate::respond::Subjects;
        if self.view == View::Alerts {
            let item = self.selected_alert()?;
            let a = &item.alert;
            let m = a.meeting.as_ref();
            let mut s = Subjects {
                meeting_id: m.and_then(|m| m.id.clone()),
                meeting_uuid: m.and_then(|m| m.uuid.clone()),
                topic: m.and_then(|m| m.topic.clone()),
                user: a.actor.as_ref().and_then(|x| x.id.clone().or_else(|| x.email.clone())),
                alert_id: Some(a.id.clone()),
                ..Subjects::default()
            };
            if let Some(p) = &a.participant {
                s = s.with_participant(p);
            }
            return Some(s);
        }
        if self.view == View::Meetings {
            let m = self.selected_meeting()?;
            let uuid = (!m.key.starts_with("id:")).then(|| m.key.clone());
            let mut s = Subjects { meeting_id: m.id.clone(), meeting_uuid: uuid, topic: m.topic.clone(), ..Subjects::default() };
            if self.roster_focus
                && let Some(a) = self.roster_of(m).get(self.roster_cursor)
            {
                s = s.with_participant(&a.participant.to_participant());
            }
            return Some(s);
        }
        let r = self.selected_row()?.record()?;
        let r = &r;
        let m = r.meeting.as_ref();
        let mut s = Subjects {
            meeting_id: m.and_then(|m| m.id.clone()),
            meeting_uuid: m.and_then(|m| m.uuid.clone()),
            topic: m.and_then(|m| m.topic.clone()),
            user: r
                .target_user
                .as_ref()
                .and_then(|t| t.id.clone().or_else(|| t.email.clone()))
                .or_else(|| r.actor.as_ref().and_then(|x| x.id.clone().or_else(|| x.email.clone()))),
            ..Subjects::default()
        };
        if let Some(p) = &r.participant {
            s = s.with_participant(p);
        }
        Some(s)
    }

    fn open_respond(&mut self) {
        if let Some(why) = &self.respond_unavailable {
            let why = why.clone();
            self.say(format!("Zoom actions unavailable: {why}"));
            return;
        }
        let Some(subjects) = self.respond_subjects() else {
            self.say("select an alert, a record, a meeting or a roster line first");
            return;
        };
        let menu = crate::respond::menu(&subjects);
        if menu.items.is_empty() {
            self.say("nothing to act on in the selection (no meeting, participant or Zoom user)");
            return;
        }
        self.overlay = Overlay::Respond(menu);
    }

    fn on_respond_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let overlay = std::mem::replace(&mut self.overlay, Overlay::None);
        let action = keymap::lookup(&key, false, false);
        match overlay {
            Overlay::Respond(mut menu) => match (key.code, action) {
                (KeyCode::Esc, _) | (_, Some(Action::Quit | Action::Respond)) => {}
                (_, Some(Action::Up)) => {
                    menu.cursor = menu.cursor.saturating_sub(1);
                    self.overlay = Overlay::Respond(menu);
                }
                (_, Some(Action::Down)) => {
                    menu.cursor = (menu.cursor + 1).min(menu.items.len().saturating_sub(1));
                    self.overlay = Overlay::Respond(menu);
                }
                (KeyCode::Enter, _) => match menu.items.get(menu.cursor).cloned() {
                    Some(crate::respond::Item::Act(a)) => self.overlay = Overlay::Confirm { action: a, alert_id: menu.alert_id },
                    Some(crate::respond::Item::Look(l)) => {
                        self.say(format!("asking Zoom: {}…", l.name()));
                        return vec![Effect::Zoom(ZoomCall::Lookup(l))];
                    }
                    None => {}
                },
                _ => self.overlay = Overlay::Respond(menu),
            },
            Overlay::Confirm { action, alert_id } => match key.code {
                KeyCode::Char('y' | 'Y') => {
                    self.say(format!("calling Zoom: {}…", action.summary()));
                    return vec![Effect::Zoom(ZoomCall::Act { action, alert_id })];
                }
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => self.say("not done"),
                _ => self.overlay = Overlay::Confirm { action, alert_id },
            },
            Overlay::Saved { cursor } => {
                let n = self.detector.config().filters.len();
                let pick = match (key.code, action) {
                    (KeyCode::Esc, _) | (_, Some(Action::Quit | Action::SavedFilters)) => return Vec::new(),
                    (_, Some(Action::Up)) => {
                        self.overlay = Overlay::Saved { cursor: cursor.saturating_sub(1) };
                        return Vec::new();
                    }
                    (_, Some(Action::Down)) => {
                        self.overlay = Overlay::Saved { cursor: (cursor + 1).min(n.saturating_sub(1)) };
                        return Vec::new();
                    }
                    (KeyCode::Enter, _) => cursor,
                    (KeyCode::Char(c @ '1'..='9'), _) => (c as usize) - ('1' as usize),
                    _ => {
                        self.overlay = Overlay::Saved { cursor };
                        return Vec::new();
                    }
                };
                if let Some((name, text)) = self.detector.config().filters.get(pick).cloned() {
                    match self.set_filter(&text) {
                        Ok(()) => self.say(format!("filter {name}: {text}")),
                        Err(e) => self.say(format!("filter {name}: {e}")),
                    }
                }
            }
            Overlay::Info { title, lines } => match (key.code, action) {
                (KeyCode::Esc | KeyCode::Enter, _) | (_, Some(Action::Quit)) => {}
                (_, Some(Action::Up)) => {
                    self.detail_scroll = self.detail_scroll.saturating_sub(1);
                    self.overlay = Overlay::Info { title, lines };
                }
                (_, Some(Action::Down)) => {
                    self.detail_scroll = self.detail_scroll.saturating_add(1);
                    self.overlay = Overlay::Info { title, lines };
                }
                _ => self.overlay = Overlay::Info { title, lines },
            },
            other => self.overlay = other,
        }
        Vec::new()
    }

    fn on_acted(&mut self, alert_id: Option<String>, line: String, ok: bool) -> Vec<Effect> {
        self.say(line.clone());
        let Some(id) = alert_id else { return Vec::new() };
        let stamp = format_ms(self.now_ms);
        let entry = self.triage.alerts.entry(id.clone()).or_default();
        entry.actions.push(format!("{} {}: {line}", stamp.get(11..19).unwrap_or(&stamp), self.analyst));
        if ok && entry.status == triage::Status::New {
            entry.status = triage::Status::Acked;
        }
        entry.updated_at = stamp;
        entry.by = self.analyst.clone();
        let entry = entry.clone();
        if let Some(item) = self.alert_pos.get(&id).and_then(|i| self.alerts.get_mut(*i)) {
            item.triage = entry.clone();
        }
        self.sort_alerts();
        vec![Effect::SaveTriage(self.triage.clone()), Effect::ShareTriage { alert_id: id, entry }]
    }

    fn on_looked_up(&mut self, lookup: zoomwatch_zoomapi::Lookup, result: Result<serde_json::Value, String>) {
        let body = match result {
            Ok(b) => b,
            Err(e) => return self.say(e),
        };
        let (title, mut lines) = crate::act::describe_lookup(&lookup, &body);
        if let zoomwatch_zoomapi::Lookup::LiveParticipants { meeting } = &lookup {
            let m = self.detector.meetings().meetings.values().find(|m| &m.key == meeting || m.id.as_deref() == Some(meeting.as_str()));
            let mut head = crate::respond::reconcile(m, &body);
            head.push(String::new());
            head.append(&mut lines);
            lines = head;
        }
        self.detail_scroll = 0;
        self.overlay = Overlay::Info { title, lines };
    }

    /// Applies another analyst's (or this one's, read back) action or verdict.
    fn apply_response(&mut self, r: &RecordV1) {
        let Some(resp) = zoomwatch_shared::audit::response_of(r) else { return };
        let Some(id) = resp.alert_id.clone() else { return };
        let entry = self.triage.alerts.entry(id.clone()).or_default();
        if r.event == zoomwatch_shared::record::TRIAGE_EVENT {
            // Last writer wins; an older verdict read late changes nothing.
            if r.occurred_at < entry.updated_at {
                return;
            }
            if let Some(s) = resp.status.as_deref().and_then(triage::Status::parse) {
                entry.status = s;
            }
            entry.note = resp.note.clone().unwrap_or_default();
            entry.updated_at = r.occurred_at.clone();
            entry.by = resp.analyst.clone();
        } else {
            let line = format!(
                "{} {}: {}",
                r.occurred_at.get(11..19).unwrap_or(&r.occurred_at),
                resp.analyst,
                resp.result.as_deref().unwrap_or(&r.action)
            );
            // This console's own actions are already listed (from `Acted`).
            let listed =
                resp.result.as_deref().is_some_and(|res| entry.actions.iter().any(|a| a.ends_with(res) && a.contains(&resp.analyst)));
            if listed {
                return;
            }
            entry.actions.push(line);
        }
        let entry = entry.clone();
        if let Some(item) = self.alert_pos.get(&id).and_then(|i| self.alerts.get_mut(*i)) {
            item.triage = entry;
        }
        self.sort_alerts();
    }

    /// The meeting and user of the selection (for `m` / `u`).
    fn selection_subjects(&self) -> (Option<String>, Option<String>) {
        if let Some(r) = self.selected_row().and_then(Row::record) {
            let r = &r;
            let meeting = r.meeting.as_ref().and_then(|m| m.uuid.clone().or_else(|| m.id.clone()));
            let user = r
                .participant
                .as_ref()
                .and_then(|p| p.email.clone().or_else(|| p.name.clone()))
                .or_else(|| r.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.id.clone())))
                .or_else(|| r.target_user.as_ref().and_then(|t| t.email.clone()));
            return (meeting, user);
        }
        if let Some(item) = self.selected_alert() {
            let a = &item.alert;
            let meeting = a.meeting.as_ref().and_then(|m| m.uuid.clone().or_else(|| m.id.clone()));
            let user = a
                .participant
                .as_ref()
                .and_then(|p| p.email.clone().or_else(|| p.name.clone()))
                .or_else(|| a.actor.as_ref().and_then(|x| x.email.clone()));
            return (meeting, user);
        }
        if self.view == View::Meetings {
            let m = self.selected_meeting();
            let meeting = m.map(|m| m.key.clone());
            let user = if self.roster_focus {
                m.and_then(|m| {
                    self.roster_of(m)
                        .get(self.roster_cursor)
                        .and_then(|a| a.participant.email().or_else(|| a.participant.name()).map(str::to_owned))
                })
            } else {
                None
            };
            return (meeting, user);
        }
        (None, None)
    }

    fn triage_selected(&mut self, status: Option<triage::Status>, note: Option<String>) -> Vec<Effect> {
        let Some(pos) = self.alert_order.get(self.cursor_of(View::Alerts)).copied() else {
            self.say("no alert selected");
            return Vec::new();
        };
        let now = format_ms(self.now_ms);
        let item = &mut self.alerts[pos];
        if let Some(s) = status {
            // Pressing the same key again undoes it.
            item.triage.status = if item.triage.status == s { triage::Status::New } else { s };
        }
        let msg = match (&note, status) {
            (Some(_), _) => format!("note saved on {}", item.alert.rule),
            _ => format!("{} → {}", item.alert.rule, item.triage.status.as_str()),
        };
        if let Some(n) = note {
            item.triage.note = n;
        }
        item.triage.updated_at = now;
        item.triage.by = self.analyst.clone();
        let id = item.alert.id.clone();
        let entry = item.triage.clone();
        self.triage.alerts.insert(id.clone(), entry.clone());
        self.sort_alerts();
        self.say(msg);
        vec![Effect::SaveTriage(self.triage.clone()), Effect::ShareTriage { alert_id: id, entry }]
    }

    fn export(&mut self, csv: bool) -> Vec<Effect> {
        let stamp = format_ms(self.now_ms).replace([':', '-'], "").replace('T', "-");
        let stamp = stamp.get(..15).unwrap_or(&stamp).to_owned();
        let name = format!("zoomwatch-{}-{stamp}.{}", self.view.title().to_lowercase(), if csv { "csv" } else { "jsonl" });
        let contents = crate::export::export(self, csv);
        vec![Effect::Export { path: name, contents }]
    }

    fn on_action(&mut self, a: Action) -> Vec<Effect> {
        let page = self.page.max(1);
        match a {
            Action::Quit => return vec![Effect::Quit],
            Action::ViewFeed => self.view = View::Feed,
            Action::ViewMeetings => self.view = View::Meetings,
            Action::ViewParticipants => self.view = View::Participants,
            Action::ViewAdmin => self.view = View::Admin,
            Action::ViewAlerts => self.view = View::Alerts,
            Action::ViewOverview => self.view = View::Overview,
            Action::NextView => self.view = View::ALL[(self.view.index() + 1) % View::ALL.len()],
            Action::PrevView => self.view = View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()],
            Action::Up => self.set_cursor(self.view, self.current_cursor().saturating_sub(1)),
            Action::Down => self.set_cursor(self.view, self.current_cursor() + 1),
            Action::PageUp => self.set_cursor(self.view, self.current_cursor().saturating_sub(page)),
            Action::PageDown => self.set_cursor(self.view, self.current_cursor() + page),
            Action::Top => self.set_cursor(self.view, 0),
            Action::Bottom => self.set_cursor(self.view, usize::MAX),
            Action::SwitchPane => {
                if self.view == View::Meetings {
                    self.roster_focus = !self.roster_focus;
                    self.roster_cursor = 0;
                }
            }
            Action::Details => {
                let has = match self.view {
                    View::Meetings => self.selected_meeting().is_some(),
                    View::Alerts => self.selected_alert().is_some(),
                    View::Overview => false,
                    _ => self.selected_row().is_some(),
                };
                if has {
                    self.overlay = Overlay::Detail;
                    self.detail_scroll = 0;
                }
            }
            Action::Filter => {
                self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Filter, text: self.filter_text.clone(), error: None })
            }
            Action::Back => {
                if self.overlay != Overlay::None {
                    self.overlay = Overlay::None;
                } else if !self.filter.is_empty() {
                    let _ = self.set_filter("");
                    self.say("filter cleared");
                }
            }
            Action::ThisMeeting => match self.selection_subjects().0 {
                Some(m) => self.narrow("meeting:", &m),
                None => self.say("the selection has no meeting"),
            },
            Action::ThisUser => match self.selection_subjects().1 {
                Some(u) => self.narrow("user:", &u),
                None => self.say("the selection has no user"),
            },
            Action::Ack => return self.triage_selected(Some(triage::Status::Acked), None),
            Action::Dismiss => return self.triage_selected(Some(triage::Status::Dismissed), None),
            Action::Note => {
                if let Some(item) = self.selected_alert() {
                    let id = item.alert.id.clone();
                    let text = item.triage.note.clone();
                    self.overlay = Overlay::Prompt(Prompt { kind: PromptKind::Note(id), text, error: None });
                }
            }
            Action::Respond => self.open_respond(),
            Action::ExportJsonl => return self.export(false),
            Action::ExportCsv => return self.export(true),
            Action::Help => self.overlay = if self.overlay == Overlay::Help { Overlay::None } else { Overlay::Help },
            Action::Pause => self.toggle_pause(),
            Action::SavedFilters => {
                if self.detector.config().filters.is_empty() {
                    self.say("no saved filters: add a [filters] table to zoomwatch.toml (see zoomwatch.example.toml)");
                } else {
                    self.overlay = Overlay::Saved { cursor: 0 };
                }
            }
        }
        Vec::new()
    }

    fn toggle_pause(&mut self) {
        match self.paused_at.take() {
            None => {
                self.paused_at = Some(self.base_seq + self.rows.len() as u64);
                self.say("paused: records keep arriving and being judged; p shows them");
            }
            Some(at) => {
                // Keep the selection on the same row as the held-back rows appear above it.
                for v in LIST_VIEWS {
                    let c = self.cursor_of(v);
                    let revealed = self.lists.get(&v).map_or(0, |l| l.len() - l.partition_point(|s| *s < at));
                    if c > 0 {
                        self.cursor.insert(v, c + revealed);
                    }
                }
                let n = (self.base_seq + self.rows.len() as u64).saturating_sub(at);
                self.say(format!("resumed: {n} records arrived while paused"));
            }
        }
    }

    fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Overlay::Prompt(mut prompt) = std::mem::replace(&mut self.overlay, Overlay::None) else { return Vec::new() };
        match key.code {
            KeyCode::Esc => return Vec::new(),
            KeyCode::Enter => match &prompt.kind {
                PromptKind::Filter => {
                    let text = prompt.text.clone();
                    if let Err(e) = self.set_filter(&text) {
                        prompt.error = Some(e);
                        self.overlay = Overlay::Prompt(prompt);
                    } else if text.trim().is_empty() {
                        self.say("filter cleared");
                    } else {
                        self.say(format!("filter: {}", text.trim()));
                    }
                    return Vec::new();
                }
                PromptKind::Note(id) => {
                    let id = id.clone();
                    let found = self.alert_order.iter().position(|i| self.alerts[*i].alert.id == id);
                    if let Some(pos) = found {
                        self.cursor.insert(View::Alerts, pos);
                        return self.triage_selected(None, Some(prompt.text.trim().to_owned()));
                    }
                    return Vec::new();
                }
            },
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => prompt.text.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if prompt.text.chars().count() < 256 {
                    prompt.text.push(c);
                }
                prompt.error = None;
            }
            _ => {}
        }
        self.overlay = Overlay::Prompt(prompt);
        Vec::new()
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
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::Down) => *scroll = scroll.saturating_add(1),
                    Some(Action::PageUp) => *scroll = scroll.saturating_sub(page),
                    Some(Action::PageDown) => *scroll = scroll.saturating_add(page),
                    Some(Action::Top) => *scroll = 0,
                    Some(a) => return state.on_action(a),
                    None => {}
                }
                return Vec::new();
            }
            match action {
                Some(a) => state.on_action(a),
                None => Vec::new(),
            }
        }
        Msg::Source(SourceEvent::Records(batch)) => {
            state.apply_records(batch);
            Vec::new()
        }
        Msg::Source(SourceEvent::Prepared(batch)) => {
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
