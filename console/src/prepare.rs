//! What the console makes of each record before its loop sees it, done in the source's
//! task ([`zoomwatch_log::source::Prepare`]): GeoIP filled in, the stateless rules run,
//! the search text and the detector's keys derived, the stored line packed.

use std::sync::Arc;

use zoomwatch_shared::config::Config;
use zoomwatch_shared::filter::SearchText;
use zoomwatch_shared::geo::GeoIp;
use zoomwatch_shared::record::{Flag, RecordV1};

use zoomwatch_log::source::Prepare;

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
    /// Read before the records the console will keep (opening a file longer than the
    /// retention): judged and counted, never held, so neither packed nor indexed.
    pub passing: bool,
}

/// Prepares records for a console with this configuration and these databases.
pub struct Preparer {
    cfg: Config,
    geo: Option<Arc<GeoIp>>,
    keep: Option<usize>,
}

impl std::fmt::Debug for Preparer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preparer").field("geo", &self.geo.is_some()).finish_non_exhaustive()
    }
}

impl Preparer {
    /// For a console judging with `cfg`, enriching records without `geo` from `geo`.
    pub fn new(cfg: Config, geo: Option<Arc<GeoIp>>) -> Self {
        Self { cfg, geo, keep: None }
    }

    /// The same, for a console holding the newest `retention` records: a source that can
    /// tell which records come before those prepares them as passing.
    #[must_use]
    pub fn keeping(mut self, retention: usize) -> Self {
        self.keep = Some(retention.max(1));
        self
    }

    /// Prepares `record` (read from `line`) for the stateful part only: enriched, flagged
    /// and keyed, but not packed or indexed for the filter.
    pub fn prepare_passing(&self, mut record: RecordV1) -> Prepared {
        if let Some(g) = self.geo.as_ref() {
            g.enrich(&mut record);
        }
        finish(&self.cfg, record, None)
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
        finish(&self.cfg, record, Some(line))
    }

    /// Prepares a record that came without its line (written again from the record)
    /// for a console judging with `cfg`.
    pub fn prepare_with(cfg: &Config, geo: Option<&GeoIp>, mut record: RecordV1) -> Prepared {
        if let Some(g) = geo {
            g.enrich(&mut record);
        }
        let line = PackedLine::pack(&serde_json::to_string(&record).unwrap_or_default());
        finish(cfg, record, Some(line))
    }
}

impl Prepare for Preparer {
    type Item = Prepared;
    fn prepare(&self, line: &[u8], record: RecordV1) -> Prepared {
        Preparer::prepare(self, line, record)
    }
    fn keeps_last(&self) -> Option<usize> {
        self.keep
    }
    fn prepare_passing(&self, _line: &[u8], record: RecordV1) -> Prepared {
        Preparer::prepare_passing(self, record)
    }
}

/// Flags and keys for the detector; with the packed `line` (a record the console keeps),
/// the search text too; without, a passing record.
fn finish(cfg: &Config, record: RecordV1, line: Option<PackedLine>) -> Prepared {
    let flags = zoomwatch_shared::rules::effective_flags(&record, cfg);
    let keys = zoomwatch_shared::rules::Keys::of(&record);
    let passing = line.is_none();
    let search = if passing { SearchText::default() } else { SearchText::of(&record) };
    Prepared { record, line: line.unwrap_or_default(), flags, search, keys, passing }
}
