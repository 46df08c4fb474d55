//! Vetting: the automated review of a submitted customer profile or trust product.
//!
//! Pure core: no sockets, no files, no clock.
//!
//! - [`checks`]: the checks a workflow runs, each a small pure function over what the
//!   bundle holds, answering a [`checks::Finding`] that names every failed field.
//! - [`identity`]: Lookup Identity Match: the normaliser and grader that compare a
//!   person's submitted details with the operator's subscriber records, per field, and
//!   the providers of those records.
//! - [`run`]: one run of a workflow over a submission, and its Evaluation results.
//! - [`workflow`]: the operator's rules file (a workflow of checks per policy) and the
//!   decision it makes.

pub mod checks;
pub mod identity;
pub mod run;
pub mod workflow;
