//! JSON Lines file sink with group commit.
//!
//! Requests hand their serialized lines to one writer thread. The thread takes everything
//! queued, appends it with a single `write` (the file is opened `O_APPEND`, so lines from
//! concurrent requests never interleave), then — with [`Durability::Fsync`], the
//! default — calls `fdatasync` once for the whole group and only then acknowledges each
//! request. So a 200 means "on disk", and under load one fsync covers many requests.
//!
//! A write that fails part-way (disk full, file size limit) is cut back to where it
//! started, so a failed request leaves no torn record behind; its requests get the error
//! (the router answers 503) and the next write starts cleanly. A crash can at worst leave
//! a partial last line; on open, a file that does not end in a newline gets one first, so
//! the next record starts on its own line. Readers skip lines that are not records.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};
use zoomwatch_shared::RecordV1;

use super::{Sink, SinkError, to_jsonl};

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After `fdatasync`: survives a crash of the machine.
    Fsync,
    /// After `write`: survives a crash of the process, not of the machine.
    OsBuffer,
}

struct Job {
    bytes: Vec<u8>,
    ack: oneshot::Sender<std::io::Result<()>>,
}

/// Appends records to a JSONL file.
pub struct FileSink {
    path: PathBuf,
    tx: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// Most bytes written in one group.
const MAX_GROUP_BYTES: usize = 4 * 1024 * 1024;

impl FileSink {
    /// Opens (creating if needed) `path` for appending and starts the writer thread.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = crate::files::open_append(&path)?;
        terminate_partial_line(&mut file)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = std::thread::Builder::new().name("zoomwatch-file-sink".to_owned()).spawn(move || writer_loop(file, rx, durability))?;
        Ok(Self { path, tx: Mutex::new(Some(tx)), worker: Mutex::new(Some(worker)) })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting writes, lets the writer finish what is queued, and waits for it.
    pub fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(handle) = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        self.close();
    }
}

fn terminate_partial_line(file: &mut File) -> std::io::Result<()> {
    let meta = file.metadata()?;
    let len = meta.len();
    if len == 0 || !meta.is_file() {
        return Ok(());
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")?;
    }
    Ok(())
}

fn writer_loop(mut file: File, mut rx: mpsc::UnboundedReceiver<Job>, durability: Durability) {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut acks = Vec::with_capacity(256);
    // After a failed write the file may end mid-line: start the next group on a new line.
    let mut after_error = false;
    while let Some(first) = rx.blocking_recv() {
        buf.clear();
        if after_error {
            buf.push(b'\n');
        }
        buf.extend_from_slice(&first.bytes);
        acks.push(first.ack);
        while buf.len() < MAX_GROUP_BYTES {
            match rx.try_recv() {
                Ok(job) => {
                    buf.extend_from_slice(&job.bytes);
                    acks.push(job.ack);
                }
                Err(_) => break,
            }
        }
        let before = file.metadata().map(|m| m.len()).ok();
        let mut written = 0usize;
        let result = write_counted(&mut file, &buf, &mut written).and_then(|()| match durability {
            Durability::Fsync => file.sync_data(),
            Durability::OsBuffer => Ok(()),
        });
        after_error = result.is_err() && written > 0 && !cut_back(&file, before, written);
        for ack in acks.drain(..) {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
            };
            let _ = ack.send(r);
        }
    }
}

/// `write_all` that says how far it got.
fn write_counted(file: &mut File, buf: &[u8], written: &mut usize) -> std::io::Result<()> {
    while *written < buf.len() {
        match file.write(&buf[*written..]) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "the file accepted no more bytes")),
            Ok(n) => *written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// After a failed write of which `written` bytes landed: cuts them back off, when they are
/// still the end of the file (no other process appended since). True when the file ends
/// where it did before the write.
fn cut_back(file: &File, before: Option<u64>, written: usize) -> bool {
    let Some(before) = before else { return false };
    let ours_at_end = file.metadata().is_ok_and(|m| m.len() == before + written as u64);
    ours_at_end && file.set_len(before).is_ok()
}

impl FileSink {
    /// Appends `bytes` (whole lines), as [`Sink::write`] appends records.
    pub async fn write_bytes(&self, bytes: Vec<u8>) -> Result<(), SinkError> {
        let (ack, done) = oneshot::channel();
        {
            let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
            tx.as_ref().ok_or(SinkError::Closed)?.send(Job { bytes, ack }).map_err(|_| SinkError::Closed)?;
        }
        done.await.map_err(|_| SinkError::Closed)?.map_err(SinkError::Io)
    }
}

impl Sink for FileSink {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), SinkError> {
        self.write_bytes(to_jsonl(&records)).await
    }

    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    /// Reads the file's last [`HOLDS_SCAN_BYTES`] (where a record written minutes ago is).
    async fn holds(&self, id: &str, _around_ms: i64) -> Result<bool, SinkError> {
        let (path, id) = (self.path.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || file_holds(&path, &id)).await.map_err(|_| SinkError::Closed)?.map_err(SinkError::Io)
    }
}

/// How far back from the end of the file [`FileSink::holds`] looks.
pub const HOLDS_SCAN_BYTES: u64 = 64 * 1024 * 1024;

fn file_holds(path: &Path, id: &str) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(HOLDS_SCAN_BYTES)))?;
    let mut tail = Vec::new();
    file.take(HOLDS_SCAN_BYTES).read_to_end(&mut tail)?;
    let needle = format!("\"id\":{}", serde_json::Value::String(id.to_owned()));
    Ok(tail.split(|b| *b == b'\n').any(|line| {
        line.windows(needle.len()).any(|w| w == needle.as_bytes()) && zoomwatch_shared::lines::parse(line).is_ok_and(|r| r.id == id)
    }))
}
