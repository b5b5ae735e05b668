//! Instants as epoch milliseconds (UTC), and reporting days in a company's zone.

use jiff::{Timestamp, tz::TimeZone};

/// Epoch milliseconds, UTC. The store keeps every instant in this form.
pub fn to_millis(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// The reporting day (a calendar date in the company's time zone) of an instant.
pub fn reporting_day(at_ms: i64, tz: &TimeZone) -> jiff::civil::Date {
    let ts = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(tz.clone()).date()
}

/// The instants `[start, end)` of a reporting day in a zone, in epoch
/// milliseconds (a DST day is 23 or 25 hours long).
pub fn day_bounds(day: jiff::civil::Date, tz: &TimeZone) -> (i64, i64) {
    let start = |d: jiff::civil::Date| d.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond());
    let from = start(day).unwrap_or(i64::MIN);
    let to = day.tomorrow().ok().and_then(|d| start(d).ok()).unwrap_or(i64::MAX);
    (from, to)
}

/// RFC 3339 text of an instant, with millisecond precision when needed.
pub fn to_rfc3339(at_ms: i64) -> String {
    Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_company_zone() {
        let ts: Timestamp = "2026-09-01T02:30:00Z".parse().unwrap();
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(reporting_day(to_millis(ts), &ny).to_string(), "2026-08-31");
        assert_eq!(reporting_day(to_millis(ts), &TimeZone::UTC).to_string(), "2026-09-01");
    }

    #[test]
    fn dst_days_have_their_own_length() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let (from, to) = day_bounds("2026-03-08".parse().unwrap(), &ny);
        assert_eq!(to - from, 23 * 3_600_000);
        assert_eq!(to_rfc3339(from), "2026-03-08T05:00:00Z");
        let (from, to) = day_bounds("2026-11-01".parse().unwrap(), &ny);
        assert_eq!(to - from, 25 * 3_600_000);
    }

    #[test]
    fn round_trips_rfc3339() {
        assert_eq!(to_rfc3339(1_000), "1970-01-01T00:00:01Z");
        assert_eq!(to_rfc3339(1_001), "1970-01-01T00:00:01.001Z");
    }
}
