//! URLs cut as Python's `urllib.parse.urlsplit` cuts them, as the IntelMQ bots read them.

/// A URL's scheme (lower case), network location and path, each empty when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub(crate) scheme: String,
    pub(crate) netloc: &'a str,
    pub(crate) path: &'a str,
}

/// Python's `urlsplit(url)`: a scheme is letters, digits, `+`, `-` and `.` after a letter,
/// before the first `:`; the network location follows `//`; the path runs to `?` or `#`.
pub(crate) fn split(url: &str) -> Parts<'_> {
    let (scheme, rest) = match url.split_once(':') {
        Some((scheme, rest))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (scheme.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), url),
    };
    let (netloc, rest) = match rest.strip_prefix("//") {
        Some(after) => after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len())),
        None => ("", rest),
    };
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    Parts { scheme, netloc, path }
}

#[cfg(test)]
mod tests {
    use super::{Parts, split};

    fn parts<'a>(scheme: &str, netloc: &'a str, path: &'a str) -> Parts<'a> {
        Parts { scheme: scheme.to_owned(), netloc, path }
    }

    #[test]
    fn urls_are_split_as_python_splits_them() {
        assert_eq!(split("http://defaced.example.com"), parts("http", "defaced.example.com", ""));
        assert_eq!(split("HTTPS://a.example/x?y#z"), parts("https", "a.example", "/x"));
        assert_eq!(split("https://u@a.example:8443/"), parts("https", "u@a.example:8443", "/"));
        assert_eq!(split("http://evil.example.com?q=1"), parts("http", "evil.example.com", ""));
        assert_eq!(split("a.example/index.html"), parts("", "", "a.example/index.html"));
        assert_eq!(split("1http://x/"), parts("", "", "1http://x/"));
        assert_eq!(split(""), parts("", "", ""));
    }
}
