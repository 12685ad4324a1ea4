//! RFC 9110 §5.6.7 HTTP-date: IMF-fixdate written (`Sun, 06 Nov 1994 08:49:37 GMT`, the
//! `Date` header's form) and all three forms read (`If-Modified-Since`). Bytes only: no
//! syscalls.

use crate::buf::Buf;

/// Three letters each, so that a name is a slice and the tables hold no pointers.
const DAYS: &[u8] = b"SunMonTueWedThuFriSat";
const MONTHS: &[u8] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
/// What RFC 850's full weekday names add to the short ones, six bytes each.
const DAY_ENDS: &[u8] = b"day   day   sday  nesdayrsday day   urday ";

/// The forms `parse` reads: IMF-fixdate, RFC 850, asctime. `a` is a weekday's name (`A`
/// in full), `b` a month's; a digit stands for a digit of a field: 0 the year, 1 a
/// two-digit year, 2 the day, 3 the hour, 4 the minute, 5 the second, 6 the day's first
/// digit that may be a space; any other byte for itself.
const FORMS: [&[u8]; 3] = [b"a, 22 b 0000 33:44:55 GMT", b"A, 22-b-11 33:44:55 GMT", b"a b 62 33:44:55 0000"];

fn name(table: &'static [u8], i: usize) -> &'static [u8] {
    table.get(i * 3..i * 3 + 3).unwrap_or(b"???")
}

/// A time's parts: year, month (1-12), day, seconds into the day, weekday (0: Sunday).
fn parts(unix: i64) -> (u64, u64, u64, u64, usize) {
    let days = unix.div_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    (year.max(0) as u64, month, day, unix.rem_euclid(86_400) as u64, (days + 4).rem_euclid(7) as usize)
}

/// `HH:MM:SS` of `secs` into a day.
fn clock(out: &mut Buf, secs: u64) {
    out.num_width(secs / 3600, 2).byte(b':').num_width(secs / 60 % 60, 2).byte(b':').num_width(secs % 60, 2);
}

/// Appends the IMF-fixdate of `unix` (seconds since 1970-01-01 00:00:00 UTC).
pub fn write(out: &mut Buf, unix: i64) {
    let (year, month, day, secs, weekday) = parts(unix);
    out.push(name(DAYS, weekday)).push(b", ");
    out.num_width(day, 2).byte(b' ');
    out.push(name(MONTHS, month.wrapping_sub(1) as usize)).byte(b' ');
    out.num_width(year, 4).byte(b' ');
    clock(out, secs);
    out.push(b" GMT");
}

/// Appends the Common Log Format's time of `unix`: `05/Dec/2026:17:58:11 +0000`, as
/// Apache and nginx write it (in UTC).
pub fn write_clf(out: &mut Buf, unix: i64) {
    let (year, month, day, secs, _) = parts(unix);
    out.num_width(day, 2).byte(b'/').push(name(MONTHS, month.wrapping_sub(1) as usize)).byte(b'/');
    out.num_width(year, 4).byte(b':');
    clock(out, secs);
    out.push(b" +0000");
}

/// Appends RFC 3339's time of `unix`: `2026-12-05T17:58:11Z`.
pub fn write_rfc3339(out: &mut Buf, unix: i64) {
    let (year, month, day, secs, _) = parts(unix);
    out.num_width(year, 4).byte(b'-').num_width(month, 2).byte(b'-').num_width(day, 2).byte(b'T');
    clock(out, secs);
    out.byte(b'Z');
}

/// The Unix time of an HTTP-date in any of its three forms (RFC 9110 §5.6.7), or `None`.
/// Names are case-sensitive, as the grammar has them; the weekday must be a weekday's name
/// but need not be the date's. A date that does not exist (`30 Feb`), an hour over 23, a
/// minute or second over 59 (no leap second) are `None`. RFC 850's two-digit year is
/// 20yy below 70, else 19yy (POSIX's `%y`): a pure function has no clock to apply RFC
/// 9110's "more than 50 years in the future" rule with.
pub fn parse(value: &[u8]) -> Option<i64> {
    FORMS.iter().find_map(|form| parse_form(form, value))
}

fn parse_form(form: &[u8], value: &[u8]) -> Option<i64> {
    // Fields by the digits that stand for them in `FORMS`, then the month.
    let mut fields = [0u64; 7];
    let (mut at, mut short_year) = (0, false);
    for &c in form {
        let b = *value.get(at)?;
        at += 1;
        match c {
            b'0'..=b'6' => {
                let digit = match b {
                    b'0'..=b'9' => b - b'0',
                    b' ' if c == b'6' => 0,
                    _ => return None,
                };
                let slot = if c == b'6' { 2 } else { usize::from(c - b'0') };
                short_year |= c == b'1';
                let field = fields.get_mut(slot)?;
                *field = *field * 10 + u64::from(digit);
            }
            b'a' | b'A' => {
                let day = name_index(DAYS, value.get(at - 1..at + 2)?)?;
                at += 2;
                if c == b'A' {
                    let end = DAY_ENDS.get(day * 6..day * 6 + 6)?;
                    let end = end.get(..end.iter().position(|&b| b == b' ').unwrap_or(6))?;
                    value.get(at..)?.starts_with(end).then_some(())?;
                    at += end.len();
                }
            }
            b'b' => {
                *fields.get_mut(6)? = name_index(MONTHS, value.get(at - 1..at + 2)?)? as u64 + 1;
                at += 2;
            }
            _ => (b == c).then_some(())?,
        }
    }
    let [mut year, yy, day, hour, minute, second, month] = fields;
    if short_year {
        year = yy + if yy < 70 { 2000 } else { 1900 };
    }
    if at != value.len() || day == 0 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // A day past its month's end lands in another month: caught by the way back.
    let days = days_from_civil(year as i64, month, day);
    (civil_from_days(days) == (year as i64, month, day)).then_some(())?;
    Some(days * 86_400 + (hour * 3600 + minute * 60 + second) as i64)
}

/// Where `name` is in `table` of three-letter names.
fn name_index(table: &[u8], name: &[u8]) -> Option<usize> {
    table.chunks(3).position(|n| n == name)
}

/// Days since 1970-01-01 of (year, month 1-12, day 1-31), after Howard Hinnant's
/// `days_from_civil`: the inverse of `civil_from_days`.
fn days_from_civil(year: i64, month: u64, day: u64) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400) as u64; // year of era, 0..=399
    let mp = (month + 9) % 12; // month from March, 0..=11
    let doy = (153 * mp + 2) / 5 + day - 1; // day of year from March 1st
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // day of era
    era * 146_097 + doe as i64 - 719_468
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
    fn the_logs_forms() {
        let mut b = Buf::new();
        write_clf(&mut b, 784_111_777);
        b.byte(b' ');
        write_rfc3339(&mut b, 784_111_777);
        assert_eq!(b.as_bytes(), b"06/Nov/1994:08:49:37 +0000 1994-11-06T08:49:37Z");
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

    fn parsed(value: &str) -> Option<i64> {
        parse(value.as_bytes())
    }

    #[test]
    fn the_three_forms_of_rfc9110() {
        assert_eq!(parsed("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parsed("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parsed("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parsed("Sun Nov 06 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parsed("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parsed("Wed, 31 Dec 1969 23:59:59 GMT"), Some(-1));
        assert_eq!(parsed("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(parsed("Sat, 01 Jan 0000 00:00:00 GMT"), Some(-62_167_219_200));
        assert_eq!(parsed("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        assert_eq!(parsed("Thu Dec 31 23:59:59 9999"), Some(253_402_300_799));
    }

    #[test]
    fn rfc850_years() {
        assert_eq!(parsed("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(parsed("Wednesday, 31-Dec-69 23:59:59 GMT"), Some(3_155_759_999)); // 2069
        assert_eq!(parsed("Saturday, 01-Jan-00 00:00:00 GMT"), Some(946_684_800)); // 2000
        assert_eq!(parsed("Friday, 31-Dec-99 23:59:59 GMT"), Some(946_684_799)); // 1999
        for day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] {
            assert_eq!(parsed(&format!("{day}, 06-Nov-94 08:49:37 GMT")), Some(784_111_777), "{day}");
        }
    }

    #[test]
    fn weekday_need_not_match() {
        assert_eq!(parsed("Mon, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parsed("Friday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parsed("Sat Nov  6 08:49:37 1994"), Some(784_111_777));
    }

    #[test]
    fn rejected() {
        for value in [
            "",
            "0",
            "784111777",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sun,06 Nov 1994 08:49:37 GMT",
            "Sun, 06  Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 0x Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08.49.37 GMT",
            "Sun, 06 Nov 199 08:49:37 GMT",
            "Sun, 06 Nov 19945 08:49:37 GMT",
            "Sun, 06 Nov -994 08:49:37 GMT",
            "Sun, \u{a0}6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\0",
            "Sund, 06-Nov-94 08:49:37 GMT",
            "Sundays, 06-Nov-94 08:49:37 GMT",
            "sunday, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sunday 06-Nov-94 08:49:37 GMT",
            ", 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun Nov 6  08:49:37 1994",
            "Sun, Nov  6 08:49:37 1994",
            // Out of range.
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 32 Jan 1994 08:49:37 GMT",
            "Sun, 99 Dec 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 00:00:00 GMT",
            "Sun, 29 Feb 1999 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 99:00:00 GMT",
            "Sun, 06 Nov 1994 23:60:00 GMT",
            "Sun, 06 Nov 1994 23:59:60 GMT",
            "Sunday, 31-Apr-94 08:49:37 GMT",
            "Sun Feb 30 08:49:37 1994",
            "Sun Nov  0 08:49:37 1994",
            "Sun Nov 00 08:49:37 1994",
            "Sun Mar 00 08:49:37 2000",
        ] {
            assert_eq!(parsed(value), None, "{value:?}");
        }
        assert_eq!(parsed("Sun, 29 Feb 2004 00:00:00 GMT"), Some(1_078_012_800));
        assert_eq!(parsed("Sun, 30 Nov 1994 23:59:59 GMT"), Some(786_239_999));
    }

    #[test]
    fn days_from_civil_inverts_civil_from_days() {
        for d in (-800_000..3_000_000).step_by(7) {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }

    /// What `write` writes, `parse` reads back, across the four-digit years, and in the
    /// two other forms too.
    #[test]
    fn round_trip() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let (min, max) = (-62_167_219_200i64, 253_402_300_799i64); // 0000-01-01 to 9999-12-31
        let mut times = vec![min, max, -1, 0, 1, 784_111_777, 951_782_399, 951_782_400, 4_102_444_800];
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            times.push(min + (x % (max - min + 1) as u64) as i64);
        }
        for t in times {
            let imf = text(t);
            assert_eq!(parse(imf.as_bytes()), Some(t), "{imf}");
            // Sun, 06 Nov 1994 08:49:37 GMT -> Sun Nov  6 08:49:37 1994
            let (day, month, year, time) = (&imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
            let asctime = format!("{} {month} {:>2} {time} {year}", &imf[..3], day.trim_start_matches('0'));
            assert_eq!(parse(asctime.as_bytes()), Some(t), "{asctime}");
            let year: i64 = year.parse().unwrap();
            if (1970..2070).contains(&year) {
                let rfc850 = format!("Monday, {day}-{month}-{} {time} GMT", &imf[14..16]);
                assert_eq!(parse(rfc850.as_bytes()), Some(t), "{rfc850}");
            }
        }
    }
}
