//! Capacity building, the pure layer: courses, quizzes, progress, certificates, xAPI.
//!
//! - [`package`]: the course package format (a folder or zip of YAML and Markdown) and its
//!   parser, which reports every problem with its file and line and yields nothing on error.
//! - [`course`]: the course → modules → lessons model, with a quiz of question pools and images.
//! - [`markdown`]: lesson Markdown to safe HTML (raw HTML shown as text, unsafe links dropped).
//! - [`quiz`]: the seeded random draw, attempts (limit, deadline, submitted once), scoring with
//!   feedback per answer.
//! - [`enrolment`]: progress through the lessons and completion.
//! - [`certificate`]: verification codes of certificates.
//! - [`xapi`]: learning records as xAPI statements.
//! - [`export`]: a course back to its package.
//! - [`training`]: train-the-trainer programmes, sessions with attendance and feedback, trainer
//!   qualification and statistics of people trained.
//! - [`exercise`]: tabletop exercises: scenarios with timed injects, runs, responses and the
//!   after-action report.
//!
//! **Architecture Invariant:** pure: no IO, no clock, no randomness; `now`, seeds, random bytes
//! and new ids are arguments.
//!
//! **Architecture Invariant:** a package with any problem yields no course: [`package::parse`]
//! returns every problem (file and line), never a part of the course.

pub mod certificate;
pub mod course;
pub mod enrolment;
pub mod exercise;
pub mod export;
pub mod markdown;
pub mod package;
pub mod quiz;
pub mod training;
pub mod xapi;
mod yaml;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod training_tests;
