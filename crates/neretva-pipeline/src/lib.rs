//! Neretva's feed pipeline: a report is stored raw, parsed by its feed's parser, classified,
//! enriched with AS data, routed to the constituency, filtered and modified by rules,
//! deduplicated, and written to the event store and the configured sinks.
//!
//! Vocabulary: IntelMQ's collector + parser is a feed with its parser here, an expert is a
//! transform (`transforms::*`), an output is a sink (`sinks::*`).
//!
//! **Architecture Invariant:** the raw report is stored before it is parsed, and every stored
//! event keeps its report id, line and raw text, so `reparse` can re-run a fixed parser.
//!
//! **Architecture Invariant:** a bad record never aborts a report: it is counted and kept
//! with its line number (`report_errors`), and the rest of the report is processed.

pub mod config;
pub mod process;
pub mod sinks;
pub mod sources;
pub mod transforms;

pub use crate::config::PipelineConfig;
pub use crate::process::{IngestOptions, Outcome, Pipeline, PipelineError};
