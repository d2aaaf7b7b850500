//! One audited door for response actions: an intent record (`pending`) is written to
//! the audit destination before Zoom is called, then the outcome record, which names
//! its intent. Used by `zoomwatch act`, the console's action dialog and the action
//! broker (which acts for the IAM identity that signed the request), so every path to
//! Zoom leaves the same trail in the log the SIEM reads.

use std::time::Duration;

use zoomwatch_shared::RecordV1;
use zoomwatch_shared::audit::{self, ActionAudit, Answer, CallInfo, Outcome, Response};
use zoomwatch_zoomapi::{Action, ApiError, Client};

use crate::aws::AwsOptions;
use crate::sink::{AnySink, Durability, FileSink, Sink};
use crate::{Destination, OpenOptions, Writer};

/// Who is acting, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyst {
    /// `--analyst`, else `$USER` / `$LOGNAME`.
    pub name: String,
    /// This machine's host name.
    pub host: Option<String>,
    /// The IAM identity AWS authenticated (the action broker's callers), else `None`:
    /// the name is then self-asserted, and the destination's permissions are the check.
    pub principal: Option<String>,
}

impl Analyst {
    /// `explicit`, else the OS user.
    pub fn current(explicit: Option<&str>) -> Self {
        let name = explicit
            .map(str::to_owned)
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|s| !s.trim().is_empty())
            .or_else(uid_name)
            .unwrap_or_else(|| "unknown".into());
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Self { name, host, principal: None }
    }
}

/// The name of this process's user from the system's user database (when `$USER` is
/// unset, as under cron or a container): `/proc/self/status`'s uid in `/etc/passwd`.
fn uid_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let (name, _, id) = (f.next()?, f.next()?, f.next()?);
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// Opens a JSONL file for action and triage records (created if missing): the local
/// receiver's, so consoles following it see them.
pub fn audit_file(path: &std::path::Path) -> Result<AnySink, String> {
    FileSink::open(path, Durability::Fsync).map(AnySink::File).map_err(|e| format!("cannot open the audit file {}: {e}", path.display()))
}

/// Opens where action and triage records go: a file, or a log group's
/// `zoomwatch-response` streams (standard output is no audit trail).
/// In a log group the streams are the analyst's own (`…/zoomwatch-response/<analyst>/…`):
/// `analyst` must be the IAM user name the template's policy lets write them.
pub async fn open_audit(dest: &Destination, aws: AwsOptions, analyst: &Analyst) -> Result<AnySink, String> {
    match dest {
        Destination::File(path) => audit_file(path),
        Destination::LogGroup(_) => {
            let opts = OpenOptions {
                writer: Writer::Response,
                budget: Duration::from_secs(10),
                durability: Durability::Fsync,
                aws: Some(aws),
                analyst: Some(analyst.name.clone()),
            };
            dest.open(&opts).await.map_err(|e| e.to_string())
        }
        Destination::Stdout => Err("--audit stdout: expected file:PATH or log-group:NAME".to_owned()),
    }
}

/// Checks that audit records can be written to `sink` now.
pub async fn check_audit(sink: &AnySink, now_ms: i64) -> Result<(), String> {
    sink.check(now_ms).await.map_err(|e| format!("cannot write audit records to {}: {e}", sink.describe()))
}

/// Writes one action or triage record.
pub async fn write_audit(sink: &AnySink, record: RecordV1) -> Result<(), String> {
    sink.write(vec![record]).await.map_err(|e| format!("the audit record was not written to {}: {e}", sink.describe()))
}

/// Why and on whose behalf.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `--reason`.
    pub reason: Option<String>,
    /// The alert responded to.
    pub alert_id: Option<String>,
}

/// What became of one action.
#[derive(Debug, Clone)]
pub struct Done {
    /// The `zoomwatch.action` record.
    pub record: RecordV1,
    /// One line for the analyst.
    pub line: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// Runs `action` (or only describes it when `client` is `None`: a dry run) and builds
/// its audit record. With an `audit` sink, a `pending` intent record is written there
/// first, and Zoom is not called unless it was: a process killed mid-call still leaves
/// a trace. The outcome record names the intent (`response.intent`).
pub async fn execute(
    client: Option<&Client>,
    action: &Action,
    analyst: &Analyst,
    ctx: &Context,
    audit_sink: Option<&AnySink>,
    now_ms: impl Fn() -> i64,
) -> Done {
    let req = action.request();
    let call = CallInfo { method: req.method.as_str().to_owned(), path: req.url(""), body: req.shown_body() };
    let base = Response {
        analyst: analyst.name.clone(),
        host: analyst.host.clone(),
        principal: analyst.principal.clone(),
        call: Some(call.clone()),
        reason: ctx.reason.clone(),
        alert_id: ctx.alert_id.clone(),
        ..Response::default()
    };
    let audit_of = |response: Response, at_ms: i64| {
        audit::action_record(&ActionAudit {
            action: action.name().to_owned(),
            meeting: action.meeting().map(str::to_owned),
            user: action.user().map(str::to_owned),
            participant_uuid: action.participant_uuid().map(str::to_owned),
            at_ms,
            response,
        })
    };
    let mut intent = None;
    if let (Some(_), Ok(()), Some(sink)) = (client, action.check(), audit_sink) {
        let pending = Response { outcome: Some(Outcome::Pending), result: Some(format!("sending: {req}")), ..base.clone() };
        let record = audit_of(pending, now_ms());
        let id = record.id.clone();
        if let Err(e) = write_audit(sink, record).await {
            let line = format!("not sent: the intent could not be audited ({e})");
            let response = Response { outcome: Some(Outcome::Refused), result: Some(line.clone()), ..base };
            return Done { record: audit_of(response, now_ms()), line, outcome: Outcome::Refused };
        }
        intent = Some(id);
    }
    let (outcome, answer, line) = match (client, action.check()) {
        (_, Err(why)) => (Outcome::Refused, None, format!("not sent: {why}")),
        (None, Ok(())) => (Outcome::DryRun, None, format!("dry run: would {} — {req}", action.summary())),
        (Some(c), Ok(())) => match c.call(&req, action.name(), action.scope()).await {
            Ok(resp) => {
                let ans = Answer { status: Some(resp.status), ..Answer::default() };
                (Outcome::Succeeded, Some(ans), format!("done: {} (Zoom answered HTTP {})", action.summary(), resp.status))
            }
            Err(e) => {
                let outcome = match e {
                    ApiError::Server { .. } | ApiError::Timeout { .. } | ApiError::Unreachable { .. } | ApiError::BadAnswer { .. } => {
                        Outcome::Failed
                    }
                    _ => Outcome::Refused,
                };
                let ans = e.answer().map_or_else(
                    || Answer { message: Some(e.to_string()), ..Answer::default() },
                    |a| Answer { status: Some(a.status), code: a.code, message: a.message },
                );
                (outcome, Some(ans), e.to_string())
            }
        },
    };
    let response = Response { outcome: Some(outcome), answer, result: Some(line.clone()), intent, ..base };
    Done { record: audit_of(response, now_ms()), line, outcome }
}
