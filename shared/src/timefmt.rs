//! Timestamps in zoomwatch are Unix milliseconds internally and RFC 3339 UTC strings with
//! millisecond precision (`2021-07-13T21:44:51.000Z`) in records.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Parses an RFC 3339 timestamp (as Zoom sends `join_time`, `date_time`, …) to Unix ms.
/// Returns `None` for anything that is not a valid RFC 3339 date-time.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_utc_fast(s.as_bytes()) {
        return Some(ms);
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The two UTC shapes zoomwatch reads millions of times — `YYYY-MM-DDTHH:MM:SSZ` (Zoom)
/// and `YYYY-MM-DDTHH:MM:SS.mmmZ` (records) — without the general parser. Anything else
/// (offsets, other precisions, invalid dates) returns `None` and takes the general path.
fn parse_utc_fast(b: &[u8]) -> Option<i64> {
    let ms = match b.len() {
        20 if b[19] == b'Z' => 0,
        24 if b[19] == b'.' && b[23] == b'Z' => num(&b[20..23])?,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize] || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

fn num(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
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

/// A span written `90s`, `15m`, `12h` or `2d`, in milliseconds (`None` for anything
/// else). Saturates rather than overflowing.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let mult = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n.saturating_mul(mult))
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
    fn fast_path_agrees_with_the_general_parser() {
        for t in
            ["2021-07-13T21:44:51Z", "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "2000-03-01T00:00:00Z", "1969-12-31T23:59:59Z"]
        {
            let general = OffsetDateTime::parse(t, &Rfc3339).unwrap().unix_timestamp_nanos() / 1_000_000;
            assert_eq!(parse_utc_fast(t.as_bytes()), Some(general as i64), "{t}");
        }
        for bad in
            ["2023-02-29T00:00:00Z", "2021-13-01T00:00:00Z", "2021-07-13T24:00:00Z", "2021-07-13 21:44:51Z", "2021-07-13T21:44:51+02:00"]
        {
            assert_eq!(parse_utc_fast(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_rfc3339_ms("2021-07-13T23:44:51+02:00"), parse_rfc3339_ms("2021-07-13T21:44:51Z"));
        assert_eq!(parse_rfc3339_ms("2023-02-29T00:00:00Z"), None);
    }

    #[test]
    fn rejects_garbage_and_clamps_extremes() {
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms(""), None);
        assert_eq!(format_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_ms(i64::MIN), "0000-01-01T00:00:00.000Z");
    }
}
