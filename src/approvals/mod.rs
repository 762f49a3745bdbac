//! Approvals: delegations from municipalities to a federation, and the
//! decisions each organisation takes on a service revision.

pub mod dto;
pub mod model;
pub mod pages;
pub mod routes;
pub mod service;
pub mod store;
