//! What several commands share on the command line: where records come from
//! (`--file`, or `--log-group` with its AWS settings) and which `zoomwatch.toml` to use;
//! and starting that source.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::mpsc;
use zoomwatch_log::aws::{self, AwsOptions};
use zoomwatch_log::source::cloudwatch::{self, CloudWatchSource};
use zoomwatch_log::source::file::{self, FileSource, Start};
use zoomwatch_log::source::{CHANNEL_CAPACITY, Prepare, SourceEvent};
use zoomwatch_shared::filter::Filter;

use crate::clock::now_ms;

/// Where records come from (one of `--file`, `--log-group`).
#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// JSONL file of records (as written by `zoomwatch-ingest serve --sink file:PATH`).
    #[arg(long, value_name = "PATH", conflicts_with = "log_group")]
    pub file: Option<PathBuf>,
    /// CloudWatch Logs group the receiver writes to (e.g. /zoomwatch/events).
    #[arg(long, value_name = "NAME")]
    pub log_group: Option<String>,
    /// With --log-group: read history from this far back (90s, 30m, 1h, 2d, or an RFC 3339 time).
    #[arg(long, default_value = "1h", value_name = "WHEN")]
    pub since: String,
    /// With --log-group: poll FilterLogEvents once a second instead of using live tail.
    #[arg(long)]
    pub poll: bool,
    /// With --file: if the file does not exist yet, wait for the receiver to create it
    /// (zoomwatch never creates the file it reads). Without it a missing file is an error.
    #[arg(long, requires = "file")]
    pub wait_for_file: bool,
    /// AWS settings for a log group.
    #[command(flatten)]
    pub aws_flags: AwsFlags,
}

/// The AWS flags every command reading or writing a log group takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsFlags {
    /// AWS profile (else the standard chain: AWS_PROFILE, environment, SSO, instance role…).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (else AWS_REGION / the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// CloudWatch Logs endpoint (VPC endpoint, local emulator); also AWS_ENDPOINT_URL.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsFlags {
    /// The AWS settings these flags name.
    pub fn options(&self) -> AwsOptions {
        AwsOptions { profile: self.profile.clone(), region: self.region.clone(), endpoint_url: self.endpoint_url.clone() }
    }
}

impl SourceArgs {
    /// The AWS settings these flags name.
    pub fn aws(&self) -> AwsOptions {
        self.aws_flags.options()
    }

    /// Fails on a `--file` that does not exist (a typo must not look like a quiet
    /// account), unless `--wait-for-file`.
    pub fn check_file(&self) -> Result<()> {
        if let Some(p) = &self.file
            && !self.wait_for_file
            && !p.exists()
        {
            anyhow::bail!(
                "no such file: {} — check the path, start the receiver first (zoomwatch-ingest serve --sink file:{}), or pass --wait-for-file",
                p.display(),
                p.display()
            );
        }
        Ok(())
    }

    /// The label a watcher's checkpoint is tied to.
    pub fn label(&self) -> Result<String> {
        match (&self.file, &self.log_group) {
            (Some(p), _) => Ok(format!("file:{}", std::path::absolute(p).unwrap_or_else(|_| p.clone()).display())),
            (None, Some(g)) => Ok(format!("log-group:{g}")),
            (None, None) => anyhow::bail!("nothing to watch: give --file PATH (the receiver's JSONL file) or --log-group NAME"),
        }
    }
}

/// Which `zoomwatch.toml` to use.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArg {
    /// zoomwatch.toml to use (default: $XDG_CONFIG_HOME/zoomwatch/zoomwatch.toml if it
    /// exists, else built-in defaults).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Where and how a command starts reading.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Keep following after what is there now.
    pub follow: bool,
    /// Where in a file.
    pub start: Start,
    /// From when in a log group (else `--since`).
    pub since_ms: Option<i64>,
    /// The filter, for what CloudWatch can apply of it ([`crate::pushdown`]).
    pub filter: Option<&'a Filter>,
}

impl Reading<'_> {
    /// Everything from the beginning (or `--since`), following when `follow`.
    pub fn from_start(follow: bool) -> Self {
        Self { follow, start: Start::Beginning, since_ms: None, filter: None }
    }
}

/// Starts the configured source, each record prepared by `prep` in the source's task;
/// returns its label and channel.
pub async fn start_source<P: Prepare>(
    args: &SourceArgs,
    reading: Reading<'_>,
    prep: Arc<P>,
) -> Result<(String, mpsc::Receiver<SourceEvent<P::Item>>)> {
    args.check_file()?;
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    if let Some(path) = &args.file {
        let mut src = FileSource::new(path);
        src.follow = reading.follow;
        src.start = reading.start;
        tokio::spawn(file::run_prepared(src, prep, tx));
        return Ok((format!("file:{}", path.display()), rx));
    }
    let Some(group) = &args.log_group else {
        anyhow::bail!(
            "nothing to watch: give --file PATH (the JSONL file of `zoomwatch-ingest serve`) or --log-group NAME, or try `zoomwatch demo`"
        );
    };
    let since_ms = match reading.since_ms {
        Some(t) => t,
        None => cloudwatch::parse_since(&args.since, now_ms())?,
    };
    let client = aws::logs_client(&aws::load(&args.aws()).await?, None);
    let push = reading.filter.map(crate::pushdown::compile).unwrap_or_default();
    let mut opts = CloudWatchSource::new(group.clone(), since_ms.max(push.start_ms.unwrap_or(i64::MIN)));
    opts.follow = reading.follow;
    opts.poll_only = args.poll;
    opts.pattern = push.pattern.clone();
    let mut label = format!("cloudwatch:{group}");
    if let Some(p) = &push.pattern {
        label.push_str(&format!(" (only events matching {p})"));
    }
    tokio::spawn(cloudwatch::run_prepared(client, opts, prep, tx));
    Ok((label, rx))
}
