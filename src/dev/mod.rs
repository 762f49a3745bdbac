//! Data for trying Tillit out and for measuring it, never for production
//! records: the demo (`serve --demo`: realistic services, people and
//! decisions) and synthetic registries of any size (`tillit seed`).

pub mod demo;
pub mod seed;
