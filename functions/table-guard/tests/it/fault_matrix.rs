//! The guard's fault matrix: every operation of `AWS_OPERATIONS` × every fault (see
//! `local_account::matrix`), against one local account with the fault proxy in front of moto.
//! Each cell builds the setup that makes the faulted operation be called (a fresh table per
//! cell; a redelivery for `GetItem`; an alert with nothing changed and SNS denied for
//! `DeleteItem`, which releases the claim; a table moto does not know for `DescribeTable`),
//! runs the handler under the invocation's deadline, and — when the invocation failed —
//! delivers the event again with the faults cleared, as Lambda's retry would. Every cell runs,
//! every violation is collected, and the test fails once at the end with all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_backup::types as bk;
use awsio::Budget;
use awsio::config::ClientSettings;
use awsio::table::Backoff;
use jiff::{SignedDuration, Timestamp};
use local_account::LocalAccount;
use local_account::fault_proxy::{InjectedError, ProxyFault};
use local_account::matrix::{self, Cell, FaultKind, Matrix};
use local_account::restore_fixture::{self, Shape};
use local_account::standin::{BackupJob, CreatedBy, Lifecycle, RecoveryPoint};
use local_account::{Scenario, TableSpec};
use policy::config::Policy;
use policy::slots::Slot;
use serde_json::{Value, json};
use table_guard::{AWS_OPERATIONS, Action, Deps, GuardError, GuardOutcome, Settings, run};

/// The invocation's deadline (the guard's Lambda timeout, scaled down).
const DEADLINE: Duration = Duration::from_secs(3);
/// What the guard keeps to record or release (the production 5 s, scaled down).
const RECORD_RESERVE: Duration = Duration::from_millis(800);
/// How long a claim outlives the deadline (the production 5 s, scaled down).
const LEASE_MARGIN: Duration = Duration::from_millis(300);
/// How long a hung call is held (longer than the deadline).
const HANG: Duration = Duration::from_secs(5);
/// Local accounts beside the main one that run the hang cells (see `matrix::plan_lanes`).
const HANG_LANES: usize = 2;

const INVARIANTS: &[&str] = &[
    "the delivered event ends as \"alert delivered\" (the SQS subscriber of the topic received the table's alert) or \"invocation failed\" (the handler returned Err, or was killed at the deadline); never Ok with nothing sent when an alert was due (every cell's setup makes one due)",
    "a failed invocation is retried as Lambda would (same event, faults cleared): the retry delivers the alert",
    "the faulted operation was called (the fault fired), and the SDK classified the fault as intended (throttling and 5xx retried, AccessDenied not)",
];

/// What a cell sets up so that the faulted operation is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// A new table with an owner and no backup tag (tagged mode): tag added, alert.
    Standard,
    /// The event was delivered before, tagged the table and could not publish its alert:
    /// the redelivery reads the recorded outcome (`GetItem`) to re-send it.
    Redelivery,
    /// A table with the backup tag but no owner: an alert, nothing changed; SNS denies the
    /// publish, so the claim is released (`DeleteItem`).
    AlertWithoutChange,
    /// A table moto does not know: `ListTagsOfResource` says not found, `DescribeTable`
    /// confirms.
    Ghost,
    /// A restore test's `Restore Job State Change` event: the restored table lacks the
    /// source's index, so the validation is FAILED and an alert is due (a fault makes it
    /// unverifiable, which alerts too).
    RestoreTest,
    /// A DeleteRecoveryPoint of the only point of the latest closed slot of the cell's table
    /// (DynamoDB-style point ARN, so the table is known even when the point cannot be read):
    /// critical, or unverifiable (high) with a fault on a read.
    PointDeleted,
    /// An UpdateBackupPlan that cuts the cell's own plan (its selection names the cell's
    /// table) to DeleteAfterDays 35: the table is no longer protected (critical); with a fault
    /// on the table reads, unverifiable (high) with no table.
    PlanEdited,
    /// A DeleteBackupVaultAccessPolicy on the cell's own vault, which holds two points of the
    /// cell's table: `VAULT_DELETION_NOT_DENIED` (high).
    VaultPolicy,
    /// A StopBackupJob of the cell's table's RUNNING job of the latest slot (high).
    JobStopped,
    /// A PutKeyPolicy without the account-root statement on the key of the cell's own vault,
    /// which holds two points of the cell's table: `VAULT_KEY_NOT_USABLE` (critical).
    KeyPolicy,
}

fn setup_for(operation: &str) -> Setup {
    match operation {
        "DynamoDB.GetItem" => Setup::Redelivery,
        "DynamoDB.DeleteItem" => Setup::AlertWithoutChange,
        "DynamoDB.DescribeTable" => Setup::Ghost,
        "Backup.DescribeRestoreJob" | "Backup.PutRestoreValidationResult" | "DynamoDB.Scan" => {
            Setup::RestoreTest
        }
        "Backup.DescribeRecoveryPoint" | "Backup.ListRecoveryPointsByResource" => {
            Setup::PointDeleted
        }
        "STS.GetCallerIdentity"
        | "DynamoDB.ListTables"
        | "Resource Groups Tagging API.GetResources" => Setup::PlanEdited,
        "Backup.DescribeBackupVault"
        | "Backup.GetBackupVaultAccessPolicy"
        | "Backup.ListRecoveryPointsByBackupVault" => Setup::VaultPolicy,
        "Backup.DescribeBackupJob" => Setup::JobStopped,
        "KMS.DescribeKey" | "Backup.ListBackupVaults" | "KMS.GetKeyPolicy" => Setup::KeyPolicy,
        _ => Setup::Standard,
    }
}

/// guard-tagged plus a second plan and a second selection, so that the paginated Backup reads
/// have a second page at one item per page (neither covers any table).
fn scenario() -> Scenario {
    let path = format!(
        "{}/../../tests/scenarios/guard-tagged.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["name"] = json!("guard-fault-matrix");
    v["plans"].as_array_mut().unwrap().push(json!({
        "name": "weekly-plan",
        "rules": [{
            "name": "weekly-7d",
            "vault": "backup-guard-vault",
            "schedule": "cron(0 3 ? * 1 *)",
            "timezone": "UTC",
            "start_window_minutes": 60,
            "completion_window_minutes": 180,
            "delete_after_days": 7
        }]
    }));
    let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:123456789012:table/{t}");
    v["selections"].as_array_mut().unwrap().push(json!({
        "plan": "weekly-plan", "name": "weekly-none", "resources": [arn("no-such-weekly")]
    }));
    v["selections"].as_array_mut().unwrap().push(json!({
        "plan": "backup-guard-policy", "name": "tagged-none", "resources": [arn("no-such-table")]
    }));
    Scenario::from_json(&v.to_string(), "guard-fault-matrix").unwrap()
}

fn settings() -> ClientSettings {
    ClientSettings {
        initial_backoff: Duration::from_millis(5),
        retry_partition: Some(matrix::fresh_retry_partition()),
        ..ClientSettings::default()
    }
}

fn policy(acct: &LocalAccount) -> Policy {
    let plan = acct
        .standin()
        .restore_testing_plan_arn(restore_fixture::PLAN_NAME);
    Policy::from_vars([
        ("BG_SELECTION_MODE".to_string(), "tagged".to_string()),
        ("BG_RESTORE_TESTING_PLAN_ARN".to_string(), plan),
    ])
    .unwrap()
}

async fn deps(acct: &LocalAccount) -> Deps {
    let policy = policy(acct);
    let mut s = Settings::from_vars(&acct.env()).unwrap();
    s.tag_read = Backoff {
        attempts: 2,
        initial: Duration::from_millis(20),
        max: Duration::from_millis(20),
    };
    s.tag_write = Backoff {
        attempts: 3,
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
    };
    s.setup_ttl = Duration::ZERO;
    s.record_reserve = RECORD_RESERVE;
    s.lease_margin = LEASE_MARGIN;
    Deps::new(acct.context_with(&settings()).await, policy, s)
}

/// The CreateTable sample event for `table` with request tags `tags`.
fn event(acct: &LocalAccount, table: &str, id: &str, tags: &[(&str, &str)]) -> Value {
    let path = format!(
        "{}/../../events/create-table.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = acct.scenario();
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    let d = &mut v["detail"];
    d["eventID"] = json!(id);
    d["awsRegion"] = json!(s.region);
    d["recipientAccountId"] = json!(s.account);
    d["responseElements"]["tableDescription"]["tableArn"] = json!(s.table_arn(table));
    d["responseElements"]["tableDescription"]["tableName"] = json!(table);
    d["requestParameters"]["tags"] = json!(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect::<Vec<_>>()
    );
    v
}

/// A restore test for cell `table`: source `table` (an index, an item), restored
/// `table-r` (no index), the plan's COMPLETED job `JOB-<table>` in the stand-in, and its event.
async fn restore_event(acct: &LocalAccount, table: &str, id: &str) -> Value {
    let plan = restore_fixture::seed_plan(acct);
    let restored = format!("{table}-r");
    let with_gsi = Shape {
        gsi: Some("by-customer"),
        item: true,
    };
    let without = Shape {
        gsi: None,
        item: true,
    };
    restore_fixture::create_shaped_table(acct, table, with_gsi)
        .await
        .unwrap();
    restore_fixture::create_shaped_table(acct, &restored, without)
        .await
        .unwrap();
    let job = restore_fixture::restore_job(
        acct,
        &format!("JOB-{table}"),
        table,
        &restored,
        "COMPLETED",
        Some(&plan),
    );
    acct.standin().add_restore_jobs(vec![job.clone()]).unwrap();
    restore_fixture::restore_event(acct, id, &job)
}

/// The CloudTrail sample `events/<sample>.json` re-pointed at the local account: id `id`,
/// the call made now, `request` merged into its `requestParameters`.
fn change_event(acct: &LocalAccount, sample: &str, id: &str, request: Value) -> Value {
    let path = format!("{}/../../events/{sample}.json", env!("CARGO_MANIFEST_DIR"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = acct.scenario();
    let now = Timestamp::now().to_string();
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    v["time"] = json!(now);
    let d = &mut v["detail"];
    d["eventID"] = json!(id);
    d["eventTime"] = json!(now);
    d["awsRegion"] = json!(s.region);
    d["recipientAccountId"] = json!(s.account);
    for (k, val) in request.as_object().unwrap() {
        d["requestParameters"][k] = val.clone();
    }
    v
}

/// The policy's last two slots whose windows have closed (real time: the handler judges
/// slots against the clock).
fn closed_slots(acct: &LocalAccount) -> (Slot, Slot) {
    let p = policy(acct);
    let now = Timestamp::now();
    let closed: Vec<Slot> = policy::slots::required_slots(
        p.schedule(),
        p.start_window(),
        p.completion_window(),
        SignedDuration::from_hours(24 * 60),
        None,
        now,
    )
    .into_iter()
    .filter(|s| s.completion_deadline < now)
    .collect();
    let n = closed.len();
    (closed[n - 2], closed[n - 1])
}

/// What the policy plan's rule made in the stand-in's terms.
fn policy_rule(acct: &LocalAccount) -> CreatedBy {
    let plan = acct.plan("backup-guard-policy").unwrap();
    let rule = &plan.rules["twice-monthly-90d"];
    CreatedBy {
        backup_plan_id: Some(plan.id.clone()),
        backup_plan_arn: Some(plan.arn.clone()),
        backup_plan_name: Some("backup-guard-policy".into()),
        backup_plan_version: Some(plan.version_id.clone()),
        backup_rule_id: Some(rule.id.clone()),
        backup_rule_name: Some("twice-monthly-90d".into()),
        backup_rule_cron: Some(rule.cron.clone()),
        backup_rule_timezone: rule.timezone.clone(),
    }
}

/// A completed point of `table` in `vault` for `slot`, made by the policy rule, with a
/// DynamoDB-style ARN (the table is in it).
fn slot_point(
    acct: &LocalAccount,
    table: &str,
    vault: &str,
    slot: &Slot,
    n: usize,
) -> RecoveryPoint {
    let s = acct.scenario();
    let created = slot.at + SignedDuration::from_mins(5);
    RecoveryPoint {
        recovery_point_arn: Some(format!(
            "{}/backup/{:014}-{:08x}",
            s.table_arn(table),
            created.as_millisecond(),
            n
        )),
        backup_vault_name: vault.to_string(),
        resource_arn: s.table_arn(table),
        resource_type: Some("DynamoDB".into()),
        resource_name: Some(table.to_string()),
        created_by: Some(policy_rule(acct)),
        status: Some("COMPLETED".into()),
        creation_date: created,
        initiation_date: Some(created),
        completion_date: Some(created + SignedDuration::from_mins(10)),
        backup_size_in_bytes: Some(0),
        lifecycle: Some(Lifecycle {
            delete_after_days: Some(90),
            move_to_cold_storage_after_days: None,
            opt_in_to_archive_for_supported_resources: None,
        }),
        is_encrypted: Some(true),
        ..Default::default()
    }
}

/// The cell's table, created a day before the earlier of the last two closed slots, with a
/// point for each of them in `vault`; returns the points' ARNs.
async fn table_with_points(acct: &LocalAccount, table: &str, vault: &str) -> Vec<String> {
    let (a, b) = closed_slots(acct);
    create_table_at(
        acct,
        table,
        &[("owner", "team-orders")],
        a.at - SignedDuration::from_hours(24),
    )
    .await;
    let points = vec![
        slot_point(acct, table, vault, &a, 1),
        slot_point(acct, table, vault, &b, 2),
    ];
    let arns = points
        .iter()
        .map(|p| p.recovery_point_arn.clone().unwrap())
        .collect();
    acct.standin().add_recovery_points(points).unwrap();
    arns
}

/// A vault of the cell's own (`vault-<table>`, encrypted with `key`) in the stand-in.
async fn own_vault(acct: &LocalAccount, table: &str, key: &str) -> String {
    let vault = format!("vault-{table}");
    acct.direct_context()
        .await
        .backup()
        .create_backup_vault()
        .backup_vault_name(&vault)
        .encryption_key_arn(key)
        .send()
        .await
        .unwrap();
    vault
}

/// The change event a change setup makes due, after making the change through the SDK.
async fn change_setup(acct: &LocalAccount, setup: Setup, table: &str, id: &str) -> Value {
    let ctx = acct.direct_context().await;
    let main_vault = "backup-guard-vault";
    let main_key = acct.vault_key(main_vault).unwrap().to_string();
    match setup {
        Setup::PointDeleted => {
            let arns = table_with_points(acct, table, main_vault).await;
            let gone = &arns[1];
            ctx.backup()
                .delete_recovery_point()
                .backup_vault_name(main_vault)
                .recovery_point_arn(gone)
                .send()
                .await
                .unwrap();
            change_event(
                acct,
                "backup-delete-recovery-point",
                id,
                json!({"backupVaultName": main_vault, "recoveryPointArn": gone}),
            )
        }
        Setup::PlanEdited => {
            create_table(acct, table, &[("owner", "team-orders")]).await;
            let rule = |days: i64| {
                bk::BackupRuleInput::builder()
                    .rule_name("twice-monthly-90d")
                    .target_backup_vault_name(main_vault)
                    .schedule_expression("cron(0 0 15,25 * ? *)")
                    .schedule_expression_timezone("UTC")
                    .start_window_minutes(60)
                    .completion_window_minutes(180)
                    .lifecycle(bk::Lifecycle::builder().delete_after_days(days).build())
                    .build()
                    .unwrap()
            };
            let plan = |days: i64| {
                bk::BackupPlanInput::builder()
                    .backup_plan_name(format!("plan-{table}"))
                    .rules(rule(days))
                    .build()
                    .unwrap()
            };
            let created = ctx
                .backup()
                .create_backup_plan()
                .backup_plan(plan(90))
                .send()
                .await
                .unwrap();
            let plan_id = created.backup_plan_id.unwrap();
            ctx.backup()
                .create_backup_selection()
                .backup_plan_id(&plan_id)
                .backup_selection(
                    bk::BackupSelection::builder()
                        .selection_name(format!("sel-{table}"))
                        .iam_role_arn(format!(
                            "arn:aws:iam::{}:role/backup-guard-backup",
                            acct.scenario().account
                        ))
                        .resources(acct.scenario().table_arn(table))
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
            ctx.backup()
                .update_backup_plan()
                .backup_plan_id(&plan_id)
                .backup_plan(plan(35))
                .send()
                .await
                .unwrap();
            change_event(
                acct,
                "backup-update-backup-plan",
                id,
                json!({"backupPlanId": plan_id}),
            )
        }
        Setup::VaultPolicy => {
            let vault = own_vault(acct, table, &main_key).await;
            ctx.backup()
                .put_backup_vault_access_policy()
                .backup_vault_name(&vault)
                .policy(policy::change::deny_deletion_policy_json())
                .send()
                .await
                .unwrap();
            table_with_points(acct, table, &vault).await;
            ctx.backup()
                .delete_backup_vault_access_policy()
                .backup_vault_name(&vault)
                .send()
                .await
                .unwrap();
            change_event(
                acct,
                "backup-delete-vault-access-policy",
                id,
                json!({"backupVaultName": vault}),
            )
        }
        Setup::JobStopped => {
            let (_, slot) = closed_slots(acct);
            create_table_at(
                acct,
                table,
                &[("owner", "team-orders")],
                slot.at - SignedDuration::from_hours(24),
            )
            .await;
            let job_id = format!("job-{table}");
            let created = slot.at + SignedDuration::from_mins(5);
            acct.standin()
                .add_backup_jobs(vec![BackupJob {
                    account_id: Some(acct.scenario().account.clone()),
                    backup_job_id: Some(job_id.clone()),
                    backup_vault_name: main_vault.into(),
                    resource_arn: acct.scenario().table_arn(table),
                    resource_type: Some("DynamoDB".into()),
                    resource_name: Some(table.to_string()),
                    creation_date: created,
                    state: "RUNNING".into(),
                    percent_done: Some("0.0".into()),
                    created_by: Some(policy_rule(acct)),
                    start_by: Some(slot.start_deadline),
                    ..Default::default()
                }])
                .unwrap();
            ctx.backup()
                .stop_backup_job()
                .backup_job_id(&job_id)
                .send()
                .await
                .unwrap();
            change_event(
                acct,
                "backup-stop-backup-job",
                id,
                json!({"backupJobId": job_id}),
            )
        }
        Setup::KeyPolicy => {
            let meta = ctx
                .kms()
                .create_key()
                .description(format!("key of vault-{table}"))
                .send()
                .await
                .unwrap()
                .key_metadata
                .unwrap();
            let key_arn = meta.arn.unwrap();
            let vault = own_vault(acct, table, &key_arn).await;
            table_with_points(acct, table, &vault).await;
            // No account-root statement, and the account's role may only describe the key
            // (a role of the account with kms:* would let AWS Backup in: no problem then).
            let doc = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "Admins",
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{}:role/Operator", acct.scenario().account)},
                    "Action": "kms:DescribeKey",
                    "Resource": "*"
                }]
            })
            .to_string();
            ctx.kms()
                .put_key_policy()
                .key_id(&meta.key_id)
                .policy_name("default")
                .policy(&doc)
                .bypass_policy_lockout_safety_check(true)
                .send()
                .await
                .unwrap();
            let mut v = change_event(
                acct,
                "kms-put-key-policy",
                id,
                json!({"keyId": meta.key_id, "policy": doc}),
            );
            v["detail"]["resources"][0]["ARN"] = json!(key_arn);
            v["detail"]["resources"][0]["accountId"] = json!(acct.scenario().account);
            v
        }
        _ => unreachable!("not a change setup: {setup:?}"),
    }
}

fn is_change(setup: Setup) -> bool {
    matches!(
        setup,
        Setup::PointDeleted
            | Setup::PlanEdited
            | Setup::VaultPolicy
            | Setup::JobStopped
            | Setup::KeyPolicy
    )
}

/// Creates `table` in moto (past the proxy) with `tags`.
async fn create_table(acct: &LocalAccount, table: &str, tags: &[(&str, &str)]) {
    create_table_at(acct, table, tags, acct.now()).await;
}

/// Creates `table` in moto (past the proxy) with `tags`, created at `created`.
async fn create_table_at(
    acct: &LocalAccount,
    table: &str,
    tags: &[(&str, &str)],
    created: Timestamp,
) {
    let spec = TableSpec {
        name: table.to_string(),
        created,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        pitr: false,
        status: None,
        ttl_attribute: None,
        backups: None,
        note: None,
    };
    acct.create_table(&spec).await.unwrap();
}

enum Ran {
    Ok(Box<GuardOutcome>),
    Err(GuardError),
    Killed,
}

async fn invoke(ev: &Value, deps: &Deps) -> Ran {
    // The handler gets the invocation's deadline; Lambda kills it there if it overruns.
    match tokio::time::timeout(DEADLINE, run(ev.clone(), deps, Budget::from_now(DEADLINE))).await {
        Ok(Ok(o)) => Ran::Ok(Box::new(o)),
        Ok(Err(e)) => Ran::Err(e),
        Err(_) => Ran::Killed,
    }
}

fn describe(o: &GuardOutcome) -> String {
    let mut parts = Vec::new();
    if let Some(v) = o.verdict {
        parts.push(format!("verdict {}", v.as_str()));
    }
    for a in &o.actions {
        parts.push(
            match a {
                Action::TagAdded { .. } => "tag added",
                Action::TagFailed { .. } => "tag failed",
                Action::WouldAddTag { .. } => "would add tag",
                Action::TagNotOverwritten { .. } => "tag not overwritten",
                Action::ValidationRecorded { .. } => "validation reported",
                Action::ValidationNotRecorded { .. } => "validation not reported",
            }
            .to_string(),
        );
    }
    if let Some(r) = &o.restore {
        if let Some(v) = &r.validation {
            parts.push(format!("restore {}", v.status.as_str()));
        }
        if r.problem.is_some() {
            parts.push("restore not validated".into());
        }
    }
    match &o.handling {
        table_guard::Handling::Duplicate { .. } => parts.push("duplicate".into()),
        table_guard::Handling::Gone => parts.push("gone".into()),
        table_guard::Handling::Ignored { .. } => parts.push("ignored".into()),
        table_guard::Handling::Evaluated => {}
    }
    parts.join(", ")
}

fn error_kind(e: &GuardError) -> &'static str {
    match e {
        GuardError::Event(_) => "unusable event",
        GuardError::Ledger(_) => "ledger",
        GuardError::State(_) => "remembered backup failures",
        GuardError::Publish { .. } => "alert not published",
        GuardError::InProgress { .. } => "an earlier delivery still holds the claim",
        GuardError::OutOfTime { .. } => "out of time",
    }
}

struct Run {
    cell: Cell,
    counted: BTreeMap<String, awsio::counter::OperationCalls>,
}

/// Alerts about `table`, or (for a restore test) about the restore job `table` names, or
/// whose outcome is the cell's event `id` (a change alert may name no table: a plan edit
/// whose tables could not be read).
async fn alerts_for(acct: &LocalAccount, table: &str, id: &str) -> usize {
    acct.receive_alerts()
        .await
        .unwrap()
        .iter()
        .filter(|a| {
            a.attributes.get("table").map(String::as_str) == Some(table)
                || a.attributes.get("restore_job").map(String::as_str) == Some(table)
                || serde_json::from_str::<Value>(&a.message)
                    .is_ok_and(|m| m["outcome"]["event_id"] == id)
        })
        .count()
}

async fn run_cell(
    acct: &LocalAccount,
    n: usize,
    operation: Option<&str>,
    kind: Option<FaultKind>,
) -> Run {
    matrix::clear(acct);
    acct.receive_alerts().await.unwrap();
    let setup = operation.map_or(Setup::Standard, setup_for);
    let table = format!("cell-{n:03}");
    let id = format!("ev-cell-{n:03}");
    let owner = [("owner", "team-orders")];
    let backup_only = [("backup-policy", "twice-monthly-90d")];
    let tags: &[(&str, &str)] = match setup {
        Setup::AlertWithoutChange => &backup_only,
        _ => &owner,
    };
    if !matches!(setup, Setup::Ghost | Setup::RestoreTest) && !is_change(setup) {
        create_table(acct, &table, tags).await;
    }
    let ev = if setup == Setup::RestoreTest {
        restore_event(acct, &table, &id).await
    } else if is_change(setup) {
        change_setup(acct, setup, &table, &id).await
    } else {
        event(acct, &table, &id, tags)
    };
    // A restore test's alert names its restore job, which is the cell's "table".
    let table = if setup == Setup::RestoreTest {
        format!("JOB-{table}")
    } else {
        table
    };
    let mut violations = Vec::new();
    let proxy = acct.proxy().unwrap();
    if setup == Setup::Redelivery {
        proxy.set_fault(ProxyFault::error(
            "SNS.Publish",
            InjectedError::AccessDenied,
        ));
        let first = invoke(&ev, &deps(acct).await).await;
        if !matches!(&first, Ran::Err(GuardError::Publish { .. })) {
            violations.push("setup: the first delivery did not fail to publish".into());
        }
        matrix::clear(acct);
    }
    if setup == Setup::AlertWithoutChange {
        proxy.set_fault(ProxyFault::error(
            "SNS.Publish",
            InjectedError::AccessDenied,
        ));
    }
    if let (Some(op), Some(k)) = (operation, kind)
        && let Err(e) = matrix::inject(acct, op, k, HANG)
    {
        violations.push(e);
    }
    let d = deps(acct).await;
    let first_started = std::time::Instant::now();
    let ran = invoke(&ev, &d).await;
    let fired = operation.map(|op| matrix::injected(acct, op));
    matrix::clear(acct);
    let counted = d.ctx.calls.snapshot();
    let delivered = alerts_for(acct, &table, &id).await;

    if let (Some(op), Some(k), Some(fired)) = (operation, kind, fired) {
        violations.extend(matrix::fault_violations(op, k, fired, &counted));
    }

    let first = match &ran {
        Ran::Ok(o) if delivered > 0 => format!("alert delivered ({})", describe(o)),
        Ran::Ok(o) => {
            violations.push(format!(
                "Ok with nothing sent although an alert was due ({})",
                describe(o)
            ));
            format!("Ok, nothing sent ({})", describe(o))
        }
        // A hung call ends either by its capped client timeout (a ledger or publish error) or
        // by the main phase's deadline, whichever comes first: the same outcome.
        Ran::Err(
            GuardError::Ledger(_) | GuardError::OutOfTime { .. } | GuardError::Publish { .. },
        ) if kind == Some(FaultKind::Hang) => {
            "invocation failed (the hung call was cut at the budget)".to_string()
        }
        Ran::Err(e) => format!("invocation failed ({})", error_kind(e)),
        Ran::Killed => "killed at the deadline (invocation failed)".to_string(),
    };
    let outcome = if matches!(ran, Ran::Ok(_)) {
        first
    } else if delivered > 0 {
        // The alert went out before the invocation failed (e.g. recording the outcome).
        format!("alert delivered, then {first}")
    } else {
        // Lambda retries the failed invocation about a minute later: the fault has cleared
        // and the first delivery's claim lease (deadline + margin) has ended.
        tokio::time::sleep_until((first_started + DEADLINE + LEASE_MARGIN).into()).await;
        let retry = invoke(&ev, &deps(acct).await).await;
        let delivered = alerts_for(acct, &table, &id).await;
        let r = match &retry {
            Ran::Ok(o) if delivered > 0 => format!("alert delivered ({})", describe(o)),
            // A table that never existed: once DescribeTable answers, the guard knows it is
            // gone and no alert is due (while it could not tell, it alerted UNVERIFIABLE).
            Ran::Ok(o)
                if setup == Setup::Ghost && matches!(o.handling, table_guard::Handling::Gone) =>
            {
                format!("no alert due ({})", describe(o))
            }
            Ran::Ok(o) => {
                violations.push(format!(
                    "the retry after the fault cleared returned Ok with nothing sent ({}): the event is lost",
                    describe(o)
                ));
                format!("Ok, nothing sent ({})", describe(o))
            }
            Ran::Err(e) => {
                violations.push(format!(
                    "the retry after the fault cleared failed too ({})",
                    error_kind(e)
                ));
                format!("invocation failed ({})", error_kind(e))
            }
            Ran::Killed => {
                violations
                    .push("the retry after the fault cleared was killed at the deadline".into());
                "killed at the deadline".into()
            }
        };
        format!("{first}; retry: {r}")
    };
    Run {
        cell: Cell {
            operation: operation.unwrap_or("(baseline)").to_string(),
            fault: kind,
            outcome,
            violations,
        },
        counted,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_times_every_fault() {
    let lanes = matrix::plan_lanes(AWS_OPERATIONS, HANG_LANES);
    // The hang lanes' accounts start while the baseline runs.
    let (acct, extra) = tokio::join!(
        async { LocalAccount::start_with_proxy(&scenario()).await.unwrap() },
        futures::future::join_all(
            (1..lanes.len())
                .map(|_| async { LocalAccount::start_with_proxy(&scenario()).await.unwrap() })
        )
    );
    let mut m = Matrix::new("table-guard", INVARIANTS);
    let listed: BTreeSet<&str> = AWS_OPERATIONS.iter().copied().collect();

    let base = run_cell(&acct, 0, None, None).await;
    let mut base_cell = base.cell;
    let unlisted: Vec<&String> = base
        .counted
        .keys()
        .filter(|k| !listed.contains(k.as_str()))
        .collect();
    if !unlisted.is_empty() {
        base_cell.violations.push(format!(
            "counted but not in AWS_OPERATIONS (names as the call counter spells them): {unlisted:?}"
        ));
    }
    base_cell.outcome.push_str(&format!(
        "; {} of {} listed operations called",
        base.counted
            .keys()
            .filter(|k| listed.contains(k.as_str()))
            .count(),
        listed.len()
    ));
    m.cells.push(base_cell);

    let accounts = std::iter::once(&acct).chain(extra.iter());
    let mut runs: Vec<(usize, Run)> =
        futures::future::join_all(lanes.iter().zip(accounts).map(|(lane, acct)| async move {
            let mut out = Vec::new();
            for c in lane {
                let run = run_cell(acct, c.number, Some(c.operation), Some(c.kind)).await;
                out.push((c.number, run));
            }
            out
        }))
        .await
        .into_iter()
        .flatten()
        .collect();
    runs.sort_by_key(|(number, _)| *number);

    let mut called: BTreeSet<String> = base.counted.keys().cloned().collect();
    for (_, run) in runs {
        called.extend(run.counted.keys().cloned());
        m.cells.push(run.cell);
    }
    let baseline_ops: BTreeSet<String> = base.counted.keys().cloned().collect();
    m.check_operations(AWS_OPERATIONS, &baseline_ops, &called);

    let problems = m.finish();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
