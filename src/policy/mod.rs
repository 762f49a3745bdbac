//! The AI rules as JSON-Schema policies: loading, compiling and evaluating.

pub mod catalog;
pub mod drift;
pub mod dto;
pub mod engine;
pub mod lineage;
pub mod loader;
pub mod model;
pub mod reevaluate;
pub mod routes;
pub mod source;
pub mod text;

pub use engine::PolicySet;
pub use loader::{PolicyError, PolicyOrigin, load};
pub use model::{Evaluation, RuleOutcome, Severity, Verdict};
