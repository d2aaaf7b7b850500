//! Fuzz target `lambda_event`: see `zoomwatch_fuzz::lambda_event` (fuzz/harness/src/lib.rs).
#![no_main]

// libfuzzer-sys aborts in its panic hook, before `catch_unwind` could see the panic; the
// harness catches lambda_http's conversion panic the way lambda_runtime does, so the hook
// is replaced by a silent one. Any other panic still reaches libfuzzer-sys's own
// `catch_unwind` around the target and aborts: it is still found.
libfuzzer_sys::fuzz_target!(init: { std::panic::set_hook(Box::new(|_| {})) }, |data: &[u8]| zoomwatch_fuzz::lambda_event(data));
