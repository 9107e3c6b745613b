//! The implementation report of a strategic document: totals, progress by objective and by
//! level of authority, and every action with its KPIs, as JSON, CSV and HTML.
//!
//! Organisations are shown by name; the caller supplies the names (`names`), so the report
//! needs no registry. Every text is escaped for HTML, and CSV cells that look like spreadsheet
//! formulas are made inert.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use neretva_model::Uuid;
use neretva_model::org::AuthorityLevels;
use neretva_model::text::{CsvStyle, csv_line, html_escape};
use serde::Serialize;
use time::Date;

use crate::crosswalk;
use crate::strategy::{
    Progress, StrategyDocument, action_views, kpi_attainment, progress_by_level, progress_by_objective,
    progress_total,
};

/// The report, as the JSON format writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImplementationReport {
    pub document: String,
    pub title: String,
    /// The day the report describes (overdue means due before it).
    pub date: String,
    pub total: Progress,
    pub by_objective: Vec<Progress>,
    pub by_level: Vec<Progress>,
    pub actions: Vec<ReportAction>,
}

/// One action in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportAction {
    pub objective: String,
    pub measure: String,
    pub id: Uuid,
    pub title: String,
    pub owner: String,
    pub authority_level: String,
    pub start: String,
    pub due: String,
    pub status: &'static str,
    pub progress: u8,
    pub overdue: bool,
    pub kpis: Vec<ReportKpi>,
    pub evidence: Vec<String>,
    /// The tags with what they stand for.
    pub tags: Vec<String>,
}

/// A KPI in the report: its target and latest measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportKpi {
    pub code: String,
    pub name: String,
    pub unit: Option<String>,
    pub target: f64,
    pub latest: Option<f64>,
    pub latest_date: Option<String>,
    /// 0–100, rounded to one decimal.
    pub attainment: Option<f64>,
}

/// Builds the report for `today`; `names` maps organisation ids to the names shown.
pub fn build(
    document: &StrategyDocument,
    levels: &AuthorityLevels,
    names: &BTreeMap<Uuid, String>,
    today: Date,
) -> ImplementationReport {
    let total = progress_total(document, today);
    let actions = action_views(document, today)
        .into_iter()
        .map(|view| {
            let action = view.action;
            ReportAction {
                objective: view.objective.to_owned(),
                measure: view.measure.to_owned(),
                id: action.id,
                title: action.title.clone(),
                owner: names.get(&action.owner_org).cloned().unwrap_or_else(|| action.owner_org.to_string()),
                authority_level: action.authority_level.clone(),
                start: action.start.to_string(),
                due: action.due.to_string(),
                status: action.status.as_str(),
                progress: action.progress,
                overdue: view.overdue,
                kpis: action
                    .kpis
                    .iter()
                    .map(|kpi| {
                        let latest = kpi.measurements.last();
                        ReportKpi {
                            code: kpi.code.clone(),
                            name: kpi.name.clone(),
                            unit: kpi.unit.clone(),
                            target: kpi.target,
                            latest: latest.map(|m| m.value),
                            latest_date: latest.map(|m| m.date.to_string()),
                            attainment: kpi_attainment(kpi).map(|share| (share * 10.0).round() / 10.0),
                        }
                    })
                    .collect(),
                evidence: action.evidence.iter().map(|link| link.url.clone()).collect(),
                tags: action
                    .tags
                    .iter()
                    .map(|tag| crosswalk::label(tag).unwrap_or_else(|| tag.clone()))
                    .collect(),
            }
        })
        .collect();
    ImplementationReport {
        document: document.code.clone(),
        title: document.title.clone(),
        date: today.to_string(),
        total,
        by_objective: progress_by_objective(document, today),
        by_level: progress_by_level(document, levels, today),
        actions,
    }
}

/// The report as pretty JSON.
pub fn to_json(report: &ImplementationReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { value.to_string() }
}

fn kpi_text(kpi: &ReportKpi) -> String {
    let unit = kpi.unit.as_deref().map(|unit| format!(" {unit}")).unwrap_or_default();
    match (kpi.latest, &kpi.latest_date) {
        (Some(latest), Some(date)) => {
            format!("{}: {}{unit} on {date} of {}{unit}", kpi.code, number(latest), number(kpi.target))
        }
        _ => format!("{}: no measurement of {}{unit}", kpi.code, number(kpi.target)),
    }
}

/// The report's actions as CSV for spreadsheets, one line per action.
pub fn to_csv(report: &ImplementationReport) -> String {
    let mut out = csv_line(
        [
            "objective",
            "measure",
            "action_id",
            "action",
            "owner",
            "authority_level",
            "start",
            "due",
            "status",
            "progress",
            "overdue",
            "kpis",
            "evidence",
            "tags",
        ],
        CsvStyle::Spreadsheet,
    );
    for action in &report.actions {
        let kpis: Vec<String> = action.kpis.iter().map(kpi_text).collect();
        out.push_str(&csv_line(
            [
                action.objective.clone(),
                action.measure.clone(),
                action.id.to_string(),
                action.title.clone(),
                action.owner.clone(),
                action.authority_level.clone(),
                action.start.clone(),
                action.due.clone(),
                action.status.to_owned(),
                action.progress.to_string(),
                if action.overdue { "yes" } else { "no" }.to_owned(),
                kpis.join("; "),
                action.evidence.join(" "),
                action.tags.join("; "),
            ],
            CsvStyle::Spreadsheet,
        ));
    }
    out
}

fn progress_rows(out: &mut String, heading: &str, rows: &[Progress]) {
    let _ = write!(
        out,
        "<h2>{}</h2>\n<table>\n<tr><th></th><th>Actions</th><th>Done</th><th>In progress</th><th>Delayed</th><th>Overdue</th><th>Progress</th></tr>\n",
        html_escape(heading)
    );
    for row in rows {
        let count = |status: &str| row.by_status.get(status).copied().unwrap_or(0);
        let progress = row.progress.map(|p| format!("{p}%")).unwrap_or_else(|| "–".into());
        let label = if row.key == row.title { row.key.clone() } else { format!("{} {}", row.key, row.title) };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&label),
            row.actions,
            count("done"),
            count("in_progress"),
            count("delayed"),
            row.overdue,
            progress
        );
    }
    out.push_str("</table>\n");
}

/// The report as a self-contained HTML page.
pub fn to_html(report: &ImplementationReport) -> String {
    let mut out = String::new();
    let title = format!("Implementation report: {}", report.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}.overdue{{background:#fdd}}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n<p>{} · {} · {} actions, {} overdue, progress {}</p>\n",
        html_escape(&title),
        html_escape(&title),
        html_escape(&report.document),
        html_escape(&report.date),
        report.total.actions,
        report.total.overdue,
        report.total.progress.map(|p| format!("{p}%")).unwrap_or_else(|| "–".into()),
    );
    progress_rows(&mut out, "Progress by objective", &report.by_objective);
    progress_rows(&mut out, "Progress by level of authority", &report.by_level);
    out.push_str(
        "<h2>Actions</h2>\n<table>\n<tr><th>Objective</th><th>Measure</th><th>Action</th><th>Owner</th><th>Level</th>\
         <th>Start</th><th>Due</th><th>Status</th><th>Progress</th><th>KPIs</th><th>Evidence</th><th>Tags</th></tr>\n",
    );
    for action in &report.actions {
        let class = if action.overdue { " class=\"overdue\"" } else { "" };
        let kpis: Vec<String> = action.kpis.iter().map(|kpi| html_escape(&kpi_text(kpi))).collect();
        let evidence: Vec<String> = action
            .evidence
            .iter()
            .map(|url| format!("<a href=\"{}\">{}</a>", html_escape(url), html_escape(url)))
            .collect();
        let tags: Vec<String> = action.tags.iter().map(|tag| html_escape(tag)).collect();
        let status =
            if action.overdue { format!("{} (overdue)", action.status) } else { action.status.to_owned() };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&action.objective),
            html_escape(&action.measure),
            html_escape(&action.title),
            html_escape(&action.owner),
            html_escape(&action.authority_level),
            html_escape(&action.start),
            html_escape(&action.due),
            html_escape(&status),
            action.progress,
            kpis.join("<br>"),
            evidence.join("<br>"),
            tags.join("<br>"),
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}
