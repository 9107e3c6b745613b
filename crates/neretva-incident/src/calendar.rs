//! Deadlines as an iCalendar feed (RFC 5545), for calendar and task clients.
//!
//! Each open obligation is one `VTODO` with a `DUE` time: a due item, not an appointment. Its
//! `UID` is stable across fetches and changes of the due time (an incident's notification
//! deadline keeps its UID when the awareness time is corrected), so clients update the item
//! rather than add another. Text values are escaped (`\`, `;`, `,`, newlines) and control
//! characters dropped; lines are folded at 75 octets without splitting a UTF-8 sequence, and end
//! with CRLF.

use time::UtcOffset;

use crate::Timestamp;
use crate::deadline::ObligationState;

/// One due item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarItem {
    /// Unique and stable, e.g. `<incident id>-notification@<host>`.
    pub uid: String,
    pub due_at: Timestamp,
    pub summary: String,
    pub description: String,
    pub state: ObligationState,
    /// Free-form categories (RSIT type, severity, who owes it).
    pub categories: Vec<String>,
}

/// A calendar named `name` with one `VTODO` per item, stamped `now`.
pub fn to_ics(name: &str, items: &[CalendarItem], now: Timestamp) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&fold(&text));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Neretva//Incident deadlines//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape_text(name)));
    for item in items {
        line("BEGIN:VTODO".into());
        line(format!("UID:{}", escape_text(&item.uid)));
        line(format!("DTSTAMP:{}", utc_stamp(now)));
        line(format!("DUE:{}", utc_stamp(item.due_at)));
        line(format!("SUMMARY:{}", escape_text(&item.summary)));
        if !item.description.is_empty() {
            line(format!("DESCRIPTION:{}", escape_text(&item.description)));
        }
        let categories: Vec<String> = item.categories.iter().map(|c| escape_text(c)).collect();
        if !categories.is_empty() {
            line(format!("CATEGORIES:{}", categories.join(",")));
        }
        // RFC 5545 priorities: 1 is the highest.
        let priority = match item.state {
            ObligationState::Overdue => 1,
            ObligationState::DueSoon => 2,
            _ => 5,
        };
        line(format!("PRIORITY:{priority}"));
        line("STATUS:NEEDS-ACTION".into());
        line(format!("X-NERETVA-STATE:{}", item.state));
        line("END:VTODO".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// A UTC date-time in the basic format, e.g. `20250114T080000Z`.
fn utc_stamp(at: Timestamp) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as `\n`,
/// other control characters left out.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets: each continuation starts with one space, and no UTF-8
/// sequence is split.
fn fold(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / LIMIT * 3);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > LIMIT {
            out.push_str("\r\n ");
            // The leading space counts towards the continuation line's length.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\r\ne\nf\u{7}g"), "a\\,b\\;c\\\\d\\ne\\nfg");
    }

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let line = format!("SUMMARY:{}", "ž".repeat(60));
        let folded = fold(&line);
        for part in folded.split("\r\n") {
            assert!(part.len() <= 75, "{} octets: {part}", part.len());
        }
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("short"), "short");
    }

    #[test]
    fn a_calendar_of_due_items() {
        let item = CalendarItem {
            uid: "0190-notification@neretva".into(),
            due_at: datetime!(2025-01-17 8:00 UTC),
            summary: "Notification, NIS2 Art. 23(4)(b): Ransomware, at a hospital".into(),
            description: "Owed by the entity.\nState: overdue".into(),
            state: ObligationState::Overdue,
            categories: vec!["entity".into(), "infected-system".into()],
        };
        let ics = to_ics("Deadlines", &[item], datetime!(2025-01-18 9:30:15 UTC));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.lines().all(|line| line.len() <= 76), "folded (CR not counted by lines())");
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("\r\nBEGIN:VTODO\r\nUID:0190-notification@neretva\r\nDTSTAMP:20250118T093015Z\r\nDUE:20250117T080000Z\r\n"));
        assert!(
            unfolded.contains("SUMMARY:Notification\\, NIS2 Art. 23(4)(b): Ransomware\\, at a hospital\r\n")
        );
        assert!(unfolded.contains("DESCRIPTION:Owed by the entity.\\nState: overdue\r\n"));
        assert!(unfolded.contains("CATEGORIES:entity,infected-system\r\nPRIORITY:1\r\n"));
        assert_eq!(to_ics("x", &[], datetime!(2025-01-18 9:30 UTC)).matches("VTODO").count(), 0);
    }
}
