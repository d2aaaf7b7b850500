//! `zoomwatch demo`: the whole embedded pipeline in one process, no AWS account needed.
//!
//! 1. the real receiver on `127.0.0.1` (random port, random secret) writing Record v1 to
//!    a JSONL file in a temporary directory, enriching with the bundled test GeoIP
//!    databases ([`scenario::geoip`]);
//! 2. a simulator that plays the scripted account day ([`zoomwatch_shared::scenario`]),
//!    sending each webhook **signed, over real HTTP** — exactly what Zoom would send;
//! 3. the console (or `--tail` lines) following that file;
//! 4. a stand-in for Zoom's REST API ([`crate::demo_api`]), so the response actions
//!    work: ending the raided meeting closes it on screen.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::Sender;
use zoomwatch_ingest::sink::{Durability, FileSink};
use zoomwatch_ingest::{router, server};
use zoomwatch_shared::SecretSet;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

use crate::source::SourceEvent;
use crate::source::file::{self, FileSource};

/// A running receiver + simulator.
pub struct Demo {
    /// The JSONL file the receiver writes.
    pub path: std::path::PathBuf,
    /// Where the receiver listens.
    pub url: String,
    /// The detection config the demo uses.
    pub config: Config,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    simulator: tokio::task::JoinHandle<(usize, usize)>,
    zoom: Arc<crate::demo_api::DemoZoom>,
}

impl Demo {
    /// Starts the receiver and the simulator at `speed`× real time.
    pub async fn start(speed: f64) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("zoomwatch-demo-").tempdir().context("cannot create a temporary directory")?;
        let path = dir.path().join("events.jsonl");
        let secret = format!("{:032x}", rand::random::<u128>());
        let config = Config::parse(scenario::CONFIG, "demo").map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut cfg = ReceiverConfig::new(SecretSet::parse(&secret).map_err(|e| anyhow::anyhow!("{e}"))?);
        cfg.rules = Arc::new(config.clone());
        // MaxMind's test databases, bundled: countries and location rules out of the box.
        cfg.geo = Some(Arc::new(scenario::geoip()));
        let sink = FileSink::open(&path, Durability::Fsync).with_context(|| format!("cannot open {}", path.display()))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot listen on 127.0.0.1")?;
        let url = format!("http://{}/zoom/webhook", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(server::serve(listener, router(cfg, sink), async {
            let _ = stopped.await;
        }));
        let sender = Sender::new(&url, Secret::new(&secret)).context("cannot build the HTTP client")?;
        let webhooks = Sender::new(&url, Secret::new(&secret)).context("cannot build the HTTP client")?;
        let zoom = Arc::new(crate::demo_api::DemoZoom::start(webhooks).await.context("cannot start the demo's Zoom API stand-in")?);
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        let simulator = tokio::spawn(simulate(sender, speed, zoom.clone()));
        Ok(Self { path, url, config, _dir: dir, stop: Some(stop), server, simulator, zoom })
    }

    /// Response actions against the demo's Zoom stand-in, audited into the demo's file.
    pub fn responder(&self, analyst: crate::act::Analyst) -> Result<crate::app::Responder> {
        let cfg = zoomwatch_zoomapi::ClientConfig {
            api_url: self.zoom.api_url.clone(),
            oauth_url: self.zoom.oauth_url.clone(),
            ..zoomwatch_zoomapi::ClientConfig::default()
        };
        let client = zoomwatch_zoomapi::Client::new(cfg, self.zoom.credentials.clone())?;
        let sink = crate::act::AuditSink::file(&self.path).map_err(anyhow::Error::msg)?;
        Ok(crate::app::Responder { client: Some(Arc::new(client)), sink: Some(Arc::new(sink)), analyst: Some(analyst) })
    }

    /// Follows the demo's file.
    pub fn source(&self) -> mpsc::Receiver<SourceEvent> {
        let (tx, rx) = mpsc::channel(crate::source::CHANNEL_CAPACITY);
        tokio::spawn(file::run(FileSource::new(&self.path), tx));
        rx
    }

    /// True once every scripted webhook was sent.
    pub fn finished(&self) -> bool {
        self.simulator.is_finished()
    }

    /// Stops the simulator and the receiver (waiting for in-flight writes).
    pub async fn stop(mut self) -> (usize, usize) {
        self.simulator.abort();
        let counts = (&mut self.simulator).await.unwrap_or((0, 0));
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.server).await;
        counts
    }
}

/// Plays the script, telling the Zoom stand-in what was delivered; returns (sent, accepted).
async fn simulate(sender: Sender, speed: f64, zoom: Arc<crate::demo_api::DemoZoom>) -> (usize, usize) {
    play(&sender, speed, |_, body, outcome| {
        if outcome == Ok(200) {
            zoom.observe(body);
        }
    })
    .await
}

/// Plays the scripted day through `sender` at `speed`× real time, calling `each` with
/// the event name, the body and the outcome of every delivery. Returns (sent, accepted).
pub async fn play(sender: &Sender, speed: f64, mut each: impl FnMut(&str, &[u8], Result<u16, String>)) -> (usize, usize) {
    let start = tokio::time::Instant::now();
    let t0 = crate::app::now_ms();
    let (mut sent, mut ok) = (0, 0);
    for step in scenario::account_day_at_speed(t0, speed) {
        let at = start + Duration::from_millis(u64::try_from(step.offset_ms).unwrap_or(0));
        tokio::time::sleep_until(at).await;
        sent += 1;
        let event = serde_json::from_slice::<serde_json::Value>(&step.body)
            .ok()
            .and_then(|v| v["event"].as_str().map(str::to_owned))
            .unwrap_or_default();
        match sender.send(step.body.clone(), None).await {
            Ok(d) => {
                if d.status == 200 {
                    ok += 1;
                }
                each(&event, &step.body, Ok(d.status));
            }
            Err(e) => each(&event, &step.body, Err(e.to_string())),
        }
    }
    (sent, ok)
}
