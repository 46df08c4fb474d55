//! Tests of the identity match: the truth table, properties, the parts.

mod check;
mod csv_file;
mod grading;
mod props;
mod truth;
