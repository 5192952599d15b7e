use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// Formats a time the way every timestamp column stores it: UTC with
/// microseconds and an explicit `+00:00`, fixed width so text order is time order.
pub fn format_timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Returns the current time in the stored format.
pub fn now_timestamp() -> String {
    format_timestamp(Utc::now())
}

/// Parses an RFC 3339 time with any offset, or a bare date (midnight UTC).
/// Years outside 1 to 9999 and leap seconds are rejected: PostgreSQL and the
/// fixed-width text order of SQLite cannot both represent them.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let time = parse_any_timestamp(text)?;
    let representable = (1..=9999).contains(&time.year()) && time.nanosecond() < 1_000_000_000;
    representable.then_some(time)
}

fn parse_any_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(time.and_utc());
    }
    if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
        return Some(time.and_utc());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format_is_fixed_width() {
        let time = parse_timestamp("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(format_timestamp(time), "2026-01-02T03:04:05.000000+00:00");
    }

    #[test]
    fn timestamp_parse_converts_offsets_to_utc() {
        let time = parse_timestamp("2026-01-02T03:04:05.5+02:00").unwrap();
        assert_eq!(format_timestamp(time), "2026-01-02T01:04:05.500000+00:00");
    }

    #[test]
    fn timestamp_parse_rejects_what_both_backends_cannot_store() {
        for text in [
            "0000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "-0001-06-01T00:00:00",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(parse_timestamp(text).is_none(), "{text}");
        }
        assert!(parse_timestamp("9999-12-31T23:59:59Z").is_some());
        assert!(parse_timestamp("0001-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn timestamp_parse_accepts_dates() {
        let time = parse_timestamp("2026-03-01").unwrap();
        assert_eq!(format_timestamp(time), "2026-03-01T00:00:00.000000+00:00");
        assert!(parse_timestamp("yesterday").is_none());
    }
}
