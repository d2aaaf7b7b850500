//! `zoomwatch posture`: reads the account's settings and lock settings and every group's
//! settings through Zoom's API, checks them against the policy (the settings catalogue,
//! less `[policy]` waivers), prints the failing controls (or `--json`), writes one
//! `zoomwatch.posture` record to `--to` for the SIEM, and exits non-zero when a control
//! fails — usable in CI. `--list` prints what is checked without calling Zoom.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use zoomwatch_log::sink::{Durability, Sink};
use zoomwatch_log::{Destination, OpenOptions, Writer};
use zoomwatch_shared::posture::{Posture, Scope, SettingsPolicy, Status, Unread, check_scope};
use zoomwatch_shared::text::sanitize;
use zoomwatch_shared::zoom_settings::SETTINGS;
use zoomwatch_zoomapi::settings::{self, LIST_GROUPS_SCOPE, SettingsScope};
use zoomwatch_zoomapi::{ApiError, Client, ClientConfig};

use crate::clock::now_ms;

/// Exit status: every checked control passes.
pub const EXIT_PASS: u8 = 0;
/// Exit status: at least one control fails.
pub const EXIT_FAIL: u8 = 1;
/// Exit status: usage, configuration, or the account's settings could not be read.
pub const EXIT_ERROR: u8 = 2;

/// `zoomwatch posture`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "What is checked: every setting of the catalogue with an API field (the CIS Zoom\n\
Benchmark v1.0.0 controls that have one, and the hygiene list), less `[policy] waive`\n\
and `[policy.groups.NAME]` in zoomwatch.toml. `--list` prints them.\n\n\
Zoom calls (granular scopes the S2S app needs): GET /accounts/me/settings (three views:\n\
default, option=meeting_security, option=meeting_authentication; account:read:settings:admin),\n\
GET /accounts/me/lock_settings (two views; account:read:lock_settings:admin), GET /groups\n\
(group:read:list_groups:admin) and GET /groups/{id}/settings (group:read:settings:admin).\n\
Credentials as for `zoomwatch act`.\n\n\
Exit status: 0 every control passes, 1 a control fails, 2 usage or the account could not be read.\n\n\
Examples:\n  \
zoomwatch posture\n  \
zoomwatch posture --json | jq '.failing[] | .control'\n  \
zoomwatch posture --to file:zoomwatch-events.jsonl --no-groups\n  \
zoomwatch posture --to log-group:/zoomwatch/events --analyst ana \\\n      \
--profile security\n  \
zoomwatch posture --list")]
pub struct PostureArgs {
    /// Print the checks in effect (after waivers) and exit; calls nothing.
    #[arg(long)]
    pub list: bool,
    /// One JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Show passing and unknown checks too.
    #[arg(long)]
    pub all: bool,
    /// Check the account only (no GET /groups).
    #[arg(long)]
    pub no_groups: bool,
    /// Write the zoomwatch.posture record here: file:PATH, stdout, or log-group:NAME.
    #[arg(long, value_name = "DEST")]
    pub to: Option<String>,
    /// Who runs the check (default: the OS user). With --to log-group:NAME, your IAM user
    /// name: the record goes to the analyst's own response streams.
    #[arg(long, value_name = "NAME")]
    pub analyst: Option<String>,
    /// zoomwatch.toml with the [policy] to check against.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Zoom API credentials file (as for `zoomwatch act`).
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// AWS settings for a log-group destination.
    #[command(flatten)]
    pub aws: crate::args::AwsFlags,
}

/// Reads every view of `scope` and merges them; a failing option view leaves its
/// settings unknown and is reported.
async fn read_scope(
    client: &Client,
    reads: Vec<(&'static str, zoomwatch_zoomapi::ApiRequest)>,
    scope: &str,
    who: &Scope,
    unread: &mut Vec<Unread>,
) -> Result<Value, ApiError> {
    let mut views = Vec::new();
    for (i, (view, req)) in reads.into_iter().enumerate() {
        match client.call(&req, &format!("posture read ({view})"), scope).await {
            Ok(resp) => views.push((view, resp.body)),
            Err(e) if i == 0 => return Err(e),
            Err(e) => unread.push(Unread { scope: who.clone(), why: format!("{view} view: {}", sanitize(&e.to_string(), 300)) }),
        }
    }
    Ok(settings::merge(&views))
}

/// Reads and checks the account (and its groups unless `no_groups`).
pub async fn measure(client: &Client, policy: &SettingsPolicy, no_groups: bool) -> Result<Posture, ApiError> {
    let mut p = Posture::default();
    let account = SettingsScope::Account;
    let doc = read_scope(client, account.reads(), account.read_scope(), &Scope::Account, &mut p.unread).await?;
    let locks = match read_scope(client, account.lock_reads(), account.read_lock_scope(), &Scope::Account, &mut p.unread).await {
        Ok(l) => Some(l),
        Err(e) => {
            p.unread.push(Unread { scope: Scope::Account, why: format!("lock settings: {}", sanitize(&e.to_string(), 300)) });
            None
        }
    };
    p.checks.extend(check_scope(&Scope::Account, &doc, locks.as_ref(), policy));
    if no_groups {
        return Ok(p);
    }
    let mut groups = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        match client.call(&settings::list_groups(token.as_deref()), "posture read (groups)", LIST_GROUPS_SCOPE).await {
            Ok(resp) => {
                let (page, next) = settings::groups_page(&resp.body);
                groups.extend(page);
                token = next;
            }
            Err(e) => {
                let why = format!("cannot list groups: {}", sanitize(&e.to_string(), 300));
                p.unread.push(Unread { scope: Scope::Group { id: None, name: None }, why });
                token = None;
            }
        }
        if token.is_none() {
            break;
        }
    }
    for g in groups {
        let who = Scope::Group { id: Some(g.id.clone()), name: (!g.name.is_empty()).then(|| g.name.clone()) };
        let scope = SettingsScope::Group(g.id);
        match read_scope(client, scope.reads(), scope.read_scope(), &who, &mut p.unread).await {
            Ok(doc) => p.checks.extend(check_scope(&who, &doc, None, policy)),
            Err(e) => p.unread.push(Unread { scope: who, why: sanitize(&e.to_string(), 300).into_owned() }),
        }
    }
    Ok(p)
}

/// The table, worst first: failing checks (and with `all`, the rest).
pub fn table(p: &Posture, all: bool) -> String {
    let mut out = String::new();
    let (pass, fail, unknown) = p.counts();
    out.push_str(&format!("{:<7} {:<6} {:<52} {:<40} {:<8} {:<12} {}\n", "status", "sev", "control", "scope", "expected", "actual", "CIS"));
    let mut rows: Vec<_> = p.failing();
    if all {
        rows.extend(p.checks.iter().filter(|c| c.status != Status::Fail));
    }
    for c in rows {
        let actual = c.actual.as_ref().map_or_else(|| "—".to_owned(), Value::to_string);
        let locked = match c.locked {
            Some(true) => " (locked)",
            _ => "",
        };
        out.push_str(&format!(
            "{:<7} {:<6} {:<52} {:<40} {:<8} {:<12} {}\n",
            c.status.as_str(),
            c.info.severity.as_str(),
            c.info.key(),
            sanitize(&c.scope.describe(), 40),
            c.info.expected(),
            format!("{}{locked}", sanitize(&actual, 12)),
            c.info.cis.join(", ")
        ));
    }
    for u in &p.unread {
        out.push_str(&format!("not read: {}: {}\n", sanitize(&u.scope.describe(), 60), sanitize(&u.why, 300)));
    }
    out.push_str(&format!(
        "score {} · {pass} pass · {fail} fail · {unknown} not reported by Zoom{}\n",
        p.score(),
        if all || fail == 0 { "" } else { " (--all shows them all)" }
    ));
    out
}

/// Writes to stdout; a reader that went away (`| head`) is no error.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `zoomwatch posture`.
pub async fn run(args: PostureArgs) -> Result<ExitCode> {
    let s = crate::settings::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    let policy = &s.config.settings_policy;
    if args.list {
        let mut text = format!("# checked by zoomwatch posture — policy from {}\n", s.origin);
        text.push_str(&format!("{:<62} {:<9} {:<8} {:<12} title\n", "control", "where", "expected", "CIS"));
        for info in SETTINGS.iter().filter(|i| i.api.is_some()) {
            let waived = if policy.applies(info, &Scope::Account) { "" } else { " (waived)" };
            let place = if info.scopes.group { "acct+grp" } else { "account" };
            text.push_str(&format!(
                "{:<62} {:<9} {:<8} {:<12} {}{waived}\n",
                info.key(),
                place,
                info.expected(),
                info.cis.join(","),
                info.title
            ));
        }
        print_out(&text);
        return Ok(ExitCode::SUCCESS);
    }
    // The destination is checked before Zoom is read, so a run is never lost for want of it.
    let sink = match &args.to {
        None => None,
        Some(spec) => {
            let dest = Destination::parse("--to", spec).map_err(|e| anyhow::anyhow!("{e}"))?;
            let aws = args.aws.options();
            let opts = OpenOptions {
                writer: Writer::Response,
                budget: Duration::from_secs(10),
                durability: Durability::Fsync,
                aws: Some(aws),
                analyst: Some(crate::act::Analyst::current(args.analyst.as_deref()).name),
            };
            let sink = dest.open(&opts).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            sink.check(now_ms()).await.map_err(|e| anyhow::anyhow!("cannot write to {}: {e}", sink.describe()))?;
            Some(sink)
        }
    };
    let (creds, _) = zoomwatch_zoomapi::credentials::load(args.credentials.as_deref()).await?;
    let account_id = creds.account_id.clone();
    let client = Client::new(ClientConfig::from_env(), creds)?.with_progress(Box::new(|line| eprintln!("zoomwatch posture: {line}")));
    let posture = match measure(&client, policy, args.no_groups).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("zoomwatch posture: cannot read the account's settings: {}", sanitize(&e.to_string(), 2000));
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let record = posture.record(Some(&account_id), now_ms());
    if args.json {
        let mut out = posture.to_json();
        out["record_id"] = Value::from(record.id.clone());
        print_out(&format!("{out}\n"));
    } else if args.to.as_deref() == Some("stdout") {
        eprint!("{}", table(&posture, args.all)); // stdout carries the record
    } else {
        print_out(&table(&posture, args.all));
    }
    if let Some(sink) = &sink {
        if let Err(e) = sink.write(vec![record]).await {
            eprintln!("zoomwatch posture: the posture record was not written to {}: {e}", sink.describe());
            return Ok(ExitCode::from(EXIT_ERROR));
        }
        if !args.json && !matches!(args.to.as_deref(), Some("stdout")) {
            eprintln!("zoomwatch posture: posture record written to {}", sink.describe());
        }
    }
    let (_, fail, _) = posture.counts();
    Ok(ExitCode::from(if fail > 0 { EXIT_FAIL } else { EXIT_PASS }))
}
