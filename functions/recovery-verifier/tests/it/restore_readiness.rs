//! Restore readiness per table against the local account: the restore testing plan's restore
//! jobs in the stand-in (`tests/scenarios/restore-readiness.json`, `healthy.json`), read by one
//! paginated `ListRestoreJobs`; each table with a problem gets exactly its finding.

use std::collections::BTreeSet;

use local_account::Scenario;
use local_account::standin::{FailKind, Fault};
use policy::findings::FindingCode;
use policy::{Policy, Verdict};
use recovery_verifier::calls::minimal_calls;
use recovery_verifier::{VerifyOptions, verify_region};

use crate::common::*;

fn policy_of(account: &local_account::LocalAccount) -> Policy {
    let mut p = Policy::default();
    p.restore_testing = account
        .restore_testing()
        .expect("the scenario configures restore testing");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_restore_problem_gives_exactly_its_finding_and_calls_equal_the_formula() {
    let account = start(&Scenario::shipped("restore-readiness").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    assert_eq!(expected.len(), 3);
    let ctx = account.context().await;
    let policy = policy_of(&account);
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;
    let got = findings(&report);
    assert_eq!(got, expected, "found {got:#?}\nexpected {expected:#?}");
    for (table, code) in [
        ("customers", FindingCode::RestoreNotTested),
        ("payments", FindingCode::RestoreTestFailed),
        ("invoices", FindingCode::RestoreTimeOverTarget),
    ] {
        let t = table_named(&report, table).unwrap();
        assert_eq!(t.verdict, Verdict::NonCompliant, "{table}");
        assert_eq!(t.findings[0].code, code);
    }
    assert!(
        table_named(&report, "invoices").unwrap().findings[0]
            .message
            .contains("95 minutes"),
    );
    // One ListRestoreJobs (a single page), filtered by the plan: the extended formula.
    let counted = calls(&ctx);
    assert_eq!(counted.get("Backup.ListRestoreJobs"), Some(&1));
    let expected_findings = account.expected_findings().unwrap();
    let need = tables_needing_creation_time(account.scenario(), &expected_findings, &policy);
    let shape = shape_of(account.scenario(), need.len() as u64);
    assert_eq!(shape.restore_jobs, Some(6));
    assert_eq!(counted.values().sum::<u64>(), minimal_calls(&shape));
    assert_eq!(report.shape.as_ref(), Some(&shape));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_with_its_restore_test_history_stays_clean() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let ctx = account.context().await;
    let policy = policy_of(&account);
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;
    assert!(findings(&report).is_empty(), "{:#?}", findings(&report));
    assert!(
        report
            .report
            .tables
            .iter()
            .all(|t| t.verdict == Verdict::Compliant)
    );
    assert_eq!(calls(&ctx).get("Backup.ListRestoreJobs"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_restore_job_list_is_unverifiable_never_compliant() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let mut f = Fault::new("ListRestoreJobs");
    f.fail_always = Some(FailKind::AccessDeniedException);
    account.standin().set_fault(f).unwrap();
    let ctx = account.context().await;
    let policy = policy_of(&account);
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;
    let codes: BTreeSet<FindingCode> = findings(&report).into_iter().map(|f| f.code).collect();
    assert_eq!(codes, BTreeSet::from([FindingCode::Unverifiable]));
    assert!(
        report
            .report
            .tables
            .iter()
            .all(|t| t.verdict == Verdict::Unverifiable)
    );
    assert!(report.unread_sources().any(|s| {
        s.unread
            .as_deref()
            .is_some_and(|r| r.contains("ListRestoreJobs"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nightly_digest_names_each_restore_finding() {
    let account = start(&Scenario::shipped("restore-readiness").unwrap()).await;
    let deps = deps(&account).await;
    let outcome = recovery_verifier::run(at_now(&account), &deps, no_deadline())
        .await
        .unwrap();
    for code in [
        "RESTORE_NOT_TESTED",
        "RESTORE_TEST_FAILED",
        "RESTORE_TIME_OVER_TARGET",
    ] {
        assert!(
            outcome.digest.text.contains(code),
            "{code}: {}",
            outcome.digest.text
        );
    }
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "one digest");
    assert!(
        alerts[0]
            .subject
            .as_deref()
            .is_some_and(|s| s.contains("3 of 6 tables non-compliant")),
        "{:?}",
        alerts[0].subject
    );
}
