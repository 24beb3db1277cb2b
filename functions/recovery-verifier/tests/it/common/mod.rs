//! Shared helpers of the verifier's integration tests (against the local account).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use awsio::{AwsContext, Budget};
use jiff::{SignedDuration, Timestamp};
use local_account::scenario::STATE_TABLE;
use local_account::{ExpectedFinding, LocalAccount, Scenario};
use policy::Policy;
use policy::evaluate::TableEvaluation;
use recovery_verifier::{Deps, InventoryShape, RegionReport};
use serde_json::{Value, json};

/// Starts a local account seeded with `scenario`.
pub async fn start(scenario: &Scenario) -> LocalAccount {
    LocalAccount::start(scenario)
        .await
        .expect("local account starts")
}

/// Dependencies pointing at the local account (fresh clients, so counters start at zero).
pub async fn deps(account: &LocalAccount) -> Deps {
    let region = account.scenario().region.clone();
    let mut policy = Policy::default();
    if let Some(rt) = account.restore_testing() {
        policy.restore_testing = rt;
    }
    Deps {
        policy,
        topic_arn: account.topic_arn().to_string(),
        state_table: STATE_TABLE.to_string(),
        evidence_bucket: Some(account.evidence_bucket().to_string()),
        home: account.context().await,
        regions: vec![(region, account.context().await)],
        safety_margin: Duration::ZERO,
        concurrency: 8,
    }
}

/// The budget of an invocation that gives no deadline (the function's default, 900 s).
pub fn no_deadline() -> Budget {
    Budget::from_now(recovery_verifier::DEFAULT_BUDGET)
}

/// The on-demand payload evaluating at the scenario's "now".
pub fn at_now(account: &LocalAccount) -> Value {
    json!({"now": account.now().to_string()})
}

/// Every finding of a region report as (table, code, subject).
pub fn findings(report: &RegionReport) -> BTreeSet<ExpectedFinding> {
    report
        .report
        .tables
        .iter()
        .flat_map(table_findings)
        .collect()
}

/// One table's findings as (table, code, subject).
pub fn table_findings(t: &TableEvaluation) -> BTreeSet<ExpectedFinding> {
    t.findings
        .iter()
        .map(|f| ExpectedFinding {
            table: f.table_name.clone(),
            code: f.code,
            subject: f.subject.clone(),
        })
        .collect()
}

/// The expected findings of the table `name`.
pub fn expected_for(expected: &BTreeSet<ExpectedFinding>, name: &str) -> BTreeSet<ExpectedFinding> {
    expected
        .iter()
        .filter(|e| e.table == name)
        .cloned()
        .collect()
}

/// The evaluation of the table `name`, if the report has one.
pub fn table_named<'a>(report: &'a RegionReport, name: &str) -> Option<&'a TableEvaluation> {
    report.report.tables.iter().find(|t| t.table.name == name)
}

/// The inventory shape of a (expanded) scenario, counted from the scenario itself, with the
/// verifier's look-backs: points created after now − 90 days − 7 days, jobs after now − 30 days.
pub fn shape_of(s: &Scenario, described_tables: u64) -> InventoryShape {
    let points_after = s.now - SignedDuration::from_hours(24 * (90 + 7));
    let jobs_after = s.now - SignedDuration::from_hours(24 * 30);
    let mut vaults: Vec<&str> = s.vaults.iter().map(|v| v.name.as_str()).collect();
    vaults.sort();
    let points_per_vault: Vec<u64> = vaults
        .iter()
        .map(|v| {
            s.recovery_points
                .iter()
                .filter(|p| p.vault.as_deref() == Some(*v) && p.created > points_after)
                .count() as u64
        })
        .collect();
    // Every scenario vault has a key of its own: one DescribeKey per vault holding points.
    let vault_keys = points_per_vault.iter().filter(|n| **n > 0).count() as u64;
    let selections_per_plan = s
        .plans
        .iter()
        .map(|p| s.selections.iter().filter(|x| x.plan == p.name).count() as u64)
        .collect();
    let recent_jobs: Vec<_> = s
        .backup_jobs
        .iter()
        .filter(|j| j.created > jobs_after)
        .collect();
    let mut failed = [0u64; 4];
    for j in &recent_jobs {
        if let Some(i) = ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"]
            .iter()
            .position(|x| *x == j.state)
        {
            failed[i] += 1;
        }
    }
    InventoryShape {
        tables: s.tables.len() as u64,
        tagged_tables: s.tables.iter().filter(|t| !t.tags.is_empty()).count() as u64,
        tag_pairs: s.tables.iter().map(|t| t.tags.len() as u64).sum(),
        points_per_vault,
        vault_keys,
        selections_per_plan,
        jobs_fit_one_page: recent_jobs.len() <= 1000,
        failed_jobs_per_state: failed,
        described_tables,
        cached_creation_times: 0,
        restore_jobs: s.restore_testing.as_ref().map(|rt| {
            let days = i64::from(
                rt.max_age_days
                    .unwrap_or(policy::restore::DEFAULT_MAX_AGE_DAYS),
            );
            let after = s.now - SignedDuration::from_hours(24 * days);
            rt.jobs.iter().filter(|j| j.created > after).count() as u64
        }),
    }
}

/// The tables whose creation time the verifier needs: not exempt, and either a slot is missed
/// (expected `MISSED_SLOT`) with no good scheduled point before it (which would prove the
/// table existed then), the first backup is pending, or the table was born after the first
/// slot of the retention horizon (so, without its creation time, earlier slots look missed).
pub fn tables_needing_creation_time(
    s: &Scenario,
    expected: &BTreeSet<ExpectedFinding>,
    policy: &Policy,
) -> BTreeSet<String> {
    let first_slot: Timestamp = policy::slots::required_slots(
        policy.schedule(),
        policy.start_window(),
        policy.completion_window(),
        policy.retention(),
        None,
        s.now,
    )
    .first()
    .map(|slot| slot.at)
    .expect("a slot in the horizon");
    let exempt: BTreeSet<&str> = expected
        .iter()
        .filter(|e| e.code == policy::FindingCode::Exempt)
        .map(|e| e.table.as_str())
        .collect();
    // A good scheduled point before a missed slot proves the table existed at that slot, so
    // only missed slots with no such point before them can depend on the creation time.
    let proven_before = |table: &str, slot: Timestamp| {
        s.recovery_points.iter().any(|p| {
            p.table == table
                && p.plan.is_some()
                && p.slot.is_some_and(|at| at < slot)
                && matches!(p.status.as_str(), "AVAILABLE" | "COMPLETED")
        })
    };
    s.tables
        .iter()
        .filter(|t| !exempt.contains(t.name.as_str()))
        .filter(|t| {
            t.created > first_slot
                || expected.iter().any(|e| {
                    e.table == t.name
                        && match e.code {
                            policy::FindingCode::PendingFirstBackup => true,
                            policy::FindingCode::MissedSlot => e
                                .subject
                                .as_deref()
                                .and_then(|x| x.parse::<Timestamp>().ok())
                                .is_none_or(|at| !proven_before(&t.name, at)),
                            _ => false,
                        }
                })
        })
        .map(|t| t.name.clone())
        .collect()
}

/// Counted calls of a fresh context, per operation.
pub fn calls(ctx: &AwsContext) -> BTreeMap<String, u64> {
    ctx.calls.attempts()
}
