//! Lesson Markdown to HTML that is safe to show: lessons are written by course authors outside
//! the CERT, so they are untrusted.
//!
//! Raw HTML (blocks and inline) is shown as text, never passed through; links keep only `http`,
//! `https` and `mailto` URLs and relative ones; images are only the package's own
//! (`images/<name>`), pointed at `image_base`.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

use crate::package::line_at;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The lesson as HTML; `images/<name>` becomes `<image_base><name>`, any other image its alt
/// text.
pub fn render(markdown: &str, image_base: &str) -> String {
    // Inside an image that is not the package's: its alt text is shown as text.
    let mut dropped_image = false;
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Some(Event::Start(Tag::Link { link_type, dest_url: safe_link(dest_url), title, id }))
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => match dest_url.strip_prefix("images/")
        {
            Some(name) if !name.is_empty() && !name.contains(['/', '?', '#', ':', '\\']) => {
                let dest_url = CowStr::from(format!("{image_base}{name}"));
                Some(Event::Start(Tag::Image { link_type, dest_url, title, id }))
            }
            _ => {
                dropped_image = true;
                None
            }
        },
        Event::End(TagEnd::Image) if dropped_image => {
            dropped_image = false;
            None
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when it is `http`, `https`, `mailto` or relative; `#` otherwise.
fn safe_link(url: CowStr<'_>) -> CowStr<'_> {
    let scheme_end = url.find(':');
    let before_path = url.find(['/', '?', '#']).unwrap_or(url.len());
    let safe = match scheme_end {
        Some(end) if end < before_path => {
            let scheme = url[..end].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => !url.chars().any(char::is_control),
    };
    if safe { url } else { CowStr::from("#") }
}

/// Every image a lesson shows, with the line it is on.
pub fn image_targets(markdown: &str) -> Vec<(u32, String)> {
    Parser::new_ext(markdown, options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                Some((line_at(markdown.as_bytes(), range.start), dest_url.into_string()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn raw_html_and_dangerous_links_are_neutralised() {
        let lesson = "# Phishing\n\n<script>alert(1)</script>\n\nA <b onclick=\"x()\">bold</b> [link](javascript:alert(1)), \
                      [ok](https://example.org/a?b=1) [mail](mailto:cert@example.org) [rel](../x.md) \
                      [data](DATA:text/html,x)\n\n![diagram](images/flow.png \"Flow\") ![remote](https://tracker.example/x.png)\n";
        expect![[r##"
            <h1>Phishing</h1>
            &lt;script&gt;alert(1)&lt;/script&gt;
            <p>A &lt;b onclick="x()"&gt;bold&lt;/b&gt; <a href="#">link</a>, <a href="https://example.org/a?b=1">ok</a> <a href="mailto:cert@example.org">mail</a> <a href="../x.md">rel</a> <a href="#">data</a></p>
            <p><img src="/img/flow.png" alt="diagram" title="Flow" /> remote</p>
        "##]]
        .assert_eq(&render(lesson, "/img/"));
    }

    #[test]
    fn image_targets_have_their_lines() {
        let lesson = "Intro\n\n![a](images/a.png)\n\ntext ![b](b.png)\n";
        assert_eq!(image_targets(lesson), vec![(3, "images/a.png".to_owned()), (5, "b.png".to_owned())]);
    }
}
