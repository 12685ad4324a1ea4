//! RFC 9110 §5.6.7 IMF-fixdate, the form of the `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.

use crate::buf::Buf;

/// Three letters each, so that a name is a slice and the tables hold no pointers.
const DAYS: &[u8] = b"SunMonTueWedThuFriSat";
const MONTHS: &[u8] = b"JanFebMarAprMayJunJulAugSepOctNovDec";

fn name(table: &'static [u8], i: usize) -> &'static [u8] {
    table.get(i * 3..i * 3 + 3).unwrap_or(b"???")
}

/// Appends the IMF-fixdate of `unix` (seconds since 1970-01-01 00:00:00 UTC).
pub fn write(out: &mut Buf, unix: i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u64;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = (days + 4).rem_euclid(7) as usize;
    out.push(name(DAYS, weekday)).push(b", ");
    out.num_width(day, 2).byte(b' ');
    out.push(name(MONTHS, month.wrapping_sub(1) as usize)).byte(b' ');
    out.num_width(year.max(0) as u64, 4).byte(b' ');
    out.num_width(secs / 3600, 2).byte(b':').num_width(secs / 60 % 60, 2).byte(b':');
    out.num_width(secs % 60, 2).push(b" GMT");
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, after Howard Hinnant's
/// `civil_from_days` (proleptic Gregorian calendar, eras of 400 years).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097) as u64; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe as i64 + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(unix: i64) -> String {
        let mut b = Buf::new();
        write(&mut b, unix);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(text(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(text(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT"); // RFC 9110's example
        assert_eq!(text(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(text(1_795_391_999), "Sun, 22 Nov 2026 23:59:59 GMT");
        assert_eq!(text(4_102_444_800), "Fri, 01 Jan 2100 00:00:00 GMT");
    }

    #[test]
    fn every_day_for_a_few_centuries_follows_the_previous() {
        // Days advance one at a time, months and years roll over, weekdays cycle.
        let mut last = civil_from_days(-1);
        for d in 0..(400 * 366) {
            let (y, m, day) = civil_from_days(d);
            let next_day = (y, m, day) == (last.0, last.1, last.2 + 1);
            let next_month = day == 1 && ((y, m) == (last.0, last.1 + 1) || (y == last.0 + 1 && m == 1 && last.1 == 12));
            assert!(next_day || next_month, "{last:?} -> {:?}", (y, m, day));
            last = (y, m, day);
        }
    }
}
