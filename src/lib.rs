//! Tillit: a registry of approved AI services for Swedish municipalities.
//!
//! The library holds everything; `main.rs` only parses the command line.
//! `build_app(state)` is the one place where routes are listed.

#![forbid(unsafe_code)]

pub mod app;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demand;
pub mod dev;
pub mod error;
pub mod fault;
pub mod health;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod ids;
pub mod imports;
pub mod json;
pub mod lang;
pub mod logging;
pub mod lookup;
pub mod openapi;
pub mod organisations;
pub mod policy;
pub mod ratelimit;
pub mod reports;
pub mod spreadsheet;
pub mod state;
pub mod stream;
pub mod submissions;
pub mod swedish;
pub mod web;

pub use app::build_app;
pub use config::Settings;
pub use state::AppState;
