//! The live console (`zoomwatch` with no subcommand): its arguments, its source, the
//! Zoom client and audit destination for responses, and the terminal loop ([`crate::app`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use zoomwatch_log::Destination;
use zoomwatch_shared::filter::Filter;

use crate::args::{ConfigArg, Reading, SourceArgs, start_source};
use crate::clock::now_ms;
use crate::prepare::Preparer;
use crate::settings;
use crate::state::State;
use crate::triage::{self, Triage};

/// The live console.
#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// Where records come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Start with this meeting only: number, uuid, or part of the topic.
    #[arg(long, value_name = "X")]
    pub meeting: Option<String>,
    /// Start with this user only: part of an email, name or id.
    #[arg(long, value_name = "Y")]
    pub user: Option<String>,
    /// Records kept in memory (older ones scroll out; alerts and rosters stay).
    #[arg(long, value_name = "N", default_value_t = crate::state::DEFAULT_RETENTION)]
    pub retention: usize,
    /// Where acknowledged/dismissed/noted alerts are kept
    /// (default: $XDG_STATE_HOME/zoomwatch/triage.json).
    #[arg(long, value_name = "PATH")]
    pub triage_file: Option<PathBuf>,
    /// Your name in action and triage records (default: the OS user).
    #[arg(long, value_name = "NAME")]
    pub analyst: Option<String>,
    /// Zoom API credentials file for response actions (see `zoomwatch act --help`).
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Act through the action broker at this function URL (the stack's BrokerUrl): it
    /// holds the Zoom credentials, records your IAM identity and audits each action.
    #[arg(long, env = "ZOOMWATCH_BROKER", value_name = "URL")]
    pub broker: Option<String>,
    /// Which zoomwatch.toml.
    #[command(flatten)]
    pub config: ConfigArg,
}

/// The filter a console starts with, from `--meeting` and `--user`.
pub fn initial_filter(meeting: Option<&String>, user: Option<&String>) -> String {
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

/// The analyst's triage file (or the default one) and what it holds; an unreadable
/// one is reported and replaced by an empty triage.
pub fn load_triage(path: Option<PathBuf>) -> (Triage, Option<PathBuf>) {
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

/// Zoom API client and audit destination for the console: the destination is the one it
/// reads (the file, or the log group's response streams). Missing pieces leave the
/// console read-only and say why on `r`.
pub async fn responder(args: &ConsoleArgs) -> (crate::app::Responder, Option<String>) {
    use crate::act::{Analyst, audit_file, open_audit};
    let analyst = Analyst::current(args.analyst.as_deref());
    let sink = if let Some(path) = &args.source.file {
        // Never created here: a file the receiver has not made yet takes no actions.
        path.exists().then(|| audit_file(path).ok()).flatten()
    } else if let Some(group) = &args.source.log_group {
        open_audit(&Destination::LogGroup(group.clone()), args.source.aws(), &analyst).await.ok()
    } else {
        None
    };
    if let Some(url) = &args.broker {
        let (broker, why) = match zoomwatch_log::broker::BrokerClient::new(url, &args.source.aws()).await {
            Ok(b) => (Some(std::sync::Arc::new(b)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let sink = sink.map(std::sync::Arc::new);
        return (crate::app::Responder { client: None, broker, sink, analyst: Some(analyst) }, why);
    }
    let (client, why) = match zoomwatch_zoomapi::credentials::load(args.credentials.as_deref()).await {
        Ok((creds, _)) => match zoomwatch_zoomapi::Client::new(zoomwatch_zoomapi::ClientConfig::from_env(), creds) {
            Ok(c) => (Some(std::sync::Arc::new(c)), None),
            Err(e) => (None, Some(e.to_string())),
        },
        Err(e) => (None, Some(e.to_string())),
    };
    let responder = crate::app::Responder { client, broker: None, sink: sink.map(std::sync::Arc::new), analyst: Some(analyst) };
    (responder, why)
}

/// Runs the console until the analyst quits.
pub async fn run(args: ConsoleArgs) -> Result<ExitCode> {
    args.source.check_file()?;
    crate::app::require_terminal()?;
    let s = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    let (triage, triage_path) = load_triage(args.triage_file.clone());
    let initial = initial_filter(args.meeting.as_ref(), args.user.as_ref());
    let filter = Filter::parse(&initial, now_ms()).map_err(anyhow::Error::msg)?;
    let prepare = Arc::new(Preparer::new(s.config.clone(), s.geo.clone()).keeping(args.retention));
    let reading = Reading { filter: Some(&filter), ..Reading::from_start(true) };
    let (label, rx) = start_source(&args.source, reading, prepare).await?;
    let (responder, why) = responder(&args).await;
    let analyst = responder.analyst.as_ref().map(|a| a.name.clone()).unwrap_or_default();
    let unavailable = responder.unavailable(why.as_deref());
    let mut state = State::new(label, s.config, triage, args.retention, now_ms()).with_geo(s.geo).with_respond(analyst, unavailable);
    state.set_filter(&initial).map_err(anyhow::Error::msg)?;
    crate::app::run(state, rx, triage_path, responder).await?;
    Ok(ExitCode::SUCCESS)
}
