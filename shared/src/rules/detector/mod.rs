//! The stateful detector: feed it records in any order (it orders by payload time where
//! it matters and ignores duplicate record ids), and call [`Detector::tick`] with the
//! current time for rules about silence. It reports [`AlertEvent`]s: a new alert, or a
//! new finding added to an open alert of the same rule and subject (one raid = one
//! alert that grows, not fifty).
//!
//! Why one file of this length: the detector's memory, its checkpoint form and the
//! record path through every rule must change together; the rules themselves are in
//! `joins.rs`, `admin.rs`, `grouping.rs` and `series.rs` beside this file, the learned
//! names (the impersonation rule's memory) in `learned.rs`.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::record::{Actor, Category, Flag, Participant, RecordV1, Severity};
use crate::roster::{MeetingBook, Presence, meeting_key};
use crate::rules::catalog::{self, Grouping};
use crate::rules::names::normalize_name;
use crate::rules::stateless;
use crate::rules::subjects::{self, is_join, is_outsider, meeting_label, quote, who};
use crate::timefmt::format_ms;
use learned::{Person, form_key};

/// How long an alert stays open for more findings of the same rule and subject.
mod acts;
mod admin;
mod grouping;
mod joins;
mod learned;
mod series;

use series::{MAX_SERIES, count_between, insert_and_count, trim, window_ids};

const GROUP_WINDOW_MS: i64 = 30 * 60 * 1000;
/// Record ids remembered for duplicate suppression.
const SEEN_CAPACITY: usize = 2_000_000;
/// Record ids kept on one alert (the count keeps going).
const MAX_RECORD_IDS: usize = 200;

/// The meeting an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingBrief {
    /// Meeting number.
    #[serde(default)]
    pub id: Option<String>,
    /// Instance uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Topic.
    #[serde(default)]
    pub topic: Option<String>,
}

/// One incident for the analyst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id (rule, subject and first record).
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// One line naming who and what (of the first finding).
    pub reason: String,
    /// Meeting concerned.
    pub meeting: Option<MeetingBrief>,
    /// Participant concerned.
    pub participant: Option<Participant>,
    /// Operator concerned.
    pub actor: Option<Actor>,
    /// Records that triggered it (first 200).
    pub record_ids: Vec<String>,
    /// Payload time of the first finding.
    pub occurred_at: String,
    /// Findings grouped into this alert.
    pub count: u32,
}

/// What the detector reports.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertEvent {
    /// A new alert.
    Raised(Box<Alert>),
    /// Another finding for an open alert.
    Grew {
        /// The alert.
        alert_id: String,
        /// The record that added to it.
        record_id: String,
        /// Findings so far.
        count: u32,
        /// The new finding's severity.
        severity: Severity,
        /// The new finding's reason (e.g. the raid's new size).
        reason: String,
        /// Payload time of the record that added to it.
        occurred_at: String,
    },
}

struct Finding {
    /// A built-in rule id, or a custom rule's.
    rule: Cow<'static, str>,
    /// Appended to the alert's subject when one rule raises distinct kinds of alert
    /// about the same subject (a crowd and a raid in one meeting are two alerts).
    variant: &'static str,
    severity: Severity,
    reason: String,
    /// Record ids of the finding (usually the one record).
    records: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct OpenAlert {
    id: String,
    last_ms: i64,
    count: u32,
}

#[derive(Serialize, Deserialize)]
struct RemovalMark {
    keys: Vec<String>,
    at_ms: i64,
}

/// The flags the console shows for `r` under `cfg`: the stateless rules re-run with
/// this configuration, plus flags stored by the receiver for rules this build does not
/// know (a newer receiver). Disabled rules are dropped; severities follow the config.
pub fn effective_flags(r: &RecordV1, cfg: &Config) -> Vec<Flag> {
    let mut flags = stateless::evaluate(r, cfg);
    for f in &r.flags {
        if catalog::info(&f.rule).is_none() && !flags.iter().any(|x| x.rule == f.rule) {
            flags.push(f.clone());
        }
    }
    flags
}

/// What the detector derives from a record alone, before any state: computed where the
/// record is prepared (the console's source task), so the loop that applies records in
/// order does only the stateful part ([`Detector::observe_prepared`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// The duplicate-suppression key of the record id.
    pub id: u64,
    /// Payload time (ms; 0 when unreadable, as [`RecordV1::occurred_ms`]).
    pub occurred_ms: i64,
    /// Receive time (ms), when readable.
    pub received_ms: Option<i64>,
    /// The key its meeting is tracked under ([`meeting_key`]) when it has to be made
    /// (no instance uuid: `id:<number>`); otherwise the uuid, read from the record
    /// ([`Keys::meeting`]). Most records have one, so most keys allocate nothing.
    pub meeting_by_number: Option<String>,
    /// A joiner's display name, normalized ([`normalize_name`]) for the rules that
    /// compare names; `None` for anything but a join.
    pub joiner_name: Option<String>,
    /// Its key among learned names and their shortened forms ([`form_key`]).
    pub joiner_key: u64,
    /// What the meeting book derives from it ([`crate::roster::BookKeys`]).
    pub book: crate::roster::BookKeys,
}

impl Keys {
    /// The key `r`'s meeting is tracked under ([`meeting_key`]); `r` is the record these
    /// keys are of.
    pub fn meeting<'a>(&'a self, r: &'a RecordV1) -> Option<&'a str> {
        r.meeting.as_ref().and_then(|m| m.uuid.as_deref()).or(self.meeting_by_number.as_deref())
    }

    /// The keys of `r`.
    pub fn of(r: &RecordV1) -> Self {
        let joiner_name = if is_join(r) { r.participant.as_ref().and_then(|p| p.name.as_deref()).map(normalize_name) } else { None };
        Self {
            id: crate::ids::id_key(&r.id),
            occurred_ms: r.occurred_ms(),
            received_ms: crate::timefmt::parse_rfc3339_ms(&r.received_at),
            meeting_by_number: r.meeting.as_ref().filter(|m| m.uuid.is_none()).and_then(|_| meeting_key(r)),
            joiner_key: joiner_name.as_deref().map_or(0, form_key),
            joiner_name,
            book: crate::roster::BookKeys::of(r),
        }
    }
}

/// What the detector holds, against its caps ([`Detector::memory`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryFill {
    /// Meetings and rosters.
    pub book: crate::roster::Fill,
    /// What the roster caps took away so far.
    pub trimmed: crate::roster::Trimmed,
    /// Learned internal names (impersonation rule).
    pub learned_names: usize,
    /// Learned names forgotten past the cap, in total.
    pub forgotten_names: u64,
    /// Identities the travel rules remember.
    pub travel_identities: usize,
    /// Their cap.
    pub travel_cap: usize,
    /// Record ids remembered against duplicates.
    pub record_ids: usize,
    /// Their cap.
    pub record_ids_cap: usize,
    /// The configured caps.
    pub limits: crate::limits::Limits,
}

/// Watches a stream of records.
pub struct Detector {
    cfg: Config,
    mem: Memory,
}

/// Everything the detector remembers, apart from its configuration: what a checkpoint
/// saves ([`Detector::save`]) and a restart restores ([`Detector::restore`]).
#[derive(Serialize, Deserialize)]
struct Memory {
    seen: crate::ids::RecentIds,
    book: MeetingBook,
    /// Per meeting: joins of outsiders nobody vetted (no registration, not admitted
    /// from the waiting room, or flagged).
    outsider_joins: HashMap<String, Vec<(i64, String)>>,
    /// Per meeting: joins of outsiders who registered or were admitted by the host.
    #[serde(default)]
    vetted_joins: HashMap<String, Vec<(i64, String)>>,
    removals: HashMap<String, Vec<RemovalMark>>,
    /// Learned (protected) names by their key ([`form_key`] of the normalized name);
    /// saved as a map from the normalized name.
    #[serde(with = "learned")]
    protected: HashMap<u64, Person>,
    /// Shortened forms of the protected names ("dana w"): form's key ([`form_key`]) →
    /// (the full name's key, word count). Derived from `protected`, so not saved.
    #[serde(skip)]
    initials: HashMap<u64, (u64, usize)>,
    /// The protected names' keys in the order they were last seen, oldest first, each
    /// with the `seen` stamp it was queued with: an entry whose stamp is no longer its
    /// name's is stale and skipped. Forgetting takes from the front (least recently
    /// used), with no ranking; rebuilt from `protected` (by `seen`) when restored or when
    /// stale entries outnumber the names.
    #[serde(skip)]
    recency: std::collections::VecDeque<(u64, u64)>,
    active: super::sessions::Sessions,
    deletions: HashMap<String, Vec<(i64, String)>>,
    /// Counting custom rules: matching records per rule and subject.
    #[serde(default)]
    custom_counts: HashMap<String, Vec<(i64, String)>>,
    travel: crate::rules::location::Travel,
    /// Refused requests: (time, how many, record id, source address). (Checkpoints of
    /// older versions kept a `rejected` series without sources; it is not read.)
    #[serde(default)]
    refused: Vec<(i64, u64, String, String)>,
    /// Open alerts by rule and subject (`rule` + `\n` + scope).
    open: HashMap<String, OpenAlert>,
    last_received_ms: Option<i64>,
    last_validation_ms: Option<i64>,
    silent_alerted: bool,
    validation_alerted: bool,
    applied: u64,
    /// Learned names forgotten past the cap, in total.
    #[serde(default)]
    forgotten_names: u64,
    /// The last posture record per account, to see what newly fails.
    #[serde(default)]
    postures: HashMap<String, crate::posture::Summary>,
    /// Per meeting number: registrations (`record id \t email domain`).
    #[serde(default)]
    registrations: HashMap<String, Vec<(i64, String)>>,
}

/// Version of the saved detector memory; a checkpoint of another version is not
/// restored (the watcher then starts afresh and says so).
pub const MEMORY_VERSION: u32 = 1;

fn hash_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Whether meeting `key` is still going on: a session in a meeting that ended (with
/// `meeting.ended`, or closed for being idle) is over, whether or not its leave came.
fn in_progress(book: &MeetingBook, key: &str) -> bool {
    book.meetings.get(key).is_some_and(|m| m.phase != crate::roster::MeetingPhase::Ended)
}

/// Who a participant is across meetings, for concurrent sessions: the Zoom user id, else
/// the email (lower-cased). Borrowed when it needs no change.
fn session_ident(p: &Participant) -> Option<std::borrow::Cow<'_, str>> {
    crate::rules::location::identity(p.zoom_user_id.as_deref(), p.email.as_deref())
}

impl Detector {
    /// A detector running with `cfg`.
    pub fn new(cfg: Config) -> Self {
        let known = cfg.known_people.clone();
        let mut d = Self {
            cfg,
            mem: Memory {
                seen: crate::ids::RecentIds::new(SEEN_CAPACITY),
                book: MeetingBook::default(),
                outsider_joins: HashMap::new(),
                vetted_joins: HashMap::new(),
                removals: HashMap::new(),
                initials: HashMap::new(),
                recency: std::collections::VecDeque::new(),
                protected: HashMap::new(),
                active: super::sessions::Sessions::new(),
                deletions: HashMap::new(),
                custom_counts: HashMap::new(),
                travel: crate::rules::location::Travel::new(),
                refused: Vec::new(),
                open: HashMap::new(),
                last_received_ms: None,
                last_validation_ms: None,
                silent_alerted: false,
                validation_alerted: false,
                applied: 0,
                forgotten_names: 0,
                postures: HashMap::new(),
                registrations: HashMap::new(),
            },
        };
        for (norm, display) in known {
            if !norm.is_empty() {
                let key = form_key(&norm);
                d.mem
                    .protect(key, Person { norm, display, zoom_user_id: None, email: None, host_of: None, seen: 0, forms: Box::default() });
            }
        }
        d
    }

    /// Writes the detector's memory (not its configuration) as JSON: rosters, series,
    /// learned names, open alerts, and the newest [`crate::ids::SAVED_IDS`] record ids seen.
    pub fn save(&self, out: impl std::io::Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, &(MEMORY_VERSION, &self.mem))
    }

    /// A detector running with `cfg` that remembers what [`Detector::save`] wrote.
    /// Names from `cfg.known_people` are added to the learned ones.
    pub fn restore(cfg: Config, saved: &[u8]) -> Result<Self, String> {
        let (version, mut mem): (u32, Memory) = serde_json::from_slice(saved).map_err(|e| format!("unreadable detector state: {e}"))?;
        if version != MEMORY_VERSION {
            return Err(format!("detector state of version {version}, this build reads {MEMORY_VERSION}"));
        }
        mem.seen.set_capacity(SEEN_CAPACITY);
        let mut d = Self::new(cfg);
        for (k, v) in std::mem::take(&mut d.mem.protected) {
            mem.protected.entry(k).or_insert(v);
        }
        let names: Vec<(u64, String, String)> = mem.protected.iter().map(|(k, p)| (*k, p.norm.clone(), p.display.clone())).collect();
        for (key, norm, display) in names {
            let forms = mem.index_initials(key, &norm, &display);
            if let Some(p) = mem.protected.get_mut(&key) {
                p.forms = forms;
            }
        }
        mem.rebuild_recency();
        d.mem = mem;
        Ok(d)
    }

    /// Whether a record with this id was already observed.
    pub fn seen(&self, id: &str) -> bool {
        self.mem.seen.contains(id)
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The live meetings as the detector sees them.
    pub fn meetings(&self) -> &MeetingBook {
        &self.mem.book
    }

    /// What the detector holds against its caps, for the console's Overview.
    pub fn memory(&self) -> MemoryFill {
        MemoryFill {
            book: self.mem.book.fill(),
            trimmed: self.mem.book.trimmed,
            learned_names: self.mem.protected.len(),
            forgotten_names: self.mem.forgotten_names,
            travel_identities: self.mem.travel.len(),
            travel_cap: crate::rules::location::MAX_IDENTITIES,
            record_ids: self.mem.seen.len(),
            record_ids_cap: SEEN_CAPACITY,
            limits: self.cfg.limits,
        }
    }

    /// The flags the console shows for `r`: the stateless rules re-run with this
    /// configuration, plus flags stored by the receiver for rules this build does not
    /// know (a newer receiver). Disabled rules are dropped; severities follow the config.
    pub fn flags_for(&self, r: &RecordV1) -> Vec<Flag> {
        effective_flags(r, &self.cfg)
    }

    /// Feeds one record. Returns the alerts it raised or grew. A record id seen before
    /// changes nothing.
    pub fn observe(&mut self, r: &RecordV1) -> Vec<AlertEvent> {
        if self.mem.seen.contains(&r.id) {
            return Vec::new();
        }
        let flags = self.flags_for(r);
        self.observe_prepared(r, flags, &Keys::of(r)).map(|(_, events)| events).unwrap_or_default()
    }

    /// Feeds one record whose effective flags ([`effective_flags`] with this detector's
    /// configuration) and [`Keys`] were derived already — by the console's source task,
    /// so its loop keeps only the stateful part. Returns the flags and the alerts;
    /// `None` when the record id was seen before (a duplicate delivery).
    pub fn observe_prepared(&mut self, r: &RecordV1, flags: Vec<Flag>, keys: &Keys) -> Option<(Vec<Flag>, Vec<AlertEvent>)> {
        if !self.mem.seen.insert_key(keys.id) {
            return None;
        }
        if r.event == crate::record::ALERT_EVENT {
            // An alert written by `zoomwatch watch`: a conclusion, not evidence.
            return Some((Vec::new(), Vec::new()));
        }
        let t = keys.occurred_ms;
        let received = keys.received_ms.unwrap_or(t);
        let mkey = keys.meeting(r);
        if r.event != crate::record::REJECTED_EVENT {
            self.mem.last_received_ms = Some(self.mem.last_received_ms.map_or(received, |l| l.max(received)));
            self.mem.silent_alerted = false;
        }
        if r.event == crate::record::URL_VALIDATION_EVENT {
            // Endpoint health is about when *we* got it, not the payload's clock.
            self.mem.last_validation_ms = Some(self.mem.last_validation_ms.map_or(received, |l| l.max(received)));
            self.mem.validation_alerted = false;
        }

        let mut findings: Vec<Finding> = flags
            .iter()
            .filter_map(|f| {
                let rule = match catalog::info(&f.rule) {
                    Some(info) => Cow::Borrowed(info.id),
                    None => Cow::Owned(self.cfg.custom_rule(&f.rule)?.id.clone()),
                };
                Some(Finding { rule, variant: "", severity: f.severity, reason: f.reason.clone(), records: vec![r.id.clone()] })
            })
            .collect();

        let transition = self.mem.book.apply_described(r, t, flags.iter().map(|f| f.severity).max(), &keys.book);
        let norm_name = keys.joiner_name.as_deref();
        self.learn_people(r, norm_name, keys.joiner_key, mkey);
        if let Some(tr) = &transition {
            self.track_active(r, tr.after, &tr.meeting);
        } else if matches!(r.category, Category::Meeting | Category::Webinar) && r.action == "ended" {
            self.end_sessions(mkey);
        }
        self.join_rules(r, t, norm_name.map(|n| (n, keys.joiner_key)), mkey, flags.iter().map(|f| f.severity).max(), &mut findings);
        self.travel_rules(r, t, mkey, &mut findings);
        self.removal_rules(r, t, &mut findings);
        self.deletion_rule(r, t, &mut findings);
        self.posture_rule(r, &mut findings);
        self.act_rules(r, t, mkey, &mut findings);
        self.rejected_rule(r, t, &mut findings);
        self.custom_counting_rules(r, t, mkey, flags.iter().map(|f| f.severity).max(), &mut findings);

        self.mem.applied += 1;
        if self.mem.applied.is_multiple_of(10_000) {
            let day_ago = t - 24 * 3600 * 1000;
            self.mem.book.prune_ended(day_ago);
            let closed = self.mem.book.trimmed.closed_idle;
            self.mem.book.enforce(t, &self.cfg.limits);
            // People taken to have left (the `present` cap): their sessions are over.
            for (meeting, ident) in self.mem.book.take_taken_as_left() {
                self.mem.active.leave(&ident, &meeting);
            }
            if self.mem.book.trimmed.closed_idle != closed {
                // Meetings closed for being idle: their people's sessions are over.
                let book = &self.mem.book;
                self.mem.active.retain_meetings(|m| in_progress(book, m));
            }
            self.mem.open.retain(|_, o| o.last_ms >= t - GROUP_WINDOW_MS);
            let recent = |s: &Vec<(i64, String)>| s.last().is_some_and(|(x, _)| *x >= day_ago);
            self.mem.custom_counts.retain(|_, s| recent(s));
            self.mem.outsider_joins.retain(|_, s| recent(s));
            self.mem.vetted_joins.retain(|_, s| recent(s));
            self.mem.deletions.retain(|_, s| recent(s));
            self.mem.registrations.retain(|_, s| recent(s));
            self.mem.removals.retain(|_, marks| marks.last().is_some_and(|m| m.at_ms >= day_ago));
        }
        let events = findings.into_iter().filter_map(|f| self.group(r, t, mkey, f)).collect();
        Some((flags, events))
    }

    /// Rules about time passing (silence, overdue validation). `now_ms` is the wall clock.
    pub fn tick(&mut self, now_ms: i64) -> Vec<AlertEvent> {
        let mut out = Vec::new();
        if let (Some(rule), Some(last)) = (self.cfg.rule("endpoint-silent"), self.mem.last_received_ms) {
            let w = i64::try_from(rule.window_secs).unwrap_or(i64::MAX).saturating_mul(1000);
            if !self.mem.silent_alerted && now_ms - last > w {
                self.mem.silent_alerted = true;
                let hours = (now_ms - last) / 3_600_000;
                out.push(self.raise_global(
                    "endpoint-silent",
                    rule.severity,
                    format!("no Zoom event for {hours} h (since {}): is the subscription disabled or the receiver down?", format_ms(last)),
                    now_ms,
                ));
            }
        }
        if let (Some(rule), Some(last)) = (self.cfg.rule("validation-overdue"), self.mem.last_validation_ms) {
            let w = i64::try_from(rule.window_secs).unwrap_or(i64::MAX).saturating_mul(1000);
            if !self.mem.validation_alerted && now_ms - last > w {
                self.mem.validation_alerted = true;
                let hours = (now_ms - last) / 3_600_000;
                out.push(self.raise_global("validation-overdue", rule.severity, format!("last URL validation {hours} h ago ({}); Zoom revalidates every 72 h and disables the subscription after 6 failures", format_ms(last)), now_ms));
            }
        }
        out
    }

    fn raise_global(&mut self, rule: &'static str, severity: Severity, reason: String, now_ms: i64) -> AlertEvent {
        let id = hash_id(&[rule, &now_ms.to_string()]);
        AlertEvent::Raised(Box::new(Alert {
            id,
            rule: rule.to_owned(),
            severity,
            reason,
            meeting: None,
            participant: None,
            actor: None,
            record_ids: Vec::new(),
            occurred_at: format_ms(now_ms),
            count: 1,
        }))
    }

    fn track_active(&mut self, r: &RecordV1, after: Presence, meeting: &str) {
        let Some(p) = &r.participant else { return };
        if p.guest {
            return;
        }
        let Some(ident) = session_ident(p) else { return };
        let ident = ident.as_ref();
        if after == Presence::In {
            self.mem.active.join(ident, meeting, p.ip.as_deref());
        } else {
            self.mem.active.leave(ident, meeting);
        }
    }

    /// A meeting ended: the sessions of everyone in it are over, whether or not their
    /// leave comes. (The rules also ask [`in_progress`], so this only frees memory.)
    fn end_sessions(&mut self, mkey: Option<&str>) {
        let Some(m) = mkey.and_then(|k| self.mem.book.meetings.get(k)).filter(|m| !in_progress(&self.mem.book, &m.key)) else {
            return;
        };
        for a in m.attendees.values() {
            let p = &a.participant;
            let Some(ident) = crate::rules::location::identity(p.zoom_user_id(), p.email()) else { continue };
            self.mem.active.leave(&ident, &m.key);
        }
    }
}
