//! The one destination syntax every writer takes (`--sink`, `--alerts-to`, `--audit`):
//! `file:PATH` (JSON Lines, appended), `stdout`, or `log-group:NAME` (CloudWatch Logs).
//! The receiver's older spelling `cloudwatch:NAME` is still accepted, with a hint.

use std::path::PathBuf;
use std::time::Duration;

use crate::LogError;
use crate::aws::{self, AwsOptions};
use crate::sink::{AnySink, CloudWatchSink, Durability, FileSink, StdoutSink};

/// Where records are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A JSONL file, appended to.
    File(PathBuf),
    /// Standard output, one JSON line per record.
    Stdout,
    /// A CloudWatch Logs group.
    LogGroup(String),
}

/// The accepted forms, for error messages.
pub const FORMS: &str = "file:PATH, stdout or log-group:NAME";

impl Destination {
    /// Parses a destination. `flag` names the option in errors (`--sink`).
    pub fn parse(flag: &str, spec: &str) -> Result<Self, LogError> {
        let bad = |why: String| Err(LogError::Config(format!("{flag} {why}")));
        if spec == "stdout" {
            return Ok(Self::Stdout);
        }
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return bad("file: needs a path, e.g. file:zoomwatch-events.jsonl".into());
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if let Some(group) = spec.strip_prefix("log-group:").or_else(|| spec.strip_prefix("cloudwatch:")) {
            if group.is_empty() {
                return bad(format!("{}: needs a log group, e.g. log-group:/zoomwatch/events", spec.trim_end_matches(':')));
            }
            return Ok(Self::LogGroup(group.to_owned()));
        }
        bad(format!("{:?}: unknown sink; use {FORMS}", zoomwatch_shared::text::sanitize(spec, 80)))
    }

    /// A note for specs written the older way (`cloudwatch:NAME`), else `None`.
    pub fn hint(spec: &str) -> Option<String> {
        spec.strip_prefix("cloudwatch:").map(|g| {
            format!("note: cloudwatch:{g} is now written log-group:{g} (both are accepted)", g = zoomwatch_shared::text::sanitize(g, 200))
        })
    }

    /// `file:PATH`, `stdout` or `log-group:NAME`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => format!("file:{}", p.display()),
            Self::Stdout => "stdout".into(),
            Self::LogGroup(g) => format!("log-group:{g}"),
        }
    }
}

/// Who writes: each writer of a log group has streams of its own, so a least-privilege
/// policy can allow each only its own (see [`crate::sink::cloudwatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The webhook receiver (and `zoomwatch-ingest poll` run by hand).
    Receiver,
    /// The scheduled report poller.
    Poller,
    /// Analysts' actions and triage verdicts.
    Response,
    /// `zoomwatch watch` and the scheduled watch function's alerts.
    Watch,
    /// The action broker's audit records.
    Broker,
}

/// How to open a destination.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The writer's streams in a log group.
    pub writer: Writer,
    /// Time allowed for one write to a log group, retries included.
    pub budget: Duration,
    /// When a file write counts as done.
    pub durability: Durability,
    /// An analyst's AWS settings (profile, region, endpoint: checked); `None` for a
    /// service, which uses the standard chain alone.
    pub aws: Option<AwsOptions>,
    /// For [`Writer::Response`] in a log group: the analyst's IAM user name, which names
    /// the streams (`…/zoomwatch-response/<analyst>/<instance>`, the only ones the
    /// template's analyst policy lets that identity write).
    pub analyst: Option<String>,
}

impl Destination {
    /// Opens the destination as a sink. A file is created when missing; a log group
    /// is not contacted here (see [`CloudWatchSink::check`]).
    pub async fn open(&self, opts: &OpenOptions) -> Result<AnySink, LogError> {
        match self {
            Self::Stdout => Ok(AnySink::Stdout(StdoutSink::new())),
            Self::File(path) => FileSink::open(path, opts.durability)
                .map(AnySink::File)
                .map_err(|e| LogError::Open { what: format!("{} for appending", path.display()), source: e }),
            Self::LogGroup(group) => {
                let sdk = match &opts.aws {
                    Some(a) => aws::load(a).await?,
                    None => aws::load_from_env().await,
                };
                let client = aws::logs_client(&sdk, Some(opts.budget));
                let sink = CloudWatchSink::for_writer(client, group.clone(), opts.budget, opts.writer);
                match (&opts.analyst, opts.writer) {
                    (Some(name), Writer::Response) => {
                        crate::sink::cloudwatch::check_analyst_name(name).map_err(LogError::Config)?;
                        Ok(AnySink::CloudWatch(sink.for_analyst(name)))
                    }
                    _ => Ok(AnySink::CloudWatch(sink)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(Destination::parse("--sink", "stdout").unwrap(), Destination::Stdout);
        assert_eq!(Destination::parse("--sink", "file:a.jsonl").unwrap(), Destination::File("a.jsonl".into()));
        assert_eq!(Destination::parse("--sink", "log-group:/z/e").unwrap(), Destination::LogGroup("/z/e".into()));
        // The older spelling, with a hint.
        assert_eq!(Destination::parse("--sink", "cloudwatch:/z/e").unwrap(), Destination::LogGroup("/z/e".into()));
        assert!(Destination::hint("cloudwatch:/z/e").unwrap().contains("log-group:/z/e"));
        assert_eq!(Destination::hint("log-group:/z/e"), None);
        for bad in ["", "file:", "log-group:", "cloudwatch:", "s3://x", "FILE:x"] {
            let e = Destination::parse("--sink", bad).unwrap_err().to_string();
            assert!(e.starts_with("--sink "), "{e}");
        }
        assert!(Destination::parse("--sink", "nope").unwrap_err().to_string().contains("unknown sink"));
        assert_eq!(Destination::File("x".into()).describe(), "file:x");
        assert_eq!(Destination::LogGroup("/g".into()).describe(), "log-group:/g");
    }
}
