//! The tamper-evident audit log: a SHA-256 hash chain of events, one per
//! change, written in the same transaction as the change.

pub mod log;
pub mod model;
pub mod routes;
pub mod store;
pub mod verify;

pub use model::{AuditAction, Audited, NewEvent, SealedEvent};
pub use store::append;
