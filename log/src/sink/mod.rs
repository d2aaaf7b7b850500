//! Where records go. A sink either stores a batch durably and returns `Ok`, or returns
//! an error — the router then answers 5xx so Zoom retries. A sink never reports success
//! for a record it did not store.

use std::future::Future;

use zoomwatch_shared::RecordV1;

pub mod cloudwatch;
mod file;
mod stdout;

pub use cloudwatch::CloudWatchSink;
pub use file::{Durability, FileSink};
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
    /// A remote store refused or did not confirm the write.
    #[error("remote store did not confirm the write: {0}")]
    Remote(String),
}

/// A destination for records.
pub trait Sink: Send + Sync + 'static {
    /// Stores `records` (in order). Resolves once they are durable as far as this sink
    /// can make them (see each sink's docs).
    fn write(&self, records: Vec<RecordV1>) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// One line for logs and the startup banner, e.g. `file:/var/log/zoomwatch.jsonl`.
    fn describe(&self) -> String;
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
}
