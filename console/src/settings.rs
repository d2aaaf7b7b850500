//! Where the console's `zoomwatch.toml` comes from: `--config PATH`, else
//! `$XDG_CONFIG_HOME/zoomwatch/zoomwatch.toml` (or `~/.config/…`) if it exists, else the
//! built-in defaults. The GeoIP databases it names (`[enrichment]`) are loaded with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zoomwatch_shared::config::{self, Config};
use zoomwatch_shared::geo::GeoIp;

/// Which file (if any) the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file.
    File(PathBuf),
    /// Nothing found: built-in defaults.
    BuiltIn,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::BuiltIn => f.write_str("built-in defaults"),
        }
    }
}

/// What the console runs with.
pub struct Settings {
    /// Detection settings.
    pub config: Config,
    /// Where they came from.
    pub origin: Origin,
    /// The analyst's GeoIP databases (`[enrichment]` or `ZOOMWATCH_GEOIP_*`), used for
    /// records written without `geo`.
    pub geo: Option<Arc<GeoIp>>,
}

/// Loads the configuration and the GeoIP databases it names. An explicit path must
/// exist; the default location may not. A configured database that cannot be read is
/// an error naming it.
pub fn load(explicit: Option<&Path>) -> Result<Settings, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => config::default_path(std::env::var("XDG_CONFIG_HOME").ok().as_deref(), std::env::var("HOME").ok().as_deref())
            .filter(|p| p.exists()),
    };
    let Some(path) = path else {
        let config = Config::default();
        let geo = zoomwatch_ingest::config::load_geoip(&config, None)?;
        return Ok(Settings { config, origin: Origin::BuiltIn, geo });
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let config = Config::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    let geo = zoomwatch_ingest::config::load_geoip(&config, Some(&path))?;
    Ok(Settings { config, origin: Origin::File(path), geo })
}
