//! `zoomwatch` — the analyst's binary: the live console (default), `demo`, `tail` (lines
//! for pipes and scripts) and `check-config`. Parses arguments and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};
use zoomwatch_console::demo::Demo;
use zoomwatch_console::filter::{Filter, Term};
use zoomwatch_console::settings;
use zoomwatch_console::source::cloudwatch;
use zoomwatch_console::source::file::{self, FileSource, Start};
use zoomwatch_console::source::{SourceEvent, Status};
use zoomwatch_console::state::State;
use zoomwatch_console::tail::{Format, Printer, TailOptions};
use zoomwatch_console::triage::{self, Triage};
use zoomwatch_shared::rules::Detector;

/// Live eyes on a Zoom account: reads zoomwatch.v1 records (from the JSONL file written
/// by `zoomwatch-ingest serve`), runs the detections, and shows records and alerts.
#[derive(Parser, Debug)]
#[command(name = "zoomwatch", version, about, long_about = None, args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
zoomwatch demo                                   # everything local, a scripted day\n  \
zoomwatch --file zoomwatch-events.jsonl          # the console on the local receiver's file\n  \
zoomwatch tail --file zoomwatch-events.jsonl --follow\n  \
zoomwatch tail --file zoomwatch-events.jsonl --json --alerts-only | jq .reason\n  \
zoomwatch tail --file events.jsonl --meeting \"all-hands\" --user jdoe@\n  \
zoomwatch --log-group /zoomwatch/events --since 2h --profile security\n  \
zoomwatch act end-meeting 84512345678 --reason \"raid\" --audit file:zoomwatch-events.jsonl\n  \
zoomwatch check-config --config zoomwatch.toml")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    console: ConsoleArgs,
}

/// Where records come from (one of `--file`, `--log-group`).
#[derive(clap::Args, Debug, Clone)]
struct SourceArgs {
    /// JSONL file of records (as written by `zoomwatch-ingest serve --sink file:PATH`).
    #[arg(long, value_name = "PATH", conflicts_with = "log_group")]
    file: Option<PathBuf>,
    /// CloudWatch Logs group the receiver writes to (e.g. /zoomwatch/events).
    #[arg(long, value_name = "NAME")]
    log_group: Option<String>,
    /// With --log-group: read history from this far back (90s, 30m, 1h, 2d, or an RFC 3339 time).
    #[arg(long, default_value = "1h", value_name = "WHEN")]
    since: String,
    /// With --log-group: poll FilterLogEvents once a second instead of using live tail.
    #[arg(long)]
    poll: bool,
    /// AWS profile (else the standard chain: AWS_PROFILE, environment, SSO, instance role…).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// AWS region (else AWS_REGION / the profile's).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// CloudWatch Logs endpoint (VPC endpoint, local emulator); also AWS_ENDPOINT_URL.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

/// The live console.
#[derive(clap::Args, Debug)]
struct ConsoleArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Start with this meeting only: number, uuid, or part of the topic.
    #[arg(long, value_name = "X")]
    meeting: Option<String>,
    /// Start with this user only: part of an email, name or id.
    #[arg(long, value_name = "Y")]
    user: Option<String>,
    /// Records kept in memory (older ones scroll out; alerts and rosters stay).
    #[arg(long, value_name = "N", default_value_t = zoomwatch_console::state::DEFAULT_RETENTION)]
    retention: usize,
    /// Where acknowledged/dismissed/noted alerts are kept
    /// (default: $XDG_STATE_HOME/zoomwatch/triage.json).
    #[arg(long, value_name = "PATH")]
    triage_file: Option<PathBuf>,
    /// Your name in action and triage records (default: the OS user).
    #[arg(long, value_name = "NAME")]
    analyst: Option<String>,
    /// Zoom API credentials file for response actions (see `zoomwatch act --help`).
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run everything locally: receiver, a simulator sending signed webhooks of a
    /// scripted account day over HTTP, and the console on the result.
    Demo(DemoArgs),
    /// Print records and alerts as lines (text or JSON).
    Tail(Box<TailArgs>),
    /// Act through Zoom's REST API (end, harden, remove, deny, deactivate, sign out),
    /// audited as a zoomwatch.action record. Scriptable: --yes, --json, exit status.
    Act(Box<ActArgs>),
    /// Run the detections as a service, with no console open: follow the file or log
    /// group, write every alert as a zoomwatch.alert record for the SIEM, notify.
    Watch(Box<WatchArgs>),
    /// Validate a zoomwatch.toml and print the effective configuration.
    CheckConfig(ConfigArg),
    /// List the detection rules (built-in and custom) with their effective settings, or
    /// write the stateless ones as Sigma rules (--sigma).
    Rules(RulesArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Sigma (--sigma): one YAML document per stateless rule, over Record v1 fields (logsource
product zoom, service zoomwatch). A built-in rule matches the records the receiver flagged
with it (flags.rule), so the SIEM sees exactly what the receiver judged; a custom rule is
compiled from its filter terms. Stateful rules are named in a comment: run `zoomwatch watch`,
whose alerts reach the SIEM as zoomwatch.alert records.

Examples:
  zoomwatch rules
  zoomwatch rules --config zoomwatch.toml --sigma > zoomwatch-sigma.yml")]
struct RulesArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Write the stateless rules as Sigma YAML instead of the table.
    #[arg(long)]
    sigma: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Alert records: one `raised` record per alert, then an `updated` record (same alert.id) each
time it grows (a raid of 8, then 20). Alert ids follow from the records they rest on, so a
replay never raises a second alert; record ids follow from the alert and its count.

Checkpoint: the detector's memory, the alerts written and the place in the source, saved after
each batch that wrote alerts and every 5 s; a restart goes on from it and writes nothing twice.
A checkpoint belongs to one source: use one --checkpoint file per source.

Notifications (--notify, repeatable): a JSON POST in the incoming-webhook shape Slack and Teams
accept ({\"text\": …, \"zoomwatch\": {the alert}}), or that JSON published to an SNS topic\n\
(sns:ARN; message attributes severity and rule, for filter policies); once per alert, retried\n\
with back-off; a failing endpoint never holds up the alert records. Prefer webhook-env:VAR or
webhook-secret:ID to webhook:URL (a command line is visible to other users of the machine).

Examples:
  zoomwatch watch --file zoomwatch-events.jsonl
  zoomwatch watch --file events.jsonl --alerts-to file:alerts.jsonl --notify webhook-env:SLACK_WEBHOOK_URL
  zoomwatch watch --log-group /zoomwatch/events --since 1h --notify webhook-secret:zoomwatch/slack
  zoomwatch watch --log-group /zoomwatch/events --notify sns:arn:aws:sns:eu-west-1:123456789012:soc\n  \
zoomwatch watch --file events.jsonl --once --alerts-to stdout     # cron-style: once, then exit")]
struct WatchArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Where alert records go: file:PATH (JSONL), stdout, or log-group:NAME (streams
    /// …/zoomwatch-watch/…). Default: the source itself — the file, or the log group —
    /// so consoles and the SIEM following it see them.
    #[arg(long, value_name = "DEST")]
    alerts_to: Option<String>,
    /// Checkpoint file (default: $XDG_STATE_HOME/zoomwatch/watch-checkpoint.json).
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// Neither read nor save a checkpoint: start from the beginning (a file) or --since.
    #[arg(long, conflicts_with = "checkpoint")]
    no_checkpoint: bool,
    /// Read what is there now, write its alerts, save the checkpoint and exit.
    #[arg(long)]
    once: bool,
    /// Write alerts at or above this severity: info, low, medium, high.
    #[arg(long, default_value = "low", value_name = "SEV")]
    min_severity: String,
    /// Notify each new alert: sns:TOPIC_ARN, webhook:URL, webhook-env:VAR (URL in a
    /// variable), or webhook-secret:ID (URL in AWS Secrets Manager). Repeatable.
    #[arg(long, value_name = "DEST")]
    notify: Vec<String>,
    /// Notify alerts at or above this severity.
    #[arg(long, default_value = "high", value_name = "SEV")]
    notify_min_severity: String,
    #[command(flatten)]
    config: ConfigArg,
}

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
zoomwatch act end-meeting 84512345678 --audit file:zoomwatch-events.jsonl\n  \
zoomwatch act deactivate-user jdoe@example.com --yes --json --reason \"INC-42\" --log-group /zoomwatch/events\n  \
zoomwatch act harden-meeting 84512345678 --require-auth --dry-run --audit file:audit.jsonl")]
struct ActArgs {
    #[command(subcommand)]
    what: ActCommand,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long, global = true)]
    yes: bool,
    /// Print the exact request and audit it as a dry run; call nothing.
    #[arg(long, global = true)]
    dry_run: bool,
    /// One JSON object with the outcome on stdout (for SOAR scripts).
    #[arg(long, global = true)]
    json: bool,
    /// Why (kept in the audit record), e.g. a ticket number.
    #[arg(long, global = true, value_name = "TEXT")]
    reason: Option<String>,
    /// The alert this responds to (its id, kept in the audit record).
    #[arg(long, global = true, value_name = "ID")]
    alert: Option<String>,
    /// Who is acting (default: the OS user).
    #[arg(long, global = true, value_name = "NAME")]
    analyst: Option<String>,
    /// Where the audit record goes: file:PATH (JSONL) or log-group:NAME.
    #[arg(long, global = true, env = "ZOOMWATCH_AUDIT", value_name = "DEST")]
    audit: Option<String>,
    /// Shorthand for --audit log-group:NAME.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "audit")]
    log_group: Option<String>,
    /// Zoom API credentials file (see below).
    #[arg(long, global = true, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// AWS profile for a log-group audit destination (Secrets Manager credentials use
    /// the standard chain: AWS_PROFILE, AWS_REGION…).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// AWS region.
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// CloudWatch Logs endpoint.
    #[arg(long, global = true, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ActCommand {
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
        /// Set this new passcode (never printed or audited).
        #[arg(long, value_name = "NEW")]
        passcode: Option<String>,
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

#[derive(clap::Args, Debug)]
struct DemoArgs {
    /// Playback speed of the scripted day (1 = real time, about 15 minutes).
    #[arg(long, default_value_t = 10.0, value_name = "N")]
    speed: f64,
    /// Print records and alerts as lines instead of the console (no terminal needed).
    #[arg(long)]
    tail: bool,
    /// Only play the scripted day, signed, against this endpoint (a deployed API, the
    /// Lambda emulator) — secret from ZOOM_WEBHOOK_SECRET_TOKEN; no local receiver.
    #[arg(long, value_name = "URL")]
    send_to: Option<String>,
}

#[derive(clap::Args, Debug)]
struct ConfigArg {
    /// zoomwatch.toml to use (default: $XDG_CONFIG_HOME/zoomwatch/zoomwatch.toml if it
    /// exists, else built-in defaults).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct TailArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Keep following as records arrive (a file: survives rotation and truncation).
    #[arg(long, short = 'f')]
    follow: bool,
    /// With --follow and --file: skip what is already in the file.
    #[arg(long, requires = "follow")]
    from_end: bool,
    /// One JSON object per line: {"kind":"record",...} or {"kind":"alert",...}.
    #[arg(long)]
    json: bool,
    /// Print alerts only.
    #[arg(long)]
    alerts_only: bool,
    /// Only this meeting: number, uuid, or part of the topic.
    #[arg(long, value_name = "X")]
    meeting: Option<String>,
    /// Only this user: part of an email, name or id (participant, operator or target).
    #[arg(long, value_name = "Y")]
    user: Option<String>,
    /// Filter expression; terms all must match: meeting:X user:X type:X sev:>=medium
    /// country:GB asn:29518 (GeoIP), or free text — e.g. "type:joined country:CN".
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

/// mimalloc: the console allocates and frees millions of small strings (records in,
/// evicted records out on a helper thread); glibc's allocator spent a third of the
/// apply time in lock contention and consolidation there (see README, Performance).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
    };
    let result = match cli.command {
        Some(Command::CheckConfig(args)) => check_config(&args),
        Some(Command::Rules(args)) => rules(&args),
        Some(Command::Tail(args)) => runtime().and_then(|rt| rt.block_on(tail(*args))),
        Some(Command::Demo(args)) => runtime().and_then(|rt| rt.block_on(demo(args))),
        Some(Command::Act(args)) => runtime().and_then(|rt| rt.block_on(act(*args))),
        Some(Command::Watch(args)) => runtime().and_then(|rt| rt.block_on(watch(*args))),
        None => runtime().and_then(|rt| rt.block_on(console(cli.console))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn check_config(args: &ConfigArg) -> Result<ExitCode> {
    let s = settings::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    println!("# zoomwatch configuration OK — from {}", s.origin);
    match &s.geo {
        Some(g) => println!("# GeoIP: {}\n", g.describe()),
        None => println!("# GeoIP: none configured (records are not enriched)\n"),
    }
    print!("{}", s.config.describe());
    Ok(ExitCode::SUCCESS)
}

fn rules(args: &RulesArgs) -> Result<ExitCode> {
    let s = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    if args.sigma {
        print!("{}", zoomwatch_shared::rules::sigma::export(&s.config));
        return Ok(ExitCode::SUCCESS);
    }
    println!("# rules in effect — configuration from {}", s.origin);
    println!("{:<28} {:<8} {:<9} {:<10} what it means", "rule", "severity", "runs", "");
    for r in &s.config.rules {
        let state = if r.enabled { "" } else { "(disabled)" };
        println!("{:<28} {:<8} {:<9} {:<10} {}", r.info.id, r.severity.as_str(), r.info.scope.as_str(), state, r.info.summary);
    }
    for c in &s.config.custom_rules {
        let count = if c.count > 0 { format!(" ({} within {} s per {})", c.count, c.window_secs, c.per()) } else { String::new() };
        println!(
            "{:<28} {:<8} {:<9} {:<10} {}: when {}{count}",
            c.id,
            c.severity.as_str(),
            c.scope().as_str(),
            "(custom)",
            c.reason,
            c.when
        );
    }
    Ok(ExitCode::SUCCESS)
}

use zoomwatch_console::app::now_ms;

fn initial_filter(meeting: Option<&String>, user: Option<&String>) -> String {
    let quote = |v: &String| if v.contains(char::is_whitespace) { format!("\"{v}\"") } else { v.clone() };
    let mut terms = Vec::new();
    if let Some(m) = meeting {
        terms.push(format!("meeting:{}", quote(m)));
    }
    if let Some(u) = user {
        terms.push(format!("user:{}", quote(u)));
    }
    terms.join(" ")
}

fn load_triage(path: Option<PathBuf>) -> (Triage, Option<PathBuf>) {
    let path = path.or_else(triage::default_path);
    let t = match path.as_deref().map(Triage::load) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            eprintln!("zoomwatch: {e}; starting with an empty triage");
            Triage::default()
        }
        None => Triage::default(),
    };
    (t, path)
}

/// What a reader asks of its source besides where to read.
#[derive(Default)]
struct Reading {
    /// Prepare records in the source's task (the console).
    prepare: Option<std::sync::Arc<zoomwatch_console::source::Preparer>>,
    /// The filter, for what CloudWatch can apply of it ([`zoomwatch_console::pushdown`]).
    filter: Option<Filter>,
}

/// Starts the configured source; returns its label and channel.
async fn start_source(
    args: &SourceArgs,
    follow: bool,
    from_end: bool,
    reading: Reading,
) -> Result<(String, tokio::sync::mpsc::Receiver<SourceEvent>)> {
    start_source_at(args, follow, if from_end { Start::End } else { Start::Beginning }, None, reading).await
}

/// Like [`start_source`], from a place in a file or (`since_ms`) in a log group.
async fn start_source_at(
    args: &SourceArgs,
    follow: bool,
    start: Start,
    since_ms: Option<i64>,
    reading: Reading,
) -> Result<(String, tokio::sync::mpsc::Receiver<SourceEvent>)> {
    let (tx, rx) = tokio::sync::mpsc::channel(zoomwatch_console::source::CHANNEL_CAPACITY);
    if let Some(path) = &args.file {
        let mut src = FileSource::new(path);
        src.follow = follow;
        src.start = start;
        src.prepare = reading.prepare;
        tokio::spawn(file::run(src, tx));
        return Ok((format!("file:{}", path.display()), rx));
    }
    let Some(group) = &args.log_group else {
        anyhow::bail!(
            "nothing to watch: give --file PATH (the JSONL file of `zoomwatch-ingest serve`) or --log-group NAME, or try `zoomwatch demo`"
        );
    };
    let since_ms = match since_ms {
        Some(t) => t,
        None => cloudwatch::parse_since(&args.since, now_ms()).map_err(anyhow::Error::msg)?,
    };
    let client = logs_client(args.profile.as_ref(), args.region.as_ref(), args.endpoint_url.as_ref()).await?;
    let push = reading.filter.as_ref().map(zoomwatch_console::pushdown::compile).unwrap_or_default();
    let mut opts = cloudwatch::CloudWatchSource::new(group.clone(), since_ms.max(push.start_ms.unwrap_or(i64::MIN)));
    opts.follow = follow;
    opts.poll_only = args.poll;
    opts.prepare = reading.prepare;
    opts.pattern = push.pattern.clone();
    let mut label = format!("cloudwatch:{group}");
    if let Some(p) = &push.pattern {
        label.push_str(&format!(" (only events matching {p})"));
    }
    tokio::spawn(cloudwatch::run(client, opts, tx));
    Ok((label, rx))
}

/// Whether the shared AWS config or credentials file defines profile `name`
/// (`[profile name]` / `[name]`), where the SDK looks for them.
fn aws_profile_defined(name: &str) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let config = std::env::var_os("AWS_CONFIG_FILE").map_or_else(|| home.join(".aws/config"), PathBuf::from);
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").map_or_else(|| home.join(".aws/credentials"), PathBuf::from);
    [config, creds].iter().filter_map(|f| std::fs::read_to_string(f).ok()).any(|text| {
        text.lines().map(str::trim).any(|l| {
            let inner = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')).map(str::trim);
            inner.is_some_and(|i| i == name || i.strip_prefix("profile").map(str::trim) == Some(name))
        })
    })
}

/// A CloudWatch Logs client from the standard AWS chain and the flags.
async fn logs_client(
    profile: Option<&String>,
    region: Option<&String>,
    endpoint: Option<&String>,
) -> Result<aws_sdk_cloudwatchlogs::Client> {
    let named = profile.cloned().or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    if let Some(p) = named.as_deref()
        && !aws_profile_defined(p)
    {
        anyhow::bail!(
            "AWS profile {p:?} is not defined in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE): check the name with `aws configure list-profiles`"
        );
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(u) = endpoint {
        loader = loader.endpoint_url(u);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        anyhow::bail!("no AWS region: pass --region, or set AWS_REGION / a profile with a region");
    }
    let custom_endpoint = endpoint.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
    Ok(cloudwatch::client(&sdk, custom_endpoint))
}

async fn act(args: ActArgs) -> Result<ExitCode> {
    use zoomwatch_console::act::{self, AuditSink, CliOptions, Context};
    use zoomwatch_zoomapi::{Action, Client, ClientConfig, Lookup, Registrant};
    let lookup = match &args.what {
        ActCommand::ShowUser { user } => Some(Lookup::User { user: user.clone() }),
        ActCommand::LiveParticipants { meeting } => Some(Lookup::LiveParticipants { meeting: meeting.clone() }),
        _ => None,
    };
    let action = match args.what {
        ActCommand::EndMeeting { meeting } => Some(Action::EndMeeting { meeting }),
        ActCommand::HardenMeeting { meeting, passcode, require_auth } => Some(Action::HardenMeeting { meeting, passcode, require_auth }),
        ActCommand::RemoveParticipant { meeting, participant_uuid } => Some(Action::RemoveParticipant { meeting, participant_uuid }),
        ActCommand::DenyRegistrant { meeting, registrant } => {
            Some(Action::DenyRegistrant { meeting, registrant: Registrant::parse(&registrant) })
        }
        ActCommand::DeactivateUser { user } => Some(Action::DeactivateUser { user }),
        ActCommand::SignOutUser { user } => Some(Action::SignOutUser { user }),
        ActCommand::ShowUser { .. } | ActCommand::LiveParticipants { .. } => None,
    };
    let new_client = async |file: Option<&std::path::Path>| -> Result<Client> {
        let (creds, _) = zoomwatch_zoomapi::credentials::load(file).await?;
        Ok(Client::new(ClientConfig::from_env(), creds)?.with_progress(Box::new(|line| eprintln!("zoomwatch act: {line}"))))
    };
    if let Some(l) = lookup {
        if args.dry_run {
            println!("dry run: would call {}", l.request());
            return Ok(ExitCode::SUCCESS);
        }
        let client = new_client(args.credentials.as_deref()).await?;
        let client = &client;
        return match act::lookup(client, &l).await {
            Ok((title, lines)) => {
                println!("{}", zoomwatch_shared::text::sanitize(&title, 200));
                for line in lines {
                    println!("  {}", zoomwatch_shared::text::sanitize(&line, 400));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("zoomwatch act: {}", zoomwatch_shared::text::sanitize(&e.to_string(), 2000));
                Ok(ExitCode::from(act::EXIT_REFUSED))
            }
        };
    }
    let Some(action) = action else { anyhow::bail!("not an action") };
    let dest = match (&args.audit, &args.log_group) {
        (_, Some(g)) => format!("log-group:{g}"),
        (Some(d), None) => d.clone(),
        (None, None) => anyhow::bail!(
            "say where the audit record goes: --audit file:PATH (the receiver's JSONL file) or --log-group NAME (or ZOOMWATCH_AUDIT); nothing was done"
        ),
    };
    let sink = if let Some(path) = dest.strip_prefix("file:") {
        AuditSink::file(std::path::Path::new(path)).map_err(anyhow::Error::msg)?
    } else if let Some(group) = dest.strip_prefix("log-group:") {
        let client = logs_client(args.profile.as_ref(), args.region.as_ref(), args.endpoint_url.as_ref()).await?;
        AuditSink::CloudWatch(zoomwatch_ingest::sink::CloudWatchSink::for_responses(client, group, Duration::from_secs(10)))
    } else {
        anyhow::bail!("--audit {dest}: expected file:PATH or log-group:NAME");
    };
    let client = if args.dry_run { None } else { Some(new_client(args.credentials.as_deref()).await?) };
    let analyst = act::Analyst::current(args.analyst.as_deref());
    let opts =
        CliOptions { yes: args.yes, dry_run: args.dry_run, json: args.json, ctx: Context { reason: args.reason, alert_id: args.alert } };
    let code = act::run_cli(client.as_ref(), &action, &analyst, &sink, &opts, now_ms).await;
    Ok(ExitCode::from(code))
}

/// Zoom API client and audit destination for the console: the destination is the one it
/// reads (the file, or the log group's response streams). Missing pieces leave the
/// console read-only and say why on `r`.
async fn console_responder(args: &ConsoleArgs) -> (zoomwatch_console::app::Responder, Option<String>) {
    use zoomwatch_console::act::{Analyst, AuditSink};
    let sink = if let Some(path) = &args.source.file {
        AuditSink::file(path).ok()
    } else if let Some(group) = &args.source.log_group {
        let src = &args.source;
        logs_client(src.profile.as_ref(), src.region.as_ref(), src.endpoint_url.as_ref())
            .await
            .ok()
            .map(|c| AuditSink::CloudWatch(zoomwatch_ingest::sink::CloudWatchSink::for_responses(c, group, Duration::from_secs(10))))
    } else {
        None
    };
    let (client, why) = match zoomwatch_zoomapi::credentials::load(args.credentials.as_deref()).await {
        Ok((creds, _)) => match zoomwatch_zoomapi::Client::new(zoomwatch_zoomapi::ClientConfig::from_env(), creds) {
            Ok(c) => (Some(std::sync::Arc::new(c)), None),
            Err(e) => (None, Some(e.to_string())),
        },
        Err(e) => (None, Some(e.to_string())),
    };
    let responder = zoomwatch_console::app::Responder {
        client,
        sink: sink.map(std::sync::Arc::new),
        analyst: Some(Analyst::current(args.analyst.as_deref())),
    };
    (responder, why)
}

async fn console(args: ConsoleArgs) -> Result<ExitCode> {
    zoomwatch_console::app::require_terminal()?;
    let s = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    let (triage, triage_path) = load_triage(args.triage_file.clone());
    let initial = initial_filter(args.meeting.as_ref(), args.user.as_ref());
    let filter = Filter::parse(&initial).map_err(anyhow::Error::msg)?;
    let prepare = std::sync::Arc::new(zoomwatch_console::source::Preparer::new(s.config.clone(), s.geo.clone()));
    let (label, rx) = start_source(&args.source, true, false, Reading { prepare: Some(prepare), filter: Some(filter) }).await?;
    let (responder, why) = console_responder(&args).await;
    let analyst = responder.analyst.as_ref().map(|a| a.name.clone()).unwrap_or_default();
    let unavailable = responder.unavailable(why.as_deref());
    let mut state = State::new(label, s.config, triage, args.retention, now_ms()).with_geo(s.geo).with_respond(analyst, unavailable);
    state.set_filter(&initial).map_err(anyhow::Error::msg)?;
    zoomwatch_console::app::run(state, rx, triage_path, responder).await?;
    Ok(ExitCode::SUCCESS)
}

async fn demo(args: DemoArgs) -> Result<ExitCode> {
    if let Some(url) = &args.send_to {
        let secrets = zoomwatch_ingest::config::load_secrets(None)?;
        let sender = zoomwatch_ingest::send::Sender::new(url, secrets.primary().clone())?;
        let (sent, ok) = zoomwatch_console::demo::play(&sender, args.speed, |event, _, outcome| match outcome {
            Ok(status) => println!("{status} {event}"),
            Err(e) => println!("ERR {event} {e}"),
        })
        .await;
        eprintln!("zoomwatch demo: {ok} of {sent} webhooks accepted by {url}");
        return Ok(if ok == sent { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if !args.tail {
        zoomwatch_console::app::require_terminal().map_err(|e| anyhow::anyhow!("{e}; or run `zoomwatch demo --tail`"))?;
    }
    let demo = Demo::start(args.speed).await?;
    let mut rx = demo.source();
    if args.tail {
        eprintln!("zoomwatch demo: receiver {} → {} (Ctrl-C stops)", demo.url, demo.path.display());
        let opts = TailOptions { format: Format::Text, alerts_only: false, filter: Filter::default() };
        let mut printer = Printer::new(Detector::new(demo.config.clone()), opts);
        let stdout = std::io::stdout();
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(SourceEvent::Records(b)) => {
                        let mut out = stdout.lock();
                        printer.records(b, &mut out)?;
                        out.flush()?;
                    }
                    Some(_) => {}
                    None => break,
                },
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if demo.finished() {
                        // Let the last records reach the file and the tailer.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        while let Ok(ev) = rx.try_recv() {
                            if let SourceEvent::Records(b) = ev {
                                printer.records(b, &mut stdout.lock())?;
                            }
                        }
                        break;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        let (sent, ok) = demo.stop().await;
        eprintln!("zoomwatch demo: {ok} of {sent} webhooks accepted; {} records, {} alerts", printer.stats.records, printer.stats.alerts);
        return Ok(ExitCode::SUCCESS);
    }
    let (triage, _) = load_triage(None);
    let label = format!("demo {}", demo.url.trim_end_matches("/zoom/webhook"));
    let analyst = zoomwatch_console::act::Analyst::current(None);
    let state = State::new(label, demo.config.clone(), triage, zoomwatch_console::state::DEFAULT_RETENTION, now_ms())
        .with_respond(analyst.name.clone(), None);
    let responder = demo.responder(analyst)?;
    // Demo verdicts are not written into the analyst's real triage file.
    let result = zoomwatch_console::app::run(state, rx, None, responder).await;
    demo.stop().await;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The label a watcher's checkpoint is tied to.
fn source_label(args: &SourceArgs) -> Result<String> {
    match (&args.file, &args.log_group) {
        (Some(p), _) => Ok(format!("file:{}", std::path::absolute(p).unwrap_or_else(|_| p.clone()).display())),
        (None, Some(g)) => Ok(format!("log-group:{g}")),
        (None, None) => anyhow::bail!("nothing to watch: give --file PATH (the receiver's JSONL file) or --log-group NAME"),
    }
}

fn severity_arg(flag: &str, v: &str) -> Result<zoomwatch_shared::Severity> {
    zoomwatch_shared::Severity::parse(v).ok_or_else(|| anyhow::anyhow!("{flag} {v}: expected info, low, medium or high"))
}

/// The alert records in the last 8 MiB of `path` (nothing if it cannot be read).
fn alert_records_at_end(path: &std::path::Path) -> Vec<zoomwatch_shared::RecordV1> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 8 << 20;
    let Ok(mut f) = std::fs::File::open(path) else { return Vec::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(len.saturating_sub(TAIL))).is_err() || f.read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    buf.split(|b| *b == b'\n')
        .skip(usize::from(len > TAIL)) // a partial first line
        .filter(|l| l.windows(17).any(|w| w == b"\"zoomwatch.alert\""))
        .filter_map(|l| zoomwatch_console::lines::parse(l).ok())
        .collect()
}

async fn watch(args: WatchArgs) -> Result<ExitCode> {
    use std::sync::Arc;
    use zoomwatch_console::watch::{self, Cursor, RunOptions, Watcher};
    use zoomwatch_ingest::sink::{AnySink, Durability, FileSink, StdoutSink};
    let settings::Settings { config: cfg, geo, .. } = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    let min = severity_arg("--min-severity", &args.min_severity)?;
    let notify_min = severity_arg("--notify-min-severity", &args.notify_min_severity)?;
    let label = source_label(&args.source)?;
    let log: watch::Log = Arc::new(|line: String| eprintln!("zoomwatch watch: {line}"));

    let checkpoint = if args.no_checkpoint { None } else { args.checkpoint.clone().or_else(watch::default_checkpoint) };
    let mut watcher = match checkpoint.as_deref().map(std::fs::read) {
        Some(Ok(bytes)) => Watcher::resume(cfg.clone(), &bytes, &label, min).map_err(|e| {
            anyhow::anyhow!(
                "{e} ({}); pass another --checkpoint for this source, or --no-checkpoint",
                checkpoint.as_deref().unwrap_or(std::path::Path::new("?")).display()
            )
        })?,
        Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot read the checkpoint {}: {e}", checkpoint.as_deref().unwrap_or(std::path::Path::new("?")).display())
        }
        _ => Watcher::new(Detector::new(cfg.clone()), &label, min),
    }
    .with_geo(geo);
    let (start, since) = match watcher.cursor() {
        Cursor::File { inode, offset } => (Start::At(zoomwatch_console::source::Position { inode, offset }), None),
        Cursor::LogGroup { through_ms } => (Start::Beginning, Some(through_ms - watch::LOG_GROUP_OVERLAP_MS)),
        Cursor::Start => (Start::Beginning, None),
    };
    if watcher.cursor() != Cursor::Start {
        log(format!("resuming from the checkpoint ({} records read before)", watcher.total_records()));
    }

    let dest = match (&args.alerts_to, &args.source.file, &args.source.log_group) {
        (Some(d), _, _) => d.clone(),
        (None, Some(p), _) => format!("file:{}", p.display()),
        (None, None, Some(g)) => format!("log-group:{g}"),
        (None, None, None) => unreachable!("source_label checked"),
    };
    let same = |p: &str| std::path::absolute(p).ok() == args.source.file.as_ref().and_then(|f| std::path::absolute(f).ok());
    let to_source = match dest.split_once(':') {
        Some(("file", p)) => same(p),
        Some(("log-group", g)) => args.source.log_group.as_deref() == Some(g),
        _ => false,
    };
    watcher = watcher.writing_to_source(to_source);
    let sink = if let Some(path) = dest.strip_prefix("file:") {
        // What an earlier run wrote but did not checkpoint (it was killed in between):
        // at most the last batch, at the end of the file.
        watcher.already_written(&alert_records_at_end(std::path::Path::new(path)));
        AnySink::File(FileSink::open(path, Durability::Fsync).map_err(|e| anyhow::anyhow!("cannot open {path} for alert records: {e}"))?)
    } else if dest == "stdout" {
        AnySink::Stdout(StdoutSink::new())
    } else if let Some(group) = dest.strip_prefix("log-group:") {
        let src = &args.source;
        let client = logs_client(src.profile.as_ref(), src.region.as_ref(), src.endpoint_url.as_ref()).await?;
        let s = zoomwatch_ingest::sink::CloudWatchSink::for_watch(client, group, Duration::from_secs(10));
        s.check(now_ms()).await.map_err(|e| anyhow::anyhow!("cannot write alert records to log group {group}: {e}"))?;
        AnySink::CloudWatch(s)
    } else {
        anyhow::bail!("--alerts-to {dest}: expected file:PATH, stdout or log-group:NAME");
    };
    let mut notifiers = Vec::new();
    for spec in &args.notify {
        let src = &args.source;
        let hook = zoomwatch_console::notify::Target::parse(spec, src.profile.as_deref(), src.region.as_deref())
            .await
            .map_err(anyhow::Error::msg)?;
        let l = log.clone();
        notifiers.push(zoomwatch_console::notify::Notifier::start(hook, notify_min, move |line| l(line)).map_err(anyhow::Error::msg)?);
    }

    let (_, rx) = start_source_at(&args.source, !args.once, start, since, Reading::default()).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
        let _ = stop_tx.send(true);
    });
    let to: Vec<String> = notifiers.iter().map(|n| n.describe().to_owned()).collect();
    log(format!(
        "{label} → alerts at {} and above to {}{}{}",
        min.as_str(),
        zoomwatch_shared::text::sanitize(&dest, 200),
        if to.is_empty() { String::new() } else { format!("; notifying {} ({} and above)", to.join(", "), notify_min.as_str()) },
        checkpoint.as_ref().map(|p| format!("; checkpoint {}", p.display())).unwrap_or_default()
    ));
    let opts = RunOptions { checkpoint, tick: (!args.once).then_some(Duration::from_secs(10)), now_ms };
    let result = watch::run(&mut watcher, rx, &sink, &notifiers, &opts, log.clone(), stop_rx).await;
    for n in &mut notifiers {
        n.finish(Duration::from_secs(30)).await;
    }
    let s = watcher.stats;
    let mut summary = format!("{} records read; {} alert records written ({} raised)", s.records, s.written, s.raised);
    for n in &notifiers {
        use std::sync::atomic::Ordering::Relaxed;
        let st = &n.stats;
        summary.push_str(&format!(
            "; {}: {} sent, {} failed, {} dropped",
            n.describe(),
            st.sent.load(Relaxed),
            st.failed.load(Relaxed),
            st.dropped.load(Relaxed)
        ));
    }
    log(summary);
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            log(e);
            Ok(ExitCode::from(1))
        }
    }
}

async fn tail(args: TailArgs) -> Result<ExitCode> {
    let settings::Settings { config: cfg, geo, .. } = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    if cfg.internal_domains.is_empty() {
        eprintln!("zoomwatch: {}", zoomwatch_console::state::NO_INTERNAL_DOMAINS);
    }
    let mut filter = Filter::parse(args.filter.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
    if let Some(m) = &args.meeting {
        filter = filter.with(Term::Meeting(m.to_lowercase()));
    }
    if let Some(u) = &args.user {
        filter = filter.with(Term::User(u.to_lowercase()));
    }
    let opts = TailOptions { format: if args.json { Format::Json } else { Format::Text }, alerts_only: args.alerts_only, filter };
    let reading = Reading { prepare: None, filter: Some(opts.filter.clone()) };
    let window_start = zoomwatch_console::pushdown::compile(&opts.filter).start_ms.unwrap_or(i64::MIN);
    let mut printer = Printer::new(Detector::new(cfg), opts).with_geo(geo);

    // The bar covers the window the read starts from (a log group), else counts only.
    let since_ms = match &args.source.log_group {
        Some(_) => {
            let since = cloudwatch::parse_since(&args.source.since, now_ms()).map_err(anyhow::Error::msg)?;
            Some(since.max(window_start))
        }
        None => None,
    };
    let mut progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| zoomwatch_console::tail::Progress::new(since_ms));
    let (_, mut rx) = start_source(&args.source, args.follow, args.from_end, reading).await?;

    let stdout = std::io::stdout();
    let stdout_is_terminal = std::io::IsTerminal::is_terminal(&stdout);
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut failed_to_open = None;
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                if let Some(p) = progress.as_mut() {
                    match &ev {
                        SourceEvent::Records(batch) => {
                            let newest = batch.iter().filter_map(|r| zoomwatch_shared::timefmt::parse_rfc3339_ms(&r.received_at)).max();
                            p.read(batch.len(), newest);
                            // Lines about to go to the same terminal: out of their way.
                            if stdout_is_terminal { p.clear(&mut std::io::stderr()); }
                        }
                        SourceEvent::Status(Status::Live | Status::Done) => p.finish(&mut std::io::stderr()),
                        SourceEvent::Status(Status::Waiting(_) | Status::Reconnecting(_)) => p.clear(&mut std::io::stderr()),
                        _ => {}
                    }
                }
                let mut out = stdout.lock();
                let written = match ev {
                    SourceEvent::Records(batch) => printer.records(batch, &mut out),
                    SourceEvent::Prepared(batch) => printer.records(batch.into_iter().map(|p| p.record).collect(), &mut out),
                    SourceEvent::Skipped(n) => { printer.stats.skipped += n; Ok(()) }
                    SourceEvent::Status(Status::Done) => break,
                    SourceEvent::Status(Status::Waiting(why)) => {
                        if args.follow { eprintln!("zoomwatch: {why}"); } else { failed_to_open = Some(why); }
                        Ok(())
                    }
                    SourceEvent::Status(Status::Reconnecting(why)) => { eprintln!("zoomwatch: {why}"); Ok(()) }
                    SourceEvent::Status(_) | SourceEvent::Position(_) => Ok(()),
                };
                let written = written.and_then(|()| out.flush());
                drop(out);
                if let Some(p) = progress.as_mut() { p.draw(now_ms(), &mut std::io::stderr()); }
                if let Err(e) = written {
                    // A closed pipe (`| head`) is a normal way to stop.
                    if e.kind() == std::io::ErrorKind::BrokenPipe { return Ok(ExitCode::SUCCESS); }
                    return Err(e.into());
                }
            }
            _ = tick.tick(), if args.follow => {
                let mut out = stdout.lock();
                printer.tick(now_ms(), &mut out)?;
            }
        }
    }
    if let Some(why) = failed_to_open {
        anyhow::bail!("{why}");
    }
    let s = printer.stats;
    if s.skipped > 0 {
        eprintln!("zoomwatch: {} records, {} alerts; {} lines skipped (not zoomwatch.v1 records)", s.records, s.alerts, s.skipped);
    }
    Ok(ExitCode::SUCCESS)
}
