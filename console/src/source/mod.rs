//! Record sources. Each runs as a task and sends [`SourceEvent`]s on a channel; the
//! consumer (`tail`, the console) owns all state. Batches keep high-rate tails cheap.

pub mod cloudwatch;
pub mod file;

/// Capacity of the channel from a source to its consumer, in events (a batch is up to
/// 8,192 records). Enough to keep the source reading while a batch is applied; small
/// enough that a source faster than the consumer waits instead of queueing the backlog
/// in memory (with 256, catching up on 1M records held ~250 MB of queued batches).
pub const CHANNEL_CAPACITY: usize = 4;

use std::sync::Arc;

use zoomwatch_shared::config::Config;
use zoomwatch_shared::filter::SearchText;
use zoomwatch_shared::geo::GeoIp;
use zoomwatch_shared::record::{Flag, RecordV1};

use crate::packed::PackedLine;

/// A record made ready for the console in the source's task: GeoIP filled in, the
/// stateless rules run, the search text built, and the stored line kept (the console
/// holds that compact form and parses it again only to show it). The console's loop
/// then does only the stateful part.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The record.
    pub record: RecordV1,
    /// The record as one JSON line, packed.
    pub line: crate::packed::PackedLine,
    /// Its effective flags under the console's configuration.
    pub flags: Vec<Flag>,
    /// What the filter searches.
    pub search: SearchText,
    /// What the detector derives from the record alone (times, meeting key, name).
    pub keys: zoomwatch_shared::rules::Keys,
}

/// Prepares records for a console with this configuration and these databases.
pub struct Preparer {
    cfg: Config,
    geo: Option<Arc<GeoIp>>,
}

impl std::fmt::Debug for Preparer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preparer").field("geo", &self.geo.is_some()).finish_non_exhaustive()
    }
}

impl Preparer {
    /// For a console judging with `cfg`, enriching records without `geo` from `geo`.
    pub fn new(cfg: Config, geo: Option<Arc<GeoIp>>) -> Self {
        Self { cfg, geo }
    }

    /// Prepares `record`, read from `line` (the stored JSON).
    pub fn prepare(&self, line: &[u8], mut record: RecordV1) -> Prepared {
        let enriched = self.geo.as_ref().is_some_and(|g| g.enrich(&mut record));
        let line = match std::str::from_utf8(line.trim_ascii()) {
            Ok(text) if !enriched => PackedLine::pack(text),
            // Enriched here, or not UTF-8 (serde_json refuses that, so not reached):
            // the record as it now is.
            _ => PackedLine::pack(&serde_json::to_string(&record).unwrap_or_default()),
        };
        finish(&self.cfg, record, line)
    }

    /// Prepares a record that came without its line (written again from the record)
    /// for a console judging with `cfg`.
    pub fn prepare_with(cfg: &Config, geo: Option<&GeoIp>, mut record: RecordV1) -> Prepared {
        if let Some(g) = geo {
            g.enrich(&mut record);
        }
        let line = PackedLine::pack(&serde_json::to_string(&record).unwrap_or_default());
        finish(cfg, record, line)
    }
}

fn finish(cfg: &Config, record: RecordV1, line: PackedLine) -> Prepared {
    let flags = zoomwatch_shared::rules::effective_flags(&record, cfg);
    let search = SearchText::of(&record);
    let keys = zoomwatch_shared::rules::Keys::of(&record);
    Prepared { record, line, flags, search, keys }
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
    /// Reached the end and not following.
    Done,
}

/// Records a source has read and not yet sent: plain, or prepared when the source was
/// given a [`Preparer`].
#[derive(Debug, Default)]
pub(crate) struct Collected {
    prep: Option<Arc<Preparer>>,
    records: Vec<RecordV1>,
    prepared: Vec<Prepared>,
}

impl Collected {
    pub(crate) fn new(prep: Option<Arc<Preparer>>) -> Self {
        Self { prep, records: Vec::new(), prepared: Vec::new() }
    }

    /// Adds `record`, read from `line`.
    pub(crate) fn push(&mut self, line: &[u8], record: RecordV1) {
        match &self.prep {
            Some(p) => self.prepared.push(p.prepare(line, record)),
            None => self.records.push(record),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len() + self.prepared.len()
    }

    /// The next batch of at most `max` as an event, oldest first.
    pub(crate) fn next_batch(&mut self, max: usize) -> Option<SourceEvent> {
        fn front<T>(v: &mut Vec<T>, max: usize) -> Vec<T> {
            // The next batch collects in a buffer as large as this one from the start,
            // rather than re-grown (and copied) a doubling at a time: records are big.
            let cap = v.capacity().min(max);
            let mut rest = v.split_off(v.len().min(max));
            rest.reserve(cap.saturating_sub(rest.len()));
            std::mem::replace(v, rest)
        }
        if !self.prepared.is_empty() {
            return Some(SourceEvent::Prepared(front(&mut self.prepared, max)));
        }
        (!self.records.is_empty()).then(|| SourceEvent::Records(front(&mut self.records, max)))
    }
}

/// What a source reports.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    /// Records in arrival order.
    Records(Vec<RecordV1>),
    /// Records in arrival order, prepared for the console (sources given a
    /// [`Preparer`]).
    Prepared(Vec<Prepared>),
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
