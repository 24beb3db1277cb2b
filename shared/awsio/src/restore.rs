//! Reading what a restore needs: the recovery points of one table, and the details
//! (`IamRoleArn`, completion) of the one to restore from.
//!
//! | reader | calls |
//! |---|---|
//! | [`table_points`] | `max(1, ⌈R/1000⌉)` `Backup.ListRecoveryPointsByResource` |
//! | [`describe_point`] | 1 `Backup.DescribeRecoveryPoint` |
//! | [`newest_good_point`] | the above, plus one `DescribeRecoveryPoint` per candidate tried (newest first; normally 1) |
//!
//! What a *good* point is comes from the policy crate ([`PointStatus::is_good`]: `AVAILABLE`
//! or the older `COMPLETED`) plus a completion time; nothing else is decided here.

use jiff::Timestamp;
use policy::facts::{CreatedBy, PointStatus};

use crate::convert::timestamp;
use crate::error::{AwsCallError, OperationContext};
use crate::inventory::{BACKUP_PAGE, created_by_facts};

/// One recovery point as `ListRecoveryPointsByResource` lists it (no lifecycle, no role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointSummary {
    /// `RecoveryPointArn`.
    pub arn: String,
    /// `BackupVaultName`.
    pub vault_name: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `Status`.
    pub status: PointStatus,
}

/// One recovery point as `DescribeRecoveryPoint` returns it: what a restore needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePoint {
    /// `RecoveryPointArn`.
    pub arn: String,
    /// `ResourceArn` (the source table).
    pub resource_arn: Option<String>,
    /// `BackupVaultName`.
    pub vault_name: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `Status`.
    pub status: PointStatus,
    /// `IamRoleArn`: the role that made the backup (a role that can restore it, too).
    pub iam_role_arn: Option<String>,
    /// `CreatedBy`; `None` for an on-demand backup.
    pub created_by: Option<CreatedBy>,
    /// `Lifecycle.DeleteAfterDays`.
    pub delete_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt`.
    pub delete_at: Option<Timestamp>,
}

impl RestorePoint {
    /// Good status and a completion time: a point a restore can start from.
    pub fn is_good(&self) -> bool {
        self.status.is_good() && self.completed.is_some()
    }
}

/// Every recovery point of the resource `resource_arn` (`ListRecoveryPointsByResource`, 1000
/// per page), newest first. Points the response does not describe completely (no ARN, vault
/// or creation date) are skipped: a restore cannot use them.
pub async fn table_points(
    backup: &aws_sdk_backup::Client,
    resource_arn: &str,
) -> Result<Vec<PointSummary>, AwsCallError> {
    let mut pages = backup
        .list_recovery_points_by_resource()
        .resource_arn(resource_arn)
        .max_results(BACKUP_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages
        .try_next()
        .await
        .op("Backup.ListRecoveryPointsByResource")?
    {
        for p in page.recovery_points() {
            let (Some(arn), Some(vault), Some(created)) = (
                p.recovery_point_arn(),
                p.backup_vault_name(),
                p.creation_date().and_then(timestamp),
            ) else {
                continue;
            };
            let status = match p.status() {
                Some(s) => PointStatus::from_api(s.as_str()),
                None => PointStatus::Unknown("(none)".to_string()),
            };
            out.push(PointSummary {
                arn: arn.to_string(),
                vault_name: vault.to_string(),
                created,
                status,
            });
        }
    }
    out.sort_by(|a, b| (b.created, &b.arn).cmp(&(a.created, &a.arn)));
    Ok(out)
}

/// `DescribeRecoveryPoint` of `arn` in `vault`.
pub async fn describe_point(
    backup: &aws_sdk_backup::Client,
    vault: &str,
    arn: &str,
) -> Result<RestorePoint, AwsCallError> {
    const OP: &str = "Backup.DescribeRecoveryPoint";
    let out = backup
        .describe_recovery_point()
        .backup_vault_name(vault)
        .recovery_point_arn(arn)
        .send()
        .await
        .op(OP)?;
    let created = out
        .creation_date()
        .and_then(timestamp)
        .ok_or_else(|| AwsCallError::invalid_response(OP, format!("{arn} has no CreationDate")))?;
    let status = match out.status() {
        Some(s) => PointStatus::from_api(s.as_str()),
        None => PointStatus::Unknown("(none)".to_string()),
    };
    Ok(RestorePoint {
        arn: out.recovery_point_arn().unwrap_or(arn).to_string(),
        resource_arn: out.resource_arn().map(str::to_string),
        vault_name: out.backup_vault_name().unwrap_or(vault).to_string(),
        created,
        completed: out.completion_date().and_then(timestamp),
        status,
        iam_role_arn: out
            .iam_role_arn()
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        created_by: out.created_by().and_then(created_by_facts),
        delete_after_days: out.lifecycle().and_then(|l| l.delete_after_days()),
        delete_at: out
            .calculated_lifecycle()
            .and_then(|c| c.delete_at())
            .and_then(timestamp),
    })
}

/// Candidates for a restore at `at`: points with a good status created at or before `at`,
/// newest first.
pub fn candidates(points: &[PointSummary], at: Timestamp) -> Vec<&PointSummary> {
    points
        .iter()
        .filter(|p| p.created <= at && p.status.is_good())
        .collect()
}

/// How many candidates [`newest_good_point`] describes before giving up.
pub const MAX_DESCRIBES: usize = 10;

/// The result of looking for a point to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSearch {
    /// The point, if one was found.
    pub point: Option<RestorePoint>,
    /// Points listed for the table (any status, any time).
    pub listed: usize,
    /// Candidates with a good status at or before `at`.
    pub candidates: usize,
}

/// The newest good recovery point of `resource_arn` created at or before `at`: lists the
/// table's points, then describes the candidates newest first until one is confirmed good
/// (status and completion time), at most [`MAX_DESCRIBES`].
pub async fn newest_good_point(
    backup: &aws_sdk_backup::Client,
    resource_arn: &str,
    at: Timestamp,
) -> Result<RestoreSearch, AwsCallError> {
    let points = table_points(backup, resource_arn).await?;
    let cands = candidates(&points, at);
    let mut found = None;
    for c in cands.iter().take(MAX_DESCRIBES) {
        let p = describe_point(backup, &c.vault_name, &c.arn).await?;
        if p.is_good() {
            found = Some(p);
            break;
        }
    }
    Ok(RestoreSearch {
        point: found,
        listed: points.len(),
        candidates: cands.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(arn: &str, created: &str, status: &str) -> PointSummary {
        PointSummary {
            arn: arn.into(),
            vault_name: "v".into(),
            created: created.parse().unwrap(),
            status: PointStatus::from_api(status),
        }
    }

    #[test]
    fn candidates_are_good_and_not_after_the_instant() {
        let pts = vec![
            p("c", "2026-11-25T00:10:00Z", "AVAILABLE"),
            p("b", "2026-11-15T00:10:00Z", "PARTIAL"),
            p("a", "2026-10-25T00:10:00Z", "COMPLETED"),
        ];
        let at: Timestamp = "2026-11-20T00:00:00Z".parse().unwrap();
        let c: Vec<&str> = candidates(&pts, at)
            .iter()
            .map(|p| p.arn.as_str())
            .collect();
        assert_eq!(c, ["a"]);
        let at: Timestamp = "2026-11-25T00:10:00Z".parse().unwrap();
        let c: Vec<&str> = candidates(&pts, at)
            .iter()
            .map(|p| p.arn.as_str())
            .collect();
        assert_eq!(c, ["c", "a"]);
        let c = candidates(&pts, "2026-01-01T00:00:00Z".parse().unwrap());
        assert!(c.is_empty());
    }
}
