//! Co-ordination and governance, the pure layer: the strategy and action-plan tracker.
//!
//! - [`crosswalk`]: the catalogues strategy items are tagged with (NIS2 Art. 21(2) measure
//!   areas and Art. 7(1) strategy contents, GDPR and Budapest Convention articles, the OSCE
//!   confidence-building measures 1–16, ENISA's 15 strategy objectives).
//! - [`strategy`]: strategic documents → objectives → measures → actions with KPIs, their
//!   validation, changes, and the views (progress by objective and by level of authority,
//!   overdue actions, changes since a date).
//! - [`groups`]: working groups and sector sub-groups: members, meetings, action items
//!   linked to strategy actions, documents under TLP, announcements, diversity aggregates.
//! - [`report`]: the implementation report as JSON, CSV and HTML.
//! - [`preservation`]: expedited preservation requests (Budapest Convention Art. 29): the
//!   fields of Art. 29(2), the 60-day minimum term, extensions, the follow-up MLA request,
//!   reminders before expiry.
//! - [`maturity`]: SIM3 and NIS2 Art. 21 self-assessments: catalogues, scores with evidence,
//!   history, comparison, ENISA tiers, sector aggregates; [`svg`] draws them (radar, trend).
//! - [`defaults`]: the objectives A–I of the BiH Guidelines for a Strategic Cybersecurity
//!   Framework, as default data.
//! - [`contact_points`]: the contact-point directory (OSCE CBM 8 policy and technical points,
//!   Budapest Convention Art. 35 24/7 points, sector and CERT contacts) with OpenPGP keys.
//! - [`rfc2350`]: a CERT team's RFC 2350 profile and its plain-text rendering.
//! - [`checks`]: communication-check campaigns: scope, schedule, token hashing, statistics;
//!   [`check_texts`] the e-mails and the acknowledgment page in five languages.
//!
//! **Architecture Invariant:** pure: no IO, no clock, no randomness; `today`, `now` and new ids
//! are arguments.
//!
//! **Architecture Invariant:** validation returns every problem with the field's path
//! (`objectives[2].measures[0].actions[1].due`).

pub mod check_texts;
pub mod checks;
pub mod contact_points;
pub mod crosswalk;
pub mod defaults;
pub mod groups;
pub mod maturity;
pub mod preservation;
pub mod report;
pub mod rfc2350;
pub mod strategy;
pub mod svg;

#[cfg(test)]
mod contact_tests;
#[cfg(test)]
mod maturity_tests;
#[cfg(test)]
mod preservation_tests;
#[cfg(test)]
mod tests;
