//! Timestamps in zoomwatch are Unix milliseconds internally and RFC 3339 UTC strings with
//! millisecond precision (`2021-07-13T21:44:51.000Z`) in records.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Parses an RFC 3339 timestamp (as Zoom sends `join_time`, `date_time`, …) to Unix ms.
/// Returns `None` for anything that is not a valid RFC 3339 date-time.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Formats Unix ms as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Out-of-range values are clamped to the
/// representable range rather than failing, so a hostile `event_ts` cannot break a record.
pub fn format_ms(ms: i64) -> String {
    // time supports years -9999..=9999; clamp to 0000..=9999 to keep the format fixed-width.
    const MIN: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let ms = ms.clamp(MIN, MAX);
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&fmt).unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_zoom_times() {
        let ms = parse_rfc3339_ms("2021-07-13T21:44:51Z").unwrap();
        assert_eq!(ms, 1_626_212_691_000);
        assert_eq!(format_ms(ms), "2021-07-13T21:44:51.000Z");
        assert_eq!(format_ms(1_626_230_691_572), "2021-07-14T02:44:51.572Z");
    }

    #[test]
    fn rejects_garbage_and_clamps_extremes() {
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms(""), None);
        assert_eq!(format_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_ms(i64::MIN), "0000-01-01T00:00:00.000Z");
    }
}
