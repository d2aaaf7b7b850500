//! Fuzz target `filter`: see `zoomwatch_fuzz::filter` (fuzz/harness/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoomwatch_fuzz::filter(data));
