//! The bodies of zoomwatch's fuzz targets, one function per reader of untrusted input.
//! `fuzz/fuzz_targets/*.rs` (cargo-fuzz, run by `scripts/fuzz`) call them with
//! libFuzzer's inputs; `tests/corpus.rs` replays the committed corpus through them in the
//! ordinary test suite, so every seed and every crash ever found stays a regression test.
//!
//! Each function must not panic on any input, and checks the invariants that should hold
//! (a record written is a record read back; sanitized text has no control characters).

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use zoomwatch_shared::config::Config;
use zoomwatch_shared::filter::{Filter, SearchText};
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::rules::Detector;
use zoomwatch_shared::signature::{ReplayWindow, Secret, SecretSet, sign, verify};
use zoomwatch_shared::{Envelope, Received, lines, normalize};

/// A target's body.
pub type Body = fn(&[u8]);

/// The targets, by name (as `fuzz/targets/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, Body)] =
    &[("webhook", webhook), ("lambda_event", lambda_event), ("stored_line", stored_line), ("filter", filter), ("config", config)];

const SECRET: &str = "fuzz-secret-token";
/// The clock the harness runs at (Unix seconds).
const NOW: i64 = 1_800_000_000;

fn secrets() -> &'static SecretSet {
    static S: OnceLock<SecretSet> = OnceLock::new();
    S.get_or_init(|| SecretSet::parse(SECRET).unwrap_or_else(|e| panic!("the harness secret: {e}")))
}

fn rules() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| Config::parse(zoomwatch_shared::scenario::CONFIG, "scenario").unwrap_or_else(|e| panic!("the scenario config: {e}")))
}

fn sanitized(s: &str) {
    let clean = zoomwatch_shared::text::sanitize(s, 400);
    assert!(!clean.chars().any(char::is_control), "control character survived sanitize: {clean:?}");
}

/// What the receiver does with a verified body: envelope, normalize (redaction, ids,
/// changes), stateless rules, serialize; then what a reader does with the stored line.
/// Returns the record stored.
fn receive(body: &[u8], signed_at: i64) -> Option<RecordV1> {
    let env = Envelope::parse(body).ok()?;
    let mut r = normalize(env, &Received { received_at_ms: signed_at * 1000, request: None });
    r.flags = zoomwatch_shared::rules::evaluate(&r, rules());
    let line = serde_json::to_vec(&r).unwrap_or_else(|e| panic!("a record that does not serialize: {e}"));
    assert!(!line.contains(&b'\n'), "a stored record is one line");
    let back = lines::parse(&line).unwrap_or_else(|e| panic!("a stored record that does not read back: {e:?}"));
    assert_eq!(back.id, r.id);
    assert_eq!(back.event, r.event);
    for s in [&r.event, &r.action, r.participant.as_ref().and_then(|p| p.name.as_ref()).unwrap_or(&String::new())] {
        sanitized(s);
    }
    Some(r)
}

/// Signature verification, envelope, normalize. The first byte picks how the body is
/// signed (correctly, wrongly, not at all), the next eight a timestamp offset.
pub fn webhook(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (offset, body) = if rest.len() >= 8 { rest.split_at(8) } else { (rest, &[][..]) };
    let mut off = [0u8; 8];
    off[..offset.len()].copy_from_slice(offset);
    // Mostly inside the window, sometimes far out.
    let skew = i64::from_le_bytes(off) % if mode & 0x80 == 0 { 600 } else { i64::MAX };
    let ts = NOW.saturating_add(skew).to_string();
    let secret = Secret::new(SECRET);
    let signature = match mode % 3 {
        0 => sign(&secret, &ts, body),
        1 => format!("v0={}", hex_of(offset)),
        _ => String::from_utf8_lossy(offset).into_owned(),
    };
    match verify(secrets(), Some(ts.as_bytes()), Some(signature.as_bytes()), body, NOW, ReplayWindow::default()) {
        Ok(_) => {
            assert_eq!(mode % 3, 0, "only the right signature verifies");
            receive(body, NOW);
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            assert!(mode % 3 != 0 || skew.unsigned_abs() > 300, "a correct signature inside the window was refused: {e}");
        }
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An API Gateway / function URL event as `lambda_http` decodes it, then the body
/// through [`webhook`]'s path with the headers it carries.
///
/// lambda_http 1.3 panics turning an event whose host (`requestContext.domainName` or the
/// `Host` header) is not a valid host name into a request (`Url::parse(..).unwrap()` in
/// `build_request_uri`; found by this target, input kept in the corpus). API Gateway
/// always sets a valid one, and lambda_runtime catches the panic and fails that one
/// invocation (tests/tests/lambda_emulator.rs shows the function serving the next
/// request); here the panic is caught the same way, around that conversion only.
pub fn lambda_event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let decoded = std::panic::catch_unwind(|| lambda_http::request::from_str(text));
    let Ok(Ok(req)) = decoded else { return };
    let headers = req.headers();
    let ts = headers.get("x-zm-request-timestamp").map(|v| v.as_bytes());
    let sig = headers.get("x-zm-signature").map(|v| v.as_bytes());
    let body: &[u8] = req.body().as_ref();
    if verify(secrets(), ts, sig, body, NOW, ReplayWindow::default()).is_ok() {
        receive(body, NOW);
    }
}

/// A line read back from a file or log group (the console's and `tail`'s reader): the
/// record, its search text, the detector, and the text line `tail` prints.
pub fn stored_line(data: &[u8]) {
    let Ok(r) = lines::parse(data) else { return };
    let search = SearchText::of(&r);
    let mut d = Detector::new(rules().clone());
    let flags = d.flags_for(&r);
    let _ = d.observe(&r);
    let _ = Filter::default().matches_search(None, &search);
    let _ = zoomwatch_shared::alert::alert_of(&r);
    sanitized(r.participant.as_ref().and_then(|p| p.name.as_deref()).unwrap_or(""));
    let _ = flags;
}

/// The filter language: parse, then match against a few records.
pub fn filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(f) = Filter::parse(text, 0) else { return };
    static RECORDS: OnceLock<Vec<RecordV1>> = OnceLock::new();
    let records = RECORDS.get_or_init(|| {
        zoomwatch_shared::scenario::account_day(NOW * 1000)
            .into_iter()
            .take(40)
            .filter_map(|s| Envelope::parse(&s.body).ok().map(|e| normalize(e, &Received { received_at_ms: NOW * 1000, request: None })))
            .collect()
    });
    for r in records {
        let search = SearchText::of(r);
        let fast = f.matches_search(r.worst_severity(), &search);
        assert_eq!(fast, f.matches_record(r, r.worst_severity()), "the two match paths disagree on {text:?}");
    }
}

/// `zoomwatch.toml`: parse and describe; an error names where.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Config::parse(text, "fuzz.toml") {
        Ok(c) => {
            let _ = c.describe();
        }
        Err(e) => assert!(e.to_string().contains("fuzz.toml"), "an error that does not say which file: {e}"),
    }
}
