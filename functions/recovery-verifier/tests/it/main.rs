//! The verifier's integration tests: runs against the local account, the template's plan, the fault
//! matrix and the work deadline.
//!
//! One integration-test binary for the crate (cargo builds every `tests/*.rs` as its own
//! binary, each linking everything again): each file here is a module, and libtest runs the
//! tests of all of them in parallel. Run one file's tests with a filter, e.g.
//! `cargo test -p recovery-verifier --test it verifier_local_account::`.

// Test code: a failed assumption is a failed test, and helpers are shared between modules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

mod common;
mod creation_cache;
mod evidence_bundle;
mod evidence_local_account;
mod fault_matrix;
mod finding_state_local_account;
mod org;
mod org_fault_matrix;
mod restore_readiness;
mod template_plan;
mod vault_protection;
mod verifier_local_account;
mod verifier_scale;
mod work_deadline;
