//! Measures bundle import on a bundle file, and optionally writes it back.
//!
//! `bench_bundle BUNDLE.json [RUNS] [--export OUT.json]` reads the file once, then imports it RUNS
//! times (every object read and checked, every STIX pattern of an indicator validated: the work
//! of `stix2.parse`) and prints one JSON line with the median and best run, in wall-clock and CPU
//! seconds. With `--export`, the imported objects are written back as a bundle (with the TLP and
//! PAP definitions they refer to).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::Instant;

use neretva_stix::bundle::{Bundle, Limits, parse_bundle};

/// The allocator the `neretva` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: bench_bundle BUNDLE.json [RUNS] [--export OUT.json]");
        std::process::exit(2);
    }
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let export = args.iter().position(|a| a == "--export").and_then(|i| args.get(i + 1));
    let limits = Limits::default();
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let cpu_start = cpu_seconds();
        let imported = parse_bundle(&text, &limits).unwrap();
        cpu.push(cpu_seconds() - cpu_start);
        wall.push(start.elapsed().as_secs_f64());
        last = Some(imported);
    }
    let imported = last.unwrap();
    for rejected in imported.rejected.iter().take(5) {
        eprintln!("rejected objects[{}]: {:?}", rejected.index, rejected.problems);
    }
    let objects = (imported.objects.len() + imported.rejected.len()) as f64;
    if let Some(path) = export {
        let mut bundle =
            Bundle { id: imported.bundle_id.clone().unwrap(), objects: imported.objects.clone() };
        bundle.add_marking_definitions();
        std::fs::write(path, bundle.to_json_string()).unwrap();
    }
    println!(
        "{}",
        serde_json::json!({
            "mode": "import",
            "file": args[1],
            "objects": objects,
            "rejected": imported.rejected.len(),
            "runs": runs,
            "median_s": median(&wall),
            "median_cpu_s": median(&cpu),
            "objs_per_s": objects / median(&wall),
            "objs_per_cpu_s": objects / median(&cpu),
            "best_objs_per_cpu_s": objects / cpu.iter().copied().fold(f64::MAX, f64::min),
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
