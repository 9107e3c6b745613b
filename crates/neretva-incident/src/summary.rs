//! The quarterly summary for the regulator: anonymised and aggregated incidents.
//!
//! NIS2 Art. 23(9) has the single point of contact send ENISA a summary report every three
//! months with anonymised and aggregated data. [`summarise`] counts the incidents of a quarter
//! by NIS2 sector, RSIT type, severity and cross-border flag. The input, [`SummaryRecord`], has
//! no field that names or identifies an organisation or an incident, so nothing identifying can
//! reach the output. Renderings: [`QuarterlySummary::to_json`], [`QuarterlySummary::to_csv`]
//! (cells a spreadsheet would run as formulas are prefixed with an apostrophe) and
//! [`QuarterlySummary::to_html`] (a self-contained page, every text escaped).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use neretva_model::org::SECTORS;
use neretva_model::text::{html_escape, spreadsheet_safe};
use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;

use crate::classification::RsitClass;
use crate::deadline::CivilZone;
use crate::incident::{Incident, Severity};
use crate::{FieldError, Timestamp};

/// A calendar quarter, written `2025-Q1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub quarter: u8,
}

impl Quarter {
    /// Quarter 1 to 4 of a year from 1 to 9998.
    pub fn new(year: i32, quarter: u8) -> Result<Quarter, FieldError> {
        if (1..=4).contains(&quarter) && (1..=9998).contains(&year) {
            Ok(Quarter { year, quarter })
        } else {
            Err(FieldError::new("quarter", format!("{year}-Q{quarter} is not a quarter")))
        }
    }

    /// The quarter an instant falls in, in a civil time zone.
    pub fn of(at: Timestamp, zone: CivilZone) -> Quarter {
        let local = zone.to_local(at);
        Quarter { year: local.year(), quarter: (u8::from(local.month()) - 1) / 3 + 1 }
    }

    /// The first instant of the quarter and the first instant after it.
    pub fn bounds(self, zone: CivilZone) -> (Timestamp, Timestamp) {
        let start_of = |year: i32, quarter: u8| {
            let month = time::Month::try_from((quarter - 1) * 3 + 1).unwrap_or(time::Month::January);
            let date = time::Date::from_calendar_date(year, month, 1).unwrap_or(time::Date::MIN);
            zone.from_local(PrimitiveDateTime::new(date, time::Time::MIDNIGHT))
        };
        let (next_year, next_quarter) =
            if self.quarter == 4 { (self.year + 1, 1) } else { (self.year, self.quarter + 1) };
        (start_of(self.year, self.quarter), start_of(next_year, next_quarter))
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.quarter)
    }
}

impl FromStr for Quarter {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<Quarter, FieldError> {
        let invalid = || FieldError::new("quarter", format!("{input:?} is not a quarter such as 2025-Q1"));
        let (year, quarter) = input.trim().split_once(['-', ' ']).ok_or_else(invalid)?;
        let quarter = quarter.strip_prefix(['Q', 'q']).ok_or_else(invalid)?;
        Quarter::new(year.parse().map_err(|_| invalid())?, quarter.parse().map_err(|_| invalid())?)
    }
}

impl TryFrom<String> for Quarter {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Quarter, FieldError> {
        value.parse()
    }
}

impl From<Quarter> for String {
    fn from(value: Quarter) -> String {
        value.to_string()
    }
}

/// One incident as the summary sees it: nothing that identifies it or its organisations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// The NIS2 sector slug of the affected entity, if known.
    pub sector: Option<String>,
    pub classification: RsitClass,
    pub severity: Severity,
    pub cross_border: bool,
    /// The recorded significance assessment's outcome; `None` when none was recorded.
    #[serde(default)]
    pub significant: Option<bool>,
    /// The instant that places it in a quarter, normally when it was reported.
    #[serde(with = "crate::utc")]
    pub at: Timestamp,
}

impl SummaryRecord {
    /// The record of an incident, given the sector of the entity it affected.
    pub fn of(incident: &Incident, sector: Option<&str>) -> SummaryRecord {
        SummaryRecord {
            sector: sector.map(str::to_owned),
            classification: incident.classification,
            severity: incident.severity,
            cross_border: incident.cross_border,
            significant: incident.significance.as_ref().map(|record| record.significant),
            at: incident.created_at,
        }
    }
}

/// The sector bucket of incidents with no or an unknown sector.
pub const UNSPECIFIED_SECTOR: &str = "unspecified";

/// Whether incidents were assessed significant (NIS2 Art. 23(3), Implementing Regulation
/// 2024/2690): the summary separates significant incidents from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Significance {
    Significant,
    NotSignificant,
    NotAssessed,
}

impl Significance {
    fn of(significant: Option<bool>) -> Significance {
        match significant {
            Some(true) => Significance::Significant,
            Some(false) => Significance::NotSignificant,
            None => Significance::NotAssessed,
        }
    }

    /// The spelling in the CSV, e.g. `not_assessed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Significance::Significant => "significant",
            Significance::NotSignificant => "not_significant",
            Significance::NotAssessed => "not_assessed",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Significance::Significant => "significant",
            Significance::NotSignificant => "not significant",
            Significance::NotAssessed => "not assessed",
        }
    }
}

/// One combination of the five dimensions and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub sector: &'static str,
    pub rsit_taxonomy: &'static str,
    pub rsit_type: &'static str,
    pub severity: Severity,
    pub cross_border: bool,
    pub significance: Significance,
    pub count: u64,
}

/// A count by one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: u64,
}

/// The summary of a quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarterlySummary {
    pub quarter: Quarter,
    #[serde(with = "crate::utc")]
    pub from: Timestamp,
    #[serde(with = "crate::utc")]
    pub until: Timestamp,
    pub total: u64,
    pub cross_border: u64,
    /// Incidents assessed significant.
    pub significant: u64,
    pub by_sector: Vec<Count>,
    pub by_rsit_type: Vec<Count>,
    pub by_severity: Vec<Count>,
    /// Significant, not significant and not assessed.
    pub by_significance: Vec<Count>,
    /// Every non-empty combination, ordered by sector (catalogue order), RSIT type (RSIT order),
    /// severity (highest first), cross-border (yes first) and significance (significant first).
    pub rows: Vec<SummaryRow>,
}

fn sector_slug(sector: Option<&str>) -> &'static str {
    sector.and_then(neretva_model::org::sector).map_or(UNSPECIFIED_SECTOR, |s| s.slug)
}

fn sector_rank(slug: &str) -> usize {
    SECTORS.iter().position(|s| s.slug == slug).unwrap_or(SECTORS.len())
}

fn sector_label(slug: &str) -> &'static str {
    neretva_model::org::sector(slug).map_or("Unspecified", |s| s.label)
}

/// Aggregates the records of `quarter` (the others are ignored).
pub fn summarise(quarter: Quarter, zone: CivilZone, records: &[SummaryRecord]) -> QuarterlySummary {
    let (from, until) = quarter.bounds(zone);
    // Keyed for the output order: sector rank, RSIT order, severity descending, cross-border first.
    type Key = (usize, RsitClass, std::cmp::Reverse<Severity>, bool, Significance);
    let mut rows: BTreeMap<Key, (&'static str, u64)> = BTreeMap::new();
    for record in records.iter().filter(|r| r.at >= from && r.at < until) {
        let sector = sector_slug(record.sector.as_deref());
        let key = (
            sector_rank(sector),
            record.classification,
            std::cmp::Reverse(record.severity),
            !record.cross_border,
            Significance::of(record.significant),
        );
        rows.entry(key).or_insert((sector, 0)).1 += 1;
    }
    let rows: Vec<SummaryRow> = rows
        .into_iter()
        .map(|((_, class, severity, not_cross_border, significance), (sector, count))| SummaryRow {
            sector,
            rsit_taxonomy: class.taxonomy(),
            rsit_type: class.slug(),
            severity: severity.0,
            cross_border: !not_cross_border,
            significance,
            count,
        })
        .collect();

    let mut by_sector: Vec<Count> = Vec::new();
    let mut by_type: Vec<(RsitClass, u64)> = Vec::new();
    let mut by_severity: BTreeMap<std::cmp::Reverse<Severity>, u64> = BTreeMap::new();
    let mut by_significance: BTreeMap<Significance, u64> = BTreeMap::new();
    for row in &rows {
        *by_significance.entry(row.significance).or_default() += row.count;
        match by_sector.iter_mut().find(|c| c.key == row.sector) {
            Some(count) => count.count += row.count,
            None => by_sector.push(Count {
                key: row.sector.into(),
                label: sector_label(row.sector).into(),
                count: row.count,
            }),
        }
        let class: RsitClass = row.rsit_type.parse().unwrap_or_else(|_| RsitClass::undetermined());
        match by_type.iter_mut().find(|(c, _)| *c == class) {
            Some((_, count)) => *count += row.count,
            None => by_type.push((class, row.count)),
        }
        *by_severity.entry(std::cmp::Reverse(row.severity)).or_default() += row.count;
    }
    by_type.sort_by_key(|(class, _)| *class);
    QuarterlySummary {
        quarter,
        from,
        until,
        total: rows.iter().map(|r| r.count).sum(),
        cross_border: rows.iter().filter(|r| r.cross_border).map(|r| r.count).sum(),
        significant: by_significance.get(&Significance::Significant).copied().unwrap_or_default(),
        by_sector,
        by_rsit_type: by_type
            .into_iter()
            .map(|(class, count)| Count { key: class.slug().into(), label: class.label().into(), count })
            .collect(),
        by_severity: by_severity
            .into_iter()
            .map(|(severity, count)| Count {
                key: severity.0.as_str().into(),
                label: severity.0.as_str().into(),
                count,
            })
            .collect(),
        by_significance: by_significance
            .into_iter()
            .map(|(significance, count)| Count {
                key: significance.as_str().into(),
                label: significance.label().into(),
                count,
            })
            .collect(),
        rows,
    }
}

fn rfc3339(at: Timestamp) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl QuarterlySummary {
    /// Pretty-printed JSON, with a final newline.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).map(|json| json + "\n").unwrap_or_default()
    }

    /// One line per row: `quarter,sector,rsit_taxonomy,rsit_type,severity,cross_border,significance,count`.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut write = |cells: &[String]| {
            let cells: Vec<_> = cells.iter().map(|cell| spreadsheet_safe(cell)).collect();
            // Writing to memory cannot fail.
            let _ = writer.write_record(cells.iter().map(|cell| cell.as_bytes()));
        };
        write(
            &[
                "quarter",
                "sector",
                "rsit_taxonomy",
                "rsit_type",
                "severity",
                "cross_border",
                "significance",
                "count",
            ]
            .map(String::from),
        );
        for row in &self.rows {
            write(&[
                self.quarter.to_string(),
                row.sector.to_owned(),
                row.rsit_taxonomy.to_owned(),
                row.rsit_type.to_owned(),
                row.severity.to_string(),
                row.cross_border.to_string(),
                row.significance.as_str().to_owned(),
                row.count.to_string(),
            ]);
        }
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// A self-contained HTML page.
    pub fn to_html(&self) -> String {
        let mut html = String::new();
        let title = html_escape(&format!("Incident summary {}", self.quarter));
        html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.push_str(&format!("<title>{title}</title>\n"));
        html.push_str("<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #999;padding:.25em .5em}td.n{text-align:right}</style>\n");
        html.push_str("</head>\n<body>\n");
        html.push_str(&format!("<h1>{title}</h1>\n"));
        html.push_str(&format!(
            "<p>{} to {} (exclusive). Incidents: {}; with cross-border impact: {}; significant: {}. Anonymised and aggregated.</p>\n",
            html_escape(&rfc3339(self.from)),
            html_escape(&rfc3339(self.until)),
            self.total,
            self.cross_border,
            self.significant
        ));
        let table = |html: &mut String, caption: &str, counts: &[Count]| {
            html.push_str(&format!(
                "<table>\n<caption>{}</caption>\n<tr><th>{}</th><th>Incidents</th></tr>\n",
                html_escape(caption),
                html_escape(caption)
            ));
            for count in counts {
                html.push_str(&format!(
                    "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
                    html_escape(&count.label),
                    count.count
                ));
            }
            html.push_str("</table>\n");
        };
        table(&mut html, "Sector", &self.by_sector);
        table(&mut html, "RSIT type", &self.by_rsit_type);
        table(&mut html, "Severity", &self.by_severity);
        table(&mut html, "Significance", &self.by_significance);
        html.push_str("<table>\n<caption>All combinations</caption>\n<tr><th>Sector</th><th>RSIT classification</th><th>RSIT type</th><th>Severity</th><th>Cross-border</th><th>Significance</th><th>Incidents</th></tr>\n");
        for row in &self.rows {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                html_escape(sector_label(row.sector)),
                html_escape(row.rsit_taxonomy),
                html_escape(row.rsit_type),
                html_escape(row.severity.as_str()),
                if row.cross_border { "yes" } else { "no" },
                html_escape(row.significance.label()),
                row.count
            ));
        }
        html.push_str("</table>\n</body>\n</html>\n");
        html
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn quarters() {
        let zone = CivilZone::default();
        assert_eq!("2025-Q1".parse(), Ok(Quarter { year: 2025, quarter: 1 }));
        assert!("2025-Q5".parse::<Quarter>().is_err() && "2025".parse::<Quarter>().is_err());
        // 31 December 23:30 UTC is already 1 January in Sarajevo.
        assert_eq!(Quarter::of(datetime!(2024-12-31 23:30 UTC), zone).to_string(), "2025-Q1");
        assert_eq!(Quarter::of(datetime!(2024-12-31 23:30 UTC), CivilZone::Utc).to_string(), "2024-Q4");
        let (from, until) = Quarter { year: 2025, quarter: 1 }.bounds(zone);
        assert_eq!((from, until), (datetime!(2024-12-31 23:00 UTC), datetime!(2025-03-31 22:00 UTC)));
        let (_, until) = Quarter { year: 2025, quarter: 4 }.bounds(zone);
        assert_eq!(until, datetime!(2025-12-31 23:00 UTC));
    }

    #[test]
    fn cells_and_text_are_made_safe() {
        assert_eq!(html_escape("<b a='x'>&\""), "&lt;b a=&#39;x&#39;&gt;&amp;&quot;");
    }
}
