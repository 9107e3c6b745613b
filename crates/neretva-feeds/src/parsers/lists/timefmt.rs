//! Time parsing for feed data, without a clock: the formats IntelMQ's parsers feed to
//! `dateutil.parser.parse` (a small, deterministic subset of it: [`fuzzy`]), Python's
//! `strptime` for configured formats ([`strptime`]), and the numeric epochs of the generic
//! CSV parser.
//!
//! Every function returns UTC; a time without a zone is taken to be UTC, as IntelMQ does.
//! A date part that is missing is an error (dateutil would take it from today's date,
//! which a pure parser cannot know).
//!
//! This is not `neretva_event::parse_time` on purpose: that one is what `Event::set` accepts
//! for a time field (strict: unknown words are errors; `11.10.2016` is month first), while
//! the list parsers need IntelMQ's `dateutil.parser.parse(fuzzy=True)` (other words skipped;
//! `DD.MM.YYYY` day first), `strptime` and the numeric epochs.

use neretva_event::{is_weekday_name as is_weekday, month_from_name};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

fn utc(date: Date, time: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(date, time).assume_utc()
}

fn two(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

fn four(bytes: &[u8]) -> Option<i32> {
    let mut value = 0i32;
    if bytes.len() != 4 {
        return None;
    }
    for &byte in bytes {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(byte - b'0');
    }
    Some(value)
}

/// The fast path for the most common feed format: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or
/// `YYYY-MM-DD HH:MM:SS` (also with `T`), in UTC.
pub(crate) fn ymd_hms(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = four(&bytes[0..4])?;
    let month = Month::try_from(two(&bytes[5..7])?).ok()?;
    let date = Date::from_calendar_date(year, month, two(&bytes[8..10])?).ok()?;
    let rest = &bytes[10..];
    let time = match rest {
        [] => Time::MIDNIGHT,
        [b' ' | b'T', h1, h2, b':', m1, m2] => {
            Time::from_hms(two(&[*h1, *h2])?, two(&[*m1, *m2])?, 0).ok()?
        }
        [b' ' | b'T', h1, h2, b':', m1, m2, b':', s1, s2] => {
            Time::from_hms(two(&[*h1, *h2])?, two(&[*m1, *m2])?, two(&[*s1, *s2])?).ok()?
        }
        _ => return None,
    };
    Some(utc(date, time))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'a> {
    Num(&'a str),
    Word(&'a str),
    Sep(char),
    Space,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::with_capacity(16);
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let start = index;
        let byte = bytes[index];
        if byte.is_ascii_digit() {
            while index < bytes.len() && bytes[index].is_ascii_digit() {
                index += 1;
            }
            tokens.push(Token::Num(&text[start..index]));
        } else if byte.is_ascii_alphabetic() {
            while index < bytes.len() && bytes[index].is_ascii_alphabetic() {
                index += 1;
            }
            tokens.push(Token::Word(&text[start..index]));
        } else if byte.is_ascii_whitespace() {
            while index < bytes.len() && bytes[index].is_ascii_whitespace() {
                index += 1;
            }
            tokens.push(Token::Space);
        } else {
            let c = text[start..].chars().next().unwrap_or(' ');
            index += c.len_utf8();
            if c.is_whitespace() {
                tokens.push(Token::Space);
            } else {
                tokens.push(Token::Sep(c));
            }
        }
    }
    tokens
}

#[derive(Default, Debug)]
struct Fields {
    year: Option<i32>,
    month: Option<u8>,
    day: Option<u8>,
    hour: Option<u8>,
    minute: Option<u8>,
    second: Option<u8>,
    micros: Option<u32>,
    offset_seconds: Option<i32>,
    pm: Option<bool>,
}

fn num(text: &str) -> Option<u32> {
    if text.len() > 9 {
        return None;
    }
    text.parse().ok()
}

fn year_of(text: &str) -> Option<i32> {
    let value = i32::try_from(num(text)?).ok()?;
    Some(match text.len() {
        // dateutil maps two-digit years into the century window around today; feeds
        // written with two-digit years are from this century.
        1 | 2 => 2000 + value,
        _ => value,
    })
}

fn micros_of(digits: &str) -> Option<u32> {
    let mut value = 0u32;
    for byte in digits.bytes().take(6) {
        value = value * 10 + u32::from(byte - b'0');
    }
    for _ in digits.len().min(6)..6 {
        value *= 10;
    }
    Some(value)
}

/// A deterministic subset of `dateutil.parser.parse(text, fuzzy=True)`: ISO 8601 dates
/// and times, RFC 2822 (`Mon, 14 Sep 2015 04:39:22 GMT`), `ctime` (`Tue Dec 15 15:33:38
/// 2015 UTC`), Apache logs (`01/Aug/2018:09:49:41 +0200`), `DD.MM.YYYY`, month-first
/// `MM/DD/YYYY`, `YYYYMMDD`, zones `UTC`/`GMT`/`Z` and numeric offsets (`+0200`, `+02:00`,
/// `+0`), `AM`/`PM`; other words are skipped. The result is in UTC.
pub(crate) fn fuzzy(text: &str) -> Option<OffsetDateTime> {
    if let Some(t) = ymd_hms(text) {
        return Some(t);
    }
    let tokens = tokenize(text);
    let mut f = Fields::default();
    let mut index = 0;
    let at = |i: usize| tokens.get(i).copied();
    while index < tokens.len() {
        match tokens[index] {
            Token::Space => index += 1,
            Token::Word(word) => {
                let lower = word.to_ascii_lowercase();
                if let Some(month) = month_from_name(word) {
                    if f.month.is_some() {
                        return None;
                    }
                    f.month = Some(month);
                    // `Aug/2018` or `Aug-2018`: the year follows after a separator.
                    if let (Some(Token::Sep('/' | '-')), Some(Token::Num(y))) = (at(index + 1), at(index + 2))
                        && f.day.is_some()
                        && f.year.is_none()
                    {
                        f.year = year_of(y);
                        index += 3;
                        continue;
                    }
                } else if matches!(lower.as_str(), "utc" | "gmt" | "z" | "ut" | "zulu") {
                    if f.offset_seconds.is_none() {
                        f.offset_seconds = Some(0);
                    }
                } else if lower == "am" || lower == "pm" {
                    f.pm = Some(lower == "pm");
                }
                // Anything else (`T`, weekdays, other words) carries nothing we need.
                index += 1;
            }
            Token::Sep(sign @ ('+' | '-')) if f.hour.is_some() => {
                // A numeric offset after the time: +HHMM, +HH, +H, +HH:MM.
                let Some(Token::Num(digits)) = at(index + 1) else {
                    index += 1;
                    continue;
                };
                let (hours, minutes, used) = match digits.len() {
                    1 | 2 => {
                        if let (Some(Token::Sep(':')), Some(Token::Num(m))) = (at(index + 2), at(index + 3)) {
                            (num(digits)?, num(m)?, 4)
                        } else {
                            (num(digits)?, 0, 2)
                        }
                    }
                    4 => (num(&digits[..2])?, num(&digits[2..])?, 2),
                    _ => return None,
                };
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
                f.offset_seconds = Some(if sign == '-' { -seconds } else { seconds });
                index += used;
            }
            Token::Sep(_) => index += 1,
            Token::Num(digits) => {
                index = number(&tokens, index, digits, &mut f)?;
            }
        }
    }
    build(&f)
}

/// Interprets a number token (and what it starts) at `index`; returns the next index.
fn number(tokens: &[Token<'_>], index: usize, digits: &str, f: &mut Fields) -> Option<usize> {
    let at = |i: usize| tokens.get(i).copied();
    // A time: H:M, H:M:S, H:M:S.f
    if let (Some(Token::Sep(':')), Some(Token::Num(minutes))) = (at(index + 1), at(index + 2)) {
        if digits.len() <= 2 && f.hour.is_none() {
            f.hour = Some(u8::try_from(num(digits)?).ok()?);
            f.minute = Some(u8::try_from(num(minutes)?).ok()?);
            let mut next = index + 3;
            if let (Some(Token::Sep(':')), Some(Token::Num(seconds))) = (at(next), at(next + 1)) {
                f.second = Some(u8::try_from(num(seconds)?).ok()?);
                next += 2;
                if let (Some(Token::Sep('.' | ',')), Some(Token::Num(fraction))) = (at(next), at(next + 1)) {
                    f.micros = micros_of(fraction);
                    next += 2;
                }
            }
            return Some(next);
        }
        // `2018:09:49:41` after a date: the colon only separates date and time.
        if digits.len() == 4 && f.year.is_none() && f.month.is_some() && f.day.is_some() {
            f.year = year_of(digits);
            return Some(index + 2);
        }
    }
    // A date with separators: Y-M-D, D/M/Y, M/D/Y, D.M.Y, D/Mon/Y.
    if let Some(Token::Sep(sep @ ('-' | '/' | '.'))) = at(index + 1) {
        let second = at(index + 2);
        let third_sep = at(index + 3);
        let third = at(index + 4);
        if f.year.is_none() && f.month.is_none() && f.day.is_none() {
            match (second, third_sep, third) {
                (Some(Token::Num(b)), Some(Token::Sep(s2)), Some(Token::Num(c))) if s2 == sep => {
                    let (year, month, day) = if digits.len() >= 3 {
                        (year_of(digits)?, num(b)?, num(c)?)
                    } else if sep == '.' {
                        (year_of(c)?, num(b)?, num(digits)?)
                    } else {
                        // dateutil's default: month first; day first when the first
                        // number cannot be a month.
                        let (first, middle) = (num(digits)?, num(b)?);
                        if first > 12 { (year_of(c)?, middle, first) } else { (year_of(c)?, first, middle) }
                    };
                    f.year = Some(year);
                    f.month = Some(u8::try_from(month).ok()?);
                    f.day = Some(u8::try_from(day).ok()?);
                    return Some(index + 5);
                }
                (Some(Token::Word(word)), _, _) if month_from_name(word).is_some() => {
                    f.day = Some(u8::try_from(num(digits)?).ok()?);
                    return Some(index + 2);
                }
                _ => {}
            }
        }
    }
    let full_date = f.year.is_some() && f.month.is_some() && f.day.is_some();
    match digits.len() {
        // After a whole date, `1802` is 18:02 and `180203` is 18:02:03, as in dateutil.
        4 | 6 if full_date && f.hour.is_none() => {
            f.hour = Some(u8::try_from(num(&digits[..2])?).ok()?);
            f.minute = Some(u8::try_from(num(&digits[2..4])?).ok()?);
            if digits.len() == 6 {
                f.second = Some(u8::try_from(num(&digits[4..])?).ok()?);
            }
        }
        8 if f.year.is_none() && f.month.is_none() => {
            f.year = year_of(&digits[..4]);
            f.month = Some(u8::try_from(num(&digits[4..6])?).ok()?);
            f.day = Some(u8::try_from(num(&digits[6..])?).ok()?);
        }
        14 if f.year.is_none() && f.hour.is_none() => {
            f.year = year_of(&digits[..4]);
            f.month = Some(u8::try_from(num(&digits[4..6])?).ok()?);
            f.day = Some(u8::try_from(num(&digits[6..8])?).ok()?);
            f.hour = Some(u8::try_from(num(&digits[8..10])?).ok()?);
            f.minute = Some(u8::try_from(num(&digits[10..12])?).ok()?);
            f.second = Some(u8::try_from(num(&digits[12..])?).ok()?);
        }
        3 | 4 if f.year.is_none() => f.year = year_of(digits),
        1 | 2 if f.day.is_none() && (f.month.is_some() || f.year.is_none()) => {
            f.day = Some(u8::try_from(num(digits)?).ok()?);
        }
        1 | 2 if f.year.is_none() => f.year = year_of(digits),
        _ => return None,
    }
    Some(index + 1)
}

fn build(f: &Fields) -> Option<OffsetDateTime> {
    let month = Month::try_from(f.month?).ok()?;
    let date = Date::from_calendar_date(f.year?, month, f.day?).ok()?;
    let mut hour = f.hour.unwrap_or(0);
    match f.pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let time =
        Time::from_hms_micro(hour, f.minute.unwrap_or(0), f.second.unwrap_or(0), f.micros.unwrap_or(0))
            .ok()?;
    let offset = UtcOffset::from_whole_seconds(f.offset_seconds.unwrap_or(0)).ok()?;
    let local = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some(local.to_offset(UtcOffset::UTC))
}

/// Seconds since the epoch, as Python's `datetime.fromtimestamp(float(value), utc)`.
pub(crate) fn from_timestamp(text: &str) -> Option<OffsetDateTime> {
    let seconds = py_float(text)?;
    if !seconds.is_finite() {
        return None;
    }
    let whole = seconds.floor();
    let micros = ((seconds - whole) * 1_000_000.0).round();
    let whole = whole as i64;
    let t = OffsetDateTime::from_unix_timestamp(whole).ok()?;
    Some(t + time::Duration::microseconds(micros as i64))
}

/// Python's `float(text)` for plain decimal text (surrounding white space allowed).
pub(crate) fn py_float(text: &str) -> Option<f64> {
    let text = crate::parsers::lists::support::py_strip(text);
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    text.parse().ok()
}

/// IntelMQ's `epoch_millis`: 10 digits are seconds, 12 centiseconds, 13 milliseconds.
pub(crate) fn from_epoch_millis(text: &str) -> Option<OffsetDateTime> {
    let value: i64 = text.parse().ok()?;
    let seconds = match text.len() {
        10 => value,
        12 => value.div_euclid(100),
        13 => value.div_euclid(1000),
        _ => return None,
    };
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Windows NT file time: 100 ns ticks since 1601-01-01 UTC.
pub(crate) fn from_windows_nt(text: &str) -> Option<OffsetDateTime> {
    let ticks: i64 = py_strip_int(text)?;
    // Seconds between 1601-01-01 and 1970-01-01.
    const EPOCH_DIFF: i64 = 11_644_473_600;
    let seconds = ticks.div_euclid(10_000_000) - EPOCH_DIFF;
    let micros = ticks.rem_euclid(10_000_000) / 10;
    let t = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(t + time::Duration::microseconds(micros))
}

fn py_strip_int(text: &str) -> Option<i64> {
    crate::parsers::lists::support::py_strip(text).parse().ok()
}

/// Python's `datetime.strptime(text, format)` for the common directives: `%Y %y %m %d
/// %H %I %M %S %f %p %b %B %h %a %A %z %Z %j %%`; white space in the format matches any
/// run of white space. The result is taken as UTC when the format has no zone.
pub(crate) fn strptime(text: &str, format: &str) -> Option<OffsetDateTime> {
    let mut f = Fields::default();
    let mut day_of_year: Option<u16> = None;
    let mut input = text;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let directive = chars.next()?;
            match directive {
                'Y' => {
                    let (value, rest) = take_digits(input, 4, 4)?;
                    f.year = Some(i32::try_from(value).ok()?);
                    input = rest;
                }
                'y' => {
                    let (value, rest) = take_digits(input, 2, 2)?;
                    let value = i32::try_from(value).ok()?;
                    f.year = Some(if value < 69 { 2000 + value } else { 1900 + value });
                    input = rest;
                }
                'm' => {
                    let (value, rest) = take_digits(input, 1, 2)?;
                    f.month = Some(u8::try_from(value).ok()?);
                    input = rest;
                }
                'd' => {
                    let (value, rest) = take_digits(input, 1, 2)?;
                    f.day = Some(u8::try_from(value).ok()?);
                    input = rest;
                }
                'H' | 'I' => {
                    let (value, rest) = take_digits(input, 1, 2)?;
                    f.hour = Some(u8::try_from(value).ok()?);
                    input = rest;
                }
                'M' => {
                    let (value, rest) = take_digits(input, 1, 2)?;
                    f.minute = Some(u8::try_from(value).ok()?);
                    input = rest;
                }
                'S' => {
                    let (value, rest) = take_digits(input, 1, 2)?;
                    f.second = Some(u8::try_from(value).ok()?);
                    input = rest;
                }
                'f' => {
                    let end = input.bytes().take(6).take_while(u8::is_ascii_digit).count();
                    if end == 0 {
                        return None;
                    }
                    f.micros = micros_of(&input[..end]);
                    input = &input[end..];
                }
                'j' => {
                    let (value, rest) = take_digits(input, 1, 3)?;
                    day_of_year = Some(u16::try_from(value).ok()?);
                    input = rest;
                }
                'p' => {
                    let word: String = input.chars().take(2).collect();
                    match word.to_ascii_lowercase().as_str() {
                        "am" => f.pm = Some(false),
                        "pm" => f.pm = Some(true),
                        _ => return None,
                    }
                    input = &input[2..];
                }
                'b' | 'B' | 'h' => {
                    let end = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                    f.month = Some(month_from_name(&input[..end])?);
                    input = &input[end..];
                }
                'a' | 'A' => {
                    let end = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                    if !is_weekday(&input[..end]) {
                        return None;
                    }
                    input = &input[end..];
                }
                'z' => {
                    let (offset, rest) = take_offset(input)?;
                    f.offset_seconds = Some(offset);
                    input = rest;
                }
                'Z' => {
                    let end = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                    match input[..end].to_ascii_uppercase().as_str() {
                        "UTC" | "GMT" => f.offset_seconds = Some(0),
                        _ => return None,
                    }
                    input = &input[end..];
                }
                '%' => input = input.strip_prefix('%')?,
                _ => return None,
            }
        } else if c.is_whitespace() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let trimmed = input.trim_start();
            if trimmed.len() == input.len() {
                return None;
            }
            input = trimmed;
        } else {
            input = input.strip_prefix(c)?;
        }
    }
    if !input.is_empty() {
        return None;
    }
    if f.year.is_none() {
        f.year = Some(1900);
    }
    if f.month.is_none()
        && f.day.is_none()
        && let Some(day_of_year) = day_of_year
    {
        let date = Date::from_ordinal_date(f.year?, day_of_year).ok()?;
        f.month = Some(u8::from(date.month()));
        f.day = Some(date.day());
    }
    f.month = f.month.or(Some(1));
    f.day = f.day.or(Some(1));
    build(&f)
}

fn take_digits(input: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let end = input.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if end < min {
        return None;
    }
    Some((input[..end].parse().ok()?, &input[end..]))
}

fn take_offset(input: &str) -> Option<(i32, &str)> {
    if let Some(rest) = input.strip_prefix('Z') {
        return Some((0, rest));
    }
    let sign = match input.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &input[1..];
    let (hours, rest) = take_digits(rest, 2, 2)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (minutes, rest) = take_digits(rest, 2, 2)?;
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((sign * seconds, rest))
}

#[cfg(test)]
mod tests {
    // IntelMQ's text form of a UTC time (`2016-11-10T00:00:00+00:00`).
    use neretva_event::format_time as format_utc;

    use super::*;

    fn f(text: &str) -> String {
        fuzzy(text).map(format_utc).unwrap_or_else(|| "-".into())
    }

    #[test]
    fn fuzzy_formats() {
        assert_eq!(f("Mon, 14 Sep 2015 04:39:22 GMT"), "2015-09-14T04:39:22+00:00");
        assert_eq!(f("Tue Dec 15 15:33:38 2015 UTC"), "2015-12-15T15:33:38+00:00");
        assert_eq!(f("Tue Dec 15 15:35:02 2015 GMT"), "2015-12-15T15:35:02+00:00");
        assert_eq!(f("2015-12-22 11:09:07+0"), "2015-12-22T11:09:07+00:00");
        assert_eq!(f("2016-11-12 15:02 UTC"), "2016-11-12T15:02:00+00:00");
        assert_eq!(f("2016-11-10 00:00 UTC"), "2016-11-10T00:00:00+00:00");
        assert_eq!(f("2017-10-31 10:00:00 GMT"), "2017-10-31T10:00:00+00:00");
        assert_eq!(f("01/Aug/2018:09:49:41 +0200"), "2018-08-01T07:49:41+00:00");
        assert_eq!(f("2015-12-14 04:19:00"), "2015-12-14T04:19:00+00:00");
        assert_eq!(f("2022-03-22T05:06:25Z"), "2022-03-22T05:06:25+00:00");
        assert_eq!(f("2022-03-22T05:06:25.5+01:00"), "2022-03-22T04:06:25.500000+00:00");
        assert_eq!(f("22.03.2022"), "2022-03-22T00:00:00+00:00");
        assert_eq!(f("03/22/2022 5:06 PM"), "2022-03-22T17:06:00+00:00");
        assert_eq!(f("20190326"), "2019-03-26T00:00:00+00:00");
        assert_eq!(f("2024-05-09 1802 UTC"), "2024-05-09T18:02:00+00:00");
        assert_eq!(f("2024-05-09 180203"), "2024-05-09T18:02:03+00:00");
        assert_eq!(f("204-05-09 16:00:00"), "0204-05-09T16:00:00+00:00");
        assert_eq!(f("24-05-09"), "2009-05-24T00:00:00+00:00");
        assert_eq!(f("yesterday"), "-");
        assert_eq!(f("2015-13-01"), "-");
        assert_eq!(f(""), "-");
    }

    #[test]
    fn numeric_epochs() {
        let t = |o: Option<OffsetDateTime>| o.map(format_utc).unwrap_or_else(|| "-".into());
        assert_eq!(t(from_epoch_millis("1495782036")), "2017-05-26T07:00:36+00:00");
        assert_eq!(t(from_epoch_millis("1495782036123")), "2017-05-26T07:00:36+00:00");
        assert_eq!(t(from_epoch_millis("14957820")), "-");
        assert_eq!(t(from_timestamp("1495782036")), "2017-05-26T07:00:36+00:00");
        assert_eq!(t(from_windows_nt("131349599830000000")), "2017-03-25T23:59:43+00:00");
    }

    #[test]
    fn strptime_formats() {
        let t = |s: &str, fmt: &str| strptime(s, fmt).map(format_utc).unwrap_or("-".into());
        assert_eq!(t("2019-03-26 12:00", "%Y-%m-%d %H:%M"), "2019-03-26T12:00:00+00:00");
        assert_eq!(t("26.03.19", "%d.%m.%y"), "2019-03-26T00:00:00+00:00");
        assert_eq!(
            t("Mar 26 2019 01:02:03 PM +0100", "%b %d %Y %I:%M:%S %p %z"),
            "2019-03-26T12:02:03+00:00"
        );
        assert_eq!(t("2019-03-26x", "%Y-%m-%d"), "-");
        // Python's `%Y` takes exactly four digits and `%y` two.
        assert_eq!(t("4.5.204 23:05", "%d.%m.%Y %H:%M"), "-");
        assert_eq!(t("4.5.4", "%d.%m.%y"), "-");
    }
}
