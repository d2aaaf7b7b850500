//! Response actions through Zoom's REST API, shared by `zoomwatch act …` (the
//! scriptable form, for SOAR playbooks) and the console's action dialog: run one
//! [`Action`] (or show it, with `--dry-run`), then write its `zoomwatch.action` record
//! to the audit destination — the JSONL file or the log group the consoles read.
//! The destination is checked *before* Zoom is called, so no action goes unaudited.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use serde_json::{Value, json};
use std::time::Duration;

use zoomwatch_log::aws::AwsOptions;
use zoomwatch_log::sink::{AnySink, Durability, FileSink, Sink};
use zoomwatch_log::{Destination, OpenOptions, Writer};
use zoomwatch_shared::RecordV1;
use zoomwatch_shared::audit::{self, ActionAudit, Answer, CallInfo, Outcome, Response};
use zoomwatch_zoomapi::{Action, ApiError, Client, ClientConfig, Lookup, Registrant, SettingsScope};

use crate::clock::now_ms;

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
            .or_else(uid_name)
            .unwrap_or_else(|| "unknown".into());
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Self { name, host }
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
    sink: &AnySink,
    opts: &CliOptions,
    now_ms: impl Fn() -> i64,
) -> u8 {
    let req = action.request();
    if let Err(e) = check_audit(sink, now_ms()).await {
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
    let done = execute(client, action, analyst, &opts.ctx, Some(sink), &now_ms).await;
    let record_id = done.record.id.clone();
    let written = write_audit(sink, done.record.clone()).await;
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
        Outcome::Refused | Outcome::Failed | Outcome::Pending => EXIT_REFUSED,
    }
}

/// `zoomwatch act`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "Credentials (Server-to-Server OAuth app), first found wins:\n  \
--credentials FILE / ZOOM_CREDENTIALS_FILE   TOML or JSON with account_id, client_id, client_secret (mode 600)\n  \
ZOOM_CREDENTIALS_SECRET=ID                   the same JSON in AWS Secrets Manager\n  \
ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET\n  \
$XDG_CONFIG_HOME/zoomwatch/zoom-credentials.toml\n\
ZOOM_API_URL and ZOOM_OAUTH_URL override Zoom's endpoints (a proxy, a test stand-in).\n\n\
Exit status: 0 done (or dry run), 1 Zoom refused or the action failed, 2 usage or configuration.\n\
Without a terminal, an action needs --yes. Every action, dry runs included, writes one\n\
zoomwatch.action record to the audit destination, which is checked before Zoom is called.\n\n\
Examples:\n  \
zoomwatch act end-meeting 84512345678 --audit file:events.jsonl\n  \
zoomwatch act deactivate-user jdoe@example.com --yes --json \\\n      \
--reason \"INC-42\" --log-group /zoomwatch/events --analyst ana\n  \
zoomwatch act harden-meeting 84512345678 --require-auth --dry-run \\\n      \
--audit file:audit.jsonl\n  \
zoomwatch act revert-setting account meeting_security.waiting_room \\\n      \
--audit file:events.jsonl")]
pub struct ActArgs {
    /// The action or lookup.
    #[command(subcommand)]
    pub what: ActCommand,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long, global = true)]
    pub yes: bool,
    /// Print the exact request and audit it as a dry run; call nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// One JSON object with the outcome on stdout (for SOAR scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Why (kept in the audit record), e.g. a ticket number.
    #[arg(long, global = true, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The alert this responds to (its id, kept in the audit record).
    #[arg(long, global = true, value_name = "ID")]
    pub alert: Option<String>,
    /// Who is acting (default: the OS user). With --log-group, your IAM user name: the
    /// audit records go to streams named after it, the only ones the template's analyst
    /// policy lets you write.
    #[arg(long, global = true, value_name = "NAME")]
    pub analyst: Option<String>,
    /// Where the audit record goes: file:PATH (JSONL) or log-group:NAME.
    #[arg(long, global = true, env = "ZOOMWATCH_AUDIT", value_name = "DEST")]
    pub audit: Option<String>,
    /// Shorthand for --audit log-group:NAME.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "audit")]
    pub log_group: Option<String>,
    /// Zoom API credentials file (the other sources: `zoomwatch act --help`).
    #[arg(long, global = true, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// AWS profile for a log-group audit destination (Secrets Manager credentials use
    /// the standard chain: AWS_PROFILE, AWS_REGION…).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// CloudWatch Logs endpoint.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// What `zoomwatch act` does.
#[derive(Subcommand, Debug)]
pub enum ActCommand {
    /// End a meeting for everyone (PUT /meetings/{id}/status).
    EndMeeting {
        /// Meeting number or UUID.
        meeting: String,
    },
    /// Waiting room on, join-before-host off, optionally sign-in required and a new
    /// passcode (PATCH /meetings/{id}). Zoom refuses this for a meeting in progress
    /// (code 3000): it protects the next start; end-meeting stops a live one.
    HardenMeeting {
        /// Meeting number.
        meeting: String,
        /// Set this new passcode (never printed or audited). Other users of the machine
        /// can see a command line: prefer --passcode-stdin.
        #[arg(long, value_name = "NEW")]
        passcode: Option<String>,
        /// Read the new passcode from the first line of standard input (needs --yes,
        /// since standard input is then not for confirming).
        #[arg(long, conflicts_with = "passcode")]
        passcode_stdin: bool,
        /// Only signed-in Zoom users may join.
        #[arg(long)]
        require_auth: bool,
    },
    /// Remove a participant from a live meeting (PATCH /live_meetings/{id}/events,
    /// method participant.remove). Not in Zoom's published API reference (only in its
    /// 2026 API-hub spec): zoomwatch sends the documented shape and shows Zoom's answer.
    /// Whether the person may rejoin follows the account's settings.
    RemoveParticipant {
        /// Meeting number or UUID.
        meeting: String,
        /// The participant's participant_uuid (from the join record or live-participants).
        participant_uuid: String,
    },
    /// Deny a registrant (PUT /meetings/{id}/registrants/status, action deny).
    DenyRegistrant {
        /// Meeting number.
        meeting: String,
        /// Registrant id, or email.
        registrant: String,
    },
    /// Deactivate a user: they cannot sign in until reactivated (PUT /users/{id}/status).
    DeactivateUser {
        /// User id or email.
        user: String,
    },
    /// Sign a user out of all Zoom sessions (DELETE /users/{id}/token).
    SignOutUser {
        /// User id or email.
        user: String,
    },
    /// Set one account or group setting back to the policy's compliant value (PATCH
    /// /accounts/me/settings or /groups/{id}/settings, that one setting in the body).
    /// Settings the operation log knows but the API has no field for cannot be reverted.
    RevertSetting {
        /// `account` or `group:GROUP_ID`.
        scope: String,
        /// The setting's API path (meeting_security.waiting_room), CIS id (1.1.1.2) or
        /// portal label; `zoomwatch posture --list` shows them.
        path: String,
        /// Set this value instead of the catalogue's compliant one (JSON: true, 10, "host").
        #[arg(long, value_name = "JSON")]
        value: Option<String>,
    },
    /// Look up a user's role, type and status (GET /users/{id}; read-only, not audited).
    ShowUser {
        /// User id or email.
        user: String,
    },
    /// Who is in a meeting now according to Zoom's Dashboard (a Heavy call, Business
    /// plans and up; read-only, not audited).
    LiveParticipants {
        /// Meeting number or UUID.
        meeting: String,
    },
}

/// The action that sets catalogued setting `name` at `scope` back to its compliant value
/// (or `value`, JSON or a bare word).
pub fn revert_action(scope: &str, name: &str, value: Option<&str>) -> Result<Action> {
    let scope = SettingsScope::parse(scope).map_err(|e| anyhow::anyhow!("revert-setting scope {e}"))?;
    let info = zoomwatch_shared::zoom_settings::by_name(name)
        .ok_or_else(|| anyhow::anyhow!("revert-setting: {name:?} is not a catalogued setting (`zoomwatch posture --list` shows them)"))?;
    let Some(path) = info.api else {
        anyhow::bail!(
            "revert-setting: {:?} ({}) has no field in Zoom's API; it is judged from the operation log only and must be changed in the web portal",
            info.key(),
            info.title
        );
    };
    if matches!(scope, SettingsScope::Group(_)) && !info.scopes.group {
        anyhow::bail!("revert-setting: {path} is an account setting; groups do not have it");
    }
    let value = match value {
        Some(v) => serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned())),
        None => info.secure_value().unwrap_or(Value::Null),
    };
    Ok(Action::SetSetting { scope, path: path.to_owned(), value })
}

/// `zoomwatch act`: one action or lookup; the exit status says how it went
/// ([`EXIT_DONE`], [`EXIT_REFUSED`], [`EXIT_USAGE`]).
pub async fn run(args: ActArgs) -> Result<ExitCode> {
    let wanted = match &args.what {
        ActCommand::ShowUser { user } => Some(Lookup::User { user: user.clone() }),
        ActCommand::LiveParticipants { meeting } => Some(Lookup::LiveParticipants { meeting: meeting.clone() }),
        _ => None,
    };
    let action = match args.what {
        ActCommand::EndMeeting { meeting } => Some(Action::EndMeeting { meeting }),
        ActCommand::HardenMeeting { meeting, passcode, passcode_stdin, require_auth } => {
            let passcode = if passcode_stdin {
                if !args.yes && !args.dry_run {
                    anyhow::bail!("--passcode-stdin reads standard input, so it cannot confirm: pass --yes; nothing was done");
                }
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let p = line.trim_end_matches(['\r', '\n']).to_owned();
                if p.is_empty() {
                    anyhow::bail!("--passcode-stdin: standard input held no passcode; nothing was done");
                }
                Some(p)
            } else {
                passcode
            };
            Some(Action::HardenMeeting { meeting, passcode, require_auth })
        }
        ActCommand::RemoveParticipant { meeting, participant_uuid } => Some(Action::RemoveParticipant { meeting, participant_uuid }),
        ActCommand::DenyRegistrant { meeting, registrant } => {
            Some(Action::DenyRegistrant { meeting, registrant: Registrant::parse(&registrant) })
        }
        ActCommand::DeactivateUser { user } => Some(Action::DeactivateUser { user }),
        ActCommand::SignOutUser { user } => Some(Action::SignOutUser { user }),
        ActCommand::RevertSetting { scope, path, value } => Some(revert_action(&scope, &path, value.as_deref())?),
        ActCommand::ShowUser { .. } | ActCommand::LiveParticipants { .. } => None,
    };
    let new_client = async |file: Option<&std::path::Path>| -> Result<Client> {
        let (creds, _) = zoomwatch_zoomapi::credentials::load(file).await?;
        Ok(Client::new(ClientConfig::from_env(), creds)?.with_progress(Box::new(|line| eprintln!("zoomwatch act: {line}"))))
    };
    if let Some(l) = wanted {
        if args.dry_run {
            println!("dry run: would call {}", l.request());
            return Ok(ExitCode::SUCCESS);
        }
        let client = new_client(args.credentials.as_deref()).await?;
        let client = &client;
        return match lookup(client, &l).await {
            Ok((title, lines)) => {
                println!("{}", zoomwatch_shared::text::sanitize(&title, 200));
                for line in lines {
                    println!("  {}", zoomwatch_shared::text::sanitize(&line, 400));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("zoomwatch act: {}", zoomwatch_shared::text::sanitize(&e.to_string(), 2000));
                Ok(ExitCode::from(EXIT_REFUSED))
            }
        };
    }
    let Some(action) = action else { anyhow::bail!("not an action") };
    action.check().map_err(|why| anyhow::anyhow!("{}: {why}; nothing was done", action.name()))?;
    let dest = match (&args.audit, &args.log_group) {
        (_, Some(g)) => format!("log-group:{g}"),
        (Some(d), None) => d.clone(),
        (None, None) => anyhow::bail!(
            "say where the audit record goes: --audit file:PATH (the receiver's JSONL file) or --log-group NAME (or ZOOMWATCH_AUDIT); nothing was done"
        ),
    };
    let dest = Destination::parse("--audit", &dest).map_err(|_| anyhow::anyhow!("--audit {dest}: expected file:PATH or log-group:NAME"))?;
    let aws = AwsOptions { profile: args.profile.clone(), region: args.region.clone(), endpoint_url: args.endpoint_url.clone() };
    let analyst = Analyst::current(args.analyst.as_deref());
    let sink = open_audit(&dest, aws, &analyst).await.map_err(anyhow::Error::msg)?;
    let client = if args.dry_run { None } else { Some(new_client(args.credentials.as_deref()).await?) };
    let opts =
        CliOptions { yes: args.yes, dry_run: args.dry_run, json: args.json, ctx: Context { reason: args.reason, alert_id: args.alert } };
    let code = run_cli(client.as_ref(), &action, &analyst, &sink, &opts, now_ms).await;
    Ok(ExitCode::from(code))
}
