//! A generated account of 2,000 compliant tables (the `healthy` scenario's plan, selection and
//! protected vault, same scenario struct as the files): the verifier's counted calls stay
//! within 1.1× of the minimal formula (vault-protection reads and the restore testing plan's
//! one ListRestoreJobs listing included, exactly their terms), and far below a naive
//! per-table scan.

use jiff::{SignedDuration, Timestamp};
use local_account::Scenario;
use local_account::scenario::TableSpec;
use policy::Verdict;
use recovery_verifier::calls::naive_calls;
use recovery_verifier::{VerifyOptions, minimal_calls, verify_region};
use serde_json::json;

use crate::common::*;

const TABLES: usize = 2000;

fn generated() -> Scenario {
    let mut s = Scenario::shipped("healthy").unwrap();
    s.name = "generated-2000".into();
    let born: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
    // Keep the healthy scenario's tables (the state table among them) and add the generated ones.
    s.tables.extend((0..TABLES).map(|i| {
        serde_json::from_value::<TableSpec>(json!({
            "name": format!("gen-{i:04}"),
            "created": (born + SignedDuration::from_mins(i as i64)).to_string(),
            "tags": {"owner": format!("team-{}", i % 17), "backup-policy": "twice-monthly-90d"},
            "backups": {"plan": "backup-guard-policy", "rule": "twice-monthly-90d"}
        }))
        .unwrap()
    }));
    // Every generated table passed its restore test on the 25th: 2,000 more restore jobs
    // of the plan (with healthy's, 3 pages of ListRestoreJobs).
    if let Some(rt) = s.restore_testing.as_mut() {
        rt.jobs.extend((0..TABLES).map(|i| {
            serde_json::from_value(json!({
                "id": format!("RT-GEN-{i:04}"),
                "table": format!("gen-{i:04}"),
                "validation": "SUCCESSFUL",
                "created": (Timestamp::from_second(1_795_586_400).unwrap()
                    + SignedDuration::from_secs(i as i64))
                .to_string()
            }))
            .unwrap()
        }));
    }
    s.expectations.clear();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_tables_stay_within_ten_percent_of_the_formula() {
    let account = start(&generated()).await;
    let ctx = account.context().await;
    // Restore testing configured: the extended formula (one ListRestoreJobs listing).
    let mut policy = policy::Policy::default();
    policy.restore_testing = account.restore_testing().unwrap();
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(report.report.tables.len(), account.scenario().tables.len());
    assert!(report.report.tables.len() >= TABLES);
    assert!(
        report
            .report
            .tables
            .iter()
            .all(|t| t.verdict == Verdict::Compliant),
        "all generated tables comply"
    );
    // DescribeTable only for the healthy scenario's tables born inside the horizon.
    let need = tables_needing_creation_time(
        account.scenario(),
        &Default::default(),
        &policy::Policy::default(),
    );
    let described: std::collections::BTreeSet<String> =
        report.described_tables.iter().cloned().collect();
    assert_eq!(described, need);

    let shape = shape_of(account.scenario(), need.len() as u64);
    let formula = minimal_calls(&shape);
    let counted: u64 = calls(&ctx).values().sum();
    let ratio = counted as f64 / formula as f64;
    println!(
        "generated {TABLES} tables: counted {counted} calls, formula {formula}, ratio {ratio:.3}, naive scan {}; per operation: {:?}",
        naive_calls(&shape),
        calls(&ctx)
    );
    assert_eq!(shape.restore_jobs, Some(TABLES as u64 + 7));
    assert_eq!(calls(&ctx).get("Backup.ListRestoreJobs"), Some(&3));
    assert!(counted >= formula, "the formula is a lower bound");
    // The vault-protection reads cost exactly their terms: one access policy per vault holding
    // points, one DescribeKey per distinct key — not per table.
    let by_op = recovery_verifier::calls::minimal_calls_by_operation(&shape);
    for op in ["Backup.GetBackupVaultAccessPolicy", "KMS.DescribeKey"] {
        assert_eq!(by_op.get(op), Some(&1), "{op}");
        assert_eq!(calls(&ctx).get(op), Some(&1), "{op}");
    }
    assert!(ratio <= 1.1, "counted {counted} vs formula {formula}");
    assert!(naive_calls(&shape) >= 30 * counted);
}
