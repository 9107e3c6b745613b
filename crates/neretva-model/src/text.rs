//! Text for exports: CSV lines (RFC 4180 quoting; for files people open in spreadsheets, cells
//! that a spreadsheet would run as formulas made inert) and HTML escaping.

use std::borrow::Cow;

/// Who reads the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvStyle {
    /// Programs: cells as they are, lines end in `\n`.
    Data,
    /// People with a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return gets a leading apostrophe (OWASP's advice against CSV injection), lines end in
    /// `\r\n` as RFC 4180 writes them.
    Spreadsheet,
}

/// A cell a spreadsheet will not run as a formula.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// One CSV line with its line ending; a cell with a comma, quote or line break is quoted.
pub fn csv_line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>, style: CsvStyle) -> String {
    let mut line = String::new();
    for (index, cell) in cells.into_iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        let cell = match style {
            CsvStyle::Data => Cow::Borrowed(cell.as_ref()),
            CsvStyle::Spreadsheet => spreadsheet_safe(cell.as_ref()),
        };
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&cell);
        }
    }
    line.push_str(match style {
        CsvStyle::Data => "\n",
        CsvStyle::Spreadsheet => "\r\n",
    });
    line
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_quote_and_guard_by_style() {
        let cells = ["192.0.2.1", "=HYPERLINK(\"x\")", "a,b", "-1", "line\nbreak", ""];
        assert_eq!(
            csv_line(cells, CsvStyle::Data),
            "192.0.2.1,\"=HYPERLINK(\"\"x\"\")\",\"a,b\",-1,\"line\nbreak\",\n"
        );
        assert_eq!(
            csv_line(cells, CsvStyle::Spreadsheet),
            "192.0.2.1,\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",'-1,\"line\nbreak\",\r\n"
        );
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("energy"), "energy");
    }

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
