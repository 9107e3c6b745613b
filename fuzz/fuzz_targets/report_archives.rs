//! Unpacking reports (gzip, bzip2, zip, tar and plain, as every source and `neretva ingest`
//! read files) on arbitrary bytes: must never panic, and what comes out must respect the limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_pipeline::sources::{DecompressLimits, decompress};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the name, so the extension-driven paths are fuzzed too.
    let Some((selector, data)) = data.split_first() else { return };
    let names = ["report.csv", "report.csv.gz", "report.csv.bz2", "reports.zip", "reports.tar", "download"];
    let name = names[usize::from(*selector) % names.len()];
    let limits = DecompressLimits { max_report_bytes: 1 << 20, max_total_bytes: 4 << 20, max_entries: 16, max_ratio: 200 };
    if let Ok(reports) = decompress(name, data.to_vec(), &limits) {
        assert!(reports.len() <= limits.max_entries.max(1));
        let mut total = 0u64;
        for (member, report) in &reports {
            assert!(!member.is_empty());
            assert!(report.len() as u64 <= limits.max_report_bytes);
            total += report.len() as u64;
        }
        assert!(total <= limits.max_total_bytes.max(limits.max_report_bytes));
    }
});
