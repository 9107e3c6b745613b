//! Sinks besides the event store: files of IntelMQ JSON lines or CSV.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use neretva_event::Event;

use crate::config::SinkConfig;

/// A file sink; writes are serialised by a mutex.
#[derive(Debug)]
pub struct FileSink {
    kind: FileKind,
    writer: Mutex<BufWriter<File>>,
}

#[derive(Debug)]
enum FileKind {
    Jsonl,
    Csv(Vec<String>),
}

impl FileSink {
    /// Opens (appends to) the sink's file; a new CSV file gets a header.
    pub fn open(config: &SinkConfig) -> std::io::Result<FileSink> {
        let (path, kind): (&Path, FileKind) = match config {
            SinkConfig::Jsonl { path } => (path, FileKind::Jsonl),
            SinkConfig::Csv { path, fields } => (path, FileKind::Csv(fields.clone())),
        };
        let fresh = !path.exists() || std::fs::metadata(path)?.len() == 0;
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let mut writer = BufWriter::new(file);
        if let (true, FileKind::Csv(fields)) = (fresh, &kind) {
            writer.write_all(csv_line(fields.iter().map(String::as_str)).as_bytes())?;
        }
        Ok(FileSink { kind, writer: Mutex::new(writer) })
    }

    /// Writes a batch of events.
    pub fn write(&self, events: &[&Event]) -> std::io::Result<()> {
        let Ok(mut writer) = self.writer.lock() else {
            return Err(std::io::Error::other("sink writer poisoned"));
        };
        for event in events {
            let line = match &self.kind {
                FileKind::Jsonl => {
                    let mut line = neretva_event::intelmq_json::to_line(event);
                    line.push('\n');
                    line
                }
                FileKind::Csv(fields) => {
                    let values: Vec<String> =
                        fields.iter().map(|f| event.get(f).map(ToString::to_string).unwrap_or_default()).collect();
                    csv_line(values.iter().map(String::as_str))
                }
            };
            writer.write_all(line.as_bytes())?;
        }
        writer.flush()
    }
}

/// One CSV line with RFC 4180 quoting, ending in CRLF-free `\n`.
pub fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (index, cell) in cells.enumerate() {
        if index > 0 {
            line.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push('\n');
    line
}
