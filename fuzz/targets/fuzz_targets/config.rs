//! Fuzz target `config`: see `zoomwatch_fuzz::config` (fuzz/harness/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoomwatch_fuzz::config(data));
