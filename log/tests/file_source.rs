//! The JSONL file source follows appends, holds partial lines, and survives truncation,
//! rotation and a file that appears late.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc;
use zoomwatch_log::source::file::{self, FileSource};
use zoomwatch_log::source::{SourceEvent, Status};
use zoomwatch_shared::{Envelope, Received, normalize};

fn line(n: i64) -> String {
    let body = format!(
        r#"{{"event":"meeting.participant_joined","event_ts":{n},"payload":{{"object":{{"uuid":"u","id":1,"participant":{{"user_name":"p{n}","user_id":"{n}"}}}}}}}}"#
    );
    let r = normalize(Envelope::parse(body.as_bytes()).unwrap(), &Received { received_at_ms: n, request: None });
    serde_json::to_string(&r).unwrap() + "\n"
}

async fn next_records(rx: &mut mpsc::Receiver<SourceEvent>, want: usize) -> Vec<String> {
    let mut names = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while names.len() < want {
        let ev = tokio::time::timeout_at(deadline, rx.recv()).await.expect("timed out waiting for records").expect("source ended");
        if let SourceEvent::Records(rs) = ev {
            names.extend(rs.into_iter().map(|r| r.participant.unwrap().name.unwrap()));
        }
    }
    names
}

fn append(path: &std::path::Path, s: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

#[tokio::test]
async fn follows_appends_partial_lines_truncation_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let (tx, mut rx) = mpsc::channel(16);
    tokio::spawn(file::run(FileSource::new(&path), tx));

    // The file does not exist yet: the source waits for it.
    append(&path, &(line(1) + &line(2)));
    assert_eq!(next_records(&mut rx, 2).await, ["p1", "p2"]);

    // A line written in two pieces is read once, whole.
    let l3 = line(3);
    let (a, b) = l3.split_at(40);
    append(&path, a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    append(&path, b);
    assert_eq!(next_records(&mut rx, 1).await, ["p3"]);

    // Truncated in place: starts over.
    std::fs::write(&path, line(4)).unwrap();
    assert_eq!(next_records(&mut rx, 1).await, ["p4"]);

    // Rotated: the old file is renamed, a new one created.
    std::fs::rename(&path, dir.path().join("events.jsonl.1")).unwrap();
    append(&path, &line(5));
    assert_eq!(next_records(&mut rx, 1).await, ["p5"]);
}

#[tokio::test]
async fn reads_to_the_end_and_stops_without_follow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, line(1) + "garbage\n\n" + &line(2) + "{\"schema\":\"zoomwatch.v1\",\"id\":\"torn").unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let mut src = FileSource::new(&path);
    src.follow = false;
    tokio::spawn(file::run(src, tx));
    let (mut records, mut skipped, mut done) = (0, 0, false);
    while let Some(ev) = rx.recv().await {
        match ev {
            SourceEvent::Records(r) => records += r.len(),
            SourceEvent::Skipped(n) => skipped += n,
            SourceEvent::Status(Status::Done) => done = true,
            SourceEvent::Status(_) | SourceEvent::Position(_) => {}
        }
    }
    assert_eq!((records, skipped, done), (2, 2, true), "garbage and the torn last line are counted");
}

#[tokio::test]
async fn a_line_longer_than_any_record_is_skipped_without_losing_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    // Over the longest line considered by more than a read (1 MiB), so its newline
    // arrives after the source has given up on it; between two records; then a record
    // that ends the file without a newline.
    let huge = "x".repeat(zoomwatch_shared::lines::MAX_LINE + 3 * 1024 * 1024);
    std::fs::write(&path, line(1) + &huge + "\n" + &line(2) + line(3).trim_end()).unwrap();
    let (names, pos) = read_from(&path, file::Start::Beginning).await;
    assert_eq!(names, ["p1", "p2", "p3"]);
    assert_eq!(pos.unwrap().offset, std::fs::metadata(&path).unwrap().len(), "the position is the end of the file");
    let (tx, mut rx) = mpsc::channel(16);
    let mut src = FileSource::new(&path);
    src.follow = false;
    tokio::spawn(file::run(src, tx));
    let mut skipped = 0;
    while let Some(ev) = rx.recv().await {
        if let SourceEvent::Skipped(n) = ev {
            skipped += n;
        }
    }
    // Its first 4 MiB and more are dropped unparsed, what follows up to its newline is
    // read as a line that is no record: two skips, no record lost.
    assert_eq!(skipped, 2);
}

/// Reads `path` to the end from `start`: the participants' names and the last position.
async fn read_from(path: &std::path::Path, start: file::Start) -> (Vec<String>, Option<zoomwatch_log::source::Position>) {
    let (tx, mut rx) = mpsc::channel(16);
    let mut src = FileSource::new(path);
    src.follow = false;
    src.start = start;
    tokio::spawn(file::run(src, tx));
    let (mut ids, mut pos) = (Vec::new(), None);
    while let Some(ev) = rx.recv().await {
        match ev {
            SourceEvent::Records(r) => ids.extend(r.into_iter().map(|r| r.participant.unwrap().name.unwrap())),
            SourceEvent::Position(p) => pos = Some(p),
            _ => {}
        }
    }
    (ids, pos)
}

#[tokio::test]
async fn positions_let_a_restart_resume_where_it_stopped() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, line(1) + &line(2)).unwrap();
    let (ids, pos) = read_from(&path, file::Start::Beginning).await;
    assert_eq!(ids, ["p1", "p2"]);
    let pos = pos.expect("a position after the batch");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((pos.inode, pos.offset), (meta.ino(), meta.len()));

    append(&path, &(line(3) + &line(4)));
    let (ids, end) = read_from(&path, file::Start::At(pos)).await;
    assert_eq!(ids, ["p3", "p4"], "only what came after");
    assert_eq!(end.unwrap().offset, std::fs::metadata(&path).unwrap().len());

    // Another file under the same name (rotated), or a shorter one (truncated): all of it.
    let other = zoomwatch_log::source::Position { inode: pos.inode + 1, ..pos };
    assert_eq!(read_from(&path, file::Start::At(other)).await.0.len(), 4);
    std::fs::write(&path, line(9)).unwrap();
    assert_eq!(read_from(&path, file::Start::At(end.unwrap())).await.0, ["p9"]);
}

/// A day's file is parsed by several workers at once: records still arrive in file
/// order, each once, garbage lines are counted, and every position sent is the end of a
/// line whose records (and all before) were already sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_arrives_in_order_with_positions_after_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day.jsonl");
    let mut text = String::new();
    let mut ends = std::collections::HashMap::new(); // offset after line → records up to it
    let mut records = 0;
    for n in 0..40_000 {
        if n % 5_000 == 17 {
            text.push_str("not a record\n");
        } else {
            text.push_str(&line(n));
            records += 1;
        }
        ends.insert(text.len() as u64, records);
    }
    std::fs::write(&path, &text).unwrap();
    let (tx, mut rx) = mpsc::channel(4);
    let mut src = FileSource::new(&path);
    src.follow = false;
    tokio::spawn(file::run(src, tx));
    let (mut names, mut skipped, mut positions) = (Vec::new(), 0, Vec::new());
    while let Some(ev) = rx.recv().await {
        match ev {
            SourceEvent::Records(rs) => names.extend(rs.into_iter().map(|r| r.participant.unwrap().name.unwrap())),
            SourceEvent::Skipped(n) => skipped += n,
            SourceEvent::Position(p) => {
                let sent_before = ends.get(&p.offset).copied();
                assert_eq!(sent_before, Some(names.len()), "position {} is not after exactly what was sent", p.offset);
                positions.push(p.offset);
            }
            SourceEvent::Status(Status::Done) => break,
            SourceEvent::Status(_) => {}
        }
    }
    let expected: Vec<String> = (0..40_000).filter(|n| n % 5_000 != 17).map(|n| format!("p{n}")).collect();
    assert_eq!(names, expected, "every record once, in file order");
    assert_eq!(skipped, 8);
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(positions.last().copied(), Some(text.len() as u64));
    assert!(positions.len() >= 4, "positions after each batch: {positions:?}");
}

/// Marks each record with how the source prepared it.
struct Keeping(usize);

impl zoomwatch_log::source::Prepare for Keeping {
    type Item = (String, bool);
    fn prepare(&self, _line: &[u8], r: zoomwatch_shared::record::RecordV1) -> (String, bool) {
        (r.participant.unwrap().name.unwrap(), false)
    }
    fn keeps_last(&self) -> Option<usize> {
        Some(self.0)
    }
    fn prepare_passing(&self, _line: &[u8], r: zoomwatch_shared::record::RecordV1) -> (String, bool) {
        (r.participant.unwrap().name.unwrap(), true)
    }
}

/// Reads `path` (following) with a consumer keeping the last `keep` records, until `want`
/// records arrived: (name, passing) of each.
async fn read_keeping(path: &std::path::Path, keep: usize, want: usize, after: impl FnOnce()) -> Vec<(String, bool)> {
    let (tx, mut rx) = mpsc::channel(4);
    tokio::spawn(file::run_prepared(FileSource::new(path), std::sync::Arc::new(Keeping(keep)), tx));
    let mut got = Vec::new();
    let mut after = Some(after);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < want {
        let ev = tokio::time::timeout_at(deadline, rx.recv()).await.expect("timed out").expect("source ended");
        match ev {
            SourceEvent::Records(rs) => got.extend(rs),
            SourceEvent::Status(Status::Live) => {
                if let Some(f) = after.take() {
                    f();
                }
            }
            _ => {}
        }
    }
    got
}

/// Opening a file longer than what the consumer keeps: exactly the records before the
/// last `keep` lines are prepared as passing, across workers' batches and read chunks
/// (lines straddle the 1 MiB backwards reads); garbage lines count as lines; what is
/// appended afterwards is always kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_before_the_kept_ones_are_prepared_as_passing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day.jsonl");
    let mut text = String::new();
    for n in 0..6_000 {
        if n == 5_990 {
            text.push_str("not a record\n");
        }
        text.push_str(&line(n));
    }
    assert!(text.len() > 2 << 20, "the file spans several backwards reads");
    for keep in [1, 7, 1_024, 2_500, 5_999, 6_000, 10_000] {
        std::fs::write(&path, &text).unwrap();
        let got = read_keeping(&path, keep, 6_002, || append(&path, &(line(6_000) + &line(6_001)))).await;
        let names: Vec<String> = (0..6_002).map(|n| format!("p{n}")).collect();
        assert_eq!(got.iter().map(|g| g.0.clone()).collect::<Vec<_>>(), names, "every record once, in order (keep {keep})");
        // The last `keep` lines of the file as opened (6,001 lines, the garbage one before
        // record 5,990) are kept.
        let passing_lines = 6_001usize.saturating_sub(keep);
        let line_of = |n: usize| if n >= 5_990 { n + 1 } else { n };
        let expect: Vec<bool> = (0..6_002).map(|n| n < 6_000 && line_of(n) < passing_lines).collect();
        let seen: Vec<bool> = got.iter().map(|g| g.1).collect();
        let count = |v: &[bool]| v.iter().filter(|b| **b).count();
        let first_kept = |v: &[bool]| v.iter().position(|b| !*b);
        assert!(
            seen == expect,
            "keep {keep}: {} passing, first kept {:?}; expected {} passing, first kept {:?}",
            count(&seen),
            first_kept(&seen),
            count(&expect),
            first_kept(&expect)
        );
    }
}

/// A file without a final newline: its last (partial) line is one of the kept ones.
#[tokio::test]
async fn a_partial_last_line_counts_among_the_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.jsonl");
    let mut text: String = (0..10).map(line).collect();
    let last = line(10);
    text.push_str(last.trim_end());
    std::fs::write(&path, &text).unwrap();
    let got = read_keeping(&path, 3, 10, || {}).await;
    // The partial line is held until its newline comes; the ten complete ones arrive.
    let flags: Vec<bool> = got.iter().map(|g| g.1).collect();
    assert_eq!(flags, (0..10).map(|n| n < 8).collect::<Vec<_>>(), "lines 8, 9 and the partial 10th are the last three");
}
