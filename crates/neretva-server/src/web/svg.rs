//! Charts rendered on the server as SVG text: no scripts, no external references, every text
//! escaped, colours by CSS class (`s0` … `s9`, matching the legend's `swatch-N`).

use std::fmt::Write as _;

use neretva_governance::svg::xml_text;

/// The most series a chart colours apart; callers fold the rest into one "other" series.
pub(crate) const MAX_SERIES: usize = 10;

/// One stacked series: a name and a value per bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<u64>,
}

/// A step for the value axis giving at most about five grid lines: 1, 2 or 5 times a power of
/// ten.
fn nice_step(max: u64) -> u64 {
    let rough = max.div_ceil(5).max(1);
    let mut power = 1u64;
    while power.saturating_mul(10) <= rough {
        power = power.saturating_mul(10);
    }
    [1, 2, 5, 10].into_iter().map(|m| m * power).find(|step| *step >= rough).unwrap_or(power * 10)
}

/// A stacked bar chart with one bar per label. `title` and `description` become the SVG's
/// accessible name and description (`<title>`, `<desc>`); each segment carries its own
/// `<title>` (series, label, value) for pointer users. `id` makes the element ids unique.
pub(crate) fn stacked_bars(
    id: &str,
    title: &str,
    description: &str,
    labels: &[String],
    series: &[Series],
) -> String {
    let (width, height) = (760.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (48.0, 8.0, 10.0, 34.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let totals: Vec<u64> = (0..labels.len())
        .map(|i| series.iter().map(|s| s.values.get(i).copied().unwrap_or(0)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    let step = nice_step(max);
    let top_value = (max.div_ceil(step).max(1)) * step;
    let scale = |value: u64| plot_h * value as f64 / top_value as f64;
    let id = xml_text(id);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        xml_text(title),
        xml_text(description)
    );
    let mut value = 0;
    while value <= top_value {
        let y = top + plot_h - scale(value);
        let _ = write!(
            out,
            "<line class=\"grid-line\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
        value += step;
    }
    let slot = if labels.is_empty() { plot_w } else { plot_w / labels.len() as f64 };
    let bar_w = (slot * 0.75).max(1.0);
    let label_every = (labels.len() / 10).max(1);
    for (i, label) in labels.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut base = top + plot_h;
        for (index, s) in series.iter().enumerate() {
            let value = s.values.get(i).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            let h = scale(value);
            base -= h;
            let _ = write!(
                out,
                "<rect class=\"s{}\" x=\"{x:.1}\" y=\"{base:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\">\
                 <title>{}, {}: {value}</title></rect>",
                index.min(MAX_SERIES - 1),
                xml_text(&s.name),
                xml_text(label)
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_w / 2.0,
                top + plot_h + 16.0,
                xml_text(label)
            );
        }
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/></svg>",
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(42), 10);
        assert_eq!(nice_step(1234), 500);
    }

    #[test]
    fn bars_stack_and_texts_are_escaped() {
        let labels = vec!["11-27".to_owned(), "11-28".to_owned()];
        let series = vec![
            Series { name: "scanner".into(), values: vec![2, 0] },
            Series { name: "<script>alert(1)</script>".into(), values: vec![3, 1] },
        ];
        let svg = stacked_bars("c", "Events & more", "A \"chart\"", &labels, &series);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c-title\">Events &amp; more</title>"), "{svg}");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;, 11-27: 3"));
        // Three segments: the zero value draws nothing.
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("class=\"s1\""));
    }
}
