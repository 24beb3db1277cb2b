//! Restore validation through the handler against the local account: a `Restore Job State
//! Change` event of the restore testing plan, the restored and source tables in moto, the
//! restore job in the stand-in (which records the validation result).

use std::time::Duration;

use awsio::Budget;
use local_account::restore_fixture::{self, Shape};
use local_account::{LocalAccount, Scenario};
use policy::config::Policy;
use policy::findings::FindingCode;
use table_guard::{Action, AlertStatus, Deps, Handling, Settings, run};

async fn account() -> LocalAccount {
    LocalAccount::start(&Scenario::shipped("guard-tagged").unwrap())
        .await
        .unwrap()
}

async fn deps(acct: &LocalAccount, plan_arn: &str) -> Deps {
    let policy = Policy::from_vars([(
        "BG_RESTORE_TESTING_PLAN_ARN".to_string(),
        plan_arn.to_string(),
    )])
    .unwrap();
    let settings = Settings::from_vars(&acct.env()).unwrap();
    Deps::new(acct.context().await, policy, settings)
}

fn budget() -> Budget {
    Budget::from_now(Duration::from_secs(30))
}

const GSI: Shape<'static> = Shape {
    gsi: Some("by-customer"),
    item: true,
};

fn validation_of(acct: &LocalAccount, job: &str) -> (Option<String>, Option<String>) {
    let j = acct
        .standin()
        .restore_jobs()
        .into_iter()
        .find(|j| j.restore_job_id.as_deref() == Some(job))
        .unwrap();
    (j.validation_status, j.validation_status_message)
}

#[tokio::test]
async fn a_faithful_restore_is_reported_successful_once_and_does_not_alert() {
    let acct = account().await;
    let plan = restore_fixture::seed_plan(&acct);
    restore_fixture::create_shaped_table(&acct, "rt-orders", GSI)
        .await
        .unwrap();
    restore_fixture::create_shaped_table(&acct, "rt-orders-restored", GSI)
        .await
        .unwrap();
    let job = restore_fixture::restore_job(
        &acct,
        "JOB-OK",
        "rt-orders",
        "rt-orders-restored",
        "COMPLETED",
        Some(&plan),
    );
    acct.standin().add_restore_jobs(vec![job.clone()]).unwrap();
    acct.receive_alerts().await.unwrap();
    let d = deps(&acct, &plan).await;
    let ev = restore_fixture::restore_event(&acct, "eb-restore-ok", &job);

    let o = run(ev.clone(), &d, budget()).await.unwrap();
    let check = o.restore.as_ref().unwrap();
    assert_eq!(
        check.validation.as_ref().map(|v| v.status.as_str()),
        Some("SUCCESSFUL"),
        "{o:?}"
    );
    assert!(
        matches!(o.actions.as_slice(), [Action::ValidationRecorded { status, .. }] if status == "SUCCESSFUL")
    );
    assert_eq!(o.alert, AlertStatus::NotNeeded);
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    let (status, message) = validation_of(&acct, "JOB-OK");
    assert_eq!(status.as_deref(), Some("SUCCESSFUL"));
    assert!(message.unwrap_or_default().contains("match the source"));
    // One DescribeRestoreJob, two DescribeTable, two Scan (the source has an item), one put.
    assert_eq!(o.api_calls.get("Backup.DescribeRestoreJob"), Some(&1));
    assert_eq!(o.api_calls.get("DynamoDB.DescribeTable"), Some(&2));
    assert_eq!(o.api_calls.get("DynamoDB.Scan"), Some(&2));
    assert_eq!(
        o.api_calls.get("Backup.PutRestoreValidationResult"),
        Some(&1)
    );

    // The same event delivered again: the ledger says it was handled; nothing is validated
    // or reported twice.
    let before = acct.standin().calls();
    let again = run(ev, &d, budget()).await.unwrap();
    assert!(
        matches!(again.handling, Handling::Duplicate { .. }),
        "{again:?}"
    );
    let after = acct.standin().calls();
    assert_eq!(
        after.get("PutRestoreValidationResult"),
        before.get("PutRestoreValidationResult")
    );
    assert_eq!(
        after.get("DescribeRestoreJob"),
        before.get("DescribeRestoreJob")
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_restore_missing_an_index_is_failed_with_that_reason_and_alerts() {
    let acct = account().await;
    let plan = restore_fixture::seed_plan(&acct);
    restore_fixture::create_shaped_table(&acct, "rt-invoices", GSI)
        .await
        .unwrap();
    restore_fixture::create_shaped_table(
        &acct,
        "rt-invoices-restored",
        Shape {
            gsi: None,
            item: true,
        },
    )
    .await
    .unwrap();
    let job = restore_fixture::restore_job(
        &acct,
        "JOB-NOGSI",
        "rt-invoices",
        "rt-invoices-restored",
        "COMPLETED",
        Some(&plan),
    );
    acct.standin().add_restore_jobs(vec![job.clone()]).unwrap();
    acct.receive_alerts().await.unwrap();
    let d = deps(&acct, &plan).await;

    let o = run(
        restore_fixture::restore_event(&acct, "eb-restore-nogsi", &job),
        &d,
        budget(),
    )
    .await
    .unwrap();
    let (status, message) = validation_of(&acct, "JOB-NOGSI");
    assert_eq!(status.as_deref(), Some("FAILED"));
    let message = message.unwrap_or_default();
    assert!(
        message.contains("global secondary index by-customer is missing"),
        "{message}"
    );
    assert_eq!(
        o.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        vec![FindingCode::RestoreTestFailed]
    );
    assert!(o.alert_message_id().is_some(), "{o:?}");
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].attributes.get("table").map(String::as_str),
        Some("rt-invoices")
    );
    assert!(
        alerts[0].message.contains("by-customer"),
        "{}",
        alerts[0].message
    );
}

#[tokio::test]
async fn a_failed_restore_job_alerts_with_aws_status_and_a_foreign_job_is_ignored() {
    let acct = account().await;
    let plan = restore_fixture::seed_plan(&acct);
    let failed = restore_fixture::restore_job(
        &acct,
        "JOB-FAILED",
        "orders",
        "unused",
        "FAILED",
        Some(&plan),
    );
    let manual = restore_fixture::restore_job(
        &acct,
        "JOB-MANUAL",
        "orders",
        "orders-copy",
        "COMPLETED",
        None,
    );
    acct.standin()
        .add_restore_jobs(vec![failed.clone(), manual.clone()])
        .unwrap();
    acct.receive_alerts().await.unwrap();
    let d = deps(&acct, &plan).await;

    let o = run(
        restore_fixture::restore_event(&acct, "eb-restore-failed", &failed),
        &d,
        budget(),
    )
    .await
    .unwrap();
    assert!(
        o.actions.is_empty(),
        "no validation for a failed job: {:?}",
        o.actions
    );
    assert_eq!(o.findings[0].code, FindingCode::RestoreTestFailed);
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.contains("JOB-FAILED"));
    assert!(alerts[0].message.contains("Access denied to the KMS key"));
    assert_eq!(
        acct.standin().calls().get("PutRestoreValidationResult"),
        None
    );

    let o = run(
        restore_fixture::restore_event(&acct, "eb-restore-manual", &manual),
        &d,
        budget(),
    )
    .await
    .unwrap();
    assert!(matches!(o.handling, Handling::Ignored { .. }), "{o:?}");
    assert!(acct.receive_alerts().await.unwrap().is_empty());
    assert_eq!(validation_of(&acct, "JOB-MANUAL").0, None);
}
