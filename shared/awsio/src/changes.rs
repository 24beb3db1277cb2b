//! Re-reading what a tampering or drift event changed (the table guard's AWS Backup and KMS
//! CloudTrail events), never from a cache:
//!
//! | reader | calls |
//! |---|---|
//! | [`point`] | 1 `Backup.DescribeRecoveryPoint` (`ResourceNotFoundException` → `None`: AWS no longer knows the point) |
//! | [`table_points`] | `Backup.ListRecoveryPointsByResource` pages (which vaults hold the table's points), then `Backup.ListRecoveryPointsByBackupVault` pages with `ByResourceArn` per such vault (the only listing with `CreatedBy` and the lifecycle) |
//! | [`describe_vault`] | 1 `Backup.DescribeBackupVault` (`None`: the vault does not exist) |
//! | [`describe_key`] | 1 `KMS.DescribeKey` (`None`: the key does not exist) |
//! | [`key_policy`] | 1 `KMS.GetKeyPolicy` (the `default` policy, the only name KMS has) |
//! | [`describe_backup_job`] | 1 `Backup.DescribeBackupJob` (`None`: unknown job) |

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use policy::facts::{JobState, KeyState, PointStatus, RecoveryPointFacts};

use crate::convert::timestamp;
use crate::error::{AwsCallError, OperationContext};
use crate::inventory::{BACKUP_PAGE, created_by_facts, recovery_point_facts};
use crate::vault::VaultListing;

fn not_found(e: &AwsCallError) -> bool {
    matches!(
        e.code.as_deref(),
        Some("ResourceNotFoundException" | "NotFoundException")
    )
}

/// A call's answer, `None` when it says the thing does not exist.
fn found<T>(r: Result<T, AwsCallError>) -> Result<Option<T>, AwsCallError> {
    match r {
        Ok(o) => Ok(Some(o)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A recovery point's facts (`DescribeRecoveryPoint`, which carries the lifecycle and the
/// creator); `None` if AWS does not know it (any more).
pub async fn point(
    backup: &aws_sdk_backup::Client,
    vault: &str,
    arn: &str,
) -> Result<Option<RecoveryPointFacts>, AwsCallError> {
    const OP: &str = "Backup.DescribeRecoveryPoint";
    let Some(out) = found(
        backup
            .describe_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(arn)
            .send()
            .await
            .op(OP),
    )?
    else {
        return Ok(None);
    };
    let created = out
        .creation_date()
        .and_then(timestamp)
        .ok_or_else(|| AwsCallError::invalid_response(OP, format!("{arn} has no CreationDate")))?;
    let resource_arn = out
        .resource_arn()
        .ok_or_else(|| AwsCallError::invalid_response(OP, format!("{arn} has no ResourceArn")))?;
    Ok(Some(RecoveryPointFacts {
        arn: out.recovery_point_arn().unwrap_or(arn).to_string(),
        resource_arn: resource_arn.to_string(),
        vault_name: out.backup_vault_name().unwrap_or(vault).to_string(),
        status: out
            .status()
            .map(|s| PointStatus::from_api(s.as_str()))
            .unwrap_or_else(|| PointStatus::Unknown("(none)".to_string())),
        created,
        completed: out.completion_date().and_then(timestamp),
        delete_after_days: out.lifecycle().and_then(|l| l.delete_after_days()),
        move_to_cold_storage_after_days: out
            .lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
        delete_at: out
            .calculated_lifecycle()
            .and_then(|c| c.delete_at())
            .and_then(timestamp),
        created_by: out.created_by().and_then(created_by_facts).map(Arc::new),
        is_encrypted: Some(out.is_encrypted()),
        encryption_key_arn: out.encryption_key_arn().map(str::to_string),
    }))
}

/// Every recovery point of the table, in every vault that holds one, with the fields the
/// slot and retention checks need (see the module docs for the calls).
pub async fn table_points(
    backup: &aws_sdk_backup::Client,
    table_arn: &str,
) -> Result<Vec<RecoveryPointFacts>, AwsCallError> {
    let mut vaults = BTreeSet::new();
    let mut pages = backup
        .list_recovery_points_by_resource()
        .resource_arn(table_arn)
        .max_results(BACKUP_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages
        .try_next()
        .await
        .op("Backup.ListRecoveryPointsByResource")?
    {
        vaults.extend(
            page.recovery_points()
                .iter()
                .filter_map(|p| p.backup_vault_name().map(str::to_string)),
        );
    }
    let mut out = Vec::new();
    for vault in vaults {
        let mut pages = backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(&vault)
            .by_resource_arn(table_arn)
            .max_results(BACKUP_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages
            .try_next()
            .await
            .op("Backup.ListRecoveryPointsByBackupVault")?
        {
            for p in page.recovery_points() {
                let f = recovery_point_facts(p, &vault).map_err(|reason| {
                    AwsCallError::invalid_response("Backup.ListRecoveryPointsByBackupVault", reason)
                })?;
                out.push(f);
            }
        }
    }
    out.sort_by(|a, b| (a.created, &a.arn).cmp(&(b.created, &b.arn)));
    Ok(out)
}

/// The vault's lock fields and key (`DescribeBackupVault`); `None` if it does not exist.
pub async fn describe_vault(
    backup: &aws_sdk_backup::Client,
    vault: &str,
) -> Result<Option<VaultListing>, AwsCallError> {
    let v = found(
        backup
            .describe_backup_vault()
            .backup_vault_name(vault)
            .send()
            .await
            .op("Backup.DescribeBackupVault"),
    )?;
    Ok(v.map(|v| {
        crate::vault::listing(
            v.backup_vault_name().unwrap_or(vault),
            v.backup_vault_arn(),
            v.locked(),
            (
                v.min_retention_days(),
                v.max_retention_days(),
                v.lock_date(),
            ),
            v.encryption_key_arn(),
        )
    }))
}

/// A KMS key as `DescribeKey` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    /// `KeyMetadata.Arn`.
    pub arn: String,
    /// `KeyMetadata.KeyState`.
    pub state: KeyState,
    /// `KeyMetadata.DeletionDate` (a key pending deletion).
    pub deletion_date: Option<Timestamp>,
}

/// The key named `key_id` (an id or ARN); `None` if it does not exist.
pub async fn describe_key(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> Result<Option<KeyFacts>, AwsCallError> {
    const OP: &str = "KMS.DescribeKey";
    let Some(out) = found(kms.describe_key().key_id(key_id).send().await.op(OP))? else {
        return Ok(None);
    };
    let m = out
        .key_metadata()
        .ok_or_else(|| AwsCallError::invalid_response(OP, "response has no KeyMetadata"))?;
    Ok(Some(KeyFacts {
        arn: m
            .arn()
            .ok_or_else(|| AwsCallError::invalid_response(OP, "KeyMetadata has no Arn"))?
            .to_string(),
        state: m
            .key_state()
            .map(|s| KeyState::from_api(s.as_str()))
            .ok_or_else(|| AwsCallError::invalid_response(OP, "KeyMetadata has no KeyState"))?,
        deletion_date: m.deletion_date().and_then(timestamp),
    }))
}

/// The key's policy document (`GetKeyPolicy`, policy name `default`).
pub async fn key_policy(kms: &aws_sdk_kms::Client, key_arn: &str) -> Result<String, AwsCallError> {
    const OP: &str = "KMS.GetKeyPolicy";
    let out = kms
        .get_key_policy()
        .key_id(key_arn)
        .policy_name("default")
        .send()
        .await
        .op(OP)?;
    out.policy()
        .map(str::to_string)
        .ok_or_else(|| AwsCallError::invalid_response(OP, "response has no Policy"))
}

/// A backup job as `DescribeBackupJob` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupJobFacts {
    /// `BackupJobId`.
    pub job_id: String,
    /// `ResourceArn`.
    pub resource_arn: Option<String>,
    /// `ResourceType` (`DynamoDB`).
    pub resource_type: Option<String>,
    /// `State`.
    pub state: JobState,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `StatusMessage`.
    pub status_message: Option<String>,
    /// `CreatedBy.BackupPlanId` (`None`: on demand).
    pub plan_id: Option<String>,
    /// `CreatedBy.BackupRuleId`.
    pub rule_id: Option<String>,
    /// `BackupVaultName`.
    pub vault_name: Option<String>,
}

/// The job `job_id`; `None` if AWS does not know it.
pub async fn describe_backup_job(
    backup: &aws_sdk_backup::Client,
    job_id: &str,
) -> Result<Option<BackupJobFacts>, AwsCallError> {
    const OP: &str = "Backup.DescribeBackupJob";
    let Some(j) = found(
        backup
            .describe_backup_job()
            .backup_job_id(job_id)
            .send()
            .await
            .op(OP),
    )?
    else {
        return Ok(None);
    };
    let state = j.state().ok_or_else(|| {
        AwsCallError::invalid_response(OP, format!("backup job {job_id} has no State"))
    })?;
    let created = j.creation_date().and_then(timestamp).ok_or_else(|| {
        AwsCallError::invalid_response(OP, format!("backup job {job_id} has no CreationDate"))
    })?;
    let s = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    Ok(Some(BackupJobFacts {
        job_id: j.backup_job_id().unwrap_or(job_id).to_string(),
        resource_arn: s(j.resource_arn()),
        resource_type: s(j.resource_type()),
        state: JobState::from_api(state.as_str()),
        created,
        completed: j.completion_date().and_then(timestamp),
        status_message: s(j.status_message()),
        plan_id: s(j.created_by().and_then(|c| c.backup_plan_id())),
        rule_id: s(j.created_by().and_then(|c| c.backup_rule_id())),
        vault_name: s(j.backup_vault_name()),
    }))
}
