//! Fuzz target `lambda_event`: see `zoomwatch_fuzz::lambda_event` (fuzz/harness/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zoomwatch_fuzz::lambda_event(data));
