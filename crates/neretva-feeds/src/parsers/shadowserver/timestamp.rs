//! Fast, allocation-light parsing of the timestamp formats feeds use, normalised to the form
//! IntelMQ writes (`YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, always UTC).
//!
//! This covers what IntelMQ's `DateTime.sanitize` (dateutil) accepts in practice from the
//! structured feeds: ISO 8601 with `T` or a space, optional fractions, an optional offset (`Z`,
//! `+HH`, `+HHMM`, `+HH:MM`) and an optional trailing `UTC`/`GMT` word, a bare date (midnight),
//! RFC 2822 / HTTP dates (`Tue, 01 Aug 2018 00:00:00 GMT`) and Unix epoch seconds. Shared by the
//! parsers of this crate's structured feeds.

use std::fmt::Write as _;

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micro: u32,
}

impl Utc {
    /// The IntelMQ text form: `2010-02-10T00:00:00+00:00`, with `.ffffff` when there are
    /// microseconds (as Python's `isoformat`).
    pub(crate) fn to_intelmq(self) -> String {
        let mut out = String::with_capacity(32);
        self.write_intelmq(&mut out);
        out
    }

    /// Appends the IntelMQ text form to `out`.
    pub(crate) fn write_intelmq(self, out: &mut String) {
        if (0..=9999).contains(&self.year) {
            push_num(out, self.year as u32, 4);
        } else {
            let _ = write!(out, "{:04}", self.year);
        }
        out.push('-');
        push_num(out, u32::from(self.month), 2);
        out.push('-');
        push_num(out, u32::from(self.day), 2);
        out.push('T');
        push_num(out, u32::from(self.hour), 2);
        out.push(':');
        push_num(out, u32::from(self.minute), 2);
        out.push(':');
        push_num(out, u32::from(self.second), 2);
        if self.micro != 0 {
            out.push('.');
            push_num(out, self.micro, 6);
        }
        out.push_str("+00:00");
    }

    /// The time as an `OffsetDateTime` in UTC.
    pub(crate) fn to_time(self) -> Option<time::OffsetDateTime> {
        let month = time::Month::try_from(self.month).ok()?;
        let date = time::Date::from_calendar_date(self.year, month, self.day).ok()?;
        let t = time::Time::from_hms_micro(self.hour, self.minute, self.second, self.micro).ok()?;
        Some(time::PrimitiveDateTime::new(date, t).assume_utc())
    }

    /// Converts Unix epoch seconds.
    pub(crate) fn from_epoch(seconds: i64, micro: u32) -> Option<Utc> {
        let dt = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
        Some(Utc {
            year: dt.year(),
            month: u8::from(dt.month()),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            second: dt.second(),
            micro,
        })
    }

    fn shifted(self, offset_minutes: i32) -> Option<Utc> {
        if offset_minutes == 0 {
            return Some(self);
        }
        let month = time::Month::try_from(self.month).ok()?;
        let date = time::Date::from_calendar_date(self.year, month, self.day).ok()?;
        let t = time::Time::from_hms_micro(self.hour, self.minute, self.second, self.micro).ok()?;
        let shifted = time::PrimitiveDateTime::new(date, t)
            .checked_sub(time::Duration::minutes(i64::from(offset_minutes)))?;
        Some(Utc {
            year: shifted.year(),
            month: u8::from(shifted.month()),
            day: shifted.day(),
            hour: shifted.hour(),
            minute: shifted.minute(),
            second: shifted.second(),
            micro: shifted.microsecond(),
        })
    }
}

fn push_num(out: &mut String, mut value: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while value > 0 && i > 0 {
        i -= 1;
        buf[i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    let start = buf.len().saturating_sub(width).min(i);
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let bytes = self.s.get(self.i..self.i + n)?;
        let mut v = 0u32;
        for &b in bytes {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.i += n;
        Some(v)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn rest(&self) -> &[u8] {
        &self.s[self.i.min(self.s.len())..]
    }
}

/// Parses a timestamp; a value without a zone is taken as UTC.
pub(crate) fn parse(text: &str) -> Option<Utc> {
    let text = text.trim();
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_digit() => {}
        Some(_) => return parse_rfc2822(text),
        None => return None,
    }
    if bytes.len() >= 10 && bytes[4] == b'-' {
        return parse_iso(bytes);
    }
    if bytes.len() >= 8 && bytes[..8].iter().all(u8::is_ascii_digit) && bytes.get(8) == Some(&b'T') {
        // Basic format: 20100210T000000Z
        let mut expanded = Vec::with_capacity(bytes.len() + 4);
        expanded.extend_from_slice(&bytes[..4]);
        expanded.push(b'-');
        expanded.extend_from_slice(&bytes[4..6]);
        expanded.push(b'-');
        expanded.extend_from_slice(&bytes[6..]);
        return parse_iso(&expanded);
    }
    // Epoch seconds, optionally with a fraction.
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int_part.len() >= 9
        && int_part.len() <= 11
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        let seconds: i64 = int_part.parse().ok()?;
        let micro = fraction_micro(frac_part.as_bytes());
        return Utc::from_epoch(seconds, micro);
    }
    None
}

fn fraction_micro(digits: &[u8]) -> u32 {
    let mut micro = 0u32;
    for k in 0..6 {
        micro = micro * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
    }
    micro
}

fn parse_iso(bytes: &[u8]) -> Option<Utc> {
    let mut c = Cursor { s: bytes, i: 0 };
    let year = c.digits(4)? as i32;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)? as u8;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)? as u8;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut utc = Utc { year, month, day, hour: 0, minute: 0, second: 0, micro: 0 };
    if c.peek().is_none() {
        return Some(utc);
    }
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        c.skip_spaces();
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            utc.hour = c.digits(2)? as u8;
            if c.eat(b':') {
                utc.minute = c.digits(2)? as u8;
                if c.eat(b':') {
                    utc.second = c.digits(2)? as u8;
                    if c.eat(b'.') || c.eat(b',') {
                        let start = c.i;
                        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                            c.i += 1;
                        }
                        if c.i == start {
                            return None;
                        }
                        utc.micro = fraction_micro(&bytes[start..c.i]);
                    }
                }
            } else {
                return None;
            }
            if utc.hour > 23 || utc.minute > 59 || utc.second > 59 {
                return None;
            }
        }
    } else {
        return None;
    }
    let offset = parse_zone(&mut c)?;
    utc.shifted(offset)
}

/// Parses what follows the time: nothing, `Z`, `UTC`, `GMT`, `+HH`, `+HHMM`, `+HH:MM`, each
/// optionally followed by a `UTC`/`GMT` word. Returns the offset in minutes.
fn parse_zone(c: &mut Cursor<'_>) -> Option<i32> {
    c.skip_spaces();
    let mut offset = 0i32;
    let mut seen_offset = false;
    match c.peek() {
        None => return Some(0),
        Some(b'Z' | b'z') => {
            c.i += 1;
            seen_offset = true;
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let hours = c.digits(2)? as i32;
            let mut minutes = 0i32;
            if c.eat(b':') || c.peek().is_some_and(|b| b.is_ascii_digit()) {
                minutes = c.digits(2)? as i32;
            }
            if hours > 23 || minutes > 59 {
                return None;
            }
            offset = hours * 60 + minutes;
            if sign == b'-' {
                offset = -offset;
            }
            seen_offset = true;
        }
        Some(_) => {}
    }
    c.skip_spaces();
    let rest = c.rest();
    if rest.is_empty() {
        return Some(offset);
    }
    if rest.eq_ignore_ascii_case(b"UTC") || rest.eq_ignore_ascii_case(b"GMT") {
        return Some(offset);
    }
    if !seen_offset && let Some(stripped) = strip_word(rest) {
        // `UTC+01:00`-style: a zone word followed by an offset.
        let mut inner = Cursor { s: stripped, i: 0 };
        return parse_zone(&mut inner);
    }
    None
}

fn strip_word(rest: &[u8]) -> Option<&[u8]> {
    if rest.len() > 3 && (rest[..3].eq_ignore_ascii_case(b"UTC") || rest[..3].eq_ignore_ascii_case(b"GMT")) {
        let tail = &rest[3..];
        if matches!(tail.first(), Some(b'+' | b'-')) {
            return Some(tail);
        }
    }
    None
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `Tue, 01 Aug 2018 00:00:00 GMT` and `01 Aug 2018 00:00:00 +0200`.
fn parse_rfc2822(text: &str) -> Option<Utc> {
    let text = match text.split_once(',') {
        Some((_weekday, rest)) => rest.trim(),
        None => text,
    };
    let mut parts = text.split_ascii_whitespace();
    let day: u8 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| month_name.starts_with(m))? as u8 + 1;
    let year: i32 = parts.next()?.parse().ok()?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let clock = parts.next().unwrap_or("00:00:00");
    let mut fields = clock.split(':');
    let hour: u8 = fields.next()?.parse().ok()?;
    let minute: u8 = fields.next()?.parse().ok()?;
    let second: u8 = fields.next().unwrap_or("0").parse().ok()?;
    if hour > 23 || minute > 59 || second > 59 || fields.next().is_some() {
        return None;
    }
    let zone = parts.next().unwrap_or("GMT");
    if parts.next().is_some() {
        return None;
    }
    let mut c = Cursor { s: zone.as_bytes(), i: 0 };
    let offset = parse_zone(&mut c)?;
    Utc { year, month, day, hour, minute, second, micro: 0 }.shifted(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> Option<String> {
        parse(text).map(Utc::to_intelmq)
    }

    #[test]
    fn formats() {
        assert_eq!(norm("2010-02-10 00:00:00 UTC").as_deref(), Some("2010-02-10T00:00:00+00:00"));
        assert_eq!(norm("2018-08-01T00:00:00+00 UTC").as_deref(), Some("2018-08-01T00:00:00+00:00"));
        assert_eq!(norm("2018-08-01T00:00:00Z").as_deref(), Some("2018-08-01T00:00:00+00:00"));
        assert_eq!(norm("2018-08-01T01:30:00+01:30").as_deref(), Some("2018-08-01T00:00:00+00:00"));
        assert_eq!(norm("2018-08-01 00:00:00-0100").as_deref(), Some("2018-08-01T01:00:00+00:00"));
        assert_eq!(norm("2018-08-01").as_deref(), Some("2018-08-01T00:00:00+00:00"));
        assert_eq!(norm("2018-08-01 00:00:00.5").as_deref(), Some("2018-08-01T00:00:00.500000+00:00"));
        assert_eq!(norm("Tue, 01 Aug 2018 00:00:00 GMT").as_deref(), Some("2018-08-01T00:00:00+00:00"));
        assert_eq!(norm("1465681304").as_deref(), Some("2016-06-11T21:41:44+00:00"));
        assert_eq!(norm(" UTC"), None);
        assert_eq!(norm("2018-02-30 00:00:00"), None);
        assert_eq!(norm("2018-08-01 25:00:00"), None);
        assert_eq!(norm("yesterday"), None);
    }
}
