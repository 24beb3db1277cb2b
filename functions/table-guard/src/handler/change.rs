//! The change path of the handler: CloudTrail's records of AWS Backup and KMS calls that can
//! undo the policy ([`crate::event::change`]). It re-reads what changed (never the cached
//! setup: a plan event reads the plans again and puts them in the cache), judges it with the
//! policy crate, and alerts with who did it, what changed, what it means for which tables and
//! the exact way back. It takes the claim, the phases and the recording of the table path, so
//! its idempotency and its "alert delivered or invocation failed" ending are the same.
//!
//! | call | re-read | judged by | worst severity |
//! |---|---|---|---|
//! | `DeleteRecoveryPoint`, `DisassociateRecoveryPoint` | `DescribeRecoveryPoint`, `DescribeTable`, the table's points | [`policy::change::judge_point_removal`] | critical (the only point of a slot) |
//! | `UpdateRecoveryPointLifecycle` | `DescribeRecoveryPoint` | [`policy::change::lifecycle_findings`] | high (`RETENTION_TOO_SHORT`) |
//! | `UpdateBackupPlan`, `DeleteBackupPlan`, `CreateBackupSelection`, `DeleteBackupSelection` | every plan and selection, every table and its tags | plan conformance, [`policy::change::coverage_losses`] | critical (`NOT_COVERED`) |
//! | `PutBackupVaultAccessPolicy`, `DeleteBackupVaultAccessPolicy` | `DescribeBackupVault`, `GetBackupVaultAccessPolicy`, the vault's points | [`policy::vault::vault_findings`] | high (`VAULT_DELETION_NOT_DENIED`) |
//! | `DeleteBackupVaultLockConfiguration` | `DescribeBackupVault`, the vault's points | [`policy::vault::vault_findings`] | high (`VAULT_NOT_LOCKED`) |
//! | `DeleteBackupVault` | `DescribeBackupVault`, plans, tables | coverage without the vault's rules | critical |
//! | `StopBackupJob` | `DescribeBackupJob` | [`policy::backup_job::judge_ended_job`] | high (a job of a slot) |
//! | `ScheduleKeyDeletion`, `DisableKey`, `PutKeyPolicy` | `DescribeKey`, `ListBackupVaults` (which vaults use it), `GetKeyPolicy`, their points | [`policy::vault::vault_findings`], [`policy::change::key_policy_problems`] | critical (`VAULT_KEY_NOT_USABLE`) |
//!
//! A fact that cannot be read makes the change unverifiable: the alert (high) says which
//! read failed and what to check by hand; it never says the change is harmless. A call that
//! failed (`errorCode`) changed nothing: it is noted in the log and the outcome, not alerted,
//! with no AWS call. A change that leaves the policy met (`info`: a plan edit that still
//! conforms, an on-demand point deleted, a key no vault uses) ends `Ok` without an alert and
//! without a claim.

use awsio::changes::{self, KeyFacts};
use awsio::inventory::{self, table_creation_time};
use awsio::{AwsCallError, AwsContext, Budget};
use jiff::Timestamp;
use policy::change::{
    PointRemoval, coverage_losses, deny_deletion_policy_json, judge_point_removal,
    key_policy_problems, lifecycle_findings, policy_plan_json, shell_quote,
};
use policy::facts::{
    BackupSetup, Fact, KeyState, PlanFacts, RecoveryPointFacts, TableFacts, VaultFacts,
};
use policy::findings::{Finding, Severity};
use policy::vault::{VaultIndex, vault_findings};

use super::backup_job::publish;
use super::{Claimed, Deps, Failure, GuardError, Invocation, claim, ignored, log_outcome, record};
use crate::event::change::{ChangeEvent, ChangeName, ChangeTarget, LifecycleAsked};
use crate::event::{EventError, TableRef};
use crate::outcome::{ChangeCheck, ChangeImpact, GuardOutcome};

/// What the judging step found: the check for the alert, the findings, the table (when the
/// change concerns one).
struct Judged {
    check: ChangeCheck,
    findings: Vec<Finding>,
    table: Option<TableRef>,
    notes: Vec<String>,
}

impl Judged {
    fn new(event: &ChangeEvent, target: String) -> Self {
        Judged {
            check: ChangeCheck {
                call: event.name.as_str().to_string(),
                event_source: event.name.event_source().to_string(),
                at: event.at,
                who: event.caller.describe(),
                target,
                before: None,
                after: None,
                impacts: Vec::new(),
                way_back: Vec::new(),
                severity: Severity::Info,
                failed: None,
            },
            findings: Vec::new(),
            table: None,
            notes: Vec::new(),
        }
    }

    /// Something could not be read: unverifiable (high), naming the read and the manual check.
    fn unverifiable(&mut self, what: &str, e: &AwsCallError, check_by_hand: &str) {
        self.check.impacts.push(ChangeImpact {
            table: self.table.as_ref().map(|t| t.name.clone()),
            table_arn: self.table.as_ref().map(|t| t.arn.clone()),
            severity: Severity::High,
            what: format!(
                "UNVERIFIABLE: {what} could not be read ({e}), so what this change means cannot be judged; {check_by_hand}"
            ),
        });
    }

    fn impact(&mut self, table: Option<(&str, &str)>, severity: Severity, what: String) {
        self.check.impacts.push(ChangeImpact {
            table: table.map(|t| t.1.to_string()),
            table_arn: table.map(|t| t.0.to_string()),
            severity,
            what,
        });
    }

    /// One impact per table with findings, at the worst finding's severity.
    fn impacts_from_findings(&mut self, findings: &[Finding]) {
        let mut by_table: std::collections::BTreeMap<(&str, &str), Vec<&Finding>> =
            Default::default();
        for f in findings {
            by_table
                .entry((f.table_arn.as_str(), f.table_name.as_str()))
                .or_default()
                .push(f);
        }
        for ((arn, name), fs) in by_table {
            let sev = fs
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let what = fs
                .iter()
                .map(|f| format!("{}: {}", f.code, f.message))
                .collect::<Vec<_>>()
                .join(" ");
            self.impact(Some((arn, name)), sev, what);
        }
    }

    fn finish(mut self) -> Self {
        self.check
            .impacts
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.table.cmp(&b.table)));
        self.check.severity = self
            .check
            .impacts
            .iter()
            .map(|i| i.severity)
            .max()
            .unwrap_or(Severity::Info);
        self
    }
}

/// Handles a parsed change event within `budget` (see the module docs).
pub async fn run_change(
    event: ChangeEvent,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.snapshot();
    let mode = deps.policy.mode.as_str();
    let name = event.name.as_str();
    let mut outcome = GuardOutcome::new(
        &event.event_id,
        name,
        event.caller.actor.clone(),
        None,
        mode,
    );
    if let Some(f) = &event.failed {
        let error = format!(
            "{}{}",
            f.code,
            f.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        tracing::warn!(call = name, who = %event.caller.describe(), error = %error, "a failed attempt to change the backup setup");
        let mut check = Judged::new(&event, target_words(&event.target)).check;
        check.failed = Some(error.clone());
        outcome.change = Some(check);
        let reason = format!(
            "the {name} call by {} failed ({error}): nothing changed; noted, not alerted",
            event.caller.describe()
        );
        return Ok(ignored(&event.event_id, &reason, outcome));
    }
    if let (Some(mine), Some(theirs)) = (deps.ctx.region(), event.region.as_deref())
        && mine != theirs
    {
        let e = EventError::new(
            crate::event::PATH_REGION,
            format!(
                "the call was made in {theirs}, but this function serves {mine} (deploy one stack per region)"
            ),
        );
        tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
        return Err(e.into());
    }
    let inv = Invocation::new(deps, budget, calls_before);
    let judged = match inv.phases.work(judge(&event, deps, &inv.ctx)).await {
        Some(j) => j.finish(),
        None => {
            let e = Failure::OutOfTime("re-reading what the call changed")
                .into_error(outcome, inv.reserve());
            tracing::error!(error = %e, "the event will be retried");
            return Err(e);
        }
    };
    outcome.table = judged.table.clone();
    outcome.findings = judged.findings.clone();
    outcome.initial_findings = judged.findings;
    outcome.notes.extend(judged.notes);
    let severity = judged.check.severity;
    outcome.change = Some(judged.check);
    if severity == Severity::Info {
        outcome
            .notes
            .push("the change leaves the policy met: no alert".to_string());
        outcome.api_calls = inv.api_calls();
        log_outcome(&outcome);
        return Ok(outcome);
    }
    let mut outcome = match claim(&inv, outcome).await {
        Claimed::Proceed { outcome, .. } => outcome,
        Claimed::Done(result) => return result,
    };
    let result = inv
        .phases
        .work(publish(deps, &inv.ctx, &mut outcome, severity))
        .await;
    record(&inv, result, None, outcome).await
}

/// The target in words.
fn target_words(t: &ChangeTarget) -> String {
    match t {
        ChangeTarget::RecoveryPoint {
            vault, point_arn, ..
        } => format!("recovery point {point_arn} in vault {vault}"),
        ChangeTarget::Plan {
            plan_id,
            selection_id: Some(s),
        } => format!("selection {s} of backup plan {plan_id}"),
        ChangeTarget::Plan { plan_id, .. } => format!("backup plan {plan_id}"),
        ChangeTarget::Vault { vault } => format!("backup vault {vault}"),
        ChangeTarget::BackupJob { job_id } => format!("backup job {job_id}"),
        ChangeTarget::Key { key_id, .. } => format!("KMS key {key_id}"),
    }
}

async fn judge(event: &ChangeEvent, deps: &Deps, ctx: &AwsContext) -> Judged {
    let mut j = Judged::new(event, target_words(&event.target));
    match &event.target {
        ChangeTarget::RecoveryPoint {
            vault,
            point_arn,
            lifecycle,
        } => match lifecycle {
            Some(asked) => lifecycle_change(&mut j, vault, point_arn, asked, deps, ctx).await,
            None => point_removed(&mut j, event, vault, point_arn, deps, ctx).await,
        },
        ChangeTarget::Plan {
            plan_id,
            selection_id,
        } => plan_change(&mut j, event, plan_id, selection_id.as_deref(), deps, ctx).await,
        ChangeTarget::Vault { vault } => match event.name {
            ChangeName::DeleteBackupVault => vault_deleted(&mut j, vault, deps, ctx).await,
            _ => vault_protection(&mut j, event.name, vault, deps, ctx).await,
        },
        ChangeTarget::BackupJob { job_id } => job_stopped(&mut j, event, job_id, deps, ctx).await,
        ChangeTarget::Key { key_id, .. } => key_change(&mut j, event, key_id, deps, ctx).await,
    }
    j
}

/// The table's facts for the policy (creation time when `created`).
fn table_facts(t: &TableRef, created: Option<Timestamp>) -> TableFacts {
    TableFacts {
        arn: t.arn.clone(),
        name: t.name.clone(),
        account: t.account.clone(),
        region: t.region.clone(),
        created,
        tags: Fact::unknown("not read for this check"),
    }
}

/// The table a recovery point is of: its `ResourceArn` when read, else the table in a
/// DynamoDB backup ARN (`…:table/T/backup/…`).
fn point_table(point_arn: &str, described: Option<&RecoveryPointFacts>) -> Option<TableRef> {
    let arn = match described {
        Some(p) => p.resource_arn.clone(),
        None => {
            let (table, _) = point_arn.split_once("/backup/")?;
            table.to_string()
        }
    };
    TableRef::parse_arn(&arn, "ResourceArn").ok()
}

fn point_words(p: &RecoveryPointFacts) -> String {
    format!(
        "status {}, created {}{}, DeleteAfterDays {}{}",
        p.status,
        p.created,
        p.created_by
            .as_ref()
            .map(|c| format!(" by plan {}", c.plan_id))
            .unwrap_or_else(|| " on demand".to_string()),
        p.delete_after_days
            .map(|d| d.to_string())
            .unwrap_or_else(|| "none (kept forever)".to_string()),
        p.delete_at
            .map(|d| format!(" (deleted at {d})"))
            .unwrap_or_default()
    )
}

fn protect_vault_commands(vault: &str, deps: &Deps) -> Vec<String> {
    let days = deps.policy.retention_days;
    vec![
        format!(
            "aws backup put-backup-vault-access-policy --backup-vault-name {vault} --policy {}",
            shell_quote(&deny_deletion_policy_json())
        ),
        format!(
            "aws backup put-backup-vault-lock-configuration --backup-vault-name {vault} --min-retention-days {days} --max-retention-days {days}"
        ),
    ]
}

async fn point_removed(
    j: &mut Judged,
    event: &ChangeEvent,
    vault: &str,
    point_arn: &str,
    deps: &Deps,
    ctx: &AwsContext,
) {
    let described = match changes::point(ctx.backup(), vault, point_arn).await {
        Ok(p) => p,
        Err(e) => {
            j.table = point_table(point_arn, None);
            return j.unverifiable("the recovery point", &e, "run the recovery verifier for the table (backup-guard audit) to see which slot lost its backup");
        }
    };
    j.check.before = Some(match &described {
        Some(p) => point_words(p),
        None => "AWS no longer describes the point (DescribeRecoveryPoint: not found)".to_string(),
    });
    j.check.after = Some(match event.name {
        ChangeName::DisassociateRecoveryPoint => "disassociated from AWS Backup".to_string(),
        _ => "deleted".to_string(),
    });
    j.check.way_back = vec![
        "A deleted recovery point cannot be brought back: record the gap for the audit, and make the vault refuse the next deletion:".to_string(),
    ];
    j.check.way_back.extend(protect_vault_commands(vault, deps));
    let Some(table) = point_table(point_arn, described.as_ref()) else {
        j.impact(None, Severity::High, format!("UNVERIFIABLE: which table the point {point_arn} belonged to cannot be told (AWS no longer describes it and its ARN does not name a table); run the recovery verifier (backup-guard audit) for every table with points in vault {vault}."));
        return;
    };
    j.table = Some(table.clone());
    let created = match table_creation_time(ctx.dynamodb(), &table.name).await {
        Ok(c) => c,
        Err(e) => {
            j.notes.push(format!("the table's creation time could not be read ({e}): every slot of the retention horizon is required"));
            None
        }
    };
    let remaining = match changes::table_points(ctx.backup(), &table.arn).await {
        Ok(p) => p,
        Err(e) => return j.unverifiable("the table's other recovery points", &e, "check the table's recovery points by hand (aws backup list-recovery-points-by-resource)"),
    };
    let (setup, cached) = deps.setup_cache.get(ctx, deps.settings.setup_ttl).await;
    if cached {
        j.notes
            .push("which rules' points count: plans from the warm cache".to_string());
    }
    // A point AWS still describes while deleting it was good until this call.
    let described = described.map(|mut p| {
        if p.status == policy::facts::PointStatus::Deleting {
            p.status = policy::facts::PointStatus::Available;
        }
        p
    });
    let facts = table_facts(&table, created);
    let verdict = judge_point_removal(
        PointRemoval {
            table: &facts,
            point_arn,
            removed: described.as_ref(),
            remaining: &remaining,
            setup: &setup,
        },
        &deps.policy,
        // Judged at the call's time: what the removal cost then (and a replay judges the same).
        event.at.unwrap_or_else(Timestamp::now),
    );
    j.impact(
        Some((&table.arn, &table.name)),
        verdict.severity,
        verdict.summary,
    );
    j.findings = verdict.findings;
}

async fn lifecycle_change(
    j: &mut Judged,
    vault: &str,
    point_arn: &str,
    asked: &LifecycleAsked,
    deps: &Deps,
    ctx: &AwsContext,
) {
    let p = match changes::point(ctx.backup(), vault, point_arn).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            j.table = point_table(point_arn, None);
            j.impact(None, Severity::High, format!("UNVERIFIABLE: AWS no longer describes the point {point_arn}, so its lifecycle cannot be checked; run the recovery verifier (backup-guard audit)."));
            return;
        }
        Err(e) => {
            return j.unverifiable(
                "the recovery point",
                &e,
                "check its lifecycle by hand (aws backup describe-recovery-point)",
            );
        }
    };
    j.check.after = Some(format!(
        "asked DeleteAfterDays {}, MoveToColdStorageAfterDays {}; AWS now says {}",
        asked
            .delete_after_days
            .map_or("none".to_string(), |d| d.to_string()),
        asked
            .move_to_cold_storage_after_days
            .map_or("none".to_string(), |d| d.to_string()),
        point_words(&p)
    ));
    let Some(table) = point_table(point_arn, Some(&p)) else {
        j.impact(
            None,
            Severity::Info,
            format!("the point is of {}, not a DynamoDB table", p.resource_arn),
        );
        return;
    };
    j.table = Some(table.clone());
    let findings = lifecycle_findings(&table_facts(&table, None), &p, &deps.policy);
    j.impacts_from_findings(&findings);
    j.findings = findings;
    j.check.way_back = vec![format!(
        "aws backup update-recovery-point-lifecycle --backup-vault-name {vault} --recovery-point-arn {point_arn} --lifecycle DeleteAfterDays={}",
        deps.policy.retention_days
    )];
    j.check
        .way_back
        .extend(protect_vault_commands(vault, deps).into_iter().take(1));
}

/// Every table of the region with its tags (`ListTables`, `GetResources`).
async fn all_tables(ctx: &AwsContext) -> Result<Vec<TableFacts>, AwsCallError> {
    let region = ctx.region().unwrap_or_default().to_string();
    let identity = inventory::caller_identity(ctx.sts()).await?;
    // The two paginated listings run side by side (100 tables a page each: at 10,000 tables
    // they are the event's longest chain of calls).
    let (names, tags) = tokio::join!(
        inventory::list_table_names(ctx.dynamodb()),
        inventory::table_tags(ctx.tagging(), &region, &identity.account)
    );
    let (names, tags) = (names?.items, tags?.items);
    Ok(names
        .into_iter()
        .map(|name| TableFacts {
            arn: inventory::table_arn(&identity.partition, &region, &identity.account, &name),
            tags: Fact::Known(tags.get(&name).cloned().unwrap_or_default()),
            name,
            account: identity.account.clone(),
            region: region.clone(),
            created: None,
        })
        .collect())
}

fn plan_words(p: &PlanFacts) -> String {
    let rules: Vec<String> = p
        .rules
        .iter()
        .map(|r| {
            format!(
                "rule {}: {} {}, start {} min, completion {} min, DeleteAfterDays {}, vault {}",
                r.name,
                r.schedule_expression,
                r.schedule_timezone.as_deref().unwrap_or("UTC"),
                r.start_window_minutes
                    .map_or("default".into(), |m| m.to_string()),
                r.completion_window_minutes
                    .map_or("default".into(), |m| m.to_string()),
                r.delete_after_days.map_or("none".into(), |d| d.to_string()),
                r.target_vault
            )
        })
        .collect();
    format!("plan {} ({}): {}", p.name, p.plan_id, rules.join("; "))
}

fn find_plan<'a>(setup: &'a BackupSetup, plan_id: &str) -> Option<&'a PlanFacts> {
    setup.plans.known()?.iter().find(|p| p.plan_id == plan_id)
}

fn selection_words(setup: &BackupSetup, plan_id: &str, selection_id: &str) -> Option<String> {
    let s = setup
        .selections
        .known()?
        .iter()
        .find(|s| s.plan_id == plan_id && s.selection_id == selection_id)?;
    let tags: Vec<String> = s.list_of_tags.iter().map(|t| t.to_string()).collect();
    Some(format!(
        "selection {} ({}): resources [{}], tags [{}]",
        s.name,
        s.selection_id,
        s.resources.join(", "),
        tags.join(", ")
    ))
}

async fn plan_change(
    j: &mut Judged,
    event: &ChangeEvent,
    plan_id: &str,
    selection_id: Option<&str>,
    deps: &Deps,
    ctx: &AwsContext,
) {
    // The plans and the tables are read side by side (the tables are needed for what the
    // change means; a failed table read is reported after the plans are judged).
    let (after, tables) = tokio::join!(
        awsio::backup_setup::read_backup_setup(ctx.backup()),
        all_tables(ctx)
    );
    let before = deps
        .setup_cache
        .replace(&after, event.at.unwrap_or(Timestamp::MIN));
    if let Some((age, _)) = &before {
        j.notes.push(format!(
            "\"before\" is the setup this instance read {} s earlier",
            age.as_secs()
        ));
    }
    let before = before.map(|(_, s)| s);
    if let Fact::Unknown { reason } = &after.plans {
        j.impact(None, Severity::High, format!("UNVERIFIABLE: the backup plans could not be read again ({reason}), so what this change means cannot be judged; check plan {plan_id} by hand (aws backup get-backup-plan)."));
        return;
    }
    describe_plan_change(
        j,
        event.name,
        plan_id,
        selection_id,
        before.as_ref(),
        &after,
    );
    let tables = match tables {
        Ok(t) => t,
        Err(e) => {
            return j.unverifiable(
                "the tables and their tags",
                &e,
                "run backup-guard audit to see which tables lost their protection",
            );
        }
    };
    let losses = coverage_losses(&tables, before.as_ref(), &after, &deps.policy);
    if before.is_none() && !losses.is_empty() {
        j.notes.push("the setup before the change was not cached: every table not protected now is listed, whether or not this change did it".to_string());
    }
    for l in &losses {
        j.impact(
            Some((&l.table_arn, &l.table_name)),
            l.finding.severity,
            format!(
                "{}{}: {}",
                l.before
                    .as_ref()
                    .map(|b| format!("was {b}, now "))
                    .unwrap_or_default(),
                l.after,
                l.finding.message
            ),
        );
    }
    j.findings = losses.into_iter().map(|l| l.finding).collect();
    if let Some(p) = find_plan(&after, plan_id) {
        let conf = policy::conformance::check_plan(p, &deps.policy);
        if !conf.conforms()
            && before
                .as_ref()
                .and_then(|b| find_plan(b, plan_id))
                .is_none_or(|b| policy::conformance::check_plan(b, &deps.policy).conforms())
        {
            let why: Vec<String> = conf
                .rules
                .iter()
                .flat_map(|r| r.deviations.iter().map(|d| d.describe()))
                .collect();
            j.impact(
                None,
                Severity::Warning,
                format!(
                    "plan {} no longer conforms to the policy: {}",
                    p.name,
                    why.join("; ")
                ),
            );
        }
    }
    j.check.way_back = plan_way_back(
        event.name,
        plan_id,
        selection_id,
        before.as_ref(),
        &after,
        deps,
    );
}

fn describe_plan_change(
    j: &mut Judged,
    name: ChangeName,
    plan_id: &str,
    selection_id: Option<&str>,
    before: Option<&BackupSetup>,
    after: &BackupSetup,
) {
    match (name, selection_id) {
        (ChangeName::CreateBackupSelection | ChangeName::DeleteBackupSelection, Some(s)) => {
            j.check.before = before.and_then(|b| selection_words(b, plan_id, s));
            j.check.after = Some(
                selection_words(after, plan_id, s).unwrap_or_else(|| "no such selection".into()),
            );
        }
        _ => {
            j.check.before = before.and_then(|b| find_plan(b, plan_id)).map(plan_words);
            j.check.after = Some(
                find_plan(after, plan_id)
                    .map(plan_words)
                    .unwrap_or_else(|| format!("plan {plan_id} no longer exists")),
            );
        }
    }
}

fn plan_way_back(
    name: ChangeName,
    plan_id: &str,
    selection_id: Option<&str>,
    before: Option<&BackupSetup>,
    after: &BackupSetup,
    deps: &Deps,
) -> Vec<String> {
    let policy = &deps.policy;
    let known = find_plan(after, plan_id).or_else(|| before.and_then(|b| find_plan(b, plan_id)));
    let plan_name = known.map_or(plan_id, |p| p.name.as_str());
    let vault = known
        .and_then(|p| p.rules.first())
        .map(|r| r.target_vault.clone())
        .or_else(|| policy.vault_name.clone())
        .unwrap_or_else(|| "<vault>".to_string());
    let doc = shell_quote(&policy_plan_json(policy, plan_name, &vault));
    let tag = &policy.backup_tag;
    let selection = shell_quote(&serde_json::json!({
        "SelectionName": "policy-tagged-tables",
        "IamRoleArn": "<the AWS Backup role ARN>",
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": tag.key, "ConditionValue": tag.value}],
    }).to_string());
    let mut out = match name {
        ChangeName::UpdateBackupPlan => vec![format!(
            "aws backup update-backup-plan --backup-plan-id {plan_id} --backup-plan {doc}"
        )],
        ChangeName::DeleteBackupPlan => vec![
            format!("aws backup create-backup-plan --backup-plan {doc}"),
            format!(
                "aws backup create-backup-selection --backup-plan-id <the new plan's id> --backup-selection {selection}"
            ),
        ],
        ChangeName::CreateBackupSelection => vec![format!(
            "aws backup delete-backup-selection --backup-plan-id {plan_id} --selection-id {}",
            selection_id.unwrap_or("<selection id>")
        )],
        _ => vec![format!(
            "aws backup create-backup-selection --backup-plan-id {plan_id} --backup-selection {selection}"
        )],
    };
    if let Some(stack) = &deps.settings.stack_name
        && plan_name.starts_with(&format!("{stack}-"))
    {
        out.push(format!(
            "The plan belongs to stack {stack}: after the command, check it matches its template with `aws cloudformation detect-stack-drift --stack-name {stack}` (a `sam deploy` of an unchanged template does not put an out-of-band change back)."
        ));
    }
    out
}

/// The tables with points in `vault` and their points (`ListRecoveryPointsByBackupVault`).
async fn vault_tables(
    ctx: &AwsContext,
    vault: &str,
    deps: &Deps,
) -> Result<Vec<(TableFacts, Vec<RecoveryPointFacts>)>, AwsCallError> {
    let since = Timestamp::now()
        .checked_sub(deps.policy.retention())
        .and_then(|t| t.checked_sub(jiff::SignedDuration::from_hours(24)))
        .unwrap_or(Timestamp::MIN);
    let points = inventory::vault_recovery_points(ctx.backup(), vault, since).await?;
    let grouped = inventory::group_by_resource(points.points);
    Ok(grouped
        .into_iter()
        .filter_map(|(arn, ps)| {
            TableRef::parse_arn(&arn, "ResourceArn")
                .ok()
                .map(|t| (table_facts(&t, None), ps))
        })
        .collect())
}

/// Judges one aspect (`access-policy`, `lock`, `key`) of the vaults in `index` for every
/// table with points in them.
async fn judge_vaults(
    j: &mut Judged,
    index: &VaultIndex,
    aspect: &str,
    deps: &Deps,
    ctx: &AwsContext,
) -> bool {
    let mut findings = Vec::new();
    let mut any_table = false;
    for name in index.keys() {
        let tables = match vault_tables(ctx, name, deps).await {
            Ok(t) => t,
            Err(e) => {
                j.unverifiable(
                    &format!("the recovery points of vault {name}"),
                    &e,
                    "run backup-guard audit",
                );
                return true;
            }
        };
        for (t, points) in tables {
            any_table = true;
            findings.extend(
                vault_findings(&t, &points, index, &deps.policy)
                    .into_iter()
                    .filter(|f| {
                        f.subject
                            .as_deref()
                            .is_some_and(|s| s.ends_with(&format!(":{aspect}")))
                    }),
            );
        }
    }
    j.impacts_from_findings(&findings);
    j.findings.extend(findings);
    any_table
}

fn vault_facts(
    v: &awsio::vault::VaultListing,
    policy: Fact<Option<String>>,
    key: Fact<KeyState>,
) -> VaultFacts {
    VaultFacts {
        name: v.name.clone(),
        arn: v.arn.clone(),
        lock: Fact::Known(v.lock.clone()),
        encryption_key_arn: v.encryption_key_arn.clone(),
        access_policy: policy,
        key_state: key,
    }
}

async fn vault_protection(
    j: &mut Judged,
    name: ChangeName,
    vault: &str,
    deps: &Deps,
    ctx: &AwsContext,
) {
    let v = match changes::describe_vault(ctx.backup(), vault).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return j.impact(
                None,
                Severity::Info,
                format!("vault {vault} no longer exists"),
            );
        }
        Err(e) => {
            return j.unverifiable(
                &format!("vault {vault}"),
                &e,
                "check the vault by hand (aws backup describe-backup-vault)",
            );
        }
    };
    let (facts, aspect) = if name == ChangeName::DeleteBackupVaultLockConfiguration {
        j.check.after = Some(if v.lock.locked {
            "still locked".to_string()
        } else {
            "no Vault Lock".to_string()
        });
        (
            vault_facts(
                &v,
                Fact::unknown("not judged for this event"),
                Fact::unknown("not judged for this event"),
            ),
            "lock",
        )
    } else {
        let doc = match awsio::vault::vault_access_policy(ctx.backup(), vault).await {
            Ok(d) => d,
            Err(e) => {
                return j.unverifiable(
                    &format!("the access policy of vault {vault}"),
                    &e,
                    "check it by hand (aws backup get-backup-vault-access-policy)",
                );
            }
        };
        j.check.after = Some(match &doc {
            None => "no access policy (nothing is denied)".to_string(),
            Some(d) => {
                let denied =
                    policy::vault::denied_deletion_actions(d, v.arn.as_deref()).unwrap_or_default();
                format!(
                    "the policy denies {} of {}",
                    denied.len(),
                    policy::vault::DELETION_ACTIONS.join(", ")
                )
            }
        });
        (
            vault_facts(
                &v,
                Fact::Known(doc),
                Fact::unknown("not judged for this event"),
            ),
            "access-policy",
        )
    };
    let index: VaultIndex = [(vault.to_string(), facts)].into_iter().collect();
    let any = judge_vaults(j, &index, aspect, deps, ctx).await;
    if aspect == "lock" && !v.lock.locked {
        j.check.way_back = protect_vault_commands(vault, deps).split_off(1);
        if j.check.impacts.is_empty() {
            j.impact(None, Severity::Warning, format!("vault {vault} has no Vault Lock any more (the policy does not require one{}): anyone with enough permissions can delete its points early", if any { "" } else { "; it holds no DynamoDB points yet" }));
        }
    } else if aspect == "access-policy" {
        j.check.way_back = protect_vault_commands(vault, deps)
            .into_iter()
            .take(1)
            .collect();
    }
}

async fn vault_deleted(j: &mut Judged, vault: &str, deps: &Deps, ctx: &AwsContext) {
    match changes::describe_vault(ctx.backup(), vault).await {
        Ok(None) => j.check.after = Some("the vault no longer exists".to_string()),
        Ok(Some(_)) => {
            return j.impact(None, Severity::Info, format!("vault {vault} still exists"));
        }
        Err(e) => return j.unverifiable(&format!("vault {vault}"), &e, "check the vault by hand"),
    }
    let setup = awsio::backup_setup::read_backup_setup(ctx.backup()).await;
    deps.setup_cache.replace(&setup, Timestamp::MIN);
    let Some(plans) = setup.plans.known() else {
        return j.impact(None, Severity::High, format!("UNVERIFIABLE: the backup plans could not be read, so which plans target vault {vault} cannot be told."));
    };
    let targeting: Vec<String> = plans
        .iter()
        .filter(|p| p.rules.iter().any(|r| r.target_vault == vault))
        .map(|p| p.name.clone())
        .collect();
    if targeting.is_empty() {
        return j.impact(
            None,
            Severity::Info,
            format!("no backup plan targets vault {vault}"),
        );
    }
    // Rules whose vault is gone make no recovery points: the coverage without them.
    let mut without = setup.clone();
    if let Fact::Known(ps) = &mut without.plans {
        for p in ps.iter_mut() {
            p.rules.retain(|r| r.target_vault != vault);
        }
    }
    let tables = match all_tables(ctx).await {
        Ok(t) => t,
        Err(e) => return j.unverifiable("the tables and their tags", &e, "run backup-guard audit"),
    };
    let losses = coverage_losses(&tables, Some(&setup), &without, &deps.policy);
    for l in &losses {
        j.impact(
            Some((&l.table_arn, &l.table_name)),
            Severity::Critical,
            format!(
                "its next backups will fail: plan {} targets vault {vault}, which no longer exists",
                targeting.join(", ")
            ),
        );
    }
    if losses.is_empty() {
        j.impact(
            None,
            Severity::High,
            format!(
                "plan {} targets vault {vault}, which no longer exists: its backups will fail",
                targeting.join(", ")
            ),
        );
    }
    j.findings = losses
        .into_iter()
        .map(|mut l| {
            l.finding.severity = Severity::Critical;
            l.finding
        })
        .collect();
    j.check.way_back = vec![format!(
        "aws backup create-backup-vault --backup-vault-name {vault} --encryption-key-arn <the vault's KMS key ARN>"
    )];
    j.check.way_back.extend(protect_vault_commands(vault, deps));
}

async fn job_stopped(
    j: &mut Judged,
    event: &ChangeEvent,
    job_id: &str,
    deps: &Deps,
    ctx: &AwsContext,
) {
    let job = match changes::describe_backup_job(ctx.backup(), job_id).await {
        Ok(Some(job)) => job,
        Ok(None) => return j.impact(None, Severity::High, format!("UNVERIFIABLE: AWS does not describe backup job {job_id}, so which table and slot it was for cannot be told.")),
        Err(e) => return j.unverifiable(&format!("backup job {job_id}"), &e, "check the job by hand (aws backup describe-backup-job)"),
    };
    j.check.after = Some(format!("state {}", job.state.as_api()));
    if job.resource_type.as_deref() != Some("DynamoDB") {
        return j.impact(
            None,
            Severity::Info,
            format!(
                "the job backs up {}, not a DynamoDB table",
                job.resource_type
                    .as_deref()
                    .unwrap_or("an unknown resource type")
            ),
        );
    }
    let Some(table) = job
        .resource_arn
        .as_deref()
        .and_then(|a| TableRef::parse_arn(a, "ResourceArn").ok())
    else {
        return j.impact(
            None,
            Severity::High,
            format!("UNVERIFIABLE: backup job {job_id} names no DynamoDB table"),
        );
    };
    j.table = Some(table.clone());
    let ended = policy::backup_job::EndedJob {
        job_id: job.job_id.clone(),
        table_arn: table.arn.clone(),
        table_name: table.name.clone(),
        state: policy::facts::JobState::Aborted,
        created: job.created,
        completed: job.completed,
        status_message: job.status_message.clone(),
        plan_id: job.plan_id.clone(),
        rule_id: job.rule_id.clone(),
    };
    let at = event.at.unwrap_or_else(Timestamp::now);
    let v = policy::backup_job::judge_ended_job(&deps.policy, &ended, at);
    let window = v
        .window
        .map(|w| format!(" ({})", w.describe()))
        .unwrap_or_default();
    j.impact(
        Some((&table.arn, &table.name)),
        v.severity,
        format!(
            "the backup was stopped: {}{window}",
            v.placement.describe(deps.policy.start_window())
        ),
    );
    j.findings = vec![v.finding];
    j.check.way_back = vec!["AWS Backup does not run a stopped job again: unless another job of the plan's rule completes within the slot's windows, the slot is MISSED_SLOT (an on-demand backup does not stand in for it). Find out why the job was stopped, and deny backup:StopBackupJob to people who should not stop policy backups.".to_string()];
}

async fn key_change(
    j: &mut Judged,
    event: &ChangeEvent,
    key_id: &str,
    deps: &Deps,
    ctx: &AwsContext,
) {
    let key = match changes::describe_key(ctx.kms(), key_id).await {
        Ok(Some(k)) => k,
        Ok(None) => KeyFacts {
            arn: key_id.to_string(),
            state: KeyState::NotFound,
            deletion_date: None,
        },
        Err(e) => {
            return j.unverifiable(
                &format!("KMS key {key_id}"),
                &e,
                "check the key by hand (aws kms describe-key)",
            );
        }
    };
    j.check.after = Some(format!(
        "key {} is {}{}",
        key.arn,
        key.state.as_api(),
        key.deletion_date
            .map(|d| format!(", deleted at {d}"))
            .unwrap_or_default()
    ));
    let vaults = match awsio::vault::list_vaults(ctx.backup()).await {
        Ok(v) => v.items,
        Err(e) => {
            return j.unverifiable(
                "the backup vaults",
                &e,
                "check which vaults use the key (aws backup list-backup-vaults)",
            );
        }
    };
    let using: Vec<&awsio::vault::VaultListing> = vaults
        .iter()
        .filter(|v| {
            v.encryption_key_arn.as_deref() == Some(key.arn.as_str())
                || v.encryption_key_arn.as_deref() == Some(key_id)
        })
        .collect();
    if using.is_empty() {
        return j.impact(
            None,
            Severity::Info,
            format!("no backup vault uses key {}", key.arn),
        );
    }
    let problems = if event.name == ChangeName::PutKeyPolicy {
        let account = key.arn.split(':').nth(4).unwrap_or_default().to_string();
        match changes::key_policy(ctx.kms(), key_id).await {
            Ok(doc) => key_policy_problems(&doc, &account).unwrap_or_else(|e| vec![e]),
            Err(e) => {
                return j.unverifiable(
                    &format!("the key policy of {}", key.arn),
                    &e,
                    "check it by hand (aws kms get-key-policy --policy-name default)",
                );
            }
        }
    } else {
        Vec::new()
    };
    // A key policy that locks AWS Backup out makes the key as unusable as a disabled one.
    let state = if problems.is_empty() {
        key.state.clone()
    } else {
        KeyState::Other(format!(
            "Enabled, but its key policy keeps AWS Backup out: {}",
            problems.join("; ")
        ))
    };
    let index: VaultIndex = using
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                vault_facts(
                    v,
                    Fact::unknown("not judged for this event"),
                    Fact::Known(state.clone()),
                ),
            )
        })
        .collect();
    let any = judge_vaults(j, &index, "key", deps, ctx).await;
    let names: Vec<&str> = using.iter().map(|v| v.name.as_str()).collect();
    if !any && (state != KeyState::Enabled) {
        j.impact(
            None,
            Severity::High,
            format!(
                "vault {} uses key {}, which AWS Backup cannot use now: its next backups will fail",
                names.join(", "),
                key.arn
            ),
        );
    }
    j.check.way_back = key_way_back(event.name, &key.arn);
}

/// The commands that make the key usable again.
fn key_way_back(name: ChangeName, key_arn: &str) -> Vec<String> {
    match name {
        ChangeName::ScheduleKeyDeletion => vec![
            format!("aws kms cancel-key-deletion --key-id {}", key_arn),
            format!(
                "aws kms enable-key --key-id {} (cancelling a deletion leaves the key disabled)",
                key_arn
            ),
        ],
        ChangeName::DisableKey => vec![format!("aws kms enable-key --key-id {}", key_arn)],
        _ => vec![format!(
            "aws kms put-key-policy --key-id {} --policy-name default --policy file://key-policy.json, with a policy that again allows kms:* to arn:aws:iam::{}:root (or kms:Decrypt, kms:GenerateDataKey, kms:CreateGrant and kms:DescribeKey to the AWS Backup role) and denies none of them to everyone",
            key_arn,
            key_arn.split(':').nth(4).unwrap_or("<account>")
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_a_point_comes_from_aws_or_from_a_dynamodb_backup_arn() {
        let arn =
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/backup/01700000000000-abcdef12";
        assert_eq!(
            point_table(arn, None).map(|t| t.name),
            Some("orders".to_string())
        );
        assert!(
            point_table(
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:X",
                None
            )
            .is_none()
        );
    }
}
