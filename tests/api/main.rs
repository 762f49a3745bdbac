//! Integration tests that start the real application (`build_app`) against a
//! temporary SQLite file, and against PostgreSQL when TILLIT_TEST_POSTGRES_URL
//! is set.

#[path = "../common/mod.rs"]
mod common;

mod approvals;
mod approver_page;
mod authz;
mod credentials;
mod csv_injection;
mod demand;
mod drafts;
mod duties;
mod employee_page;
mod errors;
mod evaluate;
mod helpers;
mod hostile;
mod imports;
mod integrity;
mod labels;
mod lookup;
mod openapi;
mod probe;
mod reports;
mod resident_register;
mod services;
mod sso;
mod storage;
mod upgrade;
mod web;
