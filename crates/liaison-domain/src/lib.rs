//! Liaison's domain: plain types and pure rules, with no I/O and no async.
//! Everything above it (store, engine, faces) speaks in these types.

pub mod cursor;
pub mod error;
pub mod field;
pub mod ids;
pub mod issues;
pub mod matching;
pub mod model;
pub mod patch;
pub mod prefixed;
pub mod rules;
pub mod scope;
pub mod secret;
pub mod time;
pub mod values;

pub use error::{Error, RateWindow, Result};
pub use ids::*;
pub use issues::{Issue, Issues, PathSeg};
pub use patch::Patch;
