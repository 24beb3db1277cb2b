//! The stand-in's records, in AWS Backup's JSON member names.
//!
//! [`RecoveryPoint`] is the `ListRecoveryPointsByBackupVault` member shape and
//! [`BackupJob`] the `ListBackupJobs` member shape; both are what the admin endpoints
//! accept. Unknown members are rejected so that a typo in a scenario file is an error,
//! not a silently missing fact.

use super::time::{epoch, epoch_opt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `Lifecycle`: when a recovery point moves to cold storage and when it is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    /// Days after creation before moving to cold storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<i64>,
    /// Days after creation before deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<i64>,
    /// Archive tier opt-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_to_archive_for_supported_resources: Option<bool>,
}

/// `CalculatedLifecycle`: the instants the lifecycle works out to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CalculatedLifecycle {
    /// When the point moves to cold storage.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_at: Option<Timestamp>,
    /// When the point is deleted.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub delete_at: Option<Timestamp>,
}

/// `RecoveryPointCreator` (`CreatedBy`): the plan and rule that created a point or job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreatedBy {
    /// Plan id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_plan_id: Option<String>,
    /// Plan ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_plan_arn: Option<String>,
    /// Plan name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_plan_name: Option<String>,
    /// Plan version id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_plan_version: Option<String>,
    /// Rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_rule_id: Option<String>,
    /// Rule name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_rule_name: Option<String>,
    /// The rule's cron expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_rule_cron: Option<String>,
    /// The rule's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_rule_timezone: Option<String>,
}

/// A recovery point in the `ListRecoveryPointsByBackupVault` member shape.
///
/// Required: `BackupVaultName` (an existing vault), `ResourceArn`, `CreationDate`.
/// Filled in when absent: `RecoveryPointArn` (a fresh `arn:aws:backup:…:recovery-point:…`),
/// `BackupVaultArn`, `ResourceType` (from the resource ARN's service), `Status`
/// (`COMPLETED`), and `CalculatedLifecycle` from `CreationDate` + `Lifecycle` days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RecoveryPoint {
    /// The point's ARN (either ARN form AWS uses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_arn: Option<String>,
    /// The vault holding the point.
    pub backup_vault_name: String,
    /// The vault's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_arn: Option<String>,
    /// Source vault for copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_vault_arn: Option<String>,
    /// The protected resource (for DynamoDB, the table ARN).
    pub resource_arn: String,
    /// `DynamoDB`, `EBS`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The plan/rule that made it; absent for on-demand backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<CreatedBy>,
    /// The role used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// `CREATING`, `AVAILABLE`, `COMPLETED`, `PARTIAL`, `EXPIRED`, `STOPPED`, `DELETING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why the status is what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the backup was created.
    #[serde(with = "epoch")]
    pub creation_date: Timestamp,
    /// When the backup job was initiated.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub initiation_date: Option<Timestamp>,
    /// When the backup job completed.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<Timestamp>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_size_in_bytes: Option<i64>,
    /// Computed lifecycle instants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_lifecycle: Option<CalculatedLifecycle>,
    /// The lifecycle in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// KMS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    /// Whether encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_encrypted: Option<bool>,
    /// Last restore.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub last_restore_time: Option<Timestamp>,
    /// Parent (composite) point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_recovery_point_arn: Option<String>,
    /// Whether this is a parent (composite) point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_parent: Option<bool>,
    /// `BACKUP_VAULT`, `LOGICALLY_AIR_GAPPED_BACKUP_VAULT`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_type: Option<String>,
    /// `WARM`, `COLD`, `DELETED` (DescribeRecoveryPoint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// A backup job in the `ListBackupJobs` member shape.
///
/// Required: `BackupVaultName` (an existing vault), `ResourceArn`, `CreationDate`, `State`.
/// Filled in when absent: `BackupJobId`, `AccountId`, `BackupVaultArn`, `ResourceType`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BackupJob {
    /// Account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_job_id: Option<String>,
    /// Target vault.
    pub backup_vault_name: String,
    /// Target vault ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_arn: Option<String>,
    /// Vault type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_type: Option<String>,
    /// The point the job made (if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_arn: Option<String>,
    /// The point's lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_lifecycle: Option<Lifecycle>,
    /// KMS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    /// Whether encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_encrypted: Option<bool>,
    /// The resource backed up.
    pub resource_arn: String,
    /// When the job was created.
    #[serde(with = "epoch")]
    pub creation_date: Timestamp,
    /// When the job finished.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<Timestamp>,
    /// `CREATED`, `PENDING`, `RUNNING`, `ABORTING`, `ABORTED`, `COMPLETED`, `FAILED`,
    /// `EXPIRED`, `PARTIAL`.
    pub state: String,
    /// Why (for failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Progress, as a string (e.g. `"100.0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_done: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_size_in_bytes: Option<i64>,
    /// Role used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// The plan/rule that started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<CreatedBy>,
    /// Expected completion.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub expected_completion_date: Option<Timestamp>,
    /// Start deadline (end of the start window).
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub start_by: Option<Timestamp>,
    /// `DynamoDB`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Bytes transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_transferred: Option<i64>,
    /// Backup type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_type: Option<String>,
    /// Parent job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_job_id: Option<String>,
    /// Whether a parent job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_parent: Option<bool>,
    /// Resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// When initiated.
    #[serde(default, with = "epoch_opt", skip_serializing_if = "Option::is_none")]
    pub initiation_date: Option<Timestamp>,
    /// Message category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_category: Option<String>,
}

/// A backup rule as stored and returned by `GetBackupPlan` (`BackupRule`).
///
/// Members the stand-in does not interpret (`CopyActions`, `IndexActions`, ...) are kept
/// in `extra` and echoed back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupRule {
    /// Rule name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    /// Target vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_backup_vault_name: Option<String>,
    /// AWS cron expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    /// IANA time zone of the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression_timezone: Option<String>,
    /// Start window, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_window_minutes: Option<i64>,
    /// Completion window, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_window_minutes: Option<i64>,
    /// Lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Tags put on recovery points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_tags: Option<BTreeMap<String, String>>,
    /// Rule id (assigned by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Continuous backup (PITR) flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_continuous_backup: Option<bool>,
    /// Members echoed back unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `Condition`: one `ListOfTags` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    /// Always `STRINGEQUALS`.
    #[serde(default)]
    pub condition_type: String,
    /// Tag key.
    #[serde(default)]
    pub condition_key: String,
    /// Tag value.
    #[serde(default)]
    pub condition_value: String,
}

/// `ConditionParameter`: a key/value in `Conditions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionParameter {
    /// e.g. `aws:ResourceTag/backup-policy`.
    #[serde(default)]
    pub condition_key: String,
    /// Value (with `*` wildcards for the `Like` operators).
    #[serde(default)]
    pub condition_value: String,
}

/// `Conditions`: AND-ed tag conditions of a selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Conditions {
    /// `StringEquals`.
    #[serde(default)]
    pub string_equals: Vec<ConditionParameter>,
    /// `StringNotEquals`.
    #[serde(default)]
    pub string_not_equals: Vec<ConditionParameter>,
    /// `StringLike`.
    #[serde(default)]
    pub string_like: Vec<ConditionParameter>,
    /// `StringNotLike`.
    #[serde(default)]
    pub string_not_like: Vec<ConditionParameter>,
}

/// `BackupSelection` as returned by `GetBackupSelection`: every list present (empty when
/// not given), as AWS returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupSelection {
    /// Selection name.
    #[serde(default)]
    pub selection_name: Option<String>,
    /// Role Backup assumes.
    #[serde(default)]
    pub iam_role_arn: Option<String>,
    /// ARN patterns (OR-ed).
    #[serde(default)]
    pub resources: Vec<String>,
    /// Tag matches (OR-ed).
    #[serde(default)]
    pub list_of_tags: Vec<Condition>,
    /// ARN patterns excluded.
    #[serde(default)]
    pub not_resources: Vec<String>,
    /// AND-ed tag conditions.
    #[serde(default)]
    pub conditions: Conditions,
}
