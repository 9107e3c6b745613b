//! Validates STIX patterns read from standard input (a JSON list of strings) and prints, for
//! each, a JSON line with `valid` and the first error as the reference validator words it.
//! Used to compare the validator with the OASIS reference on many patterns at once.

#![allow(clippy::print_stdout)]

use std::io::Read;

fn main() {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        std::process::exit(2);
    }
    let Ok(patterns) = serde_json::from_str::<Vec<String>>(&input) else {
        eprintln!("expected a JSON list of strings");
        std::process::exit(2);
    };
    for pattern in patterns {
        let errors = neretva_stix::pattern::validate(&pattern);
        let first = errors.first().map(neretva_stix::pattern::PatternError::reference_message);
        println!("{}", serde_json::json!({"pattern": pattern, "valid": errors.is_empty(), "error": first}));
    }
}
