//! `zoomwatch` — the analyst's binary: `tail` (lines for pipes and scripts) and
//! `check-config`. Parses arguments and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};
use zoomwatch_console::filter::{Filter, Term};
use zoomwatch_console::settings;
use zoomwatch_console::source::file::{self, FileSource, Start};
use zoomwatch_console::source::{SourceEvent, Status};
use zoomwatch_console::tail::{Format, Printer, TailOptions};
use zoomwatch_shared::rules::Detector;

/// Live eyes on a Zoom account: reads zoomwatch.v1 records (from the JSONL file written
/// by `zoomwatch-ingest serve`), runs the detections, and shows records and alerts.
#[derive(Parser, Debug)]
#[command(name = "zoomwatch", version, about, long_about = None,
    after_help = "Examples:\n  \
zoomwatch tail --file zoomwatch-events.jsonl --follow\n  \
zoomwatch tail --file zoomwatch-events.jsonl --json --alerts-only | jq .reason\n  \
zoomwatch tail --file events.jsonl --meeting \"all-hands\" --user jdoe@\n  \
zoomwatch check-config --config zoomwatch.toml")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print records and alerts as lines (text or JSON).
    Tail(TailArgs),
    /// Validate a zoomwatch.toml and print the effective configuration.
    CheckConfig(ConfigArg),
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
    /// JSONL file of records (as written by `zoomwatch-ingest serve --sink file:PATH`).
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    /// Keep following the file as records are appended (survives rotation and truncation).
    #[arg(long, short = 'f')]
    follow: bool,
    /// With --follow: skip what is already in the file.
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
    /// Filter expression, e.g. "type:joined sev:>=medium" (see the README).
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig(args) => check_config(&args),
        Command::Tail(args) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(tail(args)),
            Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
        },
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
    let (cfg, origin) = settings::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    println!("# zoomwatch configuration OK — from {origin}\n");
    print!("{}", cfg.describe());
    Ok(ExitCode::SUCCESS)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn tail(args: TailArgs) -> Result<ExitCode> {
    let (cfg, _) = settings::load(args.config.config.as_deref()).map_err(anyhow::Error::msg)?;
    let mut filter =
        Filter::parse(args.filter.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
    if let Some(m) = &args.meeting {
        filter = filter.with(Term::Meeting(m.to_lowercase()));
    }
    if let Some(u) = &args.user {
        filter = filter.with(Term::User(u.to_lowercase()));
    }
    let opts = TailOptions {
        format: if args.json {
            Format::Json
        } else {
            Format::Text
        },
        alerts_only: args.alerts_only,
        filter,
    };
    let mut printer = Printer::new(Detector::new(cfg), opts);

    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let mut src = FileSource::new(&args.file);
    src.follow = args.follow;
    src.start = if args.from_end {
        Start::End
    } else {
        Start::Beginning
    };
    tokio::spawn(file::run(src, tx));

    let stdout = std::io::stdout();
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut failed_to_open = None;
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                let mut out = stdout.lock();
                let written = match ev {
                    SourceEvent::Records(batch) => printer.records(batch, &mut out),
                    SourceEvent::Skipped(n) => { printer.stats.skipped += n; Ok(()) }
                    SourceEvent::Status(Status::Done) => break,
                    SourceEvent::Status(Status::Waiting(why)) => {
                        if args.follow { eprintln!("zoomwatch: {why}"); } else { failed_to_open = Some(why); }
                        Ok(())
                    }
                    SourceEvent::Status(Status::Reconnecting(why)) => { eprintln!("zoomwatch: {why}"); Ok(()) }
                    SourceEvent::Status(_) => Ok(()),
                };
                if let Err(e) = written.and_then(|()| out.flush()) {
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
        eprintln!(
            "zoomwatch: {} records, {} alerts; {} lines skipped (not zoomwatch.v1 records)",
            s.records, s.alerts, s.skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}
