//! Measures the matcher on the inputs of the reference matcher's benchmark.
//!
//! `bench_matcher PATTERNS.json OBSERVATIONS.json [RUNS]` compiles every pattern, then matches each
//! against all observed-data bundles, M × N evaluations, and prints one JSON line with medians
//! of RUNS, in wall-clock and CPU seconds. `per_call` prepares the observations from the parsed
//! JSON in every match call, as the reference's `Pattern.match(observations)` does; `prepared`
//! prepares them once for all patterns (that time included). `positives` (patterns that matched
//! at least one observation) must equal the reference's.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::Instant;

use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::pattern::Pattern;

/// The allocator the `neretva` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_matcher PATTERNS.json OBSERVATIONS.json [RUNS]");
        std::process::exit(2);
    }
    let patterns: Vec<String> = serde_json::from_str(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
    let observations: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let n = observations.as_array().map_or(0, Vec::len);
    let m = patterns.len();

    let (mut compile, mut per_call, mut per_call_cpu, mut prepared, mut prepared_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut positives = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let compiled: Vec<Matcher> =
            patterns.iter().map(|p| Matcher::new(&Pattern::parse(p).unwrap()).unwrap()).collect();
        compile.push(start.elapsed().as_secs_f64());

        let (start, cpu) = (Instant::now(), cpu_seconds());
        let mut matched = 0;
        for matcher in &compiled {
            let each = Observations::from_json(&observations).unwrap();
            matched += usize::from(matcher.matches(&each).unwrap());
        }
        per_call_cpu.push(cpu_seconds() - cpu);
        per_call.push(start.elapsed().as_secs_f64());

        let (start, cpu) = (Instant::now(), cpu_seconds());
        let once = Observations::from_json(&observations).unwrap();
        let mut matched_once = 0;
        for matcher in &compiled {
            matched_once += usize::from(matcher.matches(&once).unwrap());
        }
        prepared_cpu.push(cpu_seconds() - cpu);
        prepared.push(start.elapsed().as_secs_f64());
        assert_eq!(matched, matched_once);
        positives = matched;
    }
    let evaluations = (n * m) as f64;
    println!(
        "{}",
        serde_json::json!({
            "mode": "matcher",
            "n_observed_data": n,
            "m_patterns": m,
            "runs": runs,
            "patterns_compiled_per_s": m as f64 / median(&compile),
            "per_call_evals_per_s": evaluations / median(&per_call),
            "per_call_evals_per_cpu_s": evaluations / median(&per_call_cpu),
            "prepared_evals_per_s": evaluations / median(&prepared),
            "prepared_evals_per_cpu_s": evaluations / median(&prepared_cpu),
            "positives": positives,
        })
    );
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// CPU time of this process so far (Linux: `/proc/self/schedstat`, nanoseconds on a CPU).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()))
        .map_or(0.0, |ns| ns / 1e9)
}
