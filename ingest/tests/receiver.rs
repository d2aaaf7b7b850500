//! The receiver over real HTTP on loopback, writing to a real JSONL file: every fixture,
//! the signature vectors byte for byte, every rejection path, sink failure, concurrency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_ingest::{router, server};
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::signature::{self, ReplayWindow, Secret};
use zoomwatch_shared::{Category, SecretSet};

const SECRET: &str = "aBcDeFgHiJkLmNoPqRsTuV";

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoom")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap()
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self) -> String {
        format!("http://{}/zoom/webhook", self.addr)
    }
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

async fn start_with(cfg: ReceiverConfig, sink: impl zoomwatch_log::Sink) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, router(cfg, sink), async {
        let _ = rx.await;
    }));
    Running { addr, stop: Some(tx), task }
}

async fn start(dir: &Path, secrets: &str) -> Running {
    let sink = FileSink::open(dir.join("events.jsonl"), Durability::Fsync).unwrap();
    start_with(ReceiverConfig::new(SecretSet::parse(secrets).unwrap()), sink).await
}

fn records(dir: &Path) -> Vec<RecordV1> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"))).collect()
}

fn events(dir: &Path) -> Vec<RecordV1> {
    records(dir).into_iter().filter(|r| r.event != "zoomwatch.rejected").collect()
}

fn rejections(dir: &Path) -> Vec<RecordV1> {
    records(dir).into_iter().filter(|r| r.event == "zoomwatch.rejected").collect()
}

async fn post(url: &str, ts: &str, sig: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.post(url).header("x-zm-request-timestamp", ts).header("user-agent", "Zoom Marketplace/1.0a");
    if let Some(sig) = sig {
        req = req.header("x-zm-signature", sig);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn every_fixture_is_stored_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start(dir.path(), SECRET).await;
    let sender = Sender::new(rx.url(), Secret::new(SECRET)).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && !n.starts_with("endpoint."))
        .collect();
    names.sort();
    let mut ids = Vec::new();
    for name in &names {
        let d = sender.send(fixture(name), None).await.unwrap();
        assert_eq!(d.status, 200, "{name}: {}", d.body);
        let v: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(v["status"], "stored");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    rx.stop().await;
    let stored = events(dir.path());
    assert_eq!(stored.len(), names.len());
    for ((name, id), r) in names.iter().zip(&ids).zip(&stored) {
        assert_eq!(&r.id, id, "{name}");
        assert_eq!(r.event, name.split("__").next().unwrap().trim_end_matches(".json"));
        let req = r.request.as_ref().unwrap();
        assert_eq!(req.source_ip.as_deref(), Some("127.0.0.1"));
        assert!(req.user_agent.as_deref().unwrap().starts_with("zoomwatch-ingest-send/"));
        assert!(req.request_id.is_some());
    }
    assert!(rejections(dir.path()).is_empty());
}

#[tokio::test]
async fn url_validation_vectors_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    // The vectors were signed in 2022-2024: widen the replay window to accept them.
    let sink = FileSink::open(dir.path().join("events.jsonl"), Durability::Fsync).unwrap();
    let mut cfg = ReceiverConfig::new(SecretSet::parse(&format!("{SECRET},4fv1RkqGQUq5sWbEz6hA5A")).unwrap());
    cfg.replay_window = ReplayWindow { max_age_secs: 100 * 365 * 86_400, max_ahead_secs: 300 };
    let rx = start_with(cfg, sink).await;

    // A1: ZoomNet's signed CRC, answered with the second (rotated) secret.
    let (status, body) = post(
        &rx.url(),
        "1720705455",
        Some("v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6"),
        fixture("endpoint.url_validation__signed.json"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["plainToken"], "xys8n8PGS7mAU0m5-YJjRA");
    assert_eq!(body["encryptedToken"], "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3");
    assert_eq!(body.as_object().unwrap().len(), 2);

    // B4: the docs example.
    let (status, body) = post(
        &rx.url(),
        "1654503849",
        Some("v0=822b7fb141f3ba6d165f66a5af2e561b9edf86cf6e0d3f25fcec9a2342b3d245"),
        fixture("endpoint.url_validation.json"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(body["encryptedToken"], "5d8ee2ec08987384c55188fdf3d4a9372f70a9969bab0f8a444bc14e52a5f649");
    // The same capture replayed: answered the same, not recorded again (below: one record).
    let (status, again) = post(
        &rx.url(),
        "1654503849",
        Some("v0=822b7fb141f3ba6d165f66a5af2e561b9edf86cf6e0d3f25fcec9a2342b3d245"),
        fixture("endpoint.url_validation.json"),
    )
    .await;
    assert_eq!((status, &again), (200, &body));

    // A2: mixed \u escapes and raw UTF-8, verified on the raw bytes.
    let (status, body) = post(
        &rx.url(),
        "1720707175",
        Some("v0=1a14e79349318fa1bead50ebbd3c185ae078e182d3bbd30ab8010fcb7f4357c7"),
        fixture("meeting.started__unicode_escapes_signed.json"),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // B1 and B2.
    let (status, _) = post(
        &rx.url(),
        "1749064313",
        Some("v0=cf3adc8d15d502c6f4673a1b8f02f5b868bebe879add6eaf8de07030ea6c7c30"),
        fixture("meeting.participant_joined__guest_real.json"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &rx.url(),
        "1775897147",
        Some("v0=dfc28f9106cfd5c98b3c2da439bb16ece417d8852fe89f9077989f68122f2b42"),
        fixture("meeting.participant_joined__unicode_name.json"),
    )
    .await;
    assert_eq!(status, 200);
    rx.stop().await;

    let stored = events(dir.path());
    let kinds: Vec<&str> = stored.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "endpoint.url_validation",
            "endpoint.url_validation",
            "meeting.started",
            "meeting.participant_joined",
            "meeting.participant_joined"
        ]
    );
    assert_eq!(stored[0].category, Category::Endpoint);
    assert!(stored[2].meeting.as_ref().unwrap().topic.as_ref().unwrap().contains('🚒'));
}

#[tokio::test]
async fn forged_stale_and_unsigned_requests_get_401_and_a_rejected_record() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start(dir.path(), SECRET).await;
    let body = fixture("meeting.participant_joined.json");
    let now = unix_now().to_string();
    let good = signature::sign(&Secret::new(SECRET), &now, &body);
    let signed_at = |ts: i64| (ts.to_string(), Some(signature::sign(&Secret::new(SECRET), &ts.to_string(), &body)));

    let mut tampered = body.clone();
    let pos = tampered.iter().position(|&b| b == b'J').unwrap();
    tampered[pos] = b'K';
    // Older than the 95-minute window that lets Zoom's late retries in.
    let (old_ts, old_sig) = signed_at(unix_now() - 3 * 3600);
    let (future_ts, future_sig) = signed_at(unix_now() + 3600);
    let cases: Vec<(&str, String, Option<String>, Vec<u8>)> = vec![
        ("bad_signature", now.clone(), Some(good.clone()), tampered),
        ("bad_signature", now.clone(), Some(signature::sign(&Secret::new("wrong-secret"), &now, &body)), body.clone()),
        ("stale_timestamp", old_ts, old_sig, body.clone()),
        ("stale_timestamp", future_ts, future_sig, body.clone()),
        ("missing_signature", now.clone(), None, body.clone()),
        ("malformed_signature", now.clone(), Some("sha256=deadbeef".into()), body.clone()),
        ("malformed_timestamp", "yesterday".into(), Some(good.clone()), body.clone()),
    ];
    for (reason, ts, sig, b) in &cases {
        let (status, resp) = post(&rx.url(), ts, sig.as_deref(), b.clone()).await;
        assert_eq!(status, 401, "{reason}: {resp}");
        assert!(resp["error"].is_string(), "{resp}");
        assert!(!resp.to_string().contains(SECRET));
    }
    // No timestamp header at all.
    let resp = reqwest::Client::new().post(rx.url()).header("x-zm-signature", &good).body(body.clone()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    rx.stop().await;

    assert!(events(dir.path()).is_empty(), "no event record for a refused request");
    let rejected = rejections(dir.path());
    let reasons: Vec<&str> = rejected.iter().map(|r| r.rejection.as_ref().unwrap().reason.as_str()).collect();
    let mut expected: Vec<&str> = cases.iter().map(|c| c.0).collect();
    expected.push("missing_timestamp");
    assert_eq!(reasons, expected);
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(!text.contains("Jill Chill"), "rejected records never carry the body");
    assert!(!text.contains(SECRET));
    let r = &rejected[0];
    assert_eq!(r.category, Category::Endpoint);
    assert_eq!(r.request.as_ref().unwrap().source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(r.request.as_ref().unwrap().user_agent.as_deref(), Some("Zoom Marketplace/1.0a"));
    assert_eq!(r.rejection.as_ref().unwrap().status, 401);
}

#[tokio::test]
async fn malformed_oversized_and_unknown_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start(dir.path(), SECRET).await;
    let sender = Sender::new(rx.url(), Secret::new(SECRET)).unwrap();

    let d = sender.send(b"{\"event\": \"meeting.started\", \"payload\": ".to_vec(), None).await.unwrap();
    assert_eq!(d.status, 400, "{}", d.body);
    let d = sender.send(b"[1,2,3]".to_vec(), None).await.unwrap();
    assert_eq!(d.status, 400);
    let d = sender.send(br#"{"event":"endpoint.url_validation","payload":{}}"#.to_vec(), None).await.unwrap();
    assert_eq!(d.status, 400, "validation without plainToken");

    // 2 MiB, declared with Content-Length.
    let d = sender.send(vec![b' '; 2 * 1024 * 1024], None).await.unwrap();
    assert_eq!(d.status, 413, "{}", d.body);
    // 2 MiB streamed without Content-Length (chunked).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..32).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let resp = reqwest::Client::new()
        .post(rx.url())
        .header("x-zm-request-timestamp", unix_now().to_string())
        .header("x-zm-signature", "v0=0000000000000000000000000000000000000000000000000000000000000000")
        .body(reqwest::Body::wrap_stream(tokio_stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);

    let unknown = br#"{"event":"phone.callee_ringing","event_ts":1700000000000,"payload":{"account_id":"A1","object":{"id":"c1"}}}"#;
    let d = sender.send(unknown.to_vec(), None).await.unwrap();
    assert_eq!(d.status, 200);
    rx.stop().await;

    let stored = events(dir.path());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].category, Category::Other);
    assert_eq!(stored[0].raw.value()["object"]["id"], "c1");
    let reasons: Vec<String> = rejections(dir.path()).iter().map(|r| r.rejection.as_ref().unwrap().reason.clone()).collect();
    assert_eq!(reasons, ["malformed_body", "malformed_body", "malformed_body", "body_too_large", "body_too_large"]);
}

#[tokio::test]
async fn sink_failure_answers_503_so_zoom_retries() {
    // /dev/full accepts the open and fails every write with ENOSPC.
    let sink = FileSink::open("/dev/full", Durability::Fsync).unwrap();
    let rx = start_with(ReceiverConfig::new(SecretSet::parse(SECRET).unwrap()), sink).await;
    let sender = Sender::new(rx.url(), Secret::new(SECRET)).unwrap();
    let d = sender.send(fixture("meeting.participant_joined.json"), None).await.unwrap();
    assert_eq!(d.status, 503, "{}", d.body);
    assert!(d.body.contains("retry"));
    // The URL validation is still answered: failing it would get the subscription disabled.
    let d = sender.send(fixture("endpoint.url_validation.json"), None).await.unwrap();
    assert_eq!(d.status, 200);
    rx.stop().await;
}

#[tokio::test]
async fn concurrent_requests_write_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    // 400 at once from one address, as through a reverse proxy: the per-source cap raised.
    let sink = FileSink::open(dir.path().join("events.jsonl"), Durability::Fsync).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, stopped) = oneshot::channel::<()>();
    let limits = server::Limits { max_per_source: 1024, ..server::Limits::default() };
    let task = tokio::spawn(server::serve_with(
        listener,
        router(ReceiverConfig::new(SecretSet::parse(SECRET).unwrap()), sink),
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    let rx = Running { addr, stop: Some(tx), task };
    let sender = std::sync::Arc::new(Sender::new(rx.url(), Secret::new(SECRET)).unwrap());
    let template = String::from_utf8(fixture("meeting.participant_joined__guest_real.json")).unwrap();
    let mut tasks = Vec::new();
    for i in 0..400i64 {
        let sender = sender.clone();
        let body = template
            .replace("\"event_ts\":1749064313084", &format!("\"event_ts\":{}", 1_749_064_313_084 + i))
            .replace("Alice", &format!("Alice {i} {}", "x".repeat(i as usize * 10)));
        tasks.push(tokio::spawn(async move { sender.send(body.into_bytes(), None).await.unwrap().status }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    rx.stop().await;
    let stored = events(dir.path());
    assert_eq!(stored.len(), 400);
    let ids: std::collections::HashSet<_> = stored.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 400);
}

#[tokio::test]
async fn rejected_records_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start(dir.path(), SECRET).await;
    for _ in 0..200 {
        let (status, _) = post(&rx.url(), &unix_now().to_string(), Some("v0=00"), b"{}".to_vec()).await;
        assert_eq!(status, 401);
    }
    rx.stop().await;
    let rejected = rejections(dir.path());
    // Default 5/s with bursts of 25: 200 requests in a few seconds cannot earn 175 tokens.
    assert!((25..100).contains(&rejected.len()), "{} rejected records for 200 rejected requests", rejected.len());
    let admitted_after_burst: u64 = rejected.iter().map(|r| r.rejection.as_ref().unwrap().suppressed).sum();
    assert!(admitted_after_burst as usize + rejected.len() <= 200);
}

#[tokio::test]
async fn health_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start(dir.path(), SECRET).await;
    let resp = reqwest::get(format!("http://{}/healthz", rx.addr)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = reqwest::get(rx.url()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    rx.stop().await;
}

#[tokio::test]
async fn a_torn_last_line_does_not_swallow_the_next_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.jsonl"), b"{\"schema\":\"zoomwatch.v1\",\"id\":\"tor").unwrap();
    let rx = start(dir.path(), SECRET).await;
    let sender = Sender::new(rx.url(), Secret::new(SECRET)).unwrap();
    assert_eq!(sender.send(fixture("meeting.ended.json"), None).await.unwrap().status, 200);
    rx.stop().await;
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let r: RecordV1 = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(r.event, "meeting.ended");
}

/// A file sink that can be switched to failing, like CloudWatch during an outage, and
/// counts the writes that reached the file.
struct Outage {
    file: FileSink,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl zoomwatch_log::Sink for Outage {
    async fn write(&self, records: Vec<RecordV1>) -> Result<(), zoomwatch_log::SinkError> {
        use std::sync::atomic::Ordering;
        if self.down.load(Ordering::SeqCst) {
            return Err(zoomwatch_log::SinkError::Remote("injected outage".into()));
        }
        self.writes.fetch_add(records.len(), Ordering::SeqCst);
        self.file.write(records).await
    }
    fn describe(&self) -> String {
        "outage-test".into()
    }
}

/// Zoom retries a 5xx after about 5, 25 and 85 minutes and may keep the first
/// timestamp. With the receiver's clock moved forward by hand: the delivery during the
/// outage gets 503, the +5 min retry is stored, the later ones are answered `duplicate`
/// and not written; the record says when the delivery was signed. A delivery signed 3 h
/// ago, or 10 min ahead, is refused.
#[tokio::test]
async fn late_retries_after_an_outage_are_stored_exactly_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let t0_ms: i64 = 1_780_000_000_000;
    let now = Arc::new(AtomicI64::new(t0_ms));
    let down = Arc::new(AtomicBool::new(true));
    let writes = Arc::new(AtomicUsize::new(0));
    let mut cfg = ReceiverConfig::new(SecretSet::parse(SECRET).unwrap());
    let clock = now.clone();
    cfg.clock = Arc::new(move || clock.load(Ordering::SeqCst));
    let sink = Outage {
        file: FileSink::open(dir.path().join("events.jsonl"), Durability::Fsync).unwrap(),
        down: down.clone(),
        writes: writes.clone(),
    };
    let rx = start_with(cfg, sink).await;

    let body = fixture("meeting.participant_joined.json");
    let ts = (t0_ms / 1000).to_string();
    let sig = signature::sign(&Secret::new(SECRET), &ts, &body);
    let url = rx.url();
    let deliver = || post(&url, &ts, Some(&sig), body.clone());

    let (status, answer) = deliver().await;
    assert_eq!(status, 503, "outage: Zoom must retry: {answer}");
    down.store(false, Ordering::SeqCst);
    let mut answers = Vec::new();
    for mins in [5, 25, 85] {
        now.store(t0_ms + mins * 60_000, Ordering::SeqCst);
        let (status, answer) = deliver().await;
        assert_eq!(status, 200, "+{mins} min: {answer}");
        answers.push(answer["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(answers, ["stored", "duplicate", "duplicate"]);
    assert_eq!(writes.load(Ordering::SeqCst), 1, "one write for four deliveries");

    // Too old, too early: authentic, but refused (401, recorded as rejected).
    now.store(t0_ms + 3 * 3_600_000, Ordering::SeqCst);
    let (status, answer) = deliver().await;
    assert_eq!(status, 401);
    assert!(answer["error"].as_str().unwrap().contains("signed 10800 s ago, accepted up to 5700 s"), "{answer}");
    now.store(t0_ms - 600_000, Ordering::SeqCst);
    let (status, answer) = deliver().await;
    assert_eq!(status, 401);
    assert!(answer["error"].as_str().unwrap().contains("600 s in the future"), "{answer}");
    rx.stop().await;

    let stored = events(dir.path());
    assert_eq!(stored.len(), 1);
    let req = stored[0].request.as_ref().unwrap();
    assert_eq!(req.signed_at.as_deref(), Some("2026-05-28T20:26:40.000Z"));
    assert_eq!(stored[0].received_at, "2026-05-28T20:31:40.000Z", "stored by the +5 min retry");
    let reasons: Vec<String> = rejections(dir.path()).iter().map(|r| r.rejection.as_ref().unwrap().reason.clone()).collect();
    assert_eq!(reasons, ["stale_timestamp", "stale_timestamp"]);
}
