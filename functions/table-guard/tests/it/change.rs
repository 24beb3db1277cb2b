//! Change events (tampering and drift from CloudTrail) through the handler against the local
//! account: each test changes the setup of the `guard-changes` scenario through the AWS API
//! (the stand-in for AWS Backup, moto for KMS), then delivers the CloudTrail record of that
//! call (`events/backup-*.json`, `events/kms-*.json`, pointed at the scenario's account,
//! region and resources) and reads the alerts from the topic's SQS subscriber.

use std::collections::BTreeMap;
use std::time::Duration;

use awsio::Budget;
use local_account::{Alert, LocalAccount, Scenario};
use policy::config::Policy;
use serde_json::{Value, json};
use table_guard::{Deps, GuardOutcome, Handling, Settings, run};

const VAULT: &str = "backup-guard-vault";
const PLAN: &str = "backup-guard-policy";
const ONLY_POINT: &str =
    "arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01763165100000-0b000015";
const POINT_WITH_SIBLING: &str =
    "arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01764029100000-0b000025";
const RUNNING_JOB: &str = "9f4c2e1a-1111-4e2b-9c3d-000000000007";
const WHO: &str = "arn:aws:sts::123456789012:assumed-role/Operator/mallory";

async fn account() -> LocalAccount {
    LocalAccount::start(&Scenario::shipped("guard-changes").unwrap())
        .await
        .unwrap()
}

async fn deps_with(acct: &LocalAccount, vars: &[(&str, &str)]) -> Deps {
    let mut settings = Settings::from_vars(&acct.env()).unwrap();
    settings.stack_name = Some("backup-guard".to_string());
    let policy =
        Policy::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
    Deps::new(acct.context().await, policy, settings)
}

async fn deps(acct: &LocalAccount) -> Deps {
    deps_with(acct, &[]).await
}

fn budget() -> Budget {
    Budget::from_now(Duration::from_secs(30))
}

/// The sample `name` in the scenario's account and region, with `request` merged into its
/// `requestParameters`.
fn sample(acct: &LocalAccount, name: &str, request: Value) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = acct.scenario();
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    v["detail"]["awsRegion"] = json!(s.region);
    v["detail"]["recipientAccountId"] = json!(s.account);
    if let (Some(req), Some(extra)) = (
        v["detail"]["requestParameters"].as_object_mut(),
        request.as_object(),
    ) {
        for (k, val) in extra {
            req.insert(k.clone(), val.clone());
        }
    }
    v
}

fn doc(a: &Alert) -> Value {
    serde_json::from_str(&a.message).unwrap()
}

/// Delivers `event`, then the same event again; returns the first outcome and every alert
/// (the duplicate must add none).
async fn deliver_twice(acct: &LocalAccount, d: &Deps, event: &Value) -> (GuardOutcome, Vec<Alert>) {
    acct.receive_alerts().await.unwrap();
    let started = std::time::Instant::now();
    let o = run(event.clone(), d, budget()).await.unwrap();
    record_calls(&o, started.elapsed());
    let again = run(event.clone(), d, budget()).await.unwrap();
    assert!(
        matches!(again.handling, Handling::Duplicate { .. }) || o.alert_message_id().is_none(),
        "the redelivery is a duplicate: {again:?}"
    );
    (o, acct.receive_alerts().await.unwrap())
}

/// With `BG_CHANGE_CALLS=<file>`, appends the variant's calls and handler time (what
/// docs/BENCHMARKS.md's change-event table is made from).
fn record_calls(o: &GuardOutcome, took: Duration) {
    let Ok(path) = std::env::var("BG_CHANGE_CALLS") else {
        return;
    };
    let total: u64 = o.api_calls.values().sum();
    let detail: Vec<String> = o
        .api_calls
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let sev = o
        .change
        .as_ref()
        .map(|c| c.severity.as_str())
        .unwrap_or("?");
    let line = format!(
        "| {} | {sev} | {total} | {} ms | {} |\n",
        o.event_name,
        took.as_millis(),
        detail.join(", ")
    );
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// The one alert of a change: its severity, table attribute, who, the way back.
fn the_alert<'a>(alerts: &'a [Alert], severity: &str, table: Option<&str>) -> &'a Alert {
    assert_eq!(alerts.len(), 1, "exactly one alert: {alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        a.attributes.get("severity").map(String::as_str),
        Some(severity),
        "{:?}",
        a.subject
    );
    assert_eq!(
        a.attributes.get("table").map(String::as_str),
        table,
        "{:?}",
        a.subject
    );
    let d = doc(a);
    let text = d["outcome"]["change"].to_string();
    assert!(text.contains(WHO), "who: {text}");
    assert!(
        !d["human_todo"].as_array().unwrap().is_empty(),
        "a way back"
    );
    a
}

fn codes(a: &Alert) -> Vec<String> {
    doc(a)["finding_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

fn todo(a: &Alert) -> String {
    doc(a)["human_todo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Deletes recovery point `arn` of the scenario's vault through the AWS API.
async fn delete_point(acct: &LocalAccount, arn: &str) {
    acct.context()
        .await
        .backup()
        .delete_recovery_point()
        .backup_vault_name(VAULT)
        .recovery_point_arn(arn)
        .send()
        .await
        .unwrap();
}

/// The policy's rule (twice monthly, 60/180 min) into `vault` keeping points `days` days.
fn rule(vault: &str, days: i64) -> aws_sdk_backup::types::BackupRuleInput {
    aws_sdk_backup::types::BackupRuleInput::builder()
        .rule_name("twice-monthly-90d")
        .target_backup_vault_name(vault)
        .schedule_expression("cron(0 0 15,25 * ? *)")
        .start_window_minutes(60)
        .completion_window_minutes(180)
        .lifecycle(
            aws_sdk_backup::types::Lifecycle::builder()
                .delete_after_days(days)
                .build(),
        )
        .build()
        .unwrap()
}

fn calls(o: &GuardOutcome) -> BTreeMap<String, u64> {
    o.api_calls.clone()
}

#[tokio::test]
async fn deleting_the_only_point_of_a_slot_is_critical_for_that_table_and_slot() {
    let acct = account().await;
    let d = deps(&acct).await;
    delete_point(&acct, ONLY_POINT).await;
    let ev = sample(
        &acct,
        "backup-delete-recovery-point.json",
        json!({"recoveryPointArn": ONLY_POINT}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", Some("orders"));
    assert!(
        a.subject
            .as_deref()
            .unwrap_or_default()
            .starts_with("CRITICAL backup-guard orders: DeleteRecoveryPoint"),
        "{:?}",
        a.subject
    );
    assert_eq!(codes(a), vec!["MISSED_SLOT"]);
    let f = &o.findings[0];
    assert_eq!(f.subject.as_deref(), Some("2026-11-15T00:00:00Z"));
    assert!(
        a.message
            .contains("Slot 2026-11-15T00:00:00Z of table orders has no recovery point now"),
        "{}",
        a.message
    );
    assert!(
        todo(a).contains("put-backup-vault-access-policy --backup-vault-name backup-guard-vault"),
        "{}",
        todo(a)
    );
    // The fewest calls: describe the point, the table's creation time, its points (by
    // resource, then its one vault), the plans (two pages' worth at one plan), claim, publish, record.
    let c = calls(&o);
    assert_eq!(c.get("Backup.DescribeRecoveryPoint"), Some(&1), "{c:?}");
    assert_eq!(
        c.get("Backup.ListRecoveryPointsByResource"),
        Some(&1),
        "{c:?}"
    );
    assert_eq!(
        c.get("Backup.ListRecoveryPointsByBackupVault"),
        Some(&1),
        "{c:?}"
    );
    assert_eq!(c.get("SNS.Publish"), Some(&1), "{c:?}");
}

#[tokio::test]
async fn deleting_a_point_whose_slot_a_sibling_covers_is_a_warning_naming_the_sibling() {
    let acct = account().await;
    let d = deps(&acct).await;
    // The record arrives while AWS still describes the point (a deletion is not instant): the
    // guard then knows exactly which slot it satisfied.
    let ev = sample(
        &acct,
        "backup-delete-recovery-point.json",
        json!({"recoveryPointArn": POINT_WITH_SIBLING}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "warning", Some("orders"));
    assert!(codes(a).is_empty(), "no slot was lost: {:?}", codes(a));
    assert!(o.findings.is_empty());
    assert!(a.message.contains("which sibling point arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01764030900000-0b000026 still satisfies"), "{}", a.message);
}

#[tokio::test]
async fn a_failed_call_is_noted_not_alerted_and_costs_no_call() {
    let acct = account().await;
    let d = deps(&acct).await;
    acct.receive_alerts().await.unwrap();
    for name in ["backup-delete-recovery-point-denied.json"] {
        let ev = sample(&acct, name, json!({"recoveryPointArn": ONLY_POINT}));
        let o = run(ev, &d, budget()).await.unwrap();
        let Handling::Ignored { reason } = &o.handling else {
            panic!("{o:?}")
        };
        assert!(
            reason.contains("AccessDeniedException") && reason.contains("mallory"),
            "{reason}"
        );
        assert!(o.api_calls.is_empty(), "{:?}", o.api_calls);
    }
    // DisassociateRecoveryPoint applies to continuous backups only: on a DynamoDB point AWS
    // refuses it, and CloudTrail records the refusal.
    let refused = acct
        .context()
        .await
        .backup()
        .disassociate_recovery_point()
        .backup_vault_name(VAULT)
        .recovery_point_arn(ONLY_POINT)
        .send()
        .await;
    assert!(refused.is_err());
    let mut ev = sample(
        &acct,
        "backup-disassociate-recovery-point.json",
        json!({"recoveryPointArn": ONLY_POINT}),
    );
    ev["detail"]["errorCode"] = json!("InvalidRequestException");
    ev["detail"]["errorMessage"] =
        json!("DisassociateRecoveryPoint applies to continuous backups only");
    let o = run(ev, &d, budget()).await.unwrap();
    assert!(matches!(o.handling, Handling::Ignored { .. }), "{o:?}");
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_disassociated_point_is_judged_like_a_deleted_one() {
    let acct = account().await;
    let d = deps(&acct).await;
    delete_point(&acct, ONLY_POINT).await;
    let ev = sample(
        &acct,
        "backup-disassociate-recovery-point.json",
        json!({"recoveryPointArn": ONLY_POINT}),
    );
    let (_, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", Some("orders"));
    assert!(a.message.contains("disassociated"), "{}", a.message);
}

#[tokio::test]
async fn a_shortened_lifecycle_is_retention_too_short_with_the_command_to_restore_it() {
    let acct = account().await;
    let d = deps(&acct).await;
    acct.context()
        .await
        .backup()
        .update_recovery_point_lifecycle()
        .backup_vault_name(VAULT)
        .recovery_point_arn(ONLY_POINT)
        .lifecycle(
            aws_sdk_backup::types::Lifecycle::builder()
                .delete_after_days(35)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-update-recovery-point-lifecycle.json",
        json!({"recoveryPointArn": ONLY_POINT}),
    );
    let (_, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", Some("orders"));
    assert_eq!(codes(a), vec!["RETENTION_TOO_SHORT"]);
    assert!(
        todo(a).contains("update-recovery-point-lifecycle --backup-vault-name backup-guard-vault"),
        "{}",
        todo(a)
    );
    assert!(todo(a).contains("DeleteAfterDays=90"), "{}", todo(a));
}

async fn plan_id(acct: &LocalAccount) -> String {
    acct.plan_id(PLAN).unwrap().to_string()
}

#[tokio::test]
async fn a_plan_edited_to_35_days_drifts_and_its_tables_are_named() {
    let acct = account().await;
    let d = deps(&acct).await;
    let id = plan_id(&acct).await;
    let rule = rule(VAULT, 35);
    acct.context()
        .await
        .backup()
        .update_backup_plan()
        .backup_plan_id(&id)
        .backup_plan(
            aws_sdk_backup::types::BackupPlanInput::builder()
                .backup_plan_name(PLAN)
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-update-backup-plan.json",
        json!({"backupPlanId": id}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", None);
    assert_eq!(codes(a), vec!["PLAN_DRIFT"]);
    let tables: Vec<&str> = o.findings.iter().map(|f| f.table_name.as_str()).collect();
    assert_eq!(tables, vec!["backup-guard-state", "logs", "orders"]);
    assert!(
        todo(a).contains(&format!("update-backup-plan --backup-plan-id {id}")),
        "{}",
        todo(a)
    );
    assert!(todo(a).contains("\"DeleteAfterDays\":90"), "{}", todo(a));
    assert!(
        a.message.contains("DeleteAfterDays 35"),
        "the after state: {}",
        a.message
    );
}

#[tokio::test]
async fn deleting_the_selection_or_the_plan_leaves_the_tables_not_covered() {
    let acct = account().await;
    let d = deps(&acct).await;
    let id = plan_id(&acct).await;
    let backup = acct.context().await.backup().clone();
    let sel = backup
        .list_backup_selections()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let sel_id = sel.backup_selections_list()[0]
        .selection_id()
        .unwrap()
        .to_string();
    backup
        .delete_backup_selection()
        .backup_plan_id(&id)
        .selection_id(&sel_id)
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-delete-backup-selection.json",
        json!({"backupPlanId": id, "selectionId": sel_id}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", None);
    assert_eq!(codes(a), vec!["NOT_COVERED"]);
    assert_eq!(o.findings.len(), 3, "every table of the account");
    assert!(
        todo(a).contains(&format!("create-backup-selection --backup-plan-id {id}")),
        "{}",
        todo(a)
    );
    assert!(
        todo(a).contains("\"ConditionKey\":\"backup-policy\""),
        "{}",
        todo(a)
    );

    backup
        .delete_backup_plan()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-delete-backup-plan.json",
        json!({"backupPlanId": id}),
    );
    let (_, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", None);
    assert!(a.message.contains("no longer exists"), "{}", a.message);
    assert!(
        todo(a).contains("create-backup-plan --backup-plan"),
        "{}",
        todo(a)
    );
}

#[tokio::test]
async fn a_new_selection_that_costs_no_protection_alerts_nothing() {
    let acct = account().await;
    let d = deps(&acct).await;
    let id = plan_id(&acct).await;
    let out = acct
        .context()
        .await
        .backup()
        .create_backup_selection()
        .backup_plan_id(&id)
        .backup_selection(
            aws_sdk_backup::types::BackupSelection::builder()
                .selection_name("extra")
                .iam_role_arn("arn:aws:iam::123456789012:role/backup")
                .resources("arn:aws:dynamodb:us-east-1:123456789012:table/scratch")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut ev = sample(
        &acct,
        "backup-create-backup-selection.json",
        json!({"backupPlanId": id}),
    );
    ev["detail"]["responseElements"]["selectionId"] = json!(out.selection_id());
    acct.receive_alerts().await.unwrap();
    let o = run(ev, &d, budget()).await.unwrap();
    assert!(o.alert_message_id().is_none(), "{o:?}");
    assert_eq!(
        o.change.as_ref().map(|c| c.severity),
        Some(policy::Severity::Info)
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_vault_policy_that_no_longer_denies_deletion_is_high_for_the_tables_in_it() {
    let acct = account().await;
    let d = deps(&acct).await;
    let backup = acct.context().await.backup().clone();
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"backup:DescribeBackupVault","Resource":"*"}]}"#;
    backup
        .put_backup_vault_access_policy()
        .backup_vault_name(VAULT)
        .policy(allow)
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-put-vault-access-policy.json",
        json!({"policy": allow}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", None);
    assert_eq!(codes(a), vec!["VAULT_DELETION_NOT_DENIED"]);
    let tables: Vec<&str> = o.findings.iter().map(|f| f.table_name.as_str()).collect();
    assert_eq!(tables, vec!["logs", "orders"]);
    assert!(
        todo(a).contains("put-backup-vault-access-policy --backup-vault-name backup-guard-vault"),
        "{}",
        todo(a)
    );

    backup
        .delete_backup_vault_access_policy()
        .backup_vault_name(VAULT)
        .send()
        .await
        .unwrap();
    let ev = sample(&acct, "backup-delete-vault-access-policy.json", json!({}));
    let (_, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", None);
    assert!(a.message.contains("no access policy"), "{}", a.message);
}

#[tokio::test]
async fn a_removed_vault_lock_is_high_when_the_policy_requires_one() {
    let acct = account().await;
    let d = deps_with(&acct, &[("BG_VAULT_LOCK_REQUIRED", "true")]).await;
    let backup = acct.context().await.backup().clone();
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name(VAULT)
        .min_retention_days(90)
        .max_retention_days(90)
        .changeable_for_days(3)
        .send()
        .await
        .unwrap();
    backup
        .delete_backup_vault_lock_configuration()
        .backup_vault_name(VAULT)
        .send()
        .await
        .unwrap();
    let ev = sample(&acct, "backup-delete-vault-lock.json", json!({}));
    let (_, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", None);
    assert_eq!(codes(a), vec!["VAULT_NOT_LOCKED"]);
    assert!(todo(a).contains("put-backup-vault-lock-configuration --backup-vault-name backup-guard-vault --min-retention-days 90 --max-retention-days 90"), "{}", todo(a));
}

#[tokio::test]
async fn a_deleted_vault_that_a_plan_targets_is_critical_for_the_tables_it_protected() {
    let acct = account().await;
    let d = deps(&acct).await;
    let backup = acct.context().await.backup().clone();
    let id = plan_id(&acct).await;
    backup
        .create_backup_vault()
        .backup_vault_name("old-vault")
        .send()
        .await
        .unwrap();
    let rule = rule("old-vault", 90);
    backup
        .update_backup_plan()
        .backup_plan_id(&id)
        .backup_plan(
            aws_sdk_backup::types::BackupPlanInput::builder()
                .backup_plan_name(PLAN)
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    backup
        .delete_backup_vault()
        .backup_vault_name("old-vault")
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-delete-backup-vault.json",
        json!({"backupVaultName": "old-vault"}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", None);
    let tables: Vec<&str> = o.findings.iter().map(|f| f.table_name.as_str()).collect();
    assert_eq!(tables, vec!["backup-guard-state", "logs", "orders"]);
    assert!(
        todo(a).contains("create-backup-vault --backup-vault-name old-vault"),
        "{}",
        todo(a)
    );
}

#[tokio::test]
async fn a_stopped_job_of_a_slot_is_high_naming_the_slot() {
    let acct = account().await;
    let d = deps(&acct).await;
    acct.context()
        .await
        .backup()
        .stop_backup_job()
        .backup_job_id(RUNNING_JOB)
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "backup-stop-backup-job.json",
        json!({"backupJobId": RUNNING_JOB}),
    );
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "high", Some("logs"));
    assert_eq!(codes(a), vec!["BACKUP_JOB_FAILED"]);
    assert!(a.message.contains("2026-11-25T00:00:00Z"), "{}", a.message);
    assert_eq!(calls(&o).get("Backup.DescribeBackupJob"), Some(&1));
}

/// The scenario vault's key ARN.
/// The scenario vault's key id (moto's KMS takes the id, not the ARN, for these calls; so
/// does the CloudTrail record show what the caller gave).
fn vault_key(acct: &LocalAccount) -> String {
    let arn = acct.vault_key(VAULT).unwrap();
    arn.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_disabled_or_deleted_vault_key_is_critical_for_every_table_with_points_there() {
    for (sample_name, change) in [
        ("kms-disable-key.json", "disable"),
        ("kms-schedule-key-deletion.json", "schedule"),
    ] {
        let acct = account().await;
        let d = deps(&acct).await;
        let key = vault_key(&acct);
        let kms = acct.context().await.kms().clone();
        if change == "disable" {
            kms.disable_key().key_id(&key).send().await.unwrap();
        } else {
            kms.schedule_key_deletion()
                .key_id(&key)
                .pending_window_in_days(7)
                .send()
                .await
                .unwrap();
        }
        let ev = sample(&acct, sample_name, json!({"keyId": key}));
        let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
        let a = the_alert(&alerts, "critical", None);
        assert_eq!(codes(a), vec!["VAULT_KEY_NOT_USABLE"], "{sample_name}");
        assert_eq!(o.findings.len(), 2, "orders and logs");
        let t = todo(a);
        assert!(
            t.contains("aws kms enable-key --key-id arn:aws:kms:"),
            "{t}"
        );
        assert_eq!(
            t.contains("cancel-key-deletion"),
            change == "schedule",
            "{t}"
        );
    }
}

#[tokio::test]
async fn a_key_policy_that_locks_backup_out_is_critical_and_one_that_does_not_is_quiet() {
    let acct = account().await;
    let d = deps(&acct).await;
    let key = vault_key(&acct);
    let kms = acct.context().await.kms().clone();
    let fine = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(fine)
        .send()
        .await
        .unwrap();
    let ev = sample(
        &acct,
        "kms-put-key-policy.json",
        json!({"keyId": key, "policy": fine}),
    );
    acct.receive_alerts().await.unwrap();
    let o = run(ev, &d, budget()).await.unwrap();
    assert!(o.alert_message_id().is_none(), "{o:?}");

    let locked_out = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Operator"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(locked_out)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    let mut ev = sample(
        &acct,
        "kms-put-key-policy.json",
        json!({"keyId": key, "policy": locked_out}),
    );
    ev["detail"]["eventID"] = json!("c0ffee00-0099-4a5b-9c8d-000000000001");
    let (o, alerts) = deliver_twice(&acct, &d, &ev).await;
    let a = the_alert(&alerts, "critical", None);
    assert_eq!(codes(a), vec!["VAULT_KEY_NOT_USABLE"]);
    assert!(
        o.findings[0].message.contains("IAM policies"),
        "{}",
        o.findings[0].message
    );
    assert!(todo(a).contains("aws kms put-key-policy"), "{}", todo(a));
    let c = calls(&o);
    assert_eq!(c.get("KMS.GetKeyPolicy"), Some(&1), "{c:?}");
}
