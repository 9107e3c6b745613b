//! `neretva intel`: threat-intelligence commands on STIX data.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::pattern::Pattern;

use crate::output;

/// Evaluates the pattern in `pattern_file` against the observed data in `observations`.
pub(crate) fn match_pattern(
    pattern_file: &Path,
    observations: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(pattern_file)
        .with_context(|| format!("cannot read the pattern file {}", pattern_file.display()))?;
    let pattern = Pattern::parse(&text).map_err(|error| {
        anyhow::anyhow!("the pattern in {} does not parse: {error}", pattern_file.display())
    })?;
    let matcher = Matcher::new(&pattern).map_err(|error| {
        anyhow::anyhow!("the pattern in {} cannot be evaluated: {error}", pattern_file.display())
    })?;
    let data = std::fs::read_to_string(observations)
        .with_context(|| format!("cannot read the observations file {}", observations.display()))?;
    let value: serde_json::Value = serde_json::from_str(&data)
        .map_err(|error| anyhow::anyhow!("{} is not JSON: {error}", observations.display()))?;
    let prepared = Observations::from_json(&value)
        .map_err(|error| anyhow::anyhow!("{}: {error}", observations.display()))?;
    let found = matcher.evaluate(&prepared).map_err(|error| anyhow::anyhow!("matcher error: {error}"))?;
    let result = if found.is_some() { "match" } else { "nomatch" };
    if json {
        let ids: Vec<&str> =
            found.iter().flatten().filter_map(|&index| prepared.observed_data_id(index)).collect();
        output::json(&serde_json::json!({ "result": result, "observed_data": ids }));
    } else {
        output::line(result);
    }
    Ok(if found.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
