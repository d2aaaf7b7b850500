//! Finding the external tools the end-to-end tests run (`moto_server`, `cargo-lambda`).
//! They come from the repository's `.venv`, which `scripts/test` creates from
//! `scripts/requirements-test.txt`. A missing tool is a test failure with instructions,
//! never a silent skip.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `name` from `$ZOOMWATCH_VENV/bin`, `<repo>/.venv/bin`, or `PATH`.
pub fn find(name: &str) -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("ZOOMWATCH_VENV") {
        candidates.push(PathBuf::from(v).join("bin").join(name));
    }
    candidates.push(repo_root().join(".venv/bin").join(name));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|p| p.join(name)));
    }
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "{name} not found. Run the suite with ./scripts/test, which installs it into .venv \
             (or: python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-test.txt)"
        )
    })
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test run).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A binary of this workspace (`zoomwatch`), next to the test executable in the target
/// directory. `cargo test --workspace` builds it; a partial build gets instructions.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).map(std::path::Path::to_path_buf).unwrap_or_default();
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} not built; run the suite with ./scripts/test (cargo test --workspace builds it), or for a --release run `cargo build --release --bins` first",
        bin.display()
    );
    bin
}
