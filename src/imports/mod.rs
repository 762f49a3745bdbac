//! Importing an existing inventory of AI services: an `.xlsx` or CSV file,
//! one service a row, becomes drafts of the organisation (`model` reads the
//! file, `service` makes the drafts and the report), uploaded on a page, by
//! `tillit import`, or through the API. The template is a download.

pub mod model;
pub mod pages;
pub mod routes;
pub mod service;
pub mod template;
