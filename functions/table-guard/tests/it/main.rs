//! The guard's integration tests: the handler against the local account, and its fault matrix.
//!
//! One integration-test binary for the crate (cargo builds every `tests/*.rs` as its own
//! binary, each linking everything again): each file here is a module, and libtest runs the
//! tests of all of them in parallel. Run one file's tests with a filter, e.g.
//! `cargo test -p table-guard --test it guard::`.

// Test code: a failed assumption is a failed test, and helpers are shared between modules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

mod backup_job;
mod change;
mod fault_matrix;
mod guard;
mod restore;
