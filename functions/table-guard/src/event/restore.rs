//! AWS Backup's `Restore Job State Change` events (EventBridge `source` `aws.backup`), the
//! guard's second kind of event: a restore job of the restore testing plan ended, so the
//! restored table is validated (or the failed job reported).
//!
//! The event's `detail` as AWS documents it ("Monitoring AWS Backup events using Amazon
//! EventBridge"; sample in `events/restore-job-completed.json`): `restoreJobId`, `status`,
//! `resourceType`, `createdResourceArn`, `creationDate`, `completionDate`,
//! `backupSizeInBytes` (a string), `percentDone` (a number), `iamRoleArn`, and
//! `statusMessage` on failures. It does **not** carry the restore testing plan or the
//! source table, so the handler reads those with `DescribeRestoreJob`. Only the fields the
//! guard reads are declared; the others are ignored whatever their type.
//!
//! Outcomes of [`parse_restore_event`]: `COMPLETED` → [`RestoreAction::Validate`]; `FAILED`
//! / `ABORTED` → [`RestoreAction::ReportFailure`]; `PENDING` / `RUNNING` or a resource type
//! other than DynamoDB → [`RestoreAction::Ignored`]; a missing or malformed field →
//! [`EventError`] naming it.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use policy::{json_path, names};
use serde::{Deserialize, Serialize};

use super::{EventError, MAX_EVENT_ID_LEN, shown};

/// The EventBridge `source` of AWS Backup's own events.
pub const BACKUP_SOURCE: &str = "aws.backup";
/// The EventBridge `detail-type` of restore job events.
pub const RESTORE_DETAIL_TYPE: &str = "Restore Job State Change";
/// Path of the restore job id.
pub const PATH_RESTORE_JOB_ID: &str = "detail.restoreJobId";
/// Path of the job's status.
pub const PATH_RESTORE_STATUS: &str = "detail.status";
/// The event name restore outcomes carry (`GuardOutcome::event_name`).
pub const RESTORE_EVENT_NAME: &str = "RestoreJobStateChange";
/// The `resourceType` of DynamoDB restore jobs.
pub const DYNAMODB_RESOURCE_TYPE: &str = "DynamoDB";

/// The `detail` of a `Restore Job State Change` event: only the fields the guard reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreJobDetail {
    /// `restoreJobId`.
    pub restore_job_id: String,
    /// `status`: `PENDING`, `RUNNING`, `COMPLETED`, `ABORTED` or `FAILED`.
    pub status: String,
    /// `resourceType` (`DynamoDB`).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// `createdResourceArn`: the restored table.
    #[serde(default)]
    pub created_resource_arn: Option<String>,
    /// `statusMessage` (failures).
    #[serde(default)]
    pub status_message: Option<String>,
}

/// The typed envelope of a restore job event.
pub type RestoreJobStateChange = EventBridgeEvent<RestoreJobDetail>;

/// What the guard does with a restore job event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum RestoreAction {
    /// The job `COMPLETED`: validate the restored table (if a restore test made it).
    Validate,
    /// The job `FAILED` or was `ABORTED`: alert (if a restore test made it).
    ReportFailure,
    /// Nothing to do (a job still running, another resource type).
    Ignored {
        /// Why.
        reason: String,
    },
}

/// A parsed restore job event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreJobEvent {
    /// The EventBridge event id (`id`), the ledger key.
    pub event_id: String,
    /// `account`.
    pub account: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `detail.restoreJobId`.
    pub restore_job_id: String,
    /// `detail.status`.
    pub status: String,
    /// `detail.createdResourceArn`.
    pub created_resource_arn: Option<String>,
    /// `detail.statusMessage`.
    pub status_message: Option<String>,
    /// What to do.
    pub action: RestoreAction,
}

/// Checks an id used as a key: 1 to [`MAX_EVENT_ID_LEN`] characters of `A-Z a-z 0-9 - _ . :`.
pub(super) fn check_id(field: &str, id: &str, what: &str) -> Result<(), EventError> {
    let problem = if id.trim().is_empty() {
        "empty".to_string()
    } else if id.chars().count() > MAX_EVENT_ID_LEN {
        format!("{} is longer than {MAX_EVENT_ID_LEN} characters", shown(id))
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        format!(
            "{} has a character other than A-Z a-z 0-9 - _ . : ({what})",
            shown(id)
        )
    } else {
        return Ok(());
    };
    Err(EventError::new(field, problem))
}

/// Checks an event's account (12 digits) and region (a region name) where it gives them; an
/// error names the field each was read from (`fields`: the account's, the region's).
pub(super) fn check_account_region(
    account: Option<&str>,
    region: Option<&str>,
    (account_field, region_field): (&str, &str),
) -> Result<(), EventError> {
    if let Some(a) = account
        && !names::is_account_id(a)
    {
        return Err(EventError::new(
            account_field,
            format!("{} is not an account id (12 digits)", shown(a)),
        ));
    }
    if let Some(r) = region
        && !names::is_region_name(r)
    {
        return Err(EventError::new(
            region_field,
            format!("{} is not a region name (such as eu-west-1)", shown(r)),
        ));
    }
    Ok(())
}

/// The envelope of an AWS Backup event: `source` is `aws.backup`, `detail-type` is
/// `detail_type`, and the EventBridge event `id` (the ledger key) is present and well formed.
/// Returns the id; an error names the field that is wrong.
pub(super) fn check_backup_envelope(
    source: &str,
    detail_type: &str,
    expected_detail_type: &str,
    id: Option<&str>,
) -> Result<String, EventError> {
    if source != BACKUP_SOURCE {
        return Err(EventError::new(
            "source",
            format!("{} is not {BACKUP_SOURCE:?}", shown(source)),
        ));
    }
    if detail_type != expected_detail_type {
        return Err(EventError::new(
            "detail-type",
            format!("{} is not {expected_detail_type:?}", shown(detail_type)),
        ));
    }
    let event_id = id.ok_or_else(|| {
        EventError::new("id", "missing (the EventBridge event id is the ledger key)")
    })?;
    check_id("id", event_id, "EventBridge event ids are UUIDs")?;
    Ok(event_id.to_string())
}

/// Parses a `Restore Job State Change` event (see the module docs).
pub fn parse_restore_event(value: &serde_json::Value) -> Result<RestoreJobEvent, EventError> {
    let event: RestoreJobStateChange = serde_path_to_error::deserialize(value).map_err(|e| {
        let (field, problem) = json_path::split(&e);
        EventError::new(field, problem)
    })?;
    let event_id = check_backup_envelope(
        &event.source,
        &event.detail_type,
        RESTORE_DETAIL_TYPE,
        event.id.as_deref(),
    )?;
    let d = &event.detail;
    check_id(
        PATH_RESTORE_JOB_ID,
        &d.restore_job_id,
        "restore job ids are UUIDs",
    )?;
    check_account_region(
        event.account.as_deref(),
        event.region.as_deref(),
        ("account", "region"),
    )?;
    let action = match (d.status.as_str(), d.resource_type.as_deref()) {
        (_, Some(t)) if t != DYNAMODB_RESOURCE_TYPE => RestoreAction::Ignored {
            reason: format!(
                "restore job {} restores a {} resource, not a DynamoDB table",
                d.restore_job_id,
                shown(t)
            ),
        },
        ("COMPLETED", _) => RestoreAction::Validate,
        ("FAILED" | "ABORTED", _) => RestoreAction::ReportFailure,
        ("PENDING" | "RUNNING", _) => RestoreAction::Ignored {
            reason: format!(
                "restore job {} is {}: nothing to validate until it ends",
                d.restore_job_id, d.status
            ),
        },
        (other, _) => {
            return Err(EventError::new(
                PATH_RESTORE_STATUS,
                format!(
                    "{} is not a restore job status (PENDING, RUNNING, COMPLETED, ABORTED, FAILED)",
                    shown(other)
                ),
            ));
        }
    };
    Ok(RestoreJobEvent {
        event_id,
        account: event.account.clone(),
        region: event.region.clone(),
        restore_job_id: d.restore_job_id.clone(),
        status: d.status.clone(),
        created_resource_arn: d.created_resource_arn.clone().filter(|s| !s.is_empty()),
        status_message: d.status_message.clone().filter(|s| !s.is_empty()),
        action,
    })
}

/// Any event the guard handles: a DynamoDB CloudTrail call, an AWS Backup restore job or an
/// AWS Backup backup job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum GuardEvent {
    /// A CloudTrail event on a table (`aws.dynamodb`).
    Table(super::ParsedEvent),
    /// A restore job's state change (`aws.backup`, `Restore Job State Change`).
    RestoreJob(RestoreJobEvent),
    /// A backup job's state change (`aws.backup`, `Backup Job State Change`).
    BackupJob(super::BackupJobEvent),
    /// An AWS Backup or KMS call recorded by CloudTrail that can undo the policy (`aws.backup`
    /// or `aws.kms`, `AWS API Call via CloudTrail`).
    Change(super::ChangeEvent),
}

/// Parses any event the guard handles, by its `source`, then for `aws.backup` by its
/// `detail-type`: `AWS API Call via CloudTrail` (and any `aws.kms` event) →
/// [`super::parse_change_event`], `Restore Job State Change` → [`parse_restore_event`], `Backup Job State
/// Change` → [`super::parse_backup_job_event`], another (or none) → an error naming
/// `detail-type`; any other source → [`super::parse_event`] (which names what is wrong
/// with it).
pub fn parse_guard_event(value: &serde_json::Value) -> Result<GuardEvent, EventError> {
    if super::change::is_change_event(value) {
        return super::parse_change_event(value).map(GuardEvent::Change);
    }
    if value.get("source").and_then(|s| s.as_str()) == Some(BACKUP_SOURCE) {
        let handled = format!(
            "handled for source {BACKUP_SOURCE}: {RESTORE_DETAIL_TYPE:?}, {:?}, {:?}",
            super::BACKUP_JOB_DETAIL_TYPE,
            super::DETAIL_TYPE
        );
        return match value.get("detail-type") {
            Some(serde_json::Value::String(t)) if t == RESTORE_DETAIL_TYPE => {
                parse_restore_event(value).map(GuardEvent::RestoreJob)
            }
            Some(serde_json::Value::String(t)) if t == super::BACKUP_JOB_DETAIL_TYPE => {
                super::parse_backup_job_event(value).map(GuardEvent::BackupJob)
            }
            Some(serde_json::Value::String(t)) => Err(EventError::new(
                "detail-type",
                format!("{} is not handled ({handled})", shown(t)),
            )),
            Some(_) => Err(EventError::new(
                "detail-type",
                format!("not a string ({handled})"),
            )),
            None => Err(EventError::new(
                "detail-type",
                format!("missing ({handled})"),
            )),
        };
    }
    super::parse_event(value).map(GuardEvent::Table)
}

/// [`parse_guard_event`] of JSON text; invalid JSON is an [`EventError`] on `$`.
pub fn parse_guard_event_str(text: &str) -> Result<GuardEvent, EventError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| EventError::new("$", format!("not valid JSON: {e}")))?;
    parse_guard_event(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        let path = format!(
            "{}/../../events/restore-job-completed.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_sample_is_a_completed_dynamodb_restore_to_validate() {
        let e = parse_restore_event(&sample()).unwrap();
        assert_eq!(e.action, RestoreAction::Validate);
        assert_eq!(e.restore_job_id, "8A3D5F71-2C9E-4B6A-D0E1-7F4C2B9A6E13");
        assert_eq!(e.event_id, "a7f2c1d4-5b3e-4f60-9c8d-2e1f0a9b8c7d");
        assert!(
            e.created_resource_arn
                .as_deref()
                .is_some_and(|a| a.ends_with(":table/orders-restore-test-8a3d5f71"))
        );
        assert!(matches!(
            parse_guard_event(&sample()),
            Ok(GuardEvent::RestoreJob(_))
        ));
    }

    #[test]
    fn statuses_map_to_actions_and_bad_fields_are_named() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = sample();
            f(&mut v);
            parse_restore_event(&v)
        };
        let failed = with(&|v| {
            v["detail"]["status"] = "FAILED".into();
            v["detail"]["statusMessage"] = "Access denied".into();
        })
        .unwrap();
        assert_eq!(failed.action, RestoreAction::ReportFailure);
        assert_eq!(failed.status_message.as_deref(), Some("Access denied"));
        let running = with(&|v| v["detail"]["status"] = "RUNNING".into()).unwrap();
        assert!(matches!(running.action, RestoreAction::Ignored { .. }));
        let ec2 = with(&|v| v["detail"]["resourceType"] = "EC2".into()).unwrap();
        assert!(matches!(ec2.action, RestoreAction::Ignored { .. }));
        let e = with(&|v| v["detail"]["status"] = "DONE".into()).unwrap_err();
        assert_eq!(e.field, PATH_RESTORE_STATUS);
        let e = with(&|v| {
            v["detail"].as_object_mut().unwrap().remove("restoreJobId");
        })
        .unwrap_err();
        assert_eq!(e.field, PATH_RESTORE_JOB_ID, "{e}");
        let e = with(&|v| v["detail"]["restoreJobId"] = "a b".into()).unwrap_err();
        assert_eq!(e.field, PATH_RESTORE_JOB_ID);
        let e = with(&|v| v["detail-type"] = "Backup Job State Change".into()).unwrap_err();
        assert_eq!(e.field, "detail-type");
        let e = with(&|v| {
            v.as_object_mut().unwrap().remove("id");
        })
        .unwrap_err();
        assert_eq!(e.field, "id");
    }
}
