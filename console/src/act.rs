//! Response actions through Zoom's REST API, shared by `zoomwatch act …` (the
//! scriptable form, for SOAR playbooks) and the console's action dialog: run one
//! [`Action`] (or show it, with `--dry-run`), then write its `zoomwatch.action` record
//! to the audit destination — the JSONL file or the log group the consoles read.
//! The destination is checked *before* Zoom is called, so no action goes unaudited.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Value, json};
use zoomwatch_ingest::sink::{CloudWatchSink, Durability, FileSink, Sink};
use zoomwatch_shared::RecordV1;
use zoomwatch_shared::audit::{self, ActionAudit, Answer, CallInfo, Outcome, Response};
use zoomwatch_zoomapi::{Action, ApiError, Client, Lookup};

/// Who is acting, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyst {
    /// `--analyst`, else `$USER` / `$LOGNAME`.
    pub name: String,
    /// This machine's host name.
    pub host: Option<String>,
}

impl Analyst {
    /// `explicit`, else the OS user.
    pub fn current(explicit: Option<&str>) -> Self {
        let name = explicit
            .map(str::to_owned)
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "unknown".into());
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Self { name, host }
    }
}

/// Where action and triage records go.
pub enum AuditSink {
    /// A JSONL file (the local receiver's, so consoles following it see the records).
    File(FileSink),
    /// A log group, on the `zoomwatch-response` streams.
    CloudWatch(CloudWatchSink),
}

impl AuditSink {
    /// Opens a JSONL file for appending (created if missing).
    pub fn file(path: &std::path::Path) -> Result<Self, String> {
        FileSink::open(path, Durability::Fsync).map(Self::File).map_err(|e| format!("cannot open the audit file {}: {e}", path.display()))
    }

    /// Checks the destination can be written.
    pub async fn check(&self, now_ms: i64) -> Result<(), String> {
        match self {
            Self::File(_) => Ok(()),
            Self::CloudWatch(s) => s.check(now_ms).await.map_err(|e| format!("cannot write audit records to {}: {e}", s.describe())),
        }
    }

    /// Writes one record.
    pub async fn write(&self, record: RecordV1) -> Result<(), String> {
        let r = match self {
            Self::File(s) => s.write(vec![record]).await,
            Self::CloudWatch(s) => s.write(vec![record]).await,
        };
        r.map_err(|e| format!("the audit record was not written to {}: {e}", self.describe()))
    }

    /// `file:PATH` or `cloudwatch:GROUP`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(s) => s.describe(),
            Self::CloudWatch(s) => s.describe(),
        }
    }
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
/// its audit record.
pub async fn execute(client: Option<&Client>, action: &Action, analyst: &Analyst, ctx: &Context, now_ms: impl Fn() -> i64) -> Done {
    let req = action.request();
    let call = CallInfo { method: req.method.as_str().to_owned(), path: req.url(""), body: req.shown_body() };
    let (outcome, answer, line) = match client {
        None => (Outcome::DryRun, None, format!("dry run: would {} — {req}", action.summary())),
        Some(c) => match c.call(&req, action.name(), action.scope()).await {
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
    let response = Response {
        analyst: analyst.name.clone(),
        host: analyst.host.clone(),
        outcome: Some(outcome),
        call: Some(call),
        answer,
        result: Some(line.clone()),
        reason: ctx.reason.clone(),
        alert_id: ctx.alert_id.clone(),
        ..Response::default()
    };
    let record = audit::action_record(&ActionAudit {
        action: action.name().to_owned(),
        meeting: action.meeting().map(str::to_owned),
        user: action.user().map(str::to_owned),
        participant_uuid: action.participant_uuid().map(str::to_owned),
        at_ms: now_ms(),
        response,
    });
    Done { record, line, outcome }
}

/// Runs a lookup; returns a title and lines to show.
pub async fn lookup(client: &Client, l: &Lookup) -> Result<(String, Vec<String>), ApiError> {
    let resp = client.call(&l.request(), l.name(), l.scope()).await?;
    Ok(describe_lookup(l, &resp.body))
}

/// Formats a lookup's answer (pure; display text is made terminal-safe by the UI).
pub fn describe_lookup(l: &Lookup, body: &Value) -> (String, Vec<String>) {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    match l {
        Lookup::User { user } => {
            let kind = match body.get("type").and_then(Value::as_i64) {
                Some(1) => "Basic".to_owned(),
                Some(2) => "Licensed".to_owned(),
                Some(t) => format!("type {t}"),
                None => "type ?".to_owned(),
            };
            let lines = vec![
                format!("{} {} <{}>", s(body, "first_name"), s(body, "last_name"), s(body, "email")),
                format!("status {} · {kind} · role {}", s(body, "status"), s(body, "role_name").max(s(body, "role_id"))),
                format!("last sign-in {} · client {}", s(body, "last_login_time"), s(body, "last_client_version")),
                format!("id {} · created {}", s(body, "id"), s(body, "user_created_at")),
            ];
            (format!("Zoom user {user}"), lines)
        }
        Lookup::LiveParticipants { meeting } => {
            let list = body.get("participants").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut lines: Vec<String> = list
                .iter()
                .map(|p| {
                    format!(
                        "{} <{}> · {} · {} · {} · uuid {}",
                        s(p, "user_name"),
                        s(p, "email"),
                        s(p, "status"),
                        s(p, "ip_address"),
                        s(p, "location"),
                        s(p, "participant_uuid")
                    )
                })
                .collect();
            let more = !s(body, "next_page_token").is_empty();
            if more {
                lines.push("… more on Zoom's next page (the Dashboard lists 300 per page)".into());
            }
            (format!("Live in meeting {meeting} according to Zoom: {}{}", list.len(), if more { "+" } else { "" }), lines)
        }
    }
}

/// How `zoomwatch act` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// Do not ask.
    pub yes: bool,
    /// Show, do not call.
    pub dry_run: bool,
    /// One JSON object on stdout.
    pub json: bool,
    /// Why and for which alert.
    pub ctx: Context,
}

/// Exit status: done (or dry run).
pub const EXIT_DONE: u8 = 0;
/// Exit status: Zoom refused, or the action failed.
pub const EXIT_REFUSED: u8 = 1;
/// Exit status: usage or configuration.
pub const EXIT_USAGE: u8 = 2;

/// `zoomwatch act`: confirm, run, audit, report. `client` is built by the caller
/// (credentials are not needed for a dry run). Returns the exit status.
pub async fn run_cli(
    client: Option<&Client>,
    action: &Action,
    analyst: &Analyst,
    sink: &AuditSink,
    opts: &CliOptions,
    now_ms: impl Fn() -> i64,
) -> u8 {
    let req = action.request();
    if let Err(e) = sink.check(now_ms()).await {
        eprintln!("zoomwatch act: {e}; nothing was done");
        return EXIT_USAGE;
    }
    if !opts.dry_run && !opts.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("zoomwatch act: refusing to {} without confirmation (stdin is not a terminal); pass --yes", action.name());
            return EXIT_USAGE;
        }
        eprint!("About to {}\n  {req}\nProceed? [y/N] ", action.summary());
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("zoomwatch act: not confirmed; nothing was done");
            return EXIT_REFUSED;
        }
    }
    let client = if opts.dry_run { None } else { client };
    if !opts.dry_run && client.is_none() {
        eprintln!("zoomwatch act: no Zoom API client; nothing was done");
        return EXIT_USAGE;
    }
    let done = execute(client, action, analyst, &opts.ctx, &now_ms).await;
    let record_id = done.record.id.clone();
    let written = sink.write(done.record.clone()).await;
    if opts.json {
        let r = done.record.response.as_deref();
        let out = json!({
            "action": action.name(),
            "outcome": done.outcome.as_str(),
            "ok": matches!(done.outcome, Outcome::Succeeded | Outcome::DryRun),
            "meeting": action.meeting(),
            "user": action.user(),
            "participant_uuid": action.participant_uuid(),
            "call": r.and_then(|r| r.call.clone()),
            "answer": r.and_then(|r| r.answer.clone()),
            "result": done.line,
            "record_id": record_id,
            "audit": sink.describe(),
            "audit_error": written.as_ref().err(),
        });
        println!("{out}");
    } else {
        // Zoom's messages are untrusted text: no escape sequences reach the terminal.
        println!("{}", zoomwatch_shared::text::sanitize(&done.line, 2000));
    }
    if let Err(e) = &written {
        eprintln!("zoomwatch act: {}", zoomwatch_shared::text::sanitize(e, 2000));
    }
    match done.outcome {
        Outcome::Succeeded | Outcome::DryRun if written.is_ok() => EXIT_DONE,
        Outcome::Succeeded | Outcome::DryRun => EXIT_REFUSED,
        Outcome::Refused | Outcome::Failed => EXIT_REFUSED,
    }
}
