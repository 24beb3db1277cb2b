//! The policy crate's tests: the rules, evaluation, cron parsing and schedules, plan documents and
//! their properties.
//!
//! One integration-test binary for the crate (cargo builds every `tests/*.rs` as its own
//! binary, each linking everything again): each file here is a module, and libtest runs the
//! tests of all of them in parallel. Run one file's tests with a filter, e.g.
//! `cargo test -p policy --test it policy_rules::`.

// Test code: a failed assumption is a failed test, and helpers are shared between modules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

mod arn_props;
mod common;
mod cron_parse;
mod cron_props;
mod cron_schedule;
mod plan_document;
mod policy_evaluate;
mod policy_props;
mod policy_rules;
mod vault_props;
