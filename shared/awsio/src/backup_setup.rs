//! Reading the account's AWS Backup configuration (plans, rules, selections) into
//! [`policy::facts::BackupSetup`].
//!
//! Calls: `ListBackupPlans` pages + one `GetBackupPlan` per plan + `ListBackupSelections` pages
//! per plan + one `GetBackupSelection` per selection (P + S reads), run with bounded
//! concurrency. If any read fails, the whole setup is [`Fact::Unknown`] with the failing
//! operation named: coverage decided from half a configuration could be wrong either way, and
//! unknown is never compliant.

use futures::{StreamExt, TryStreamExt, stream};
use policy::facts::{
    BackupSetup, Conditions, Fact, PlanFacts, RuleFacts, SelectionFacts, TagCondition,
};

use crate::error::{AwsCallError, OperationContext};

/// How many plan/selection reads run at once.
const CONCURRENCY: usize = 8;

/// Reads every backup plan (current version) and every selection of each.
pub async fn read_backup_setup(backup: &aws_sdk_backup::Client) -> BackupSetup {
    match read_all(backup).await {
        Ok((plans, selections)) => BackupSetup {
            plans: Fact::Known(plans),
            selections: Fact::Known(selections),
        },
        Err(e) => {
            let reason = format!("backup plans could not be read: {e}");
            BackupSetup {
                plans: Fact::unknown(reason.clone()),
                selections: Fact::unknown(reason),
            }
        }
    }
}

async fn read_all(
    backup: &aws_sdk_backup::Client,
) -> Result<(Vec<PlanFacts>, Vec<SelectionFacts>), AwsCallError> {
    let listed: Vec<aws_sdk_backup::types::BackupPlansListMember> = backup
        .list_backup_plans()
        .max_results(1000)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .op("Backup.ListBackupPlans")?;
    let ids: Vec<String> = listed
        .iter()
        .filter_map(|p| p.backup_plan_id().map(str::to_string))
        .collect();

    let plans: Vec<PlanFacts> = stream::iter(ids.clone())
        .map(|id| read_plan(backup, id))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;

    let selection_refs: Vec<(String, String)> = stream::iter(ids)
        .map(|id| list_selections(backup, id))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();

    let selections: Vec<SelectionFacts> = stream::iter(selection_refs)
        .map(|(plan_id, selection_id)| read_selection(backup, plan_id, selection_id))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;

    let mut plans = plans;
    plans.sort_by(|a, b| a.plan_id.cmp(&b.plan_id));
    let mut selections = selections;
    selections.sort_by(|a, b| (&a.plan_id, &a.selection_id).cmp(&(&b.plan_id, &b.selection_id)));
    Ok((plans, selections))
}

async fn read_plan(
    backup: &aws_sdk_backup::Client,
    plan_id: String,
) -> Result<PlanFacts, AwsCallError> {
    const OP: &str = "Backup.GetBackupPlan";
    let out = backup
        .get_backup_plan()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .op(OP)?;
    let plan = out.backup_plan().ok_or_else(|| {
        AwsCallError::invalid_response(OP, format!("plan {plan_id}: response has no BackupPlan"))
    })?;
    Ok(PlanFacts {
        plan_id: plan_id.clone(),
        plan_arn: out.backup_plan_arn().unwrap_or_default().to_string(),
        name: plan.backup_plan_name().to_string(),
        version_id: out.version_id().unwrap_or_default().to_string(),
        rules: plan.rules().iter().map(rule_facts).collect(),
    })
}

/// SDK rule → policy rule facts.
pub fn rule_facts(rule: &aws_sdk_backup::types::BackupRule) -> RuleFacts {
    RuleFacts {
        rule_id: rule.rule_id().map(str::to_string),
        name: rule.rule_name().to_string(),
        target_vault: rule.target_backup_vault_name().to_string(),
        schedule_expression: rule.schedule_expression().unwrap_or_default().to_string(),
        schedule_timezone: rule.schedule_expression_timezone().map(str::to_string),
        start_window_minutes: rule.start_window_minutes(),
        completion_window_minutes: rule.completion_window_minutes(),
        delete_after_days: rule.lifecycle().and_then(|l| l.delete_after_days()),
        move_to_cold_storage_after_days: rule
            .lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
    }
}

async fn list_selections(
    backup: &aws_sdk_backup::Client,
    plan_id: String,
) -> Result<Vec<(String, String)>, AwsCallError> {
    let items: Vec<aws_sdk_backup::types::BackupSelectionsListMember> = backup
        .list_backup_selections()
        .backup_plan_id(&plan_id)
        .max_results(1000)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .op("Backup.ListBackupSelections")?;
    Ok(items
        .iter()
        .filter_map(|s| s.selection_id().map(|id| (plan_id.clone(), id.to_string())))
        .collect())
}

async fn read_selection(
    backup: &aws_sdk_backup::Client,
    plan_id: String,
    selection_id: String,
) -> Result<SelectionFacts, AwsCallError> {
    const OP: &str = "Backup.GetBackupSelection";
    let out = backup
        .get_backup_selection()
        .backup_plan_id(&plan_id)
        .selection_id(&selection_id)
        .send()
        .await
        .op(OP)?;
    let sel = out.backup_selection().ok_or_else(|| {
        AwsCallError::invalid_response(
            OP,
            format!("selection {selection_id} of plan {plan_id}: response has no BackupSelection"),
        )
    })?;
    Ok(selection_facts(plan_id, selection_id, sel))
}

/// SDK selection → policy selection facts.
pub fn selection_facts(
    plan_id: String,
    selection_id: String,
    sel: &aws_sdk_backup::types::BackupSelection,
) -> SelectionFacts {
    let params = |ps: &[aws_sdk_backup::types::ConditionParameter]| -> Vec<TagCondition> {
        ps.iter()
            .map(|p| {
                TagCondition::new(
                    p.condition_key().unwrap_or_default(),
                    p.condition_value().unwrap_or_default(),
                )
            })
            .collect()
    };
    let conditions = sel
        .conditions()
        .map(|c| Conditions {
            string_equals: params(c.string_equals()),
            string_not_equals: params(c.string_not_equals()),
            string_like: params(c.string_like()),
            string_not_like: params(c.string_not_like()),
        })
        .unwrap_or_default();
    SelectionFacts {
        selection_id,
        name: sel.selection_name().to_string(),
        plan_id,
        resources: sel.resources().to_vec(),
        not_resources: sel.not_resources().to_vec(),
        list_of_tags: sel
            .list_of_tags()
            .iter()
            .map(|c| TagCondition::new(c.condition_key(), c.condition_value()))
            .collect(),
        conditions,
    }
}
