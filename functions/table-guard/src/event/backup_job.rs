//! AWS Backup's `Backup Job State Change` events (EventBridge `source` `aws.backup`): a backup
//! job of a DynamoDB table ended, so the guard alerts on a failure (naming the slot it puts at
//! risk) and sends a "resolved" notice when a later job of the same slot completes.
//!
//! The event's `detail` as AWS documents it ("Monitoring AWS Backup events using Amazon
//! EventBridge"; samples `events/backup-job-failed.json`, `backup-job-expired.json`,
//! `backup-job-completed.json`): `backupJobId`, `state` (Backup Job events say `state`; other
//! Backup events say `status`, which is read when `state` is absent), `resourceType`,
//! `resourceArn`, `creationDate`, `completionDate`, `statusMessage` (AWS wraps it in quotes),
//! `backupVaultName`, `createdBy` (`backupPlanId`, `backupPlanArn`, `backupPlanVersion`,
//! `backupPlanRuleId`; absent for an on-demand job), and fields the guard does not read
//! (`bytesTransferred` and `backupSizeInBytes` as strings, `percentDone` as a number,
//! `expectedCompletionDate` in a console format, …), which are ignored whatever their type.
//!
//! Outcomes of [`parse_backup_job_event`]:
//!
//! * `FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`, `COMPLETED` → [`BackupJobAction::Ended`] with
//!   the table ([`TableRef`], from `detail.resourceArn`, in the event's own `account` and
//!   `region`) and the job's times;
//! * `CREATED`, `PENDING`, `RUNNING`, `ABORTING` → [`BackupJobAction::Ignored`] (nothing has
//!   ended; the template's rule does not route them);
//! * another resource type than DynamoDB (the rule routes only DynamoDB), an unknown state,
//!   a missing or malformed field → [`EventError`] naming its JSON path.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use jiff::Timestamp;
use policy::backup_job::clean_status_message;
use policy::facts::JobState;
use policy::json_path;
use serde::{Deserialize, Serialize};

use super::restore::{
    DYNAMODB_RESOURCE_TYPE, check_account_region, check_backup_envelope, check_id,
};
use super::{EventError, TableRef, shown};

/// The EventBridge `detail-type` of backup job events.
pub const BACKUP_JOB_DETAIL_TYPE: &str = "Backup Job State Change";
/// The event name backup job outcomes carry (`GuardOutcome::event_name`).
pub const BACKUP_JOB_EVENT_NAME: &str = "BackupJobStateChange";
/// Path of the backup job id.
pub const PATH_BACKUP_JOB_ID: &str = "detail.backupJobId";
/// Path of the job's state.
pub const PATH_BACKUP_JOB_STATE: &str = "detail.state";
/// Path of the backed-up resource.
pub const PATH_BACKUP_RESOURCE_ARN: &str = "detail.resourceArn";
/// Path of the resource type.
pub const PATH_BACKUP_RESOURCE_TYPE: &str = "detail.resourceType";
/// Path of the job's creation time.
pub const PATH_BACKUP_CREATION_DATE: &str = "detail.creationDate";
/// Path of the job's completion time.
pub const PATH_BACKUP_COMPLETION_DATE: &str = "detail.completionDate";

/// `detail.createdBy`: the plan and rule that made the job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCreator {
    /// `backupPlanId`.
    #[serde(default)]
    pub backup_plan_id: Option<String>,
    /// `backupPlanArn`.
    #[serde(default)]
    pub backup_plan_arn: Option<String>,
    /// `backupPlanRuleId`.
    #[serde(default)]
    pub backup_plan_rule_id: Option<String>,
}

/// The `detail` of a `Backup Job State Change` event: only the fields the guard reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupJobDetail {
    /// `backupJobId`.
    pub backup_job_id: String,
    /// `state` (what Backup Job events carry).
    #[serde(default)]
    pub state: Option<String>,
    /// `status` (what some other Backup events carry), read when `state` is absent.
    #[serde(default)]
    pub status: Option<String>,
    /// `resourceType` (`DynamoDB`).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// `resourceArn`: the table.
    #[serde(default)]
    pub resource_arn: Option<String>,
    /// `creationDate` (RFC 3339).
    #[serde(default)]
    pub creation_date: Option<String>,
    /// `completionDate` (RFC 3339).
    #[serde(default)]
    pub completion_date: Option<String>,
    /// `statusMessage`.
    #[serde(default)]
    pub status_message: Option<String>,
    /// `backupVaultName`.
    #[serde(default)]
    pub backup_vault_name: Option<String>,
    /// `createdBy`; absent for an on-demand job.
    #[serde(default)]
    pub created_by: Option<JobCreator>,
}

/// The typed envelope of a backup job event.
pub type BackupJobStateChange = EventBridgeEvent<BackupJobDetail>;

/// An ended backup job of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedBackupJob {
    /// The table (`detail.resourceArn`).
    pub table: TableRef,
    /// The state.
    pub state: JobState,
    /// `detail.creationDate`.
    pub created: Timestamp,
    /// `detail.completionDate`.
    pub completed: Option<Timestamp>,
    /// `detail.statusMessage` without AWS's quotes; `None` if empty.
    pub status_message: Option<String>,
    /// `detail.backupVaultName`.
    pub vault_name: Option<String>,
    /// `detail.createdBy.backupPlanId` (`None`: on demand).
    pub plan_id: Option<String>,
    /// `detail.createdBy.backupPlanArn`.
    pub plan_arn: Option<String>,
    /// `detail.createdBy.backupPlanRuleId`.
    pub rule_id: Option<String>,
}

impl EndedBackupJob {
    /// True for `COMPLETED`.
    pub fn completed_ok(&self) -> bool {
        self.state == JobState::Completed
    }
}

/// What the guard does with a backup job event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum BackupJobAction {
    /// The job ended: alert on a failure, a "resolved" notice for a completion after one.
    Ended(Box<EndedBackupJob>),
    /// Nothing to do (a job that has not ended).
    Ignored {
        /// Why.
        reason: String,
    },
}

/// A parsed backup job event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupJobEvent {
    /// The EventBridge event id (`id`), the ledger key.
    pub event_id: String,
    /// `account`.
    pub account: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `time`: when AWS Backup emitted the event.
    pub time: Option<Timestamp>,
    /// `detail.backupJobId`.
    pub backup_job_id: String,
    /// `detail.state` (or `detail.status`) as written.
    pub state: String,
    /// What to do.
    pub action: BackupJobAction,
}

fn timestamp(field: &str, text: &str) -> Result<Timestamp, EventError> {
    text.parse().map_err(|e| {
        EventError::new(
            field,
            format!("{} is not an RFC 3339 time: {e}", shown(text)),
        )
    })
}

fn envelope_checks(event: &BackupJobStateChange) -> Result<String, EventError> {
    let event_id = check_backup_envelope(
        &event.source,
        &event.detail_type,
        BACKUP_JOB_DETAIL_TYPE,
        event.id.as_deref(),
    )?;
    check_id(
        PATH_BACKUP_JOB_ID,
        &event.detail.backup_job_id,
        "backup job ids are UUIDs",
    )?;
    check_account_region(
        event.account.as_deref(),
        event.region.as_deref(),
        ("account", "region"),
    )?;
    Ok(event_id)
}

/// The table of an ended job: DynamoDB, its ARN parsed, in the event's account and region.
fn ended_table(event: &BackupJobStateChange) -> Result<TableRef, EventError> {
    let d = &event.detail;
    match d.resource_type.as_deref() {
        Some(DYNAMODB_RESOURCE_TYPE) => {}
        Some(t) => {
            return Err(EventError::new(
                PATH_BACKUP_RESOURCE_TYPE,
                format!(
                    "{} is not {DYNAMODB_RESOURCE_TYPE:?}: table-guard takes only DynamoDB backup jobs (check the rule's event pattern)",
                    shown(t)
                ),
            ));
        }
        None => {
            return Err(EventError::new(
                PATH_BACKUP_RESOURCE_TYPE,
                "missing (an ended backup job names its resource type)",
            ));
        }
    }
    let arn = d
        .resource_arn
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| EventError::new(PATH_BACKUP_RESOURCE_ARN, "missing or empty"))?;
    let table = TableRef::parse_arn(arn, PATH_BACKUP_RESOURCE_ARN)?;
    if let Some(a) = &event.account
        && *a != table.account
    {
        return Err(EventError::conflict(
            PATH_BACKUP_RESOURCE_ARN,
            "account",
            format!(
                "the table's account {} is not account {a}: the event is about another account's table",
                table.account
            ),
        ));
    }
    if let Some(r) = &event.region
        && *r != table.region
    {
        return Err(EventError::conflict(
            PATH_BACKUP_RESOURCE_ARN,
            "region",
            format!(
                "the table's region {} is not region {r}: the job ran in another region",
                table.region
            ),
        ));
    }
    Ok(table)
}

fn ended_job(event: &BackupJobStateChange, state: JobState) -> Result<EndedBackupJob, EventError> {
    let d = &event.detail;
    let table = ended_table(event)?;
    let created = d.creation_date.as_deref().ok_or_else(|| {
        EventError::new(
            PATH_BACKUP_CREATION_DATE,
            "missing (the job's slot is found from its creation time)",
        )
    })?;
    let created = timestamp(PATH_BACKUP_CREATION_DATE, created)?;
    let completed = d
        .completion_date
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| timestamp(PATH_BACKUP_COMPLETION_DATE, c))
        .transpose()?;
    let by = d.created_by.clone().unwrap_or_default();
    Ok(EndedBackupJob {
        table,
        state,
        created,
        completed,
        status_message: d.status_message.as_deref().and_then(clean_status_message),
        vault_name: d.backup_vault_name.clone(),
        plan_id: by.backup_plan_id.filter(|p| !p.is_empty()),
        plan_arn: by.backup_plan_arn.filter(|p| !p.is_empty()),
        rule_id: by.backup_plan_rule_id.filter(|p| !p.is_empty()),
    })
}

/// Parses a `Backup Job State Change` event (see the module docs).
pub fn parse_backup_job_event(value: &serde_json::Value) -> Result<BackupJobEvent, EventError> {
    let event: BackupJobStateChange = serde_path_to_error::deserialize(value).map_err(|e| {
        let (field, problem) = json_path::split(&e);
        EventError::new(field, problem)
    })?;
    let event_id = envelope_checks(&event)?;
    let d = &event.detail;
    let (word, field) = match (&d.state, &d.status) {
        (Some(s), _) => (s.clone(), PATH_BACKUP_JOB_STATE),
        (None, Some(s)) => (s.clone(), "detail.status"),
        (None, None) => {
            return Err(EventError::new(PATH_BACKUP_JOB_STATE, "missing"));
        }
    };
    let state = JobState::from_api(&word);
    let action = match &state {
        JobState::Failed
        | JobState::Aborted
        | JobState::Expired
        | JobState::Partial
        | JobState::Completed => BackupJobAction::Ended(Box::new(ended_job(&event, state)?)),
        JobState::Created | JobState::Pending | JobState::Running | JobState::Aborting => {
            BackupJobAction::Ignored {
                reason: format!(
                    "backup job {} is {}: nothing has ended yet",
                    d.backup_job_id,
                    state.as_api()
                ),
            }
        }
        JobState::Unknown(w) => {
            return Err(EventError::new(
                field,
                format!(
                    "{} is not a backup job state (CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL)",
                    shown(w)
                ),
            ));
        }
    };
    let time = event.time.and_then(|t| {
        Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos().try_into().ok()?).ok()
    });
    Ok(BackupJobEvent {
        event_id,
        account: event.account.clone(),
        region: event.region.clone(),
        time,
        backup_job_id: d.backup_job_id.clone(),
        state: word,
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> serde_json::Value {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn ended(e: &BackupJobEvent) -> &EndedBackupJob {
        match &e.action {
            BackupJobAction::Ended(j) => j,
            other => panic!("not ended: {other:?}"),
        }
    }

    #[test]
    fn the_failed_sample_is_an_ended_dynamodb_job_with_its_plan_and_message() {
        let e = parse_backup_job_event(&sample("backup-job-failed.json")).unwrap();
        assert_eq!(e.event_id, "710b0398-d48e-f3c3-afca-cfeb2fdaa656");
        assert_eq!(e.state, "FAILED");
        let j = ended(&e);
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.table.name, "orders");
        assert_eq!(
            j.created,
            "2026-11-15T00:02:07.392Z".parse::<Timestamp>().unwrap()
        );
        assert!(j.plan_id.is_some() && j.rule_id.is_some());
        let m = j.status_message.as_deref().unwrap();
        assert!(!m.starts_with('"') && m.contains("KMS"), "{m}");
        assert_eq!(e.time, Some("2026-11-15T00:30:26Z".parse().unwrap()));
        assert!(matches!(
            super::super::parse_guard_event(&sample("backup-job-failed.json")),
            Ok(super::super::GuardEvent::BackupJob(_))
        ));
    }

    #[test]
    fn the_completed_and_expired_samples_parse() {
        let c = parse_backup_job_event(&sample("backup-job-completed.json")).unwrap();
        assert!(ended(&c).completed_ok());
        assert!(ended(&c).completed.is_some());
        let x = parse_backup_job_event(&sample("backup-job-expired.json")).unwrap();
        assert_eq!(ended(&x).state, JobState::Expired);
    }

    #[test]
    fn states_map_to_actions_and_bad_fields_are_named() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = sample("backup-job-failed.json");
            f(&mut v);
            parse_backup_job_event(&v)
        };
        for s in ["ABORTED", "EXPIRED", "PARTIAL", "COMPLETED"] {
            assert!(matches!(
                with(&|v| v["detail"]["state"] = s.into()).unwrap().action,
                BackupJobAction::Ended(_)
            ));
        }
        let running = with(&|v| v["detail"]["state"] = "RUNNING".into()).unwrap();
        assert!(matches!(running.action, BackupJobAction::Ignored { .. }));
        // `status` instead of `state`.
        let status = with(&|v| {
            let d = v["detail"].as_object_mut().unwrap();
            let s = d.remove("state").unwrap();
            d.insert("status".into(), s);
        })
        .unwrap();
        assert!(matches!(status.action, BackupJobAction::Ended(_)));
        let e = with(&|v| v["detail"]["state"] = "DONE".into()).unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_JOB_STATE);
        let e = with(&|v| {
            v["detail"].as_object_mut().unwrap().remove("state");
        })
        .unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_JOB_STATE);
        let e = with(&|v| v["detail"]["resourceType"] = "EBS".into()).unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_RESOURCE_TYPE);
        assert!(e.problem.contains("only DynamoDB"), "{e}");
        let e = with(&|v| {
            v["detail"]["resourceArn"] = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1".into()
        })
        .unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_RESOURCE_ARN);
        let e = with(&|v| {
            v["detail"]["resourceArn"] =
                "arn:aws:dynamodb:us-east-1:999999999999:table/orders".into()
        })
        .unwrap_err();
        assert!(
            e.names(PATH_BACKUP_RESOURCE_ARN) && e.names("account"),
            "{e}"
        );
        let e = with(&|v| v["detail"]["creationDate"] = "yesterday".into()).unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_CREATION_DATE);
        let e = with(&|v| v["detail"]["creationDate"] = 5.into()).unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_CREATION_DATE, "{e}");
        let e = with(&|v| {
            v["detail"].as_object_mut().unwrap().remove("backupJobId");
        })
        .unwrap_err();
        assert_eq!(e.field, PATH_BACKUP_JOB_ID, "{e}");
        let e = with(&|v| v["detail"]["createdBy"]["backupPlanId"] = 7.into()).unwrap_err();
        assert_eq!(e.field, "detail.createdBy.backupPlanId", "{e}");
        let e = with(&|v| {
            v.as_object_mut().unwrap().remove("id");
        })
        .unwrap_err();
        assert_eq!(e.field, "id");
        // On demand: no createdBy.
        let od = with(&|v| {
            v["detail"].as_object_mut().unwrap().remove("createdBy");
        })
        .unwrap();
        assert!(ended(&od).plan_id.is_none());
    }

    /// Every field of every backup job sample replaced by a value of every JSON type: the
    /// parser never panics, and a rejection names a field in a short message.
    #[test]
    fn mutated_samples_never_panic_and_rejections_name_a_field() {
        fn paths(v: &serde_json::Value, at: &[String], out: &mut Vec<Vec<String>>) {
            if let serde_json::Value::Object(m) = v {
                for (k, c) in m {
                    let mut p = at.to_vec();
                    p.push(k.clone());
                    out.push(p.clone());
                    paths(c, &p, out);
                }
            }
        }
        let values = [
            serde_json::Value::Null,
            serde_json::json!(5),
            serde_json::json!(""),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!("x".repeat(300)),
        ];
        let mut checked = 0;
        for name in [
            "backup-job-failed.json",
            "backup-job-completed.json",
            "backup-job-expired.json",
        ] {
            let base = sample(name);
            let mut all = Vec::new();
            paths(&base, &[], &mut all);
            for path in all {
                let Some((last, parents)) = path.split_last() else {
                    continue;
                };
                for val in &values {
                    let mut v = base.clone();
                    let mut cur = &mut v;
                    for k in parents {
                        cur = &mut cur[k.as_str()];
                    }
                    cur[last.as_str()] = val.clone();
                    if let Err(e) = super::super::parse_guard_event(&v) {
                        assert!(!e.field.is_empty(), "{path:?} = {val}: {e}");
                        assert!(e.problem.chars().count() < 600, "{path:?}: {e}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn an_unknown_backup_detail_type_names_the_field() {
        let mut v = sample("backup-job-failed.json");
        v["detail-type"] = "Copy Job State Change".into();
        let e = super::super::parse_guard_event(&v).unwrap_err();
        assert_eq!(e.field, "detail-type");
        assert!(e.problem.contains("Backup Job State Change"), "{e}");
    }
}
