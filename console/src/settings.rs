//! Where the console's `zoomwatch.toml` comes from: `--config PATH`, else
//! `$XDG_CONFIG_HOME/zoomwatch/zoomwatch.toml` (or `~/.config/…`) if it exists, else the
//! built-in defaults.

use std::path::{Path, PathBuf};

use zoomwatch_shared::config::{self, Config};

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

/// Loads the configuration. An explicit path must exist; the default location may not.
pub fn load(explicit: Option<&Path>) -> Result<(Config, Origin), String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => config::default_path(std::env::var("XDG_CONFIG_HOME").ok().as_deref(), std::env::var("HOME").ok().as_deref())
            .filter(|p| p.exists()),
    };
    let Some(path) = path else {
        return Ok((Config::default(), Origin::BuiltIn));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let cfg = Config::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    Ok((cfg, Origin::File(path)))
}
