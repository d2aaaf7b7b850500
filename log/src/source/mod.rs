//! Record sources. Each runs as a task and sends [`SourceEvent`]s on a channel; the
//! consumer (`tail`, the console, the watcher) owns all state, and decides what is made
//! of each record in the source's task ([`Prepare`]). Batches keep high-rate tails cheap.

pub mod cloudwatch;
pub mod file;
pub mod provenance;
mod slicer;
pub mod workers;

/// Capacity of the channel from a source to its consumer, in events (a batch is up to
/// 8,192 records). Enough to keep the source reading while a batch is applied; small
/// enough that a source faster than the consumer waits instead of queueing the backlog
/// in memory (with 256, catching up on 1M records held ~250 MB of queued batches).
pub const CHANNEL_CAPACITY: usize = 4;

use std::sync::Arc;

use zoomwatch_shared::record::RecordV1;

/// What a consumer does to each record in the source's task, before the batch is sent
/// (the console packs, enriches and flags records there, off its own loop). The source
/// only reads; the work and its result type belong to the consumer.
pub trait Prepare: Send + Sync + 'static {
    /// What the consumer receives for each record.
    type Item: Send + 'static;
    /// Prepares `record`, read from `line` (the stored JSON).
    fn prepare(&self, line: &[u8], record: RecordV1) -> Self::Item;
    /// How many of the newest records the consumer keeps (the console's retention);
    /// `None`: every one. A source that can tell which records will be pushed out
    /// before the end of what it reads at once (a file opened from the start) prepares
    /// those with [`Prepare::prepare_passing`].
    fn keeps_last(&self) -> Option<usize> {
        None
    }
    /// Prepares a record the consumer will judge and count but not keep: only what the
    /// stateful part needs (the console skips packing the line and the search text).
    fn prepare_passing(&self, line: &[u8], record: RecordV1) -> Self::Item {
        self.prepare(line, record)
    }
}

/// Records sent as read.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsRead;

impl Prepare for AsRead {
    type Item = RecordV1;
    fn prepare(&self, _line: &[u8], record: RecordV1) -> RecordV1 {
        record
    }
}

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
    /// Cannot read the source and retrying will not help (no AWS credentials at all):
    /// the source has stopped; the reason says what to do.
    Failed(String),
    /// Reached the end and not following.
    Done,
}

/// Records a source has read and not yet sent, prepared by the consumer's [`Prepare`].
pub(crate) struct Collected<P: Prepare> {
    prep: Arc<P>,
    items: Vec<P::Item>,
}

impl<P: Prepare> Collected<P> {
    pub(crate) fn new(prep: Arc<P>) -> Self {
        Self { prep, items: Vec::new() }
    }

    /// Adds `record`, read from `line`.
    pub(crate) fn push(&mut self, line: &[u8], record: RecordV1) {
        self.items.push(self.prep.prepare(line, record));
    }

    /// The next batch of at most `max` as an event, oldest first.
    pub(crate) fn next_batch(&mut self, max: usize) -> Option<SourceEvent<P::Item>> {
        if self.items.is_empty() {
            return None;
        }
        // The next batch collects in a buffer as large as this one from the start,
        // rather than re-grown (and copied) a doubling at a time: records are big.
        let cap = self.items.capacity().min(max);
        let mut rest = self.items.split_off(self.items.len().min(max));
        rest.reserve(cap.saturating_sub(rest.len()));
        Some(SourceEvent::Records(std::mem::replace(&mut self.items, rest)))
    }
}

/// What a source reports; `T` is what the consumer's [`Prepare`] makes of a record.
#[derive(Debug, Clone)]
pub enum SourceEvent<T = RecordV1> {
    /// Records in arrival order.
    Records(Vec<T>),
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
