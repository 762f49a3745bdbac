//! Organisations (municipalities and federations) and their AI functions.

pub mod dto;
pub mod model;
pub mod routes;
pub mod service;
pub mod store;
