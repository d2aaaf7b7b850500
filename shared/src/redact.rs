//! Secrets never reach storage. Applied to every payload before it is written:
//!
//! - values of secret-bearing keys (passwords/passcodes, `recording_play_passcode`,
//!   `stream_key`, `download_token`, access tokens, `authorization`) become
//!   `"[REDACTED]"`. An empty value stays empty, so "no passcode" remains visible;
//! - secret query parameters in URLs (`pwd`, `tk`, `access_token`, `token`, `zak`…)
//!   keep their name but lose their value: `…/j/123?pwd=[REDACTED]`.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Redacts `value` in place (see the module docs for what counts as a secret).
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && !is_setting(key, v) {
                    blank(v);
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) => {
            if let Some(clean) = redact_url(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// Whether a secret-sounding key holds a setting about secrets rather than one: a
/// toggle (`pmi_password: true`), a group of rules (`meeting_password_requirement`), or
/// a length (`minimum_password_length`). Settings decide the policy rules, so they stay.
fn is_setting(key: &str, v: &Value) -> bool {
    match v {
        Value::Bool(_) | Value::Object(_) | Value::Array(_) => true,
        Value::Number(_) => key.to_ascii_lowercase().contains("length"),
        _ => false,
    }
}

fn blank(v: &mut Value) {
    let empty = match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if !empty {
        *v = Value::String(REDACTED.to_owned());
    }
}

/// True for keys whose value is a secret. Matching is case-insensitive.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("passcode")
        || k.contains("secret")
        || k == "stream_key"
        || k == "authorization"
        || k == "api_key"
        || k == "zak"
        || k == "pwd"
        || k.ends_with("_token")
        || k == "token"
}

const SECRET_PARAMS: &[&str] = &[
    "pwd",
    "tk",
    "zak",
    "token",
    "access_token",
    "download_token",
    "passcode",
    "password",
    "signature",
    "x-amz-signature",
    "x-amz-security-token",
    "sig",
    "key",
];

/// Returns the URL with secret query parameters' values replaced, or `None` when `s` is
/// not a URL with a query string or nothing needed changing.
pub fn redact_url(s: &str) -> Option<String> {
    if !s.contains("://") {
        return None;
    }
    let q = s.find('?')?;
    let (base, rest) = s.split_at(q + 1);
    let (query, fragment) = match rest.find('#') {
        Some(h) => rest.split_at(h),
        None => (rest, ""),
    };
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            if SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)) && pair.len() > name.len() + 1 {
                changed = true;
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    changed.then(|| format!("{base}{}{fragment}", parts.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_blanked_at_any_depth() {
        let mut v = json!({
            "password": "PaSsWoRd",
            "settings": {"h323_password": "123", "pstn_password": "", "waiting_room": true},
            "recording_play_passcode": "yNYIS408",
            "live_streaming": {"custom_live_streaming_settings": {"stream_key": "ABCDEFG", "stream_url": "https://x.example/live"}},
            "recording_files": [{"download_url": "https://x.example/rec/download/abc?access_token=eyJ0&other=1"}],
            "download_token": "abJhbG",
            "topic": "password reset drill"
        });
        redact(&mut v);
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["settings"]["h323_password"], REDACTED);
        assert_eq!(v["settings"]["pstn_password"], "", "empty stays empty: 'no passcode' is visible");
        assert_eq!(v["settings"]["waiting_room"], true);
        assert_eq!(v["recording_play_passcode"], REDACTED);
        assert_eq!(v["live_streaming"]["custom_live_streaming_settings"]["stream_key"], REDACTED);
        assert_eq!(v["live_streaming"]["custom_live_streaming_settings"]["stream_url"], "https://x.example/live");
        assert_eq!(v["recording_files"][0]["download_url"], "https://x.example/rec/download/abc?access_token=[REDACTED]&other=1");
        assert_eq!(v["download_token"], REDACTED);
        assert_eq!(v["topic"], "password reset drill", "values are not judged by content");
    }

    #[test]
    fn settings_about_passcodes_are_not_secrets() {
        let mut v = json!({"settings": {
            "meeting_security": {"pmi_password": false, "meeting_password_requirement": {"length": 8, "have_letter": true},
                "password": 123456, "webinar_password": "abc"},
            "security": {"password_requirement": {"minimum_password_length": 9}},
            "schedule_meeting": {"require_password_for_scheduling_new_meetings": true, "default_password_for_scheduled_meetings": "s3cret"}
        }});
        redact(&mut v);
        let s = &v["settings"];
        assert_eq!(s["meeting_security"]["pmi_password"], false);
        assert_eq!(s["meeting_security"]["meeting_password_requirement"], json!({"length": 8, "have_letter": true}));
        assert_eq!(s["security"]["password_requirement"]["minimum_password_length"], 9);
        assert_eq!(s["schedule_meeting"]["require_password_for_scheduling_new_meetings"], true);
        assert_eq!(s["meeting_security"]["password"], REDACTED, "a numeric passcode is still a passcode");
        assert_eq!(s["meeting_security"]["webinar_password"], REDACTED);
        assert_eq!(s["schedule_meeting"]["default_password_for_scheduled_meetings"], REDACTED);
    }

    #[test]
    fn join_urls_keep_their_shape() {
        assert_eq!(
            redact_url("https://zoom.us/j/98884753832?pwd=c21EQzg0SXY2dlNT#success").as_deref(),
            Some("https://zoom.us/j/98884753832?pwd=[REDACTED]#success")
        );
        assert_eq!(redact_url("https://zoom.us/j/1?foo=bar"), None);
        assert_eq!(redact_url("not a url ?pwd=1"), None);
        assert_eq!(redact_url("https://zoom.us/j/1?pwd="), None);
    }
}
