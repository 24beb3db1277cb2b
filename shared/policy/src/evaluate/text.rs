//! The text people read: every finding's message and remedy, built from what the evaluation
//! decided. Nothing here decides compliance. Plans, rules and selections are named by their
//! names; their ids stay in the finding subjects and the JSON (a plan that is not among the
//! plans read has no name here and is named by its id).

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::config::{Policy, RequiredTag};
use crate::conformance::PlanConformance;
use crate::facts::{JobFacts, RecoveryPointFacts, TableFacts};
use crate::findings::{Finding, FindingCode};
use crate::retention::RetentionIssue;
use crate::selection::SelectionOutcome;
use crate::slots::{NearMiss, NearMissReason, SlotResult, SlotStatus};

use super::types::Coverage;

/// The plans read, by id, to name a plan by its name.
pub(super) type Plans = BTreeMap<String, PlanConformance>;

/// `plan <name>`: the plan's name when it is among the plans read and has one, else its id.
pub(super) fn plan_label(plans: &Plans, plan_id: &str) -> String {
    match plans.get(plan_id) {
        Some(pc) if !pc.plan_name.trim().is_empty() => format!("plan {}", pc.plan_name),
        _ => format!("plan {plan_id}"),
    }
}

/// `TAG_VALUE_NOT_ALLOWED` for the required tag `req` whose value `value` is not allowed.
pub(super) fn tag_value_not_allowed(table: &TableFacts, req: &RequiredTag, value: &str) -> Finding {
    Finding::new(
        FindingCode::TagValueNotAllowed,
        &table.arn,
        &table.name,
        Some(req.key.clone()),
        format!(
            "Table {} has tag {}={:?}, which is not one of the allowed values ({}).",
            table.name,
            req.key,
            value,
            req.allowed_values.join(", ")
        ),
        Some(format!(
            "Set tag {} to one of: {}.",
            req.key,
            req.allowed_values.join(", ")
        )),
    )
}

/// `MISSING_TAG` for the required tag `req` that is absent or blank.
pub(super) fn missing_tag(table: &TableFacts, req: &RequiredTag) -> Finding {
    Finding::new(
        FindingCode::MissingTag,
        &table.arn,
        &table.name,
        Some(req.key.clone()),
        format!(
            "Table {} has no (or a blank) required tag {}.",
            table.name, req.key
        ),
        Some(if req.allowed_values.is_empty() {
            format!("Add tag {} with a non-blank value.", req.key)
        } else {
            format!(
                "Add tag {} with one of: {}.",
                req.key,
                req.allowed_values.join(", ")
            )
        }),
    )
}

/// `UNVERIFIABLE` (subject `tags`): the table's tags could not be read.
pub(super) fn tags_unknown(table: &TableFacts, reason: &str) -> Finding {
    Finding::new(
        FindingCode::Unverifiable,
        &table.arn,
        &table.name,
        Some("tags".to_string()),
        format!(
            "The tags of table {} could not be read ({reason}): cannot tell whether it is exempt, carries its required tags or is selected for backup.",
            table.name
        ),
        Some("Grant dynamodb:ListTagsOfResource / tag:GetResources and re-run.".to_string()),
    )
}

/// `EXEMPT`: the table carries the exemption tag and the non-blank `reason`.
pub(super) fn exempt(table: &TableFacts, policy: &Policy, reason: &str) -> Finding {
    Finding::new(
        FindingCode::Exempt,
        &table.arn,
        &table.name,
        None,
        format!(
            "Table {} is exempt from the backup policy ({}={}): {reason}",
            table.name, policy.exempt_tag.key, policy.exempt_tag.value
        ),
        None,
    )
}

/// `EXEMPT_WITHOUT_REASON`: the exemption tag without a (non-blank) reason tag.
pub(super) fn exempt_without_reason(table: &TableFacts, policy: &Policy) -> Finding {
    Finding::new(
        FindingCode::ExemptWithoutReason,
        &table.arn,
        &table.name,
        None,
        format!(
            "Table {} carries the exemption tag {} but no (or a blank) {} tag, so it is not exempt.",
            table.name, policy.exempt_tag, policy.exempt_reason_tag
        ),
        Some(format!(
            "Either add a non-blank {} tag explaining the exemption, or remove the {} tag.",
            policy.exempt_reason_tag, policy.exempt_tag
        )),
    )
}

/// The coverage finding, if the coverage is not [`Coverage::Protected`]: `UNVERIFIABLE`
/// (subject `coverage`), `PLAN_DRIFT` (subject: the plan ids) or `NOT_COVERED`. `remediation`
/// is the tag that would make the table covered, if there is one (the remedy then names it).
pub(super) fn coverage_finding(
    table: &TableFacts,
    coverage: &Coverage,
    policy: &Policy,
    plans: &Plans,
    remediation: Option<(String, String)>,
) -> Option<Finding> {
    match coverage {
        Coverage::Protected { .. } => None,
        Coverage::Unknown { reason } => Some(Finding::new(
            FindingCode::Unverifiable,
            &table.arn,
            &table.name,
            Some("coverage".to_string()),
            format!(
                "Whether table {} is selected by a conforming backup plan cannot be decided: {reason}.",
                table.name
            ),
            Some("Grant backup:ListBackupPlans/GetBackupPlan/ListBackupSelections/GetBackupSelection and re-run.".to_string()),
        )),
        Coverage::DriftedOnly { covers } => {
            let mut described: Vec<String> = Vec::new();
            let mut ids: Vec<&str> = Vec::new();
            for c in covers {
                if ids.contains(&c.plan_id.as_str()) {
                    continue;
                }
                ids.push(&c.plan_id);
                let rules: Vec<String> = c
                    .plan
                    .rules
                    .iter()
                    .map(|r| {
                        let devs: Vec<String> =
                            r.deviations.iter().map(|d| d.describe()).collect();
                        format!("rule {}: {}", r.rule_name, devs.join("; "))
                    })
                    .collect();
                let rules = if rules.is_empty() {
                    "the plan has no rules".to_string()
                } else {
                    rules.join(" | ")
                };
                described.push(format!(
                    "{} (via selection {}): {rules}",
                    plan_label(plans, &c.plan_id),
                    c.selection_name
                ));
            }
            ids.sort_unstable();
            Some(Finding::new(
                FindingCode::PlanDrift,
                &table.arn,
                &table.name,
                Some(ids.join(",")),
                format!(
                    "Table {} is backed up only by plans that deviate from the policy: {}.",
                    table.name,
                    described.join("; ")
                ),
                Some(format!(
                    "Fix the plan rule to {}, or assign the table to a conforming plan.",
                    policy_rule_summary(policy)
                )),
            ))
        }
        Coverage::NotCovered { selections } => {
            let why = if selections.is_empty() {
                "the account has no backup selections".to_string()
            } else {
                selections
                    .iter()
                    .map(|m| {
                        let plan = plan_label(plans, &m.plan_id);
                        match &m.outcome {
                            SelectionOutcome::NotCovered { reason } => {
                                format!("selection {} ({plan}): {reason}", m.selection_name)
                            }
                            SelectionOutcome::Undecidable { reason } => format!(
                                "selection {} ({plan}): undecided, {reason}",
                                m.selection_name
                            ),
                            SelectionOutcome::Covered { .. } => format!(
                                "selection {} ({plan}) covers it but the plan is not conforming",
                                m.selection_name
                            ),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let remedy = match remediation {
                Some((k, v)) => format!(
                    "Add the tag {k}={v} to the table (the table guard does this in enforce mode)."
                ),
                None => format!(
                    "Assign the table to a backup plan whose rule is {} (e.g. through its selection), or exempt it with {} and a {} tag.",
                    policy_rule_summary(policy),
                    policy.exempt_tag,
                    policy.exempt_reason_tag
                ),
            };
            Some(Finding::new(
                FindingCode::NotCovered,
                &table.arn,
                &table.name,
                None,
                format!(
                    "Table {} is not selected by any conforming backup plan: {why}.",
                    table.name
                ),
                Some(remedy),
            ))
        }
    }
}

/// The policy's rule in one line (schedule, windows, retention, cold storage, vault), for
/// remedies that say what a plan rule must be.
fn policy_rule_summary(policy: &Policy) -> String {
    let vault = match &policy.vault_name {
        Some(v) => format!(", vault {v}"),
        None => String::new(),
    };
    format!(
        "{} ({}), start window ≤ {} min, completion window ≤ {} min, DeleteAfterDays = {}, no cold storage{vault}",
        policy.schedule_expression(),
        policy.timezone(),
        policy.start_window_minutes,
        policy.completion_window_minutes,
        policy.retention_days
    )
}

/// `MISSED_SLOT` (subject: the slot instant) with the nearby points that did not count.
pub(super) fn missed_slot(
    table: &TableFacts,
    r: &SlotResult,
    near_misses: &[NearMiss],
    plans: &Plans,
) -> Finding {
    let slot = &r.slot;
    let mut message = format!(
        "Table {} has no conforming backup for the scheduled time {} (must start by {} and complete by {}).",
        table.name, slot.at, slot.start_deadline, slot.completion_deadline
    );
    if !near_misses.is_empty() {
        let nm: Vec<String> = near_misses
            .iter()
            .map(|n| {
                format!(
                    "{} created {} {}",
                    n.point_arn,
                    n.created,
                    near_miss_phrase(&n.reason, plans)
                )
            })
            .collect();
        message.push_str(&format!(
            " Nearby points that do not count: {}.",
            nm.join("; ")
        ));
    }
    Finding::new(
        FindingCode::MissedSlot,
        &table.arn,
        &table.name,
        Some(slot.at.to_string()),
        message,
        Some(
            "Find out why AWS Backup did not back up the table in this window (backup jobs, IAM role, vault access, plan changes); a missed slot cannot be made up, so make sure the next one is taken."
                .to_string(),
        ),
    )
}

/// A short phrase for a near-miss reason; a non-conforming creator is named by its plan id
/// (the findings themselves name the plan by its name when it was read).
pub fn near_miss_text(reason: &NearMissReason) -> String {
    near_miss_phrase(reason, &Plans::new())
}

/// A short phrase for a near-miss reason, naming a non-conforming creator plan by its name
/// when it is among `plans`.
fn near_miss_phrase(reason: &NearMissReason, plans: &Plans) -> String {
    match reason {
        NearMissReason::CreatedBeforeSlot => "before the scheduled time".to_string(),
        NearMissReason::CreatedAfterStartWindow => "after the start window".to_string(),
        NearMissReason::NotCompleted => "but never completed".to_string(),
        NearMissReason::CompletedLate => "but completed after the completion window".to_string(),
        NearMissReason::BadStatus { status } => format!("with status {status}"),
        NearMissReason::OnDemand => "on demand (manual backups never count)".to_string(),
        NearMissReason::NonConformingCreator { plan_id } => {
            format!("by non-conforming {}", plan_label(plans, plan_id))
        }
    }
}

/// `PENDING_FIRST_BACKUP` of the nightly evaluation: the next pending slot (or the next fire
/// time after `now`) is named.
pub(super) fn pending_first_backup(
    table: &TableFacts,
    slots: &[SlotResult],
    policy: &Policy,
    now: Timestamp,
) -> Finding {
    let next = slots
        .iter()
        .find(|r| matches!(r.status, SlotStatus::Pending))
        .map(|r| r.slot.at)
        .or_else(|| policy.schedule().next_after(now));
    let when = match next {
        Some(t) => format!("at {t}"),
        None => "at the next scheduled time".to_string(),
    };
    Finding::new(
        FindingCode::PendingFirstBackup,
        &table.arn,
        &table.name,
        None,
        format!(
            "Table {} is protected; its first required backup is due {when}.",
            table.name
        ),
        None,
    )
}

/// `PENDING_FIRST_BACKUP` of the table guard's check of a new (or re-tagged) table.
pub(super) fn new_table_pending(table: &TableFacts) -> Finding {
    Finding::new(
        FindingCode::PendingFirstBackup,
        &table.arn,
        &table.name,
        None,
        format!(
            "Table {} is protected; its first backup will be taken at the next scheduled time.",
            table.name
        ),
        None,
    )
}

/// `UNVERIFIABLE` (subject `recovery-points`): the table's recovery points could not be read.
pub(super) fn points_unknown(table: &TableFacts, reason: &str) -> Finding {
    Finding::new(
        FindingCode::Unverifiable,
        &table.arn,
        &table.name,
        Some("recovery-points".to_string()),
        format!(
            "The recovery points of table {} could not be read ({reason}): its backups cannot be verified.",
            table.name
        ),
        Some("Grant backup:ListRecoveryPointsByBackupVault on every vault and re-run.".to_string()),
    )
}

/// `UNVERIFIABLE` (subject `backup-jobs`): the table's backup jobs could not be read.
pub(super) fn jobs_unknown(table: &TableFacts, reason: &str) -> Finding {
    Finding::new(
        FindingCode::Unverifiable,
        &table.arn,
        &table.name,
        Some("backup-jobs".to_string()),
        format!(
            "The backup jobs of table {} could not be read ({reason}): a failed backup job may be unreported.",
            table.name
        ),
        Some("Grant backup:ListBackupJobs and re-run.".to_string()),
    )
}

/// `UNMANAGED_BACKUP` (subject: the point ARN): a point not made by a conforming rule whose
/// lifecycle differs from the policy's; `lifecycle` describes how.
pub(super) fn unmanaged_backup(
    table: &TableFacts,
    point: &RecoveryPointFacts,
    lifecycle: &str,
    policy: &Policy,
    plans: &Plans,
) -> Finding {
    let origin = match &point.created_by {
        None => "an on-demand (manual) backup".to_string(),
        Some(cb) => format!(
            "made by {}, which does not conform",
            plan_label(plans, &cb.plan_id)
        ),
    };
    Finding::new(
        FindingCode::UnmanagedBackup,
        &table.arn,
        &table.name,
        Some(point.arn.clone()),
        format!(
            "Recovery point {} of table {} (created {}) is {origin}, and its lifecycle is outside the policy: {lifecycle}.",
            point.arn, table.name, point.created
        ),
        Some(format!(
            "Set its retention to {} days (UpdateRecoveryPointLifecycle) or delete it if it is not needed; take backups only through the policy's plan.",
            policy.retention_days
        )),
    )
}

/// A finding with `code` (`RETENTION_TOO_SHORT`, `RETENTION_TOO_LONG`, `COLD_STORAGE_DRIFT` or
/// `BAD_RECOVERY_POINT`; subject: the point ARN) for a point made by a conforming rule; `text`
/// describes the issues of that code.
pub(super) fn point_issue(
    table: &TableFacts,
    point: &RecoveryPointFacts,
    code: FindingCode,
    text: &str,
    policy: &Policy,
) -> Finding {
    let days = policy.retention_days;
    let remedy = match code {
        FindingCode::RetentionTooShort => format!(
            "Set the point's retention to exactly {days} days (UpdateRecoveryPointLifecycle) and find out what shortened it."
        ),
        FindingCode::RetentionTooLong => format!(
            "Set the point's retention to exactly {days} days (UpdateRecoveryPointLifecycle)."
        ),
        FindingCode::ColdStorageDrift => {
            "Remove the cold-storage transition from the point's lifecycle and from the plan rule.".to_string()
        }
        _ => "Check the backup job of this point; a point that is not AVAILABLE cannot be relied on for restore.".to_string(),
    };
    Finding::new(
        code,
        &table.arn,
        &table.name,
        Some(point.arn.clone()),
        format!(
            "Recovery point {} of table {} (created {}): {text}.",
            point.arn, table.name, point.created
        ),
        Some(remedy),
    )
}

/// The descriptions of the `issues` that `pred` selects, joined with `; ` (empty if none).
pub(super) fn describe_issues(
    issues: &[RetentionIssue],
    pred: impl Fn(&RetentionIssue) -> bool,
) -> String {
    issues
        .iter()
        .filter(|i| pred(i))
        .map(RetentionIssue::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `BACKUP_JOB_FAILED` (subject: the job id), naming the job's plan.
pub(super) fn job_failed(table: &TableFacts, job: &JobFacts, plans: &Plans) -> Finding {
    let plan = match &job.plan_id {
        Some(p) => plan_label(plans, p),
        None => "on demand".to_string(),
    };
    let msg = match &job.status_message {
        Some(m) if !m.trim().is_empty() => format!(": {}", m.trim()),
        _ => String::new(),
    };
    Finding::new(
        FindingCode::BackupJobFailed,
        &table.arn,
        &table.name,
        Some(job.job_id.clone()),
        format!(
            "Backup job {} of table {} ({plan}, created {}) ended {}{msg}.",
            job.job_id, table.name, job.created, job.state
        ),
        Some(
            "Check the job's status message, the plan's IAM role and the vault's access policy."
                .to_string(),
        ),
    )
}
