//! Everything a person reads about a run: the tracking comment, step outputs, the step summary
//! and log annotations.
pub mod active_run;
pub mod comment;
pub mod finale;
pub mod one_agent;
pub mod outputs;
pub mod plan_view;
pub mod summary;
pub mod surface;
pub mod tracking;
/// Workflow commands live at the crate root (every module logs through them); kept here by its old
/// path for callers that reach it through `report`.
pub use crate::workflow;

#[cfg(test)]
mod tests;
