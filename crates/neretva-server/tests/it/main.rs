//! Integration tests of the HTTP API, driven in process with `oneshot`.

#![allow(clippy::unwrap_used)]

mod access;
mod auth;
mod contact_points;
mod errors;
mod events;
mod incidents;
mod intel;
mod notifications;
mod records;
mod registry;
mod strategy;
mod support;
mod taxii;
mod tokens_audit;
mod web;
mod web_admin;
mod web_forms;
mod web_incidents;
mod web_learning;
mod web_training;
