//! Receiver settings and secret loading. The webhook secret token comes from
//! `ZOOM_WEBHOOK_SECRET_TOKEN` (comma-separated during a rotation) or a file; it is never
//! logged or echoed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zoomwatch_shared::SecretSet;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::geo::{DbKind, GeoIp};
use zoomwatch_shared::signature::ReplayWindow;

/// Environment variable holding the Zoom app's secret token(s).
pub const SECRET_ENV: &str = "ZOOM_WEBHOOK_SECRET_TOKEN";
/// Default largest accepted body: 256 KiB (Zoom's bodies are a few KiB).
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;

/// How the receiver behaves.
#[derive(Clone)]
pub struct ReceiverConfig {
    /// Accepted secrets.
    pub secrets: SecretSet,
    /// Which `x-zm-request-timestamp` values are accepted, relative to now (default: up
    /// to 95 minutes old, so Zoom's late retries land; 5 minutes ahead).
    pub replay_window: ReplayWindow,
    /// Largest accepted body in bytes; larger ones get 413.
    pub max_body: usize,
    /// Time allowed to read a whole body once the headers are in; a client that stalls
    /// mid-body is answered 408 and its connection freed. Zoom sends a few KiB at once.
    pub body_timeout: std::time::Duration,
    /// Rejected-request records written per second at most (burst: 5× this).
    pub rejected_per_sec: u32,
    /// Detection settings for the stateless rules that fill each record's `flags`.
    pub rules: Arc<Config>,
    /// GeoIP databases that fill each record's `geo` blocks (none: no enrichment).
    pub geo: Option<Arc<GeoIp>>,
    /// Record ids remembered as stored, per process: a repeat delivery of one of them
    /// (a Zoom retry whose first attempt did land) is answered `duplicate` without a
    /// second write. 0 turns it off.
    pub recent_ids: usize,
    /// The claim store shared by every instance (exactly-once into the log); `None`:
    /// the per-process recent ids alone (at least once across instances).
    pub claims: Option<Arc<crate::claims::Claims>>,
    /// How long a write whose outcome is unknown holds its retries off (it may still be
    /// on its way); after it, a retry first looks for the record in the log.
    pub write_lease: std::time::Duration,
    /// The wall clock, Unix ms (tests inject one).
    pub clock: Clock,
}

/// A wall clock in Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64))
}

/// Default for [`ReceiverConfig::recent_ids`]: about 100 minutes of a busy account's
/// deliveries at 15/s, in about 4 MB.
pub const DEFAULT_RECENT_IDS: usize = 100_000;

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("secrets", &self.secrets)
            .field("replay_window", &self.replay_window)
            .field("max_body", &self.max_body)
            .field("rejected_per_sec", &self.rejected_per_sec)
            .field("geo", &self.geo)
            .field("recent_ids", &self.recent_ids)
            .field("claims", &self.claims.as_ref().map(|c| c.table().to_owned()))
            .finish_non_exhaustive()
    }
}

impl ReceiverConfig {
    /// Defaults around the given secrets.
    pub fn new(secrets: SecretSet) -> Self {
        Self {
            secrets,
            replay_window: ReplayWindow::default(),
            max_body: DEFAULT_MAX_BODY,
            body_timeout: std::time::Duration::from_secs(10),
            rejected_per_sec: 5,
            rules: Arc::new(Config::default()),
            geo: None,
            recent_ids: DEFAULT_RECENT_IDS,
            claims: None,
            write_lease: crate::claims::DEFAULT_LEASE,
            clock: system_clock(),
        }
    }
}

/// Why no secret could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretSourceError {
    /// Neither the environment nor a file gave a secret.
    #[error(
        "no webhook secret configured: set {SECRET_ENV} to the Secret Token shown in your Zoom app's \
         Feature → Event Subscriptions page (comma-separate two tokens during a rotation), or pass --secret-file PATH"
    )]
    Missing,
    /// The secret file could not be read.
    #[error("cannot read secret file {path}: {error}")]
    File {
        /// The file given.
        path: String,
        /// The I/O error (in the message; not a source, so reports do not repeat it).
        error: std::io::Error,
    },
    /// The file or variable held only white space and commas.
    #[error("the secret in {0} is empty")]
    Empty(String),
    /// Group or others may read the secret file.
    #[error("the secret file {path} can be read by others (mode {mode:03o}); run chmod 600 {path}")]
    Exposed {
        /// The file given.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
}

/// Loads secrets from `file` if given, else from the environment variable.
pub fn load_secrets(file: Option<&Path>) -> Result<SecretSet, SecretSourceError> {
    if let Some(path) = file {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|error| SecretSourceError::File { path: path.display().to_string(), error })?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretSourceError::Exposed { path: path.display().to_string(), mode });
            }
        }
        let text = std::fs::read_to_string(path).map_err(|error| SecretSourceError::File { path: path.display().to_string(), error })?;
        return SecretSet::parse(&text).map_err(|_| SecretSourceError::Empty(path.display().to_string()));
    }
    match std::env::var(SECRET_ENV) {
        Ok(v) => SecretSet::parse(&v).map_err(|_| SecretSourceError::Empty(SECRET_ENV.to_owned())),
        Err(_) => Err(SecretSourceError::Missing),
    }
}

/// Environment variable naming a `zoomwatch.toml` for the receiver.
pub const CONFIG_ENV: &str = "ZOOMWATCH_CONFIG";

/// Loads the detection config from `path` (else `ZOOMWATCH_CONFIG`, else built-in
/// defaults), and the GeoIP databases it (or the environment) names.
pub fn load_rules(path: Option<&Path>) -> Result<(Config, Option<Arc<GeoIp>>), String> {
    let from_env = std::env::var_os(CONFIG_ENV).map(std::path::PathBuf::from);
    let Some(path) = path.map(Path::to_path_buf).or(from_env) else {
        let cfg = Config::default();
        let geo = load_geoip(&cfg, None)?;
        return Ok((cfg, geo));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let cfg = Config::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    let geo = load_geoip(&cfg, Some(&path))?;
    Ok((cfg, geo))
}

/// Environment variables that name a GeoIP database, overriding `[enrichment]` (the
/// Lambda's way: the template points them at a layer under `/opt`).
pub const GEOIP_ENV: [(DbKind, &str); 3] =
    [(DbKind::City, "ZOOMWATCH_GEOIP_CITY"), (DbKind::Asn, "ZOOMWATCH_GEOIP_ASN"), (DbKind::Anonymous, "ZOOMWATCH_GEOIP_ANONYMOUS")];

/// Reads the GeoIP databases named by `[enrichment]` in `cfg` (relative paths are
/// relative to `config_path`'s folder) or by [`GEOIP_ENV`]. `None` when none is
/// configured. A configured database that is missing, unreadable, damaged or of the
/// wrong kind is an error naming the file and where it was configured.
pub fn load_geoip(cfg: &Config, config_path: Option<&Path>) -> Result<Option<Arc<GeoIp>>, String> {
    let base = config_path.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let mut geo = GeoIp::new();
    for (kind, var) in GEOIP_ENV {
        let configured = match kind {
            DbKind::City => cfg.enrichment.city.as_ref(),
            DbKind::Asn => cfg.enrichment.asn.as_ref(),
            DbKind::Anonymous => cfg.enrichment.anonymous.as_ref(),
        };
        let (path, whence) = match (std::env::var(var).ok().filter(|v| !v.trim().is_empty()), configured) {
            (Some(v), _) => (PathBuf::from(v.trim()), var.to_owned()),
            (None, Some(db)) => {
                let p = Path::new(&db.path);
                let at = config_path.map_or_else(String::new, |c| format!(", {}:{}", c.display(), db.line));
                (if p.is_absolute() { p.to_path_buf() } else { base.join(p) }, format!("enrichment.{}{at}", kind.key()))
            }
            (None, None) => continue,
        };
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "cannot read GeoIP database {} (set by {whence}): {e}; fix the path, or remove it to run without this database",
                path.display()
            )
        })?;
        geo = geo.with(kind, bytes, &path.display().to_string()).map_err(|e| format!("{e} (set by {whence})"))?;
    }
    Ok((!geo.is_empty()).then(|| Arc::new(geo)))
}

/// Parses a size such as `262144`, `256KiB`, `256k`, `1MiB`, `1m`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().map_err(|_| format!("not a size: {s:?} (try 262144, 256KiB or 1MiB)"))?;
    let mult = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        other => {
            return Err(format!("unknown size unit {other:?} in {s:?} (use KiB or MiB)"));
        }
    };
    n.checked_mul(mult).ok_or_else(|| format!("size too large: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("262144"), Ok(262_144));
        assert_eq!(parse_size("256KiB"), Ok(262_144));
        assert_eq!(parse_size("1m"), Ok(1_048_576));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
