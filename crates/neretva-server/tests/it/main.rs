//! Integration tests of the HTTP API, driven in process with `oneshot`.

mod access;
mod auth;
mod errors;
mod events;
mod registry;
mod support;
mod tokens_audit;
