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

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::Sender;
use zoomwatch_ingest::{router, server};
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::SecretSet;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::scenario;
use zoomwatch_shared::signature::Secret;

use zoomwatch_log::source::file::{self, FileSource};
use zoomwatch_log::source::{AsRead, CHANNEL_CAPACITY, Prepare, SourceEvent, Status};
use zoomwatch_shared::filter::Filter;
use zoomwatch_shared::rules::Detector;

use crate::prepare::Preparer;
use crate::state::State;
use crate::tail::{Format, Printer, TailOptions};

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
    /// Told when the simulator has sent the whole scripted day.
    over: Arc<tokio::sync::Notify>,
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
        // A posture run before the day starts: the Posture view's baseline (the scripted
        // admin's weakening then shows as drift, and `r` sets it back).
        let reader = zoomwatch_zoomapi::Client::new(zoom_client_config(&zoom), zoom.credentials.clone())?;
        match crate::posture::measure(&reader, &config.settings_policy, false).await {
            Ok(p) => {
                let record = p.record(Some(scenario::ACCOUNT), crate::clock::now_ms());
                let sink = FileSink::open(&path, Durability::Fsync).with_context(|| format!("cannot open {}", path.display()))?;
                zoomwatch_log::sink::Sink::write(&sink, vec![record])
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot write the posture record: {e}"))?;
            }
            Err(e) => eprintln!("zoomwatch demo: no posture run: {e}"),
        }
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        let over = Arc::new(tokio::sync::Notify::new());
        let told = over.clone();
        let z = zoom.clone();
        let simulator = tokio::spawn(async move {
            let counts = simulate(sender, speed, z).await;
            told.notify_one();
            counts
        });
        Ok(Self { path, url, config, _dir: dir, stop: Some(stop), server, simulator, over, zoom })
    }

    /// Response actions against the demo's Zoom stand-in, audited into the demo's file.
    pub fn responder(&self, analyst: crate::act::Analyst) -> Result<crate::app::Responder> {
        let client = zoomwatch_zoomapi::Client::new(zoom_client_config(&self.zoom), self.zoom.credentials.clone())?;
        let sink = crate::act::audit_file(&self.path).map_err(anyhow::Error::msg)?;
        Ok(crate::app::Responder { client: Some(Arc::new(client)), broker: None, sink: Some(Arc::new(sink)), analyst: Some(analyst) })
    }

    /// Follows the demo's file, each record prepared by `prep`. When the scripted day is
    /// over the source says so (the header reads "WAITING day over: …"),
    /// and goes on following: responses still add records.
    pub fn source<P: Prepare>(&self, prep: Arc<P>) -> mpsc::Receiver<SourceEvent<P::Item>> {
        let (file_tx, mut file_rx) = mpsc::channel(CHANNEL_CAPACITY);
        tokio::spawn(file::run_prepared(FileSource::new(&self.path), prep, file_tx));
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let over = self.over.clone();
        tokio::spawn(async move {
            let mut told = false;
            loop {
                tokio::select! {
                    ev = file_rx.recv() => match ev {
                        Some(ev) => if tx.send(ev).await.is_err() { return },
                        None => return,
                    },
                    () = over.notified(), if !told => {
                        told = true;
                        // The last records reach the file, and the console, first.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        while let Ok(ev) = file_rx.try_recv() {
                            if tx.send(ev).await.is_err() {
                                return;
                            }
                        }
                        let said = Status::Waiting(DAY_OVER.to_owned());
                        if tx.send(SourceEvent::Status(said)).await.is_err() { return }
                    }
                }
            }
        });
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

/// What the header says once the scripted day has been played.
pub const DAY_OVER: &str = "day over: explore, r responds, q quits";

/// A client configuration for the demo's Zoom stand-in.
fn zoom_client_config(zoom: &crate::demo_api::DemoZoom) -> zoomwatch_zoomapi::ClientConfig {
    zoomwatch_zoomapi::ClientConfig {
        api_url: zoom.api_url.clone(),
        oauth_url: zoom.oauth_url.clone(),
        ..zoomwatch_zoomapi::ClientConfig::default()
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
    let t0 = crate::clock::now_ms();
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

/// `zoomwatch demo`'s arguments.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  zoomwatch demo                  # the console on a scripted day (10× speed)
  zoomwatch demo --speed 30       # the day thirty times faster
  zoomwatch demo --tail           # the same as lines, no terminal needed
  ZOOM_WEBHOOK_SECRET_TOKEN=... zoomwatch demo \\
      --send-to https://abc.execute-api.eu-west-1.amazonaws.com/zoom/webhook")]
pub struct DemoArgs {
    /// Playback speed of the scripted day (1 = real time, about 15 minutes).
    #[arg(long, default_value_t = 10.0, value_name = "N")]
    pub speed: f64,
    /// Print records and alerts as lines instead of the console (no terminal needed).
    #[arg(long)]
    pub tail: bool,
    /// Only play the scripted day, signed, against this endpoint (a deployed API, the
    /// Lambda emulator) — secret from ZOOM_WEBHOOK_SECRET_TOKEN; no local receiver.
    #[arg(long, value_name = "URL")]
    pub send_to: Option<String>,
}

/// `zoomwatch demo`: the scripted day through the real pipeline, shown in the console
/// (or as lines, or only sent to another endpoint).
pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    if let Some(url) = &args.send_to {
        let secrets = zoomwatch_ingest::config::load_secrets(None)?;
        let sender = zoomwatch_ingest::send::Sender::new(url, secrets.primary().clone())?;
        let (sent, ok) = play(&sender, args.speed, |event, _, outcome| match outcome {
            Ok(status) => println!("{status} {event}"),
            Err(e) => println!("ERR {event} {e}"),
        })
        .await;
        eprintln!("zoomwatch demo: {ok} of {sent} webhooks accepted by {url}");
        return Ok(if ok == sent { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if !args.tail {
        crate::app::require_terminal().map_err(|e| anyhow::anyhow!("{e}; or run `zoomwatch demo --tail`"))?;
    }
    let demo = Demo::start(args.speed).await?;
    if args.tail {
        let mut rx = demo.source(Arc::new(AsRead));
        eprintln!("zoomwatch demo: receiver {} → {} (Ctrl-C stops)", demo.url, demo.path.display());
        let opts = TailOptions { format: Format::Text, alerts_only: false, filter: Filter::default() };
        let mut printer = Printer::new(Detector::new(demo.config.clone()), opts);
        let stdout = std::io::stdout();
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(SourceEvent::Records(b)) => {
                        let mut out = stdout.lock();
                        printer.records(b, &mut out)?;
                        out.flush()?;
                    }
                    Some(_) => {}
                    None => break,
                },
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if demo.finished() {
                        // Let the last records reach the file and the tailer.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        while let Ok(ev) = rx.try_recv() {
                            if let SourceEvent::Records(b) = ev {
                                printer.records(b, &mut stdout.lock())?;
                            }
                        }
                        break;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        let (sent, ok) = demo.stop().await;
        eprintln!("zoomwatch demo: {ok} of {sent} webhooks accepted; {} records, {} alerts", printer.stats.records, printer.stats.alerts);
        return Ok(ExitCode::SUCCESS);
    }
    let rx = demo.source(Arc::new(Preparer::new(demo.config.clone(), None)));
    let (triage, _) = crate::live::load_triage(None);
    let label = format!("demo {}", demo.url.trim_end_matches("/zoom/webhook"));
    let analyst = crate::act::Analyst::current(None);
    let state = State::new(label, demo.config.clone(), triage, crate::state::DEFAULT_RETENTION, crate::clock::now_ms())
        .with_respond(analyst.name.clone(), None);
    let responder = demo.responder(analyst)?;
    // Demo verdicts are not written into the analyst's real triage file.
    let result = crate::app::run(state, rx, None, responder).await;
    demo.stop().await;
    result?;
    Ok(ExitCode::SUCCESS)
}
