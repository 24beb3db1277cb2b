//! Reading what protects a vault's recovery points, with the fewest calls:
//!
//! | reader | calls |
//! |---|---|
//! | [`list_vaults`] | `max(1, ⌈V/1000⌉)` `Backup.ListBackupVaults` — the same pages as the vault names; they carry `Locked`, `MinRetentionDays`, `MaxRetentionDays`, `LockDate` and `EncryptionKeyArn` |
//! | [`vault_access_policy`] | 1 `Backup.GetBackupVaultAccessPolicy` per vault (the verifier asks only for vaults holding DynamoDB points) |
//! | [`key_state`] | 1 `KMS.DescribeKey` per distinct vault key |
//!
//! `ResourceNotFoundException` from `GetBackupVaultAccessPolicy` means the vault has no access
//! policy, and `NotFoundException` from `DescribeKey` means the key does not exist: both are
//! facts, not failures.

use policy::facts::{KeyState, VaultLock};

use crate::convert::timestamp;
use crate::error::{AwsCallError, OperationContext};
use crate::inventory::{BACKUP_PAGE, Paged};

/// One vault as `ListBackupVaults` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultListing {
    /// `BackupVaultName`.
    pub name: String,
    /// `BackupVaultArn`.
    pub arn: Option<String>,
    /// The Vault Lock fields.
    pub lock: VaultLock,
    /// `EncryptionKeyArn`.
    pub encryption_key_arn: Option<String>,
}

/// Every backup vault of the region with its lock fields and key (`ListBackupVaults`, 1000
/// per page), sorted by name.
pub async fn list_vaults(
    backup: &aws_sdk_backup::Client,
) -> Result<Paged<Vec<VaultListing>>, AwsCallError> {
    let mut pages = backup
        .list_backup_vaults()
        .max_results(BACKUP_PAGE)
        .into_paginator()
        .send();
    let mut vaults: Vec<VaultListing> = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.try_next().await.op("Backup.ListBackupVaults")? {
        count += 1;
        vaults.extend(page.backup_vault_list().iter().filter_map(vault_listing));
    }
    vaults.sort_by(|a, b| a.name.cmp(&b.name));
    vaults.dedup_by(|a, b| a.name == b.name);
    Ok(Paged {
        items: vaults,
        pages: count,
    })
}

/// SDK vault list member → [`VaultListing`] (`None` without a name).
pub fn vault_listing(v: &aws_sdk_backup::types::BackupVaultListMember) -> Option<VaultListing> {
    Some(listing(
        v.backup_vault_name()?,
        v.backup_vault_arn(),
        v.locked(),
        (
            v.min_retention_days(),
            v.max_retention_days(),
            v.lock_date(),
        ),
        v.encryption_key_arn(),
    ))
}

/// A [`VaultListing`] from the members `ListBackupVaults` and `DescribeBackupVault` share:
/// name, ARN, `Locked`, (`MinRetentionDays`, `MaxRetentionDays`, `LockDate`), key (blank =
/// none).
pub fn listing(
    name: &str,
    arn: Option<&str>,
    locked: Option<bool>,
    (min, max, lock_date): (
        Option<i64>,
        Option<i64>,
        Option<&aws_smithy_types::DateTime>,
    ),
    key: Option<&str>,
) -> VaultListing {
    VaultListing {
        name: name.to_string(),
        arn: arn.map(str::to_string),
        lock: VaultLock {
            locked: locked.unwrap_or(false),
            min_retention_days: min,
            max_retention_days: max,
            lock_date: lock_date.and_then(timestamp),
        },
        encryption_key_arn: key.filter(|k| !k.is_empty()).map(str::to_string),
    }
}

/// The vault's access policy document; `None` if it has none (`ResourceNotFoundException`).
pub async fn vault_access_policy(
    backup: &aws_sdk_backup::Client,
    vault: &str,
) -> Result<Option<String>, AwsCallError> {
    match backup
        .get_backup_vault_access_policy()
        .backup_vault_name(vault)
        .send()
        .await
        .op("Backup.GetBackupVaultAccessPolicy")
    {
        Ok(out) => Ok(out
            .policy()
            .filter(|p| !p.trim().is_empty())
            .map(str::to_string)),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The state of the KMS key `key_arn` (`DescribeKey`); [`KeyState::NotFound`] if it does not
/// exist (`NotFoundException`).
pub async fn key_state(kms: &aws_sdk_kms::Client, key_arn: &str) -> Result<KeyState, AwsCallError> {
    const OP: &str = "KMS.DescribeKey";
    match kms.describe_key().key_id(key_arn).send().await.op(OP) {
        Ok(out) => out
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| KeyState::from_api(s.as_str()))
            .ok_or_else(|| {
                AwsCallError::invalid_response(OP, "response has no KeyMetadata.KeyState")
            }),
        Err(e) if e.code.as_deref() == Some("NotFoundException") => Ok(KeyState::NotFound),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::sdk_datetime;
    use aws_sdk_backup::types::BackupVaultListMember;

    #[test]
    fn vault_listings_carry_the_lock_fields_and_the_key() {
        let lock_date: jiff::Timestamp = "2026-12-04T00:00:00Z".parse().unwrap();
        let v = BackupVaultListMember::builder()
            .backup_vault_name("v")
            .backup_vault_arn("arn:aws:backup:eu-west-1:1:backup-vault:v")
            .locked(true)
            .min_retention_days(90)
            .max_retention_days(30)
            .lock_date(sdk_datetime(lock_date))
            .encryption_key_arn("arn:aws:kms:eu-west-1:1:key/k")
            .build();
        let l = vault_listing(&v).unwrap();
        assert!(l.lock.locked);
        assert_eq!(l.lock.min_retention_days, Some(90));
        assert_eq!(l.lock.max_retention_days, Some(30));
        assert_eq!(l.lock.lock_date, Some(lock_date));
        assert_eq!(
            l.encryption_key_arn.as_deref(),
            Some("arn:aws:kms:eu-west-1:1:key/k")
        );
        let bare = vault_listing(
            &BackupVaultListMember::builder()
                .backup_vault_name("b")
                .build(),
        )
        .unwrap();
        assert_eq!(bare.lock, VaultLock::default());
        assert_eq!(bare.encryption_key_arn, None);
        assert!(vault_listing(&BackupVaultListMember::builder().build()).is_none());
    }
}
