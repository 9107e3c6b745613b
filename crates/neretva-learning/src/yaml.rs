//! A small YAML tree that remembers the line of every node, built from `yaml-rust2`'s events,
//! so that every problem of a package file can be reported with its line.
//!
//! Aliases are refused (no expansion, so no "billion laughs"), nesting is bounded, and only one
//! document is read.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The deepest nesting accepted.
const MAX_DEPTH: usize = 32;
/// The most nodes accepted in one file.
const MAX_NODES: usize = 100_000;

/// A YAML node with the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A scalar; `plain` when written without quotes (only then `true`, `12` or `null` mean
    /// anything but text).
    Scalar {
        text: String,
        plain: bool,
        line: u32,
    },
    Seq {
        items: Vec<Node>,
        line: u32,
    },
    /// Entries with the line of their key.
    Map {
        entries: Vec<(String, u32, Node)>,
        line: u32,
    },
}

impl Node {
    pub(crate) fn line(&self) -> u32 {
        match self {
            Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } => *line,
        }
    }

    /// Whether the node is YAML's null (`~`, `null` or nothing).
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, plain: true, .. } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

enum Partial {
    Seq { items: Vec<Node>, line: u32 },
    Map { entries: Vec<(String, u32, Node)>, key: Option<(String, u32)>, line: u32 },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Partial>,
    root: Option<Node>,
    documents: u32,
    nodes: usize,
    error: Option<(u32, String)>,
}

fn line_of(mark: &Marker) -> u32 {
    u32::try_from(mark.line()).unwrap_or(u32::MAX)
}

impl Builder {
    fn fail(&mut self, line: u32, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some((line, message.into()));
        }
    }

    fn add(&mut self, node: Node) {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            let line = node.line();
            self.fail(line, format!("more than {MAX_NODES} values"));
            return;
        }
        let error = match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                None
            }
            Some(Partial::Seq { items, .. }) => {
                items.push(node);
                None
            }
            Some(Partial::Map { entries, key, .. }) => match key.take() {
                Some((name, key_line)) => {
                    if entries.iter().any(|(existing, _, _)| *existing == name) {
                        Some((key_line, format!("key {name:?} appears twice")))
                    } else {
                        entries.push((name, key_line, node));
                        None
                    }
                }
                None => match node {
                    Node::Scalar { text, line, .. } => {
                        *key = Some((text, line));
                        None
                    }
                    other => Some((other.line(), "a key must be plain text".to_owned())),
                },
            },
        };
        if let Some((line, message)) = error {
            self.fail(line, message);
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = line_of(&mark);
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(line, "only one YAML document is allowed");
                }
            }
            Event::Alias(_) => self.fail(line, "aliases (*name) are not supported"),
            Event::Scalar(text, style, _, _) => {
                self.add(Node::Scalar { text, plain: style == TScalarStyle::Plain, line })
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(line, format!("nested more than {MAX_DEPTH} levels deep"));
                } else if matches!(event, Event::SequenceStart(..)) {
                    self.stack.push(Partial::Seq { items: Vec::new(), line });
                } else {
                    self.stack.push(Partial::Map { entries: Vec::new(), key: None, line });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Partial::Seq { items, line }) => self.add(Node::Seq { items, line }),
                Some(Partial::Map { entries, line, .. }) => self.add(Node::Map { entries, line }),
                None => self.fail(line, "unbalanced YAML"),
            },
            _ => {}
        }
    }
}

/// Parses one YAML document; the error is the line and what is wrong.
pub(crate) fn parse(text: &str) -> Result<Node, (u32, String)> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
        return Err((line_of(error.marker()), error.info().to_owned()));
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    builder.root.ok_or((1, "the file is empty".to_owned()))
}

/// Writes `text` as a YAML scalar: a double-quoted string with JSON's escapes, which YAML 1.2
/// reads back unchanged.
pub(crate) fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_errors_name_theirs() {
        let node = parse("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        let Node::Map { entries, line } = node else { panic!("a map") };
        assert_eq!(line, 1);
        assert_eq!((entries[1].1, entries[1].2.line()), (2, 3));
        let Node::Seq { items, .. } = &entries[1].2 else { panic!("a list") };
        assert_eq!(items[1], Node::Scalar { text: "y".into(), plain: false, line: 4 });
        assert_eq!(parse("a: 1\nb: [\n").unwrap_err().0, 3);
        assert_eq!(parse("a: &x 1\nb: *x\n").unwrap_err(), (2, "aliases (*name) are not supported".into()));
        assert_eq!(parse("a: 1\na: 2\n").unwrap_err(), (2, "key \"a\" appears twice".into()));
        assert_eq!(parse("a\n---\nb\n").unwrap_err().1, "only one YAML document is allowed");
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(parse(&deep).unwrap_err().1.contains("nested"));
    }

    #[test]
    fn quoted_text_reads_back() {
        for text in ["plain", "a: b", "- x", "line\nbreak \"quoted\" \\ tab\t", "ćevapi ђ", "null", "12"] {
            let node = parse(&format!("k: {}\n", quote(text))).unwrap();
            let Node::Map { entries, .. } = node else { panic!("a map") };
            assert_eq!(entries[0].2, Node::Scalar { text: text.into(), plain: false, line: 1 });
        }
    }
}
