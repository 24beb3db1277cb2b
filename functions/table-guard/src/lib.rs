//! # table-guard
//!
//! The Lambda function EventBridge invokes with CloudTrail "AWS API Call via CloudTrail"
//! events from `aws.dynamodb`: when a table is born (`CreateTable`, `RestoreTableFromBackup`,
//! `RestoreTableToPointInTime`, `ImportTable`) or its tags change (`TagResource`,
//! `UntagResource`), it checks the table against the backup policy, remediates what a tag
//! can fix, and alerts on what a human must fix.
//!
//! Pipeline: [`event::parse_event`] → gather facts → `policy` → act → report.

pub mod event;

pub use event::{EventError, ParsedEvent, TableEventName, TableRef, parse_event, parse_event_str};

#[cfg(test)]
mod event_fuzz;
