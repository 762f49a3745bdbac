//! "Får jag använda X?": the employee lookup and the public AI register,
//! answered from an in-memory index that follows every change.

pub mod cache;
pub mod dto;
pub mod huge;
pub mod index;
pub mod normalize;
pub mod pages;
pub mod persist;
pub mod register;
pub mod routes;
pub mod service;
pub mod store;
pub mod typo;

pub use service::SearchIndex;
