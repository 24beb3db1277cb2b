//! The only crate of backup-guard that speaks AWS.
//!
//! - [`config`]: SDK clients for an account and region (retries, timeouts, endpoints from the
//!   standard `AWS_ENDPOINT_URL*` variables) sharing one [`counter::CallCounter`].
//! - [`counter`]: an SDK interceptor counting every attempt per `Service.Operation`.
//!
//! Readers and writers (inventory, tagging, alert publishing, state store) translate between
//! SDK types and the plain structs of the `policy` crate; no compliance decision is made here.

pub mod config;
pub mod counter;

pub use config::{AwsContext, ClientSettings};
pub use counter::{CallCounter, OperationCalls};
