//! Plain facts about an account, as read from AWS by the I/O layer (`awsio`).
//!
//! These structs deliberately contain no AWS SDK types: the readers translate SDK output into
//! them, and every decision in this crate is a pure function over them. All of them are
//! `serde` (de)serialisable so that scenarios, fixtures and reports can be stored as JSON.
//!
//! Anything that might fail to be read is wrapped in [`Fact`]: [`Fact::Unknown`] carries the
//! reason, and the policy never treats an unknown fact as compliant.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A fact that was either read successfully or could not be read (with the reason).
///
/// Serialised as `{"known": <value>}` or `{"unknown": {"reason": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    /// The value was read.
    Known(T),
    /// The value could not be read; `reason` says why (error code, denied call, timeout...).
    Unknown {
        /// Human-readable reason the fact is unknown.
        reason: String,
    },
}

impl<T> Fact<T> {
    /// Convenience constructor for [`Fact::Unknown`].
    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact::Unknown {
            reason: reason.into(),
        }
    }

    /// The value if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            Fact::Unknown { .. } => None,
        }
    }

    /// The reason if unknown.
    pub fn unknown_reason(&self) -> Option<&str> {
        match self {
            Fact::Known(_) => None,
            Fact::Unknown { reason } => Some(reason),
        }
    }

    /// Borrowing view of the fact.
    pub fn as_ref(&self) -> Fact<&T> {
        match self {
            Fact::Known(v) => Fact::Known(v),
            Fact::Unknown { reason } => Fact::Unknown {
                reason: reason.clone(),
            },
        }
    }
}

impl<T> From<Result<T, String>> for Fact<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Fact::Known(v),
            Err(reason) => Fact::Unknown { reason },
        }
    }
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFacts {
    /// Table ARN, `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    pub arn: String,
    /// Table name.
    pub name: String,
    /// Owning account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Creation time (`DescribeTable` `CreationDateTime`), if read. `None` means "not read
    /// (yet)": the policy then grants no grace period (see [`crate::slots`]).
    pub created: Option<Timestamp>,
    /// The table's tags (key → value).
    pub tags: Fact<BTreeMap<String, String>>,
}

/// An AWS Backup plan (one version of it: the current one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFacts {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanArn` (empty when judging a plan document that has not been created).
    pub plan_arn: String,
    /// `BackupPlanName`.
    pub name: String,
    /// `VersionId` of the version described (empty when unknown / a document).
    pub version_id: String,
    /// The plan's rules.
    pub rules: Vec<RuleFacts>,
}

/// One rule of a backup plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFacts {
    /// `RuleId` (absent in plan documents that have not been created).
    pub rule_id: Option<String>,
    /// `RuleName`.
    pub name: String,
    /// `TargetBackupVaultName`.
    pub target_vault: String,
    /// `ScheduleExpression` (e.g. `cron(0 0 15,25 * ? *)`); empty if the rule has none.
    pub schedule_expression: String,
    /// `ScheduleExpressionTimezone`; `None` means UTC (AWS's default).
    pub schedule_timezone: Option<String>,
    /// `StartWindowMinutes`; `None` means AWS's default (8 hours).
    pub start_window_minutes: Option<i64>,
    /// `CompletionWindowMinutes`; `None` means AWS's default (7 days).
    pub completion_window_minutes: Option<i64>,
    /// `Lifecycle.DeleteAfterDays`; `None` means recovery points are kept forever.
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`; `None` means no cold-storage transition.
    pub move_to_cold_storage_after_days: Option<i64>,
}

/// One `ConditionKey`/`ConditionValue` pair of a selection.
///
/// `key` may be written `aws:ResourceTag/owner` or bare `owner`; both denote the tag `owner`
/// (see [`TagCondition::tag_key`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TagCondition {
    /// The condition key (`aws:ResourceTag/<tag>` or `<tag>`).
    pub key: String,
    /// The condition value (may contain `*` wildcards for `StringLike`/`StringNotLike`).
    pub value: String,
}

/// The prefix AWS uses for tag condition keys.
pub const RESOURCE_TAG_PREFIX: &str = "aws:ResourceTag/";

impl TagCondition {
    /// Builds a condition.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        TagCondition {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The tag key this condition tests: `key` without a leading `aws:ResourceTag/`.
    pub fn tag_key(&self) -> &str {
        self.key
            .strip_prefix(RESOURCE_TAG_PREFIX)
            .unwrap_or(&self.key)
    }
}

impl fmt::Display for TagCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// A selection's `Conditions` block; every listed condition must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    /// `StringEquals`: the tag exists and equals the value.
    #[serde(default)]
    pub string_equals: Vec<TagCondition>,
    /// `StringNotEquals`: the tag is absent or differs from the value.
    #[serde(default)]
    pub string_not_equals: Vec<TagCondition>,
    /// `StringLike`: the tag exists and matches the `*` pattern.
    #[serde(default)]
    pub string_like: Vec<TagCondition>,
    /// `StringNotLike`: the tag is absent or does not match the `*` pattern.
    #[serde(default)]
    pub string_not_like: Vec<TagCondition>,
}

impl Conditions {
    /// True if no condition is listed.
    pub fn is_empty(&self) -> bool {
        self.string_equals.is_empty()
            && self.string_not_equals.is_empty()
            && self.string_like.is_empty()
            && self.string_not_like.is_empty()
    }
}

/// A backup selection (resource assignment) of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionFacts {
    /// `SelectionId`.
    pub selection_id: String,
    /// `SelectionName`.
    pub name: String,
    /// `BackupPlanId` the selection belongs to.
    pub plan_id: String,
    /// `Resources`: ARN patterns (`*` wildcards) that are included.
    #[serde(default)]
    pub resources: Vec<String>,
    /// `NotResources`: ARN patterns that are excluded (exclusion beats every inclusion).
    #[serde(default)]
    pub not_resources: Vec<String>,
    /// `ListOfTags`: `StringEquals` conditions OR-ed with `Resources`.
    #[serde(default)]
    pub list_of_tags: Vec<TagCondition>,
    /// `Conditions`: AND-ed conditions.
    #[serde(default)]
    pub conditions: Conditions,
}

/// What the account's AWS Backup configuration looks like: all plans and all selections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSetup {
    /// Every backup plan (current versions).
    pub plans: Fact<Vec<PlanFacts>>,
    /// Every selection of every plan.
    pub selections: Fact<Vec<SelectionFacts>>,
}

/// Alias: the account-wide facts the evaluation needs besides per-table facts.
pub type AccountFacts = BackupSetup;

/// The status of a recovery point (`RecoveryPointStatus`).
///
/// Only [`PointStatus::Available`] and [`PointStatus::Completed`] (the older API word) are
/// good; every other status, including unrecognised ones, is not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PointStatus {
    /// `CREATING`.
    Creating,
    /// `AVAILABLE`.
    Available,
    /// `COMPLETED` (older API word for available).
    Completed,
    /// `PARTIAL`.
    Partial,
    /// `EXPIRED`: past retention but AWS Backup could not delete it.
    Expired,
    /// `STOPPED`.
    Stopped,
    /// `DELETING`.
    Deleting,
    /// Any status this version does not know (the SDK enum is non-exhaustive).
    Unknown(String),
}

impl PointStatus {
    /// Parses the API word (case-insensitive); unrecognised words become [`PointStatus::Unknown`].
    pub fn from_api(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "CREATING" => PointStatus::Creating,
            "AVAILABLE" => PointStatus::Available,
            "COMPLETED" => PointStatus::Completed,
            "PARTIAL" => PointStatus::Partial,
            "EXPIRED" => PointStatus::Expired,
            "STOPPED" => PointStatus::Stopped,
            "DELETING" => PointStatus::Deleting,
            _ => PointStatus::Unknown(s.to_string()),
        }
    }

    /// The API word.
    pub fn as_api(&self) -> &str {
        match self {
            PointStatus::Creating => "CREATING",
            PointStatus::Available => "AVAILABLE",
            PointStatus::Completed => "COMPLETED",
            PointStatus::Partial => "PARTIAL",
            PointStatus::Expired => "EXPIRED",
            PointStatus::Stopped => "STOPPED",
            PointStatus::Deleting => "DELETING",
            PointStatus::Unknown(s) => s,
        }
    }

    /// True only for `AVAILABLE` and `COMPLETED`.
    pub fn is_good(&self) -> bool {
        matches!(self, PointStatus::Available | PointStatus::Completed)
    }

    /// True for statuses that are expected to change on their own (`CREATING`, `DELETING`).
    pub fn is_transitional(&self) -> bool {
        matches!(self, PointStatus::Creating | PointStatus::Deleting)
    }
}

impl fmt::Display for PointStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_api())
    }
}

/// The plan rule that created a recovery point (`CreatedBy` / `RecoveryPointCreator`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CreatedBy {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanArn`.
    pub plan_arn: Option<String>,
    /// `BackupPlanVersion`.
    pub plan_version: Option<String>,
    /// `BackupRuleId`.
    pub rule_id: Option<String>,
    /// `BackupRuleCron` (current API versions only).
    pub rule_cron: Option<String>,
    /// `BackupRuleTimezone` (current API versions only); `None` = UTC.
    pub rule_timezone: Option<String>,
}

/// A recovery point (backup) of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPointFacts {
    /// `RecoveryPointArn`: `arn:aws:backup:…:recovery-point:…` (DynamoDB advanced features on)
    /// or `arn:aws:dynamodb:…:table/T/backup/…` (off). Both are accepted everywhere.
    pub arn: String,
    /// `ResourceArn`: the table.
    pub resource_arn: String,
    /// `BackupVaultName`.
    pub vault_name: String,
    /// `Status`.
    pub status: PointStatus,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`, if completed.
    pub completed: Option<Timestamp>,
    /// `Lifecycle.DeleteAfterDays`; `None` = no expiry set. Readers must use
    /// `ListRecoveryPointsByBackupVault` (which returns lifecycle fields), not `…ByResource`.
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`; `None` = no cold-storage transition.
    pub move_to_cold_storage_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt`.
    pub delete_at: Option<Timestamp>,
    /// `CreatedBy`; `None` means an on-demand (manual) backup. Shared: every point a rule made
    /// has the same creator, and an account holds tens of thousands of points.
    pub created_by: Option<Arc<CreatedBy>>,
}

/// The two recovery-point ARN forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointArnKind {
    /// `arn:<p>:backup:<region>:<account>:recovery-point:<id>`.
    BackupRecoveryPoint,
    /// `arn:<p>:dynamodb:<region>:<account>:table/<T>/backup/<id>`.
    DynamoDbBackup,
    /// Anything else.
    Other,
}

impl RecoveryPointFacts {
    /// Which ARN form [`RecoveryPointFacts::arn`] has.
    pub fn arn_kind(&self) -> PointArnKind {
        point_arn_kind(&self.arn)
    }

    /// The table name embedded in a `…:table/T/backup/…` ARN, if that is the form.
    pub fn table_name_from_arn(&self) -> Option<&str> {
        dynamodb_backup_table_name(&self.arn)
    }

    /// True if the point is an on-demand (manual) backup (no `CreatedBy`).
    pub fn is_on_demand(&self) -> bool {
        self.created_by.is_none()
    }
}

/// Classifies a recovery-point ARN (see [`PointArnKind`]).
pub fn point_arn_kind(arn: &str) -> PointArnKind {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return PointArnKind::Other;
    }
    match parts[2] {
        "backup" if parts[5].starts_with("recovery-point:") => PointArnKind::BackupRecoveryPoint,
        "dynamodb" if dynamodb_backup_table_name(arn).is_some() => PointArnKind::DynamoDbBackup,
        _ => PointArnKind::Other,
    }
}

/// The table name in `arn:…:dynamodb:…:table/<T>/backup/<id>`, if `arn` has that form.
pub fn dynamodb_backup_table_name(arn: &str) -> Option<&str> {
    let rest = crate::arn::dynamodb_resource(arn)?.strip_prefix("table/")?;
    let (table, tail) = rest.split_once('/')?;
    let id = tail.strip_prefix("backup/")?;
    if table.is_empty() || id.is_empty() {
        return None;
    }
    Some(table)
}

/// The state of a backup job (`BackupJobState`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// `CREATED`.
    Created,
    /// `PENDING`.
    Pending,
    /// `RUNNING`.
    Running,
    /// `ABORTING`.
    Aborting,
    /// `ABORTED`.
    Aborted,
    /// `COMPLETED`.
    Completed,
    /// `FAILED`.
    Failed,
    /// `EXPIRED`: the job did not start within the start window.
    Expired,
    /// `PARTIAL`.
    Partial,
    /// A state this version does not know.
    Unknown(String),
}

impl JobState {
    /// Parses the API word (case-insensitive); unrecognised words become [`JobState::Unknown`].
    pub fn from_api(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "CREATED" => JobState::Created,
            "PENDING" => JobState::Pending,
            "RUNNING" => JobState::Running,
            "ABORTING" => JobState::Aborting,
            "ABORTED" => JobState::Aborted,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "EXPIRED" => JobState::Expired,
            "PARTIAL" => JobState::Partial,
            _ => JobState::Unknown(s.to_string()),
        }
    }

    /// The API word.
    pub fn as_api(&self) -> &str {
        match self {
            JobState::Created => "CREATED",
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Aborting => "ABORTING",
            JobState::Aborted => "ABORTED",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Expired => "EXPIRED",
            JobState::Partial => "PARTIAL",
            JobState::Unknown(s) => s,
        }
    }

    /// True for terminal states that did not produce a good backup:
    /// `ABORTED`, `FAILED`, `EXPIRED`, `PARTIAL` and unknown states.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            JobState::Aborted
                | JobState::Failed
                | JobState::Expired
                | JobState::Partial
                | JobState::Unknown(_)
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_api())
    }
}

/// A backup job (`ListBackupJobs`, which covers the last 30 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFacts {
    /// `BackupJobId`.
    pub job_id: String,
    /// `ResourceArn`.
    pub resource_arn: String,
    /// `State`.
    pub state: JobState,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `StatusMessage`.
    pub status_message: Option<String>,
    /// `CreatedBy.BackupPlanId`; `None` for on-demand jobs.
    pub plan_id: Option<String>,
}
