//! # table-guard
//!
//! The Lambda function EventBridge invokes with CloudTrail "AWS API Call via CloudTrail"
//! events from `aws.dynamodb`: when a table is born (`CreateTable`, `RestoreTableFromBackup`,
//! `RestoreTableToPointInTime`, `ImportTable`) or its tags change (`TagResource`,
//! `UntagResource`), it checks the table against the backup policy, adds the backup tag when
//! that is what makes a conforming plan cover the table (mode `enforce`), and alerts on what a
//! human must fix. It also validates AWS Backup's restore tests: on a `Restore Job State
//! Change` event of the restore testing plan it compares the restored table with its source
//! and reports the result with `PutRestoreValidationResult` ([`handler::restore`]). And it
//! watches AWS Backup's own `Backup Job State Change` events of DynamoDB tables: a failed job
//! alerts once, naming the slot it puts at risk and the time left; a later completed job of
//! the same slot sends a "resolved" notice ([`handler::backup_job`]).
//!
//! Pipeline ([`handler::handle`], within the invocation's deadline): [`event::parse_event`] →
//! claim the event id in the ledger (a lease ending just past the deadline; a finished
//! duplicate does nothing, one still in progress fails so it is retried) → gather facts
//! (current tags from `ListTagsOfResource`, backup plans and selections cached for a minute)
//! → `policy::evaluate` → act ([`decide`]) → alert ([`alert`]) → record and log the
//! [`outcome::GuardOutcome`] as one JSON line. Every delivered event ends as an alert
//! delivered or an invocation failed (see [`handler`]).
//!
//! - [`event`]: typed parsing; every rejection names the JSON field.
//! - [`decide`]: the guard's own pure decisions (which tags to judge a lagging read by, never
//!   overwrite a tag, when to alert and how severely).
//! - [`alert`]: subject, text, JSON and attributes of the alert.
//! - [`outcome`]: the structured result.
//! - [`settings`]: [`Settings`] from the environment, [`ConfigError`], the timings.
//! - [`cache`]: [`SetupCache`], the backup setup reused across warm invocations.
//! - [`restore_alert`]: the alert about a restore test (validation FAILED, job failed, not
//!   validated).
//! - [`backup_job_alert`]: the alert about an ended backup job (a failure naming its slot and
//!   the time left, or the "resolved" notice of a later completed job).
//! - [`handler`]: the I/O shell ([`handler::Deps`], [`handler::handle`]), one function
//!   per step.

// Every function of the functions and of awsio reads in one screen: clippy (run with
// -D warnings) refuses one over 100 lines (clippy.toml's default threshold).
#![warn(clippy::too_many_lines)]

pub mod alert;
pub mod backup_job_alert;
pub mod cache;
pub mod change_alert;
pub mod decide;
pub mod event;
pub mod handler;
pub mod outcome;
pub mod restore_alert;
pub mod settings;

pub use cache::SetupCache;
pub use event::{
    Disposition, EventError, ParsedEvent, TableEventName, TableRef, parse_event, parse_event_str,
};
pub use handler::{Deps, GuardError, handler, run, run_parsed};
pub use outcome::{
    Action, AlertStatus, BackupJobCheck, BackupJobNotice, GuardOutcome, Handling, RestoreCheck,
};
pub use settings::{ConfigError, Settings};

/// Every AWS operation this function calls, as the call counter names them
/// (`Service.Operation`). The single list the IAM policy of the template is checked against and
/// the fault matrix injects a fault into, one operation at a time; the fault-matrix tests prove
/// it complete (no call outside it) and current (every entry is called).
pub const AWS_OPERATIONS: &[&str] = &[
    "Backup.DescribeBackupJob",
    "Backup.DescribeBackupVault",
    "Backup.DescribeRecoveryPoint",
    "Backup.DescribeRestoreJob",
    "Backup.GetBackupPlan",
    "Backup.GetBackupSelection",
    "Backup.GetBackupVaultAccessPolicy",
    "Backup.ListBackupPlans",
    "Backup.ListBackupSelections",
    "Backup.ListBackupVaults",
    "Backup.ListRecoveryPointsByBackupVault",
    "Backup.ListRecoveryPointsByResource",
    "Backup.PutRestoreValidationResult",
    "DynamoDB.DeleteItem",
    "DynamoDB.DescribeTable",
    "DynamoDB.GetItem",
    "DynamoDB.ListTables",
    "DynamoDB.ListTagsOfResource",
    "DynamoDB.PutItem",
    "DynamoDB.Scan",
    "DynamoDB.TagResource",
    "DynamoDB.UpdateItem",
    "KMS.DescribeKey",
    "KMS.GetKeyPolicy",
    "Resource Groups Tagging API.GetResources",
    "SNS.Publish",
    "STS.GetCallerIdentity",
];
