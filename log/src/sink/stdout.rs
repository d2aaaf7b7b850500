//! One JSON line per record on standard output. Under Lambda this lands in the
//! function's own log group; locally it is handy for piping into `jq`.

use std::io::Write;
use std::sync::Mutex;

use zoomwatch_shared::RecordV1;

use super::{Sink, SinkError, to_jsonl};

/// Writes records to stdout; `Ok` once the bytes are flushed to the file descriptor.
#[derive(Default)]
pub struct StdoutSink {
    lock: Mutex<()>,
}

impl StdoutSink {
    /// A sink on this process's stdout.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Sink for StdoutSink {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        let bytes = to_jsonl(&records);
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }

    fn describe(&self) -> String {
        "stdout".to_owned()
    }
}
