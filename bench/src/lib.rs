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
//! - [`guard`]: the table-guard handler on CreateTable events, warm and cold.
//! - [`coldstart`]: init time of the function binaries with a minimal Runtime API emulator.
//! - [`suite`]: the whole run (`report`); [`render`]: docs/BENCHMARKS.md from its results.
//! - [`run`]: one measured run per process (verifier or naive), its JSON result.
//! - [`evidence`]: the evidence bundle of N tables, its sizes and Chromium's load time.

pub mod coldstart;
pub mod evidence;
pub mod generate;
pub mod guard;
pub mod naive;
pub mod procstat;
pub mod render;
pub mod run;
pub mod stats;
pub mod suite;
