//! `zoomwatch` — the analyst's binary: the live console (default), `demo`, `tail`, `act`,
//! `posture`, `watch`, `rules`, `check-config`, `completions` and `man`. It parses arguments and dispatches; each command
//! is one module of the library that owns its arguments and its run.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use zoomwatch_console::act::ActArgs;
use zoomwatch_console::args::ConfigArg;
use zoomwatch_console::demo::DemoArgs;
use zoomwatch_console::live::ConsoleArgs;
use zoomwatch_console::posture::PostureArgs;
use zoomwatch_console::rules::RulesArgs;
use zoomwatch_console::tail::TailArgs;
use zoomwatch_console::watch::WatchArgs;
use zoomwatch_console::{act, demo, live, posture, rules, tail, watch};
use zoomwatch_ingest::cli_docs::{self, CompletionsArgs, ManArgs};

/// Live eyes on a Zoom account: reads zoomwatch.v1 records (from the JSONL file written
/// by `zoomwatch-ingest serve`), runs the detections, and shows records and alerts.
#[derive(Parser, Debug)]
#[command(name = "zoomwatch", version, about, long_about = None, args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
zoomwatch demo                     # everything local, a scripted day\n  \
zoomwatch --file events.jsonl      # the console on the local receiver's file\n  \
zoomwatch tail --file events.jsonl --follow\n  \
zoomwatch tail --file events.jsonl --json --alerts-only | jq .reason\n  \
zoomwatch tail --file events.jsonl --meeting \"all-hands\" --user jdoe@\n  \
zoomwatch --log-group /zoomwatch/events --since 2h --profile security\n  \
zoomwatch act end-meeting 84512345678 --reason \"raid\" \\\n      \
--audit file:events.jsonl\n  \
zoomwatch posture --to file:events.jsonl\n  \
zoomwatch check-config --config zoomwatch.toml\n  \
zoomwatch completions bash \\\n      \
> ~/.local/share/bash-completion/completions/zoomwatch")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    console: ConsoleArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run everything locally: receiver, a simulator sending signed webhooks of a
    /// scripted account day over HTTP, and the console on the result.
    Demo(DemoArgs),
    /// Print records and alerts as lines (text, JSON, or OCSF events).
    Tail(Box<TailArgs>),
    /// Act through Zoom's REST API (end, harden, remove, deny, deactivate, sign out),
    /// audited as a zoomwatch.action record. Scriptable: --yes, --json, exit status.
    Act(Box<ActArgs>),
    /// Run the detections as a service, with no console open: follow the file or log
    /// group, write every alert as a zoomwatch.alert record for the SIEM, notify.
    Watch(Box<WatchArgs>),
    /// Check the account's settings against the policy (CIS Zoom Benchmark and hygiene,
    /// less [policy] waivers): a table or --json, a zoomwatch.posture record (--to), exit
    /// status 1 when a control fails.
    Posture(Box<PostureArgs>),
    /// Validate a zoomwatch.toml and print the effective configuration.
    CheckConfig(ConfigArg),
    /// List the detection rules (built-in and custom) with their effective settings, or
    /// write the stateless ones as Sigma rules (--sigma).
    Rules(RulesArgs),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell); README,
    /// "Shell completions and man pages", says where to put it.
    Completions(CompletionsArgs),
    /// Print the man page, or write one per command into --dir.
    Man(ManArgs),
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
        Some(Command::CheckConfig(args)) => rules::check_config(&args),
        Some(Command::Rules(args)) => rules::run(&args),
        Some(Command::Completions(args)) => {
            cli_docs::completions(Cli::command(), "zoomwatch", args.shell, &mut std::io::stdout().lock());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man(args)) => cli_docs::run_man(&Cli::command(), &args).map_err(anyhow::Error::msg),
        Some(Command::Tail(args)) => runtime().and_then(|rt| rt.block_on(tail::run(*args))),
        Some(Command::Demo(args)) => runtime().and_then(|rt| rt.block_on(demo::run(args))),
        Some(Command::Act(args)) => runtime().and_then(|rt| rt.block_on(act::run(*args))),
        Some(Command::Posture(args)) => runtime().and_then(|rt| rt.block_on(posture::run(*args))),
        Some(Command::Watch(args)) => runtime().and_then(|rt| rt.block_on(watch::run_command(*args))),
        None => runtime().and_then(|rt| rt.block_on(live::run(cli.console))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
