//! Alert triage (acknowledged, dismissed, notes), kept in a small JSON file so a restart
//! of the console keeps the analyst's work: `$XDG_STATE_HOME/zoomwatch/triage.json` (or
//! `~/.local/state/zoomwatch/triage.json`). Written atomically (temp file + rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not looked at yet.
    #[default]
    New,
    /// Seen and being handled.
    Acked,
    /// Not a problem.
    Dismissed,
}

impl Status {
    /// From the label.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Self::New),
            "acked" => Some(Self::Acked),
            "dismissed" => Some(Self::Dismissed),
            _ => None,
        }
    }

    /// Short label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acked => "acked",
            Self::Dismissed => "dismissed",
        }
    }
}

/// The analyst's verdict on one alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Status.
    pub status: Status,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// When last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
    /// Who changed it last (this analyst, or another one through a `zoomwatch.triage`
    /// record).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    /// Response actions taken on it, one line each (`12:03:04 ana: done: end meeting …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

/// All verdicts, by alert id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    /// Verdicts.
    pub alerts: BTreeMap<String, Entry>,
}

/// The default file location.
pub fn default_path() -> Option<PathBuf> {
    let base = match (std::env::var("XDG_STATE_HOME").ok().filter(|s| !s.is_empty()), std::env::var("HOME").ok()) {
        (Some(x), _) => PathBuf::from(x),
        (None, Some(h)) => Path::new(&h).join(".local/state"),
        (None, None) => return None,
    };
    Some(base.join("zoomwatch").join("triage.json"))
}

impl Triage {
    /// Loads `path`; a missing file is an empty triage, a corrupt one an error.
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{} is not a triage file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Saves to `path` atomically, owner-only.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        zoomwatch_log::files::write_atomic(path, &serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_absence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/triage.json");
        assert_eq!(Triage::load(&path).unwrap(), Triage::default());
        let mut t = Triage::default();
        t.alerts.insert(
            "a1".into(),
            Entry {
                status: Status::Acked,
                note: "called the host".into(),
                updated_at: "2026-01-01T00:00:00.000Z".into(),
                ..Entry::default()
            },
        );
        t.save(&path).unwrap();
        assert_eq!(Triage::load(&path).unwrap(), t);
        std::fs::write(&path, "not json").unwrap();
        assert!(Triage::load(&path).is_err());
    }
}
