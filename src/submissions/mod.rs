//! Services and their revisions: what coordinators describe and submit.

pub mod diff;
pub mod dto;
pub mod form;
pub mod model;
pub mod pages;
pub mod routes;
pub mod service;
pub mod store;
