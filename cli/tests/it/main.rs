//! The CLI's tests: the built `backup-guard` offline and against the local account, and `make demo`
//! end to end.
//!
//! One integration-test binary for the crate (cargo builds every `tests/*.rs` as its own
//! binary, each linking everything again): each file here is a module, and libtest runs the
//! tests of all of them in parallel. Run one file's tests with a filter, e.g.
//! `cargo test -p backup-guard-cli --test it offline::`.

// Test code: a failed assumption is a failed test, and helpers are shared between modules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

mod audit;
mod common;
mod demo;
mod history;
mod offline;
mod report;
mod restore;
