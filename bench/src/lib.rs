//! # backup-guard-bench — `make bench`
//!
//! Benchmarks of backup-guard against the local account (moto + the AWS Backup stand-in),
//! measured by commands anyone can rerun; the `report` subcommand writes
//! `docs/BENCHMARKS.md`.
//!
//! - [`generate`]: deterministic scenarios of N tables in the tests' scenario format.
//! - [`procstat`]: peak RSS and CPU time of the current process (`/proc/self`).
//! - [`stats`]: min/median/max of repeated measurements.
//! - [`naive`]: the naive per-table baseline (three calls per table), bench-only code.

pub mod generate;
pub mod procstat;
pub mod stats;
