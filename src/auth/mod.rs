//! Authentication (API tokens) and authorization (roles per organisation).

pub mod authz;
pub mod dto;
pub mod extract;
pub mod model;
pub mod oidc;
pub mod pages;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod store;

pub use extract::{Credentials, MaybeCredentials};
pub use model::{Actor, Role};
