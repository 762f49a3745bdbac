//! Auditor reports: the compliance report, point in time, in CSV, JSON,
//! Excel and print-ready HTML, streamed.

pub mod pages;
pub mod query;
pub mod render;
pub mod routes;
pub mod words;
