//! Wall-clock times as the report and the log folder names write them: RFC 3339 in UTC
//! (`2026-01-02T15:30:00Z`), from `SystemTime` with std alone (no date crate for two
//! functions). The calendar arithmetic is Howard Hinnant's `civil_from_days`.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-01-02T15:30:00Z`; a time before 1970 (a clock set wrong) is written as the epoch.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20260102T153000Z`: the same instant, usable in a file name and sorting by time.
pub fn compact(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// (year, month, day, hour, minute, second) in UTC.
fn utc(t: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Days since 1970-01-01 → (year, month 1–12, day 1–31), proleptic Gregorian calendar.
/// Works in 400-year eras (146 097 days), years starting in March so the leap day is last.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn formats_utc_instants() {
        // Expected values from `date -u -d @N +%Y-%m-%dT%H:%M:%SZ` (GNU coreutils).
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(86_399), "1970-01-01T23:59:59Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z"); // leap day of a 400-year leap
        assert_eq!(at(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z"); // 2100 is no leap year
        assert_eq!(at(1_767_367_800), "2026-01-02T15:30:00Z");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        // Sub-second parts are dropped, not rounded up into the next second.
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_767_367_800_999)),
            "2026-01-02T15:30:00Z"
        );
    }

    #[test]
    fn a_clock_before_1970_reads_as_the_epoch() {
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn every_day_follows_the_last() {
        // 1970..2400: each day's date is the day after the previous one's.
        let mut prev = civil_from_days(-1);
        assert_eq!(prev, (1969, 12, 31));
        for z in 0..157_000 {
            let cur = civil_from_days(z);
            let next_in_month = (prev.0, prev.1, prev.2 + 1);
            let next_month = if prev.1 == 12 {
                (prev.0 + 1, 1, 1)
            } else {
                (prev.0, prev.1 + 1, 1)
            };
            assert!(
                cur == next_in_month || cur == next_month,
                "{prev:?} → {cur:?}"
            );
            if cur == next_month {
                let leap = (prev.0 % 4 == 0 && prev.0 % 100 != 0) || prev.0 % 400 == 0;
                let len = match prev.1 {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(prev.2, len, "{prev:?} ends its month");
            }
            prev = cur;
        }
    }

    #[test]
    fn compact_form_sorts_like_time() {
        assert_eq!(
            compact(UNIX_EPOCH + Duration::from_secs(1_767_367_800)),
            "20260102T153000Z"
        );
    }
}
