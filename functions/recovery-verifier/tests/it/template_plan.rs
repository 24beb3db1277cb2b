//! The template's backup plan and selection, created in the local account exactly as
//! `sam deploy` would create them, are judged conformant by the verifier.
//!
//! The values come from `template.yaml` itself (its parameter defaults, plus the
//! `SelectionMode` override), exported as AWS Backup API inputs by
//! `tests/template/export_backup_api.py`; nothing here repeats them.

use std::path::PathBuf;
use std::process::Command;

use aws_sdk_backup::types::{
    BackupPlanInput, BackupRuleInput, BackupSelection, Condition, ConditionParameter,
    ConditionType, Conditions, Lifecycle,
};
use local_account::moto::repo_root;
use local_account::{LocalAccount, Scenario};
use policy::{Coverage, FindingCode, Policy, Verdict};
use recovery_verifier::{RegionReport, VerifyOptions, verify_region};
use serde_json::Value;

/// A fresh account: the template's vault, no plan yet, four tables created an hour before
/// "now" (no slot due yet, so only coverage and plan conformance are at stake).
const ACCOUNT: &str = r#"{
  "name": "template-plan",
  "description": "Empty account the template's plan and selection are deployed into.",
  "now": "2026-11-25T12:00:00Z",
  "account": "123456789012",
  "region": "us-east-1",
  "vaults": [{"name": "backup-guard-vault"}],
  "plans": [],
  "selections": [],
  "tables": [
    {"name": "backup-guard-state", "created": "2026-11-25T11:00:00Z",
     "tags": {"owner": "platform-team"}, "ttl_attribute": "expires_at"},
    {"name": "orders", "created": "2026-11-25T11:00:00Z", "tags": {"owner": "shop-team"}},
    {"name": "orders-tagged", "created": "2026-11-25T11:00:00Z",
     "tags": {"owner": "shop-team", "backup-policy": "twice-monthly-90d"}},
    {"name": "scratch", "created": "2026-11-25T11:00:00Z",
     "tags": {"owner": "data-team", "backup-policy": "exempt",
              "exempt-reason": "rebuilt nightly from the data lake"}}
  ],
  "recovery_points": [],
  "backup_jobs": [],
  "expectations": []
}"#;

/// Runs the exporter for `selection_mode` and returns (plan, selection) JSON.
fn export(selection_mode: &str) -> (Value, Value) {
    let root = repo_root();
    let out: PathBuf = std::env::temp_dir().join(format!(
        "bg-template-plan-{}-{selection_mode}",
        std::process::id()
    ));
    let status = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/template/export_backup_api.py"))
        .arg(&out)
        .arg(format!("SelectionMode={selection_mode}"))
        .status()
        .expect("the project venv's python runs (make venv)");
    assert!(status.success(), "export_backup_api.py failed");
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(out.join(name)).expect("exported file");
        serde_json::from_str(&text).expect("exported JSON")
    };
    let pair = (read("backup-plan.json"), read("backup-selection.json"));
    let _ = std::fs::remove_dir_all(&out);
    pair
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {v}"))
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn params(v: &Value, key: &str) -> Vec<ConditionParameter> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    ConditionParameter::builder()
                        .condition_key(s(c, "ConditionKey"))
                        .condition_value(s(c, "ConditionValue"))
                        .build()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// CreateBackupPlan + CreateBackupSelection with the exported inputs, through the real SDK.
async fn deploy(account: &LocalAccount, plan: &Value, selection: &Value) -> String {
    let ctx = account.context().await;
    let mut input = BackupPlanInput::builder().backup_plan_name(s(plan, "BackupPlanName"));
    for r in plan["Rules"].as_array().expect("Rules") {
        let mut lifecycle = Lifecycle::builder();
        if let Some(d) = r["Lifecycle"]["DeleteAfterDays"].as_i64() {
            lifecycle = lifecycle.delete_after_days(d);
        }
        if let Some(d) = r["Lifecycle"]["MoveToColdStorageAfterDays"].as_i64() {
            lifecycle = lifecycle.move_to_cold_storage_after_days(d);
        }
        input = input.rules(
            BackupRuleInput::builder()
                .rule_name(s(r, "RuleName"))
                .target_backup_vault_name(s(r, "TargetBackupVaultName"))
                .schedule_expression(s(r, "ScheduleExpression"))
                .schedule_expression_timezone(s(r, "ScheduleExpressionTimezone"))
                .start_window_minutes(r["StartWindowMinutes"].as_i64().expect("start"))
                .completion_window_minutes(r["CompletionWindowMinutes"].as_i64().expect("end"))
                .lifecycle(lifecycle.build())
                .build()
                .expect("rule input"),
        );
    }
    let created = ctx
        .backup()
        .create_backup_plan()
        .backup_plan(input.build().expect("plan input"))
        .send()
        .await
        .expect("CreateBackupPlan");
    let plan_id = created.backup_plan_id().expect("plan id").to_string();

    let mut sel = BackupSelection::builder()
        .selection_name(s(selection, "SelectionName"))
        .iam_role_arn(s(selection, "IamRoleArn"))
        .set_resources(Some(strings(selection, "Resources")))
        .set_not_resources(Some(strings(selection, "NotResources")));
    for t in selection["ListOfTags"].as_array().into_iter().flatten() {
        sel = sel.list_of_tags(
            Condition::builder()
                .condition_type(ConditionType::from(s(t, "ConditionType")))
                .condition_key(s(t, "ConditionKey"))
                .condition_value(s(t, "ConditionValue"))
                .build()
                .expect("condition"),
        );
    }
    let c = &selection["Conditions"];
    if c.is_object() {
        sel = sel.conditions(
            Conditions::builder()
                .set_string_equals(Some(params(c, "StringEquals")))
                .set_string_not_equals(Some(params(c, "StringNotEquals")))
                .set_string_like(Some(params(c, "StringLike")))
                .set_string_not_like(Some(params(c, "StringNotLike")))
                .build(),
        );
    }
    ctx.backup()
        .create_backup_selection()
        .backup_plan_id(&plan_id)
        .backup_selection(sel.build().expect("selection"))
        .send()
        .await
        .expect("CreateBackupSelection");
    plan_id
}

fn policy_for(mode: &str) -> Policy {
    Policy::from_vars([("BG_SELECTION_MODE".to_string(), mode.to_string())])
        .expect("policy for the selection mode")
}

/// The template's plan and selection for one selection mode, deployed into a fresh account,
/// and the verifier's report on that account under the policy for the same mode.
struct Deployed {
    /// Kept alive for the servers behind the report.
    _account: LocalAccount,
    plan: Value,
    selection: Value,
    plan_id: String,
    report: RegionReport,
}

async fn deploy_and_verify(mode: &str) -> Deployed {
    let scenario = Scenario::from_json(ACCOUNT, "template_plan.rs").expect("scenario");
    let account = LocalAccount::start(&scenario).await.expect("local account");
    let (plan, selection) = export(mode);
    let plan_id = deploy(&account, &plan, &selection).await;

    let ctx = account.context().await;
    let policy = policy_for(mode);
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    Deployed {
        _account: account,
        plan,
        selection,
        plan_id,
        report,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_all_tables_plan_is_conformant_and_covers_every_unexempt_table() {
    let Deployed {
        plan,
        selection,
        plan_id,
        report,
        ..
    } = deploy_and_verify("all-tables").await;

    let all: Vec<_> = report.report.tables.iter().collect();
    assert_eq!(all.len(), 4);
    for t in &all {
        assert!(
            t.findings
                .iter()
                .all(|f| !matches!(f.code, FindingCode::PlanDrift | FindingCode::NotCovered)),
            "{}: {:#?}",
            t.table.name,
            t.findings
        );
        match t.table.name.as_str() {
            "scratch" => assert_eq!(t.verdict, Verdict::Exempt),
            _ => match &t.coverage {
                Coverage::Protected { by, also_drifted } => {
                    assert!(also_drifted.is_empty());
                    assert!(by.iter().any(|c| c.plan_id == plan_id
                        && c.plan_name == s(&plan, "BackupPlanName")
                        && c.selection_name == s(&selection, "SelectionName")));
                    assert!(
                        matches!(t.verdict, Verdict::Compliant | Verdict::Pending),
                        "{}: {:?}",
                        t.table.name,
                        t.verdict
                    );
                }
                other => panic!(
                    "{} not protected by the template plan: {other:?}",
                    t.table.name
                ),
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_tagged_plan_is_conformant_and_covers_only_tagged_tables() {
    let Deployed {
        plan_id, report, ..
    } = deploy_and_verify("tagged").await;

    let by_name = |name: &str| {
        report
            .report
            .tables
            .iter()
            .find(|t| t.table.name == name)
            .unwrap_or_else(|| panic!("{name} evaluated"))
    };
    // No drift anywhere: the plan conforms.
    assert!(
        report
            .report
            .tables
            .iter()
            .flat_map(|t| &t.findings)
            .all(|f| f.code != FindingCode::PlanDrift)
    );
    // The tagged table is protected by the template's plan ...
    match &by_name("orders-tagged").coverage {
        Coverage::Protected { by, .. } => assert!(by.iter().any(|c| c.plan_id == plan_id)),
        other => panic!("orders-tagged not protected: {other:?}"),
    }
    // ... the untagged one is not covered (the guard's job is to tag it).
    let orders = by_name("orders");
    assert!(matches!(orders.coverage, Coverage::NotCovered { .. }));
    assert!(
        orders
            .findings
            .iter()
            .any(|f| f.code == FindingCode::NotCovered)
    );
}
