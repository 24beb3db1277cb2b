//! Reading a region's DynamoDB/AWS Backup inventory with the fewest API calls.
//!
//! Every reader returns plain `policy` facts; none decides compliance. Calls per reader:
//!
//! | reader | calls |
//! |---|---|
//! | [`caller_identity`] | 1 `STS.GetCallerIdentity` (account and partition, to build table ARNs) |
//! | [`list_table_names`] | `max(1, ⌈T/100⌉)` `DynamoDB.ListTables` |
//! | [`table_tags`] | `max(1, ⌈R/100⌉, ⌈tag pairs/500⌉)` tagging `GetResources` (R = tables the tagging API knows) |
//! | [`list_vault_names`] | `max(1, ⌈V/1000⌉)` `Backup.ListBackupVaults` |
//! | [`vault_recovery_points`] | `max(1, ⌈R_v/1000⌉)` `Backup.ListRecoveryPointsByBackupVault` per vault |
//! | [`recent_failed_jobs`] | 1 `Backup.ListBackupJobs` if ≤ 1000 DynamoDB jobs in 30 days, else 1 + Σ over the four failure states of `max(1, ⌈J_s/1000⌉)` |
//! | [`table_creation_time`] | 1 `DynamoDB.DescribeTable` (only for tables that need it) |
//!
//! Traps handled here: `GetResources` returns only tables that are (or once were) tagged, so
//! the table list comes from `ListTables` and a table absent from the tagging result has *no*
//! tags (`Known(empty)`); `ListTables` returns names, so ARNs are built from the partition,
//! region and account.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use aws_sdk_backup::types::BackupJobState;
use jiff::Timestamp;
use policy::arn::TableArn;
use policy::facts::{CreatedBy, JobFacts, JobState, PointStatus, RecoveryPointFacts};

use crate::convert::{sdk_datetime, timestamp};
use crate::error::{AwsCallError, OperationContext};

/// `ListTables` page size (the API maximum).
pub const LIST_TABLES_PAGE: i32 = 100;
/// `GetResources` page size (the API maximum).
pub const TAG_PAGE: i32 = 100;
/// `GetResources` tags per page (the API maximum). Set as well as `ResourcesPerPage`: an
/// implementation that applies its default of 100 tags per page would otherwise cut pages of
/// tables with two tags to 50 tables (moto does).
pub const TAGS_PER_PAGE: i32 = 500;
/// `MaxResults` of the Backup list calls (the API maximum).
pub const BACKUP_PAGE: i32 = 1000;
/// The tagging API's resource type for DynamoDB tables.
pub const TABLE_RESOURCE_TYPE: &str = "dynamodb:table";
/// AWS Backup's resource type word for DynamoDB.
pub const BACKUP_RESOURCE_TYPE: &str = "DynamoDB";
/// The job states that matter to the policy (terminal and not a good backup).
pub const FAILURE_STATES: [&str; 4] = ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"];

/// The caller's account and partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The id of the account the credentials belong to.
    pub account: String,
    /// The partition of the caller's ARN (`aws`, `aws-cn`, `aws-us-gov`): the one table ARNs are
    /// built in.
    pub partition: String,
}

/// One `sts:GetCallerIdentity`: the account and (from the caller ARN) the partition.
pub async fn caller_identity(sts: &aws_sdk_sts::Client) -> Result<Identity, AwsCallError> {
    const OP: &str = "STS.GetCallerIdentity";
    let out = sts.get_caller_identity().send().await.op(OP)?;
    let account = out
        .account()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| AwsCallError::invalid_response(OP, "response has no Account"))?
        .to_string();
    let partition = out
        .arn()
        .and_then(partition_of_arn)
        .unwrap_or("aws")
        .to_string();
    Ok(Identity { account, partition })
}

/// The partition field of an ARN (`arn:<partition>:…`).
pub fn partition_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) if !p.is_empty() => Some(p),
        _ => None,
    }
}

/// The table ARN `arn:<partition>:dynamodb:<region>:<account>:table/<name>` (built by
/// [`TableArn`]).
pub fn table_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    TableArn::new(partition, region, account, name).to_string()
}

/// The table name of a table ARN ([`TableArn`]: `arn:<p>:dynamodb:<r>:<a>:table/<name>`,
/// nothing after the name); `None` for anything else.
pub fn table_name_of_arn(arn: &str) -> Option<&str> {
    let table: TableArn = arn.parse().ok()?;
    // The name is the ARN's tail: borrow it from `arn`.
    arn.get(arn.len() - table.name.len()..)
}

/// Result of a paged listing: the items and the number of pages read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// What the pages listed.
    pub items: T,
    /// How many pages (successful calls) were read.
    pub pages: u64,
}

/// Every table name of the region (`ListTables`, 100 per page), sorted.
pub async fn list_table_names(
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<Paged<Vec<String>>, AwsCallError> {
    let mut pages = dynamodb
        .list_tables()
        .limit(LIST_TABLES_PAGE)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.try_next().await.op("DynamoDB.ListTables")? {
        count += 1;
        names.extend(page.table_names().iter().cloned());
    }
    names.sort();
    names.dedup();
    Ok(Paged {
        items: names,
        pages: count,
    })
}

/// Tags of every table the tagging API knows, keyed by table name (`GetResources` filtered to
/// `dynamodb:table`, 100 per page). Only tables in `region` and `account` are kept. A table
/// that is not in the result has no tags.
pub async fn table_tags(
    tagging: &aws_sdk_resourcegroupstagging::Client,
    region: &str,
    account: &str,
) -> Result<Paged<BTreeMap<String, BTreeMap<String, String>>>, AwsCallError> {
    let mut pages = tagging
        .get_resources()
        .resource_type_filters(TABLE_RESOURCE_TYPE)
        .resources_per_page(TAG_PAGE)
        .tags_per_page(TAGS_PER_PAGE)
        .into_paginator()
        .send();
    let mut out = BTreeMap::new();
    let mut count = 0;
    while let Some(page) = pages
        .try_next()
        .await
        .op("ResourceGroupsTaggingAPI.GetResources")?
    {
        count += 1;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            let Ok(table) = arn.parse::<TableArn>() else {
                continue;
            };
            if table.region != region || table.account != account {
                continue;
            }
            let name = table.name;
            let tags: BTreeMap<String, String> = mapping
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            out.insert(name, tags);
        }
    }
    Ok(Paged {
        items: out,
        pages: count,
    })
}

/// Every backup vault name of the region (`ListBackupVaults`, 1000 per page), sorted.
pub async fn list_vault_names(
    backup: &aws_sdk_backup::Client,
) -> Result<Paged<Vec<String>>, AwsCallError> {
    let mut pages = backup
        .list_backup_vaults()
        .max_results(BACKUP_PAGE)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.try_next().await.op("Backup.ListBackupVaults")? {
        count += 1;
        names.extend(
            page.backup_vault_list()
                .iter()
                .filter_map(|v| v.backup_vault_name().map(str::to_string)),
        );
    }
    names.sort();
    names.dedup();
    Ok(Paged {
        items: names,
        pages: count,
    })
}

/// A recovery point the reader could not convert (missing a required member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedPoint {
    /// The resource it belongs to, if the response named one.
    pub resource_arn: Option<String>,
    /// What was wrong with the point (a missing or invalid member).
    pub reason: String,
}

/// The DynamoDB recovery points of one vault.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VaultPoints {
    /// The points that converted to facts.
    pub points: Vec<RecoveryPointFacts>,
    /// Points that could not be converted (their tables cannot be judged on them).
    pub malformed: Vec<MalformedPoint>,
    /// How many pages (successful calls) were read.
    pub pages: u64,
}

/// DynamoDB recovery points of `vault` created after `created_after`
/// (`ListRecoveryPointsByBackupVault`, `ByResourceType=DynamoDB`, 1000 per page). This call,
/// unlike `…ByResource`, returns the lifecycle fields the retention check needs.
pub async fn vault_recovery_points(
    backup: &aws_sdk_backup::Client,
    vault: &str,
    created_after: Timestamp,
) -> Result<VaultPoints, AwsCallError> {
    let mut pages = backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .by_resource_type(BACKUP_RESOURCE_TYPE)
        .by_created_after(sdk_datetime(created_after))
        .max_results(BACKUP_PAGE)
        .into_paginator()
        .send();
    let mut out = VaultPoints::default();
    // One shared `CreatedBy` per distinct creator (a handful of rules for thousands of points).
    let mut creators: HashSet<Arc<CreatedBy>> = HashSet::new();
    while let Some(page) = pages
        .try_next()
        .await
        .op("Backup.ListRecoveryPointsByBackupVault")?
    {
        out.pages += 1;
        for p in page.recovery_points() {
            match recovery_point_facts(p, vault) {
                Ok(mut f) => {
                    if let Some(c) = f.created_by.take() {
                        let shared = match creators.get(&*c) {
                            Some(s) => Arc::clone(s),
                            None => {
                                creators.insert(Arc::clone(&c));
                                c
                            }
                        };
                        f.created_by = Some(shared);
                    }
                    out.points.push(f)
                }
                Err(reason) => out.malformed.push(MalformedPoint {
                    resource_arn: p.resource_arn().map(str::to_string),
                    reason: format!("vault {vault}: {reason}"),
                }),
            }
        }
    }
    Ok(out)
}

/// SDK recovery point → policy facts (`Err` names the missing member).
pub fn recovery_point_facts(
    p: &aws_sdk_backup::types::RecoveryPointByBackupVault,
    vault: &str,
) -> Result<RecoveryPointFacts, String> {
    let arn = p
        .recovery_point_arn()
        .ok_or("a recovery point has no RecoveryPointArn")?;
    let resource_arn = p
        .resource_arn()
        .ok_or_else(|| format!("recovery point {arn} has no ResourceArn"))?;
    let created = p
        .creation_date()
        .and_then(timestamp)
        .ok_or_else(|| format!("recovery point {arn} has no valid CreationDate"))?;
    let status = match p.status() {
        Some(s) => PointStatus::from_api(s.as_str()),
        None => PointStatus::Unknown("(none)".to_string()),
    };
    Ok(RecoveryPointFacts {
        arn: arn.to_string(),
        resource_arn: resource_arn.to_string(),
        vault_name: p.backup_vault_name().unwrap_or(vault).to_string(),
        status,
        created,
        completed: p.completion_date().and_then(timestamp),
        delete_after_days: p.lifecycle().and_then(|l| l.delete_after_days()),
        move_to_cold_storage_after_days: p
            .lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
        delete_at: p
            .calculated_lifecycle()
            .and_then(|c| c.delete_at())
            .and_then(timestamp),
        created_by: p.created_by().and_then(created_by_facts).map(Arc::new),
        is_encrypted: Some(p.is_encrypted()),
        encryption_key_arn: p.encryption_key_arn().map(str::to_string),
    })
}

/// `RecoveryPointCreator` → policy facts; `None` when it names no plan (on demand).
pub fn created_by_facts(c: &aws_sdk_backup::types::RecoveryPointCreator) -> Option<CreatedBy> {
    let plan_id = c.backup_plan_id().filter(|s| !s.is_empty())?;
    Some(CreatedBy {
        plan_id: plan_id.to_string(),
        plan_arn: c.backup_plan_arn().map(str::to_string),
        plan_version: c.backup_plan_version().map(str::to_string),
        rule_id: c.backup_rule_id().map(str::to_string),
        rule_cron: c.backup_rule_cron().map(str::to_string),
        rule_timezone: c.backup_rule_timezone().map(str::to_string),
    })
}

/// Groups points by `ResourceArn` (each group sorted by creation time, then ARN).
pub fn group_by_resource(
    points: impl IntoIterator<Item = RecoveryPointFacts>,
) -> BTreeMap<String, Vec<RecoveryPointFacts>> {
    let mut out: BTreeMap<String, Vec<RecoveryPointFacts>> = BTreeMap::new();
    for p in points {
        out.entry(p.resource_arn.clone()).or_default().push(p);
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| (a.created, &a.arn).cmp(&(b.created, &b.arn)));
    }
    out
}

/// How the job listing was done (see [`recent_failed_jobs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobListing {
    /// One unfiltered page held every DynamoDB job of the period.
    SinglePage,
    /// The unfiltered first page was full; each failure state was then listed with `ByState`.
    PerState,
}

/// Recent backup jobs that matter to the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentJobs {
    /// Jobs in a failure state (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL` or unknown words).
    pub failed: Vec<JobFacts>,
    /// Whether one unfiltered listing sufficed or the failure states were listed one by one.
    pub listing: JobListing,
    /// How many pages (successful calls) were read, all listings summed.
    pub pages: u64,
}

/// DynamoDB backup jobs created after `created_after` (ListBackupJobs covers 30 days) that
/// ended badly.
///
/// `ByState` takes one state, so there are two ways: one unfiltered listing (pages grow with
/// every healthy job: about 2–3 per table per 30 days) or one listing per failure state (4
/// calls at least, growing only with failures). This reader takes the cheaper of the two for
/// every account size: it reads one unfiltered page of 1000; if that was the whole listing
/// (small accounts) it is done in one call, otherwise it lists the four failure states
/// (large accounts: 1 + 4 calls instead of ⌈jobs/1000⌉, e.g. 5 instead of 30 at 10,000 tables).
pub async fn recent_failed_jobs(
    backup: &aws_sdk_backup::Client,
    created_after: Timestamp,
) -> Result<RecentJobs, AwsCallError> {
    const OP: &str = "Backup.ListBackupJobs";
    let first = backup
        .list_backup_jobs()
        .by_resource_type(BACKUP_RESOURCE_TYPE)
        .by_created_after(sdk_datetime(created_after))
        .max_results(BACKUP_PAGE)
        .send()
        .await
        .op(OP)?;
    let mut pages = 1;
    if first.next_token().is_none_or(str::is_empty) {
        let mut failed = Vec::new();
        for j in first.backup_jobs() {
            if let Some(f) = job_facts(j)?
                && f.state.is_failure()
            {
                failed.push(f);
            }
        }
        return Ok(RecentJobs {
            failed,
            listing: JobListing::SinglePage,
            pages,
        });
    }
    let mut failed = Vec::new();
    for state in FAILURE_STATES {
        let mut stream = backup
            .list_backup_jobs()
            .by_resource_type(BACKUP_RESOURCE_TYPE)
            .by_created_after(sdk_datetime(created_after))
            .by_state(BackupJobState::from(state))
            .max_results(BACKUP_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = stream.try_next().await.op(OP)? {
            pages += 1;
            for j in page.backup_jobs() {
                if let Some(f) = job_facts(j)? {
                    failed.push(f);
                }
            }
        }
    }
    Ok(RecentJobs {
        failed,
        listing: JobListing::PerState,
        pages,
    })
}

/// SDK job → policy facts; `Ok(None)` for a job that names no resource (nothing to attach it
/// to); an error for a job without id, state or creation date.
pub fn job_facts(j: &aws_sdk_backup::types::BackupJob) -> Result<Option<JobFacts>, AwsCallError> {
    const OP: &str = "Backup.ListBackupJobs";
    let Some(resource_arn) = j.resource_arn() else {
        return Ok(None);
    };
    let job_id = j
        .backup_job_id()
        .ok_or_else(|| AwsCallError::invalid_response(OP, "a backup job has no BackupJobId"))?;
    let state = j.state().ok_or_else(|| {
        AwsCallError::invalid_response(OP, format!("backup job {job_id} has no State"))
    })?;
    let created = j.creation_date().and_then(timestamp).ok_or_else(|| {
        AwsCallError::invalid_response(OP, format!("backup job {job_id} has no valid CreationDate"))
    })?;
    Ok(Some(JobFacts {
        job_id: job_id.to_string(),
        resource_arn: resource_arn.to_string(),
        state: JobState::from_api(state.as_str()),
        created,
        completed: j.completion_date().and_then(timestamp),
        status_message: j.status_message().map(str::to_string),
        plan_id: j
            .created_by()
            .and_then(|c| c.backup_plan_id())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    }))
}

/// The table's creation time (`DescribeTable` `CreationDateTime`); `None` if the response has
/// none.
pub async fn table_creation_time(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<Option<Timestamp>, AwsCallError> {
    let out = dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .op("DynamoDB.DescribeTable")?;
    Ok(out
        .table()
        .and_then(|t| t.creation_date_time())
        .and_then(timestamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_built_and_parsed() {
        let arn = table_arn("aws-cn", "cn-north-1", "123456789012", "orders");
        assert_eq!(
            arn,
            "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders"
        );
        assert_eq!(table_name_of_arn(&arn), Some("orders"));
        assert_eq!(
            table_name_of_arn("arn:aws:dynamodb:eu-west-1:1:table/orders/backup/0123"),
            None
        );
        assert_eq!(
            table_name_of_arn("arn:aws:dynamodb:eu-west-1:1:table/"),
            None
        );
        // Only DynamoDB table ARNs name a table (the tagging API may list other resources).
        assert_eq!(
            table_name_of_arn("arn:aws:backup:eu-west-1:1:table/orders"),
            None
        );
        assert_eq!(table_name_of_arn("orders"), None);
        assert_eq!(
            partition_of_arn("arn:aws-us-gov:sts::1:assumed-role/x/y"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of_arn("nonsense"), None);
    }

    #[test]
    fn points_convert_and_missing_members_are_named() {
        use aws_sdk_backup::types::{
            CalculatedLifecycle, Lifecycle, RecoveryPointByBackupVault, RecoveryPointCreator,
            RecoveryPointStatus,
        };
        let created: Timestamp = "2026-11-15T00:10:00Z".parse().unwrap();
        let p = RecoveryPointByBackupVault::builder()
            .recovery_point_arn("arn:aws:backup:eu-west-1:1:recovery-point:abc")
            .resource_arn("arn:aws:dynamodb:eu-west-1:1:table/orders")
            .status(RecoveryPointStatus::from("SOMETHING_NEW"))
            .creation_date(sdk_datetime(created))
            .lifecycle(Lifecycle::builder().delete_after_days(90).build())
            .calculated_lifecycle(
                CalculatedLifecycle::builder()
                    .delete_at(sdk_datetime("2027-02-13T00:10:00Z".parse().unwrap()))
                    .build(),
            )
            .created_by(
                RecoveryPointCreator::builder()
                    .backup_plan_id("plan-1")
                    .backup_rule_id("rule-1")
                    .build(),
            )
            .build();
        let f = recovery_point_facts(&p, "Default").unwrap();
        assert_eq!(f.vault_name, "Default");
        assert_eq!(f.status, PointStatus::Unknown("SOMETHING_NEW".into()));
        assert!(!f.status.is_good());
        assert_eq!(f.delete_after_days, Some(90));
        assert_eq!(
            f.created_by.as_ref().map(|c| c.plan_id.as_str()),
            Some("plan-1")
        );

        let on_demand = RecoveryPointByBackupVault::builder()
            .recovery_point_arn("arn:aws:backup:eu-west-1:1:recovery-point:def")
            .resource_arn("arn:aws:dynamodb:eu-west-1:1:table/orders")
            .creation_date(sdk_datetime(created))
            .created_by(RecoveryPointCreator::builder().build())
            .build();
        assert!(
            recovery_point_facts(&on_demand, "v")
                .unwrap()
                .created_by
                .is_none()
        );

        let broken = RecoveryPointByBackupVault::builder()
            .recovery_point_arn("arn:x")
            .resource_arn("arn:aws:dynamodb:eu-west-1:1:table/orders")
            .build();
        let err = recovery_point_facts(&broken, "v").unwrap_err();
        assert!(err.contains("CreationDate"), "{err}");
    }

    #[test]
    fn grouping_sorts_each_table_by_creation() {
        let point = |arn: &str, table: &str, at: &str| RecoveryPointFacts {
            arn: arn.into(),
            resource_arn: table.into(),
            vault_name: "v".into(),
            status: PointStatus::Available,
            created: at.parse().unwrap(),
            completed: None,
            delete_after_days: None,
            move_to_cold_storage_after_days: None,
            delete_at: None,
            created_by: None,
            is_encrypted: Some(true),
            encryption_key_arn: None,
        };
        let g = group_by_resource(vec![
            point("p2", "t1", "2026-11-15T00:00:00Z"),
            point("p1", "t1", "2026-10-25T00:00:00Z"),
            point("p3", "t2", "2026-11-15T00:00:00Z"),
        ]);
        assert_eq!(g.len(), 2);
        let t1: Vec<&str> = g["t1"].iter().map(|p| p.arn.as_str()).collect();
        assert_eq!(t1, ["p1", "p2"]);
    }
}
