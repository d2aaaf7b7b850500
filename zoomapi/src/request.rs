//! An API call as plain data, so what will be sent can be shown (`--dry-run`, the
//! console's confirmation dialog, the audit record) before anything is sent.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;

/// HTTP methods Zoom's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One call: method, path below the API base (already encoded), query, JSON body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiRequest {
    /// Method.
    pub method: Method,
    /// Path below the base URL, starting with `/`, segments percent-encoded.
    pub path: String,
    /// Query parameters (not yet encoded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl ApiRequest {
    /// A call without query or body.
    pub fn new(method: Method, path: String) -> Self {
        Self { method, path, query: Vec::new(), body: None }
    }

    /// With a JSON body.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// With a query parameter.
    pub fn with_query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The full URL below `base` (e.g. `https://api.zoom.us/v2`).
    pub fn url(&self, base: &str) -> String {
        let mut url = format!("{}{}", base.trim_end_matches('/'), self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&utf8_percent_encode(k, STRICT).to_string());
            url.push('=');
            url.push_str(&utf8_percent_encode(v, STRICT).to_string());
        }
        url
    }

    /// The body as shown to people and written to audit records: a new passcode is
    /// replaced by `<redacted>`.
    pub fn shown_body(&self) -> Option<Value> {
        let mut body = self.body.clone()?;
        if let Some(p) = body.get_mut("password")
            && p.is_string()
        {
            *p = Value::String("<redacted>".into());
        }
        Some(body)
    }
}

impl fmt::Display for ApiRequest {
    /// `PUT /meetings/123/status {"action":"end"}` (passcodes redacted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.url(""))?;
        if let Some(b) = self.shown_body() {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// RFC 3986 unreserved characters stay; everything else is escaped (so `/`, `+`, `=`
/// and `%` in base64 UUIDs are too).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One path segment, percent-encoded once (user ids, emails, registrant ids).
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

/// A meeting id or UUID as a path segment. Meeting numbers go as they are; a UUID is
/// encoded once, or twice when it begins with `/` or contains `//`, as Zoom requires
/// ("Using Zoom APIs", double encoding).
pub fn meeting_segment(id: &str) -> String {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return id.to_owned();
    }
    let once = segment(id);
    if id.starts_with('/') || id.contains("//") { segment(&once) } else { once }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_numbers_are_not_encoded() {
        assert_eq!(meeting_segment("84512345678"), "84512345678");
    }

    #[test]
    fn uuids_are_encoded_once_or_twice() {
        // Plain base64 UUID: once (`/`, `+`, `=` escaped).
        assert_eq!(meeting_segment("aLlH4nds/Q3+2026xYz0w=="), "aLlH4nds%2FQ3%2B2026xYz0w%3D%3D");
        // Starts with `/`: twice.
        assert_eq!(meeting_segment("/ajXp112QmuoKj4854875=="), "%252FajXp112QmuoKj4854875%253D%253D");
        // Contains `//`: twice.
        assert_eq!(meeting_segment("4444AAA//iiiiiiii=="), "4444AAA%252F%252Fiiiiiiii%253D%253D");
    }

    #[test]
    fn urls_and_display() {
        let r = ApiRequest::new(Method::Get, "/metrics/meetings/1/participants".into()).with_query("type", "live");
        assert_eq!(r.url("https://api.zoom.us/v2/"), "https://api.zoom.us/v2/metrics/meetings/1/participants?type=live");
        let r = ApiRequest::new(Method::Patch, "/meetings/1".into()).with_body(serde_json::json!({"password": "s3cret!", "settings": {}}));
        let shown = r.to_string();
        assert!(shown.starts_with("PATCH /meetings/1 "), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
