//! Reading one region's inventory, and knowing how much of it was read.
//!
//! [`read_inventory`] makes the fewest calls (see `awsio::inventory` for the calls per reader,
//! [`crate::calls`] for the formula) and returns an [`Inventory`]: plain facts plus, for every
//! [`Source`] the verdicts depend on, whether it was read completely ([`SourceRead`]). The
//! rule it serves: **unknown is never compliant**. A source that was not read completely turns
//! into `Fact::Unknown` for every table whose judgement depends on it, so the policy reports
//! those tables `UNVERIFIABLE` naming the source, and none of their open problems is resolved
//! from it ([`crate::open_after_run`]).
//!
//! | source | read by | when not read completely |
//! |---|---|---|
//! | identity, tables | `STS.GetCallerIdentity`, `DynamoDB.ListTables` | nothing in the region can be judged: [`RegionFailure`] |
//! | tags | `GetResources` | every table's tags are unknown |
//! | plans, selections | `ListBackupPlans`/`GetBackupPlan`, `ListBackupSelections`/`GetBackupSelection` | every table's coverage is unknown |
//! | vault list | `ListBackupVaults` | every table's recovery points are unknown |
//! | each vault | `ListRecoveryPointsByBackupVault` | every table's recovery points are unknown |
//! | access policy of a vault holding points | `GetBackupVaultAccessPolicy` (no policy = a fact) | its tables' deletion denial is unknown |
//! | key of a vault holding points | `KMS.DescribeKey`, once per distinct key | its tables' key state is unknown |
//! | jobs | `ListBackupJobs` | every table's failed jobs are unknown |
//! | restore jobs (restore testing configured) | `ListRestoreJobs` by the plan | every table's restore readiness is `UNVERIFIABLE` |
//! | creation time of a table | `DescribeTable` (only where needed) | that table's missed slots are unknown |
//!
//! An unread vault makes *every* table's points unknown, not only the tables a plan or a
//! recent job ties to it: any vault can hold any table's points (an on-demand backup, a copy,
//! a plan created and deleted since), and a point in it can both satisfy a slot and break the
//! policy (an unmanaged backup, a wrong lifecycle). AWS offers no read that proves a vault
//! holds none of a table's points without listing the vault (`NumberOfRecoveryPoints` of
//! `ListBackupVaults` counts every resource type and is eventually consistent), so no such
//! proof is attempted. The same holds for a vault whose listing returned a point without a
//! resource ARN: that point could be any table's.
//!
//! Vault protection (see `policy::vault`) needs two reads beyond the listings, and only for
//! vaults that hold DynamoDB points in the look-back: the vault's access policy (one
//! `GetBackupVaultAccessPolicy` per such vault) and its key's state (one `KMS.DescribeKey` per
//! distinct key of such vaults). The lock fields and the key ARN come with `ListBackupVaults`,
//! the points' `IsEncrypted`/`EncryptionKeyArn` with their listing.

use std::collections::BTreeMap;
use std::time::Instant;

use awsio::AwsContext;
use awsio::inventory::{self, Identity, JobListing, RecentJobs, VaultPoints};
use awsio::vault::VaultListing;
use futures::{StreamExt, stream};
use jiff::{SignedDuration, Timestamp};
use policy::facts::{BackupSetup, Fact, JobFacts, KeyState, RecoveryPointFacts, VaultFacts};
use policy::report::Unreachable;
use policy::restore::RestoreJobFacts;
use policy::vault::VaultIndex;
use serde::Serialize;

/// Tags per table name.
pub type TagsByTable = BTreeMap<String, BTreeMap<String, String>>;

/// How `ListBackupJobs` is bounded: AWS keeps 30 days of jobs.
pub const JOB_LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 30);

/// A source of facts that verdicts depend on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Source {
    /// The account and partition (`STS.GetCallerIdentity`).
    Identity,
    /// The table list (`DynamoDB.ListTables`).
    Tables,
    /// Every table's tags (`GetResources`).
    Tags,
    /// Backup plans and their rules.
    Plans,
    /// Backup selections.
    Selections,
    /// The list of backup vaults.
    VaultList,
    /// The DynamoDB recovery points of one vault.
    Vault(String),
    /// The access policy of one vault holding DynamoDB points.
    VaultAccessPolicy(String),
    /// The state of one vault key (its ARN).
    VaultKey(String),
    /// Recent backup jobs.
    Jobs,
    /// The creation time of one table.
    CreationTime(String),
    /// The restore testing plan's restore jobs (read only when restore testing is configured).
    RestoreJobs,
}

impl Source {
    /// The operation that reads the source and what it names, as people read it (e.g.
    /// `Backup.ListRecoveryPointsByBackupVault vault=Default region=eu-west-1`).
    pub fn what(&self, region: &str) -> String {
        match self {
            Source::Identity => format!("STS.GetCallerIdentity region={region}"),
            Source::Tables => format!("DynamoDB.ListTables region={region}"),
            Source::Tags => format!("ResourceGroupsTaggingAPI.GetResources region={region}"),
            Source::Plans => format!("Backup.ListBackupPlans/GetBackupPlan region={region}"),
            Source::Selections => {
                format!("Backup.ListBackupSelections/GetBackupSelection region={region}")
            }
            Source::VaultList => format!("Backup.ListBackupVaults region={region}"),
            Source::Vault(v) => {
                format!("Backup.ListRecoveryPointsByBackupVault vault={v} region={region}")
            }
            Source::VaultAccessPolicy(v) => {
                format!("Backup.GetBackupVaultAccessPolicy vault={v} region={region}")
            }
            Source::VaultKey(k) => format!("KMS.DescribeKey key={k} region={region}"),
            Source::Jobs => format!("Backup.ListBackupJobs region={region}"),
            Source::CreationTime(t) => format!("DynamoDB.DescribeTable table={t} region={region}"),
            Source::RestoreJobs => format!("Backup.ListRestoreJobs region={region}"),
        }
    }
}

/// Whether one source was read completely, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRead {
    /// The source.
    pub source: Source,
    /// `None` if read completely; otherwise why not (operation and error, or the deadline).
    pub unread: Option<String>,
}

/// The region could not be judged at all (identity or table list unreadable, or no time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionFailure {
    /// The account, if it was read.
    pub account: Option<String>,
    /// The source that failed and why.
    pub source: Source,
    /// Why nothing in the region can be verified.
    pub reason: String,
}

/// Every table's recovery points, or why they are unknown.
#[derive(Debug, Clone, Default)]
pub struct PointIndex {
    by_table: BTreeMap<String, Vec<RecoveryPointFacts>>,
    /// Why every table's points are unknown (the vault list or a vault not read completely).
    all_unknown: Option<String>,
    /// Tables with a point the reader could not convert, with the reason.
    table_unknown: BTreeMap<String, String>,
}

impl PointIndex {
    /// The points of the table `arn`: known only if every vault was read completely and none
    /// of its points was malformed.
    pub fn for_table(&self, arn: &str) -> Fact<Vec<RecoveryPointFacts>> {
        match self.for_table_reason(arn) {
            Some(reason) => Fact::unknown(reason),
            None => Fact::Known(self.by_table.get(arn).cloned().unwrap_or_default()),
        }
    }

    /// [`PointIndex::for_table`], moving the points out of the index instead of copying them
    /// (a later call for the same table finds none): the evidence bundle's facts, taken after
    /// the evaluation.
    pub fn take_for_table(&mut self, arn: &str) -> Fact<Vec<RecoveryPointFacts>> {
        match self.for_table_reason(arn) {
            Some(reason) => Fact::unknown(reason),
            None => Fact::Known(self.by_table.remove(arn).unwrap_or_default()),
        }
    }

    /// Why the points of table `arn` are unknown, if they are.
    fn for_table_reason(&self, arn: &str) -> Option<String> {
        if let Some(r) = &self.all_unknown {
            return Some(r.clone());
        }
        self.table_unknown
            .get(arn)
            .map(|r| format!("recovery points could not be read: {r}"))
    }
}

/// One region's inventory: the facts, and for every source whether it was read completely.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The region.
    pub region: String,
    /// Account and partition.
    pub identity: Identity,
    /// Every table name of the region (`ListTables`), sorted, before any table filter.
    pub table_names: Vec<String>,
    /// Tags per table name (a table absent from the map has no tags).
    pub tags: Fact<TagsByTable>,
    /// Plans and selections (each a `Fact`).
    pub setup: BackupSetup,
    /// Recovery points per table.
    pub points: PointIndex,
    /// What protects each vault holding DynamoDB points (lock, access policy, key state).
    pub vaults: VaultIndex,
    /// Distinct keys of those vaults (one `KMS.DescribeKey` each).
    pub vault_keys: u64,
    /// Failed backup jobs of the last 30 days.
    pub jobs: Fact<Vec<JobFacts>>,
    /// Every source read, in a fixed order, with its completeness.
    pub sources: Vec<SourceRead>,
    /// Tables the tagging API returned.
    pub tagged_tables: u64,
    /// Their tag pairs (a table without tags counts one).
    pub tag_pairs: u64,
    /// DynamoDB points per vault listed (0 for a vault not read).
    pub points_per_vault: Vec<u64>,
    /// True if one `ListBackupJobs` page held every job.
    pub jobs_fit_one_page: bool,
    /// Failed jobs per failure state (`awsio::inventory::FAILURE_STATES` order).
    pub failed_jobs_per_state: [u64; 4],
    /// The restore testing plan's restore jobs of the window, or why unknown; `None` when
    /// restore testing is not configured (nothing read, nothing judged).
    pub restore_jobs: Option<Fact<Vec<RestoreJobFacts>>>,
    /// Restore jobs listed (for the call formula; `None` when not configured).
    pub restore_jobs_listed: Option<u64>,
}

impl Inventory {
    /// The failed jobs of table `arn`, or why they are unknown.
    pub fn jobs_for(&self, arn: &str) -> Fact<Vec<JobFacts>> {
        match &self.jobs {
            Fact::Known(all) => Fact::Known(
                all.iter()
                    .filter(|j| j.resource_arn == arn)
                    .cloned()
                    .collect(),
            ),
            Fact::Unknown { reason } => Fact::unknown(reason.clone()),
        }
    }

    /// The sources not read completely, as the run report lists them.
    pub fn unreachable(&self) -> Vec<Unreachable> {
        unreachable_of(&self.sources, &self.region)
    }
}

/// The sources of `sources` not read completely, as [`Unreachable`] entries.
pub fn unreachable_of(sources: &[SourceRead], region: &str) -> Vec<Unreachable> {
    sources
        .iter()
        .filter_map(|s| {
            s.unread.as_ref().map(|reason| Unreachable {
                what: s.source.what(region),
                reason: reason.clone(),
            })
        })
        .collect()
}

/// A one-line reason for a failed call: operation and error code, or the first 200 characters
/// of the message (the full error goes to the log).
pub fn short_reason(e: &awsio::AwsCallError) -> String {
    tracing::warn!(operation = %e.operation, error = %e, "AWS call failed");
    match &e.code {
        Some(code) => format!("{} failed ({code})", e.operation),
        None => {
            let mut m = format!(
                "{} failed: {}",
                e.operation,
                e.message.lines().next().unwrap_or("")
            );
            if m.len() > 200 {
                let mut cut = 197;
                while !m.is_char_boundary(cut) {
                    cut -= 1;
                }
                m.truncate(cut);
                m.push_str("...");
            }
            m
        }
    }
}

/// Why work was skipped at the deadline.
pub fn deadline_reason() -> String {
    "not reached before the Lambda deadline (the run stopped starting new work)".to_string()
}

/// When and how widely to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Recovery points created after this instant are listed.
    pub points_after: Timestamp,
    /// Backup jobs created after this instant are listed.
    pub jobs_after: Timestamp,
    /// Start no new call after this instant.
    pub deadline: Option<Instant>,
    /// Concurrent vault reads.
    pub concurrency: usize,
    /// The restore testing plan whose jobs are read, and from when (`None`: restore testing
    /// not configured, `ListRestoreJobs` is not called).
    pub restore_jobs: Option<(String, Timestamp)>,
}

impl ReadOptions {
    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Reads the region's inventory: five independent chains, concurrently (identity then tags,
/// tables, plans and selections, vaults then their points, jobs). Fails only when nothing in
/// the region can be judged.
pub async fn read_inventory(
    ctx: &AwsContext,
    opts: &ReadOptions,
) -> Result<Inventory, RegionFailure> {
    let region = ctx.region().unwrap_or("(no region)").to_string();
    if opts.out_of_time() {
        return Err(RegionFailure {
            account: None,
            source: Source::Identity,
            reason: format!("region {region} {}", deadline_reason()),
        });
    }
    let identity_and_tags = async {
        let id = inventory::caller_identity(ctx.sts()).await?;
        let tags = inventory::table_tags(ctx.tagging(), &region, &id.account).await;
        Ok::<_, awsio::AwsCallError>((id, tags))
    };
    let restore_jobs = async {
        match &opts.restore_jobs {
            None => None,
            Some((plan, after)) => {
                Some(awsio::restore_jobs::list_restore_jobs(ctx.backup(), Some(plan), *after).await)
            }
        }
    };
    let (id_tags, tables, setup, vaults, jobs, restore_jobs) = tokio::join!(
        identity_and_tags,
        inventory::list_table_names(ctx.dynamodb()),
        awsio::backup_setup::read_backup_setup(ctx.backup()),
        read_vaults(ctx, opts),
        inventory::recent_failed_jobs(ctx.backup(), opts.jobs_after),
        restore_jobs,
    );
    let (identity, tags) = id_tags.map_err(|e| RegionFailure {
        account: None,
        source: Source::Identity,
        reason: format!(
            "account and partition could not be read: {}",
            short_reason(&e)
        ),
    })?;
    let tables = tables.map_err(|e| RegionFailure {
        account: Some(identity.account.clone()),
        source: Source::Tables,
        reason: format!("the table list could not be read: {}", short_reason(&e)),
    })?;

    let mut sources = vec![read(Source::Identity, None), read(Source::Tables, None)];
    let (tags, tagged_tables, tag_pairs) = tags_read(tags, &mut sources);
    sources.push(read(
        Source::Plans,
        setup.plans.unknown_reason().map(str::to_string),
    ));
    sources.push(read(
        Source::Selections,
        setup.selections.unknown_reason().map(str::to_string),
    ));
    let (vaults, protection) = match vaults {
        Ok((reads, protection)) => (Ok(reads), protection),
        Err(e) => (Err(e), VaultProtection::default()),
    };
    let (points, points_per_vault) = index_points(vaults, &mut sources);
    sources.extend(protection.sources);
    let (jobs, jobs_fit_one_page, failed_jobs_per_state) = failed_jobs_read(jobs, &mut sources);
    let (restore_jobs, restore_jobs_listed) = restore_jobs_read(restore_jobs, &mut sources);
    Ok(Inventory {
        region,
        identity,
        table_names: tables.items,
        tags,
        setup,
        points,
        vaults: protection.vaults,
        vault_keys: protection.keys,
        jobs,
        sources,
        tagged_tables,
        tag_pairs,
        points_per_vault,
        jobs_fit_one_page,
        failed_jobs_per_state,
        restore_jobs,
        restore_jobs_listed,
    })
}

/// The failed backup jobs (or why unknown), whether they fit one page, and how many ended in
/// each failed state; records the jobs' completeness in `sources`.
fn failed_jobs_read(
    jobs: Result<RecentJobs, awsio::AwsCallError>,
    sources: &mut Vec<SourceRead>,
) -> (Fact<Vec<JobFacts>>, bool, [u64; 4]) {
    match jobs {
        Ok(j) => {
            sources.push(read(Source::Jobs, None));
            jobs_read(j)
        }
        Err(e) => {
            let reason = short_reason(&e);
            let unknown = Fact::unknown(format!("backup jobs could not be read: {reason}"));
            sources.push(read(Source::Jobs, Some(reason)));
            (unknown, true, [0; 4])
        }
    }
}

/// The restore testing plan's restore jobs (or why unknown) and how many were listed; `None`
/// when restore testing is not configured. Records their completeness in `sources`.
fn restore_jobs_read(
    listed: Option<Result<(Vec<RestoreJobFacts>, u64), awsio::AwsCallError>>,
    sources: &mut Vec<SourceRead>,
) -> (Option<Fact<Vec<RestoreJobFacts>>>, Option<u64>) {
    match listed {
        None => (None, None),
        Some(Ok((jobs, _pages))) => {
            sources.push(read(Source::RestoreJobs, None));
            let n = jobs.len() as u64;
            (Some(Fact::Known(jobs)), Some(n))
        }
        Some(Err(e)) => {
            let reason = short_reason(&e);
            sources.push(read(Source::RestoreJobs, Some(reason.clone())));
            (
                Some(Fact::unknown(format!(
                    "the restore testing plan's restore jobs could not be read: {reason}"
                ))),
                Some(0),
            )
        }
    }
}

/// A source's completeness: `unread` is why it was not read completely, if so.
fn read(source: Source, unread: Option<String>) -> SourceRead {
    SourceRead { source, unread }
}

/// Tags per table (or why unknown), how many tables the tagging API knows, and their tag
/// pairs; records the tags' completeness in `sources`.
fn tags_read(
    tags: Result<awsio::inventory::Paged<TagsByTable>, awsio::AwsCallError>,
    sources: &mut Vec<SourceRead>,
) -> (Fact<TagsByTable>, u64, u64) {
    match tags {
        Ok(t) => {
            let pairs = t.items.values().map(|m| m.len().max(1) as u64).sum();
            sources.push(read(Source::Tags, None));
            let n = t.items.len() as u64;
            (Fact::Known(t.items), n, pairs)
        }
        Err(e) => {
            let reason = short_reason(&e);
            let unknown = Fact::unknown(format!("tags could not be read: {reason}"));
            sources.push(read(Source::Tags, Some(reason)));
            (unknown, 0, 0)
        }
    }
}

/// One vault's listing: its points, or why it was not read completely.
type VaultRead = (String, Result<VaultPoints, String>);

/// What protects the vaults holding DynamoDB points, and the completeness of those reads.
#[derive(Debug, Default)]
struct VaultProtection {
    vaults: VaultIndex,
    keys: u64,
    sources: Vec<SourceRead>,
}

/// One vault's reads: its listing, its points, and (if it holds any) its access policy.
type VaultFullRead = (
    VaultListing,
    Result<VaultPoints, String>,
    Option<Result<Option<String>, String>>,
);

/// The vault list, then every vault's DynamoDB points and, for a vault holding some, its
/// access policy (bounded concurrency; vaults not started before the deadline count as
/// unread), then the state of every distinct key of those vaults.
async fn read_vaults(
    ctx: &AwsContext,
    opts: &ReadOptions,
) -> Result<(Vec<VaultRead>, VaultProtection), awsio::AwsCallError> {
    let vaults = awsio::vault::list_vaults(ctx.backup()).await?;
    let mut reads: Vec<VaultFullRead> = stream::iter(vaults.items)
        .map(|v| async move {
            if opts.out_of_time() {
                return (v, Err(deadline_reason()), None);
            }
            let r = inventory::vault_recovery_points(ctx.backup(), &v.name, opts.points_after)
                .await
                .map_err(|e| short_reason(&e));
            let holds_points = r
                .as_ref()
                .is_ok_and(|p| !p.points.is_empty() || !p.malformed.is_empty());
            let policy = if !holds_points {
                None
            } else if opts.out_of_time() {
                Some(Err(deadline_reason()))
            } else {
                Some(
                    awsio::vault::vault_access_policy(ctx.backup(), &v.name)
                        .await
                        .map_err(|e| short_reason(&e)),
                )
            };
            (v, r, policy)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    reads.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let protection = read_protection(ctx, opts, &reads).await;
    let reads = reads.into_iter().map(|(v, r, _)| (v.name, r)).collect();
    Ok((reads, protection))
}

/// The vault facts of every vault that holds points, with one `DescribeKey` per distinct key.
async fn read_protection(
    ctx: &AwsContext,
    opts: &ReadOptions,
    reads: &[VaultFullRead],
) -> VaultProtection {
    let keys: std::collections::BTreeSet<String> = reads
        .iter()
        .filter(|(_, _, policy)| policy.is_some())
        .filter_map(|(v, _, _)| v.encryption_key_arn.clone())
        .collect();
    let states: BTreeMap<String, Result<KeyState, String>> = stream::iter(keys)
        .map(|k| async move {
            if opts.out_of_time() {
                return (k, Err(deadline_reason()));
            }
            let r = awsio::vault::key_state(ctx.kms(), &k)
                .await
                .map_err(|e| short_reason(&e));
            (k, r)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    vault_protection(reads, &states)
}

/// Builds the vault facts (and the sources' completeness) from the reads.
fn vault_protection(
    reads: &[VaultFullRead],
    states: &BTreeMap<String, Result<KeyState, String>>,
) -> VaultProtection {
    let mut out = VaultProtection {
        keys: states.len() as u64,
        ..VaultProtection::default()
    };
    for (v, _, policy) in reads {
        let Some(policy) = policy else { continue };
        out.sources.push(SourceRead {
            source: Source::VaultAccessPolicy(v.name.clone()),
            unread: policy.as_ref().err().cloned(),
        });
        let key_state = match &v.encryption_key_arn {
            None => Fact::unknown(format!(
                "ListBackupVaults names no EncryptionKeyArn for vault {}",
                v.name
            )),
            Some(k) => match states.get(k) {
                Some(Ok(state)) => Fact::Known(state.clone()),
                Some(Err(reason)) => Fact::unknown(format!("key {k}: {reason}")),
                None => Fact::unknown(format!("key {k} was not read")),
            },
        };
        out.vaults.insert(
            v.name.clone(),
            VaultFacts {
                name: v.name.clone(),
                arn: v.arn.clone(),
                lock: Fact::Known(v.lock.clone()),
                encryption_key_arn: v.encryption_key_arn.clone(),
                access_policy: match policy {
                    Ok(p) => Fact::Known(p.clone()),
                    Err(reason) => Fact::unknown(reason.clone()),
                },
                key_state,
            },
        );
    }
    for (k, r) in states {
        out.sources.push(SourceRead {
            source: Source::VaultKey(k.clone()),
            unread: r.as_ref().err().cloned(),
        });
    }
    out
}

/// Groups the points by table and records each vault's completeness in `sources`.
fn index_points(
    vaults: Result<Vec<VaultRead>, awsio::AwsCallError>,
    sources: &mut Vec<SourceRead>,
) -> (PointIndex, Vec<u64>) {
    let reads = match vaults {
        Ok(r) => r,
        Err(e) => {
            let reason = short_reason(&e);
            sources.push(SourceRead {
                source: Source::VaultList,
                unread: Some(reason.clone()),
            });
            let index = PointIndex {
                all_unknown: Some(format!("backup vaults could not be listed: {reason}")),
                ..PointIndex::default()
            };
            return (index, Vec::new());
        }
    };
    sources.push(SourceRead {
        source: Source::VaultList,
        unread: None,
    });
    let mut index = PointIndex::default();
    let mut all_points = Vec::new();
    let mut unread: Vec<(String, String)> = Vec::new();
    let mut per_vault = Vec::with_capacity(reads.len());
    for (vault, r) in reads {
        match r {
            Ok(vp) => {
                per_vault.push(vp.points.len() as u64 + vp.malformed.len() as u64);
                let mut anonymous = None;
                for m in vp.malformed {
                    match m.resource_arn {
                        Some(arn) => {
                            index.table_unknown.insert(arn, m.reason);
                        }
                        None => {
                            anonymous.get_or_insert(format!(
                                "a recovery point without a resource ARN: {}",
                                m.reason
                            ));
                        }
                    }
                }
                if let Some(reason) = &anonymous {
                    unread.push((vault.clone(), reason.clone()));
                }
                sources.push(SourceRead {
                    source: Source::Vault(vault),
                    unread: anonymous,
                });
                all_points.extend(vp.points);
            }
            Err(reason) => {
                per_vault.push(0);
                unread.push((vault.clone(), reason.clone()));
                sources.push(SourceRead {
                    source: Source::Vault(vault),
                    unread: Some(reason),
                });
            }
        }
    }
    index.by_table = inventory::group_by_resource(all_points);
    if !unread.is_empty() {
        let list: Vec<String> = unread
            .iter()
            .map(|(v, reason)| format!("vault {v}: {reason}"))
            .collect();
        index.all_unknown = Some(format!(
            "{} not read completely, and any vault may hold any table's points",
            list.join("; ")
        ));
    }
    (index, per_vault)
}

/// Failed jobs, whether one page held them all, and failures per state.
fn jobs_read(jobs: RecentJobs) -> (Fact<Vec<JobFacts>>, bool, [u64; 4]) {
    let mut per_state = [0u64; 4];
    for j in &jobs.failed {
        if let Some(i) = inventory::FAILURE_STATES
            .iter()
            .position(|s| *s == j.state.as_api())
        {
            per_state[i] += 1;
        }
    }
    (
        Fact::Known(jobs.failed),
        jobs.listing == JobListing::SinglePage,
        per_state,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use awsio::inventory::MalformedPoint;

    fn point(vault: &str, table_arn: &str) -> RecoveryPointFacts {
        RecoveryPointFacts {
            arn: format!("arn:aws:backup:eu-west-1:1:recovery-point:{vault}-{table_arn}"),
            resource_arn: table_arn.to_string(),
            vault_name: vault.to_string(),
            status: policy::facts::PointStatus::Available,
            created: Timestamp::UNIX_EPOCH,
            completed: None,
            delete_after_days: None,
            move_to_cold_storage_after_days: None,
            delete_at: None,
            created_by: None,
            is_encrypted: Some(true),
            encryption_key_arn: None,
        }
    }

    fn read(vault: &str, points: Vec<RecoveryPointFacts>) -> VaultRead {
        (
            vault.to_string(),
            Ok(VaultPoints {
                points,
                malformed: Vec::new(),
                pages: 1,
            }),
        )
    }

    #[test]
    fn every_vault_read_gives_each_table_its_points() {
        let mut sources = Vec::new();
        let (index, per_vault) = index_points(
            Ok(vec![read("a", vec![point("a", "t1")]), read("b", vec![])]),
            &mut sources,
        );
        assert_eq!(per_vault, vec![1, 0]);
        assert_eq!(index.for_table("t1").known().map(Vec::len), Some(1));
        assert_eq!(index.for_table("t2").known().map(Vec::len), Some(0));
        assert!(sources.iter().all(|s| s.unread.is_none()), "{sources:?}");
    }

    #[test]
    fn taking_a_tables_points_moves_them_and_keeps_unknown_unknown() {
        let mut sources = Vec::new();
        let (mut index, _) =
            index_points(Ok(vec![read("a", vec![point("a", "t1")])]), &mut sources);
        assert_eq!(index.take_for_table("t1").known().map(Vec::len), Some(1));
        assert_eq!(index.for_table("t1").known().map(Vec::len), Some(0));
        index.all_unknown = Some("vault b: AccessDenied".into());
        assert_eq!(
            index.take_for_table("t2").unknown_reason(),
            Some("vault b: AccessDenied")
        );
    }

    #[test]
    fn one_unread_vault_makes_every_tables_points_unknown_naming_it() {
        let mut sources = Vec::new();
        let (index, _) = index_points(
            Ok(vec![
                read("a", vec![point("a", "t1")]),
                ("b".to_string(), Err("AccessDeniedException".to_string())),
            ]),
            &mut sources,
        );
        for t in ["t1", "t2"] {
            let reason = index.for_table(t).unknown_reason().map(str::to_string);
            assert!(
                reason
                    .as_deref()
                    .is_some_and(|r| r.contains("vault b") && r.contains("AccessDenied")),
                "{t}: {reason:?}"
            );
        }
        assert_eq!(
            sources
                .iter()
                .filter(|s| s.unread.is_some())
                .map(|s| s.source.clone())
                .collect::<Vec<_>>(),
            vec![Source::Vault("b".into())]
        );
    }

    #[test]
    fn a_point_without_resource_arn_makes_its_vault_unread() {
        let mut sources = Vec::new();
        let vault = (
            "a".to_string(),
            Ok(VaultPoints {
                points: vec![point("a", "t1")],
                malformed: vec![MalformedPoint {
                    resource_arn: None,
                    reason: "no ResourceArn".into(),
                }],
                pages: 1,
            }),
        );
        let (index, _) = index_points(Ok(vec![vault]), &mut sources);
        assert!(index.for_table("t1").known().is_none());
        assert!(
            sources
                .iter()
                .any(|s| s.source == Source::Vault("a".into()) && s.unread.is_some())
        );
    }

    #[test]
    fn a_malformed_point_of_one_table_leaves_the_others_known() {
        let mut sources = Vec::new();
        let vault = (
            "a".to_string(),
            Ok(VaultPoints {
                points: vec![point("a", "t1")],
                malformed: vec![MalformedPoint {
                    resource_arn: Some("t2".into()),
                    reason: "no CreationDate".into(),
                }],
                pages: 1,
            }),
        );
        let (index, _) = index_points(Ok(vec![vault]), &mut sources);
        assert!(index.for_table("t1").known().is_some());
        assert!(
            index
                .for_table("t2")
                .unknown_reason()
                .is_some_and(|r| r.contains("no CreationDate"))
        );
    }

    #[test]
    fn an_unlisted_vault_list_makes_every_tables_points_unknown() {
        let mut sources = Vec::new();
        let err = awsio::AwsCallError::invalid_response("Backup.ListBackupVaults", "boom");
        let (index, per_vault) = index_points(Err(err), &mut sources);
        assert!(per_vault.is_empty());
        assert!(index.for_table("t1").known().is_none());
        assert_eq!(sources[0].source, Source::VaultList);
        assert!(sources[0].unread.is_some());
    }
}
