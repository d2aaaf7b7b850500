//! The file sink when the disk fills up, as a user meets it: `zoomwatch-ingest serve`
//! started under a file size limit (`prlimit --fsize`, which fails writes with `EFBIG` as
//! a full disk fails them with `ENOSPC`). Deliveries past the limit are answered 503 with
//! one log line saying why, the file keeps whole records only, and once the limit is
//! raised (`prlimit --pid`) Zoom's retries land every event exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_shared::lines;
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

const BIN: &str = env!("CARGO_BIN_EXE_zoomwatch-ingest");
const SECRET: &str = "disk-full-test-secret";

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_keeps_whole_records_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let limit = 6_000;
    let mut child = Command::new("prlimit")
        .arg(format!("--fsize={limit}:unlimited")) // soft limit; raising it back needs no privilege
        .arg("--")
        .arg(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--sink", &format!("file:{}", file.display())])
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .env("ZOOMWATCH_LOG", "info")
        .env_remove("ZOOMWATCH_LOG_FORMAT")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("prlimit (util-linux) runs the receiver under a file size limit");
    let stderr = child.stderr.take().unwrap();
    let guard = Guard(child);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned());
                }
                log.lock().unwrap().push(line);
            }
        });
    }
    let url = format!("{}/zoom/webhook", rx.recv_timeout(Duration::from_secs(20)).expect("serve announced its address"));
    let sender = Sender::with_timeout(url, Secret::new(SECRET), Duration::from_secs(3)).unwrap();

    let mut seen = std::collections::HashSet::new();
    let bodies: Vec<Vec<u8>> = scenario::account_day(0)
        .into_iter()
        .map(|s| s.body)
        .filter(|b| !String::from_utf8_lossy(b).contains("endpoint.url_validation") && seen.insert(b.clone()))
        .take(12)
        .collect();
    let mut refused = Vec::new();
    let mut accepted = 0;
    for body in &bodies {
        let ts = unix_now();
        let d = sender.send(body.clone(), Some(ts)).await.expect("the receiver answers (it is not killed by SIGXFSZ)");
        match d.status {
            200 => accepted += 1,
            503 => refused.push((body.clone(), ts)),
            s => panic!("our own failure must be a 5xx, got {s}: {}", d.body),
        }
    }
    assert!(accepted > 0 && !refused.is_empty(), "{accepted} accepted, {} refused: the limit fell inside the run", refused.len());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.len() <= limit, "{} bytes", text.len());
    assert!(text.is_empty() || text.ends_with('\n'), "no torn record at the end");
    assert_eq!(text.lines().filter(|l| lines::parse(l.as_bytes()).is_ok()).count(), accepted, "exactly the acknowledged records, whole");
    assert_eq!(text.lines().count(), accepted);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log.lock().unwrap().iter().any(|l| l.contains("sink write failed") && l.contains("File too large")) {
        assert!(Instant::now() < deadline, "a log line says the write failed and why: {:#?}", log.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }

    // Space returns; Zoom retries with the original signatures.
    let pid = guard.0.id().to_string();
    assert!(Command::new("prlimit").args(["--pid", &pid, "--fsize=unlimited:unlimited"]).status().unwrap().success());
    for (body, ts) in &refused {
        let d = sender.send(body.clone(), Some(*ts)).await.unwrap();
        assert_eq!(d.status, 200, "{}", d.body);
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<_> = text.lines().map(|l| lines::parse(l.as_bytes()).expect("every line is a whole record")).collect();
    let ids: std::collections::HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((records.len(), ids.len()), (bodies.len(), bodies.len()), "every event once: none lost, none doubled");
    println!("| disk full under the file sink | {} | {} answered 503, then 200 | {} | 0 | 0 |", bodies.len(), refused.len(), ids.len());
}
