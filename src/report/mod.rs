//! Everything a person reads about a run: the tracking comment, step outputs, the step summary
//! and log annotations.
pub mod active_run;
pub mod comment;
pub mod outputs;
pub mod summary;
pub mod surface;
pub mod tracking;
pub mod workflow;

#[cfg(test)]
mod tests;
