//! Restore testing in the stand-in: restore testing plans and selections (read), restore jobs
//! (`ListRestoreJobs` with its filters and pagination, `DescribeRestoreJob`) and
//! `PutRestoreValidationResult`.
//!
//! | operation | request |
//! |---|---|
//! | ListRestoreTestingPlans | `GET /restore-testing/plans?MaxResults&NextToken` |
//! | GetRestoreTestingPlan | `GET /restore-testing/plans/{RestoreTestingPlanName}` |
//! | ListRestoreTestingSelections | `GET /restore-testing/plans/{name}/selections?MaxResults&NextToken` |
//! | GetRestoreTestingSelection | `GET /restore-testing/plans/{name}/selections/{RestoreTestingSelectionName}` |
//! | ListRestoreJobs | `GET /restore-jobs?accountId&resourceType&createdBefore&createdAfter&status&completeBefore&completeAfter&restoreTestingPlanArn&parentJobId&nextToken&maxResults` |
//! | DescribeRestoreJob | `GET /restore-jobs/{restoreJobId}` |
//! | PutRestoreValidationResult | `PUT /restore-jobs/{restoreJobId}/validations` → 204 |
//!
//! Member names, types and enums are those of botocore's `backup` model
//! (`RestoreJobsListMember`, `DescribeRestoreJobOutput`, `RestoreTestingPlanForGet`,
//! `RestoreTestingSelectionForGet`, …). Restore jobs are listed newest first.
//! `PutRestoreValidationResult` answers `ResourceNotFoundException` for an unknown job,
//! `MissingParameterValueException` without `ValidationStatus`,
//! `InvalidParameterValueException` for a value outside the enum and
//! `InvalidRequestException` for a job no restore testing plan created or one that has not
//! completed.
//!
//! Admin (test-only): `POST /_standin/restore-jobs` (JSON array of [`RestoreJob`]),
//! `GET /_standin/restore-jobs` (every job, validations included),
//! `POST /_standin/restore-testing` ({"Plans": [..], "Selections": [..]}).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, StandInError};
use super::server::{Shared, lock};
use super::store::{
    Page, listing, newest_first_key, opt_eq, range_after, take_page, to_value, within,
};
use super::time::{epoch, epoch_opt, parse_text};

/// `RestoreJobStatus`.
pub const RESTORE_JOB_STATUSES: &[&str] = &["PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED"];
/// `RestoreValidationStatus`.
pub const VALIDATION_STATUSES: &[&str] = &["FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING"];
/// `RestoreDeletionStatus`.
pub const DELETION_STATUSES: &[&str] = &["DELETING", "FAILED", "SUCCESSFUL"];
/// `RestoreTestingRecoveryPointSelectionAlgorithm`.
pub const SELECTION_ALGORITHMS: &[&str] = &["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"];

/// `RestoreJobCreator` (`CreatedBy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RestoreJobCreator {
    /// `RestoreTestingPlanArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_testing_plan_arn: Option<String>,
}

/// A restore job in the `RestoreJobsListMember` shape (also what `DescribeRestoreJob`
/// answers). Required when seeding: `CreationDate`, `Status`; filled in when absent:
/// `RestoreJobId`, `AccountId`, `ResourceType` (from `SourceResourceArn`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RestoreJob {
    /// `AccountId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `RestoreJobId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_job_id: Option<String>,
    /// `RecoveryPointArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_arn: Option<String>,
    /// `SourceResourceArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_arn: Option<String>,
    /// `BackupVaultArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_arn: Option<String>,
    /// `CreationDate`.
    #[serde(with = "epoch")]
    pub creation_date: Timestamp,
    /// `CompletionDate`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<Timestamp>,
    /// `Status` (`RestoreJobStatus`).
    pub status: String,
    /// `StatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// `PercentDone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_done: Option<String>,
    /// `BackupSizeInBytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_size_in_bytes: Option<i64>,
    /// `IamRoleArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// `ExpectedCompletionTimeMinutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_completion_time_minutes: Option<i64>,
    /// `CreatedResourceArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_resource_arn: Option<String>,
    /// `ResourceType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// `RecoveryPointCreationDate`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub recovery_point_creation_date: Option<Timestamp>,
    /// `IsParent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_parent: Option<bool>,
    /// `ParentJobId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_job_id: Option<String>,
    /// `CreatedBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<RestoreJobCreator>,
    /// `ValidationStatus` (`RestoreValidationStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    /// `ValidationStatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status_message: Option<String>,
    /// `DeletionStatus` (`RestoreDeletionStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_status: Option<String>,
    /// `DeletionStatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_status_message: Option<String>,
}

/// `RestoreTestingRecoveryPointSelection`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RecoveryPointSelection {
    /// `Algorithm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `ExcludeVaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_vaults: Option<Vec<String>>,
    /// `IncludeVaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_vaults: Option<Vec<String>>,
    /// `RecoveryPointTypes` (`CONTINUOUS`, `SNAPSHOT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_types: Option<Vec<String>>,
    /// `SelectionWindowDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_window_days: Option<i32>,
}

/// A restore testing plan in the `RestoreTestingPlanForGet` shape. Filled in when absent:
/// `RestoreTestingPlanArn`, `CreationTime` (now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RestoreTestingPlan {
    /// `CreationTime`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    /// `CreatorRequestId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_request_id: Option<String>,
    /// `LastExecutionTime`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub last_execution_time: Option<Timestamp>,
    /// `LastUpdateTime`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Timestamp>,
    /// `RecoveryPointSelection`.
    #[serde(default)]
    pub recovery_point_selection: RecoveryPointSelection,
    /// `RestoreTestingPlanArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_testing_plan_arn: Option<String>,
    /// `RestoreTestingPlanName`.
    pub restore_testing_plan_name: String,
    /// `ScheduleExpression`.
    pub schedule_expression: String,
    /// `ScheduleExpressionTimezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression_timezone: Option<String>,
    /// `StartWindowHours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_window_hours: Option<i32>,
}

/// `KeyValue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyValue {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// `ProtectedResourceConditions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProtectedResourceConditions {
    /// `StringEquals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_equals: Option<Vec<KeyValue>>,
    /// `StringNotEquals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_not_equals: Option<Vec<KeyValue>>,
}

/// A restore testing selection in the `RestoreTestingSelectionForGet` shape. Filled in when
/// absent: `CreationTime` (now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RestoreTestingSelection {
    /// `CreationTime`.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    /// `CreatorRequestId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_request_id: Option<String>,
    /// `IamRoleArn`.
    pub iam_role_arn: String,
    /// `ProtectedResourceArns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_resource_arns: Option<Vec<String>>,
    /// `ProtectedResourceConditions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_resource_conditions: Option<ProtectedResourceConditions>,
    /// `ProtectedResourceType`.
    pub protected_resource_type: String,
    /// `RestoreMetadataOverrides`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_metadata_overrides: Option<BTreeMap<String, String>>,
    /// `RestoreTestingPlanName`.
    pub restore_testing_plan_name: String,
    /// `RestoreTestingSelectionName`.
    pub restore_testing_selection_name: String,
    /// `ValidationWindowHours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_window_hours: Option<i32>,
}

/// What `POST /_standin/restore-testing` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RestoreTestingSeed {
    /// Plans to add.
    #[serde(default)]
    pub plans: Vec<RestoreTestingPlan>,
    /// Selections to add (their plan must exist or be in `plans`).
    #[serde(default)]
    pub selections: Vec<RestoreTestingSelection>,
}

/// Restore testing state of the account.
#[derive(Debug, Default)]
pub struct RestoreStore {
    region: String,
    account_id: String,
    counter: u64,
    /// Newest-first key → job.
    jobs: BTreeMap<String, RestoreJob>,
    /// Job id → its key in `jobs`.
    job_keys: HashMap<String, String>,
    plans: BTreeMap<String, RestoreTestingPlan>,
    /// (plan name, selection name) → selection.
    selections: BTreeMap<(String, String), RestoreTestingSelection>,
}

/// `ListRestoreJobs` filters.
#[derive(Debug, Clone, Default)]
pub struct RestoreJobFilter {
    /// `accountId`.
    pub account_id: Option<String>,
    /// `resourceType`.
    pub resource_type: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `restoreTestingPlanArn`.
    pub plan_arn: Option<String>,
    /// `parentJobId`.
    pub parent_job_id: Option<String>,
    /// `createdAfter`.
    pub created_after: Option<Timestamp>,
    /// `createdBefore`.
    pub created_before: Option<Timestamp>,
    /// `completeAfter`.
    pub complete_after: Option<Timestamp>,
    /// `completeBefore`.
    pub complete_before: Option<Timestamp>,
}

fn invalid(what: String, reason: impl Into<String>) -> StandInError {
    StandInError::Invalid {
        what,
        reason: reason.into(),
    }
}

fn check_enum(
    what: &str,
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
) -> Result<(), StandInError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(invalid(
            what.to_string(),
            format!("{field} {v:?} is not one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// 24 bits of FNV-1a of `s`: the stable suffix of a plan's ARN (AWS appends a random one).
fn fnv24(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h & 0x00ff_ffff
}

impl RestoreStore {
    /// Empty state for an account.
    pub fn new(region: &str, account_id: &str) -> Self {
        RestoreStore {
            region: region.to_string(),
            account_id: account_id.to_string(),
            ..Default::default()
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = RestoreStore::new(&self.region, &self.account_id);
    }

    fn next_id(&mut self) -> String {
        self.counter += 1;
        format!("{:08X}-0000-4000-8000-{:012X}", self.counter, self.counter)
    }

    /// The ARN AWS gives a restore testing plan of this name.
    pub fn plan_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:backup:{}:{}:restore-testing-plan:{name}-{:06x}",
            self.region,
            self.account_id,
            fnv24(name)
        )
    }

    /// Seeds restore jobs (all or none); returns how many were added.
    pub fn add_jobs(&mut self, jobs: Vec<RestoreJob>) -> Result<usize, StandInError> {
        let mut ready = Vec::with_capacity(jobs.len());
        let mut batch = HashSet::new();
        for (i, mut j) in jobs.into_iter().enumerate() {
            let what = format!("restore job #{i}");
            check_enum(&what, "Status", Some(&j.status), RESTORE_JOB_STATUSES)?;
            check_enum(
                &what,
                "ValidationStatus",
                j.validation_status.as_deref(),
                VALIDATION_STATUSES,
            )?;
            check_enum(
                &what,
                "DeletionStatus",
                j.deletion_status.as_deref(),
                DELETION_STATUSES,
            )?;
            if let Some(arn) = &j.source_resource_arn
                && !arn.starts_with("arn:")
            {
                return Err(invalid(
                    what,
                    format!("SourceResourceArn {arn:?} is not an ARN"),
                ));
            }
            if j.account_id.is_none() {
                j.account_id = Some(self.account_id.clone());
            }
            if j.resource_type.is_none()
                && j.source_resource_arn
                    .as_deref()
                    .is_some_and(|a| a.split(':').nth(2) == Some("dynamodb"))
            {
                j.resource_type = Some("DynamoDB".to_string());
            }
            let id = match &j.restore_job_id {
                Some(id) => id.clone(),
                None => {
                    let id = self.next_id();
                    j.restore_job_id = Some(id.clone());
                    id
                }
            };
            if self.job_keys.contains_key(&id) || !batch.insert(id.clone()) {
                return Err(StandInError::Duplicate(format!("restore job {id}")));
            }
            ready.push((newest_first_key(j.creation_date, &id), id, j));
        }
        let n = ready.len();
        for (key, id, j) in ready {
            self.job_keys.insert(id, key.clone());
            self.jobs.insert(key, j);
        }
        Ok(n)
    }

    /// Every job, newest first (admin read).
    pub fn jobs(&self) -> Vec<RestoreJob> {
        self.jobs.values().cloned().collect()
    }

    /// Seeds restore testing plans and selections (all or none).
    pub fn add_testing(
        &mut self,
        seed: RestoreTestingSeed,
        now: Timestamp,
    ) -> Result<usize, StandInError> {
        let mut plans = Vec::new();
        let mut names: HashSet<String> = self.plans.keys().cloned().collect();
        for mut p in seed.plans {
            let what = format!("restore testing plan {}", p.restore_testing_plan_name);
            check_enum(
                &what,
                "RecoveryPointSelection.Algorithm",
                p.recovery_point_selection.algorithm.as_deref(),
                SELECTION_ALGORITHMS,
            )?;
            if !names.insert(p.restore_testing_plan_name.clone()) {
                return Err(StandInError::Duplicate(what));
            }
            if p.restore_testing_plan_arn.is_none() {
                p.restore_testing_plan_arn = Some(self.plan_arn(&p.restore_testing_plan_name));
            }
            p.creation_time.get_or_insert(now);
            plans.push(p);
        }
        let mut selections = Vec::new();
        for mut s in seed.selections {
            let what = format!(
                "restore testing selection {} of plan {}",
                s.restore_testing_selection_name, s.restore_testing_plan_name
            );
            if !names.contains(&s.restore_testing_plan_name) {
                return Err(invalid(what, "its plan does not exist"));
            }
            let key = (
                s.restore_testing_plan_name.clone(),
                s.restore_testing_selection_name.clone(),
            );
            if self.selections.contains_key(&key) || selections.iter().any(|(k, _)| *k == key) {
                return Err(StandInError::Duplicate(what));
            }
            s.creation_time.get_or_insert(now);
            selections.push((key, s));
        }
        let n = plans.len() + selections.len();
        for p in plans {
            self.plans.insert(p.restore_testing_plan_name.clone(), p);
        }
        self.selections.extend(selections);
        Ok(n)
    }

    /// ListRestoreJobs.
    pub fn list_jobs(&self, f: &RestoreJobFilter, page: &Page) -> Value {
        let items = range_after(&self.jobs, &page.after)
            .filter(|(_, j)| {
                opt_eq(&f.account_id, j.account_id.as_deref())
                    && opt_eq(&f.resource_type, j.resource_type.as_deref())
                    && opt_eq(&f.status, Some(&j.status))
                    && opt_eq(&f.parent_job_id, j.parent_job_id.as_deref())
                    && opt_eq(
                        &f.plan_arn,
                        j.created_by
                            .as_ref()
                            .and_then(|c| c.restore_testing_plan_arn.as_deref()),
                    )
                    && within(j.creation_date, f.created_after, f.created_before)
                    && (f.complete_after.is_none() && f.complete_before.is_none()
                        || j.completion_date
                            .is_some_and(|c| within(c, f.complete_after, f.complete_before)))
            })
            .map(|(k, j)| (k.clone(), to_value(j)));
        let (list, next) = take_page(items, page.max);
        listing("RestoreJobs", list, next)
    }

    fn job(&self, id: &str) -> Result<&RestoreJob, ApiError> {
        self.job_keys
            .get(id)
            .and_then(|k| self.jobs.get(k))
            .ok_or_else(|| ApiError::not_found(format!("Restore job {id} not found")))
    }

    /// DescribeRestoreJob.
    pub fn describe_job(&self, id: &str) -> Result<Value, ApiError> {
        Ok(to_value(self.job(id)?))
    }

    /// PutRestoreValidationResult.
    pub fn put_validation(&mut self, id: &str, body: &[u8]) -> Result<(), ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            #[serde(default)]
            validation_status: Option<String>,
            #[serde(default)]
            validation_status_message: Option<String>,
        }
        let input: Input = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_request(format!("the request body is not valid: {e}"))
        })?;
        let status = input
            .validation_status
            .ok_or_else(|| ApiError::missing_parameter("ValidationStatus"))?;
        if !VALIDATION_STATUSES.contains(&status.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "ValidationStatus {status:?} is not one of {}",
                VALIDATION_STATUSES.join(", ")
            )));
        }
        let job = self.job(id)?;
        if job
            .created_by
            .as_ref()
            .and_then(|c| c.restore_testing_plan_arn.as_ref())
            .is_none()
        {
            return Err(ApiError::invalid_request(format!(
                "Restore job {id} was not created by a restore testing plan"
            )));
        }
        if job.status != "COMPLETED" {
            return Err(ApiError::invalid_request(format!(
                "Restore job {id} is {}, not COMPLETED",
                job.status
            )));
        }
        let key = self.job_keys.get(id).cloned().unwrap_or_default();
        if let Some(j) = self.jobs.get_mut(&key) {
            j.validation_status = Some(status);
            j.validation_status_message = input.validation_status_message;
        }
        Ok(())
    }

    fn plan(&self, name: &str) -> Result<&RestoreTestingPlan, ApiError> {
        self.plans
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("Restore testing plan {name} not found")))
    }

    /// GetRestoreTestingPlan.
    pub fn get_plan(&self, name: &str) -> Result<Value, ApiError> {
        Ok(json!({ "RestoreTestingPlan": to_value(self.plan(name)?) }))
    }

    /// ListRestoreTestingPlans (the `RestoreTestingPlanForList` members).
    pub fn list_plans(&self, page: &Page) -> Value {
        let items = range_after(&self.plans, &page.after).map(|(k, p)| {
            let mut v = to_value(p);
            if let Value::Object(m) = &mut v {
                m.remove("CreatorRequestId");
                m.remove("RecoveryPointSelection");
            }
            (k.clone(), v)
        });
        let (list, next) = take_page(items, page.max);
        listing("RestoreTestingPlans", list, next)
    }

    /// GetRestoreTestingSelection.
    pub fn get_selection(&self, plan: &str, name: &str) -> Result<Value, ApiError> {
        self.plan(plan)?;
        let s = self
            .selections
            .get(&(plan.to_string(), name.to_string()))
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Restore testing selection {name} of plan {plan} not found"
                ))
            })?;
        Ok(json!({ "RestoreTestingSelection": to_value(s) }))
    }

    /// ListRestoreTestingSelections (the `RestoreTestingSelectionForList` members).
    pub fn list_selections(&self, plan: &str, page: &Page) -> Result<Value, ApiError> {
        self.plan(plan)?;
        let mine: BTreeMap<String, &RestoreTestingSelection> = self
            .selections
            .iter()
            .filter(|((p, _), _)| p == plan)
            .map(|((_, n), s)| (n.clone(), s))
            .collect();
        let items = range_after(&mine, &page.after).map(|(k, s)| {
            let mut v = json!({
                "CreationTime": s.creation_time.map(super::time::to_json_number),
                "IamRoleArn": s.iam_role_arn,
                "ProtectedResourceType": s.protected_resource_type,
                "RestoreTestingPlanName": s.restore_testing_plan_name,
                "RestoreTestingSelectionName": s.restore_testing_selection_name,
                "ValidationWindowHours": s.validation_window_hours,
            });
            if let Value::Object(m) = &mut v {
                m.retain(|_, x| !x.is_null());
            }
            (k.clone(), v)
        });
        let (list, next) = take_page(items, page.max);
        Ok(listing("RestoreTestingSelections", list, next))
    }
}

// ---- HTTP ------------------------------------------------------------------------------

type S = State<Arc<Shared>>;
type Q = Query<HashMap<String, String>>;
type ApiResult = Result<Json<Value>, ApiError>;

fn allow(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid_parameter(format!(
            "query parameter {k:?} is not supported by this operation in the Backup stand-in (supported: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn ts(q: &HashMap<String, String>, name: &str) -> Result<Option<Timestamp>, ApiError> {
    q.get(name)
        .map(|v| parse_text(v).map_err(|e| ApiError::invalid_parameter(format!("{name}: {e}"))))
        .transpose()
}

fn s(q: &HashMap<String, String>, name: &str) -> Option<String> {
    q.get(name).cloned()
}

async fn list_restore_jobs(State(st): S, Query(q): Q) -> ApiResult {
    let page = st.enter_list("ListRestoreJobs", None, &q).await?;
    allow(
        &q,
        &[
            "nextToken",
            "maxResults",
            "accountId",
            "resourceType",
            "createdBefore",
            "createdAfter",
            "status",
            "completeBefore",
            "completeAfter",
            "restoreTestingPlanArn",
            "parentJobId",
        ],
    )?;
    if let Some(st) = q.get("status")
        && !RESTORE_JOB_STATUSES.contains(&st.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "status {st:?} is not one of {}",
            RESTORE_JOB_STATUSES.join(", ")
        )));
    }
    let filter = RestoreJobFilter {
        account_id: s(&q, "accountId"),
        resource_type: s(&q, "resourceType"),
        status: s(&q, "status"),
        plan_arn: s(&q, "restoreTestingPlanArn"),
        parent_job_id: s(&q, "parentJobId"),
        created_after: ts(&q, "createdAfter")?,
        created_before: ts(&q, "createdBefore")?,
        complete_after: ts(&q, "completeAfter")?,
        complete_before: ts(&q, "completeBefore")?,
    };
    Ok(Json(lock(&st.restore).list_jobs(&filter, &page)))
}

async fn describe_restore_job(State(st): S, Path(id): Path<String>) -> ApiResult {
    st.enter("DescribeRestoreJob", None).await?;
    Ok(Json(lock(&st.restore).describe_job(&id)?))
}

async fn put_restore_validation_result(
    State(st): S,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    st.enter("PutRestoreValidationResult", None).await?;
    lock(&st.restore).put_validation(&id, &body)?;
    Ok(StatusCode::NO_CONTENT)
}

fn testing_page(q: &HashMap<String, String>) -> Result<Page, ApiError> {
    Page::parse(
        q.get("NextToken").map(String::as_str),
        q.get("MaxResults").map(String::as_str),
    )
}

async fn list_restore_testing_plans(State(st): S, Query(q): Q) -> ApiResult {
    st.enter("ListRestoreTestingPlans", None).await?;
    allow(&q, &["NextToken", "MaxResults"])?;
    let page = testing_page(&q)?;
    Ok(Json(lock(&st.restore).list_plans(&page)))
}

async fn get_restore_testing_plan(State(st): S, Path(name): Path<String>) -> ApiResult {
    st.enter("GetRestoreTestingPlan", None).await?;
    Ok(Json(lock(&st.restore).get_plan(&name)?))
}

async fn list_restore_testing_selections(
    State(st): S,
    Path(plan): Path<String>,
    Query(q): Q,
) -> ApiResult {
    st.enter("ListRestoreTestingSelections", None).await?;
    allow(&q, &["NextToken", "MaxResults"])?;
    let page = testing_page(&q)?;
    Ok(Json(lock(&st.restore).list_selections(&plan, &page)?))
}

async fn get_restore_testing_selection(
    State(st): S,
    Path((plan, name)): Path<(String, String)>,
) -> ApiResult {
    st.enter("GetRestoreTestingSelection", None).await?;
    Ok(Json(lock(&st.restore).get_selection(&plan, &name)?))
}

async fn admin_add_restore_jobs(State(st): S, body: Bytes) -> Result<Json<Value>, StandInError> {
    let jobs: Vec<RestoreJob> = serde_json::from_slice(&body)
        .map_err(|e| invalid("restore jobs (a JSON array)".into(), e.to_string()))?;
    let added = lock(&st.restore).add_jobs(jobs)?;
    Ok(Json(json!({ "added": added })))
}

async fn admin_list_restore_jobs(State(st): S) -> Json<Value> {
    Json(json!({ "RestoreJobs": lock(&st.restore).jobs() }))
}

async fn admin_add_restore_testing(State(st): S, body: Bytes) -> Result<Json<Value>, StandInError> {
    let seed: RestoreTestingSeed = serde_json::from_slice(&body).map_err(|e| {
        invalid(
            "restore testing seed ({\"Plans\": [..], \"Selections\": [..]})".into(),
            e.to_string(),
        )
    })?;
    let added = lock(&st.restore).add_testing(seed, Timestamp::now())?;
    Ok(Json(json!({ "added": added })))
}

/// The restore-testing routes, added to the stand-in's router.
pub fn routes(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route("/restore-jobs", get(list_restore_jobs))
        .route("/restore-jobs/", get(list_restore_jobs))
        .route("/restore-jobs/{id}", get(describe_restore_job))
        .route(
            "/restore-jobs/{id}/validations",
            put(put_restore_validation_result),
        )
        .route("/restore-testing/plans", get(list_restore_testing_plans))
        .route("/restore-testing/plans/", get(list_restore_testing_plans))
        .route(
            "/restore-testing/plans/{name}",
            get(get_restore_testing_plan),
        )
        .route(
            "/restore-testing/plans/{name}/selections",
            get(list_restore_testing_selections),
        )
        .route(
            "/restore-testing/plans/{name}/selections/{sel}",
            get(get_restore_testing_selection),
        )
        .route(
            "/_standin/restore-jobs",
            post(admin_add_restore_jobs).get(admin_list_restore_jobs),
        )
        .route("/_standin/restore-testing", post(admin_add_restore_testing))
}
