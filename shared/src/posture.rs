//! Policy and posture: which catalogued settings ([`crate::zoom_settings`]) the
//! organization holds itself to (`[policy]` in zoomwatch.toml: everything in the
//! catalogue with an API field, less what it waives, per group if it likes), how an
//! account's settings measure up (`zoomwatch posture` reads them through Zoom's API and
//! hands them here), the `zoomwatch.posture` record that carries the result to the SIEM,
//! and drift: a change, from any source, that moves a checked setting from compliant to
//! not (`policy-drift`), or back.
//!
//! Pure: no clock, no I/O. The command reads Zoom; the rules and the console read records.

use serde_json::{Value, json};

use crate::record::{Category, RecordV1, Severity};
use crate::zoom_settings::{SETTINGS, SettingInfo, by_path, is_secure};

/// The event name of a posture record.
pub const POSTURE_EVENT: &str = "zoomwatch.posture";

/// Where a setting was set or read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The account's own settings.
    Account,
    /// A group, by id (webhooks, the API) and, when known, name (the operation log
    /// names groups, not ids).
    Group {
        /// Group id, when known.
        id: Option<String>,
        /// Group name, when known.
        name: Option<String>,
    },
    /// One user's settings (id or email).
    User(String),
}

impl Scope {
    /// For people: `account`, `group Sales (id …)`, `user …`.
    pub fn describe(&self) -> String {
        match self {
            Self::Account => "account".to_owned(),
            Self::Group { id: Some(id), name: Some(n) } => format!("group {n} ({id})"),
            Self::Group { id: Some(id), name: None } => format!("group {id}"),
            Self::Group { id: None, name: Some(n) } => format!("group {n}"),
            Self::Group { id: None, name: None } => "a group".to_owned(),
            Self::User(u) => format!("user {u}"),
        }
    }

    /// What `zoomwatch act revert-setting` takes: `account` or `group:ID` (`None` for
    /// users, and for a group known only by name).
    pub fn revert_key(&self) -> Option<String> {
        match self {
            Self::Account => Some("account".to_owned()),
            Self::Group { id: Some(id), .. } => Some(format!("group:{id}")),
            _ => None,
        }
    }

    /// A stable key for remembering a scope's state.
    pub fn key(&self) -> String {
        match self {
            Self::Account => "account".to_owned(),
            Self::Group { id: Some(id), .. } => format!("group:{id}"),
            Self::Group { id: None, name } => format!("group-name:{}", name.as_deref().unwrap_or("").to_ascii_lowercase()),
            Self::User(u) => format!("user:{}", u.to_ascii_lowercase()),
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        let (a, b) = match self {
            Self::Group { id, name } => (id.as_deref(), name.as_deref()),
            _ => (None, None),
        };
        a.into_iter().chain(b)
    }
}

/// A group's own waivers and requirements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPolicy {
    /// Group id or name (matched without regard to case).
    pub group: String,
    /// Settings not checked in this group.
    pub waive: Vec<&'static str>,
    /// Settings checked in this group although waived account-wide.
    pub require: Vec<&'static str>,
}

/// The settings policy: every catalogued setting with an API field (the CIS Zoom
/// Benchmark's checks and the hygiene list), less what is waived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPolicy {
    /// Settings (their [`SettingInfo::key`]) not checked anywhere.
    pub waive: Vec<&'static str>,
    /// Per-group changes.
    pub groups: Vec<GroupPolicy>,
}

impl SettingsPolicy {
    /// Whether `info` is checked at `scope`.
    pub fn applies(&self, info: &SettingInfo, scope: &Scope) -> bool {
        let key = info.key();
        let mut on = !self.waive.contains(&key);
        if let Scope::Group { .. } = scope {
            for g in self.groups.iter().filter(|g| scope.names().any(|n| n.eq_ignore_ascii_case(&g.group))) {
                if g.waive.contains(&key) {
                    on = false;
                }
                if g.require.contains(&key) {
                    on = true;
                }
            }
        }
        on
    }
}

/// The value of `info` in a settings document (the sections of `GET …/settings`, with
/// the `meeting_security` and `meeting_authentication` views merged in): its API path,
/// else one of its aliases in a section where Zoom puts it for this scope.
pub fn value_at<'a>(doc: &'a Value, info: &SettingInfo) -> Option<&'a Value> {
    let get = |path: &str| path.split('.').try_fold(doc, |v, k| v.get(k));
    if let Some(v) = info.api.and_then(get) {
        return Some(v);
    }
    for alias in info.aliases {
        if alias.contains('.') {
            if let Some(v) = get(alias) {
                return Some(v);
            }
            continue;
        }
        for (section, body) in doc.as_object().into_iter().flatten() {
            if let Some(v) = body.get(*alias)
                && by_path(&format!("{section}.{alias}")).is_some_and(|f| std::ptr::eq(f, info))
            {
                return Some(v);
            }
        }
    }
    None
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Compliant.
    Pass,
    /// Not compliant.
    Fail,
    /// Zoom did not report the setting for this scope (plan, version, or view).
    Unknown,
}

impl Status {
    /// `pass`, `fail`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Unknown => "unknown",
        }
    }
}

/// One setting checked at one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The setting.
    pub info: &'static SettingInfo,
    /// Where.
    pub scope: Scope,
    /// What Zoom reported.
    pub actual: Option<Value>,
    /// Whether the scope locks it for those below (from the lock settings), if read.
    pub locked: Option<bool>,
    /// The verdict.
    pub status: Status,
}

/// Checks one scope's settings (and lock settings, when read) against `policy`.
pub fn check_scope(scope: &Scope, settings: &Value, locks: Option<&Value>, policy: &SettingsPolicy) -> Vec<Check> {
    let mut out = Vec::new();
    for info in SETTINGS.iter().filter(|s| s.api.is_some()) {
        let fits = match scope {
            Scope::Account => info.scopes.account,
            Scope::Group { .. } => info.scopes.group,
            Scope::User(_) => info.scopes.user,
        };
        if !fits || !policy.applies(info, scope) {
            continue;
        }
        let actual = value_at(settings, info).cloned();
        let status = match actual.as_ref().and_then(|v| is_secure(info, v)) {
            Some(true) => Status::Pass,
            Some(false) => Status::Fail,
            None => Status::Unknown,
        };
        let locked = locks.and_then(|l| value_at(l, info)).and_then(Value::as_bool);
        out.push(Check { info, scope: scope.clone(), actual, locked, status });
    }
    out
}

/// A scope that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// Which.
    pub scope: Scope,
    /// Zoom's answer, in a line.
    pub why: String,
}

/// One posture run: every check, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Posture {
    /// Every check, account first, then groups in the order read.
    pub checks: Vec<Check>,
    /// Scopes that could not be read.
    pub unread: Vec<Unread>,
}

impl Posture {
    /// Checks that failed, worst first.
    pub fn failing(&self) -> Vec<&Check> {
        let mut f: Vec<&Check> = self.checks.iter().filter(|c| c.status == Status::Fail).collect();
        f.sort_by(|a, b| b.info.severity.cmp(&a.info.severity).then_with(|| a.scope.cmp(&b.scope)));
        f
    }

    /// Counts: (pass, fail, unknown).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.checks.iter().filter(|c| c.status == s).count();
        (n(Status::Pass), n(Status::Fail), n(Status::Unknown))
    }

    /// Percent of the decided checks that pass, weighted by severity (high 3, medium 2,
    /// low 1); 100 when nothing was decided.
    pub fn score(&self) -> u32 {
        let w = |s: Severity| match s {
            Severity::High => 3,
            Severity::Medium => 2,
            _ => 1,
        };
        let (mut pass, mut all) = (0u32, 0u32);
        for c in self.checks.iter().filter(|c| c.status != Status::Unknown) {
            all += w(c.info.severity);
            if c.status == Status::Pass {
                pass += w(c.info.severity);
            }
        }
        (pass * 100).checked_div(all).unwrap_or(100)
    }

    /// The result as one JSON object (`--json`, and the record's `raw`).
    pub fn to_json(&self) -> Value {
        let (pass, fail, unknown) = self.counts();
        let check = |c: &Check| {
            json!({
                "control": c.info.key(),
                "title": c.info.title,
                "cis": c.info.cis,
                "scope": c.scope.describe(),
                "scope_key": c.scope.revert_key(),
                "expected": c.info.expected(),
                "actual": c.actual,
                "locked": c.locked,
                "status": c.status.as_str(),
                "severity": c.info.severity.as_str(),
            })
        };
        json!({
            "score": self.score(),
            "passed": pass,
            "failed": fail,
            "unknown": unknown,
            "scopes": self.scopes().iter().map(Scope::describe).collect::<Vec<_>>(),
            "failing": self.failing().into_iter().map(check).collect::<Vec<_>>(),
            "unread": self.unread.iter().map(|u| json!({"scope": u.scope.describe(), "why": u.why})).collect::<Vec<_>>(),
        })
    }

    fn scopes(&self) -> Vec<Scope> {
        let mut s: Vec<Scope> = Vec::new();
        for c in &self.checks {
            if !s.contains(&c.scope) {
                s.push(c.scope.clone());
            }
        }
        s
    }

    /// The `zoomwatch.posture` record of this run: the summary and every failing check
    /// in `raw`, the worst failing severity as the action's level.
    pub fn record(&self, account_id: Option<&str>, at_ms: i64) -> RecordV1 {
        let body = self.to_json();
        let mut h = sha2::Sha256::default();
        sha2::Digest::update(&mut h, POSTURE_EVENT.as_bytes());
        sha2::Digest::update(&mut h, body.to_string().as_bytes());
        sha2::Digest::update(&mut h, at_ms.to_le_bytes());
        let id = hex::encode(&sha2::Digest::finalize(h)[..16]);
        let mut r = RecordV1::own(id, POSTURE_EVENT, Category::Admin, "checked", at_ms, at_ms);
        r.account_id = account_id.map(str::to_owned);
        r.raw = body.into();
        r
    }
}

/// A failing check as a posture record carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failing {
    /// The setting's key (API path).
    pub control: String,
    /// Its title.
    pub title: String,
    /// CIS ids.
    pub cis: Vec<String>,
    /// Where, for people.
    pub scope: String,
    /// `account` / `group:ID`, when it can be reverted there.
    pub scope_key: Option<String>,
    /// The secure value in words.
    pub expected: String,
    /// What Zoom reported.
    pub actual: String,
    /// Severity of the setting.
    pub severity: Severity,
}

/// What a posture record says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Weighted percent passing.
    pub score: u32,
    /// Counts.
    pub passed: u64,
    /// Counts.
    pub failed: u64,
    /// Counts.
    pub unknown: u64,
    /// The failing checks.
    pub failing: Vec<Failing>,
    /// Scopes that could not be read (`scope: why`).
    pub unread: Vec<String>,
}

/// Reads a posture record zoomwatch wrote (`None` for anything else, including a
/// webhook that merely claims the event name).
pub fn summary_of(r: &RecordV1) -> Option<Summary> {
    if r.event != POSTURE_EVENT || r.request.is_some() {
        return None;
    }
    let raw = r.raw.value();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let n = |k: &str| raw.get(k).and_then(Value::as_u64).unwrap_or(0);
    let failing = raw
        .get("failing")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(1000)
        .map(|f| Failing {
            control: s(f, "control"),
            title: s(f, "title"),
            cis: f.get("cis").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
            scope: s(f, "scope"),
            scope_key: f.get("scope_key").and_then(Value::as_str).map(str::to_owned),
            expected: s(f, "expected"),
            actual: f.get("actual").map_or_else(|| "?".to_owned(), |v| if v.is_null() { "?".to_owned() } else { v.to_string() }),
            severity: f.get("severity").and_then(Value::as_str).and_then(Severity::parse).unwrap_or(Severity::Low),
        })
        .collect();
    let unread =
        raw.get("unread").and_then(Value::as_array).into_iter().flatten().map(|u| format!("{}: {}", s(u, "scope"), s(u, "why"))).collect();
    Some(Summary {
        score: u32::try_from(n("score").min(100)).unwrap_or(0),
        passed: n("passed"),
        failed: n("failed"),
        unknown: n("unknown"),
        failing,
        unread,
    })
}

/// One change of a checked setting across the policy's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The setting.
    pub info: &'static SettingInfo,
    /// The path the record's change has (`meeting_security.waiting_room`, or the label's
    /// words for a setting with no API field).
    pub path: String,
    /// Where.
    pub scope: Scope,
    /// Before.
    pub old: Value,
    /// After.
    pub new: Value,
    /// `true` when the change brings the setting back into compliance.
    pub restored: bool,
}

impl Drift {
    /// One line: `waiting room (meeting_security.waiting_room, CIS 1.1.1.2) in account: true → false`.
    pub fn describe(&self) -> String {
        let cis = if self.info.cis.is_empty() { String::new() } else { format!(", CIS {}", self.info.cis.join("/")) };
        format!(
            "{} ({}{cis}) in {}: {} → {}",
            self.info.title,
            crate::text::sanitize(&self.path, 120),
            crate::text::sanitize(&self.scope.describe(), 120),
            crate::text::sanitize(&self.old.to_string(), 40),
            crate::text::sanitize(&self.new.to_string(), 40)
        )
    }
}

/// Where the settings a record changes live: the webhook's kind and `object.id`, or the
/// operation log's own words.
pub fn scope_of(r: &RecordV1) -> Option<Scope> {
    // What of the payload says whose settings these are; nothing else is read. (Each on
    // its own: one that does not fit does not hide the other.)
    #[derive(serde::Deserialize)]
    struct Operation {
        operation_detail: String,
    }
    #[derive(serde::Deserialize)]
    struct Object {
        object: Id,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: Value,
    }
    if r.category != Category::Admin {
        return None;
    }
    if r.event == crate::report::OPERATION_EVENT {
        let detail = r.raw.pick::<Operation>()?.operation_detail;
        let scope = crate::report::parse_detail(&detail, None).scope;
        return Some(match scope.split_once(' ') {
            Some(("group", name)) => Scope::Group { id: None, name: Some(name.to_owned()) },
            Some(("user", u)) => Scope::User(u.to_owned()),
            _ => Scope::Account,
        });
    }
    let id = || {
        r.raw.pick::<Object>().and_then(|o| match o.object.id {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match r.event.as_str() {
        "account.settings_updated" => Some(Scope::Account),
        "group.settings_updated" => Some(Scope::Group { id: id(), name: None }),
        "user.settings_updated" => {
            Some(Scope::User(r.target_user.as_ref().and_then(|t| t.email.clone()).or_else(id).unwrap_or_else(|| "?".to_owned())))
        }
        _ => None,
    }
}

/// Every checked setting `r` moves across the policy's line, either way. Lock changes
/// (`*.lock_settings_updated`) move no value and are not drift.
pub fn drifts(r: &RecordV1, policy: &SettingsPolicy) -> Vec<Drift> {
    let Some(scope) = scope_of(r) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in &r.changes {
        let Some(info) = by_path(&c.path) else { continue };
        if !policy.applies(info, &scope) {
            continue;
        }
        let restored = match (is_secure(info, &c.old), is_secure(info, &c.new)) {
            (Some(true), Some(false)) => false,
            (Some(false), Some(true)) => true,
            _ => continue,
        };
        let path = c.path.strip_prefix("settings.").unwrap_or(&c.path).to_owned();
        out.push(Drift { info, path, scope: scope.clone(), old: c.old.clone(), new: c.new.clone(), restored });
    }
    out
}

/// Compares two posture records of the same account: what newly fails, and what passes
/// again, as (control, scope, failing entry).
pub fn posture_changes<'a>(before: &Summary, after: &'a Summary) -> (Vec<&'a Failing>, Vec<String>) {
    let key = |f: &Failing| (f.control.clone(), f.scope.clone());
    let was: std::collections::HashSet<(String, String)> = before.failing.iter().map(key).collect();
    let now: std::collections::HashSet<(String, String)> = after.failing.iter().map(key).collect();
    let new = after.failing.iter().filter(|f| !was.contains(&key(f))).collect();
    let fixed = before.failing.iter().filter(|f| !now.contains(&key(f))).map(|f| format!("{} in {}", f.control, f.scope)).collect();
    (new, fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoom_settings::by_name;

    #[test]
    fn the_scope_is_read_from_the_payload_as_stored_and_as_built() {
        let admin = |event: &str, raw: Value| {
            let mut r = RecordV1::own("x".into(), event, Category::Admin, "settings_updated", 0, 0);
            r.raw = raw.into();
            r
        };
        let group = |id: Option<&str>| Some(Scope::Group { id: id.map(str::to_owned), name: None });
        let cases = [
            (admin("account.settings_updated", json!({})), Some(Scope::Account)),
            (admin("group.settings_updated", json!({"object": {"id": "g1", "settings": {"a": [1, {"b": 2}]}}})), group(Some("g1"))),
            (admin("group.settings_updated", json!({"object": {"id": 42}})), group(Some("42"))),
            (admin("group.settings_updated", json!({"object": {"id": ""}})), group(None)),
            (admin("group.settings_updated", json!({"object": "not an object"})), group(None)),
            (admin("group.settings_updated", json!({"object": null, "operation_detail": 7})), group(None)),
            (admin("user.settings_updated", json!({"object": {"id": "u9"}})), Some(Scope::User("u9".into()))),
            (admin("user.settings_updated", json!({})), Some(Scope::User("?".into()))),
            (
                admin(
                    crate::report::OPERATION_EVENT,
                    json!({"operation_detail": "Edit Group Hampton - Waiting Room: from On to Off", "object": 1}),
                ),
                Some(Scope::Group { id: None, name: Some("Hampton".into()) }),
            ),
            (
                admin(crate::report::OPERATION_EVENT, json!({"operation_detail": "Edit Account Settings - Waiting Room: from On to Off"})),
                Some(Scope::Account),
            ),
            (admin(crate::report::OPERATION_EVENT, json!({"operation_detail": 3})), None),
            (admin("user.created", json!({"object": {"id": "u1"}})), None),
        ];
        for (r, want) in cases {
            assert_eq!(scope_of(&r), want, "{} {:?}", r.event, r.raw.value());
            // The same payload read back from a stored line (as text).
            let back = crate::lines::parse(crate::lines::to_line(&r).as_bytes()).unwrap();
            assert!(matches!(back.raw, crate::record::RawPayload::Text(_)));
            assert_eq!(scope_of(&back), want, "stored: {} {:?}", r.event, r.raw.value());
        }
    }

    fn account_doc() -> Value {
        json!({
            "meeting_security": {"waiting_room": false, "meeting_password": true, "pmi_password": true, "phone_password": true,
                "embed_password_in_join_link": false, "meeting_password_requirement": {"length": 6}},
            "meeting_authentication": true,
            "in_meeting": {"file_transfer": true, "remote_control": false, "who_can_share_screen": "all"},
            "schedule_meeting": {"join_before_host": false},
            "security": {"password_requirement": {"minimum_password_length": 9}}
        })
    }

    #[test]
    fn a_settings_document_is_checked_against_the_catalogue() {
        let p = SettingsPolicy::default();
        let checks = check_scope(&Scope::Account, &account_doc(), None, &p);
        let status = |key: &str| checks.iter().find(|c| c.info.key() == key).map(|c| c.status);
        assert_eq!(status("meeting_security.waiting_room"), Some(Status::Fail));
        assert_eq!(status("in_meeting.file_transfer"), Some(Status::Fail));
        assert_eq!(status("in_meeting.who_can_share_screen"), Some(Status::Fail));
        assert_eq!(status("in_meeting.remote_control"), Some(Status::Pass));
        assert_eq!(status("meeting_authentication"), Some(Status::Pass));
        assert_eq!(status("meeting_security.meeting_password_requirement.length"), Some(Status::Pass));
        assert_eq!(status("recording.cloud_recording"), Some(Status::Unknown), "not in the document");
        // Operation-log-only settings are not checked: there is nothing to read.
        assert!(checks.iter().all(|c| c.info.api.is_some()));
        let posture = Posture { checks, unread: Vec::new() };
        let (pass, fail, _) = posture.counts();
        assert!(pass > 0 && fail == 3, "{pass} {fail}");
        assert!(posture.score() < 100 && posture.score() > 0);
        assert_eq!(posture.failing()[0].info.key(), "meeting_security.waiting_room", "the high one first");
    }

    #[test]
    fn waivers_account_wide_and_per_group() {
        let wr = by_name("1.1.1.2").unwrap();
        let ft = by_name("in_meeting.file_transfer").unwrap();
        let p = SettingsPolicy {
            waive: vec![ft.key()],
            groups: vec![GroupPolicy { group: "Sales".into(), waive: vec![wr.key()], require: vec![ft.key()] }],
        };
        let sales = Scope::Group { id: Some("g1".into()), name: Some("sales".into()) };
        let other = Scope::Group { id: Some("g2".into()), name: None };
        assert!(!p.applies(ft, &Scope::Account) && p.applies(wr, &Scope::Account));
        assert!(p.applies(ft, &sales) && !p.applies(wr, &sales));
        assert!(!p.applies(ft, &other) && p.applies(wr, &other));
    }

    #[test]
    fn group_spellings_are_found_by_their_aliases() {
        let wr = by_name("meeting_security.waiting_room").unwrap();
        let doc = json!({"in_meeting": {"waiting_room": true}, "schedule_meeting": {"use_pmi_for_schedule_meetings": true}});
        assert_eq!(value_at(&doc, wr), Some(&json!(true)));
        let pmi = by_name("schedule_meeting.use_pmi_for_scheduled_meetings").unwrap();
        assert_eq!(value_at(&doc, pmi), Some(&json!(true)));
        // A leaf of the same name in an unrelated section is not it.
        let chat = by_name("in_meeting.chat").unwrap();
        assert_eq!(value_at(&json!({"recording": {"chat": true}}), chat), None);
    }

    #[test]
    fn a_posture_record_reads_back() {
        let p = Posture { checks: check_scope(&Scope::Account, &account_doc(), None, &SettingsPolicy::default()), unread: Vec::new() };
        let r = p.record(Some("acct"), 1_796_115_600_000);
        let line = serde_json::to_string(&r).unwrap();
        let back: RecordV1 = serde_json::from_str(&line).unwrap();
        let s = summary_of(&back).unwrap();
        assert_eq!((s.score, s.failed), (p.score(), 3));
        assert_eq!(s.failing[0].control, "meeting_security.waiting_room");
        assert_eq!(s.failing[0].scope_key.as_deref(), Some("account"));
        assert_eq!(s.failing[0].cis, ["1.1.1.2"]);
        // A webhook calling itself a posture record is not one.
        let mut fake = back.clone();
        fake.request = Some(Box::default());
        assert!(summary_of(&fake).is_none());
    }
}
