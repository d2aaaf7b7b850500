//! `zoomwatch-ingest` — the receiver binary. Parses arguments and wires the library:
//! `serve` (local HTTP server), `send` (sign and post bodies). See `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand};
use zoomwatch_ingest::config::{ReceiverConfig, load_rules, load_secrets, parse_size};
use zoomwatch_ingest::send::Sender;
use zoomwatch_ingest::{router, server};
use zoomwatch_log::sink::{AnySink, Durability};
use zoomwatch_log::{Destination, OpenOptions, Writer};

/// Receives Zoom webhooks, verifies their signatures, and stores each event as one
/// Record v1 JSON line (zoomwatch.v1).
#[derive(Parser, Debug)]
#[command(name = "zoomwatch-ingest", version, about, long_about = None,
    after_help = "The webhook secret token is read from ZOOM_WEBHOOK_SECRET_TOKEN (comma-separated \
for a rotation: new,old) or from --secret-file. It is never printed or logged.\n\n\
Examples:\n  \
ZOOM_WEBHOOK_SECRET_TOKEN=... zoomwatch-ingest serve --sink file:events.jsonl\n  \
ZOOM_WEBHOOK_SECRET_TOKEN=... zoomwatch-ingest send \\\n      \
--url http://127.0.0.1:8787/zoom/webhook testdata/zoom/*.json\n  \
zoomwatch-ingest serve --sink log-group:/zoomwatch/events \\\n      \
--claims dynamodb:zoomwatch-claims --ocsf-to log-group:/zoomwatch/ocsf\n\n\
Diagnostics go to stderr: ZOOMWATCH_LOG=debug|info|warn sets the level, ZOOMWATCH_LOG_FORMAT=json one JSON object per line.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the receiver as a local HTTP server.
    Serve(ServeArgs),
    /// Sign webhook body files with the configured secret and POST them to a URL.
    Send(SendArgs),
    /// Poll Zoom's reports (sign-ins, the admin operation log, failed webhook
    /// deliveries) into the same records, once or every N minutes. Needs the S2S app's
    /// credentials (as for `zoomwatch act`) with the report scopes.
    Poll(PollArgs),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(zoomwatch_ingest::cli_docs::CompletionsArgs),
    /// Print the man page, or write one per command into --dir.
    Man(zoomwatch_ingest::cli_docs::ManArgs),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on. Use 0.0.0.0:8787 to accept connections from other hosts
    /// (put TLS in front: Zoom only delivers to https URLs).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Where records go: `file:PATH` (JSON Lines, appended), `stdout`, or
    /// `log-group:NAME` (CloudWatch Logs; standard AWS settings: AWS_PROFILE, AWS_REGION,
    /// AWS_ENDPOINT_URL). The older spelling `cloudwatch:NAME` is accepted too.
    #[arg(long, default_value = "file:zoomwatch-events.jsonl")]
    sink: String,
    /// Read the secret token(s) from this file instead of ZOOM_WEBHOOK_SECRET_TOKEN.
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Accept x-zm-request-timestamp values up to this many seconds old. The default,
    /// 95 minutes, lets Zoom's retries (after about 5, 25 and 85 minutes) land even if
    /// Zoom does not sign them anew; a replay inside the window can only re-deliver a
    /// genuine event, with the same record id.
    #[arg(long, default_value_t = zoomwatch_shared::signature::DEFAULT_MAX_AGE_SECS, value_name = "SECS")]
    replay_window: u64,
    /// Accept x-zm-request-timestamp values up to this many seconds in the future (the
    /// sender's clock running fast).
    #[arg(long, default_value_t = zoomwatch_shared::signature::DEFAULT_MAX_AHEAD_SECS, value_name = "SECS")]
    max_ahead: u64,
    /// Record ids remembered as stored: a repeat delivery of one is answered
    /// {"status":"duplicate"} and not written again (0: off).
    #[arg(long, default_value_t = zoomwatch_ingest::config::DEFAULT_RECENT_IDS, value_name = "N")]
    recent_ids: usize,
    /// Exactly once into the log across receivers: claim each record id in this shared
    /// store before writing, so Zoom's retry reaching another receiver is answered
    /// `duplicate` (dynamodb:TABLE; created if missing; standard AWS settings, e.g.
    /// AWS_ENDPOINT_URL). If the store cannot be reached, records are still written (at
    /// least once) and marked request.claim = "unavailable". Also ZOOMWATCH_CLAIMS.
    #[arg(long, env = "ZOOMWATCH_CLAIMS", value_name = "URI")]
    claims: Option<String>,
    /// Also write every record as an OCSF 1.8.0 event here (file:PATH, stdout or
    /// log-group:NAME, e.g. a group a Firehose subscription delivers to Security Lake),
    /// before the record itself: at least once, dedupe on metadata.uid. docs/ocsf.md.
    #[arg(long, value_name = "DEST")]
    ocsf_to: Option<String>,
    /// Seconds a write whose outcome is unknown (CloudWatch answered late or not at all)
    /// holds its retries off, in this receiver and, with --claims, in every receiver;
    /// after it, a retry first looks for the record in the log and writes only if it is
    /// not there.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    claim_lease: u64,
    /// Largest accepted body (e.g. 262144, 256KiB, 1MiB); larger ones get 413.
    #[arg(long, default_value = "256KiB", value_parser = parse_size, value_name = "SIZE")]
    max_body: usize,
    /// Acknowledge once written to the OS instead of after fsync (faster; a machine
    /// crash can lose the last records Zoom was told were stored).
    #[arg(long)]
    no_fsync: bool,
    /// Seconds a client has to send a request's headers (also how long a kept-alive
    /// connection may idle): slow-loris clients are cut off after this.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    header_timeout: u64,
    /// Connections open at once; beyond this a new connection is closed at once.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    max_connections: usize,
    /// Connections open at once from one source address (Zoom delivers from many; behind
    /// a reverse proxy every connection comes from the proxy: raise it to --max-connections).
    #[arg(long, default_value_t = 256, value_name = "N")]
    max_connections_per_source: usize,
    /// Seconds a client has to send a request's whole body once its headers are in.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    body_timeout: u64,
    /// Rejected-request records written per second at most (bursts of 5×).
    #[arg(long, default_value_t = 5, value_name = "N")]
    rejected_rate: u32,
    /// Detection config (zoomwatch.toml) for the flags written on each record and the
    /// GeoIP databases ([enrichment]) for their geo blocks; also read from
    /// ZOOMWATCH_CONFIG. Without one, built-in defaults apply and nothing is enriched
    /// (unless ZOOMWATCH_GEOIP_CITY / _ASN / _ANONYMOUS name databases).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Scopes to add to the Server-to-Server OAuth app: report:read:user_activities:admin (sign-ins),\n\
report:read:operation_logs:admin (operation log), marketplace_app:read:admin (failed deliveries).\n\
Credentials: --credentials FILE, ZOOM_CREDENTIALS_SECRET, or ZOOM_ACCOUNT_ID / ZOOM_CLIENT_ID / ZOOM_CLIENT_SECRET.\n\n\
Examples:\n  \
zoomwatch-ingest poll --once --since 2d --sink file:events.jsonl \\\n      \
--config zoomwatch.toml\n  \
zoomwatch-ingest poll --every 15m --sink log-group:/zoomwatch/events \\\n      \
--reports activities,operations")]
struct PollArgs {
    /// Poll once and exit (status 1 if a report failed).
    #[arg(long, conflicts_with = "every")]
    once: bool,
    /// Poll at this interval until stopped (e.g. 15m).
    #[arg(long, value_name = "DURATION")]
    every: Option<String>,
    /// How far back the first run reaches (later runs continue from the cursor; at most
    /// six months, seven days for failed deliveries).
    #[arg(long, default_value = "2d", value_name = "DURATION")]
    since: String,
    /// Where records go, as for `serve`.
    #[arg(long, default_value = "file:zoomwatch-events.jsonl")]
    sink: String,
    /// Also write every record as an OCSF event here, as for `serve`.
    #[arg(long, value_name = "DEST")]
    ocsf_to: Option<String>,
    /// Reports to poll: activities, operations, failed-deliveries (comma-separated;
    /// default: all, failed deliveries only with an app id).
    #[arg(long, value_name = "LIST")]
    reports: Option<String>,
    /// The Marketplace app id (for failed deliveries).
    #[arg(long, env = "ZOOM_APP_ID", value_name = "ID")]
    app_id: Option<String>,
    /// Where the poller remembers how far it got
    /// (default: $XDG_STATE_HOME/zoomwatch/poll-cursor.json).
    #[arg(long, value_name = "PATH")]
    cursor: Option<PathBuf>,
    /// Zoom API credentials file.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// zoomwatch.toml: rules for the flags and GeoIP for sign-in addresses.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct SendArgs {
    /// Endpoint to post to, e.g. http://127.0.0.1:8787/zoom/webhook or your API Gateway URL.
    #[arg(long)]
    url: String,
    /// Read the secret token from this file instead of ZOOM_WEBHOOK_SECRET_TOKEN
    /// (the first token is used to sign).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Sign with this Unix timestamp (seconds) instead of now — e.g. to check that stale
    /// requests are refused.
    #[arg(long, value_name = "SECS")]
    timestamp: Option<i64>,
    /// Webhook body files (JSON), sent byte for byte.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    #[cfg(feature = "lambda")]
    if zoomwatch_ingest::lambda::in_lambda() {
        return lambda_main();
    }
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Send(args) => send(args).await,
            Command::Poll(args) => poll(args).await,
            Command::Completions(args) => {
                zoomwatch_ingest::cli_docs::completions(Cli::command(), "zoomwatch-ingest", args.shell, &mut std::io::stdout().lock());
                Ok(ExitCode::SUCCESS)
            }
            Command::Man(args) => zoomwatch_ingest::cli_docs::run_man(&Cli::command(), &args).map_err(anyhow::Error::msg),
        }
    });
    // Exit status (as `zoomwatch`): 0 done; 1 ran, and something was not accepted (a
    // delivery `send` posted, a report `poll` fetched); 2 could not run (usage, settings,
    // secrets, a destination that cannot be opened).
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Under Lambda: JSON diagnostics (one object per line, never a secret), then the
/// runtime loop. Arguments are ignored; settings come from the environment.
#[cfg(feature = "lambda")]
fn lambda_main() -> ExitCode {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("ZOOMWATCH_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{{\"level\":\"ERROR\",\"message\":\"cannot start the async runtime: {e}\"}}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(zoomwatch_ingest::lambda::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "zoomwatch-ingest cannot start");
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics without `ZOOMWATCH_LOG`: ours at info; the AWS SDK's own only when they are
/// errors — its warnings (a credentials provider that found nothing) are multi-line debug
/// dumps, and zoomwatch reports the same failure as one line saying what to do.
const DEFAULT_LOG: &str = "info,aws_config=error,aws_smithy_runtime=error,aws_smithy_runtime_api=error";

/// `ZOOMWATCH_LOG_FORMAT=json`: every stderr line is a JSON object (no banner either).
fn json_logs() -> bool {
    std::env::var("ZOOMWATCH_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"))
}

/// Diagnostics on stderr: colours only when stderr is a terminal (a redirected log gets
/// none); `ZOOMWATCH_LOG_FORMAT=json` gives one JSON object per line for log shippers.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("ZOOMWATCH_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    if json_logs() {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn default_cursor() -> Option<PathBuf> {
    let base = match (std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()), std::env::var_os("HOME")) {
        (Some(x), _) => PathBuf::from(x),
        (None, Some(h)) => PathBuf::from(h).join(".local/state"),
        (None, None) => return None,
    };
    Some(base.join("zoomwatch").join("poll-cursor.json"))
}

async fn poll(args: PollArgs) -> Result<ExitCode> {
    use zoomwatch_ingest::poll::{CursorStore, PollOptions, parse_duration_ms, parse_reports, poll_once};
    if !args.once && args.every.is_none() {
        bail!("say how often: --once, or --every 15m");
    }
    let every = args.every.as_deref().map(parse_duration_ms).transpose().map_err(anyhow::Error::msg)?;
    let since_ms = parse_duration_ms(&args.since).map_err(anyhow::Error::msg)?;
    let mut reports = parse_reports(args.reports.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
    if args.reports.is_none() && args.app_id.is_none() {
        reports.retain(|r| *r != zoomwatch_zoomapi::reports::Report::FailedDeliveries);
        eprintln!("zoomwatch-ingest poll: failed deliveries skipped (no ZOOM_APP_ID / --app-id)");
    }
    let (rules, geo) = zoomwatch_ingest::config::load_rules(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    let (creds, from) = zoomwatch_zoomapi::credentials::load(args.credentials.as_deref()).await?;
    let client = zoomwatch_zoomapi::Client::new(zoomwatch_zoomapi::ClientConfig::from_env(), creds)?
        .with_progress(Box::new(|line| tracing::warn!("{line}")));
    let main = open_sink(&args.sink, Durability::Fsync).await?;
    let copy = match &args.ocsf_to {
        Some(spec) => Some(open_sink(spec, Durability::Fsync).await.context("--ocsf-to")?),
        None => None,
    };
    let sink = zoomwatch_log::sink::MaybeOcsf::new(main, copy);
    let cursor = args.cursor.or_else(default_cursor).context("no place for the poll cursor: give --cursor PATH")?;
    let store = CursorStore::File(cursor.clone());
    let opts = PollOptions { reports, since_ms, app_id: args.app_id, rules: std::sync::Arc::new(rules), geo };
    if !json_logs() {
        eprintln!(
            "zoomwatch-ingest poll: {} → {} (cursor {}, credentials from {from})",
            opts.reports.iter().map(|r| r.name()).collect::<Vec<_>>().join(","),
            zoomwatch_log::Sink::describe(&sink),
            cursor.display()
        );
    }
    loop {
        let now = zoomwatch_ingest::send::unix_now() * 1000;
        let outcomes = poll_once(&client, &sink, &store, &opts, now).await;
        let mut failed = false;
        for o in &outcomes {
            match &o.error {
                None => {
                    tracing::info!(report = %o.report, rows = o.rows, new = o.written, unreadable = o.unreadable, pages = o.pages, "polled")
                }
                Some(e) => {
                    failed = true;
                    tracing::error!(report = %o.report, "{e}");
                }
            }
        }
        let Some(every) = every else {
            return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
        };
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(every).unwrap_or(900_000))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Opens `--sink` (the one destination syntax) for the receiver's streams.
async fn open_sink(spec: &str, durability: Durability) -> Result<AnySink> {
    let dest = Destination::parse("--sink", spec)?;
    if let Some(hint) = Destination::hint(spec) {
        eprintln!("zoomwatch-ingest: {hint}");
    }
    // A log group: the standard AWS settings (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, …).
    let opts = OpenOptions { writer: Writer::Receiver, budget: std::time::Duration::from_secs(2), durability, aws: None, analyst: None };
    Ok(dest.open(&opts).await?)
}

async fn serve(args: ServeArgs) -> Result<()> {
    let secrets = load_secrets(args.secret_file.as_deref())?;
    let (rules, geo) = load_rules(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    let durability = if args.no_fsync { Durability::OsBuffer } else { Durability::Fsync };
    let sink = open_sink(&args.sink, durability).await?;
    if let AnySink::CloudWatch(cw) = &sink {
        // Say at once what is wrong with the AWS side (credentials, region, log group);
        // the receiver still starts, answering 503 until CloudWatch takes writes.
        let now =
            i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(0);
        match cw.check(now).await {
            Ok(()) => tracing::info!(group = cw.group(), "CloudWatch Logs reachable; the log stream is ready"),
            Err(e) => {
                tracing::warn!(error = %e, "CloudWatch Logs is not usable yet; deliveries are answered 503 (Zoom retries) until it is");
                if !json_logs() {
                    eprintln!("zoomwatch-ingest: warning: {e}");
                }
            }
        }
    }
    let ocsf = match &args.ocsf_to {
        Some(spec) => Some(open_sink(spec, durability).await.context("--ocsf-to")?),
        None => None,
    };
    let describe = match &ocsf {
        Some(copy) => format!("{} (and OCSF to {})", zoomwatch_log::Sink::describe(&sink), zoomwatch_log::Sink::describe(copy)),
        None => zoomwatch_log::Sink::describe(&sink),
    };
    let mut cfg = ReceiverConfig::new(secrets);
    cfg.replay_window = zoomwatch_shared::signature::ReplayWindow { max_age_secs: args.replay_window, max_ahead_secs: args.max_ahead };
    cfg.recent_ids = args.recent_ids;
    cfg.write_lease = std::time::Duration::from_secs(args.claim_lease.max(1));
    if let Some(uri) = &args.claims {
        use zoomwatch_ingest::claims::{Claims, ClaimsSpec};
        let spec = ClaimsSpec::parse(uri).map_err(anyhow::Error::msg)?;
        let claims = Claims::open(&spec).await.with_lease(std::time::Duration::from_secs(args.claim_lease.max(1)));
        match claims.create_if_missing().await {
            Ok(()) => tracing::info!(table = claims.table(), "claim store ready: exactly once into the log across receivers"),
            Err(e) => {
                tracing::warn!(error = %e, "claim store not usable yet; records are written at least once until it is");
                if !json_logs() {
                    eprintln!("zoomwatch-ingest: warning: claim store: {e}");
                }
            }
        }
        cfg.claims = Some(std::sync::Arc::new(claims));
    }
    cfg.max_body = args.max_body;
    cfg.body_timeout = std::time::Duration::from_secs(args.body_timeout.max(1));
    cfg.rejected_per_sec = args.rejected_rate;
    cfg.rules = std::sync::Arc::new(rules);
    match &geo {
        Some(g) => tracing::info!(geoip = %g.describe(), "GeoIP enrichment on"),
        None => tracing::debug!("no GeoIP databases configured; records carry no geo"),
    }
    cfg.geo = geo;
    let n_secrets = cfg.secrets.len();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is another receiver running? try --listen 127.0.0.1:0)", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, sink = %describe, secrets = n_secrets, replay_window_s = args.replay_window, max_ahead_s = args.max_ahead, max_body = args.max_body, "zoomwatch-ingest listening");
    if !json_logs() {
        eprintln!("zoomwatch-ingest: listening on http://{addr}/ (POST any path), writing to {describe}; Ctrl-C to stop");
    }
    let limits = server::Limits {
        header_read_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
        max_connections: args.max_connections.max(1),
        max_per_source: args.max_connections_per_source.max(1),
    };
    server::survive_file_size_limit();
    let sink = zoomwatch_log::sink::MaybeOcsf::new(sink, ocsf);
    server::serve_with(listener, router(cfg, sink), server::shutdown_signal(), limits).await?;
    tracing::info!("stopped; every accepted record was written");
    Ok(())
}

async fn send(args: SendArgs) -> Result<ExitCode> {
    let secrets = load_secrets(args.secret_file.as_deref())?;
    let sender = Sender::new(&args.url, secrets.primary().clone()).context("cannot build the HTTP client")?;
    let mut failures = 0usize;
    for file in &args.files {
        let body = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                failures += 1;
                continue;
            }
        };
        match sender.send(body, args.timestamp).await {
            Ok(d) => {
                println!("{} {} {}", d.status, file.display(), d.body.trim());
                if !(200..300).contains(&d.status) {
                    failures += 1;
                }
            }
            Err(e) => {
                println!("ERR {} {e}", file.display());
                failures += 1;
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} of {} not accepted", args.files.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
