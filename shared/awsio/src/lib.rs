//! The only crate of backup-guard that speaks AWS.
//!
//! - [`config`]: SDK clients for an account and region (retries, timeouts, endpoints from the
//!   standard `AWS_ENDPOINT_URL*` variables) sharing one [`counter::CallCounter`].
//! - [`budget`]: an invocation's deadline and what is left of it (see also
//!   [`AwsContext::with_deadline`]).
//! - [`counter`]: an SDK interceptor counting every attempt per `Service.Operation`.
//! - [`error`]: [`AwsCallError`], an SDK failure naming its operation.
//! - [`backup_setup`]: plans, rules and selections → `policy::facts::BackupSetup`.
//! - [`convert`]: SDK ↔ `jiff` timestamps.
//! - [`publisher`]: alerts and digests to SNS (text, JSON, chat card and filterable
//!   attributes).
//! - [`chat`]: the chat card (AWS Chatbot's custom notification format), escaping and limits.
//! - [`chunked`]: lists kept in the state table across items (finding state, creation times).
//! - [`creation_cache`]: tables' creation times between runs (fewer `DescribeTable`).
//! - [`idempotency`]: the event ledger that makes redelivered events harmless.
//! - [`backup_failures`]: backup job failures alerted on, per table and slot (for the
//!   "resolved" notice of a later completed job).
//! - [`changes`]: re-reading what a tampering or drift event changed (a point, a vault, a
//!   key, a backup job).
//! - [`org`]: the organization fan-out: a member account's assumed-role clients, the
//!   organization's accounts, a member's effective backup policy.
//! - [`vault`]: what protects a vault's points (lock fields, access policy, key state).
//! - [`restore_jobs`]: restore testing: restore jobs, validation results, restored-table shapes.
//! - [`evidence_store`]: each run's evidence bundle in the Object Lock bucket (write, list, read,
//!   verify).
//!
//! Readers and writers (inventory, tagging, alert publishing, state store) translate between
//! SDK types and the plain structs of the `policy` crate; no compliance decision is made here.

// Every function of the functions and of awsio reads in one screen: clippy (run with
// -D warnings) refuses one over 100 lines (clippy.toml's default threshold).
#![warn(clippy::too_many_lines)]

pub mod backup_failures;
pub mod backup_setup;
pub mod budget;
pub mod changes;
pub mod chat;
pub mod chunked;
pub mod config;
pub mod convert;
pub mod counter;
pub mod creation_cache;
pub mod error;
pub mod evidence_store;
pub mod finding_state;
pub mod idempotency;
pub mod inventory;
pub mod org;
pub mod publisher;
pub mod restore;
pub mod restore_jobs;
pub mod table;
pub mod vault;

pub use budget::Budget;
pub use config::{AwsContext, ClientSettings};
pub use counter::{CallCounter, CallsSince, OperationCalls, Snapshot};
pub use error::{AwsCallError, OperationContext};
