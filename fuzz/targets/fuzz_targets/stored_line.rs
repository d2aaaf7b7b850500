//! Fuzz target `stored_line`: see `zoomwatch_fuzz::stored_line` (fuzz/harness/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoomwatch_fuzz::stored_line(data));
