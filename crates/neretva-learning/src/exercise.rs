//! Tabletop exercises, the pure layer: scenarios with timed injects, the run of an exercise,
//! participants' responses and the after-action report.
//!
//! - [`scenario`]: the scenario package (`scenario.yaml`) and its parser, which reports every
//!   problem with its file and line and yields nothing on error.
//! - [`run`]: an exercise run's state machine (planned → running ⇄ paused → ended), which injects
//!   are due ([`run::due_injects`]), early release and skipping, responses and the facilitator's
//!   timeline.
//! - [`report`]: the after-action report, as data, Markdown and HTML, in five languages.
//!
//! **Architecture Invariant:** the clock is an argument: whether an inject is due is a function
//! of the run, its deliveries and `now`, so a server that was down delivers what it missed when
//! it comes back, in order, and never twice.

pub mod report;
pub mod run;
pub mod scenario;

#[cfg(test)]
mod tests;
