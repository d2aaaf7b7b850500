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
