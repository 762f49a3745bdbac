//! What employees ask for that the register cannot answer yes to: questions
//! to the lookup that found nothing, or found a service that is not
//! assessed in the organisation asked about. Counted per organisation,
//! normalised question and Swedish day, with no address and no person,
//! kept in memory and written in batches so that the lookup does not wait.
//! Coordinators see the most asked over 30 days and start a description
//! from a row.

pub mod model;
pub mod pages;
pub mod routes;
pub mod service;
pub mod store;

pub use model::{Asked, DemandCounter, Unanswered};
