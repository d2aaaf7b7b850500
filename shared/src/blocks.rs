//! The parts of Record v1 that zoomwatch's own writers fill — the `alert` block of
//! `zoomwatch.alert` records and the `response` block of action and triage records —
//! and the severity scale they share with flags. A leaf: [`crate::record`] holds these
//! in its fields, and [`crate::alert`] and [`crate::audit`] build the records.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How much attention a finding deserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context, no action expected.
    #[default]
    Info,
    /// Worth a look when time allows.
    Low,
    /// Look today.
    Medium,
    /// Look now.
    High,
}

impl Severity {
    /// The serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// One step less (info stays info).
    pub fn lower(self) -> Self {
        match self {
            Self::High => Self::Medium,
            Self::Medium => Self::Low,
            Self::Low | Self::Info => Self::Info,
        }
    }

    /// Parses `info|low|medium|high` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Some(Self::Info),
            "low" => Some(Self::Low),
            "medium" | "med" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

/// The `alert` block of a `zoomwatch.alert` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBlock {
    /// The alert's stable id (the same in every update).
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Severity (the highest of its findings).
    pub severity: Severity,
    /// The latest finding's reason (a growing raid states its new size).
    pub reason: String,
    /// Records it rests on (the first 200).
    pub record_ids: Vec<String>,
    /// Payload time of the first finding.
    pub first_seen: String,
    /// Payload time of the latest finding.
    pub last_seen: String,
    /// Findings grouped into it.
    pub count: u32,
    /// 0 when raised, then 1, 2, … for each update written.
    pub update: u32,
    /// What was watched (`file:PATH`, `log-group:NAME`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// HMAC-SHA256 (hex) of the id, count, update and rule under the writing watcher's
    /// key (kept in its private checkpoint): a watcher trusts an alert record read back
    /// as its own only with this seal, so a forged line cannot mark an alert written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// About to be sent: the intent, written before Zoom is called. A pending record
    /// with no outcome record naming it (`response.intent`) means the process died
    /// mid-call: the action may or may not have happened.
    Pending,
    /// `--dry-run`: shown, not sent.
    DryRun,
    /// Zoom accepted it (2xx).
    Succeeded,
    /// Zoom refused it (4xx, rate limit, missing scope).
    Refused,
    /// No clear answer (5xx, timeout, unreachable): it may or may not have happened.
    Failed,
}

impl Outcome {
    /// The serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::DryRun => "dry_run",
            Self::Succeeded => "succeeded",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// The call that was (or would have been) made. Passcodes are already redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallInfo {
    /// HTTP method.
    pub method: String,
    /// Path below the API base, as sent (encoded).
    pub path: String,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// What Zoom answered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answer {
    /// HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Zoom's error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Zoom's message, or ours when Zoom said nothing (timeout, unreachable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The `response` block of action and triage records.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Response {
    /// Who acted: `--analyst`, else the OS user.
    pub analyst: String,
    /// Host the action was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Action records: how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Action records: the Zoom API call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallInfo>,
    /// Action records: Zoom's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// Action records: the id of the `pending` record written before the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Action records: the one-line result shown to the analyst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Why (`--reason`, or the alert acted on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The alert this responds to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    /// Triage records: `new`, `acked`, `dismissed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Triage records: the note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Action records written by the action broker: the IAM identity (ARN) that signed
    /// the request, as AWS authenticated it; `analyst` is its user or session name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}
