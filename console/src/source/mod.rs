//! Record sources. Each runs as a task and sends [`SourceEvent`]s on a channel; the
//! consumer (`tail`, the console) owns all state. Batches keep high-rate tails cheap.

pub mod cloudwatch;
pub mod file;

/// Capacity of the channel from a source to its consumer, in events (a batch is up to
/// 8,192 records). Enough to keep the source reading while a batch is applied; small
/// enough that a source faster than the consumer waits instead of queueing the backlog
/// in memory (with 256, catching up on 1M records held ~250 MB of queued batches).
pub const CHANNEL_CAPACITY: usize = 4;

use zoomwatch_shared::record::RecordV1;

/// Connection state of a source, for the console header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Reading history.
    Backfilling,
    /// Following new records as they arrive.
    Live,
    /// Waiting for the file / log group to exist or the service to answer.
    Waiting(String),
    /// Lost the source; retrying.
    Reconnecting(String),
    /// Reached the end and not following.
    Done,
}

/// What a source reports.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    /// Records in arrival order.
    Records(Vec<RecordV1>),
    /// Lines that were not records (platform lines, garbage), counted.
    Skipped(u64),
    /// A change of connection state.
    Status(Status),
    /// Everything before this point was sent (a file source, after each batch): where
    /// a restart can resume.
    Position(Position),
}

/// A place in a file source, for checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// The file's inode (a rotated file is another file).
    pub inode: u64,
    /// Bytes fully read (up to the end of the last complete line sent).
    pub offset: u64,
}
