//! Instants. Stored as UTC; accepted as RFC 3339 or the space-separated form seen in Siro
//! examples (`2024-02-28 20:09:58.692`, read as UTC), or a bare date (midnight UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

pub type Instant = DateTime<Utc>;

/// Parses an instant in any accepted form; `None` when it is none of them. The result is cut
/// to microseconds, what every store keeps: a finer instant would read back different from the
/// payload that wrote it, and the same payload twice would count as a change.
pub fn parse_instant(s: &str) -> Option<Instant> {
    parse_any(s).map(truncate_micros)
}

fn parse_any(s: &str) -> Option<Instant> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // RFC 3339 with a space instead of `T`, with an offset.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The one output form: RFC 3339 in UTC with milliseconds, as JavaScript's `toISOString`.
pub fn format_instant(t: &Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now, truncated to microseconds so that what is stored reads back equal on every backend.
pub fn now() -> Instant {
    truncate_micros(Utc::now())
}

pub fn truncate_micros(t: Instant) -> Instant {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        let z = parse_instant("2024-02-28T20:09:58.692Z").unwrap();
        assert_eq!(parse_instant("2024-02-28 20:09:58.692"), Some(z));
        assert_eq!(parse_instant("2024-02-28T21:09:58.692+01:00"), Some(z));
        assert_eq!(parse_instant("2024-02-28T20:09:58.692"), Some(z));
        assert_eq!(
            format_instant(&parse_instant("2026-03-01").unwrap()),
            "2026-03-01T00:00:00.000Z"
        );
        assert_eq!(format_instant(&z), "2024-02-28T20:09:58.692Z");
    }

    #[test]
    fn keeps_microseconds_only() {
        let t = parse_instant("2026-01-01T00:00:00.0791861Z").unwrap();
        assert_eq!(t, parse_instant("2026-01-01T00:00:00.079186Z").unwrap());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "tomorrow",
            "2024-13-01",
            "2024-02-30T00:00:00Z",
            "12:00",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }
}
