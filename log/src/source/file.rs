//! Tails a JSONL file the way `tail -F` does: from the start (or the end), following
//! appends, surviving truncation (starts over) and rotation (finishes the old file, then
//! opens the new one). A partial last line is held until its newline arrives. Polls every
//! 50 ms — one `stat` when idle — which works on every filesystem.

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::io::Seek;
use tokio::sync::mpsc;

use zoomwatch_shared::lines;

use super::workers::Workers;
use super::{AsRead, Position, Prepare, SourceEvent, Status};

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

/// Lines that make a batch: one is handed to a worker after the read that brings it to
/// this many (so up to one read's lines more).
const BATCH: usize = 1024;
/// Batches parsed and prepared at once by the [`Workers`], while the consumer applies the
/// one before: a file read from the start (a day of records) keeps every core busy.
/// Batches are sent in file order.
const IN_FLIGHT: usize = 2;

/// A batch being parsed and prepared: its records and skipped lines, and the file
/// offset after its last line.
type Pending<T> = (tokio::sync::oneshot::Receiver<(Vec<T>, u64)>, u64);

struct Reader<P: Prepare> {
    /// The next batch as read: complete lines up to `complete`, then the start of the
    /// next line. The file is read straight into it; a batch leaves for a worker
    /// without being copied, and only its partial last line is moved to the next.
    buf: Vec<u8>,
    /// Where the complete lines in `buf` end.
    complete: usize,
    /// How many complete lines.
    count: usize,
    /// Over-long "lines" dropped since the last batch (counted with it as skipped).
    dropped: u64,
    prep: Arc<P>,
    in_flight: std::collections::VecDeque<Pending<P::Item>>,
    /// Lines ending at or before this offset are past the consumer's retention by the
    /// end of the file as opened ([`Prepare::keeps_last`]): prepared as passing.
    keep_from: u64,
}

/// Parses and prepares each line of `lines` (newline-terminated, the last ending at file
/// offset `end`): (records, lines that were not records). Lines ending at or before
/// `keep_from` are prepared as passing.
fn prepare_lines<P: Prepare>(prep: &P, lines: &[u8], end: u64, keep_from: u64) -> (Vec<P::Item>, u64) {
    let mut out = Vec::with_capacity(lines.len() / 512 + 1);
    let mut skipped = 0;
    let base = end.saturating_sub(lines.len() as u64);
    let mut from = 0usize;
    for nl in memchr::memchr_iter(b'\n', lines).chain(std::iter::once(lines.len())) {
        let Some(line) = lines.get(from..nl) else { break };
        from = nl + 1;
        let at = from;
        match lines::parse(line) {
            Ok(r) if base + at as u64 <= keep_from => out.push(prep.prepare_passing(line, r)),
            Ok(r) => out.push(prep.prepare(line, r)),
            Err(lines::Skip::Blank) => {}
            Err(_) => skipped += 1,
        }
    }
    (out, skipped)
}

/// Offset where the last `n` lines of a file of `len` bytes start (0 when it holds no
/// more than `n`), read backwards from its end. A missing final newline counts as one.
fn start_of_last_lines(file: &std::fs::File, len: u64, n: usize) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    const CHUNK: u64 = 1 << 20;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut end = len;
    // The newline ending the last line does not start one.
    let mut seen: usize = 0;
    let mut skip_final = true;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        for i in memchr::memrchr_iter(b'\n', chunk) {
            if skip_final && start + i as u64 + 1 == len {
                skip_final = false;
                continue;
            }
            skip_final = false;
            seen += 1;
            if seen == n {
                return Ok(start + i as u64 + 1);
            }
        }
        skip_final = false;
        end = start;
    }
    Ok(0)
}

impl<P: Prepare> Reader<P> {
    /// Bytes read at once.
    const READ: usize = 1024 * 1024;

    /// Reads what `file` has next into the batch, on a blocking thread: the number of
    /// bytes (0 at its end). The bytes go straight into the batch's spare capacity (not
    /// zeroed first, not through a buffer of the runtime's).
    async fn read(&mut self, file: &Arc<std::fs::File>) -> std::io::Result<usize> {
        use std::io::Read;
        #[cfg(test)]
        if tests::FAIL_READ.with(|n| n.replace(n.get().saturating_sub(1)) == 1) {
            return Err(std::io::Error::other("injected read error"));
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.reserve(Self::READ);
        let before = buf.len();
        let f = file.clone();
        let (buf, read) = tokio::task::spawn_blocking(move || {
            let read = (&*f).take(Self::READ as u64).read_to_end(&mut buf);
            if read.is_err() {
                // What was read before the error is read again after reopening.
                buf.truncate(before);
            }
            (buf, read)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.buf = buf;
        read
    }

    /// Takes the bytes just read (the file is now at `offset`); complete lines join the
    /// batch, which is handed to a worker once it holds [`BATCH`] lines.
    fn take_read(&mut self, n: usize, offset: u64) {
        let start = self.buf.len() - n;
        if let Some(last) = memchr::memrchr(b'\n', &self.buf[start..]) {
            let end = start + last + 1;
            self.count += memchr::memchr_iter(b'\n', &self.buf[start..end]).count();
            self.complete = end;
        }
        if self.partial_len() > lines::MAX_LINE {
            // A "line" this long is not a record; drop it rather than grow without bound.
            self.buf.truncate(self.complete);
            self.dropped += 1;
        }
        if self.count >= BATCH {
            self.dispatch(offset - self.partial_len() as u64);
        }
    }

    /// Bytes after the last complete line.
    fn partial_len(&self) -> usize {
        self.buf.len() - self.complete
    }

    /// Forgets the partial line (the file was truncated, or replaced after a failed read).
    fn clear_partial(&mut self) {
        self.buf.truncate(self.complete);
    }

    /// Hands the complete lines to a worker; `end` is the file offset after them.
    fn dispatch(&mut self, end: u64) {
        if self.complete == 0 && self.dropped == 0 {
            return;
        }
        // The partial line starts the next batch's buffer, sized like this one so that
        // filling it moves nothing.
        let mut next = Vec::with_capacity(self.complete.max(Self::READ) + Self::READ);
        next.extend_from_slice(&self.buf[self.complete..]);
        self.buf.truncate(self.complete);
        let lines = std::mem::replace(&mut self.buf, next);
        self.complete = 0;
        let dropped = std::mem::take(&mut self.dropped);
        self.count = 0;
        let prep = self.prep.clone();
        let keep_from = self.keep_from;
        let job = Workers::shared().run(move || {
            let (items, skipped) = prepare_lines(prep.as_ref(), &lines, end, keep_from);
            (items, skipped + dropped)
        });
        self.in_flight.push_back((job, end));
    }

    /// The partial last line as a line of its own (the file ended without a newline).
    fn finish_partial(&mut self, end: u64) {
        if self.partial_len() > 0 {
            self.buf.push(b'\n');
            self.complete = self.buf.len();
            self.count += 1;
        }
        self.dispatch(end);
    }

    /// Sends finished batches, oldest first, until at most `keep` are in flight, each
    /// followed by its position; false when the receiver went away.
    async fn drain(&mut self, keep: usize, tx: &mpsc::Sender<SourceEvent<P::Item>>, reported: &mut Option<Position>, inode: u64) -> bool {
        while self.in_flight.len() > keep {
            let Some((job, end)) = self.in_flight.pop_front() else { break };
            let (items, skipped) = job.await.unwrap_or_default();
            if skipped > 0 && tx.send(SourceEvent::Skipped(skipped)).await.is_err() {
                return false;
            }
            if !items.is_empty() && tx.send(SourceEvent::Records(items)).await.is_err() {
                return false;
            }
            if !report(tx, reported, inode, end).await {
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
    let keeps_last = prep.keeps_last();
    let mut reader =
        Reader { buf: Vec::new(), complete: 0, count: 0, dropped: 0, prep, in_flight: std::collections::VecDeque::new(), keep_from: 0 };
    let mut first_open = true;
    // Where a read failed: the reopened file is read on from there if it is the same one.
    let mut failed_at: Option<Position> = None;
    'reopen: loop {
        // Opened without blocking the runtime; then read, sought and measured as a plain
        // file (a seek or fstat does not wait on the disk).
        let file = match tokio::fs::File::open(&opts.path).await {
            Ok(f) => Arc::new(f.into_std().await),
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
        let Ok(meta) = file.metadata() else {
            continue 'reopen;
        };
        let inode = meta.ino();
        let mut offset: u64 = 0;
        let mut resume_at = match opts.start {
            Start::End if first_open => Some(meta.len()),
            Start::At(p) if first_open && p.inode == inode && p.offset <= meta.len() => Some(p.offset),
            _ => None,
        };
        if let Some(p) = failed_at.take() {
            if p.inode == inode && p.offset <= meta.len() {
                // The same file after a failed read: on from where it failed, the lines
                // already read (and the partial one) still in the batch.
                resume_at = Some(p.offset);
            } else {
                // Another file now: the old one's complete lines go out; its partial
                // line cannot be finished and counts as skipped.
                let end = p.offset - reader.partial_len() as u64;
                if reader.partial_len() > 0 {
                    reader.clear_partial();
                    reader.dropped += 1;
                }
                reader.dispatch(end);
                if !reader.drain(0, &tx, &mut reported, p.inode).await {
                    return;
                }
            }
        }
        if let Some(at) = resume_at {
            offset = at;
            if (&*file).seek(SeekFrom::Start(offset)).is_err() {
                offset = 0;
            }
        }
        first_open = false;
        // Opening a day's file: the records the consumer will not keep are only judged.
        reader.keep_from = 0;
        if let Some(n) = keeps_last
            && meta.len() > offset
        {
            let len = meta.len();
            let f = file.clone();
            let found = tokio::task::spawn_blocking(move || start_of_last_lines(&f, len, n)).await;
            reader.keep_from = found.ok().and_then(Result::ok).unwrap_or(0);
        }
        let _ = tx.send(SourceEvent::Status(Status::Backfilling)).await;
        let mut live_announced = false;
        loop {
            match reader.read(&file).await {
                Ok(0) => {
                    reader.dispatch(offset - reader.partial_len() as u64);
                    if !reader.drain(0, &tx, &mut reported, inode).await
                        || !report(&tx, &mut reported, inode, offset - reader.partial_len() as u64).await
                    {
                        return;
                    }
                    if !opts.follow {
                        reader.finish_partial(offset);
                        if reader.drain(0, &tx, &mut reported, inode).await {
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
                            reader.finish_partial(offset);
                            if !reader.drain(0, &tx, &mut reported, inode).await {
                                return;
                            }
                            continue 'reopen;
                        }
                        Ok(m) if m.len() < offset => {
                            // Truncated in place: start over, keeping every line.
                            reader.clear_partial();
                            reader.keep_from = 0;
                            offset = 0;
                            if (&*file).seek(SeekFrom::Start(0)).is_err() {
                                continue 'reopen;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => {
                            reader.finish_partial(offset);
                            if !reader.drain(0, &tx, &mut reported, inode).await {
                                return;
                            }
                            continue 'reopen;
                        }
                    }
                }
                Ok(n) => {
                    offset += n as u64;
                    reader.take_read(n, offset);
                    if !reader.drain(IN_FLIGHT, &tx, &mut reported, inode).await {
                        return;
                    }
                }
                Err(e) => {
                    failed_at = Some(Position { inode, offset });
                    let _ = tx.send(SourceEvent::Status(Status::Reconnecting(format!("read error on {}: {e}", opts.path.display())))).await;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue 'reopen;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoomwatch_shared::{Envelope, Received, normalize};

    thread_local! {
        /// Counts reads down; the read that takes it from 1 to 0 fails.
        pub(super) static FAIL_READ: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// Records `p{from}`… as stored lines, about `bytes` of them: (text, next number).
    fn lines_from(from: i64, bytes: usize) -> (String, i64) {
        let (mut text, mut n) = (String::new(), from);
        while text.len() < bytes {
            let body = format!(
                r#"{{"event":"meeting.participant_joined","event_ts":{n},"payload":{{"object":{{"uuid":"u","id":1,"participant":{{"user_name":"p{n}","user_id":"{n}"}}}}}}}}"#
            );
            let r = normalize(Envelope::parse(body.as_bytes()).unwrap(), &Received { received_at_ms: n, request: None });
            text.push_str(&serde_json::to_string(&r).unwrap());
            text.push('\n');
            n += 1;
        }
        (text, n)
    }

    /// Reads `path` to its end with the `fail`-th read failing, calling `meanwhile` when
    /// the source reports it: (names, skipped, last position).
    async fn read_failing(path: &std::path::Path, fail: u32, meanwhile: impl FnOnce()) -> (Vec<String>, u64, Option<u64>) {
        FAIL_READ.with(|c| c.set(fail));
        let (tx, mut rx) = mpsc::channel(16);
        let mut src = FileSource::new(path);
        src.follow = false;
        tokio::spawn(run(src, tx));
        let (mut names, mut skipped, mut last, mut meanwhile) = (Vec::new(), 0, None, Some(meanwhile));
        while let Some(ev) = rx.recv().await {
            match ev {
                SourceEvent::Records(rs) => names.extend(rs.into_iter().map(|r| r.participant.unwrap().name.unwrap())),
                SourceEvent::Skipped(k) => skipped += k,
                // The source waits half a second before it opens the file again.
                SourceEvent::Status(Status::Reconnecting(_)) => meanwhile.take().expect("one failed read")(),
                SourceEvent::Position(p) => last = Some(p.offset),
                SourceEvent::Status(_) => {}
            }
        }
        assert!(meanwhile.is_none(), "the read failed");
        (names, skipped, last)
    }

    fn names(range: std::ops::Range<i64>) -> Vec<String> {
        range.map(|i| format!("p{i}")).collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_read_goes_on_from_where_it_failed_nothing_lost_or_doubled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        // About 3 MiB: three reads, the second of which fails.
        let (text, n) = lines_from(0, 3 * 1024 * 1024);
        std::fs::write(&path, &text).unwrap();
        let (got, skipped, last) = read_failing(&path, 2, || {}).await;
        assert_eq!(skipped, 0, "no line glued to another");
        assert_eq!(got, names(0..n), "every record once, in order");
        assert_eq!(last, Some(text.len() as u64));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_file_replaced_after_a_failed_read_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let (old, _) = lines_from(0, 2 * 1024 * 1024);
        std::fs::write(&path, &old).unwrap();
        let (new, m) = lines_from(100_000, 4096);
        let replace = || {
            std::fs::rename(&path, dir.path().join("events.jsonl.1")).unwrap();
            std::fs::write(&path, &new).unwrap();
        };
        // The second read fails: the first read's complete lines were read, its partial
        // last line cannot be finished.
        let (got, skipped, last) = read_failing(&path, 2, replace).await;
        let first_read = &old[..1024 * 1024];
        let complete = first_read.matches('\n').count() as i64;
        assert_eq!(got, [names(0..complete), names(100_000..m)].concat(), "the old file's lines read, then the new file's");
        assert_eq!(skipped, 1, "the unfinished line is counted");
        assert_eq!(last, Some(new.len() as u64));
    }
}
