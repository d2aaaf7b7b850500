//! Every file of the committed corpus (`fuzz/corpus/<target>/`: the seeds, and each input
//! that ever crashed a target, kept after the fix) through its target's body, as an
//! ordinary test: no nightly flags, no fuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn the_corpus_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for (name, run) in zoomwatch_fuzz::TARGETS {
        let dir = root.join(name);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} panicked", path.display());
            n += 1;
        }
        assert!(n >= 3, "{name}: only {n} seeds in {}", dir.display());
    }
}
