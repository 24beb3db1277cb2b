//! Backup job events through the handler against the local account: AWS Backup's `Backup Job
//! State Change` samples (`events/backup-job-*.json`) pointed at the scenario's account and
//! region, the ledger and the remembered failures in the state table, alerts read from the
//! topic's SQS subscriber.

use std::time::Duration;

use awsio::Budget;
use local_account::fault_proxy::{InjectedError, ProxyFault};
use local_account::{LocalAccount, Scenario};
use policy::config::Policy;
use serde_json::{Value, json};
use table_guard::{AlertStatus, BackupJobNotice, Deps, GuardError, Handling, Settings, run};

const FAILED_JOB: &str = "34176239-e96d-4e1d-9fad-529dbb3c3556";

async fn account(proxy: bool) -> LocalAccount {
    let s = Scenario::shipped("guard-tagged").unwrap();
    if proxy {
        LocalAccount::start_with_proxy(&s).await.unwrap()
    } else {
        LocalAccount::start(&s).await.unwrap()
    }
}

async fn deps(acct: &LocalAccount) -> Deps {
    let settings = Settings::from_vars(&acct.env()).unwrap();
    Deps::new(acct.context().await, Policy::default(), settings)
}

fn budget() -> Budget {
    Budget::from_now(Duration::from_secs(30))
}

/// The sample `name` for `table` in the scenario's account and region.
fn sample(acct: &LocalAccount, name: &str, table: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = acct.scenario();
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    v["detail"]["resourceArn"] = json!(s.table_arn(table));
    v
}

fn outcome_json(alert: &local_account::Alert) -> Value {
    serde_json::from_str(&alert.message).unwrap()
}

#[tokio::test]
async fn a_failed_job_alerts_once_with_its_slot_and_a_later_completion_resolves_it() {
    let acct = account(false).await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    let failed = sample(&acct, "backup-job-failed.json", "orders");

    let o = run(failed.clone(), &d, budget()).await.unwrap();
    assert!(o.alert_message_id().is_some(), "{o:?}");
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    let subject = a.subject.clone().unwrap_or_default();
    assert_eq!(
        subject,
        "HIGH backup-guard orders: backup FAILED, slot 2026-11-15 00:00Z at risk (123456789012/us-east-1)"
    );
    assert_eq!(
        a.attributes.get("severity").map(String::as_str),
        Some("high")
    );
    assert_eq!(
        a.attributes.get("table").map(String::as_str),
        Some("orders")
    );
    assert_eq!(
        a.attributes.get("backup_job").map(String::as_str),
        Some(FAILED_JOB)
    );
    assert!(
        a.attributes
            .get("finding_codes")
            .is_some_and(|c| c.contains("BACKUP_JOB_FAILED")),
        "{:?}",
        a.attributes
    );
    let body = outcome_json(a);
    let check = &body["outcome"]["backup_job"];
    assert_eq!(check["slot"]["at"], "2026-11-15T00:00:00Z");
    // Event at 00:30:26, completion deadline 04:00: 3 h 29 min left.
    let window = check["window"].as_str().unwrap();
    assert!(window.starts_with("3 h 29 min left"), "{window}");
    assert!(
        check["status_message"]
            .as_str()
            .unwrap()
            .starts_with("Access denied to KMS key"),
        "{check}"
    );
    let todo = body["human_todo"][0].as_str().unwrap();
    assert!(todo.contains("cannot use the vault's KMS key"), "{todo}");
    // Ledger claim + remembered failure, one publish; nothing else.
    assert_eq!(
        o.api_calls.get("DynamoDB.PutItem"),
        Some(&2),
        "{:?}",
        o.api_calls
    );
    assert_eq!(o.api_calls.get("SNS.Publish"), Some(&1));
    assert_eq!(o.api_calls.len(), 2, "{:?}", o.api_calls);

    // Delivered again: the ledger says it was handled; still one alert.
    let again = run(failed, &d, budget()).await.unwrap();
    assert!(
        matches!(again.handling, Handling::Duplicate { .. }),
        "{again:?}"
    );
    // The claim's conditional put and the read of the recorded outcome.
    assert_eq!(
        again.api_calls.clone().into_iter().collect::<Vec<_>>(),
        vec![
            ("DynamoDB.GetItem".to_string(), 1),
            ("DynamoDB.PutItem".to_string(), 1)
        ]
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());

    // A later job of the same slot completed in time: the resolved notice.
    let completed = sample(&acct, "backup-job-completed.json", "orders");
    let r = run(completed.clone(), &d, budget()).await.unwrap();
    let check = r.backup_job.as_ref().unwrap();
    assert_eq!(check.notice, BackupJobNotice::Resolved, "{r:?}");
    assert_eq!(
        check.resolves.as_ref().map(|f| f.job_id.as_str()),
        Some(FAILED_JOB)
    );
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0].subject.as_deref(),
        Some(
            "INFO backup-guard orders: resolved, slot 2026-11-15 00:00Z backed up (123456789012/us-east-1)"
        )
    );
    // The remembered failure read, the claim, the notice, the failure forgotten.
    assert_eq!(
        r.api_calls.clone().into_iter().collect::<Vec<_>>(),
        vec![
            ("DynamoDB.DeleteItem".to_string(), 1),
            ("DynamoDB.GetItem".to_string(), 1),
            ("DynamoDB.PutItem".to_string(), 1),
            ("SNS.Publish".to_string(), 1)
        ]
    );

    // The same completion delivered again, and another completion of the slot: the failure
    // was resolved and forgotten, so neither notifies.
    let dup = run(completed.clone(), &d, budget()).await.unwrap();
    assert_eq!(dup.alert, AlertStatus::NotNeeded, "{dup:?}");
    let mut other = completed;
    other["id"] = json!("0c7e1a52-5d0b-4f55-9a43-1e8f3c2b6d90");
    other["detail"]["backupJobId"] = json!("b2a1c3d4-0000-4000-8000-000000000002");
    let o = run(other, &d, budget()).await.unwrap();
    assert_eq!(o.alert, AlertStatus::NotNeeded, "{o:?}");
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_completed_job_without_an_alerted_failure_sends_nothing() {
    let acct = account(false).await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    let o = run(
        sample(&acct, "backup-job-completed.json", "invoices"),
        &d,
        budget(),
    )
    .await
    .unwrap();
    assert_eq!(o.alert, AlertStatus::NotNeeded, "{o:?}");
    assert_eq!(
        o.backup_job.as_ref().map(|c| c.notice),
        Some(BackupJobNotice::NotDue)
    );
    // One read of the remembered failures; not even a ledger claim.
    assert_eq!(
        o.api_calls.into_iter().collect::<Vec<_>>(),
        vec![("DynamoDB.GetItem".to_string(), 1)]
    );
    // On demand (no createdBy): no slot, no call at all.
    let mut od = sample(&acct, "backup-job-completed.json", "invoices");
    od["id"] = json!("5b0f7c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b");
    od["detail"].as_object_mut().unwrap().remove("createdBy");
    let before = d.ctx.calls.snapshot();
    let o = run(od, &d, budget()).await.unwrap();
    assert_eq!(o.alert, AlertStatus::NotNeeded);
    assert!(d.ctx.calls.calls_since(&before).attempts.is_empty());
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_job_is_high_and_its_slot_likely_missed_and_an_on_demand_failure_is_a_warning() {
    let acct = account(false).await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    let o = run(
        sample(&acct, "backup-job-expired.json", "orders"),
        &d,
        budget(),
    )
    .await
    .unwrap();
    assert!(o.alert_message_id().is_some());
    let a = acct.receive_alerts().await.unwrap();
    assert_eq!(a.len(), 1);
    let subject = a[0].subject.clone().unwrap_or_default();
    assert!(
        subject
            == "HIGH backup-guard orders: backup EXPIRED, slot likely missed (123456789012/us-east-1)",
        "{subject}"
    );
    let body = outcome_json(&a[0]);
    assert!(
        body["human_todo"][0]
            .as_str()
            .unwrap()
            .contains("Too many backups at once"),
        "{body}"
    );

    let mut od = sample(&acct, "backup-job-failed.json", "orders");
    od["id"] = json!("9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a");
    od["detail"].as_object_mut().unwrap().remove("createdBy");
    let o = run(od, &d, budget()).await.unwrap();
    assert!(o.alert_message_id().is_some());
    let a = acct.receive_alerts().await.unwrap();
    assert_eq!(a.len(), 1);
    let subject = a[0].subject.clone().unwrap_or_default();
    assert!(
        subject.starts_with("WARNING backup-guard orders: backup FAILED (no scheduled slot)"),
        "{subject}"
    );
    let placement = outcome_json(&a[0])["outcome"]["backup_job"]["placement"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(placement.contains("on-demand"), "{placement}");
    // Not remembered: ledger claim only.
    assert_eq!(
        o.api_calls.get("DynamoDB.PutItem"),
        Some(&1),
        "{:?}",
        o.api_calls
    );
}

#[tokio::test]
async fn a_non_dynamodb_or_malformed_backup_job_event_is_an_error_naming_the_field() {
    let acct = account(false).await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    let field_of = |r: Result<table_guard::GuardOutcome, GuardError>| match r {
        Err(GuardError::Event(e)) => e.field,
        other => panic!("not an event error: {other:?}"),
    };
    let mut ebs = sample(&acct, "backup-job-failed.json", "orders");
    ebs["detail"]["resourceType"] = json!("EBS");
    ebs["detail"]["resourceArn"] = json!("arn:aws:ec2:us-east-1:123456789012:volume/vol-1");
    assert_eq!(
        field_of(run(ebs, &d, budget()).await),
        "detail.resourceType"
    );
    let mut no_date = sample(&acct, "backup-job-failed.json", "orders");
    no_date["detail"]
        .as_object_mut()
        .unwrap()
        .remove("creationDate");
    assert_eq!(
        field_of(run(no_date, &d, budget()).await),
        "detail.creationDate"
    );
    let mut copy = sample(&acct, "backup-job-failed.json", "orders");
    copy["detail-type"] = json!("Copy Job State Change");
    assert_eq!(field_of(run(copy, &d, budget()).await), "detail-type");
    let mut bad_arn = sample(&acct, "backup-job-failed.json", "orders");
    bad_arn["detail"]["resourceArn"] = json!("orders");
    assert_eq!(
        field_of(run(bad_arn, &d, budget()).await),
        "detail.resourceArn"
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unpublished_alert_fails_the_invocation_and_an_unreadable_memory_too() {
    let acct = account(true).await;
    acct.receive_alerts().await.unwrap();
    let proxy = acct.proxy().unwrap();
    let failed = sample(&acct, "backup-job-failed.json", "orders");

    proxy.set_fault(ProxyFault::error(
        "SNS.Publish",
        InjectedError::AccessDenied,
    ));
    let err = run(failed.clone(), &deps(&acct).await, budget())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::Publish { .. }), "{err:?}");
    proxy.clear_faults();
    // Lambda's retry: the claim was released, so it alerts (once).
    let o = run(failed, &deps(&acct).await, budget()).await.unwrap();
    assert!(o.alert_message_id().is_some(), "{o:?}");
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);

    // The completion cannot tell whether a notice is due: it fails rather than say nothing.
    let completed = sample(&acct, "backup-job-completed.json", "orders");
    proxy.set_fault(ProxyFault::error(
        "DynamoDB.GetItem",
        InjectedError::AccessDenied,
    ));
    let err = run(completed.clone(), &deps(&acct).await, budget())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::State(_)), "{err:?}");
    proxy.clear_faults();
    let o = run(completed, &deps(&acct).await, budget()).await.unwrap();
    assert_eq!(
        o.backup_job.as_ref().map(|c| c.notice),
        Some(BackupJobNotice::Resolved)
    );
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_completion_after_the_completion_window_says_the_slot_stays_missed() {
    let acct = account(false).await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    run(
        sample(&acct, "backup-job-failed.json", "ledger-late"),
        &d,
        budget(),
    )
    .await
    .unwrap();
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
    // Completed at 04:10, after the slot's completion deadline (04:00).
    let mut late = sample(&acct, "backup-job-completed.json", "ledger-late");
    late["time"] = json!("2026-11-15T04:11:00Z");
    late["detail"]["completionDate"] = json!("2026-11-15T04:10:00.000Z");
    let o = run(late, &d, budget()).await.unwrap();
    assert_eq!(
        o.backup_job.as_ref().map(|c| c.notice),
        Some(BackupJobNotice::CompletedLate),
        "{o:?}"
    );
    assert_eq!(
        o.findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>(),
        vec!["MISSED_SLOT"]
    );
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    // With the slot's instant the subject would pass 100 characters: the body names it.
    assert_eq!(
        alerts[0].subject.as_deref(),
        Some(
            "HIGH backup-guard ledger-late: backup completed late, slot still missed (123456789012/us-east-1)"
        )
    );
    let body = outcome_json(&alerts[0]);
    assert_eq!(
        body["outcome"]["backup_job"]["slot"]["at"],
        "2026-11-15T00:00:00Z"
    );
}
