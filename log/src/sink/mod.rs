//! Where records go. A sink either stores a batch durably and returns `Ok`, or returns
//! an error — the router then answers 5xx so Zoom retries. A sink never reports success
//! for a record it did not store.

use std::future::Future;

use zoomwatch_shared::RecordV1;

pub mod cloudwatch;
mod file;
pub mod ocsf;
mod stdout;

pub use cloudwatch::CloudWatchSink;
pub use file::{Durability, FileSink};
pub use ocsf::{MaybeOcsf, OcsfTee};
pub use stdout::StdoutSink;

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Local I/O failed (disk full, file removed, pipe closed…).
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// The sink has shut down.
    #[error("sink is closed")]
    Closed,
    /// A remote store refused the write: nothing of it was stored.
    #[error("remote store did not confirm the write: {0}")]
    Remote(String),
    /// A remote store did not answer in time, or answered with a server error: the write
    /// may have been stored all the same (a late acceptance).
    #[error("remote store did not confirm the write (it may still land): {0}")]
    Unconfirmed(String),
}

impl SinkError {
    /// Whether the failed write may have been stored after all: only when a remote store
    /// did not say (a file write that fails is cut back to where it started).
    pub fn may_have_landed(&self) -> bool {
        matches!(self, Self::Unconfirmed(_))
    }
}

/// A destination for records.
pub trait Sink: Send + Sync + 'static {
    /// Stores `records` (in order). Resolves once they are durable as far as this sink
    /// can make them (see each sink's docs).
    fn write(&self, records: Vec<RecordV1>) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// One line for logs and the startup banner, e.g. `file:/var/log/zoomwatch.jsonl`.
    fn describe(&self) -> String;

    /// Whether a record with id `id`, written at about `around_ms` (by any writer), is
    /// stored here: how a write whose outcome was unknown is settled before writing it
    /// again. A sink that cannot be read answers an error (and the record is written
    /// again: at least once).
    fn holds(&self, id: &str, around_ms: i64) -> impl Future<Output = Result<bool, SinkError>> + Send {
        let _ = (id, around_ms);
        async { Err(SinkError::Remote(format!("{} cannot be read back", self.describe()))) }
    }
}

/// Serializes records as JSON Lines ([`zoomwatch_shared::lines::to_line`]: control,
/// line-separator and bidi characters escaped, so each record is exactly one line).
pub fn to_jsonl(records: &[RecordV1]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 1024);
    for r in records {
        out.extend_from_slice(zoomwatch_shared::lines::to_line(r).as_bytes());
        out.push(b'\n');
    }
    out
}

/// The sinks a binary can be configured with, as one type so the router stays generic
/// without boxing.
pub enum AnySink {
    /// JSONL file.
    File(FileSink),
    /// Standard output.
    Stdout(StdoutSink),
    /// CloudWatch Logs.
    CloudWatch(CloudWatchSink),
}

impl AnySink {
    /// Makes sure the destination can be written now: for a log group, that today's
    /// stream exists (and so that the group does and may be written); a file or stdout
    /// was checked when opened. Checked before acting, so an action is never taken
    /// unaudited.
    pub async fn check(&self, now_ms: i64) -> Result<(), SinkError> {
        match self {
            Self::File(_) | Self::Stdout(_) => Ok(()),
            Self::CloudWatch(s) => s.check(now_ms).await,
        }
    }
}

impl Sink for AnySink {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        match self {
            Self::File(s) => s.write(records).await,
            Self::Stdout(s) => s.write(records).await,
            Self::CloudWatch(s) => s.write(records).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::File(s) => s.describe(),
            Self::Stdout(s) => s.describe(),
            Self::CloudWatch(s) => s.describe(),
        }
    }

    async fn holds(&self, id: &str, around_ms: i64) -> Result<bool, SinkError> {
        match self {
            Self::File(s) => s.holds(id, around_ms).await,
            Self::Stdout(s) => s.holds(id, around_ms).await,
            Self::CloudWatch(s) => s.holds(id, around_ms).await,
        }
    }
}
