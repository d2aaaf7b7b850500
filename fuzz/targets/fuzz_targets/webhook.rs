//! Fuzz target `webhook`: see `zoomwatch_fuzz::webhook` (fuzz/harness/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoomwatch_fuzz::webhook(data));
