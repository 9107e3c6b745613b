//! UTC timestamps as STIX uses them, with microsecond resolution.
//!
//! Two parsers: [`Timestamp::parse_stix`] is the strict RFC 3339 form STIX 2.1 requires of object
//! properties (`2024-01-31T12:00:00.000Z`, `Z` only, any number of fraction digits);
//! [`Timestamp::parse_lenient`] accepts what the reference matcher accepts (Python's `strptime`
//! with `%Y-%m-%dT%H:%M:%S[.%f]Z`: one-digit fields, no lower-case letters, leap seconds
//! rejected, fractions beyond microseconds cut).

use std::fmt;

/// Microseconds since 1970-01-01T00:00:00Z, for years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

/// The first instant of year 1 and the last of year 9999, in microseconds.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
const MAX_MICROS: i64 = 253_402_300_799_999_999;

impl Timestamp {
    /// The earliest representable instant (0001-01-01T00:00:00Z).
    pub const MIN: Timestamp = Timestamp { micros: MIN_MICROS };
    /// The latest representable instant (9999-12-31T23:59:59.999999Z).
    pub const MAX: Timestamp = Timestamp { micros: MAX_MICROS };

    /// Microseconds since the Unix epoch.
    pub fn unix_micros(self) -> i64 {
        self.micros
    }

    /// The timestamp `micros` microseconds after the Unix epoch, if within years 1 to 9999.
    pub fn from_unix_micros(micros: i64) -> Option<Timestamp> {
        (MIN_MICROS..=MAX_MICROS).contains(&micros).then_some(Timestamp { micros })
    }

    /// This timestamp moved by `micros`, if the result is within years 1 to 9999.
    pub fn checked_add_micros(self, micros: i128) -> Option<Timestamp> {
        let sum = i128::from(self.micros).checked_add(micros)?;
        i64::try_from(sum).ok().and_then(Timestamp::from_unix_micros)
    }

    fn from_parts(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        micro: u32,
    ) -> Option<Self> {
        if !matches!(year, 1..=9999)
            || !matches!(month, 1..=12)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 || micro > 999_999 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Timestamp::from_unix_micros(seconds * 1_000_000 + i64::from(micro))
    }

    /// Parses the STIX form `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (RFC 3339 in UTC). A leap second
    /// (`:60`) is accepted by the format and counted as the next second's start.
    pub fn parse_stix(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || b[b.len() - 1] != b'Z' {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = b.get(range)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
        };
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let micro = match &b[19..b.len() - 1] {
            [] => 0,
            [b'.', fraction @ ..] if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) => {
                fraction.iter().take(6).enumerate().fold(0u32, |n, (i, d)| {
                    n + u32::from(d - b'0') * 10u32.pow(5 - u32::try_from(i).unwrap_or(5))
                })
            }
            _ => return None,
        };
        if second == 60 {
            let base = Timestamp::from_parts(i64::from(year), month, day, hour, minute, 59, micro)?;
            return base.checked_add_micros(1_000_000);
        }
        Timestamp::from_parts(i64::from(year), month, day, hour, minute, second, micro)
    }

    /// Parses a timestamp as the reference matcher does.
    pub fn parse_lenient(text: &str) -> Option<Timestamp> {
        // The usual form, two digits to every field at fixed places, read directly;
        // `from_parts` checks the ranges as the field-by-field reading below would.
        if let Some(parsed) = Timestamp::parse_fixed(text.as_bytes()) {
            return parsed;
        }
        // Only digits and the upper-case `T` and `Z` are read: lower-case letters fail below.
        let mut cursor = Cursor { b: text.as_bytes(), pos: 0 };
        let year = cursor.digits(4, 4)?;
        cursor.literal(b'-')?;
        let month = cursor.field(FieldKind::Month)?;
        cursor.literal(b'-')?;
        let day = cursor.field(FieldKind::Day)?;
        cursor.literal(b'T')?;
        let hour = cursor.field(FieldKind::Hour)?;
        cursor.literal(b':')?;
        let minute = cursor.field(FieldKind::Minute)?;
        cursor.literal(b':')?;
        let second = cursor.field(FieldKind::Second)?;
        let mut micro = 0;
        if cursor.peek() == Some(b'.') {
            cursor.pos += 1;
            let start = cursor.pos;
            let n = cursor.b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            // The reference keeps six digits of a longer fraction.
            if n == 0 {
                return None;
            }
            let digits = &cursor.b[start..start + n.min(6)];
            micro = digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
                * 10u32.pow(6 - digits.len() as u32);
            cursor.pos = start + n;
        }
        cursor.literal(b'Z')?;
        if cursor.pos != cursor.b.len() {
            return None;
        }
        Timestamp::from_parts(i64::from(year), month, day, hour, minute, second, micro)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with every field of two digits (four for the year):
    /// `Some` of what [`Timestamp::parse_lenient`] gives, or `None` if the text is of another form.
    #[allow(clippy::cast_possible_truncation)]
    fn parse_fixed(b: &[u8]) -> Option<Option<Timestamp>> {
        let head: &[u8; 19] = b.get(..19)?.try_into().ok()?;
        let mut digits = [0u32; 14];
        let mut bad = 0u8;
        for (n, &at) in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().enumerate() {
            let d = head[at].wrapping_sub(b'0');
            bad |= u8::from(d > 9);
            digits[n] = u32::from(d);
        }
        let separators =
            head[4] == b'-' && head[7] == b'-' && head[10] == b'T' && head[13] == b':' && head[16] == b':';
        if bad != 0 || !separators {
            return None;
        }
        let micro = match &b[19..] {
            [b'Z'] => 0,
            [b'.', fraction @ .., b'Z']
                if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) =>
            {
                let kept = &fraction[..fraction.len().min(6)];
                kept.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
                    * 10u32.pow(6 - kept.len() as u32)
            }
            _ => return None,
        };
        let pair = |n: usize| digits[n] * 10 + digits[n + 1];
        let year = i64::from(pair(0) * 100 + pair(2));
        Some(Timestamp::from_parts(year, pair(4), pair(6), pair(8), pair(10), pair(12), micro))
    }

    /// The civil date and time: year, month, day, hour, minute, second, microsecond.
    pub fn parts(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.micros.div_euclid(86_400_000_000);
        let rest = self.micros.rem_euclid(86_400_000_000);
        let (year, month, day) = civil_from_days(days);
        let seconds = rest / 1_000_000;
        let micro = u32::try_from(rest % 1_000_000).unwrap_or(0);
        let hour = u32::try_from(seconds / 3600).unwrap_or(0);
        let minute = u32::try_from(seconds % 3600 / 60).unwrap_or(0);
        let second = u32::try_from(seconds % 60).unwrap_or(0);
        (year, month, day, hour, minute, second, micro)
    }

    /// The STIX form with millisecond precision (`2024-01-31T12:00:00.000Z`).
    pub fn to_millis_string(self) -> String {
        let (y, mo, d, h, mi, s, micro) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", micro / 1000)
    }
}

/// The STIX form with the fewest fraction digits (none, milliseconds or microseconds).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, micro) = self.parts();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if micro % 1000 != 0 {
            write!(f, ".{micro:06}Z")
        } else if micro != 0 {
            write!(f, ".{:03}Z", micro / 1000)
        } else {
            f.write_str("Z")
        }
    }
}

#[derive(Clone, Copy)]
enum FieldKind {
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn literal(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.pos += 1)
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let n = self.b[self.pos..].iter().take(max).take_while(|c| c.is_ascii_digit()).count();
        if n < min {
            return None;
        }
        let value = self.b[self.pos..self.pos + n].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        self.pos += n;
        Some(value)
    }

    /// One `strptime` field: two digits in the directive's range, or one digit (and for the
    /// day, a space and one digit). A separator always follows, so the longest form is tried
    /// first and the one-digit form only if the two-digit one is out of range.
    fn field(&mut self, kind: FieldKind) -> Option<u32> {
        let two_max = match kind {
            FieldKind::Month => 12,
            FieldKind::Day => 31,
            FieldKind::Hour => 23,
            FieldKind::Minute => 59,
            FieldKind::Second => 61,
        };
        let one_min = u32::from(matches!(kind, FieldKind::Month | FieldKind::Day));
        let two_min = match kind {
            FieldKind::Month | FieldKind::Day => 1,
            _ => 0,
        };
        let d0 = self.peek();
        let d1 = self.b.get(self.pos + 1).copied();
        if let (Some(a @ b'0'..=b'9'), Some(b @ b'0'..=b'9')) = (d0, d1) {
            let value = u32::from(a - b'0') * 10 + u32::from(b - b'0');
            if (two_min..=two_max).contains(&value) {
                self.pos += 2;
                return Some(value);
            }
            return None;
        }
        if matches!(kind, FieldKind::Day)
            && d0 == Some(b' ')
            && let Some(b @ b'1'..=b'9') = d1
        {
            self.pos += 2;
            return Some(u32::from(b - b'0'));
        }
        match d0 {
            Some(a @ b'0'..=b'9') if u32::from(a - b'0') >= one_min => {
                self.pos += 1;
                Some(u32::from(a - b'0'))
            }
            _ => None,
        }
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_timestamps_are_strict() {
        let t = Timestamp::parse_stix("2024-02-29T23:59:59.1234567Z").unwrap();
        assert_eq!(t.to_string(), "2024-02-29T23:59:59.123456Z");
        assert_eq!(
            Timestamp::parse_stix("2016-12-31T23:59:60Z").unwrap().to_string(),
            "2017-01-01T00:00:00Z"
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01t00:00:00Z",
            "2024-1-01T00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+01:00",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_stix(bad), None, "{bad}");
        }
        assert_eq!(Timestamp::parse_stix("1970-01-01T00:00:00.001Z").unwrap().unix_micros(), 1000);
        assert_eq!(Timestamp::parse_stix("0001-01-01T00:00:00Z"), Some(Timestamp::MIN));
        assert_eq!(Timestamp::parse_stix("9999-12-31T23:59:59.999999Z"), Some(Timestamp::MAX));
    }

    #[test]
    fn lenient_timestamps_follow_strptime() {
        let ok = |s: &str| Timestamp::parse_lenient(s).map(|t| t.to_string());
        assert_eq!(ok("2024-1-5T1:2:3Z").as_deref(), Some("2024-01-05T01:02:03Z"));
        assert_eq!(ok("2024-01- 5T00:00:00.5Z").as_deref(), Some("2024-01-05T00:00:00.500Z"));
        assert_eq!(ok("2024-01-05T00:00:00.123456789Z").as_deref(), Some("2024-01-05T00:00:00.123456Z"));
        for bad in [
            "2024-02-30T00:00:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01t00:00:00Z",
            "2024-00-01T00:00:00Z",
            "24-01-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Zx",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_conversion_round_trips() {
        for days in [-719_162, -1, 0, 1, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
