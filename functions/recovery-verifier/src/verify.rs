//! Verifying one region: inventory with the fewest calls → `policy::evaluate_table` for every
//! table → creation times only where a missed slot makes them matter → a [`RegionReport`].
//!
//! Read-only: nothing is published or saved here, so the CLI `audit` reuses it as is.
//!
//! Partial failure: a fact that cannot be read becomes `Fact::Unknown` with the reason, and the
//! policy turns it into `UNVERIFIABLE` for exactly the tables that depend on it:
//!
//! * tags unreadable (`GetResources`) → every table's tags are unknown;
//! * plans/selections unreadable → coverage unknown for every table;
//! * one vault unreadable → the recovery points of the tables that vault holds are unknown. A
//!   vault holds a table if a plan covering the table has a rule targeting the vault, or a
//!   backup job of the last 30 days put the table into the vault;
//! * the vault list unreadable → every table's points are unknown;
//! * jobs unreadable → every table's jobs are unknown;
//! * account, partition or the table list unreadable → nothing in the region can be verified
//!   ([`RegionReport::failure`]).
//!
//! The Lambda deadline ([`VerifyOptions::deadline`]) stops new work: vaults not read in time
//! count as unreadable ("not reached before the deadline") and tables whose creation time was
//! not read in time are re-evaluated with their points unknown, so they are reported
//! `UNVERIFIABLE` and listed in [`RegionReport::unreached_tables`] rather than judged without
//! their grace period.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use awsio::AwsContext;
use awsio::inventory::{self, JobListing, RecentJobs, VaultPoints};
use futures::{StreamExt, stream};
use jiff::{SignedDuration, Timestamp};
use policy::evaluate::{Coverage, evaluate_coverage};
use policy::facts::{BackupSetup, Fact, JobFacts, RecoveryPointFacts, TableFacts};
use policy::report::{RunReport, Unreachable};
use policy::selection::wildcard_match;
use policy::{Policy, TableEvaluation, Verdict, evaluate_table, needs_creation_time};
use serde::Serialize;

use crate::calls::{InventoryShape, minimal_calls};

/// Tags per table name.
type TagsByTable = BTreeMap<String, BTreeMap<String, String>>;
/// Failed jobs, (table ARN, vault) pairs seen, whether one page held all jobs, failures per state.
type JobsRead = (Fact<Vec<JobFacts>>, Vec<(String, String)>, bool, [u64; 4]);
/// A `DescribeTable` creation-time read.
type CreationRead = Result<Option<Timestamp>, awsio::AwsCallError>;

/// How `ListBackupJobs` is bounded: AWS keeps 30 days of jobs.
pub const JOB_LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 30);

/// Options of one region's verification.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Table-name globs (`*` wildcards); empty means every table.
    pub tables: Vec<String>,
    /// Start no new AWS call after this instant (the Lambda deadline minus a safety margin).
    pub deadline: Option<Instant>,
    /// Recovery points are listed from `now − retention − lookback_slack`, so points near the
    /// oldest slot (and their near misses) are seen.
    pub lookback_slack: SignedDuration,
    /// Concurrent calls for independent reads (vaults, `DescribeTable`).
    pub concurrency: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            tables: Vec::new(),
            deadline: None,
            lookback_slack: SignedDuration::from_hours(24 * 7),
            concurrency: 8,
        }
    }
}

impl VerifyOptions {
    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn selects(&self, name: &str) -> bool {
        self.tables.is_empty() || self.tables.iter().any(|g| wildcard_match(g, name))
    }
}

/// The result of verifying one region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionReport {
    /// The region.
    pub region: String,
    /// The account, if it could be read.
    pub account: Option<String>,
    /// The policy's report: every table's evaluation, counts, API calls, unreachable parts.
    pub report: RunReport,
    /// Why nothing in the region could be verified, if so.
    pub failure: Option<String>,
    /// Tables whose creation time was read (`DescribeTable`).
    pub described_tables: Vec<String>,
    /// Tables the run could not finish before the deadline.
    pub unreached_tables: Vec<String>,
    /// The inventory's shape (counts that drive the call formula), when the inventory was read.
    pub shape: Option<InventoryShape>,
    /// The minimal calls for that shape ([`crate::calls::minimal_calls`]).
    pub minimal_calls: Option<u64>,
    /// Calls counted during this verification (attempts, retries included).
    pub counted_calls: u64,
    /// Retries among them.
    pub retries: u64,
    /// How long the verification took.
    pub duration_ms: u64,
}

impl RegionReport {
    /// True if at least one table got a verdict other than `unverifiable`, or the region has
    /// no tables and nothing failed.
    pub fn verified_something(&self) -> bool {
        if self.failure.is_some() {
            return false;
        }
        self.report.tables.is_empty()
            || self
                .report
                .tables
                .iter()
                .any(|t| t.verdict != Verdict::Unverifiable)
    }
}

/// Calls made on `ctx` since `before` (attempts and retries per operation).
fn calls_since(
    ctx: &AwsContext,
    before: &BTreeMap<String, awsio::OperationCalls>,
) -> (BTreeMap<String, u64>, u64) {
    let mut per_op = BTreeMap::new();
    let mut retries = 0;
    for (op, c) in ctx.calls.snapshot() {
        let b = before.get(&op).copied().unwrap_or_default();
        let attempts = c.attempts.saturating_sub(b.attempts);
        retries += c.retries.saturating_sub(b.retries);
        if attempts > 0 {
            per_op.insert(op, attempts);
        }
    }
    (per_op, retries)
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

fn deadline_reason() -> String {
    "not reached before the Lambda deadline (the run stopped starting new work)".to_string()
}

/// Verifies every table of `ctx`'s region at `now` (read-only).
pub async fn verify_region(
    ctx: &AwsContext,
    policy: &Policy,
    now: Timestamp,
    opts: &VerifyOptions,
) -> RegionReport {
    let started = Instant::now();
    let before = ctx.calls.snapshot();
    let region = ctx.region().unwrap_or("(no region)").to_string();
    let mut notes: Vec<String> = Vec::new();
    let mut unreachable: Vec<Unreachable> = Vec::new();

    let finish = |tables: Vec<TableEvaluation>,
                  unreachable: Vec<Unreachable>,
                  notes: Vec<String>,
                  account: Option<String>,
                  failure: Option<String>,
                  described: Vec<String>,
                  unreached: Vec<String>,
                  shape: Option<InventoryShape>| {
        let (api_calls, retries) = calls_since(ctx, &before);
        let counted_calls = api_calls.values().sum();
        RegionReport {
            region: region.clone(),
            account,
            report: RunReport::new(now, policy.clone(), tables, api_calls, unreachable, notes),
            failure,
            described_tables: described,
            unreached_tables: unreached,
            minimal_calls: shape.as_ref().map(minimal_calls),
            shape,
            counted_calls,
            retries,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    };

    if opts.out_of_time() {
        let reason = deadline_reason();
        unreachable.push(Unreachable {
            what: format!("region {region}"),
            reason: reason.clone(),
        });
        return finish(
            Vec::new(),
            unreachable,
            notes,
            None,
            Some(format!("region {region} {reason}")),
            Vec::new(),
            Vec::new(),
            None,
        );
    }

    // Inventory: five independent chains, concurrently.
    let points_after = now
        .checked_sub(policy.retention())
        .and_then(|t| t.checked_sub(opts.lookback_slack))
        .unwrap_or(Timestamp::MIN);
    let jobs_after = now.checked_sub(JOB_LOOKBACK).unwrap_or(Timestamp::MIN);
    let identity_and_tags = async {
        let id = inventory::caller_identity(ctx.sts()).await?;
        let tags = inventory::table_tags(ctx.tagging(), &region, &id.account).await;
        Ok::<_, awsio::AwsCallError>((id, tags))
    };
    let vaults_and_points = async {
        let vaults = inventory::list_vault_names(ctx.backup()).await?;
        let reads: Vec<(String, Result<VaultPoints, String>)> = stream::iter(vaults.items.clone())
            .map(|v| async move {
                if opts.out_of_time() {
                    return (v, Err(deadline_reason()));
                }
                let r = inventory::vault_recovery_points(ctx.backup(), &v, points_after)
                    .await
                    .map_err(|e| short_reason(&e));
                (v, r)
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
        Ok::<_, awsio::AwsCallError>(reads)
    };
    let (id_tags, tables, setup, vault_reads, jobs) = tokio::join!(
        identity_and_tags,
        inventory::list_table_names(ctx.dynamodb()),
        awsio::backup_setup::read_backup_setup(ctx.backup()),
        vaults_and_points,
        inventory::recent_failed_jobs(ctx.backup(), jobs_after),
    );

    let (identity, tags) = match id_tags {
        Ok(x) => x,
        Err(e) => {
            let reason = format!(
                "account and partition could not be read: {}",
                short_reason(&e)
            );
            unreachable.push(Unreachable {
                what: format!("STS.GetCallerIdentity region={region}"),
                reason: short_reason(&e),
            });
            return finish(
                Vec::new(),
                unreachable,
                notes,
                None,
                Some(reason),
                Vec::new(),
                Vec::new(),
                None,
            );
        }
    };
    let account = Some(identity.account.clone());
    let tables = match tables {
        Ok(t) => t,
        Err(e) => {
            unreachable.push(Unreachable {
                what: format!("DynamoDB.ListTables region={region}"),
                reason: short_reason(&e),
            });
            return finish(
                Vec::new(),
                unreachable,
                notes,
                account,
                Some(format!(
                    "the table list could not be read: {}",
                    short_reason(&e)
                )),
                Vec::new(),
                Vec::new(),
                None,
            );
        }
    };

    // Tags: absent from GetResources means no tags (never skip such a table).
    let (tags_by_name, tagged_count, tag_pairs): (Fact<TagsByTable>, u64, u64) = match tags {
        Ok(t) => {
            let n = t.items.len() as u64;
            let pairs = t.items.values().map(|m| m.len().max(1) as u64).sum();
            (Fact::Known(t.items), n, pairs)
        }
        Err(e) => {
            unreachable.push(Unreachable {
                what: format!("ResourceGroupsTaggingAPI.GetResources region={region}"),
                reason: short_reason(&e),
            });
            (
                Fact::unknown(format!("tags could not be read: {}", short_reason(&e))),
                0,
                0,
            )
        }
    };

    let table_facts: Vec<TableFacts> = tables
        .items
        .iter()
        .filter(|n| opts.selects(n))
        .map(|name| TableFacts {
            arn: inventory::table_arn(&identity.partition, &region, &identity.account, name),
            name: name.clone(),
            account: identity.account.clone(),
            region: region.clone(),
            created: None,
            tags: match &tags_by_name {
                Fact::Known(m) => Fact::Known(m.get(name).cloned().unwrap_or_default()),
                Fact::Unknown { reason } => Fact::unknown(reason.clone()),
            },
        })
        .collect();
    if !opts.tables.is_empty() {
        notes.push(format!(
            "table filter {:?}: {} of {} tables selected",
            opts.tables,
            table_facts.len(),
            tables.items.len()
        ));
    }

    // Jobs.
    let (jobs_fact, job_vaults, jobs_fit, failed_per_state): JobsRead = match jobs {
        Ok(RecentJobs {
            failed,
            listing,
            vault_of_job,
            ..
        }) => {
            let mut per_state = [0u64; 4];
            for j in &failed {
                if let Some(i) = inventory::FAILURE_STATES
                    .iter()
                    .position(|s| *s == j.state.as_api())
                {
                    per_state[i] += 1;
                }
            }
            (
                Fact::Known(failed),
                vault_of_job,
                listing == JobListing::SinglePage,
                per_state,
            )
        }
        Err(e) => {
            unreachable.push(Unreachable {
                what: format!("Backup.ListBackupJobs region={region}"),
                reason: short_reason(&e),
            });
            (
                Fact::unknown(format!(
                    "backup jobs could not be read: {}",
                    short_reason(&e)
                )),
                Vec::new(),
                true,
                [0; 4],
            )
        }
    };

    // Recovery points, grouped by table; unreadable vaults make their tables' points unknown.
    let mut points_by_table: BTreeMap<String, Vec<RecoveryPointFacts>> = BTreeMap::new();
    let mut unknown_points: BTreeMap<String, String> = BTreeMap::new();
    let mut all_points_unknown: Option<String> = None;
    let mut points_per_vault: Vec<u64> = Vec::new();
    match vault_reads {
        Err(e) => {
            unreachable.push(Unreachable {
                what: format!("Backup.ListBackupVaults region={region}"),
                reason: short_reason(&e),
            });
            all_points_unknown = Some(format!(
                "backup vaults could not be listed: {}",
                short_reason(&e)
            ));
        }
        Ok(reads) => {
            let mut reads = reads;
            reads.sort_by(|a, b| a.0.cmp(&b.0));
            let mut failed_vaults: BTreeMap<String, String> = BTreeMap::new();
            let mut all_points = Vec::new();
            for (vault, r) in reads {
                match r {
                    Ok(vp) => {
                        points_per_vault.push(vp.points.len() as u64 + vp.malformed.len() as u64);
                        for m in vp.malformed {
                            match m.resource_arn {
                                Some(arn) => {
                                    unknown_points.insert(arn, m.reason);
                                }
                                None => unreachable.push(Unreachable {
                                    what: format!("a recovery point in vault {vault}"),
                                    reason: m.reason,
                                }),
                            }
                        }
                        all_points.extend(vp.points);
                    }
                    Err(reason) => {
                        points_per_vault.push(0);
                        unreachable.push(Unreachable {
                            what: format!(
                                "Backup.ListRecoveryPointsByBackupVault vault={vault} region={region}"
                            ),
                            reason: reason.clone(),
                        });
                        failed_vaults.insert(vault, reason);
                    }
                }
            }
            points_by_table = inventory::group_by_resource(all_points);
            if !failed_vaults.is_empty() {
                let affected =
                    tables_in_vaults(&table_facts, &setup, policy, &job_vaults, &failed_vaults);
                for (arn, reason) in affected {
                    unknown_points.entry(arn).or_insert(reason);
                }
                notes.push(format!(
                    "vault(s) {} could not be read; tables without a plan or job there were judged on the other vaults",
                    failed_vaults.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    let points_fact = |arn: &str| -> Fact<Vec<RecoveryPointFacts>> {
        if let Some(r) = &all_points_unknown {
            return Fact::unknown(r.clone());
        }
        if let Some(r) = unknown_points.get(arn) {
            return Fact::unknown(format!("recovery points could not be read: {r}"));
        }
        Fact::Known(points_by_table.get(arn).cloned().unwrap_or_default())
    };
    let jobs_for = |arn: &str| -> Fact<Vec<JobFacts>> {
        match &jobs_fact {
            Fact::Known(all) => Fact::Known(
                all.iter()
                    .filter(|j| j.resource_arn == arn)
                    .cloned()
                    .collect(),
            ),
            Fact::Unknown { reason } => Fact::unknown(reason.clone()),
        }
    };

    // Evaluate every table; read creation times only where a missed slot makes them matter.
    let mut evaluations: Vec<TableEvaluation> = table_facts
        .iter()
        .map(|t| {
            evaluate_table(
                t,
                &setup,
                &points_fact(&t.arn),
                &jobs_for(&t.arn),
                policy,
                now,
            )
        })
        .collect();
    let to_describe: Vec<usize> = evaluations
        .iter()
        .enumerate()
        .filter(|(_, e)| needs_creation_time(e))
        .map(|(i, _)| i)
        .collect();
    let described: Vec<(usize, Option<CreationRead>)> = stream::iter(to_describe)
        .map(|i| {
            let name = evaluations[i].table.name.clone();
            async move {
                if opts.out_of_time() {
                    return (i, None);
                }
                (
                    i,
                    Some(inventory::table_creation_time(ctx.dynamodb(), &name).await),
                )
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut described_tables = Vec::new();
    let mut unreached_tables = Vec::new();
    for (i, outcome) in described {
        let mut table = evaluations[i].table.clone();
        match outcome {
            None => {
                unreached_tables.push(table.name.clone());
                let reason = format!(
                    "creation time of {} {}; its missed slots may predate it",
                    table.name,
                    deadline_reason()
                );
                evaluations[i] = evaluate_table(
                    &table,
                    &setup,
                    &Fact::unknown(reason),
                    &jobs_for(&table.arn),
                    policy,
                    now,
                );
            }
            Some(Ok(created)) => {
                described_tables.push(table.name.clone());
                match created {
                    Some(c) => {
                        table.created = Some(c);
                        evaluations[i] = evaluate_table(
                            &table,
                            &setup,
                            &points_fact(&table.arn),
                            &jobs_for(&table.arn),
                            policy,
                            now,
                        );
                    }
                    None => evaluations[i].notes.push(
                        "DescribeTable returned no creation time; no grace period assumed".into(),
                    ),
                }
            }
            Some(Err(e)) => {
                described_tables.push(table.name.clone());
                evaluations[i].notes.push(format!(
                    "creation time could not be read ({}); no grace period assumed",
                    short_reason(&e)
                ));
            }
        }
    }
    described_tables.sort();
    unreached_tables.sort();
    for t in &unreached_tables {
        unreachable.push(Unreachable {
            what: format!("DynamoDB.DescribeTable table={t} region={region}"),
            reason: deadline_reason(),
        });
    }
    evaluations.sort_by(|a, b| a.table.name.cmp(&b.table.name));

    let shape = InventoryShape {
        tables: tables.items.len() as u64,
        tagged_tables: tagged_count,
        tag_pairs,
        points_per_vault,
        selections_per_plan: selections_per_plan(&setup),
        jobs_fit_one_page: jobs_fit,
        failed_jobs_per_state: failed_per_state,
        described_tables: described_tables.len() as u64,
    };
    finish(
        evaluations,
        unreachable,
        notes,
        account,
        None,
        described_tables,
        unreached_tables,
        Some(shape),
    )
}

fn selections_per_plan(setup: &BackupSetup) -> Vec<u64> {
    let (Some(plans), Some(selections)) = (setup.plans.known(), setup.selections.known()) else {
        return Vec::new();
    };
    plans
        .iter()
        .map(|p| selections.iter().filter(|s| s.plan_id == p.plan_id).count() as u64)
        .collect()
}

/// Tables (by ARN, with the reason) whose recovery points may sit in one of `failed` vaults:
/// a plan covering the table has a rule targeting the vault, or a recent job put the table
/// there. (A pure helper: which vault holds which table is bookkeeping, not a compliance
/// decision; the verdict on the resulting unknown facts comes from `policy`.)
pub fn tables_in_vaults(
    tables: &[TableFacts],
    setup: &BackupSetup,
    policy: &Policy,
    job_vaults: &[(String, String)],
    failed: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let plan_vaults: BTreeMap<&str, BTreeSet<&str>> = setup
        .plans
        .known()
        .map(|plans| {
            plans
                .iter()
                .map(|p| {
                    (
                        p.plan_id.as_str(),
                        p.rules.iter().map(|r| r.target_vault.as_str()).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut vaults: BTreeSet<&str> = job_vaults
            .iter()
            .filter(|(arn, _)| *arn == t.arn)
            .map(|(_, v)| v.as_str())
            .collect();
        let plan_ids: Vec<String> = match evaluate_coverage(t, setup, policy) {
            Coverage::Protected { by, also_drifted } => by
                .into_iter()
                .map(|c| c.plan_id)
                .chain(also_drifted.into_iter().map(|d| d.plan_id))
                .collect(),
            Coverage::DriftedOnly { covers } => covers.into_iter().map(|d| d.plan_id).collect(),
            Coverage::NotCovered { .. } | Coverage::Unknown { .. } => Vec::new(),
        };
        for id in &plan_ids {
            if let Some(vs) = plan_vaults.get(id.as_str()) {
                vaults.extend(vs.iter().copied());
            }
        }
        if let Some((v, reason)) = vaults.iter().find_map(|v| failed.get_key_value(*v)) {
            out.insert(t.arn.clone(), format!("vault {v}: {reason}"));
        }
    }
    out
}
