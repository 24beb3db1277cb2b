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
    /// The value was read successfully.
    Known(T),
    /// The value could not be read; `reason` says why (error code, denied call, timeout...).
    Unknown {
        /// Human-readable reason the fact is unknown.
        reason: String,
    },
}

impl<T> Fact<T> {
    /// An unknown fact whose reason says why it could not be read.
    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact::Unknown {
            reason: reason.into(),
        }
    }

    /// The value, or `None` if it could not be read.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            Fact::Unknown { .. } => None,
        }
    }

    /// Why the fact could not be read, or `None` if it was.
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

/// A DynamoDB table as the policy sees it: identity, creation time and tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFacts {
    /// Table ARN, `arn:<partition>:dynamodb:<region>:<account>:table/<name>` (see
    /// [`crate::arn::TableArn`]).
    pub arn: String,
    /// The table's name (the last part of its ARN).
    pub name: String,
    /// The id of the account that owns the table.
    pub account: String,
    /// The region code the table lives in (`eu-west-1`).
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
    /// `BackupPlanId`: the plan's id, what selections, recovery points and jobs refer to.
    pub plan_id: String,
    /// `BackupPlanArn` (empty when judging a plan document that has not been created).
    pub plan_arn: String,
    /// `BackupPlanName`: the name people know the plan by (used in finding messages).
    pub name: String,
    /// `VersionId` of the version described (empty when unknown / a document).
    pub version_id: String,
    /// The plan's rules (`Rules`); the plan conforms iff one of them does.
    pub rules: Vec<RuleFacts>,
}

/// One rule of a backup plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFacts {
    /// `RuleId` (absent in plan documents that have not been created).
    pub rule_id: Option<String>,
    /// `RuleName`: the name people know the rule by (used in finding messages).
    pub name: String,
    /// `TargetBackupVaultName`: the vault the rule's recovery points are stored in.
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
    /// A condition on tag `key` (`aws:ResourceTag/<tag>` or `<tag>`) with `value`.
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
    /// `SelectionId`: the selection's id within its plan.
    pub selection_id: String,
    /// `SelectionName`: the name people know the selection by (used in finding messages).
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
    /// `CREATING`: the backup is still being taken (transitional).
    Creating,
    /// `AVAILABLE`: a complete backup that can be restored (good).
    Available,
    /// `COMPLETED` (older API word for available).
    Completed,
    /// `PARTIAL`: the backup did not complete (not good).
    Partial,
    /// `EXPIRED`: past retention but AWS Backup could not delete it.
    Expired,
    /// `STOPPED`: a continuous backup that was stopped (not good).
    Stopped,
    /// `DELETING`: the point is being deleted (transitional).
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

    /// The API word (`AVAILABLE`; an unknown status as it was read).
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
    /// `BackupPlanId` of the plan that made the point.
    pub plan_id: String,
    /// `BackupPlanArn` of the plan that made the point, if given.
    pub plan_arn: Option<String>,
    /// `BackupPlanVersion`: the plan version the rule belonged to when it made the point.
    pub plan_version: Option<String>,
    /// `BackupRuleId` of the rule that made the point, if given.
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
    /// `ResourceArn`: the ARN of the table the point is a backup of.
    pub resource_arn: String,
    /// `BackupVaultName`: the vault the point is stored in.
    pub vault_name: String,
    /// `Status`: whether the point can be relied on (see [`PointStatus`]).
    pub status: PointStatus,
    /// `CreationDate`: when the backup started; what slots are matched on.
    pub created: Timestamp,
    /// `CompletionDate`: when the backup completed, `None` if it has not.
    pub completed: Option<Timestamp>,
    /// `Lifecycle.DeleteAfterDays`; `None` = no expiry set. Readers must use
    /// `ListRecoveryPointsByBackupVault` (which returns lifecycle fields), not `…ByResource`.
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`; `None` = no cold-storage transition.
    pub move_to_cold_storage_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt`: when AWS Backup will delete the point, if it will.
    pub delete_at: Option<Timestamp>,
    /// `CreatedBy`; `None` means an on-demand (manual) backup. Shared: every point a rule made
    /// has the same creator, and an account holds tens of thousands of points.
    pub created_by: Option<Arc<CreatedBy>>,
    /// `IsEncrypted`: whether the point is encrypted; `None` = the response did not say (the
    /// vault checks then call the point's encryption unverifiable).
    #[serde(default)]
    pub is_encrypted: Option<bool>,
    /// `EncryptionKeyArn`: the KMS key that protects the point, if the response named one.
    #[serde(default)]
    pub encryption_key_arn: Option<String>,
}

/// The two recovery-point ARN forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointArnKind {
    /// `arn:<p>:backup:<region>:<account>:recovery-point:<id>`.
    BackupRecoveryPoint,
    /// `arn:<p>:dynamodb:<region>:<account>:table/<T>/backup/<id>`.
    DynamoDbBackup,
    /// Anything else (never a recovery point of a table).
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
    /// `CREATED`: the job exists but has not started.
    Created,
    /// `PENDING`: the job is waiting to run.
    Pending,
    /// `RUNNING`: the backup is being taken.
    Running,
    /// `ABORTING`: the job is being stopped.
    Aborting,
    /// `ABORTED`: the job was stopped before it made a backup (a failure).
    Aborted,
    /// `COMPLETED`: the job made a backup.
    Completed,
    /// `FAILED`: the job made no backup (a failure).
    Failed,
    /// `EXPIRED`: the job did not start within the start window.
    Expired,
    /// `PARTIAL`: the job made an incomplete backup (a failure).
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

    /// The API word (`FAILED`; an unknown state as it was read).
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
    /// `BackupJobId`: the job's id (the subject of `BACKUP_JOB_FAILED`).
    pub job_id: String,
    /// `ResourceArn`: the ARN of the table the job backed up.
    pub resource_arn: String,
    /// `State`: how far the job got (see [`JobState`]).
    pub state: JobState,
    /// `CreationDate`: when the job was created (jobs older than the retention are ignored).
    pub created: Timestamp,
    /// `CompletionDate`: when the job ended, if it has.
    pub completed: Option<Timestamp>,
    /// `StatusMessage`: AWS's explanation of the outcome, quoted in the finding.
    pub status_message: Option<String>,
    /// `CreatedBy.BackupPlanId`; `None` for on-demand jobs.
    pub plan_id: Option<String>,
}

/// A backup vault's Vault Lock settings, as `ListBackupVaults` returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultLock {
    /// `Locked`: a Vault Lock configuration is in place (in its grace time or permanent).
    pub locked: bool,
    /// `MinRetentionDays` of the lock, if set.
    #[serde(default)]
    pub min_retention_days: Option<i64>,
    /// `MaxRetentionDays` of the lock, if set.
    #[serde(default)]
    pub max_retention_days: Option<i64>,
    /// `LockDate`: when the lock becomes immutable (`None`: not set or already immutable).
    #[serde(default)]
    pub lock_date: Option<Timestamp>,
}

/// The state of a KMS key (`DescribeKey` `KeyMetadata.KeyState`), or that the key does not
/// exist (`NotFoundException`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyState {
    /// `Enabled`: the key can decrypt (the only usable state).
    Enabled,
    /// `Disabled`: nothing encrypted under the key can be decrypted until it is enabled.
    Disabled,
    /// `PendingDeletion`: the key will be deleted at the end of its waiting period.
    PendingDeletion,
    /// `PendingImport`: the key has no key material.
    PendingImport,
    /// `PendingReplicaDeletion`: a multi-Region replica being deleted.
    PendingReplicaDeletion,
    /// `Unavailable`: the key's custom key store is disconnected.
    Unavailable,
    /// `Creating`: the key is being created.
    Creating,
    /// `Updating`: a multi-Region key's primary is being updated.
    Updating,
    /// The key does not exist (`DescribeKey` answered `NotFoundException`).
    NotFound,
    /// A state this version does not know.
    Other(String),
}

impl KeyState {
    /// Parses the API word (`Enabled`, `PendingDeletion` …); unknown words become
    /// [`KeyState::Other`].
    pub fn from_api(s: &str) -> Self {
        match s.trim() {
            "Enabled" => KeyState::Enabled,
            "Disabled" => KeyState::Disabled,
            "PendingDeletion" => KeyState::PendingDeletion,
            "PendingImport" => KeyState::PendingImport,
            "PendingReplicaDeletion" => KeyState::PendingReplicaDeletion,
            "Unavailable" => KeyState::Unavailable,
            "Creating" => KeyState::Creating,
            "Updating" => KeyState::Updating,
            other => KeyState::Other(other.to_string()),
        }
    }

    /// The API word (`PendingDeletion`; `NotFound` for a key that does not exist).
    pub fn as_api(&self) -> &str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingImport => "PendingImport",
            KeyState::PendingReplicaDeletion => "PendingReplicaDeletion",
            KeyState::Unavailable => "Unavailable",
            KeyState::Creating => "Creating",
            KeyState::Updating => "Updating",
            KeyState::NotFound => "NotFound",
            KeyState::Other(s) => s,
        }
    }

    /// True only for `Enabled`: every other state leaves the vault's points undecryptable now
    /// or soon.
    pub fn is_usable(&self) -> bool {
        matches!(self, KeyState::Enabled)
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_api())
    }
}

/// What the vault checks ([`crate::vault`]) know about one backup vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultFacts {
    /// `BackupVaultName`.
    pub name: String,
    /// `BackupVaultArn`, if the listing gave one (the region and account of its points).
    #[serde(default)]
    pub arn: Option<String>,
    /// The Vault Lock fields (`Locked`, `MinRetentionDays`, `MaxRetentionDays`, `LockDate`).
    pub lock: Fact<VaultLock>,
    /// `EncryptionKeyArn`: the vault's KMS key, if it has one.
    #[serde(default)]
    pub encryption_key_arn: Option<String>,
    /// The vault access policy document (`GetBackupVaultAccessPolicy` `Policy`); `Known(None)`
    /// = the vault has no access policy (`ResourceNotFoundException`).
    pub access_policy: Fact<Option<String>>,
    /// The state of the vault's key (`DescribeKey`); unknown also when the vault names no key.
    pub key_state: Fact<KeyState>,
}
