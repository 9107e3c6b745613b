//! Parses one report file with one parser, chunk by chunk as the pipeline does, and prints a JSON
//! line of throughput figures; used by
//! `bench/feeds.sh` to time Neretva's parsers on exactly the files IntelMQ is timed on.
//!
//! `cargo run --release -p neretva-feeds --example parse_file -- PARSER FILE [RUNS] [JSONL]`
//!
//! With `JSONL`, it also writes what the parser makes of the whole report (`FeedParser::parse`,
//! events with IntelMQ's `raw`) to that file: one IntelMQ JSON line per event, then one line per
//! error, so two builds of the parsers can be compared byte for byte.

// The JSON line on standard output is the example's result.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use neretva_feeds::Report;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(parser_name), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: parse_file PARSER FILE [RUNS] [JSONL]");
        std::process::exit(2);
    };
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let Some(parser) = neretva_feeds::parser(parser_name) else {
        eprintln!("unknown parser {parser_name:?}");
        std::process::exit(2);
    };
    let data = std::fs::read(path).unwrap_or_else(|error| {
        eprintln!("cannot read {path}: {error}");
        std::process::exit(2);
    });
    let file_name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut counts = (0u64, 0usize, 0usize);
    for _ in 0..runs {
        let mut report = Report::new(parser_name, Some(time::OffsetDateTime::now_utc()), data.clone());
        report.extra.push(("file_name".to_owned(), serde_json::Value::String(file_name.clone())));
        // As the pipeline does: chunks of `CHUNK_RECORDS` records, each dropped before the next.
        let started = Instant::now();
        let cpu_started = thread_cpu_seconds();
        counts = (0, 0, 0);
        for chunk in parser.parse_chunks(&report, neretva_feeds::CHUNK_RECORDS) {
            counts.0 += chunk.records;
            counts.1 += chunk.events.len();
            counts.2 += chunk.errors.len();
        }
        let seconds = started.elapsed().as_secs_f64();
        best = best.min(seconds);
        if let (Some(from), Some(to)) = (cpu_started, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(to - from);
        }
    }
    if let Some(out) = args.get(4) {
        let mut report = Report::new(parser_name, Some(time::OffsetDateTime::UNIX_EPOCH), data.clone());
        report.extra.push(("file_name".to_owned(), serde_json::Value::String(file_name.clone())));
        let parsed = parser.parse(&report);
        let mut text = String::new();
        for event in &parsed.events {
            text.push_str(&neretva_event::intelmq_json::to_line(&event.event));
            text.push('\n');
        }
        for error in &parsed.errors {
            text.push_str(&format!("error: {error} | {}\n", error.raw));
        }
        if let Err(error) = std::fs::write(out, text) {
            eprintln!("cannot write {out}: {error}");
            std::process::exit(2);
        }
    }
    let peak_rss_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .unwrap_or(0);
    println!(
        "{{\"parser\":\"{parser_name}\",\"records\":{},\"events\":{},\"errors\":{},\"seconds\":{best:.6},\"rate_per_s\":{:.0},\"cpu_seconds\":{best_cpu:.2},\"cpu_rate_per_s\":{:.0},\"peak_rss_kb\":{peak_rss_kb}}}",
        counts.0,
        counts.1,
        counts.2,
        counts.1 as f64 / best,
        counts.1 as f64 / best_cpu
    );
}

/// The CPU time this thread has used (user and system, from `/proc/thread-self/stat`, in clock
/// ticks of 10 ms), so a run on a busy machine can still be judged by the work it did.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let user: f64 = fields.nth(11)?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}
