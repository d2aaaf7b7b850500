//! zoomwatch's log — the product's database (one stream of Record v1 lines, in a JSONL
//! file locally or a CloudWatch Logs group) — and everything that reads or writes it.
//! The receiver, the poller, the watcher, `act`, `tail` and the console all go through
//! this crate; none of them talks to CloudWatch on its own.
//!
//! # Layout
//!
//! - [`dest`] — the one destination syntax (`file:PATH | stdout | log-group:NAME`) and
//!   opening one as a sink for a given writer.
//! - [`sink`] — writers: [`sink::FileSink`] (JSONL, group-committed and fsynced),
//!   [`sink::StdoutSink`], [`sink::CloudWatchSink`] (PutLogEvents, limits, retries, one
//!   stream family per writer); each implements [`sink::Sink`].
//! - [`source`] — readers that follow: [`source::file`] tails a JSONL file (truncation
//!   and rotation safe), [`source::cloudwatch`] follows a group (backfill, live tail,
//!   polling fallback, no gap, no duplicate). The consumer decides what is made of each
//!   record in the source's task ([`source::Prepare`]).
//! - [`pager`] — the one `FilterLogEvents` pager every CloudWatch reader uses.
//! - [`aws`] — SDK settings from the flags and the standard chain, the one CloudWatch
//!   client builder, AWS errors as one line that says what to do.
//! - [`notify`] — alert notifications: Slack/Teams-style webhooks and (feature `sns`)
//!   SNS topics.
//! - [`files`] — every local file zoomwatch creates (events, triage, cursor, checkpoint,
//!   exports): owner-only, written atomically.
//!
//! Parsing one stored line into a record is pure and lives in `zoomwatch_shared::lines`.

pub mod audited;
pub mod aws;
pub mod broker;
pub mod dest;
pub mod files;
pub mod notify;
pub mod pager;
pub mod sink;
pub mod source;

pub use dest::{Destination, OpenOptions, Writer};
pub use sink::{AnySink, Sink, SinkError};

/// What can go wrong setting up a reader or writer of the log (a write that fails is a
/// [`SinkError`]; a page that cannot be read, a [`pager::ReadError`]).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A setting is wrong or missing; the message says what to do.
    #[error("{0}")]
    Config(String),
    /// A file could not be opened.
    #[error("cannot open {what}: {source}")]
    Open {
        /// What was being opened, and how.
        what: String,
        /// Why not.
        source: std::io::Error,
    },
}
