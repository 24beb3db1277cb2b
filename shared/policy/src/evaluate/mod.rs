//! Per-table evaluation: coverage, slots, retention, jobs, tags → findings and a verdict.
//!
//! See the crate documentation for the full rules; the entry points are
//! [`evaluate_table`] (nightly verifier), [`evaluate_new_table`] (table guard: tags and
//! coverage only), [`evaluate_coverage`], [`check_tags`], [`exemption`] and
//! [`remediation_tag`].
//!
//! Each job has its module: the result types (`types`), coverage and remediation
//! (`coverage`), the tag rules (`tags`) and the text of every finding (`text`); this module
//! holds the [`Evaluator`] and the order in which the rules are applied. Everything public is
//! re-exported here, so `policy::evaluate::X` is the path of every item.

mod coverage;
mod tags;
mod text;
mod types;

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::config::Policy;
use crate::conformance::PlanConformance;
use crate::facts::{BackupSetup, Fact, JobFacts, RecoveryPointFacts, TableFacts};
use crate::findings::FindingCode;
use crate::retention::{RetentionIssue, check_point_at};
use crate::slots::{Slot, SlotStatus, classify_slots, required_slots};

pub use coverage::{evaluate_coverage, made_by_conforming_rule, plan_conformance, remediation_tag};
pub use tags::{check_tags, exemption};
pub use text::near_miss_text;
pub use types::{Coverage, CoveringRule, DriftedCover, Exemption, TableEvaluation, Verdict};

use coverage::{coverage_with, remediation_with};

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
    /// The vaults' facts, when the vault checks ([`crate::vault`]) are to run.
    vaults: Option<&'a crate::vault::VaultIndex>,
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
            vaults: None,
            fires: Mutex::new(None),
        }
    }

    /// Also checks the protection of every vault holding a table's points (Vault Lock,
    /// deletion denial, key state, point encryption: [`crate::vault`]) against `vaults`.
    /// Without it (the table guard, plan checks) no vault check runs.
    pub fn with_vaults(mut self, vaults: &'a crate::vault::VaultIndex) -> Self {
        self.vaults = Some(vaults);
        self
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

    /// The full evaluation of one table at `now`; see [`evaluate_table`].
    pub fn evaluate_table(
        &self,
        table: &TableFacts,
        points: &Fact<Vec<RecoveryPointFacts>>,
        jobs: &Fact<Vec<JobFacts>>,
        now: Timestamp,
    ) -> TableEvaluation {
        evaluate_table_with(self, table, points, jobs, now)
    }

    /// The table guard's check of a new table; see [`evaluate_new_table`].
    pub fn evaluate_new_table(&self, table: &TableFacts) -> TableEvaluation {
        evaluate_new_table_with(table, self.setup, self.policy, &self.conformance)
    }

    /// Whether and by which plans the table is protected; see [`evaluate_coverage`].
    pub fn evaluate_coverage(&self, table: &TableFacts) -> Coverage {
        coverage_with(table, self.setup, &self.conformance)
    }

    /// The tag that would make the table covered, if any; see [`remediation_tag`].
    pub fn remediation_tag(&self, table: &TableFacts) -> Option<(String, String)> {
        remediation_with(table, self.setup, self.policy, &self.conformance)
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
        Fact::Unknown { reason } => ev.findings.push(text::points_unknown(table, reason)),
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
                    ev.findings
                        .push(text::missed_slot(table, r, near_misses, conformance));
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
                ev.findings
                    .push(text::pending_first_backup(table, &ev.slots, policy, now));
            }
            for p in &mine {
                point_findings(table, p, counts(p), evaluator, now, &mut ev.findings);
            }
            if let Some(vaults) = evaluator.vaults {
                ev.findings
                    .extend(crate::vault::vault_findings(table, &mine, vaults, policy));
            }
        }
    }

    match jobs {
        // Unknown is never compliant: a failed job of this table may be unreported.
        Fact::Unknown { reason } => ev.findings.push(text::jobs_unknown(table, reason)),
        Fact::Known(jobs) => {
            let horizon = crate::slots::sub(now, policy.retention());
            for j in jobs
                .iter()
                .filter(|j| j.resource_arn == table.arn && j.state.is_failure())
                .filter(|j| j.created >= horizon)
            {
                ev.findings.push(text::job_failed(table, j, conformance));
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
        ev.findings.push(text::new_table_pending(table));
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
            ev.findings.push(text::tags_unknown(table, &reason));
            return (finish(ev), true);
        }
        Exemption::Exempt { reason } => {
            ev.findings.push(text::exempt(table, policy, &reason));
            return (finish(ev), true);
        }
        Exemption::WithoutReason => ev.findings.push(text::exempt_without_reason(table, policy)),
        Exemption::NotExempt => {}
    }
    ev.findings.extend(check_tags(table, policy));
    let remediation = match ev.coverage {
        Coverage::NotCovered { .. } => remediation_with(table, setup, policy, conformance),
        _ => None,
    };
    if let Some(f) = text::coverage_finding(table, &ev.coverage, policy, conformance, remediation) {
        ev.findings.push(f);
    }
    (ev, false)
}

/// The findings of one recovery point of the table (see [`crate::retention::check_point`]):
/// for a point made by a conforming rule, one finding per code of its issues; for any other
/// point, `UNMANAGED_BACKUP` if its lifecycle differs from the policy's (its status is not
/// the policy's business).
fn point_findings(
    table: &TableFacts,
    point: &RecoveryPointFacts,
    by_conforming_rule: bool,
    evaluator: &Evaluator<'_>,
    now: Timestamp,
    out: &mut Vec<crate::findings::Finding>,
) {
    let policy = evaluator.policy;
    let issues = check_point_at(point, policy, now);
    if issues.is_empty() {
        return;
    }
    if !by_conforming_rule {
        let lifecycle =
            text::describe_issues(&issues, |i| !matches!(i, RetentionIssue::BadStatus { .. }));
        if !lifecycle.is_empty() {
            out.push(text::unmanaged_backup(
                table,
                point,
                &lifecycle,
                policy,
                &evaluator.conformance,
            ));
        }
        return;
    }
    for code in [
        FindingCode::RetentionTooShort,
        FindingCode::RetentionTooLong,
        FindingCode::ColdStorageDrift,
        FindingCode::BadRecoveryPoint,
    ] {
        let described = text::describe_issues(&issues, |i| issue_code(i) == code);
        if !described.is_empty() {
            out.push(text::point_issue(table, point, code, &described, policy));
        }
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

/// `ev` with `extra` findings added (e.g. restore readiness, `crate::restore`), sorted and
/// its verdict set again from all of them.
pub fn with_findings(
    mut ev: TableEvaluation,
    extra: Vec<crate::findings::Finding>,
) -> TableEvaluation {
    if extra.is_empty() {
        return ev;
    }
    ev.findings.extend(extra);
    finish(ev)
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
