//! Parsing of date-time text into UTC, covering the forms feeds use.
//!
//! IntelMQ accepts whatever `dateutil.parser.parse(value, fuzzy=True)`
//! accepts. This parser accepts the common subset: ISO 8601 / RFC 3339
//! (`2016-11-10T00:00:00Z`, `2016-11-10 00:00:00.123+01:00`, `20161110`),
//! RFC 2822 (`Thu, 10 Nov 2016 00:00:00 +0000`), `ctime`
//! (`Thu Nov 10 00:00:00 2016`), `11/10/2016` and `11.10.2016` (month
//! first, as dateutil, unless the first number exceeds 12), `10 Nov 2016`,
//! `Nov 10, 2016`, `10-Nov-2016`, 12-hour clocks with AM/PM, and the zones
//! `Z`, `UTC`, `GMT`, `UT` and numeric offsets. Text without a zone is UTC.
//! It is not fuzzy: unknown words are errors, not ignored.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses date-time text, converting it to UTC with whole microseconds.
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = crate::pyfmt::py_strip(text);
    if let Some(t) = parse_canonical(text.as_bytes()) {
        return Some(t);
    }
    if !text.is_ascii() {
        return None;
    }
    let mut c = Cursor { s: text.as_bytes(), pos: 0 };
    c.parse_all()
}

/// The fast path: `YYYY-MM-DDTHH:MM:SS` (or with a space) with optional
/// `.ffffff` and `+00:00` or `Z`, or none: the form IntelMQ writes and the
/// form most feeds use.
fn parse_canonical(b: &[u8]) -> Option<OffsetDateTime> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0;
    if let [b'.', tail @ ..] = rest {
        if tail.len() < 6 || !tail[..6].iter().all(u8::is_ascii_digit) {
            return None;
        }
        if tail.get(6).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        micros = num(&tail[..6])?;
        rest = &tail[6..];
    }
    if !matches!(rest, b"" | b"Z" | b"+00:00") {
        return None;
    }
    build(
        i32::try_from(num(&b[0..4])?).ok()?,
        num(&b[5..7])?,
        num(&b[8..10])?,
        (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?, micros),
        0,
    )
}

/// Decimal digits only, as a number.
fn num(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// Makes the UTC time from its parts; `offset_seconds` east of UTC.
fn build(
    year: i32,
    month: u32,
    day: u32,
    (hour, minute, second, micros): (u32, u32, u32, u32),
    offset_seconds: i32,
) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms_micro(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        micros,
    )
    .ok()?;
    let offset = UtcOffset::from_whole_seconds(offset_seconds).ok()?;
    let utc = PrimitiveDateTime::new(date, time).assume_offset(offset).checked_to_offset(UtcOffset::UTC)?;
    (1..=9999).contains(&utc.year()).then_some(utc)
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTHS_LONG: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKDAYS_LONG: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// The month (1 to 12) an English month name or its abbreviation names, in any case, with or
/// without a trailing dot (`Jan`, `january`, `Sept.`).
pub(crate) fn month_of(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    let lower = lower.strip_suffix('.').unwrap_or(&lower);
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .or_else(|| MONTHS_LONG.iter().position(|m| *m == lower))
        .or_else(|| (lower == "sept").then_some(8))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Whether a word is an English weekday name or its abbreviation, in any case.
pub(crate) fn is_weekday(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    WEEKDAYS.contains(&lower.as_str()) || WEEKDAYS_LONG.contains(&lower.as_str())
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn digits(&mut self) -> &[u8] {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while matches!(self.peek(), Some(b'a'..=b'z' | b'A'..=b'Z')) {
            self.pos += 1;
        }
        if self.pos > start && self.peek() == Some(b'.') {
            // "Sept." and the like.
            let word = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
            if month_of(word).is_some() {
                self.pos += 1;
            }
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn number(&mut self, min_len: usize, max_len: usize) -> Option<u32> {
        let save = self.pos;
        let d = self.digits();
        if d.len() < min_len || d.len() > max_len {
            self.pos = save;
            return None;
        }
        num(d)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn parse_all(&mut self) -> Option<OffsetDateTime> {
        self.skip_ws();
        // Optional weekday.
        let save = self.pos;
        let word = self.word().to_owned();
        if word.is_empty() || !is_weekday(&word) {
            self.pos = save;
        } else {
            self.eat(b',');
            self.skip_ws();
        }
        let (year, month, day) = self.date()?;
        let mut year = year;
        // Separator between date and time.
        if !self.eat(b'T') && !self.eat(b't') {
            self.eat(b',');
            self.skip_ws();
        }
        let mut clock = (0, 0, 0, 0);
        let mut offset = 0;
        if matches!(self.peek(), Some(b'0'..=b'9')) && (year.is_some() || self.looks_like_time()) {
            clock = self.time()?;
            self.skip_ws();
        }
        if let Some(found) = self.zone() {
            offset = found;
            self.skip_ws();
        }
        if year.is_none() {
            // ctime: "Thu Nov 10 00:00:00 2016".
            year = Some(i32::try_from(self.number(4, 4)?).ok()?);
            self.skip_ws();
            if let Some(found) = self.zone() {
                offset = found;
                self.skip_ws();
            }
        }
        if !self.at_end() {
            return None;
        }
        build(year?, month, day, clock, offset)
    }

    /// Whether the cursor is at `H:MM` or `HH:MM` (for ctime, where a year
    /// may follow the date instead).
    fn looks_like_time(&self) -> bool {
        let rest = &self.s[self.pos..];
        matches!(rest, [_, b':', ..] | [_, _, b':', ..])
    }

    /// The date: (year, or None when a ctime year follows later, month, day).
    fn date(&mut self) -> Option<(Option<i32>, u32, u32)> {
        match self.peek()? {
            b'0'..=b'9' => {
                let start = self.pos;
                let first = self.digits().to_vec();
                let sep = self.peek();
                if first.len() == 8 && !matches!(sep, Some(b'-' | b'/' | b'.')) {
                    return Some((
                        Some(i32::try_from(num(&first[0..4])?).ok()?),
                        num(&first[4..6])?,
                        num(&first[6..8])?,
                    ));
                }
                if first.len() == 4 {
                    let sep = sep?;
                    if !matches!(sep, b'-' | b'/' | b'.') {
                        return None;
                    }
                    self.pos += 1;
                    let month = self.month_or_number()?;
                    if !self.eat(sep) {
                        return None;
                    }
                    let day = self.number(1, 2)?;
                    return Some((Some(i32::try_from(num(&first)?).ok()?), month, day));
                }
                if first.is_empty() || first.len() > 2 {
                    self.pos = start;
                    return None;
                }
                let n = num(&first)?;
                match sep {
                    Some(sep @ (b'-' | b'/' | b'.')) => {
                        self.pos += 1;
                        let (second, second_is_word) = if matches!(self.peek(), Some(b'0'..=b'9')) {
                            (self.number(1, 2)?, false)
                        } else {
                            (month_of(self.word())?, true)
                        };
                        if !self.eat(sep) {
                            return None;
                        }
                        let year = i32::try_from(self.number(4, 4)?).ok()?;
                        // Month first when ambiguous, even with dots, as
                        // dateutil's default (dayfirst=False).
                        if second_is_word || n > 12 {
                            Some((Some(year), second, n))
                        } else {
                            Some((Some(year), n, second))
                        }
                    }
                    Some(b' ') => {
                        // "10 Nov 2016"
                        self.skip_ws();
                        let month = month_of(self.word())?;
                        self.eat(b',');
                        self.skip_ws();
                        let year = i32::try_from(self.number(4, 4)?).ok()?;
                        Some((Some(year), month, n))
                    }
                    _ => None,
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                // "Nov 10 2016", "Nov 10, 2016", "Nov 10 00:00:00 2016".
                let month = month_of(self.word())?;
                self.skip_ws();
                let day = self.number(1, 2)?;
                let save = self.pos;
                self.eat(b',');
                self.skip_ws();
                if self.looks_like_time() {
                    return Some((None, month, day));
                }
                match self.number(4, 4) {
                    Some(year) => Some((Some(i32::try_from(year).ok()?), month, day)),
                    None => {
                        self.pos = save;
                        Some((None, month, day))
                    }
                }
            }
            _ => None,
        }
    }

    fn month_or_number(&mut self) -> Option<u32> {
        if matches!(self.peek(), Some(b'0'..=b'9')) { self.number(1, 2) } else { month_of(self.word()) }
    }

    /// `HH:MM[:SS[.frac]]` with an optional AM/PM.
    fn time(&mut self) -> Option<(u32, u32, u32, u32)> {
        let mut hour = self.number(1, 2)?;
        if !self.eat(b':') {
            return None;
        }
        let minute = self.number(2, 2)?;
        let mut second = 0;
        let mut micros = 0;
        if self.eat(b':') {
            second = self.number(2, 2)?;
            if self.eat(b'.') || self.eat(b',') {
                let frac = self.digits();
                if frac.is_empty() {
                    return None;
                }
                let mut padded = [b'0'; 6];
                for (slot, digit) in padded.iter_mut().zip(frac) {
                    *slot = *digit;
                }
                micros = num(&padded)?;
            }
        }
        let save = self.pos;
        self.skip_ws();
        let word = self.word().to_ascii_lowercase();
        match word.as_str() {
            "am" | "a" if (1..=12).contains(&hour) => {
                if hour == 12 {
                    hour = 0;
                }
            }
            "pm" | "p" if (1..=12).contains(&hour) => {
                if hour != 12 {
                    hour += 12;
                }
            }
            _ => self.pos = save,
        }
        Some((hour, minute, second, micros))
    }

    /// A zone: `Z`, `UTC`, `GMT`, `UT`, `+HH`, `+HHMM`, `+HH:MM`; the
    /// offset in seconds east of UTC.
    fn zone(&mut self) -> Option<i32> {
        let save = self.pos;
        match self.peek()? {
            sign @ (b'+' | b'-') => {
                self.pos += 1;
                let digits = self.digits().to_vec();
                let (hours, minutes) = match digits.len() {
                    2 => {
                        let hours = num(&digits)?;
                        let minutes = if self.eat(b':') { self.number(2, 2)? } else { 0 };
                        (hours, minutes)
                    }
                    4 => (num(&digits[..2])?, num(&digits[2..])?),
                    _ => {
                        self.pos = save;
                        return None;
                    }
                };
                if hours > 23 || minutes > 59 {
                    self.pos = save;
                    return None;
                }
                let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
                Some(if sign == b'-' { -seconds } else { seconds })
            }
            _ => {
                let word = self.word().to_ascii_lowercase();
                match word.as_str() {
                    "z" | "utc" | "gmt" | "ut" => {
                        // "UTC+01:00"
                        match self.peek() {
                            Some(b'+' | b'-') => self.zone().or(Some(0)),
                            _ => Some(0),
                        }
                    }
                    _ => {
                        self.pos = save;
                        None
                    }
                }
            }
        }
    }
}
