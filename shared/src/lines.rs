//! Records to and from stored lines. Writing: one JSON object per line, with the
//! characters that some readers take as line breaks or that reorder text on screen
//! escaped. Reading: a log group or file can hold other things — Lambda platform lines
//! (`START RequestId: …`), a torn last line after a crash, a record of a future schema —
//! which are counted and skipped, never fatal.

use crate::record::{RecordV1, SCHEMA};

/// Why a line was not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Empty or white space.
    Blank,
    /// Not JSON, or JSON that is not a Record v1.
    NotARecord,
    /// A record of another schema version.
    OtherSchema,
}

/// The record id of a stored line without parsing it: zoomwatch writes `schema` then
/// `id` first (`{"schema":"zoomwatch.v1","id":"…",…`). `None` when the line does not
/// start that way (then parse it).
pub fn stored_id(line: &str) -> Option<&str> {
    let head = line.get(..line.len().min(64))?;
    let start = head.find(r#","id":""#)? + 7;
    let len = line.get(start..)?.find('"')?;
    line.get(start..start + len).filter(|id| !id.is_empty() && !id.contains('\\'))
}

/// Longest line considered (a record is at most a few hundred KiB).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// One record as one JSON line (no newline). serde_json escapes the C0 controls; the C1
/// controls, U+2028/U+2029 (line breaks to JavaScript and some log shippers) and the
/// bidi controls are escaped here too, so no reader splits or reorders a record.
pub fn to_line(r: &RecordV1) -> String {
    let mut s = serde_json::to_string(r).unwrap_or_default();
    escape_breakers(&mut s);
    s
}

/// Rewrites the characters [`to_line`] escapes as `\uXXXX`. They can occur only inside
/// JSON strings, where the escape means the same.
pub fn escape_breakers(s: &mut String) {
    let risky = |c: char| matches!(c, '\u{80}'..='\u{9F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    // Their UTF-8 starts with 0xC2 or 0xE2: most lines have neither and are left alone.
    if !s.bytes().any(|b| b == 0xC2 || b == 0xE2) || !s.chars().any(risky) {
        return;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if risky(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    *s = out;
}

/// Parses one line (without its newline).
pub fn parse(line: &[u8]) -> Result<RecordV1, Skip> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Err(Skip::Blank);
    }
    if trimmed.len() > MAX_LINE || trimmed[0] != b'{' {
        return Err(Skip::NotARecord);
    }
    // Checked as UTF-8 once, whole: parsing from `str` then skips the check of each
    // string (15% of the parse on typical records). A line that is not UTF-8 is no record.
    let text = std::str::from_utf8(trimmed).map_err(|_| Skip::NotARecord)?;
    let record: RecordV1 = serde_json::from_str(text).map_err(|_| Skip::NotARecord)?;
    if record.schema != SCHEMA {
        return Err(Skip::OtherSchema);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_holds_no_character_a_reader_splits_on() {
        let mut r = RecordV1::own("x1".into(), "meeting.participant_joined", crate::record::Category::Participant, "joined", 0, 0);
        let hostile = "a\u{2028}b\u{2029}c\u{85}d\u{9b}31m\u{202E}gnp.exe\u{2066}";
        r.raw = serde_json::json!({"object": {"participant": {"user_name": hostile}}, hostile: 1}).into();
        let line = to_line(&r);
        assert!(!line.contains(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{9b}', '\u{202E}', '\u{2066}']), "{line}");
        assert!(line.contains("\\u2028") && line.contains("\\u0085"), "{line}");
        let back = parse(line.as_bytes()).unwrap();
        assert_eq!(back.raw.value()["object"]["participant"]["user_name"], hostile, "the escape means the same text");
        let ascii = RecordV1::own("x2".into(), "e", crate::record::Category::Other, "a", 0, 0);
        assert_eq!(to_line(&ascii), serde_json::to_string(&ascii).unwrap(), "ordinary lines are untouched");
    }

    #[test]
    fn skips_what_is_not_a_record() {
        assert_eq!(parse(b"").unwrap_err(), Skip::Blank);
        assert_eq!(parse(b"START RequestId: 8f50 Version: $LATEST").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"{\"schema\":\"zoomwatch.v1\",\"id\":\"tor").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"{\"level\":\"info\"}").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"\xff\xfe garbage").unwrap_err(), Skip::NotARecord);
        let mut long = b"{\"schema\":\"zoomwatch.v1\",\"pad\":\"".to_vec();
        long.resize(MAX_LINE + 1, b'x');
        assert_eq!(parse(&long).unwrap_err(), Skip::NotARecord, "longer than any record");
        let v2 = br#"{"schema":"zoomwatch.v2","id":"x","event":"e","category":"other","action":"a","occurred_at":"2026-01-01T00:00:00.000Z","received_at":"2026-01-01T00:00:00.000Z","raw":{}}"#;
        assert_eq!(parse(v2).unwrap_err(), Skip::OtherSchema);
        let v1 = String::from_utf8_lossy(v2).replace("v2", "v1");
        assert_eq!(parse(v1.as_bytes()).unwrap().id, "x");
        // A byte that is not UTF-8 anywhere in the line, even where nothing reads it.
        for at in ["\"id\":\"x", "\"raw\":{\"k\":\"", "\"extra\":\""] {
            let mut bad = v1.replace("\"raw\":{}", "\"raw\":{\"k\":\"v\"},\"extra\":\"w\"").into_bytes();
            assert_eq!(parse(&bad).unwrap().id, "x", "valid as it is");
            let pos = bad.windows(at.len()).position(|w| w == at.as_bytes()).unwrap() + at.len();
            bad.insert(pos, 0xff);
            assert_eq!(parse(&bad).unwrap_err(), Skip::NotARecord, "{}", String::from_utf8_lossy(&bad));
        }
    }

    #[test]
    fn the_id_of_a_stored_line_is_read_without_parsing() {
        let r = crate::normalize::rejected_record(
            crate::record::Rejection { reason: "bad_signature".into(), detail: "x".into(), status: 401, suppressed: 0 },
            &crate::Received { received_at_ms: 1_700_000_000_000, request: None },
            1,
        );
        let line = to_line(&r);
        assert_eq!(stored_id(&line), Some(r.id.as_str()));
        assert_eq!(stored_id(r#"{"id":"x","schema":"zoomwatch.v1"}"#), None, "another order: parse it");
        assert_eq!(stored_id("START RequestId: 1"), None);
        assert_eq!(stored_id(r#"{"schema":"zoomwatch.v1","id":""#), None);
    }
}
