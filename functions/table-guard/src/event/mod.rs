//! Parsing the CloudTrail "AWS API Call via CloudTrail" events EventBridge delivers, and
//! AWS Backup's "Restore Job State Change" ([`restore`]) and "Backup Job State Change"
//! ([`backup_job`]) events, and CloudTrail's records of AWS Backup and KMS calls that can undo
//! the policy ([`change`]); [`parse_guard_event`] takes any of them.
//!
//! Pure: no I/O. The envelope is `aws_lambda_events`' [`EventBridgeEvent`](aws_lambda_events::event::eventbridge::EventBridgeEvent); the CloudTrail
//! `detail` is our own [`CloudTrailDetail`], which declares only the fields the guard reads
//! (`aws_lambda_events`' `AWSAPICall` rejects real records, e.g. with an empty
//! `sessionIssuer`).
//!
//! Where the table ARN sits:
//!
//! | event | field |
//! |---|---|
//! | `CreateTable`, `RestoreTableFromBackup`, `RestoreTableToPointInTime` | `detail.responseElements.tableDescription.tableArn` |
//! | `ImportTable` | `detail.responseElements.importTableDescription.tableArn` |
//! | `TagResource`, `UntagResource` | `detail.requestParameters.resourceArn` |
//! | `UpdateTable` creating replicas | `detail.responseElements.tableDescription.tableArn` (the table updated); each replica: that ARN with the region of `detail.requestParameters.replicaUpdates[i].create.regionName` |
//!
//! Outcomes of [`parse_event`]:
//!
//! * a handled, successful call on a table → [`Disposition::Evaluate`];
//! * a successful `UpdateTable` whose `replicaUpdates` has a `create` → [`Disposition::Replicas`];
//!   any other `UpdateTable` (capacity, streams, a replica updated or deleted …) →
//!   [`Disposition::Ignored`] (no new table);
//! * a handled call that failed (`detail.errorCode` present; its `responseElements` is null) →
//!   [`Disposition::Ignored`] with the reason (nothing was created or changed);
//! * anything else (another source or event, a missing or malformed field, an ARN that is not a
//!   DynamoDB table) → [`EventError`] naming the field path (`detail.eventName`,
//!   `detail.responseElements.tableDescription.tableArn`, …; `$` is the whole event). The
//!   handler returns it as an error so the event lands in the dead-letter queue.
//!
//! Checked beyond the types:
//!
//! * `detail.eventID` (the ledger key): 1 to [`MAX_EVENT_ID_LEN`] characters of
//!   `A-Z a-z 0-9 - _ . :` (CloudTrail and EventBridge ids are UUIDs);
//! * `detail.recipientAccountId` (else the envelope's `account`): 12 digits;
//!   `detail.awsRegion` (else the envelope's `region`): a region name
//!   ([`policy::names::is_region_name`]);
//! * the table ARN: its shape by [`policy::TableArn`], then a known partition ([`policy::names::PARTITIONS`]), a region name, a
//!   12-digit account, `table/<name>`; and its account and region are the event's own
//!   (`recipientAccountId`, `awsRegion`): a contradiction is an error naming both fields
//!   ([`EventError::other_field`]).
//!
//! Files, one job each:
//!
//! * `wire`: the serde types of the JSON ([`CloudTrailDetail`] and what it holds,
//!   [`CloudTrailEvent`]);
//! * `types`: what the parser produces ([`ParsedEvent`], [`Disposition`], [`TableEventName`],
//!   [`Actor`], [`TableEvent`]) and [`EventError`];
//! * `table`: [`TableRef`] and its ARN checks;
//! * `parse`: [`parse_event`] and [`parse_event_str`], one function per step.

use policy::names;

pub mod backup_job;
pub mod change;
mod parse;
pub mod restore;
mod table;
mod types;
mod wire;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

pub use backup_job::{
    BACKUP_JOB_DETAIL_TYPE, BackupJobAction, BackupJobEvent, EndedBackupJob, parse_backup_job_event,
};
pub use change::{ChangeEvent, ChangeName, ChangeTarget, parse_change_event};
pub use parse::{parse_event, parse_event_str};
pub use restore::{
    GuardEvent, RestoreAction, RestoreJobEvent, parse_guard_event, parse_guard_event_str,
    parse_restore_event,
};
pub use table::TableRef;
pub use types::{
    Actor, Disposition, EventError, ParsedEvent, ReplicaEvent, TableEvent, TableEventName,
};
pub use wire::{
    CloudTrailDetail, CloudTrailEvent, ImportTableDescription, ReplicaCreate, ReplicaUpdate,
    RequestParameters, ResponseElements, TableDescription, TagEntry, UserIdentity,
};

/// The EventBridge `source` of DynamoDB CloudTrail events.
pub const SOURCE: &str = "aws.dynamodb";
/// The EventBridge `detail-type` of CloudTrail API-call events.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// The CloudTrail `eventSource` of DynamoDB.
pub const EVENT_SOURCE: &str = "dynamodb.amazonaws.com";

/// Path of the table ARN in `CreateTable` / restore events.
pub const PATH_TABLE_ARN: &str = "detail.responseElements.tableDescription.tableArn";
/// Path of the table ARN in `ImportTable` events.
pub const PATH_IMPORT_TABLE_ARN: &str = "detail.responseElements.importTableDescription.tableArn";
/// Path of the resource ARN in `TagResource` / `UntagResource` events.
pub const PATH_RESOURCE_ARN: &str = "detail.requestParameters.resourceArn";
/// Path of the replica updates of `UpdateTable`.
pub const PATH_REPLICA_UPDATES: &str = "detail.requestParameters.replicaUpdates";
/// Path of the event id.
pub const PATH_EVENT_ID: &str = "detail.eventID";
/// Path of the account the event was delivered for.
pub const PATH_ACCOUNT: &str = "detail.recipientAccountId";
/// Path of the region the call was made in.
pub const PATH_REGION: &str = "detail.awsRegion";

/// Longest accepted `detail.eventID` (CloudTrail and EventBridge ids are 36-character UUIDs).
pub const MAX_EVENT_ID_LEN: usize = 128;

/// How many characters of a bad value an error message quotes.
const SHOWN: usize = 80;

/// A value quoted in a message, cut to [`SHOWN`] characters.
fn shown(s: &str) -> String {
    names::shown(s, SHOWN)
}
