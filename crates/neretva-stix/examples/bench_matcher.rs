//! Measures the matcher on the inputs of the reference matcher's benchmark.
//!
//! `bench_matcher PATTERNS.json OBSERVATIONS.json [RUNS]` compiles every pattern, then matches each
//! against all observed-data bundles, M × N evaluations, and prints one JSON line with the best
//! of RUNS. `match_*` prepares the observations from the parsed JSON in every match call, as the
//! reference's `Pattern.match(observations)` does; `prepared_*` prepares them once for all
//! patterns. `positives` (patterns that matched at least one observation) must equal the
//! reference's.

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
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let n = observations.as_array().map_or(0, Vec::len);
    let m = patterns.len();

    let mut best = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut positives = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let compiled: Vec<Matcher> =
            patterns.iter().map(|p| Matcher::new(&Pattern::parse(p).unwrap()).unwrap()).collect();
        let compile_s = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let mut matched = 0;
        for matcher in &compiled {
            let prepared = Observations::from_json(&observations).unwrap();
            if matcher.matches(&prepared).unwrap() {
                matched += 1;
            }
        }
        let match_s = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let prepared = Observations::from_json(&observations).unwrap();
        let prepare_s = start.elapsed().as_secs_f64();
        let mut matched_prepared = 0;
        for matcher in &compiled {
            if matcher.matches(&prepared).unwrap() {
                matched_prepared += 1;
            }
        }
        let prepared_s = start.elapsed().as_secs_f64();
        assert_eq!(matched, matched_prepared);
        positives = matched;
        best = (best.0.min(compile_s), best.1.min(match_s), best.2.min(prepared_s), best.3.min(prepare_s));
    }
    let evaluations = (n * m) as f64;
    println!(
        "{}",
        serde_json::json!({
            "n_observed_data": n,
            "m_patterns": m,
            "runs": runs,
            "compile_s": best.0,
            "patterns_compiled_per_s": m as f64 / best.0,
            "match_s": best.1,
            "evaluations_per_s": evaluations / best.1,
            "prepared_once_s": best.2,
            "prepare_s": best.3,
            "prepared_evaluations_per_s": evaluations / best.2,
            "positives": positives,
        })
    );
}
