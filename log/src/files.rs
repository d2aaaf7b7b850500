//! Files zoomwatch creates hold people's names, addresses and verdicts: owner-only
//! (0600 files, 0700 directories it makes), written atomically through a temporary
//! file with an unpredictable name beside the target. Existing files keep their mode
//! (an operator may have granted a SIEM collector read access on purpose).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// Creates `dir` and its missing parents, the new ones owner-only.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir)
}

fn private(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    o.mode(0o600);
    o
}

/// Opens `path` for appending (and reading), creating it owner-only if missing.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    private(OpenOptions::new().create(true).append(true).read(true)).open(path)
}

/// Writes `bytes` to `path` atomically: an owner-only temporary file with a random name
/// beside it, synced, then renamed over `path` (its directory created owner-only).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let result = (|| {
        let mut f = private(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates (or replaces) `path` with `bytes`, owner-only if new.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private(OpenOptions::new().write(true).create(true).truncate(true)).open(path)?;
    f.write_all(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn what_it_creates_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        write_atomic(&nested.join("triage.json"), b"{}").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&nested.join("triage.json")), 0o600);
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        open_append(&dir.path().join("events.jsonl")).unwrap();
        assert_eq!(mode(&dir.path().join("events.jsonl")), 0o600);
        write_new(&dir.path().join("export.csv"), b"x").unwrap();
        assert_eq!(mode(&dir.path().join("export.csv")), 0o600);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&nested).unwrap().count(), 1);
    }
}
