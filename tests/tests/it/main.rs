//! The local account's own tests: moto, the AWS Backup stand-in, the scenarios, the ledger and the
//! fault proxy.
//!
//! One integration-test binary for the crate (cargo builds every `tests/*.rs` as its own
//! binary, each linking everything again): each file here is a module, and libtest runs the
//! tests of all of them in parallel. Run one file's tests with a filter, e.g.
//! `cargo test -p local-account --test it standin_faults::`.

mod ledger;
mod local_account_alerts;
mod local_account_moto;
mod local_account_org;
mod local_account_readback;
mod local_account_scenarios;
mod local_account_throttling;
mod standin_faults;
mod standin_model;
mod standin_restore;
mod standin_sdk;
