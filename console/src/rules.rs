//! `zoomwatch rules` (the rules in effect, or the stateless ones as Sigma) and
//! `zoomwatch check-config` (validate a `zoomwatch.toml`, print what it means).

use std::process::ExitCode;

use anyhow::Result;

use crate::args::ConfigArg;
use crate::settings;

/// `zoomwatch rules`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "Sigma (--sigma): one YAML document per stateless rule, over Record v1 fields (logsource
product zoom, service zoomwatch). A built-in rule matches the records the receiver flagged
with it (flags.rule), so the SIEM sees exactly what the receiver judged; a custom rule is
compiled from its filter terms. Stateful rules are named in a comment: run `zoomwatch watch`,
whose alerts reach the SIEM as zoomwatch.alert records.

Examples:
  zoomwatch rules
  zoomwatch rules --config zoomwatch.toml --sigma > zoomwatch-sigma.yml")]
pub struct RulesArgs {
    /// Which zoomwatch.toml.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write the stateless rules as Sigma YAML instead of the table.
    #[arg(long)]
    pub sigma: bool,
}

/// `zoomwatch check-config`: the configuration in effect, or the first problem in it.
pub fn check_config(args: &ConfigArg) -> Result<ExitCode> {
    let s = settings::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    println!("# zoomwatch configuration OK — from {}", s.origin);
    match &s.geo {
        Some(g) => println!("# GeoIP: {}\n", g.describe()),
        None => println!("# GeoIP: none configured (records are not enriched)\n"),
    }
    print!("{}", s.config.describe());
    Ok(ExitCode::SUCCESS)
}

/// `zoomwatch rules`: the table of rules in effect, or `--sigma`.
pub fn run(args: &RulesArgs) -> Result<ExitCode> {
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
