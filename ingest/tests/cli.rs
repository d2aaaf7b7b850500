//! The `zoomwatch-ingest` binary as a user runs it: `serve` in one process, `send` in
//! another, then SIGTERM — every accepted record must be in the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_zoomwatch-ingest");
const SECRET: &str = "cli-test-secret-value";

fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoom")
}

struct Server {
    child: Child,
    url: String,
    /// Diagnostic lines about rejected requests seen on its stderr.
    rejected_lines: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave a receiver running when a test fails half-way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_serve(sink: &str) -> Server {
    start_serve_with(sink, &[])
}

fn start_serve_with(sink: &str, extra: &[&str]) -> Server {
    let child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--sink", sink])
        .args(extra)
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .env("ZOOMWATCH_LOG", "info")
        .env_remove("ZOOMWATCH_LOG_FORMAT")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by the guard from here on, so a failed assertion still stops it.
    let mut server = Server { child, url: String::new(), rejected_lines: Default::default() };
    let stderr = server.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "serve did not announce its address");
        let line = lines.next().expect("serve exited early").unwrap();
        assert!(!line.contains(SECRET), "secret printed: {line}");
        assert!(!line.contains('\u{1b}'), "colour codes in a redirected log: {line:?}");
        if let Some(rest) = line.split("listening on ").nth(1) {
            let url = rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
            // Keep draining stderr so the child never blocks on a full pipe.
            let rejected = server.rejected_lines.clone();
            std::thread::spawn(move || {
                for l in lines.map_while(Result::ok) {
                    assert!(!l.contains(SECRET));
                    assert!(!l.contains('\u{1b}'), "colour codes in a redirected log: {l:?}");
                    if l.contains("request rejected") {
                        rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
            server.url = format!("{url}/zoom/webhook");
            return server;
        }
    }
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn refuses_to_start_without_a_secret() {
    let out = Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0"]).env_remove("ZOOM_WEBHOOK_SECRET_TOKEN").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ZOOM_WEBHOOK_SECRET_TOKEN") && err.contains("--secret-file"), "{err}");

    let out = Command::new(BIN).args(["serve", "--secret-file", "/nonexistent/secret"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "cannot run: exit 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read secret file /nonexistent/secret"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "said once: {err}");

    let out = Command::new(BIN).args(["serve", "--sink", "s3:bucket"]).env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown sink"));

    // A secret file others can read is refused, as the credentials file is.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, SECRET).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--secret-file"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("can be read by others") && err.contains("chmod 600") && !err.contains(SECRET), "{err}");
}

#[test]
fn serve_then_send_then_sigterm_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let mut server = start_serve(&format!("file:{}", file.display()));

    let names = [
        "meeting.started.json",
        "meeting.participant_joined__guest_real.json",
        "meeting.participant_left__guest_real.json",
        "endpoint.url_validation.json",
    ];
    let out = Command::new(BIN)
        .arg("send")
        .args(["--url", &server.url])
        .args(names.iter().map(|n| fixtures().join(n)))
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "send failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("200 ")).count(), 4, "{stdout}");
    assert!(stdout.contains("encryptedToken"), "URL validation answered: {stdout}");

    // A stale timestamp is refused and `send` says so with a non-zero exit.
    let out = Command::new(BIN)
        .args(["send", "--url", &server.url, "--timestamp", "1600000000"])
        .arg(fixtures().join("meeting.ended.json"))
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("401 "));

    let status = sigterm(&mut server.child);
    assert!(status.success(), "serve exit: {status:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["meeting.started", "meeting.participant_joined", "meeting.participant_left", "endpoint.url_validation", "zoomwatch.rejected"]
    );
    assert!(!text.contains(SECRET));
}

#[test]
fn send_reports_unreachable_endpoints() {
    let out = Command::new(BIN)
        .args(["send", "--url", "http://127.0.0.1:9/zoom/webhook"])
        .arg(fixtures().join("meeting.ended.json"))
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ERR"));
}

#[test]
fn help_explains_the_secret() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("ZOOM_WEBHOOK_SECRET_TOKEN") && help.contains("serve") && help.contains("send"), "{help}");
}

fn mmdb(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/mmdb").join(name)
}

/// The acceptance check of GeoIP enrichment, as a user runs it: `serve --config` with
/// `[enrichment]` pointing at MaxMind's test databases, signed joins from a London, a
/// Swedish and a private address, then the stored records.
#[test]
fn serve_enriches_joins_with_geoip() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("zoomwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[enrichment]\ngeoip_city = {:?}\ngeoip_asn = {:?}\ngeoip_anonymous = {:?}\n",
            mmdb("GeoLite2-City-Test.mmdb"),
            mmdb("GeoLite2-ASN-Test.mmdb"),
            mmdb("GeoIP2-Anonymous-IP-Test.mmdb")
        ),
    )
    .unwrap();
    let file = dir.path().join("events.jsonl");
    let server = start_serve_with(&format!("file:{}", file.display()), &["--config", cfg.to_str().unwrap()]);

    let template: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("meeting.participant_joined.json")).unwrap()).unwrap();
    let mut bodies = Vec::new();
    for (i, ip) in ["81.2.69.142", "89.160.20.128", "10.1.2.3"].iter().enumerate() {
        let mut b = template.clone();
        b["event_ts"] = serde_json::json!(1_700_000_000_000_i64 + i as i64);
        b["payload"]["object"]["participant"]["public_ip"] = serde_json::json!(ip);
        let path = dir.path().join(format!("join{i}.json"));
        std::fs::write(&path, serde_json::to_vec(&b).unwrap()).unwrap();
        bodies.push(path);
    }
    let out =
        Command::new(BIN).args(["send", "--url", &server.url]).args(&bodies).env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    drop(server);

    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 3);
    let geo = |i: usize| &records[i]["participant"]["geo"];
    assert_eq!((geo(0)["country"].as_str(), geo(0)["city"].as_str()), (Some("GB"), Some("London")));
    assert_eq!(geo(0)["anonymous"], serde_json::json!({"vpn": true, "tor": true, "hosting": true, "proxy": true}));
    let flags: Vec<&str> = records[0]["flags"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(flags.contains(&"anonymizer-join"), "stateless location rules run in the receiver: {flags:?}");
    assert_eq!((geo(1)["asn"].as_u64(), geo(1)["as_org"].as_str()), (Some(29518), Some("Bredband2 AB")));
    assert_eq!(geo(1)["country"], "SE");
    assert!(records[2]["participant"].get("geo").is_none(), "private address: no geo");
    assert_eq!(records[2]["participant"]["ip"], "10.1.2.3");
}

#[test]
fn a_missing_or_wrong_database_stops_serve_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("zoomwatch.toml");
    std::fs::write(&cfg, "# GeoIP\n[enrichment]\ngeoip_city = \"GeoLite2-City.mmdb\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config", cfg.to_str().unwrap()])
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!("cannot read GeoIP database {}", dir.path().join("GeoLite2-City.mmdb").display());
    assert!(err.contains(&expected), "relative to the config file: {err}");
    assert!(err.contains(&format!("enrichment.geoip_city, {}:3", cfg.display())), "{err}");

    // The environment override names a file of the wrong kind: refused by name too.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .env("ZOOMWATCH_GEOIP_CITY", mmdb("GeoLite2-ASN-Test.mmdb"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a GeoLite2-ASN database, but [enrichment] geoip_city needs") && err.contains("ZOOMWATCH_GEOIP_CITY"), "{err}");
}

#[test]
fn json_log_format_is_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--sink", &format!("file:{}", dir.path().join("e.jsonl").display())])
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .env("ZOOMWATCH_LOG", "info")
        .env("ZOOMWATCH_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut objects = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
        let ready = v["message"] == "zoomwatch-ingest listening";
        objects.push(v);
        if ready {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let ready = objects.last().unwrap();
    assert_eq!(ready["level"], "INFO");
    assert!(ready["addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{ready}");
    assert!(objects.iter().all(|o| !o.to_string().contains(SECRET)));
}

#[test]
fn a_flood_of_unsigned_requests_is_summarized_not_logged_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_serve(&format!("file:{}", dir.path().join("events.jsonl").display()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = server.url.clone();
    rt.block_on(async move {
        let http = reqwest::Client::new();
        for _ in 0..500 {
            let r = http.post(&url).body(r#"{"event":"meeting.started","payload":{}}"#).send().await.unwrap();
            assert_eq!(r.status(), 401);
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let lines = server.rejected_lines.load(std::sync::atomic::Ordering::Relaxed);
    // The rejected-record budget: a burst of 25, then 5 a second.
    assert!((1..=60).contains(&lines), "{lines} diagnostic lines for 500 refusals");
}
