//! A second destination in OCSF ([`zoomwatch_shared::ocsf`]): [`OcsfTee`] writes each
//! batch's OCSF projection to its own file or log group *before* the records go to the
//! main destination, so a record stored is never missing from the OCSF copy. The copy is
//! at least once: a batch whose main write fails is written to it again on retry
//! (consumers dedupe on `metadata.uid`, the record id). The receiver (`serve --ocsf-to`,
//! Lambda `ZOOMWATCH_OCSF_LOG_GROUP`), the poller and `zoomwatch watch` wrap their sink
//! in one.

use zoomwatch_shared::RecordV1;

use super::cloudwatch::{Event, MAX_EVENT_BYTES};
use super::{AnySink, Sink, SinkError};

/// The main sink `S`, with every batch's OCSF projection written to `copy` first.
pub struct OcsfTee<S> {
    main: S,
    copy: AnySink,
}

impl<S: Sink> OcsfTee<S> {
    /// `main`, copying to `copy` (a file, stdout or log group).
    pub fn new(main: S, copy: AnySink) -> Self {
        Self { main, copy }
    }

    /// The main sink.
    pub fn main(&self) -> &S {
        &self.main
    }

    async fn write_copy(&self, records: &[RecordV1]) -> Result<(), SinkError> {
        let lines: Vec<(i64, String)> = records
            .iter()
            .map(|r| {
                let at = zoomwatch_shared::timefmt::parse_rfc3339_ms(&r.received_at).unwrap_or(0);
                (at, zoomwatch_shared::ocsf::to_ocsf_line(r, MAX_EVENT_BYTES))
            })
            .collect();
        match &self.copy {
            AnySink::CloudWatch(c) => {
                c.write_events(lines.into_iter().map(|(timestamp, message)| Event { timestamp, message }).collect()).await
            }
            AnySink::File(f) => f.write_bytes(lines.into_iter().flat_map(|(_, l)| (l + "\n").into_bytes()).collect()).await,
            AnySink::Stdout(_) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                for (_, l) in lines {
                    writeln!(out, "{l}")?;
                }
                out.flush().map_err(SinkError::Io)
            }
        }
    }
}

impl<S: Sink> Sink for OcsfTee<S> {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        // The copy first: if it fails, the main destination was not written either (a
        // definite failure for it, whatever became of the copy).
        if let Err(e) = self.write_copy(&records).await {
            return Err(SinkError::Remote(format!("the OCSF copy to {}: {e}", self.copy.describe())));
        }
        self.main.write(records).await
    }

    fn describe(&self) -> String {
        format!("{} (and OCSF to {})", self.main.describe(), self.copy.describe())
    }

    async fn holds(&self, id: &str, around_ms: i64) -> Result<bool, SinkError> {
        self.main.holds(id, around_ms).await
    }
}

/// A destination with an optional OCSF copy: what a command given `--ocsf-to` writes to.
pub enum MaybeOcsf {
    /// Records only.
    Plain(AnySink),
    /// Records, and their OCSF copy.
    Tee(OcsfTee<AnySink>),
}

impl MaybeOcsf {
    /// `main`, with a copy to `copy` when given.
    pub fn new(main: AnySink, copy: Option<AnySink>) -> Self {
        match copy {
            Some(c) => Self::Tee(OcsfTee::new(main, c)),
            None => Self::Plain(main),
        }
    }

    /// The main destination.
    pub fn main(&self) -> &AnySink {
        match self {
            Self::Plain(s) => s,
            Self::Tee(t) => t.main(),
        }
    }
}

impl Sink for MaybeOcsf {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        match self {
            Self::Plain(s) => s.write(records).await,
            Self::Tee(t) => t.write(records).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Plain(s) => s.describe(),
            Self::Tee(t) => t.describe(),
        }
    }

    async fn holds(&self, id: &str, around_ms: i64) -> Result<bool, SinkError> {
        self.main().holds(id, around_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::{Durability, FileSink};

    fn record(n: i64) -> RecordV1 {
        let body = format!(r#"{{"event":"meeting.started","event_ts":{n},"payload":{{"object":{{"id":"1","uuid":"u{n}","topic":"t"}}}}}}"#);
        zoomwatch_shared::normalize(
            zoomwatch_shared::Envelope::parse(body.as_bytes()).unwrap(),
            &zoomwatch_shared::Received { received_at_ms: 1_796_000_000_000, request: None },
        )
    }

    #[tokio::test]
    async fn the_copy_is_written_first_and_a_failed_copy_stops_the_main_write() {
        let dir = tempfile::tempdir().unwrap();
        let (main, copy) = (dir.path().join("main.jsonl"), dir.path().join("ocsf.jsonl"));
        let tee = OcsfTee::new(
            FileSink::open(&main, Durability::Fsync).unwrap(),
            AnySink::File(FileSink::open(&copy, Durability::Fsync).unwrap()),
        );
        tee.write(vec![record(1), record(2)]).await.unwrap();
        let ocsf: Vec<serde_json::Value> =
            std::fs::read_to_string(&copy).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(ocsf.len(), 2);
        assert_eq!(ocsf[0]["metadata"]["uid"], record(1).id.as_str());
        assert_eq!(std::fs::read_to_string(&main).unwrap().lines().count(), 2);
        assert!(tee.describe().contains("and OCSF to file:"));

        // The copy's destination closed: nothing reaches the main one, and the error is a
        // definite one (the receiver releases its claim and Zoom retries).
        if let AnySink::File(f) = &tee.copy {
            f.close();
        }
        let e = tee.write(vec![record(3)]).await.unwrap_err();
        assert!(!e.may_have_landed() && e.to_string().contains("OCSF copy"), "{e}");
        assert_eq!(std::fs::read_to_string(&main).unwrap().lines().count(), 2);
    }
}
