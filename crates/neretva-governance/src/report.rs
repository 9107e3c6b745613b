//! The implementation report of a strategic document: totals, progress by objective and by
//! level of authority, and every action with its KPIs, as JSON, CSV and HTML.
//!
//! Organisations are shown by name; the caller supplies the names (`names`), so the report
//! needs no registry. Every text is escaped for HTML, and CSV cells that look like spreadsheet
//! formulas are made inert.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use neretva_model::Uuid;
use neretva_model::contact::Language;
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

fn kpi_text(kpi: &ReportKpi, texts: &Texts) -> String {
    let unit = kpi.unit.as_deref().map(|unit| format!(" {unit}")).unwrap_or_default();
    let target = number(kpi.target);
    match (kpi.latest, &kpi.latest_date) {
        (Some(latest), Some(date)) => {
            format!("{}: {}{unit}{}{date}{}{target}{unit}", kpi.code, number(latest), texts.on, texts.of)
        }
        _ => format!("{}: {}{target}{unit}", kpi.code, texts.no_measurement),
    }
}

/// The words of the HTML report in one language. The JSON and CSV formats are for machines and
/// keep their English keys and values.
struct Texts {
    title: &'static str,
    by_objective: &'static str,
    by_level: &'static str,
    actions: &'static str,
    /// Column heads of the progress tables after the first (empty) one.
    progress_heads: [&'static str; 6],
    /// Column heads of the action table.
    action_heads: [&'static str; 12],
    /// `{actions} actions, {overdue} overdue, progress {progress}` in pieces.
    summary: [&'static str; 3],
    /// planned, in_progress, done, delayed, cancelled.
    statuses: [&'static str; 5],
    overdue: &'static str,
    /// `{value}{on}{date}{of}{target}` for a measured KPI.
    on: &'static str,
    of: &'static str,
    /// Put before the target of a KPI without measurements.
    no_measurement: &'static str,
}

impl Texts {
    fn of(language: Language) -> &'static Texts {
        match language {
            Language::En => &EN,
            Language::Bs => &BS,
            Language::Hr => &HR,
            Language::SrLatn => &SR_LATN,
            Language::SrCyrl => &SR_CYRL,
        }
    }

    fn status(&self, status: &str) -> &'static str {
        let index = match status {
            "planned" => 0,
            "in_progress" => 1,
            "done" => 2,
            "delayed" => 3,
            _ => 4,
        };
        self.statuses[index]
    }
}

const EN: Texts = Texts {
    title: "Implementation report",
    by_objective: "Progress by objective",
    by_level: "Progress by level of authority",
    actions: "Actions",
    progress_heads: ["Actions", "Done", "In progress", "Delayed", "Overdue", "Progress"],
    action_heads: [
        "Objective",
        "Measure",
        "Action",
        "Owner",
        "Level",
        "Start",
        "Due",
        "Status",
        "Progress",
        "KPIs",
        "Evidence",
        "Tags",
    ],
    summary: ["actions", "overdue", "progress"],
    statuses: ["planned", "in progress", "done", "delayed", "cancelled"],
    overdue: "overdue",
    on: " on ",
    of: " of ",
    no_measurement: "no measurement of ",
};

const BS: Texts = Texts {
    title: "Izvještaj o provedbi",
    by_objective: "Napredak po ciljevima",
    by_level: "Napredak po nivoima vlasti",
    actions: "Aktivnosti",
    progress_heads: ["Aktivnosti", "Završeno", "U toku", "Kasni", "Prekoračen rok", "Napredak"],
    action_heads: [
        "Cilj",
        "Mjera",
        "Aktivnost",
        "Nosilac",
        "Nivo",
        "Početak",
        "Rok",
        "Status",
        "Napredak",
        "Pokazatelji",
        "Dokazi",
        "Oznake",
    ],
    summary: ["aktivnosti", "s prekoračenim rokom", "napredak"],
    statuses: ["planirano", "u toku", "završeno", "kasni", "otkazano"],
    overdue: "rok prekoračen",
    on: " na dan ",
    of: ", ciljna vrijednost ",
    no_measurement: "bez mjerenja, ciljna vrijednost ",
};

const HR: Texts = Texts {
    title: "Izvješće o provedbi",
    by_objective: "Napredak po ciljevima",
    by_level: "Napredak po razinama vlasti",
    actions: "Aktivnosti",
    progress_heads: ["Aktivnosti", "Završeno", "U tijeku", "Kasni", "Prekoračen rok", "Napredak"],
    action_heads: [
        "Cilj",
        "Mjera",
        "Aktivnost",
        "Nositelj",
        "Razina",
        "Početak",
        "Rok",
        "Status",
        "Napredak",
        "Pokazatelji",
        "Dokazi",
        "Oznake",
    ],
    summary: ["aktivnosti", "s prekoračenim rokom", "napredak"],
    statuses: ["planirano", "u tijeku", "završeno", "kasni", "otkazano"],
    overdue: "rok prekoračen",
    on: " na dan ",
    of: ", ciljna vrijednost ",
    no_measurement: "bez mjerenja, ciljna vrijednost ",
};

const SR_LATN: Texts = Texts {
    title: "Izveštaj o sprovođenju",
    by_objective: "Napredak po ciljevima",
    by_level: "Napredak po nivoima vlasti",
    actions: "Aktivnosti",
    progress_heads: ["Aktivnosti", "Završeno", "U toku", "Kasni", "Prekoračen rok", "Napredak"],
    action_heads: [
        "Cilj",
        "Mera",
        "Aktivnost",
        "Nosilac",
        "Nivo",
        "Početak",
        "Rok",
        "Status",
        "Napredak",
        "Pokazatelji",
        "Dokazi",
        "Oznake",
    ],
    summary: ["aktivnosti", "sa prekoračenim rokom", "napredak"],
    statuses: ["planirano", "u toku", "završeno", "kasni", "otkazano"],
    overdue: "rok prekoračen",
    on: " na dan ",
    of: ", ciljna vrednost ",
    no_measurement: "bez merenja, ciljna vrednost ",
};

const SR_CYRL: Texts = Texts {
    title: "Извештај о спровођењу",
    by_objective: "Напредак по циљевима",
    by_level: "Напредак по нивоима власти",
    actions: "Активности",
    progress_heads: ["Активности", "Завршено", "У току", "Касни", "Прекорачен рок", "Напредак"],
    action_heads: [
        "Циљ",
        "Мера",
        "Активност",
        "Носилац",
        "Ниво",
        "Почетак",
        "Рок",
        "Статус",
        "Напредак",
        "Показатељи",
        "Докази",
        "Ознаке",
    ],
    summary: ["активности", "са прекораченим роком", "напредак"],
    statuses: ["планирано", "у току", "завршено", "касни", "отказано"],
    overdue: "рок прекорачен",
    on: " на дан ",
    of: ", циљна вредност ",
    no_measurement: "без мерења, циљна вредност ",
};

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
        let kpis: Vec<String> = action.kpis.iter().map(|kpi| kpi_text(kpi, &EN)).collect();
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

fn progress_rows(out: &mut String, heading: &str, heads: &[&str], rows: &[Progress]) {
    let _ = write!(out, "<h2>{}</h2>\n<table>\n<tr><th></th>", html_escape(heading));
    for head in heads {
        let _ = write!(out, "<th>{}</th>", html_escape(head));
    }
    out.push_str("</tr>\n");
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

/// The report as a self-contained HTML page in `language`.
pub fn to_html(report: &ImplementationReport, language: Language) -> String {
    let texts = Texts::of(language);
    let mut out = String::new();
    let title = format!("{}: {}", texts.title, report.title);
    let progress = report.total.progress.map(|p| format!("{p}%")).unwrap_or_else(|| "–".into());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}.overdue{{background:#fdd}}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n<p>{} · {} · {}: {}, {}: {}, {}: {}</p>\n",
        language.tag(),
        html_escape(&title),
        html_escape(&title),
        html_escape(&report.document),
        html_escape(&report.date),
        texts.summary[0],
        report.total.actions,
        texts.summary[1],
        report.total.overdue,
        texts.summary[2],
        progress,
    );
    progress_rows(&mut out, texts.by_objective, &texts.progress_heads, &report.by_objective);
    progress_rows(&mut out, texts.by_level, &texts.progress_heads, &report.by_level);
    let _ = write!(out, "<h2>{}</h2>\n<table>\n<tr>", texts.actions);
    for head in texts.action_heads {
        let _ = write!(out, "<th>{}</th>", html_escape(head));
    }
    out.push_str("</tr>\n");
    for action in &report.actions {
        let class = if action.overdue { " class=\"overdue\"" } else { "" };
        let kpis: Vec<String> = action.kpis.iter().map(|kpi| html_escape(&kpi_text(kpi, texts))).collect();
        let evidence: Vec<String> = action
            .evidence
            .iter()
            .map(|url| format!("<a href=\"{}\">{}</a>", html_escape(url), html_escape(url)))
            .collect();
        let tags: Vec<String> = action.tags.iter().map(|tag| html_escape(tag)).collect();
        let status = texts.status(action.status);
        let status = if action.overdue { format!("{status} ({})", texts.overdue) } else { status.to_owned() };
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
