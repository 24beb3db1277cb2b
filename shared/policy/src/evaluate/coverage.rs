//! Coverage: which plans' selections cover a table, whether those plans conform, whether a
//! recovery point was made by a conforming rule, and the tag that would fix a table's coverage.

use std::collections::BTreeMap;

use crate::config::Policy;
use crate::conformance::{PlanConformance, check_plan, schedule_matches_policy};
use crate::facts::{BackupSetup, Fact, RecoveryPointFacts, TableFacts};
use crate::retention::lifecycle_conforms;
use crate::selection::{SelectionOutcome, evaluate_selections};

use super::Evaluator;
use super::types::{Coverage, CoveringRule, DriftedCover};

/// Conformance of every known plan, by plan id (empty when plans are unknown).
pub fn plan_conformance(setup: &BackupSetup, policy: &Policy) -> BTreeMap<String, PlanConformance> {
    match &setup.plans {
        Fact::Known(plans) => plans
            .iter()
            .map(|p| (p.plan_id.clone(), check_plan(p, policy)))
            .collect(),
        Fact::Unknown { .. } => BTreeMap::new(),
    }
}

/// Decides the table's coverage from the account's plans and selections.
///
/// * [`Coverage::Protected`] if a selection covers the table and its plan has a conforming
///   rule (every such plan/selection/rule is listed);
/// * otherwise [`Coverage::Unknown`] if plans or selections are unreadable, or a selection of
///   a conforming plan cannot be decided (tags unknown), or a covering selection's plan is not
///   among the plans read;
/// * otherwise [`Coverage::DriftedOnly`] if selections of non-conforming plans cover it;
/// * otherwise [`Coverage::NotCovered`] with every selection's reason.
pub fn evaluate_coverage(table: &TableFacts, setup: &BackupSetup, policy: &Policy) -> Coverage {
    Evaluator::new(setup, policy).evaluate_coverage(table)
}

pub(super) fn coverage_with(
    table: &TableFacts,
    setup: &BackupSetup,
    conformance: &BTreeMap<String, PlanConformance>,
) -> Coverage {
    if let Fact::Unknown { reason } = &setup.plans {
        return Coverage::Unknown {
            reason: format!("backup plans could not be read: {reason}"),
        };
    }
    let selections = match &setup.selections {
        Fact::Known(s) => s,
        Fact::Unknown { reason } => {
            return Coverage::Unknown {
                reason: format!("backup selections could not be read: {reason}"),
            };
        }
    };
    let matches = evaluate_selections(table, selections);

    let mut by: Vec<CoveringRule> = Vec::new();
    let mut drifted: Vec<DriftedCover> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for m in &matches {
        let plan = conformance.get(&m.plan_id);
        match (&m.outcome, plan) {
            (SelectionOutcome::Covered { .. }, Some(pc)) if pc.conforms() => {
                for r in pc.conforming_rules() {
                    by.push(CoveringRule {
                        plan_id: pc.plan_id.clone(),
                        plan_name: pc.plan_name.clone(),
                        selection_id: m.selection_id.clone(),
                        selection_name: m.selection_name.clone(),
                        rule_id: r.rule_id.clone(),
                        rule_name: r.rule_name.clone(),
                    });
                }
            }
            (SelectionOutcome::Covered { .. }, Some(pc)) => drifted.push(DriftedCover {
                plan_id: pc.plan_id.clone(),
                plan_name: pc.plan_name.clone(),
                selection_id: m.selection_id.clone(),
                selection_name: m.selection_name.clone(),
                plan: pc.clone(),
            }),
            (SelectionOutcome::Covered { .. }, None) => unknown.push(format!(
                "selection {} covers the table but its plan {} is not among the plans read",
                m.selection_name, m.plan_id
            )),
            (SelectionOutcome::Undecidable { reason }, plan)
                if plan.is_none_or(PlanConformance::conforms) =>
            {
                unknown.push(format!(
                    "selection {} ({}) cannot be evaluated: {reason}",
                    m.selection_name,
                    super::text::plan_label(conformance, &m.plan_id)
                ))
            }
            _ => {}
        }
    }
    if !by.is_empty() {
        Coverage::Protected {
            by,
            also_drifted: drifted,
        }
    } else if !unknown.is_empty() {
        Coverage::Unknown {
            reason: unknown.join("; "),
        }
    } else if !drifted.is_empty() {
        Coverage::DriftedOnly { covers: drifted }
    } else {
        Coverage::NotCovered {
            selections: matches,
        }
    }
}

/// Whether a recovery point was made by a conforming plan rule (see the crate docs):
/// its `CreatedBy` names a plan of `conformance` whose rule with that id conforms (or, when
/// the point carries no rule id, the plan conforms), or it carries a rule cron/time zone that
/// is equivalent to the policy schedule and the point's own lifecycle is exactly the policy's.
/// On-demand points (no `CreatedBy`) never are.
pub fn made_by_conforming_rule(
    point: &RecoveryPointFacts,
    conformance: &BTreeMap<String, PlanConformance>,
    policy: &Policy,
) -> bool {
    let Some(cb) = &point.created_by else {
        return false;
    };
    if let Some(pc) = conformance.get(&cb.plan_id) {
        let by_rule = match &cb.rule_id {
            Some(rule_id) => pc
                .rules
                .iter()
                .any(|r| r.rule_id.as_ref() == Some(rule_id) && r.conforms()),
            None => pc.conforms(),
        };
        if by_rule {
            return true;
        }
    }
    match &cb.rule_cron {
        Some(cron) => {
            schedule_matches_policy(cron, cb.rule_timezone.as_deref(), policy)
                && lifecycle_conforms(point, policy)
        }
        None => false,
    }
}

/// The tag that would fix the table's coverage: the policy's backup tag `(key, value)`,
/// returned only if the table's tags are known, it does not carry the exemption tag (with or
/// without reason: a human must decide), it is not already protected, and adding the tag
/// would make a selection of a conforming plan cover it.
pub fn remediation_tag(
    table: &TableFacts,
    setup: &BackupSetup,
    policy: &Policy,
) -> Option<(String, String)> {
    Evaluator::new(setup, policy).remediation_tag(table)
}

pub(super) fn remediation_with(
    table: &TableFacts,
    setup: &BackupSetup,
    policy: &Policy,
    conformance: &BTreeMap<String, PlanConformance>,
) -> Option<(String, String)> {
    let Fact::Known(tags) = &table.tags else {
        return None;
    };
    if tags.get(&policy.exempt_tag.key) == Some(&policy.exempt_tag.value) {
        return None;
    }
    if matches!(
        coverage_with(table, setup, conformance),
        Coverage::Protected { .. }
    ) {
        return None;
    }
    let mut tagged = table.clone();
    let mut new_tags = tags.clone();
    new_tags.insert(
        policy.backup_tag.key.clone(),
        policy.backup_tag.value.clone(),
    );
    tagged.tags = Fact::Known(new_tags);
    match coverage_with(&tagged, setup, conformance) {
        Coverage::Protected { .. } => Some((
            policy.backup_tag.key.clone(),
            policy.backup_tag.value.clone(),
        )),
        _ => None,
    }
}
