//! Python's `str.format` with positional fields, as IntelMQ's generic CSV parser uses it
//! (`compose_fields`). Its `json.dumps` for `raw` is in `parsers::common::pyjson`.

/// One piece of a parsed `str.format` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// A positional field `{n}` (or `{}` numbered automatically).
    Field(usize),
}

/// Parses a `str.format` template with positional fields only: `{0}`, `{1}`, `{}`, and
/// `{{`/`}}` for braces.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    let mut automatic = 0usize;
    let mut numbered = false;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => inner.push(c),
                        None => return Err(format!("unclosed `{{` in {template:?}")),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                if inner.is_empty() {
                    if numbered {
                        return Err(format!("{template:?} mixes automatic `{{}}` and numbered fields"));
                    }
                    pieces.push(Piece::Field(automatic));
                    automatic += 1;
                } else {
                    let index: usize = inner.parse().map_err(|_| {
                        format!(
                            "unsupported field `{{{inner}}}` in {template:?}: only column \
                             numbers such as `{{0}}` are supported"
                        )
                    })?;
                    if automatic > 0 {
                        return Err(format!("{template:?} mixes automatic `{{}}` and numbered fields"));
                    }
                    numbered = true;
                    pieces.push(Piece::Field(index));
                }
            }
            '}' => return Err(format!("single `}}` in {template:?}")),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Fills a parsed template with the columns of a record; None when a field's column does
/// not exist (Python's `IndexError`).
pub(crate) fn fill<'a>(
    pieces: &[Piece],
    column: impl Fn(usize) -> Option<&'a str>,
    out: &mut String,
) -> Option<()> {
    out.clear();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(index) => out.push_str(column(*index)?),
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let pieces = parse_template("http://{0}{1}").unwrap_or_default();
        let columns = ["example.com", "/foo/"];
        let mut out = String::new();
        assert_eq!(fill(&pieces, |i| columns.get(i).copied(), &mut out), Some(()));
        assert_eq!(out, "http://example.com/foo/");
        assert!(parse_template("{0:>5}").is_err());
        assert!(parse_template("{{literal}} {}").is_ok());
        assert_eq!(
            fill(&parse_template("{2}").unwrap_or_default(), |i| columns.get(i).copied(), &mut out),
            None
        );
    }
}
