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

use zoomwatch_log::Destination;
use zoomwatch_log::aws::AwsOptions;
use zoomwatch_log::sink::{AnySink, Sink};
use zoomwatch_shared::audit::Outcome;
use zoomwatch_zoomapi::{Action, ApiError, Client, ClientConfig, Lookup, Registrant, SettingsScope};

use crate::clock::now_ms;

pub use zoomwatch_log::audited::{Analyst, Context, Done, audit_file, check_audit, execute, open_audit, write_audit};

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

/// Asks the analyst to confirm `action` unless `--yes` or `--dry-run`; `Err` holds the
/// exit status when not confirmed.
fn confirm(action: &Action, opts: &CliOptions) -> Result<(), u8> {
    if opts.dry_run || opts.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("zoomwatch act: refusing to {} without confirmation (stdin is not a terminal); pass --yes", action.name());
        return Err(EXIT_USAGE);
    }
    eprint!("About to {}\n  {}\nProceed? [y/N] ", action.summary(), action.request());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        eprintln!("zoomwatch act: not confirmed; nothing was done");
        Err(EXIT_REFUSED)
    }
}

/// `zoomwatch act --broker`: the same confirmation, then one signed request; the broker
/// calls Zoom and writes the audit records. Returns the exit status.
async fn run_via_broker(url: &str, aws: &AwsOptions, action: Option<Action>, lookup: Option<Lookup>, opts: &CliOptions) -> u8 {
    use zoomwatch_log::broker::{BrokerClient, BrokerError, BrokerRequest};
    let safe = |s: &str| zoomwatch_shared::text::sanitize(s, 2000).into_owned();
    if let (Some(l), true) = (&lookup, opts.dry_run) {
        println!("dry run: would ask the broker to call {}", l.request());
        return EXIT_DONE;
    }
    let broker = match BrokerClient::new(url, aws).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("zoomwatch act: {}", safe(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    if let Some(a) = &action
        && let Err(code) = confirm(a, opts)
    {
        return code;
    }
    let req = BrokerRequest {
        action: action.clone(),
        lookup: lookup.clone(),
        reason: opts.ctx.reason.clone(),
        alert: opts.ctx.alert_id.clone(),
        dry_run: opts.dry_run,
    };
    let answer = match broker.send(&req).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("zoomwatch act: {}", safe(&e.to_string()));
            return match e {
                BrokerError::NoAnswer(_) => EXIT_REFUSED,
                BrokerError::NotSent(_) | BrokerError::Refused { .. } => EXIT_USAGE,
            };
        }
    };
    if let Some(l) = lookup {
        if !answer.ok {
            eprintln!("zoomwatch act: {}", safe(&answer.line));
            return EXIT_REFUSED;
        }
        let (title, lines) = describe_lookup(&l, answer.body.as_ref().unwrap_or(&Value::Null));
        println!("{}", zoomwatch_shared::text::sanitize(&title, 200));
        for line in lines {
            println!("  {}", zoomwatch_shared::text::sanitize(&line, 400));
        }
        return EXIT_DONE;
    }
    let Some(action) = action else { return EXIT_USAGE };
    if opts.json {
        let mut out = answer.to_json(&action);
        out["broker"] = json!(broker.url());
        println!("{out}");
    } else {
        println!("{}", safe(&answer.line));
        if let Some(e) = &answer.audit_error {
            eprintln!("zoomwatch act: {}", safe(e));
        }
    }
    if answer.ok { EXIT_DONE } else { EXIT_REFUSED }
}

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
    if let Err(e) = check_audit(sink, now_ms()).await {
        eprintln!("zoomwatch act: {e}; nothing was done");
        return EXIT_USAGE;
    }
    if let Err(code) = confirm(action, opts) {
        return code;
    }
    let client = if opts.dry_run { None } else { client };
    if !opts.dry_run && client.is_none() {
        eprintln!("zoomwatch act: no Zoom API client; nothing was done");
        return EXIT_USAGE;
    }
    let done = execute(client, action, analyst, &opts.ctx, Some(sink), &now_ms).await;
    let written = write_audit(sink, done.record.clone()).await;
    let answer = zoomwatch_log::broker::BrokerAnswer::of(&done, written.clone(), analyst, sink.describe());
    if opts.json {
        println!("{}", answer.to_json(action));
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
    /// Act through the action broker at this function URL (the stack's BrokerUrl): it
    /// holds the Zoom credentials, names you after the IAM identity that signs the
    /// request and writes the audit records itself (no --audit, no Zoom credentials).
    #[arg(long, global = true, env = "ZOOMWATCH_BROKER", value_name = "URL")]
    pub broker: Option<String>,
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
    if let Some(url) = &args.broker {
        if args.audit.is_some() || args.log_group.is_some() {
            anyhow::bail!(
                "--broker writes the audit records itself, to its own log group: drop --audit / --log-group (and ZOOMWATCH_AUDIT); nothing was done"
            );
        }
        if args.analyst.is_some() {
            eprintln!("zoomwatch act: --analyst is ignored with --broker: the broker records the IAM identity that signs the request");
        }
        if let Some(a) = &action {
            a.check().map_err(|why| anyhow::anyhow!("{}: {why}; nothing was done", a.name()))?;
        }
        let aws = AwsOptions { profile: args.profile.clone(), region: args.region.clone(), endpoint_url: None };
        let opts = CliOptions {
            yes: args.yes,
            dry_run: args.dry_run,
            json: args.json,
            ctx: Context { reason: args.reason, alert_id: args.alert },
        };
        return Ok(ExitCode::from(run_via_broker(url, &aws, action, wanted, &opts).await));
    }
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
