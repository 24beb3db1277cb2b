//! Per-table evaluation: coverage, slots, retention, jobs, tags → findings and a verdict.
//!
//! See the crate documentation for the full rules; the entry points are
//! [`evaluate_table`] (nightly verifier), [`evaluate_new_table`] (table guard: tags and
//! coverage only), [`evaluate_coverage`], [`check_tags`], [`exemption`] and
//! [`remediation_tag`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::conformance::{PlanConformance, check_plan, schedule_matches_policy};
use crate::facts::{BackupSetup, Fact, JobFacts, RecoveryPointFacts, TableFacts};
use crate::findings::{Finding, FindingCode};
use crate::retention::{RetentionIssue, check_point_at, lifecycle_conforms};
use crate::selection::{SelectionMatch, SelectionOutcome, evaluate_selections};
use crate::slots::{
    NearMiss, NearMissReason, Slot, SlotResult, SlotStatus, classify_slots, required_slots,
};

/// The verdict for one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Protected, every required slot satisfied, every policy point within the policy.
    Compliant,
    /// At least one finding that breaks compliance.
    NonCompliant,
    /// Exempt (exemption tag with a non-blank reason).
    Exempt,
    /// Protected, nothing wrong, but the first required backup is still to come.
    Pending,
    /// Something needed for a verdict could not be read, and nothing known is wrong.
    Unverifiable,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 5] = [
        Verdict::Compliant,
        Verdict::NonCompliant,
        Verdict::Exempt,
        Verdict::Pending,
        Verdict::Unverifiable,
    ];

    /// Lower-case word with dashes (`non-compliant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::NonCompliant => "non-compliant",
            Verdict::Exempt => "exempt",
            Verdict::Pending => "pending",
            Verdict::Unverifiable => "unverifiable",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plan/selection/rule combination that protects a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveringRule {
    /// Plan id.
    pub plan_id: String,
    /// Plan name.
    pub plan_name: String,
    /// Selection id.
    pub selection_id: String,
    /// Selection name.
    pub selection_name: String,
    /// Rule id of a conforming rule.
    pub rule_id: Option<String>,
    /// Rule name of a conforming rule.
    pub rule_name: String,
}

/// A selection that covers the table but whose plan has no conforming rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftedCover {
    /// Plan id.
    pub plan_id: String,
    /// Plan name.
    pub plan_name: String,
    /// Selection id.
    pub selection_id: String,
    /// Selection name.
    pub selection_name: String,
    /// The plan's rules and their deviations.
    pub plan: PlanConformance,
}

/// Whether and by what a table is protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "coverage")]
pub enum Coverage {
    /// Covered by at least one selection of a plan with a conforming rule.
    Protected {
        /// Every conforming (plan, selection, rule) that covers the table.
        by: Vec<CoveringRule>,
        /// Drifted plans that also cover the table (for information).
        also_drifted: Vec<DriftedCover>,
    },
    /// Covered only by selections of plans without a conforming rule.
    DriftedOnly {
        /// The covering drifted plans and their deviations.
        covers: Vec<DriftedCover>,
    },
    /// No selection covers the table.
    NotCovered {
        /// Per selection, why it does not cover the table.
        selections: Vec<SelectionMatch>,
    },
    /// Could not be decided (plans/selections/tags unreadable, or a covering selection's plan
    /// is missing).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A table's exemption state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "exemption")]
pub enum Exemption {
    /// No exemption tag.
    NotExempt,
    /// Exemption tag and a non-blank reason.
    Exempt {
        /// The reason tag's value.
        reason: String,
    },
    /// Exemption tag without a (non-blank) reason: not exempt.
    WithoutReason,
    /// Tags could not be read.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// Everything the policy concluded about one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEvaluation {
    /// The table as evaluated.
    pub table: TableFacts,
    /// The verdict.
    pub verdict: Verdict,
    /// Coverage.
    pub coverage: Coverage,
    /// Required slots and their states (empty for [`evaluate_new_table`] and exempt tables).
    pub slots: Vec<SlotResult>,
    /// Findings, sorted by descending severity then code then subject.
    pub findings: Vec<Finding>,
    /// Remarks that are not findings (e.g. the plans that also cover a table).
    pub notes: Vec<String>,
}

/// Evaluates many tables against one account setup, checking each plan's conformance once.
///
/// The free functions ([`evaluate_table`], [`evaluate_new_table`], [`evaluate_coverage`],
/// [`remediation_tag`]) build one per call; a caller evaluating many tables should build one
/// `Evaluator` and reuse it (identical results, plan conformance computed once).
#[derive(Debug)]
pub struct Evaluator<'a> {
    setup: &'a BackupSetup,
    policy: &'a Policy,
    conformance: BTreeMap<String, PlanConformance>,
    /// Fire times in `[now − retention, now]` for the last `now` seen.
    fires: Mutex<Option<(Timestamp, Vec<Timestamp>)>>,
}

impl<'a> Evaluator<'a> {
    /// Checks every known plan's conformance once.
    pub fn new(setup: &'a BackupSetup, policy: &'a Policy) -> Self {
        Evaluator {
            setup,
            policy,
            conformance: plan_conformance(setup, policy),
            fires: Mutex::new(None),
        }
    }

    /// The required slots of a table created at `created` (see [`required_slots`]), from
    /// fire times computed once per `now`.
    fn slots(&self, created: Option<Timestamp>, now: Timestamp) -> Vec<Slot> {
        let policy = self.policy;
        let compute = || {
            required_slots(
                policy.schedule(),
                policy.start_window(),
                policy.completion_window(),
                policy.retention(),
                None,
                now,
            )
            .into_iter()
            .map(|s| s.at)
            .collect::<Vec<_>>()
        };
        let fires = match self.fires.lock() {
            Ok(mut guard) => match guard.as_ref() {
                Some((at, fires)) if *at == now => fires.clone(),
                _ => {
                    let fires = compute();
                    *guard = Some((now, fires.clone()));
                    fires
                }
            },
            // A poisoned cache is only a lost optimisation.
            Err(_) => compute(),
        };
        fires
            .into_iter()
            .filter(|at| created.is_none_or(|c| *at >= c))
            .map(|at| Slot::new(at, policy.start_window(), policy.completion_window()))
            .collect()
    }

    /// Conformance of every known plan, by plan id.
    pub fn conformance(&self) -> &BTreeMap<String, PlanConformance> {
        &self.conformance
    }

    /// See [`evaluate_table`].
    pub fn evaluate_table(
        &self,
        table: &TableFacts,
        points: &Fact<Vec<RecoveryPointFacts>>,
        jobs: &Fact<Vec<JobFacts>>,
        now: Timestamp,
    ) -> TableEvaluation {
        evaluate_table_with(self, table, points, jobs, now)
    }

    /// See [`evaluate_new_table`].
    pub fn evaluate_new_table(&self, table: &TableFacts) -> TableEvaluation {
        evaluate_new_table_with(table, self.setup, self.policy, &self.conformance)
    }

    /// See [`evaluate_coverage`].
    pub fn evaluate_coverage(&self, table: &TableFacts) -> Coverage {
        coverage_with(table, self.setup, &self.conformance)
    }

    /// See [`remediation_tag`].
    pub fn remediation_tag(&self, table: &TableFacts) -> Option<(String, String)> {
        remediation_with(table, self.setup, self.policy, &self.conformance)
    }
}

/// Reads the exemption state of a table: exempt iff the exemption tag (key and value) is
/// present and the reason tag has a non-blank value.
pub fn exemption(table: &TableFacts, policy: &Policy) -> Exemption {
    let tags = match &table.tags {
        Fact::Known(t) => t,
        Fact::Unknown { reason } => {
            return Exemption::Unknown {
                reason: reason.clone(),
            };
        }
    };
    if tags.get(&policy.exempt_tag.key) != Some(&policy.exempt_tag.value) {
        return Exemption::NotExempt;
    }
    match tags.get(&policy.exempt_reason_tag).map(|r| r.trim()) {
        Some(r) if !r.is_empty() => Exemption::Exempt {
            reason: r.to_string(),
        },
        _ => Exemption::WithoutReason,
    }
}

/// Required-tag findings (`MISSING_TAG`, `TAG_VALUE_NOT_ALLOWED`; subject = tag key); empty
/// when tags are unknown (the caller reports `UNVERIFIABLE`). A blank value counts as missing;
/// allowed values are compared exactly (case-sensitive).
pub fn check_tags(table: &TableFacts, policy: &Policy) -> Vec<Finding> {
    let Fact::Known(tags) = &table.tags else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for req in &policy.required_tags {
        match tags.get(&req.key) {
            Some(v) if !v.trim().is_empty() => {
                if !req.allowed_values.is_empty() && !req.allowed_values.contains(v) {
                    out.push(Finding::new(
                        FindingCode::TagValueNotAllowed,
                        &table.arn,
                        &table.name,
                        Some(req.key.clone()),
                        format!(
                            "Table {} has tag {}={:?}, which is not one of the allowed values ({}).",
                            table.name,
                            req.key,
                            v,
                            req.allowed_values.join(", ")
                        ),
                        Some(format!(
                            "Set tag {} to one of: {}.",
                            req.key,
                            req.allowed_values.join(", ")
                        )),
                    ));
                }
            }
            _ => out.push(Finding::new(
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
            )),
        }
    }
    out
}

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

fn coverage_with(
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
                    "selection {} (plan {}) cannot be evaluated: {reason}",
                    m.selection_name, m.plan_id
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

/// The full evaluation of one table at `now` (see the crate docs for every rule).
///
/// `points` and `jobs` may contain other resources' entries (they are ignored), but for many
/// tables pass each table only its own (filtering is linear in their number).
pub fn evaluate_table(
    table: &TableFacts,
    setup: &BackupSetup,
    points: &Fact<Vec<RecoveryPointFacts>>,
    jobs: &Fact<Vec<JobFacts>>,
    policy: &Policy,
    now: Timestamp,
) -> TableEvaluation {
    Evaluator::new(setup, policy).evaluate_table(table, points, jobs, now)
}

fn evaluate_table_with(
    evaluator: &Evaluator<'_>,
    table: &TableFacts,
    points: &Fact<Vec<RecoveryPointFacts>>,
    jobs: &Fact<Vec<JobFacts>>,
    now: Timestamp,
) -> TableEvaluation {
    let (setup, policy, conformance) = (evaluator.setup, evaluator.policy, &evaluator.conformance);
    let (mut ev, done) = start_evaluation(table, setup, policy, conformance);
    if done {
        return ev;
    }
    let protected = matches!(ev.coverage, Coverage::Protected { .. });

    match points {
        Fact::Unknown { reason } => ev.findings.push(Finding::new(
            FindingCode::Unverifiable,
            &table.arn,
            &table.name,
            Some("recovery-points".to_string()),
            format!(
                "The recovery points of table {} could not be read ({reason}): its backups cannot be verified.",
                table.name
            ),
            Some("Grant backup:ListRecoveryPointsByBackupVault on every vault and re-run.".to_string()),
        )),
        Fact::Known(all) => {
            let mine: Vec<RecoveryPointFacts> = all
                .iter()
                .filter(|p| p.resource_arn == table.arn)
                .cloned()
                .collect();
            let counts = |p: &RecoveryPointFacts| made_by_conforming_rule(p, conformance, policy);
            let slots = evaluator.slots(table.created, now);
            ev.slots = classify_slots(&slots, &table.arn, &mine, &counts, now);
            for r in &ev.slots {
                if let SlotStatus::Missed { near_misses } = &r.status {
                    ev.findings.push(missed_slot_finding(table, r, near_misses, policy));
                }
            }
            let any_satisfied = ev
                .slots
                .iter()
                .any(|r| matches!(r.status, SlotStatus::Satisfied { .. }));
            let any_missed = ev
                .slots
                .iter()
                .any(|r| matches!(r.status, SlotStatus::Missed { .. }));
            if protected && !any_satisfied && !any_missed {
                ev.findings.push(pending_finding(table, &ev.slots, policy, now));
            }
            for p in &mine {
                point_findings(table, p, counts(p), policy, now, &mut ev.findings);
            }
        }
    }

    match jobs {
        // Unknown is never compliant: a failed job of this table may be unreported.
        Fact::Unknown { reason } => ev.findings.push(Finding::new(
            FindingCode::Unverifiable,
            &table.arn,
            &table.name,
            Some("backup-jobs".to_string()),
            format!(
                "The backup jobs of table {} could not be read ({reason}): a failed backup job may be unreported.",
                table.name
            ),
            Some("Grant backup:ListBackupJobs and re-run.".to_string()),
        )),
        Fact::Known(jobs) => {
            let horizon = crate::slots::sub(now, policy.retention());
            for j in jobs
                .iter()
                .filter(|j| j.resource_arn == table.arn && j.state.is_failure())
                .filter(|j| j.created >= horizon)
            {
                ev.findings.push(job_finding(table, j));
            }
        }
    }
    finish(ev)
}

/// The table-guard evaluation at creation (or tag change): exemption, required tags and
/// coverage only, no recovery points. A protected table gets `PENDING_FIRST_BACKUP` and the
/// verdict [`Verdict::Pending`].
pub fn evaluate_new_table(
    table: &TableFacts,
    setup: &BackupSetup,
    policy: &Policy,
) -> TableEvaluation {
    Evaluator::new(setup, policy).evaluate_new_table(table)
}

fn evaluate_new_table_with(
    table: &TableFacts,
    setup: &BackupSetup,
    policy: &Policy,
    conformance: &BTreeMap<String, PlanConformance>,
) -> TableEvaluation {
    let (mut ev, done) = start_evaluation(table, setup, policy, conformance);
    if done {
        return ev;
    }
    if matches!(ev.coverage, Coverage::Protected { .. }) {
        let f = Finding::new(
            FindingCode::PendingFirstBackup,
            &table.arn,
            &table.name,
            None,
            format!(
                "Table {} is protected; its first backup will be taken at the next scheduled time.",
                table.name
            ),
            None,
        );
        ev.findings.push(f);
    }
    finish(ev)
}

/// True if the evaluation would benefit from the table's creation time: it is unknown and a
/// missed slot may precede the table's birth. The caller then reads it (`DescribeTable`) and
/// evaluates again.
///
/// A slot satisfied by a point proves the table existed by that slot's start deadline (the
/// point was created by then), so a missed slot at or after the earliest such deadline is
/// required whatever the creation time: only missed slots before it (or any missed slot of a
/// table with no satisfied slot) need the creation time. This keeps `DescribeTable` to the
/// tables whose verdict can actually depend on it.
pub fn needs_creation_time(evaluation: &TableEvaluation) -> bool {
    if evaluation.table.created.is_some() {
        return false;
    }
    let existed_by = evaluation
        .slots
        .iter()
        .filter(|s| matches!(s.status, SlotStatus::Satisfied { .. }))
        .map(|s| s.slot.start_deadline)
        .min();
    evaluation.slots.iter().any(|s| {
        matches!(s.status, SlotStatus::Missed { .. }) && existed_by.is_none_or(|e| s.slot.at < e)
    })
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

fn remediation_with(
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

/// Common first part: exemption, tags, coverage. `true` = the evaluation is finished (tags
/// unknown or exempt).
fn start_evaluation(
    table: &TableFacts,
    setup: &BackupSetup,
    policy: &Policy,
    conformance: &BTreeMap<String, PlanConformance>,
) -> (TableEvaluation, bool) {
    let coverage = coverage_with(table, setup, conformance);
    let mut ev = TableEvaluation {
        table: table.clone(),
        verdict: Verdict::Unverifiable,
        coverage,
        slots: Vec::new(),
        findings: Vec::new(),
        notes: Vec::new(),
    };
    match exemption(table, policy) {
        Exemption::Unknown { reason } => {
            ev.findings.push(Finding::new(
                FindingCode::Unverifiable,
                &table.arn,
                &table.name,
                Some("tags".to_string()),
                format!(
                    "The tags of table {} could not be read ({reason}): cannot tell whether it is exempt, carries its required tags or is selected for backup.",
                    table.name
                ),
                Some("Grant dynamodb:ListTagsOfResource / tag:GetResources and re-run.".to_string()),
            ));
            return (finish(ev), true);
        }
        Exemption::Exempt { reason } => {
            ev.findings.push(Finding::new(
                FindingCode::Exempt,
                &table.arn,
                &table.name,
                None,
                format!(
                    "Table {} is exempt from the backup policy ({}={}): {reason}",
                    table.name, policy.exempt_tag.key, policy.exempt_tag.value
                ),
                None,
            ));
            return (finish(ev), true);
        }
        Exemption::WithoutReason => ev.findings.push(Finding::new(
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
        )),
        Exemption::NotExempt => {}
    }
    ev.findings.extend(check_tags(table, policy));
    if let Some(f) = coverage_finding(table, &ev.coverage, setup, policy, conformance) {
        ev.findings.push(f);
    }
    (ev, false)
}

fn coverage_finding(
    table: &TableFacts,
    coverage: &Coverage,
    setup: &BackupSetup,
    policy: &Policy,
    conformance: &BTreeMap<String, PlanConformance>,
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
            let mut plans: Vec<String> = Vec::new();
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
                plans.push(format!(
                    "plan {} ({}, via selection {}): {rules}",
                    c.plan_name, c.plan_id, c.selection_name
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
                    plans.join("; ")
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
                    .map(|m| match &m.outcome {
                        SelectionOutcome::NotCovered { reason } => format!(
                            "selection {} (plan {}): {reason}",
                            m.selection_name, m.plan_id
                        ),
                        SelectionOutcome::Undecidable { reason } => format!(
                            "selection {} (plan {}): undecided, {reason}",
                            m.selection_name, m.plan_id
                        ),
                        SelectionOutcome::Covered { .. } => format!(
                            "selection {} (plan {}) covers it but the plan is not conforming",
                            m.selection_name, m.plan_id
                        ),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let remedy = match remediation_with(table, setup, policy, conformance) {
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

fn missed_slot_finding(
    table: &TableFacts,
    r: &SlotResult,
    near_misses: &[NearMiss],
    policy: &Policy,
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
                    near_miss_text(&n.reason)
                )
            })
            .collect();
        message.push_str(&format!(
            " Nearby points that do not count: {}.",
            nm.join("; ")
        ));
    }
    let _ = policy;
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

/// A short phrase for a near-miss reason.
pub fn near_miss_text(reason: &NearMissReason) -> String {
    match reason {
        NearMissReason::CreatedBeforeSlot => "before the scheduled time".to_string(),
        NearMissReason::CreatedAfterStartWindow => "after the start window".to_string(),
        NearMissReason::NotCompleted => "but never completed".to_string(),
        NearMissReason::CompletedLate => "but completed after the completion window".to_string(),
        NearMissReason::BadStatus { status } => format!("with status {status}"),
        NearMissReason::OnDemand => "on demand (manual backups never count)".to_string(),
        NearMissReason::NonConformingCreator { plan_id } => {
            format!("by non-conforming plan {plan_id}")
        }
    }
}

fn pending_finding(
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

fn point_findings(
    table: &TableFacts,
    point: &RecoveryPointFacts,
    by_conforming_rule: bool,
    policy: &Policy,
    now: Timestamp,
    out: &mut Vec<Finding>,
) {
    let issues = check_point_at(point, policy, now);
    if issues.is_empty() {
        return;
    }
    let subject = Some(point.arn.clone());
    let describe = |pred: &dyn Fn(&RetentionIssue) -> bool| -> String {
        issues
            .iter()
            .filter(|i| pred(i))
            .map(RetentionIssue::describe)
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !by_conforming_rule {
        let lifecycle = describe(&|i| !matches!(i, RetentionIssue::BadStatus { .. }));
        if lifecycle.is_empty() {
            return;
        }
        let origin = match &point.created_by {
            None => "an on-demand (manual) backup".to_string(),
            Some(cb) => format!("made by plan {}, which does not conform", cb.plan_id),
        };
        out.push(Finding::new(
            FindingCode::UnmanagedBackup,
            &table.arn,
            &table.name,
            subject,
            format!(
                "Recovery point {} of table {} (created {}) is {origin}, and its lifecycle is outside the policy: {lifecycle}.",
                point.arn, table.name, point.created
            ),
            Some(format!(
                "Set its retention to {} days (UpdateRecoveryPointLifecycle) or delete it if it is not needed; take backups only through the policy's plan.",
                policy.retention_days
            )),
        ));
        return;
    }
    let days = policy.retention_days;
    for code in [
        FindingCode::RetentionTooShort,
        FindingCode::RetentionTooLong,
        FindingCode::ColdStorageDrift,
        FindingCode::BadRecoveryPoint,
    ] {
        let text = describe(&|i| issue_code(i) == code);
        if text.is_empty() {
            continue;
        }
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
        out.push(Finding::new(
            code,
            &table.arn,
            &table.name,
            subject.clone(),
            format!(
                "Recovery point {} of table {} (created {}): {text}.",
                point.arn, table.name, point.created
            ),
            Some(remedy),
        ));
    }
}

/// The finding code a retention issue of a policy point maps to.
pub fn issue_code(issue: &RetentionIssue) -> FindingCode {
    match issue {
        RetentionIssue::TooShort { .. } | RetentionIssue::DeleteAtTooEarly { .. } => {
            FindingCode::RetentionTooShort
        }
        RetentionIssue::TooLong { .. }
        | RetentionIssue::NoExpiry { .. }
        | RetentionIssue::DeleteAtTooLate { .. }
        | RetentionIssue::KeptPastDeleteAt { .. } => FindingCode::RetentionTooLong,
        RetentionIssue::ColdStorage { .. } => FindingCode::ColdStorageDrift,
        RetentionIssue::BadStatus { .. } => FindingCode::BadRecoveryPoint,
    }
}

fn job_finding(table: &TableFacts, job: &JobFacts) -> Finding {
    let plan = match &job.plan_id {
        Some(p) => format!("plan {p}"),
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

/// Sorts findings and sets the verdict.
fn finish(mut ev: TableEvaluation) -> TableEvaluation {
    ev.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.subject.cmp(&b.subject))
    });
    ev.findings.dedup_by(|a, b| a.id == b.id);
    let has = |code: FindingCode| ev.findings.iter().any(|f| f.code == code);
    ev.verdict = if has(FindingCode::Exempt) {
        Verdict::Exempt
    } else if ev.findings.iter().any(|f| f.code.breaks_compliance()) {
        Verdict::NonCompliant
    } else if has(FindingCode::Unverifiable) {
        Verdict::Unverifiable
    } else if has(FindingCode::PendingFirstBackup) {
        Verdict::Pending
    } else {
        Verdict::Compliant
    };
    ev
}
