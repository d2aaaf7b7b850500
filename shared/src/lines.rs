//! Turning stored lines into records. A log group or file can hold other things — Lambda
//! platform lines (`START RequestId: …`), a torn last line after a crash, a record of a
//! future schema — which are counted and skipped, never fatal.

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

/// Longest line considered (a record is at most a few hundred KiB).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// Parses one line (without its newline).
pub fn parse(line: &[u8]) -> Result<RecordV1, Skip> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Err(Skip::Blank);
    }
    if trimmed.len() > MAX_LINE || trimmed[0] != b'{' {
        return Err(Skip::NotARecord);
    }
    let record: RecordV1 = serde_json::from_slice(trimmed).map_err(|_| Skip::NotARecord)?;
    if record.schema != SCHEMA {
        return Err(Skip::OtherSchema);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_what_is_not_a_record() {
        assert_eq!(parse(b"").unwrap_err(), Skip::Blank);
        assert_eq!(parse(b"START RequestId: 8f50 Version: $LATEST").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"{\"schema\":\"zoomwatch.v1\",\"id\":\"tor").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"{\"level\":\"info\"}").unwrap_err(), Skip::NotARecord);
        assert_eq!(parse(b"\xff\xfe garbage").unwrap_err(), Skip::NotARecord);
        let v2 = br#"{"schema":"zoomwatch.v2","id":"x","event":"e","category":"other","action":"a","occurred_at":"2026-01-01T00:00:00.000Z","received_at":"2026-01-01T00:00:00.000Z","raw":{}}"#;
        assert_eq!(parse(v2).unwrap_err(), Skip::OtherSchema);
        let v1 = String::from_utf8_lossy(v2).replace("v2", "v1");
        assert_eq!(parse(v1.as_bytes()).unwrap().id, "x");
    }
}
