//! Charts of maturity self-assessments as SVG text: a radar of one or more assessments over a
//! framework's parameters, and a trend of mean levels over an organisation's history.
//!
//! Output is deterministic (coordinates to one decimal), self-contained (no scripts, no external
//! references) and escapes every text it writes, so a title or label cannot inject markup.

use std::f64::consts::PI;
use std::fmt::Write as _;

use neretva_model::contact::Language;

use crate::maturity::{Assessment, Framework, MAX_LEVEL};

/// The series colours, in order; a chart shows at most this many series.
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];
pub const MAX_SERIES: usize = COLOURS.len();
/// The most points on the trend's time axis.
pub const MAX_POINTS: usize = 200;

/// Text for an SVG (XML 1.0) text node or attribute: markup escaped, control characters that
/// XML forbids dropped.
pub fn xml_text(text: &str) -> String {
    let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect();
    neretva_model::text::html_escape(&kept)
}

/// One series of a radar: a name and a level (or none) per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct RadarSeries {
    pub name: String,
    pub levels: Vec<Option<u8>>,
}

fn point(cx: f64, cy: f64, radius: f64, index: usize, count: usize) -> (f64, f64) {
    let angle = -PI / 2.0 + 2.0 * PI * index as f64 / count as f64;
    (cx + radius * angle.cos(), cy + radius * angle.sin())
}

/// Formats a coordinate to one decimal, without a negative zero.
fn c(value: f64) -> String {
    let text = format!("{value:.1}");
    if text == "-0.0" { "0.0".into() } else { text }
}

fn header(out: &mut String, width: u32, height: u32, title: &str) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(out, "<title>{}</title>", xml_text(title));
    let _ = writeln!(out, "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        width / 2,
        xml_text(title)
    );
}

fn legend(out: &mut String, x: f64, y: f64, names: &[&str]) {
    for (index, name) in names.iter().enumerate() {
        let top = y + 16.0 * index as f64;
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            c(x),
            c(top),
            COLOURS[index],
            c(x + 14.0),
            c(top + 9.0),
            xml_text(name)
        );
    }
}

/// A radar chart: one axis per label (clockwise from the top), rings for levels 1–4, one
/// polygon per series (an unscored axis drawn at 0). At most [`MAX_SERIES`] series are drawn.
pub fn radar(title: &str, axes: &[&str], series: &[RadarSeries]) -> String {
    let (width, height) = (640u32, 600u32);
    let (cx, cy, radius) = (320.0, 310.0, 230.0);
    let count = axes.len().max(3);
    let mut out = String::new();
    header(&mut out, width, height, title);
    for ring in 1..=MAX_LEVEL {
        let r = radius * f64::from(ring) / f64::from(MAX_LEVEL);
        let points: Vec<String> = (0..count)
            .map(|index| {
                let (x, y) = point(cx, cy, r, index, count);
                format!("{},{}", c(x), c(y))
            })
            .collect();
        let _ = writeln!(out, "<polygon points=\"{}\" fill=\"none\" stroke=\"#cccccc\"/>", points.join(" "));
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#888888\" font-size=\"9\">{ring}</text>",
            c(cx + 3.0),
            c(cy - r + 10.0)
        );
    }
    for (index, label) in axes.iter().enumerate() {
        let (x, y) = point(cx, cy, radius, index, count);
        let (lx, ly) = point(cx, cy, radius + 16.0, index, count);
        let anchor = if (lx - cx).abs() < 1.0 {
            "middle"
        } else if lx > cx {
            "start"
        } else {
            "end"
        };
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#dddddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            c(cx),
            c(cy),
            c(x),
            c(y),
            c(lx),
            c(ly + 4.0),
            xml_text(label)
        );
    }
    for (number, one) in series.iter().take(MAX_SERIES).enumerate() {
        let colour = COLOURS[number];
        let points: Vec<String> = (0..count)
            .map(|index| {
                let level = one.levels.get(index).copied().flatten().unwrap_or(0).min(MAX_LEVEL);
                let (x, y) = point(cx, cy, radius * f64::from(level) / f64::from(MAX_LEVEL), index, count);
                format!("{},{}", c(x), c(y))
            })
            .collect();
        let _ = writeln!(
            out,
            "<polygon points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.15\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}</title></polygon>",
            points.join(" "),
            xml_text(&one.name)
        );
    }
    let names: Vec<&str> = series.iter().take(MAX_SERIES).map(|one| one.name.as_str()).collect();
    legend(&mut out, 12.0, 40.0, &names);
    out.push_str("</svg>\n");
    out
}

/// One line of a trend: a name and a value (or none) per point of the time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendSeries {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A trend chart: the x axis one labelled point per entry of `labels` (e.g. days), the y axis
/// the 0–4 scale, one line per series (a point without a value breaks the line). At most
/// [`MAX_SERIES`] series and [`MAX_POINTS`] points are drawn.
pub fn trend(title: &str, labels: &[String], series: &[TrendSeries]) -> String {
    let (width, height) = (720u32, 420u32);
    let (left, right, top, bottom) = (50.0, 560.0, 50.0, 360.0);
    let labels = &labels[..labels.len().min(MAX_POINTS)];
    let count = labels.len();
    let x_of = |index: usize| {
        if count <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * index as f64 / (count - 1) as f64
        }
    };
    let y_of =
        |value: f64| bottom - (bottom - top) * value.clamp(0.0, f64::from(MAX_LEVEL)) / f64::from(MAX_LEVEL);
    let mut out = String::new();
    header(&mut out, width, height, title);
    for level in 0..=MAX_LEVEL {
        let y = y_of(f64::from(level));
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#dddddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{level}</text>",
            c(left),
            c(y),
            c(right),
            c(y),
            c(left - 6.0),
            c(y + 4.0)
        );
    }
    for (index, label) in labels.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            c(x_of(index)),
            c(bottom + 18.0),
            xml_text(label)
        );
    }
    for (number, one) in series.iter().take(MAX_SERIES).enumerate() {
        let colour = COLOURS[number];
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (index, value) in one.values.iter().take(count).enumerate() {
            match value {
                Some(value) if value.is_finite() => {
                    if let Some(segment) = segments.last_mut() {
                        segment.push((x_of(index), y_of(*value)));
                    }
                }
                _ => segments.push(Vec::new()),
            }
        }
        for segment in segments.iter().filter(|segment| !segment.is_empty()) {
            let points: Vec<String> = segment.iter().map(|(x, y)| format!("{},{}", c(*x), c(*y))).collect();
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                points.join(" ")
            );
            for (x, y) in segment {
                let _ =
                    writeln!(out, "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{colour}\"/>", c(*x), c(*y));
            }
        }
    }
    let names: Vec<&str> = series.iter().take(MAX_SERIES).map(|one| one.name.as_str()).collect();
    legend(&mut out, right + 20.0, top, &names);
    out.push_str("</svg>\n");
    out
}

/// The radar of assessments of one framework: one axis per catalogue parameter, one polygon per
/// assessment (named by its title and day).
pub fn assessment_radar(title: &str, framework: Framework, assessments: &[&Assessment]) -> String {
    let catalogue = framework.catalogue();
    let axes: Vec<&str> = catalogue.iter().map(|parameter| parameter.id).collect();
    let series: Vec<RadarSeries> = assessments
        .iter()
        .map(|assessment| RadarSeries {
            name: format!("{} ({})", assessment.title, assessment.assessed_on),
            levels: catalogue.iter().map(|parameter| assessment.level(parameter.id)).collect(),
        })
        .collect();
    radar(title, &axes, &series)
}

/// The words a trend chart shows, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendWords {
    pub trend: &'static str,
    pub mean: &'static str,
    /// The SIM3 categories O, H, T and P.
    pub categories: [&'static str; 4],
}

/// The trend chart's words in English, Bosnian, Croatian and Serbian (Latin and Cyrillic).
pub fn trend_words(language: Language) -> TrendWords {
    match language {
        Language::En => TrendWords {
            trend: "trend",
            mean: "mean",
            categories: ["organisation", "human", "tools", "processes"],
        },
        Language::Bs | Language::Hr => TrendWords {
            trend: "trend",
            mean: "prosjek",
            categories: ["organizacija", "ljudi", "alati", "procesi"],
        },
        Language::SrLatn => TrendWords {
            trend: "trend",
            mean: "prosek",
            categories: ["organizacija", "ljudi", "alati", "procesi"],
        },
        Language::SrCyrl => TrendWords {
            trend: "тренд",
            mean: "просек",
            categories: ["организација", "људи", "алати", "процеси"],
        },
    }
}

/// The trend of an organisation's history (oldest first): the mean level of each assessment,
/// and for SIM3 the mean of each category (O, H, T, P); the legend in `language`.
pub fn assessment_trend(
    title: &str,
    framework: Framework,
    history: &[&Assessment],
    language: Language,
) -> String {
    let words = trend_words(language);
    let labels: Vec<String> = history.iter().map(|assessment| assessment.assessed_on.to_string()).collect();
    let mut series = vec![TrendSeries {
        name: words.mean.into(),
        values: history.iter().map(|assessment| assessment.mean()).collect(),
    }];
    if framework == Framework::Sim3 {
        for (category, name) in ["O", "H", "T", "P"].into_iter().zip(words.categories) {
            series.push(TrendSeries {
                name: name.into(),
                values: history.iter().map(|assessment| category_mean(assessment, category)).collect(),
            });
        }
    }
    trend(title, &labels, &series)
}

/// The mean level of the scored parameters of one category.
pub fn category_mean(assessment: &Assessment, category: &str) -> Option<f64> {
    let levels: Vec<u8> = assessment
        .framework
        .catalogue()
        .iter()
        .filter(|parameter| parameter.category == category)
        .filter_map(|parameter| assessment.level(parameter.id))
        .collect();
    (!levels.is_empty()).then(|| {
        let sum: u32 = levels.iter().map(|level| u32::from(*level)).sum();
        (f64::from(sum) / levels.len() as f64 * 100.0).round() / 100.0
    })
}
