//! Scenario files: a declarative description of an AWS account (DynamoDB tables, AWS Backup
//! vaults, plans, selections, recovery points, backup jobs, "now") and of the findings it is
//! built to produce.
//!
//! Scenarios are JSON (`tests/scenarios/*.json`). Recovery points are tedious by hand, so a
//! table may carry a `backups` shorthand that [`Scenario::expand`] turns into one point per
//! scheduled slot of a plan rule (plus a `COMPLETED` backup job for each point younger than 30
//! days, the window `ListBackupJobs` covers). The expanded scenario is plain data in the same
//! format (no shorthand left, every ARN and job id filled in), so a generator can write it
//! directly and tests can compare against it.
//!
//! Vaults may carry (all optional) a Vault Lock (`"lock": {"min_retention_days",
//! "max_retention_days", "changeable_for_days"}`), an access policy (`"access_policy":
//! "deny-recovery-point-deletion"` or a policy document object) and a key state (`"key":
//! {"state": "Enabled" | "Disabled" | "PendingDeletion"}`; every vault gets its own KMS key in
//! moto, enabled by default); a point (or a shorthand override) may say `"encrypted": false`.
//!
//! ```json
//! {
//!   "name": "tiny", "now": "2026-11-25T12:00:00Z",
//!   "account": "123456789012", "region": "us-east-1",
//!   "vaults": [{"name": "backup-guard-vault"}],
//!   "plans": [{"name": "policy", "rules": [{"name": "twice-monthly-90d",
//!     "vault": "backup-guard-vault", "schedule": "cron(0 0 15,25 * ? *)", "timezone": "UTC",
//!     "start_window_minutes": 60, "completion_window_minutes": 180,
//!     "delete_after_days": 90}]}],
//!   "selections": [{"plan": "policy", "name": "all-tables",
//!     "resources": ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]}],
//!   "tables": [{"name": "orders", "created": "2026-01-10T09:00:00Z",
//!     "tags": {"owner": "team-orders"},
//!     "backups": {"plan": "policy", "rule": "twice-monthly-90d",
//!                 "skip": ["2026-10-15T00:00:00Z"]}}],
//!   "expectations": [{"table": "orders", "code": "MISSED_SLOT",
//!                     "subject": "2026-10-15T00:00:00Z"}]
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use policy::findings::{FindingCode, fnv1a64};
use policy::schedule::Schedule;
use serde::{Deserialize, Serialize};

/// The account moto serves by default.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The DynamoDB table the functions keep their de-duplication state in. Every scenario must
/// declare it: it is a table of the account like any other (backed up, tagged).
pub const STATE_TABLE: &str = "backup-guard-state";
/// `ListBackupJobs` only returns jobs of the last 30 days.
pub const JOB_HISTORY_DAYS: i64 = 30;

/// Why a scenario could not be loaded or expanded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid scenario JSON.
    #[error("scenario file {path} is not a valid scenario: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The JSON error (with line and column).
        source: serde_json::Error,
    },
    /// The scenario is inconsistent (an unknown plan, a duplicate table, ...).
    #[error("scenario `{scenario}`: {what}")]
    Invalid {
        /// Scenario name.
        scenario: String,
        /// What is wrong.
        what: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (`healthy`, `audit-finding`).
    pub name: String,
    /// What the scenario is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The instant the scenario describes; the verifier must be run with this "now".
    pub now: Timestamp,
    /// Account id (moto's default is `123456789012`).
    pub account: String,
    /// Region.
    pub region: String,
    /// Backup vaults.
    #[serde(default)]
    pub vaults: Vec<VaultSpec>,
    /// Backup plans.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
    /// Backup selections.
    #[serde(default)]
    pub selections: Vec<SelectionSpec>,
    /// DynamoDB tables.
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    /// Recovery points listed one by one (on-demand points, retries, anything irregular).
    #[serde(default)]
    pub recovery_points: Vec<PointSpec>,
    /// Backup jobs listed one by one (failed jobs, ...).
    #[serde(default)]
    pub backup_jobs: Vec<JobSpec>,
    /// Restore testing: the restore testing plan and its restore-job history (absent =
    /// restore testing not configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_testing: Option<RestoreTestingSpec>,
    /// The findings the scenario is built to produce, and only those.
    #[serde(default)]
    pub expectations: Vec<Expectation>,
}

/// Restore testing of the scenario: the plan (seeded into the stand-in, its ARN configured as
/// `BG_RESTORE_TESTING_PLAN_ARN`), the readiness options, and the plan's restore jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreTestingSpec {
    /// The restore testing plan's name (letters, digits, underscores).
    #[serde(default = "default_restore_plan")]
    pub plan: String,
    /// `BG_RESTORE_TEST_MAX_AGE_DAYS` (default: the policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    /// `BG_RESTORE_TIME_TARGET_MINUTES` (default: not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_target_minutes: Option<u32>,
    /// The plan's restore jobs.
    #[serde(default)]
    pub jobs: Vec<RestoreJobSpec>,
}

fn default_restore_plan() -> String {
    "backup_guard_restore_test".to_string()
}

fn default_restore_status() -> String {
    "COMPLETED".to_string()
}

/// One restore job of the restore testing plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreJobSpec {
    /// `RestoreJobId`; generated deterministically if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The table restored (its `SourceResourceArn`).
    pub table: String,
    /// `Status` (default `COMPLETED`).
    #[serde(default = "default_restore_status")]
    pub status: String,
    /// `ValidationStatus` (`SUCCESSFUL`, `FAILED`, `TIMED_OUT`, `VALIDATING`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
    /// `ValidationStatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_message: Option<String>,
    /// `StatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// `CreationDate`.
    pub created: Timestamp,
    /// How long the restore took (`CompletionDate` − `CreationDate`), minutes; default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    /// Why the job is in the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A backup vault. Every vault gets its own KMS key, created in moto (enabled unless `key`
/// says otherwise); no lock and no access policy unless given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSpec {
    /// Vault name.
    pub name: String,
    /// A Vault Lock (PutBackupVaultLockConfiguration), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<VaultLockSpec>,
    /// The vault access policy (PutBackupVaultAccessPolicy): the string
    /// `"deny-recovery-point-deletion"` (the template's statement without a condition: Deny
    /// `backup:DeleteRecoveryPoint`, `backup:UpdateRecoveryPointLifecycle`,
    /// `backup:PutBackupVaultAccessPolicy` to `*`), or a policy
    /// document as a JSON object. Absent = no policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_policy: Option<serde_json::Value>,
    /// The vault's KMS key.
    #[serde(default, skip_serializing_if = "KeySpec::is_default")]
    pub key: KeySpec,
}

/// The `access_policy` shorthand for the deny statement AWS Config's
/// `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED` asks for.
pub const DENY_DELETION_POLICY: &str = "deny-recovery-point-deletion";

impl VaultSpec {
    /// The access policy document to put, if any (the shorthand expanded).
    pub fn access_policy_document(&self) -> Option<String> {
        match self.access_policy.as_ref()? {
            serde_json::Value::String(s) if s == DENY_DELETION_POLICY => Some(
                serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyManualDeletion",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": [
                            "backup:DeleteRecoveryPoint",
                            "backup:UpdateRecoveryPointLifecycle",
                            "backup:PutBackupVaultAccessPolicy"
                        ],
                        "Resource": "*"
                    }]
                })
                .to_string(),
            ),
            other => Some(other.to_string()),
        }
    }
}

/// A Vault Lock configuration (PutBackupVaultLockConfiguration's members).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultLockSpec {
    /// `MinRetentionDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retention_days: Option<i64>,
    /// `MaxRetentionDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_days: Option<i64>,
    /// `ChangeableForDays` (≥ 3; absent = governance mode, no lock date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changeable_for_days: Option<i64>,
}

/// The state a vault's KMS key is put in after moto creates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStateSpec {
    /// `Enabled`.
    #[default]
    Enabled,
    /// `Disabled` (DisableKey).
    Disabled,
    /// `PendingDeletion` (ScheduleKeyDeletion, 7 days).
    PendingDeletion,
}

/// A vault's KMS key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// Its state (`Enabled`, `Disabled`, `PendingDeletion`).
    #[serde(default)]
    pub state: KeyStateSpec,
}

impl KeySpec {
    /// True for the default (an enabled key).
    pub fn is_default(&self) -> bool {
        *self == KeySpec::default()
    }
}

/// A backup plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// Plan name (`BackupPlanName`); the scenario refers to plans by name.
    pub name: String,
    /// Rules.
    pub rules: Vec<RuleSpec>,
}

/// A backup plan rule (`BackupRuleInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name.
    pub name: String,
    /// Target vault name.
    pub vault: String,
    /// `ScheduleExpression`, e.g. `cron(0 0 15,25 * ? *)`.
    pub schedule: String,
    /// `ScheduleExpressionTimezone`; absent means UTC, as in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `StartWindowMinutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_window_minutes: Option<i64>,
    /// `CompletionWindowMinutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_window_minutes: Option<i64>,
    /// `Lifecycle.DeleteAfterDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<i64>,
}

impl RuleSpec {
    /// The rule's time zone (`UTC` when absent, as AWS Backup does).
    pub fn timezone_or_utc(&self) -> &str {
        self.timezone.as_deref().unwrap_or("UTC")
    }
}

/// A tag match: a `ListOfTags` entry (`STRINGEQUALS`) or one condition of `Conditions`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagMatch {
    /// `ConditionKey` exactly as sent to AWS (`aws:ResourceTag/owner` or `owner`).
    pub key: String,
    /// `ConditionValue`.
    pub value: String,
}

/// A selection's `Conditions` (AND-ed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionsSpec {
    /// `StringEquals`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_equals: Vec<TagMatch>,
    /// `StringNotEquals`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_not_equals: Vec<TagMatch>,
    /// `StringLike`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_like: Vec<TagMatch>,
    /// `StringNotLike`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_not_like: Vec<TagMatch>,
}

impl ConditionsSpec {
    /// True if no condition is set.
    pub fn is_empty(&self) -> bool {
        self.string_equals.is_empty()
            && self.string_not_equals.is_empty()
            && self.string_like.is_empty()
            && self.string_not_like.is_empty()
    }
}

/// A backup selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionSpec {
    /// Name of the plan the selection belongs to.
    pub plan: String,
    /// `SelectionName`.
    pub name: String,
    /// `IamRoleArn`; defaults to the account's `AWSBackupDefaultServiceRole`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// `Resources` (ARN patterns with `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// `NotResources`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_resources: Vec<String>,
    /// `ListOfTags` (each `STRINGEQUALS`, OR-ed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list_of_tags: Vec<TagMatch>,
    /// `Conditions` (AND-ed).
    #[serde(default, skip_serializing_if = "ConditionsSpec::is_empty")]
    pub conditions: ConditionsSpec,
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Creation time (set in moto through the launcher's admin endpoint, so `DescribeTable`
    /// returns it).
    pub created: Timestamp,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Point-in-time recovery enabled.
    #[serde(default)]
    pub pitr: bool,
    /// Table status for documentation only: moto always reports `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// TTL attribute to enable (the state table's `expires_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_attribute: Option<String>,
    /// Shorthand for the table's scheduled recovery points (removed by [`Scenario::expand`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups: Option<BackupsShorthand>,
    /// Why the table is in the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which of the two recovery-point ARN forms AWS uses for a DynamoDB table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArnForm {
    /// `arn:aws:backup:<region>:<account>:recovery-point:<id>` (advanced features on).
    #[default]
    Backup,
    /// `arn:aws:dynamodb:<region>:<account>:table/<T>/backup/<id>` (advanced features off).
    Dynamodb,
}

/// One point per scheduled slot of a plan rule, from `from` (default: the table's creation)
/// to `until` (default: now); points whose lifecycle has already deleted them are left out, as
/// AWS Backup deletes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsShorthand {
    /// Plan name.
    pub plan: String,
    /// Rule name (its schedule gives the slots, its lifecycle the points' lifecycle).
    pub rule: String,
    /// First instant considered (default: the table's creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// Last instant considered, exclusive (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Slots with no point (missed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<Timestamp>,
    /// Per-slot changes, keyed by the slot instant (RFC 3339, e.g. `2026-10-15T00:00:00Z`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<Timestamp, PointOverride>,
    /// Minutes after the slot the point is created (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_delay_minutes: Option<i64>,
    /// Minutes from creation to completion (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<i64>,
    /// ARN form of the points.
    #[serde(default)]
    pub arn_form: ArnForm,
}

/// A change to one generated point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointOverride {
    /// Status instead of `COMPLETED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `DeleteAfterDays` instead of the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<i64>,
    /// `MoveToColdStorageAfterDays` instead of the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<i64>,
    /// Minutes after the slot the point is created, instead of the shorthand's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_delay_minutes: Option<i64>,
    /// Minutes from creation to completion, instead of the shorthand's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<i64>,
    /// `IsEncrypted` instead of `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
}

/// One recovery point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    /// Table name.
    pub table: String,
    /// `RecoveryPointArn`; generated deterministically from table and creation time if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// ARN form used when the ARN is generated.
    #[serde(default)]
    pub arn_form: ArnForm,
    /// Vault (default: the rule's target vault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Plan name for `CreatedBy`; absent = on-demand (manual) backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Rule name for `CreatedBy` (required with `plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The slot this point was made for (informational; set by the shorthand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<Timestamp>,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate` (default: 20 minutes after creation unless the status is `CREATING`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Timestamp>,
    /// `Status` (default `COMPLETED`).
    #[serde(default = "default_point_status")]
    pub status: String,
    /// `Lifecycle.DeleteAfterDays` (absent = kept forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt` (default: creation + `delete_after_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_at: Option<Timestamp>,
    /// `IsEncrypted` (default `true`, with the vault's key as `EncryptionKeyArn`; `false`:
    /// no key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// Why the point is in the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn default_point_status() -> String {
    "COMPLETED".to_string()
}

/// One backup job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// `BackupJobId`; generated deterministically if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Table name.
    pub table: String,
    /// Vault (default: the rule's target vault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Plan name for `CreatedBy`; absent = on-demand job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Rule name for `CreatedBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `State`.
    pub state: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Timestamp>,
    /// `StatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// `RecoveryPointArn` of the point the job made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_arn: Option<String>,
    /// Why the job is in the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A finding the scenario is built to produce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Table name.
    pub table: String,
    /// Finding code (`MISSED_SLOT`, ...), as `policy::FindingCode` spells it.
    pub code: String,
    /// The finding's subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectSpec>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A finding's subject: literal text, or a reference resolved by [`Scenario::expand`]
/// (points, jobs) or by the local account once seeded (plan ids).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubjectSpec {
    /// Literal subject: a slot instant, a tag key, a job id, an ARN.
    Text(String),
    /// A reference.
    Ref(SubjectRef),
}

/// A reference to something whose identifier is only known after expansion or seeding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SubjectRef {
    /// The id AWS Backup gave the named plan.
    Plan(String),
    /// The ARN of a recovery point of `table`, made for `slot` or created at `created`.
    Point {
        /// Table name.
        table: String,
        /// The point's slot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slot: Option<Timestamp>,
        /// The point's creation time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created: Option<Timestamp>,
    },
}

/// An expected finding with every reference resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExpectedFinding {
    /// Table name.
    pub table: String,
    /// Finding code.
    pub code: FindingCode,
    /// Subject, as the finding carries it.
    pub subject: Option<String>,
}

impl Scenario {
    /// Parses a scenario from JSON text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|source| ScenarioError::Parse {
                path: origin.to_string(),
                source,
            })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads and validates a scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// A scenario shipped in `tests/scenarios/<name>.json`.
    pub fn shipped(name: &str) -> Result<Scenario, ScenarioError> {
        Self::load(scenarios_dir().join(format!("{name}.json")))
    }

    /// Pretty JSON (what a generator writes).
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn invalid(&self, what: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            scenario: self.name.clone(),
            what: what.into(),
        }
    }

    /// The scenario moved to `account` in `region`: its `account`/`region` replaced, and in
    /// every ARN it holds (selection resources, IAM roles, recovery point ARNs, policies) the
    /// old account id and region replaced by the new ones.
    pub fn rehomed(&self, account: &str, region: &str) -> Result<Scenario, ScenarioError> {
        fn walk(v: &mut serde_json::Value, from: &[(String, String)]) {
            match v {
                serde_json::Value::String(s) if s.contains("arn:") => {
                    for (a, b) in from {
                        *s = s.replace(a.as_str(), b);
                    }
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, from)),
                serde_json::Value::Object(m) => m.values_mut().for_each(|i| walk(i, from)),
                _ => {}
            }
        }
        let mut v = serde_json::to_value(self).map_err(|e| ScenarioError::Invalid {
            scenario: self.name.clone(),
            what: e.to_string(),
        })?;
        let mut from = vec![(format!(":{}:", self.account), format!(":{account}:"))];
        if self.region != region {
            from.push((format!(":{}:", self.region), format!(":{region}:")));
        }
        walk(&mut v, &from);
        v["account"] = account.into();
        v["region"] = region.into();
        Scenario::from_json(
            &v.to_string(),
            &format!("{} in {account}/{region}", self.name),
        )
    }

    /// The partition of the scenario's region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// The ARN of a table of this account.
    pub fn table_arn(&self, table: &str) -> String {
        format!(
            "arn:{}:dynamodb:{}:{}:table/{table}",
            self.partition(),
            self.region,
            self.account
        )
    }

    /// A plan by name.
    pub fn plan(&self, name: &str) -> Option<&PlanSpec> {
        self.plans.iter().find(|p| p.name == name)
    }

    /// A rule of a plan, by names.
    pub fn rule(&self, plan: &str, rule: &str) -> Option<&RuleSpec> {
        self.plan(plan)?.rules.iter().find(|r| r.name == rule)
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Checks names are unique and every reference resolves.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid(format!("account {:?} is not a 12-digit id", self.account)));
        }
        if self.region.is_empty() {
            return Err(self.invalid("region is empty"));
        }
        unique(self, "vault", self.vaults.iter().map(|v| v.name.as_str()))?;
        for v in &self.vaults {
            match &v.access_policy {
                None | Some(serde_json::Value::Object(_)) => {}
                Some(serde_json::Value::String(s)) if s == DENY_DELETION_POLICY => {}
                Some(other) => {
                    return Err(self.invalid(format!(
                        "vault `{}`: access_policy {other} is neither \"{DENY_DELETION_POLICY}\" nor a policy document (a JSON object)",
                        v.name
                    )));
                }
            }
        }
        unique(self, "plan", self.plans.iter().map(|p| p.name.as_str()))?;
        unique(self, "table", self.tables.iter().map(|t| t.name.as_str()))?;
        if self.table(STATE_TABLE).is_none() {
            return Err(self.invalid(format!(
                "the state table `{STATE_TABLE}` is not declared; every scenario declares it \
                 (it is a table of the account like any other)"
            )));
        }
        let vaults: BTreeSet<&str> = self.vaults.iter().map(|v| v.name.as_str()).collect();
        for plan in &self.plans {
            if plan.rules.is_empty() {
                return Err(self.invalid(format!("plan `{}` has no rules", plan.name)));
            }
            unique(
                self,
                &format!("rule of plan `{}`", plan.name),
                plan.rules.iter().map(|r| r.name.as_str()),
            )?;
            for rule in &plan.rules {
                if !vaults.contains(rule.vault.as_str()) {
                    return Err(self.invalid(format!(
                        "rule `{}` of plan `{}` targets unknown vault `{}`",
                        rule.name, plan.name, rule.vault
                    )));
                }
                Schedule::new(&rule.schedule, rule.timezone_or_utc()).map_err(|e| {
                    self.invalid(format!(
                        "rule `{}` of plan `{}`: bad schedule {:?}: {e}",
                        rule.name, plan.name, rule.schedule
                    ))
                })?;
            }
        }
        let mut selection_names = BTreeSet::new();
        for sel in &self.selections {
            if self.plan(&sel.plan).is_none() {
                return Err(self.invalid(format!(
                    "selection `{}` names unknown plan `{}`",
                    sel.name, sel.plan
                )));
            }
            if !selection_names.insert((&sel.plan, &sel.name)) {
                return Err(self.invalid(format!(
                    "selection `{}` of plan `{}` is declared twice",
                    sel.name, sel.plan
                )));
            }
            if sel.resources.is_empty() && sel.list_of_tags.is_empty() {
                return Err(self.invalid(format!(
                    "selection `{}` has neither resources nor list_of_tags",
                    sel.name
                )));
            }
        }
        for t in &self.tables {
            if let Some(b) = &t.backups {
                self.rule(&b.plan, &b.rule).ok_or_else(|| {
                    self.invalid(format!(
                        "table `{}`: backups name unknown plan/rule `{}`/`{}`",
                        t.name, b.plan, b.rule
                    ))
                })?;
            }
        }
        for p in &self.recovery_points {
            self.check_origin(
                "recovery point",
                &p.table,
                p.plan.as_deref(),
                p.rule.as_deref(),
            )?;
            if let Some(v) = &p.vault
                && !vaults.contains(v.as_str())
            {
                return Err(self.invalid(format!(
                    "recovery point of `{}` at {}: unknown vault `{v}`",
                    p.table, p.created
                )));
            }
            if p.vault.is_none() && p.plan.is_none() {
                return Err(self.invalid(format!(
                    "recovery point of `{}` at {}: an on-demand point needs a vault",
                    p.table, p.created
                )));
            }
        }
        for j in &self.backup_jobs {
            self.check_origin("backup job", &j.table, j.plan.as_deref(), j.rule.as_deref())?;
            if j.vault.is_none() && j.plan.is_none() {
                return Err(self.invalid(format!(
                    "backup job of `{}` at {}: an on-demand job needs a vault",
                    j.table, j.created
                )));
            }
        }
        if let Some(rt) = &self.restore_testing {
            if rt.plan.is_empty()
                || !rt
                    .plan
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(self.invalid(format!(
                    "restore testing plan name {:?} may hold only letters, digits and underscores",
                    rt.plan
                )));
            }
            for j in &rt.jobs {
                if self.table(&j.table).is_none() {
                    return Err(
                        self.invalid(format!("restore job names unknown table `{}`", j.table))
                    );
                }
            }
        }
        for e in &self.expectations {
            if self.table(&e.table).is_none() {
                return Err(self.invalid(format!("expectation names unknown table `{}`", e.table)));
            }
            if FindingCode::parse(&e.code).is_none() {
                return Err(self.invalid(format!(
                    "expectation for `{}` has unknown code `{}`",
                    e.table, e.code
                )));
            }
            if let Some(SubjectSpec::Ref(SubjectRef::Plan(p))) = &e.subject
                && self.plan(p).is_none()
            {
                return Err(self.invalid(format!(
                    "expectation for `{}` names unknown plan `{p}`",
                    e.table
                )));
            }
        }
        Ok(())
    }

    fn check_origin(
        &self,
        what: &str,
        table: &str,
        plan: Option<&str>,
        rule: Option<&str>,
    ) -> Result<(), ScenarioError> {
        if self.table(table).is_none() {
            return Err(self.invalid(format!("{what} names unknown table `{table}`")));
        }
        match (plan, rule) {
            (None, None) => Ok(()),
            (Some(p), Some(r)) if self.rule(p, r).is_some() => Ok(()),
            (Some(p), Some(r)) => Err(self.invalid(format!(
                "{what} of `{table}` names unknown plan/rule `{p}`/`{r}`"
            ))),
            _ => Err(self.invalid(format!(
                "{what} of `{table}`: give both plan and rule, or neither (on-demand)"
            ))),
        }
    }

    /// The scenario with every shorthand expanded: `backups` replaced by explicit recovery
    /// points (and `COMPLETED` jobs for points younger than 30 days), every point's ARN,
    /// vault, completion and `DeleteAt` filled in, every job's id and vault filled in, and
    /// point subjects of expectations resolved to ARNs. Plan references stay (their ids exist
    /// only once seeded). Expanding an expanded scenario changes nothing.
    pub fn expand(&self) -> Result<Scenario, ScenarioError> {
        self.validate()?;
        let mut out = self.clone();
        let mut points = Vec::new();
        let mut jobs = Vec::new();
        for table in &mut out.tables {
            let Some(b) = table.backups.take() else {
                continue;
            };
            let (p, j) = self.expand_shorthand(table, &b)?;
            points.extend(p);
            jobs.extend(j);
        }
        points.append(&mut out.recovery_points);
        for p in &mut points {
            self.complete_point(p)?;
        }
        points.sort_by(|a, b| (&a.table, a.created).cmp(&(&b.table, b.created)));
        unique(
            self,
            "recovery point ARN",
            points.iter().map(|p| p.arn.as_deref().unwrap_or_default()),
        )?;
        jobs.append(&mut out.backup_jobs);
        for j in &mut jobs {
            self.complete_job(j)?;
        }
        jobs.sort_by(|a, b| (&a.table, a.created).cmp(&(&b.table, b.created)));
        unique(
            self,
            "backup job id",
            jobs.iter().map(|j| j.id.as_deref().unwrap_or_default()),
        )?;
        out.recovery_points = points;
        out.backup_jobs = jobs;
        for e in &mut out.expectations {
            if let Some(SubjectSpec::Ref(SubjectRef::Point {
                table,
                slot,
                created,
            })) = &e.subject
            {
                let arn = resolve_point(&out.recovery_points, table, *slot, *created)
                    .map_err(|why| self.invalid(format!("expectation for `{}`: {why}", e.table)))?;
                e.subject = Some(SubjectSpec::Text(arn));
            }
        }
        Ok(out)
    }

    fn expand_shorthand(
        &self,
        table: &TableSpec,
        b: &BackupsShorthand,
    ) -> Result<(Vec<PointSpec>, Vec<JobSpec>), ScenarioError> {
        let rule = self.rule(&b.plan, &b.rule).ok_or_else(|| {
            self.invalid(format!(
                "table `{}`: unknown plan/rule `{}`/`{}`",
                table.name, b.plan, b.rule
            ))
        })?;
        let schedule = Schedule::new(&rule.schedule, rule.timezone_or_utc())
            .map_err(|e| self.invalid(format!("rule `{}`: {e}", rule.name)))?;
        let from = b.from.unwrap_or(table.created);
        let until = b.until.unwrap_or(self.now);
        let slots = schedule.fires_between(from, until);
        for s in b.skip.iter().chain(b.overrides.keys()) {
            if !slots.contains(s) {
                return Err(self.invalid(format!(
                    "table `{}`: {s} is not a slot of rule `{}` between {from} and {until}",
                    table.name, rule.name
                )));
            }
        }
        let mut points = Vec::new();
        let mut jobs = Vec::new();
        for slot in slots {
            if b.skip.contains(&slot) {
                continue;
            }
            let o = b.overrides.get(&slot).cloned().unwrap_or_default();
            let delay = o.start_delay_minutes.or(b.start_delay_minutes).unwrap_or(5);
            let duration = o.duration_minutes.or(b.duration_minutes).unwrap_or(20);
            let created = slot + SignedDuration::from_mins(delay);
            let completed = created + SignedDuration::from_mins(duration);
            if completed > self.now {
                // Still running at "now": AWS lists it as CREATING; the shorthand leaves it out.
                continue;
            }
            let delete_after_days = o.delete_after_days.or(rule.delete_after_days);
            let mut point = PointSpec {
                table: table.name.clone(),
                arn: None,
                arn_form: b.arn_form,
                vault: Some(rule.vault.clone()),
                plan: Some(b.plan.clone()),
                rule: Some(b.rule.clone()),
                slot: Some(slot),
                created,
                completed: Some(completed),
                status: o.status.clone().unwrap_or_else(default_point_status),
                delete_after_days,
                move_to_cold_storage_after_days: o
                    .move_to_cold_storage_after_days
                    .or(rule.move_to_cold_storage_after_days),
                delete_at: None,
                encrypted: o.encrypted,
                note: None,
            };
            self.complete_point(&mut point)?;
            if point.delete_at.is_some_and(|d| d <= self.now) {
                // AWS Backup has deleted it.
                continue;
            }
            if created >= self.now - SignedDuration::from_hours(24 * JOB_HISTORY_DAYS) {
                let state = match point.status.as_str() {
                    "COMPLETED" | "AVAILABLE" => "COMPLETED",
                    "PARTIAL" => "PARTIAL",
                    _ => "FAILED",
                };
                jobs.push(JobSpec {
                    id: None,
                    table: table.name.clone(),
                    vault: Some(rule.vault.clone()),
                    plan: Some(b.plan.clone()),
                    rule: Some(b.rule.clone()),
                    state: state.to_string(),
                    created: slot,
                    completed: Some(completed),
                    status_message: None,
                    recovery_point_arn: point.arn.clone(),
                    note: None,
                });
            }
            points.push(point);
        }
        Ok((points, jobs))
    }

    fn complete_point(&self, p: &mut PointSpec) -> Result<(), ScenarioError> {
        if p.vault.is_none()
            && let (Some(plan), Some(rule)) = (&p.plan, &p.rule)
        {
            p.vault = self.rule(plan, rule).map(|r| r.vault.clone());
        }
        if p.arn.is_none() {
            p.arn = Some(point_arn(
                self.partition(),
                &self.region,
                &self.account,
                &p.table,
                p.created,
                p.arn_form,
            ));
        }
        if p.completed.is_none() && p.status != "CREATING" {
            p.completed = Some(p.created + SignedDuration::from_mins(20));
        }
        if p.delete_at.is_none()
            && let Some(days) = p.delete_after_days
        {
            let at = p
                .created
                .checked_add(SignedDuration::from_hours(24 * days))
                .map_err(|e| {
                    self.invalid(format!(
                        "recovery point of `{}`: delete_after_days {days}: {e}",
                        p.table
                    ))
                })?;
            p.delete_at = Some(at);
        }
        Ok(())
    }

    fn complete_job(&self, j: &mut JobSpec) -> Result<(), ScenarioError> {
        if j.vault.is_none()
            && let (Some(plan), Some(rule)) = (&j.plan, &j.rule)
        {
            j.vault = self.rule(plan, rule).map(|r| r.vault.clone());
        }
        if j.id.is_none() {
            j.id = Some(job_id(&self.table_arn(&j.table), j.created, &j.state));
        }
        Ok(())
    }

    /// The expectations with point subjects resolved (expand first for shorthand points) and
    /// plan subjects resolved through `plan_id` (name → id); `None` from `plan_id` is an error.
    pub fn expected_findings(
        &self,
        plan_id: impl Fn(&str) -> Option<String>,
    ) -> Result<BTreeSet<ExpectedFinding>, ScenarioError> {
        let expanded = self.expand()?;
        let mut out = BTreeSet::new();
        for e in &expanded.expectations {
            let code = FindingCode::parse(&e.code)
                .ok_or_else(|| self.invalid(format!("unknown code `{}`", e.code)))?;
            let subject = match &e.subject {
                None => None,
                Some(SubjectSpec::Text(s)) => Some(s.clone()),
                Some(SubjectSpec::Ref(SubjectRef::Plan(p))) => {
                    Some(plan_id(p).ok_or_else(|| {
                        self.invalid(format!("plan `{p}` has no id (not seeded?)"))
                    })?)
                }
                Some(SubjectSpec::Ref(SubjectRef::Point { table, .. })) => {
                    return Err(self.invalid(format!("unresolved point subject for `{table}`")));
                }
            };
            out.insert(ExpectedFinding {
                table: e.table.clone(),
                code,
                subject,
            });
        }
        Ok(out)
    }
}

fn resolve_point(
    points: &[PointSpec],
    table: &str,
    slot: Option<Timestamp>,
    created: Option<Timestamp>,
) -> Result<String, String> {
    let matching: Vec<&PointSpec> = points
        .iter()
        .filter(|p| p.table == table)
        .filter(|p| slot.is_none() || p.slot == slot)
        .filter(|p| created.is_none() || Some(p.created) == created)
        .collect();
    if slot.is_none() && created.is_none() {
        return Err(format!("point of `{table}` needs `slot` or `created`"));
    }
    match matching.as_slice() {
        [one] => Ok(one.arn.clone().unwrap_or_default()),
        [] => Err(format!(
            "no recovery point of `{table}` with slot {slot:?} / created {created:?}"
        )),
        _ => Err(format!(
            "{} recovery points of `{table}` match slot {slot:?} / created {created:?}; add `created`",
            matching.len()
        )),
    }
}

fn unique<'a>(
    s: &Scenario,
    what: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), ScenarioError> {
    let mut seen = BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(s.invalid(format!("{what} `{n}` is declared twice")));
        }
    }
    Ok(())
}

/// The partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn hex_id(seed: &str) -> (u64, u64) {
    let a = fnv1a64(seed.as_bytes());
    let b = fnv1a64(format!("{seed}\u{1f}{a:016x}").as_bytes());
    (a, b)
}

fn uuid_like(seed: &str) -> String {
    let (a, b) = hex_id(seed);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// A deterministic recovery-point ARN for a table's point created at `created`.
pub fn point_arn(
    partition: &str,
    region: &str,
    account: &str,
    table: &str,
    created: Timestamp,
    form: ArnForm,
) -> String {
    let seed = format!("{account}/{region}/{table}/{}", created.as_millisecond());
    match form {
        ArnForm::Backup => format!(
            "arn:{partition}:backup:{region}:{account}:recovery-point:{}",
            uuid_like(&seed)
        ),
        ArnForm::Dynamodb => format!(
            "arn:{partition}:dynamodb:{region}:{account}:table/{table}/backup/{:014}-{:08x}",
            created.as_millisecond(),
            hex_id(&seed).0 >> 32
        ),
    }
}

/// A deterministic backup job id.
pub fn job_id(table_arn: &str, created: Timestamp, state: &str) -> String {
    uuid_like(&format!(
        "job/{table_arn}/{}/{state}",
        created.as_millisecond()
    ))
    .to_uppercase()
}

/// `tests/scenarios` of this crate.
pub fn scenarios_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Scenario {
        Scenario::from_json(
            r#"{
              "name": "tiny", "now": "2026-11-25T12:00:00Z",
              "account": "123456789012", "region": "us-east-1",
              "vaults": [{"name": "v"}],
              "plans": [{"name": "p", "rules": [{"name": "r", "vault": "v",
                "schedule": "cron(0 0 15,25 * ? *)", "timezone": "UTC",
                "start_window_minutes": 60, "completion_window_minutes": 180,
                "delete_after_days": 90}]}],
              "selections": [{"plan": "p", "name": "all",
                "resources": ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]}],
              "tables": [
                {"name": "backup-guard-state", "created": "2026-01-01T00:00:00Z"},
                {"name": "t", "created": "2026-01-10T09:00:00Z",
                 "backups": {"plan": "p", "rule": "r", "skip": ["2026-10-15T00:00:00Z"],
                   "overrides": {"2026-11-15T00:00:00Z": {"status": "PARTIAL"}}}}],
              "expectations": [
                {"table": "t", "code": "MISSED_SLOT", "subject": "2026-10-15T00:00:00Z"},
                {"table": "t", "code": "BAD_RECOVERY_POINT",
                 "subject": {"point": {"table": "t", "slot": "2026-11-15T00:00:00Z"}}}]
            }"#,
            "tiny",
        )
        .unwrap()
    }

    #[test]
    fn shorthand_expands_to_live_points_and_recent_jobs() {
        let s = tiny().expand().unwrap();
        let slots: Vec<String> = s
            .recovery_points
            .iter()
            .map(|p| p.slot.unwrap().to_string())
            .collect();
        // 90-day points of slots before 2026-08-27T00:05 are deleted; 10-15 skipped.
        assert_eq!(
            slots,
            [
                "2026-09-15T00:00:00Z",
                "2026-09-25T00:00:00Z",
                "2026-10-25T00:00:00Z",
                "2026-11-15T00:00:00Z",
                "2026-11-25T00:00:00Z"
            ]
        );
        let p = &s.recovery_points[3];
        assert_eq!(p.status, "PARTIAL");
        assert_eq!(p.created.to_string(), "2026-11-15T00:05:00Z");
        assert_eq!(p.delete_at.unwrap().to_string(), "2027-02-13T00:05:00Z");
        // Jobs only for points of the last 30 days (10-26 onwards): 11-15 and 11-25.
        let jobs: Vec<(&str, String)> = s
            .backup_jobs
            .iter()
            .map(|j| (j.state.as_str(), j.created.to_string()))
            .collect();
        assert_eq!(
            jobs,
            [
                ("PARTIAL", "2026-11-15T00:00:00Z".to_string()),
                ("COMPLETED", "2026-11-25T00:00:00Z".to_string())
            ]
        );
        assert!(s.tables.iter().all(|t| t.backups.is_none()));
        // Point subject resolved to the ARN.
        assert_eq!(
            s.expectations[1].subject,
            Some(SubjectSpec::Text(p.arn.clone().unwrap()))
        );
        // Expanding again changes nothing (the format round-trips).
        assert_eq!(s.expand().unwrap(), s);
        let back = Scenario::from_json(&s.to_json(), "round-trip").unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn bad_references_are_named() {
        let mut s = tiny();
        s.tables[1].backups.as_mut().unwrap().skip = vec!["2026-10-16T00:00:00Z".parse().unwrap()];
        let e = s.expand().unwrap_err().to_string();
        assert!(e.contains("2026-10-16T00:00:00Z is not a slot"), "{e}");
        let mut s = tiny();
        s.selections[0].plan = "nope".into();
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("unknown plan `nope`"), "{e}");
        let mut s = tiny();
        s.tables.remove(0);
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("backup-guard-state"), "{e}");
        let e = Scenario::from_json(r#"{"name": "x", "nwo": 1}"#, "typo.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("typo.json") && e.contains("nwo"), "{e}");
    }

    #[test]
    fn arns_are_deterministic_and_of_both_forms() {
        let t: Timestamp = "2026-11-15T00:05:00Z".parse().unwrap();
        let a = point_arn("aws", "us-east-1", "123456789012", "t", t, ArnForm::Backup);
        assert_eq!(
            a,
            point_arn("aws", "us-east-1", "123456789012", "t", t, ArnForm::Backup)
        );
        assert!(a.starts_with("arn:aws:backup:us-east-1:123456789012:recovery-point:"));
        let d = point_arn(
            "aws",
            "us-east-1",
            "123456789012",
            "t",
            t,
            ArnForm::Dynamodb,
        );
        assert_eq!(policy::facts::dynamodb_backup_table_name(&d), Some("t"));
        assert_ne!(
            a,
            point_arn("aws", "us-east-1", "123456789012", "u", t, ArnForm::Backup)
        );
    }
}
