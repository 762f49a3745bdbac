//! The tamper-evident audit log: a SHA-256 hash chain of events, one per
//! change, written in the same transaction as the change.

pub mod model;
pub mod store;

pub use model::{AuditAction, Audited, NewEvent};
pub use store::append;
