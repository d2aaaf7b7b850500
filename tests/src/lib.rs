//! Helpers for the workspace-level end-to-end tests in `tests/tests/`: a real receiver on
//! a loopback port with a real sink, and signed deliveries, as Zoom would make them;
//! moto ([`moto`]) for CloudWatch Logs; a strict stand-in for Zoom's REST API
//! ([`zoom_api`]).

use std::net::SocketAddr;
use std::path::Path;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::{router, server};
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::SecretSet;

/// The secret the helpers sign with.
pub const SECRET: &str = "e2e-secret-token";

/// A receiver running in this process.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Receiver {
    /// Starts a receiver writing to the JSONL file `path`.
    pub async fn start_file(path: &Path) -> std::io::Result<Self> {
        Self::start_file_geo(path, None).await
    }

    /// Like [`Receiver::start_file`], enriching with the demo's bundled test GeoIP
    /// databases, as `zoomwatch demo` does.
    pub async fn start_file_enriched(path: &Path) -> std::io::Result<Self> {
        Self::start_file_geo(path, Some(std::sync::Arc::new(zoomwatch_shared::scenario::geoip()))).await
    }

    /// Like [`Receiver::start_file_enriched`], judging with `rules` (a zoomwatch.toml's),
    /// as `zoomwatch-ingest serve --config` does.
    pub async fn start_file_rules(path: &Path, rules: zoomwatch_shared::config::Config) -> std::io::Result<Self> {
        Self::start(path, Some(std::sync::Arc::new(zoomwatch_shared::scenario::geoip())), Some(rules)).await
    }

    async fn start_file_geo(path: &Path, geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>) -> std::io::Result<Self> {
        Self::start(path, geo, None).await
    }

    async fn start(
        path: &Path,
        geo: Option<std::sync::Arc<zoomwatch_shared::geo::GeoIp>>,
        rules: Option<zoomwatch_shared::config::Config>,
    ) -> std::io::Result<Self> {
        let sink = FileSink::open(path, Durability::Fsync)?;
        let mut cfg = ReceiverConfig::new(SecretSet::parse(SECRET).map_err(std::io::Error::other)?);
        cfg.geo = geo;
        if let Some(rules) = rules {
            cfg.rules = std::sync::Arc::new(rules);
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, router(cfg, sink), async {
            let _ = rx.await;
        }));
        Ok(Self { addr, stop: Some(tx), task })
    }

    /// The webhook URL.
    pub fn url(&self) -> String {
        format!("http://{}/zoom/webhook", self.addr)
    }

    /// Stops it and waits for in-flight requests.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// The scenario day as the receiver stores it (enriched, flagged), received `ago_ms`
/// before now.
pub fn stored_day(ago_ms: i64) -> Vec<zoomwatch_shared::RecordV1> {
    use zoomwatch_shared::scenario;
    let cfg = zoomwatch_shared::config::Config::parse(scenario::CONFIG, "scenario").expect("the scenario's config parses");
    let geo = scenario::geoip();
    let now = zoomwatch_ingest::send::unix_now() * 1000;
    let mut seen = std::collections::HashSet::new();
    scenario::account_day(now - ago_ms - 900_000)
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let env = zoomwatch_shared::Envelope::parse(&s.body).ok()?;
            let rx = zoomwatch_shared::Received { received_at_ms: now - ago_ms + i as i64 * 1000, request: None };
            let mut r = zoomwatch_shared::normalize(env, &rx);
            geo.enrich(&mut r);
            r.flags = zoomwatch_shared::rules::evaluate(&r, &cfg);
            seen.insert(r.id.clone()).then_some(r) // the scripted retry is stored once
        })
        .collect()
}

/// The repository's fixture directory.
pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoom")
}

pub mod faults;
pub mod function_url;
pub mod hook;
pub mod moto;
pub mod process;
pub mod tools;
pub mod zoom_api;
