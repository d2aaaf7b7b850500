//! Zoom webhook signatures: <https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events>.
//!
//! ```text
//! x-zm-signature = "v0=" + hex(HMAC_SHA256(secret, "v0:" + x-zm-request-timestamp + ":" + raw_body))
//! ```
//!
//! Verification works on the exact bytes received — re-serialized JSON does not verify
//! (Zoom sends `\uD83D\uDE92` escapes next to raw UTF-8). Several secrets can be live at
//! once so the Zoom app's secret token can be rotated without dropping events.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying `v0=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-zm-signature";
/// Header carrying the Unix time in seconds that the signature covers.
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
/// How far in the past a signed timestamp may be, by default: 95 minutes. Zoom retries a
/// delivery that got a 5xx or timed out after about 5, 25 and 85 minutes and does not
/// document that a retry is signed anew; refusing a late retry with 401 would lose the
/// event for good (Zoom never retries a 4xx). A replay inside the window can only deliver
/// a genuine event again, under the same record id.
pub const DEFAULT_MAX_AGE_SECS: u64 = 95 * 60;
/// How far in the future a signed timestamp may be, by default (clock skew): 5 minutes.
pub const DEFAULT_MAX_AHEAD_SECS: u64 = 300;

/// Which signed timestamps are accepted, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Oldest accepted, in seconds before now.
    pub max_age_secs: u64,
    /// Furthest accepted ahead of now (the sender's clock is fast), in seconds.
    pub max_ahead_secs: u64,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self { max_age_secs: DEFAULT_MAX_AGE_SECS, max_ahead_secs: DEFAULT_MAX_AHEAD_SECS }
    }
}

/// A webhook secret token. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the secret token exactly as shown in the Zoom app's *Feature* page.
    pub fn new(token: &str) -> Self {
        Self(token.as_bytes().to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The secrets currently accepted; the first one is used to sign outgoing test requests.
#[derive(Clone, Debug)]
pub struct SecretSet(Vec<Secret>);

/// Why a set of secrets could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// Nothing but separators and white space was given.
    #[error("no webhook secret token given (set ZOOM_WEBHOOK_SECRET_TOKEN, comma-separated for rotation)")]
    Empty,
}

impl SecretSet {
    /// Parses a comma-separated list (`new,old` during a rotation). White space around
    /// each token is ignored; empty entries are skipped.
    pub fn parse(list: &str) -> Result<Self, SecretError> {
        let secrets: Vec<Secret> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Secret::new).collect();
        if secrets.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(secrets))
    }

    /// The secret used to sign requests we send ourselves (`zoomwatch-ingest send`).
    pub fn primary(&self) -> &Secret {
        &self.0[0]
    }

    /// How many secrets are accepted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a set holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret at `index`, as returned by [`verify`].
    pub fn get(&self, index: usize) -> Option<&Secret> {
        self.0.get(index)
    }
}

/// Why a request's signature was not accepted. The `Display` text is safe to return to
/// the caller and to store: it never contains a secret or the body.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum VerifyError {
    /// No `x-zm-signature` header.
    #[error("missing x-zm-signature header")]
    MissingSignature,
    /// No `x-zm-request-timestamp` header.
    #[error("missing x-zm-request-timestamp header")]
    MissingTimestamp,
    /// The timestamp header is not a whole number of seconds.
    #[error("malformed x-zm-request-timestamp header")]
    MalformedTimestamp,
    /// The signature header is not `v0=` followed by 64 hex digits.
    #[error("malformed x-zm-signature header")]
    MalformedSignature,
    /// No configured secret produces this signature.
    #[error("signature mismatch")]
    BadSignature,
    /// The signature is authentic but its timestamp is outside the replay window.
    #[error("{}", stale_detail(*skew_secs, *limit_secs))]
    StaleTimestamp {
        /// Signed difference request timestamp − now, in seconds.
        skew_secs: i64,
        /// The limit it broke (max age when in the past, max ahead when in the future).
        limit_secs: u64,
    },
}

impl VerifyError {
    /// A short stable code for records and metrics (`bad_signature`, `stale_timestamp`…).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingTimestamp => "missing_timestamp",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::MalformedSignature => "malformed_signature",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp { .. } => "stale_timestamp",
        }
    }
}

fn stale_detail(skew: i64, limit: u64) -> String {
    if skew < 0 {
        format!("timestamp outside the replay window: signed {} s ago, accepted up to {limit} s", skew.unsigned_abs())
    } else {
        format!("timestamp outside the replay window: {skew} s in the future, accepted up to {limit} s ahead")
    }
}

/// Computes the `x-zm-signature` value for `body` signed at `timestamp` (seconds, as sent).
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let mut mac = secret.mac();
    feed(&mut mac, timestamp, body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn feed(mac: &mut HmacSha256, timestamp: &str, body: &[u8]) {
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
}

/// Verifies a request. Returns the index of the secret that matched (answer URL
/// validation with that one). `now_secs` is the current Unix time in seconds; the
/// timestamp must be inside `window` around it. The comparison is constant-time.
///
/// The signature is checked before the timestamp's age, so [`VerifyError::StaleTimestamp`]
/// means "authentic but replayed or badly delayed".
pub fn verify(
    secrets: &SecretSet,
    timestamp: Option<&[u8]>,
    signature: Option<&[u8]>,
    body: &[u8],
    now_secs: i64,
    window: ReplayWindow,
) -> Result<usize, VerifyError> {
    let signature = signature.ok_or(VerifyError::MissingSignature)?;
    let timestamp = timestamp.ok_or(VerifyError::MissingTimestamp)?;
    let ts_str = std::str::from_utf8(timestamp).map_err(|_| VerifyError::MalformedTimestamp)?;
    let ts: i64 = parse_seconds(ts_str).ok_or(VerifyError::MalformedTimestamp)?;
    let expected = decode_signature(signature).ok_or(VerifyError::MalformedSignature)?;

    let matched = secrets.0.iter().position(|secret| {
        let mut mac = secret.mac();
        feed(&mut mac, ts_str, body);
        mac.verify_slice(&expected).is_ok()
    });
    let index = matched.ok_or(VerifyError::BadSignature)?;

    let skew = ts.saturating_sub(now_secs);
    let limit = if skew < 0 { window.max_age_secs } else { window.max_ahead_secs };
    if skew.unsigned_abs() > limit {
        return Err(VerifyError::StaleTimestamp { skew_secs: skew, limit_secs: limit });
    }
    Ok(index)
}

/// The timestamp header as Unix seconds, when it is well formed (as [`verify`] reads it).
pub fn timestamp_secs(header: &[u8]) -> Option<i64> {
    parse_seconds(std::str::from_utf8(header).ok()?)
}

fn parse_seconds(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn decode_signature(header: &[u8]) -> Option<[u8; 32]> {
    let hex_part = header.strip_prefix(b"v0=")?;
    if hex_part.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

/// The `encryptedToken` for an `endpoint.url_validation` request:
/// `hex(HMAC_SHA256(secret, plainToken))`.
pub fn url_validation_token(secret: &Secret, plain_token: &str) -> String {
    let mut mac = secret.mac();
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: ReplayWindow = ReplayWindow { max_age_secs: 300, max_ahead_secs: 300 };

    const ZOOMNET_SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";
    const PROJECT_SECRET: &str = "aBcDeFgHiJkLmNoPqRsTuV";

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../testdata/zoom/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap()
    }

    fn set(s: &str) -> SecretSet {
        SecretSet::parse(s).unwrap()
    }

    // Vectors from testdata/zoom/signature_vectors.md.
    #[test]
    fn a1_crc_request_is_signed() {
        let body = fixture("endpoint.url_validation__signed.json");
        assert_eq!(body.len(), 110);
        let sig = sign(&Secret::new(ZOOMNET_SECRET), "1720705455", &body);
        assert_eq!(sig, "v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6");
        let token = url_validation_token(&Secret::new(ZOOMNET_SECRET), "xys8n8PGS7mAU0m5-YJjRA");
        assert_eq!(token, "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3");
    }

    #[test]
    fn a2_non_ascii_body_is_verified_on_raw_bytes() {
        let body = fixture("meeting.started__unicode_escapes_signed.json");
        assert_eq!(body.len(), 362);
        let header = b"v0=1a14e79349318fa1bead50ebbd3c185ae078e182d3bbd30ab8010fcb7f4357c7";
        let ok = verify(&set(ZOOMNET_SECRET), Some(b"1720707175"), Some(header), &body, 1_720_707_175, W);
        assert_eq!(ok, Ok(0));
        // Re-serialising the JSON changes the bytes and must not verify.
        let reserialized = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
        assert_ne!(reserialized, body);
        let bad = verify(&set(ZOOMNET_SECRET), Some(b"1720707175"), Some(header), &reserialized, 1_720_707_175, W);
        assert_eq!(bad, Err(VerifyError::BadSignature));
    }

    #[test]
    fn a3_and_b4_crc_tokens() {
        assert_eq!(
            url_validation_token(&Secret::new("UB_rdTwhTruoYCMr6x6-MQ"), "qgg8vlvZRS6UYooatFL8Aw"),
            "439d1ed256e8d5513d2acd195e0adc64bbbfeb6b795b9d1880534610b58c674c"
        );
        assert_eq!(
            url_validation_token(&Secret::new(PROJECT_SECRET), "qgg8vlvZRS6UYooatFL8Aw"),
            "5d8ee2ec08987384c55188fdf3d4a9372f70a9969bab0f8a444bc14e52a5f649"
        );
        let body = fixture("endpoint.url_validation.json");
        assert_eq!(
            sign(&Secret::new(PROJECT_SECRET), "1654503849", &body),
            "v0=822b7fb141f3ba6d165f66a5af2e561b9edf86cf6e0d3f25fcec9a2342b3d245"
        );
    }

    #[test]
    fn b1_guest_join_and_its_mismatches() {
        let body = fixture("meeting.participant_joined__guest_real.json");
        assert_eq!(body.len(), 548);
        let secret = Secret::new(PROJECT_SECRET);
        assert_eq!(sign(&secret, "1749064313", &body), "v0=cf3adc8d15d502c6f4673a1b8f02f5b868bebe879add6eaf8de07030ea6c7c30");
        let mut with_newline = body.clone();
        with_newline.push(b'\n');
        assert_eq!(sign(&secret, "1749064313", &with_newline), "v0=8570bbf7da50a655abca6f74312072f736ca1160383a801b1a6719de2d08aebb");
        assert_eq!(sign(&secret, "1749064314", &body), "v0=0ca9d217ffc3702c5d2bd8881e4b41b5aacceb8772373718cd03340acf4e760b");
    }

    #[test]
    fn b2_hangul_and_b3_docs_message() {
        let body = fixture("meeting.participant_joined__unicode_name.json");
        assert_eq!(body.len(), 547);
        assert_eq!(
            sign(&Secret::new(PROJECT_SECRET), "1775897147", &body),
            "v0=dfc28f9106cfd5c98b3c2da439bb16ece417d8852fe89f9077989f68122f2b42"
        );
        let docs = br#"{"event":"session.started","payload":{"account_id":"{ACCOUNT_ID}","object":{"start_time":"2022-07-27T16:56:34Z","id":"{SESSION_ID}"}},"event_ts":1658940994914}"#;
        assert_eq!(
            sign(&Secret::new(PROJECT_SECRET), "1658940994", docs),
            "v0=ff59702d98394378ff240c12b3d81ae4ff9f04232d4ccc39febf94fc777757a6"
        );
    }

    #[test]
    fn rotation_returns_the_matching_secret() {
        let secrets = set(" new-secret , old-secret ,,");
        assert_eq!(secrets.len(), 2);
        let sig = sign(&Secret::new("old-secret"), "100", b"{}");
        assert_eq!(verify(&secrets, Some(b"100"), Some(sig.as_bytes()), b"{}", 100, W), Ok(1));
        assert_eq!(SecretSet::parse(" , ").unwrap_err(), SecretError::Empty);
    }

    #[test]
    fn header_problems_have_distinct_errors() {
        let s = set("k");
        let good = sign(&Secret::new("k"), "1000", b"x");
        let v = |ts: Option<&[u8]>, sig: Option<&[u8]>| verify(&s, ts, sig, b"x", 1000, W);
        assert_eq!(v(Some(b"1000"), None), Err(VerifyError::MissingSignature));
        assert_eq!(v(None, Some(good.as_bytes())), Err(VerifyError::MissingTimestamp));
        assert_eq!(v(Some(b"-5"), Some(good.as_bytes())), Err(VerifyError::MalformedTimestamp));
        assert_eq!(v(Some(b"1000"), Some(b"v1=abc")), Err(VerifyError::MalformedSignature));
        assert_eq!(v(Some(b"1000"), Some(&good.as_bytes()[..60])), Err(VerifyError::MalformedSignature));
        let upper = good.to_uppercase().replacen("V0=", "v0=", 1);
        assert_eq!(v(Some(b"1000"), Some(upper.as_bytes())), Ok(0), "hex digits are case-insensitive");
        assert_eq!(v(Some(b"1001"), Some(good.as_bytes())), Err(VerifyError::BadSignature));
        // Authentic but old / from the future.
        let sym = ReplayWindow { max_age_secs: 300, max_ahead_secs: 300 };
        assert_eq!(
            verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 1301, sym),
            Err(VerifyError::StaleTimestamp { skew_secs: -301, limit_secs: 300 })
        );
        assert_eq!(verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 1300, sym), Ok(0));
        assert_eq!(
            verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 699, sym),
            Err(VerifyError::StaleTimestamp { skew_secs: 301, limit_secs: 300 })
        );
        // The default: Zoom's late retries (+5, +25, +85 min) pass; 3 h old or 10 min ahead do not.
        for age in [0, 5 * 60, 25 * 60, 85 * 60, 95 * 60] {
            assert_eq!(verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 1000 + age, ReplayWindow::default()), Ok(0), "{age}");
        }
        let e = verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 1000 + 3 * 3600, ReplayWindow::default()).unwrap_err();
        assert_eq!(e.to_string(), "timestamp outside the replay window: signed 10800 s ago, accepted up to 5700 s");
        let e = verify(&s, Some(b"1000"), Some(good.as_bytes()), b"x", 1000 - 600, ReplayWindow::default()).unwrap_err();
        assert_eq!(e.to_string(), "timestamp outside the replay window: 600 s in the future, accepted up to 300 s ahead");
        assert_eq!(timestamp_secs(b"1000"), Some(1000));
        assert_eq!(timestamp_secs(b"x"), None);
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let s = set("super-secret-value");
        assert!(!format!("{s:?}").contains("super"));
    }
}
