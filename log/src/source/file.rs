//! Tails a JSONL file the way `tail -F` does: from the start (or the end), following
//! appends, surviving truncation (starts over) and rotation (finishes the old file, then
//! opens the new one). A partial last line is held until its newline arrives. Polls every
//! 50 ms — one `stat` when idle — which works on every filesystem.

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use zoomwatch_shared::lines;

use super::{AsRead, Collected, Position, Prepare, SourceEvent, Status};

/// Where to start reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The whole file.
    Beginning,
    /// Only what is appended from now on.
    End,
    /// Where a previous run stopped: this offset if the file is still the one with this
    /// inode and not shorter, else (rotated, truncated) the beginning.
    At(Position),
}

/// Options of a file source.
#[derive(Debug, Clone)]
pub struct FileSource {
    /// The file.
    pub path: PathBuf,
    /// Where to start.
    pub start: Start,
    /// Keep following after the end.
    pub follow: bool,
    /// Poll interval when idle.
    pub poll: Duration,
}

impl FileSource {
    /// Follows `path` from the beginning.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), start: Start::Beginning, follow: true, poll: Duration::from_millis(50) }
    }
}

/// Most records sent in one batch.
const BATCH: usize = 8192;

struct Reader<P: Prepare> {
    pending: Vec<u8>,
    batch: Collected<P>,
    skipped: u64,
}

impl<P: Prepare> Reader<P> {
    fn take_lines(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(nl) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = &self.pending[start..start + nl];
            match lines::parse(line) {
                Ok(r) => self.batch.push(line, r),
                Err(lines::Skip::Blank) => {}
                Err(_) => self.skipped += 1,
            }
            start += nl + 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > lines::MAX_LINE {
            // A "line" this long is not a record; drop it rather than grow without bound.
            self.pending.clear();
            self.skipped += 1;
        }
    }

    fn finish_partial(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            match lines::parse(&line) {
                Ok(r) => self.batch.push(&line, r),
                Err(lines::Skip::Blank) => {}
                Err(_) => self.skipped += 1,
            }
        }
    }

    async fn flush(&mut self, tx: &mpsc::Sender<SourceEvent<P::Item>>) -> bool {
        if self.skipped > 0 && tx.send(SourceEvent::Skipped(std::mem::take(&mut self.skipped))).await.is_err() {
            return false;
        }
        while let Some(out) = self.batch.next_batch(BATCH) {
            if tx.send(out).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Sends the position when it moved; false when the receiver went away.
async fn report<T>(tx: &mpsc::Sender<SourceEvent<T>>, reported: &mut Option<Position>, inode: u64, offset: u64) -> bool {
    let p = Position { inode, offset };
    if *reported == Some(p) {
        return true;
    }
    *reported = Some(p);
    tx.send(SourceEvent::Position(p)).await.is_ok()
}

/// Runs the source until the end (not following), or until the receiver goes away,
/// sending records as read.
pub async fn run(opts: FileSource, tx: mpsc::Sender<SourceEvent>) {
    run_prepared(opts, Arc::new(AsRead), tx).await;
}

/// Like [`run`], each record prepared by the consumer's `prep` in this task.
pub async fn run_prepared<P: Prepare>(opts: FileSource, prep: Arc<P>, tx: mpsc::Sender<SourceEvent<P::Item>>) {
    let mut reported: Option<Position> = None;
    let mut reader = Reader { pending: Vec::new(), batch: Collected::new(prep), skipped: 0 };
    let mut buf = vec![0u8; 256 * 1024];
    let mut first_open = true;
    'reopen: loop {
        let mut file = match tokio::fs::File::open(&opts.path).await {
            Ok(f) => f,
            Err(e) => {
                if !opts.follow {
                    let _ = tx.send(SourceEvent::Status(Status::Waiting(format!("cannot open {}: {e}", opts.path.display())))).await;
                    let _ = tx.send(SourceEvent::Status(Status::Done)).await;
                    return;
                }
                if tx.send(SourceEvent::Status(Status::Waiting(format!("waiting for {} ({e})", opts.path.display())))).await.is_err() {
                    return;
                }
                tokio::time::sleep(opts.poll.max(Duration::from_millis(200))).await;
                continue 'reopen;
            }
        };
        let Ok(meta) = file.metadata().await else {
            continue 'reopen;
        };
        let inode = meta.ino();
        let mut offset: u64 = 0;
        let resume_at = match opts.start {
            Start::End if first_open => Some(meta.len()),
            Start::At(p) if first_open && p.inode == inode && p.offset <= meta.len() => Some(p.offset),
            _ => None,
        };
        if let Some(at) = resume_at {
            offset = at;
            if file.seek(SeekFrom::Start(offset)).await.is_err() {
                offset = 0;
            }
        }
        first_open = false;
        let _ = tx.send(SourceEvent::Status(Status::Backfilling)).await;
        let mut live_announced = false;
        loop {
            match file.read(&mut buf).await {
                Ok(0) => {
                    if !reader.flush(&tx).await || !report(&tx, &mut reported, inode, offset - reader.pending.len() as u64).await {
                        return;
                    }
                    if !opts.follow {
                        reader.finish_partial();
                        if reader.flush(&tx).await {
                            report(&tx, &mut reported, inode, offset).await;
                        }
                        let _ = tx.send(SourceEvent::Status(Status::Done)).await;
                        return;
                    }
                    if !live_announced {
                        live_announced = true;
                        if tx.send(SourceEvent::Status(Status::Live)).await.is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(opts.poll).await;
                    if tx.is_closed() {
                        return;
                    }
                    // Rotation: the path now names another file. Finish this one first
                    // (done: we are at its end), then switch.
                    match tokio::fs::metadata(&opts.path).await {
                        Ok(m) if m.ino() != inode => {
                            reader.finish_partial();
                            continue 'reopen;
                        }
                        Ok(m) if m.len() < offset => {
                            // Truncated in place: start over.
                            reader.pending.clear();
                            offset = 0;
                            if file.seek(SeekFrom::Start(0)).await.is_err() {
                                continue 'reopen;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => {
                            reader.finish_partial();
                            continue 'reopen;
                        }
                    }
                }
                Ok(n) => {
                    offset += n as u64;
                    reader.take_lines(&buf[..n]);
                    if reader.batch.len() >= BATCH
                        && (!reader.flush(&tx).await || !report(&tx, &mut reported, inode, offset - reader.pending.len() as u64).await)
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(SourceEvent::Status(Status::Reconnecting(format!("read error on {}: {e}", opts.path.display())))).await;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue 'reopen;
                }
            }
        }
    }
}
