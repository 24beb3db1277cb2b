//! Building the [`EvidenceDoc`] from a run's report and inventory facts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::conformance::PlanConformance;
use policy::evaluate::{
    Coverage, DriftedCover, Exemption, TableEvaluation, exemption, made_by_conforming_rule,
    near_miss_text, plan_conformance,
};
use policy::facts::{Fact, JobFacts, PlanFacts, RecoveryPointFacts, SelectionFacts};
use policy::retention::check_point_at;
use policy::selection::SelectionOutcome;
use policy::slots::{NearMissReason, SlotResult, SlotStatus, required_slots};
use policy::{Policy, Verdict};

use crate::model::*;
use crate::{EvidenceDoc, EvidenceInput, SCHEMA_VERSION, TableEvidence};

/// Plan and rule names by id, from the plans read.
struct Names {
    plans: BTreeMap<String, (String, BTreeMap<String, String>)>,
}

impl Names {
    fn new(plans: &Fact<Vec<PlanFacts>>) -> Names {
        let plans = plans
            .known()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let rules = p
                            .rules
                            .iter()
                            .filter_map(|r| r.rule_id.clone().map(|id| (id, r.name.clone())))
                            .collect();
                        (p.plan_id.clone(), (p.name.clone(), rules))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Names { plans }
    }

    fn plan(&self, id: &str) -> Option<String> {
        self.plans.get(id).map(|(n, _)| n.clone())
    }

    fn rule(&self, plan_id: &str, rule_id: &str) -> Option<String> {
        self.plans
            .get(plan_id)
            .and_then(|(_, rules)| rules.get(rule_id).cloned())
    }
}

/// The whole document (hashes empty).
pub(crate) fn build(input: &EvidenceInput<'_>) -> EvidenceDoc {
    let report = input.report;
    let policy = &report.policy;
    let now = report.generated_at;
    let names = Names::new(&input.facts.setup.plans);
    let conformance = plan_conformance(&input.facts.setup, policy);
    let horizon = horizon(policy, now);
    let jobs = jobs_evidence(&input.facts.failed_jobs, &names, report);
    let ctx = TableCtx {
        policy,
        now,
        horizon: &horizon,
        names: &names,
        conformance: &conformance,
        jobs: &jobs,
    };
    let mut tables: Vec<TableEvidence> = report
        .tables
        .iter()
        .map(|t| table_evidence(t, input.facts.points.get(&t.table.arn), &ctx))
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
    EvidenceDoc {
        schema_version: SCHEMA_VERSION,
        run: input.run.clone(),
        generated_at: now,
        failure: input.failure.clone(),
        policy: policy_evidence(policy),
        horizon,
        verdicts: report
            .verdicts
            .iter()
            .map(|(v, n)| (verdict_code(*v).to_string(), *n))
            .collect(),
        findings_per_code: report
            .findings_per_code
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), *n))
            .collect(),
        tables,
        plans: plans_evidence(input, &conformance),
        failed_jobs: jobs,
        sources: input.sources.clone(),
        api_calls: report.api_calls.clone(),
        notes: report.notes.clone(),
        files: BTreeMap::new(),
    }
}

fn policy_evidence(p: &Policy) -> PolicyEvidence {
    PolicyEvidence {
        schedule_expression: p.schedule_expression().to_string(),
        timezone: p.timezone().to_string(),
        start_window_minutes: p.start_window_minutes,
        completion_window_minutes: p.completion_window_minutes,
        retention_days: p.retention_days,
        cold_storage_allowed: p.cold_storage_allowed,
        vault_name: p.vault_name.clone(),
        selection_mode: p.selection_mode.as_str().to_string(),
        mode: p.mode.as_str().to_string(),
        backup_tag: format!("{}={}", p.backup_tag.key, p.backup_tag.value),
        required_tags: p.required_tags.iter().map(|t| t.key.clone()).collect(),
        exempt_tag: format!("{}={}", p.exempt_tag.key, p.exempt_tag.value),
        exempt_reason_tag: p.exempt_reason_tag.clone(),
    }
}

/// The fire times in `[now − retention, now]`: every slot any table can owe.
fn horizon(p: &Policy, now: Timestamp) -> Horizon {
    let slots = required_slots(
        p.schedule(),
        p.start_window(),
        p.completion_window(),
        p.retention(),
        None,
        now,
    );
    Horizon {
        from: now.checked_sub(p.retention()).unwrap_or(Timestamp::MIN),
        to: now,
        slots: slots.into_iter().map(|s| s.at).collect(),
    }
}

/// What every table's evidence is built with.
struct TableCtx<'a> {
    policy: &'a Policy,
    now: Timestamp,
    horizon: &'a Horizon,
    names: &'a Names,
    conformance: &'a BTreeMap<String, PlanConformance>,
    jobs: &'a JobsEvidence,
}

fn table_evidence(
    t: &TableEvaluation,
    points: Option<&Fact<Vec<RecoveryPointFacts>>>,
    ctx: &TableCtx<'_>,
) -> TableEvidence {
    let findings_by_subject = |subject: &str| -> Vec<String> {
        t.findings
            .iter()
            .filter(|f| f.subject.as_deref() == Some(subject))
            .map(|f| f.code.as_str().to_string())
            .collect()
    };
    let known_points: &[RecoveryPointFacts] = match points {
        Some(Fact::Known(ps)) => ps,
        _ => &[],
    };
    let exempt_reason = match exemption(&t.table, ctx.policy) {
        Exemption::Exempt { reason } if t.verdict == Verdict::Exempt => Some(reason),
        _ => None,
    };
    let by_at: BTreeMap<Timestamp, &SlotResult> = t.slots.iter().map(|r| (r.slot.at, r)).collect();
    let slots = ctx
        .horizon
        .slots
        .iter()
        .map(|at| {
            slot_evidence(
                *at,
                by_at.get(at).copied(),
                t,
                known_points,
                ctx,
                &findings_by_subject,
            )
        })
        .collect::<Vec<_>>();
    let points = match points {
        Some(Fact::Known(ps)) => {
            let mut items: Vec<PointEvidence> = ps
                .iter()
                .filter(|p| p.resource_arn == t.table.arn)
                .map(|p| {
                    let mut e = point_evidence(p, ctx);
                    e.satisfies = slots
                        .iter()
                        .filter(|s| s.point.as_ref().is_some_and(|r| r.arn == p.arn))
                        .map(|s| s.at)
                        .collect();
                    e.findings = findings_by_subject(&p.arn);
                    e
                })
                .collect();
            items.sort_by(|a, b| (a.created, &a.arn).cmp(&(b.created, &b.arn)));
            PointsEvidence {
                unread: None,
                items,
            }
        }
        Some(Fact::Unknown { reason }) => PointsEvidence {
            unread: Some(reason.clone()),
            items: Vec::new(),
        },
        None => PointsEvidence {
            unread: Some("the recovery points of this table were not read".to_string()),
            items: Vec::new(),
        },
    };
    TableEvidence {
        name: t.table.name.clone(),
        arn: t.table.arn.clone(),
        verdict: verdict_code(t.verdict).to_string(),
        created: t.table.created,
        exempt_reason,
        coverage: coverage_evidence(&t.coverage),
        slots,
        points,
        findings: t
            .findings
            .iter()
            .map(|f| FindingEvidence {
                id: f.id.clone(),
                code: f.code.as_str().to_string(),
                severity: f.severity.as_str().to_string(),
                subject: f.subject.clone(),
                message: f.message.clone(),
                remedy: f.remedy.clone(),
            })
            .collect(),
        failed_jobs: ctx
            .jobs
            .items
            .iter()
            .filter(|j| j.resource_arn == t.table.arn)
            .map(|j| j.job_id.clone())
            .collect(),
        notes: t.notes.clone(),
    }
}

/// One slot of the horizon for table `t`: the evaluation's state where the slot was required,
/// `exempt` for an exempt table, `not_required` before the table's creation, else `unknown`
/// (the evaluation stopped before the slots: points or tags unreadable).
fn slot_evidence(
    at: Timestamp,
    judged: Option<&SlotResult>,
    t: &TableEvaluation,
    points: &[RecoveryPointFacts],
    ctx: &TableCtx<'_>,
    findings_by_subject: &dyn Fn(&str) -> Vec<String>,
) -> SlotEvidence {
    let mut e = SlotEvidence {
        at,
        status: SlotState::Unknown,
        start_deadline: None,
        completion_deadline: None,
        point: None,
        point_findings: Vec::new(),
        near_misses: Vec::new(),
    };
    if t.verdict == Verdict::Exempt {
        e.status = SlotState::Exempt;
        return e;
    }
    let Some(r) = judged else {
        if t.table.created.is_some_and(|c| at < c) {
            e.status = SlotState::NotRequired;
        }
        return e;
    };
    if !matches!(r.status, SlotStatus::Satisfied { .. }) {
        e.start_deadline = Some(r.slot.start_deadline);
        e.completion_deadline = Some(r.slot.completion_deadline);
    }
    match &r.status {
        SlotStatus::Satisfied { point_arn } => {
            e.status = SlotState::Satisfied;
            e.point_findings = findings_by_subject(point_arn);
            e.point = Some(match points.iter().find(|p| &p.arn == point_arn) {
                Some(p) => point_ref(p, ctx.names),
                // The evaluation names only points of the table it was given.
                None => PointRef {
                    arn: point_arn.clone(),
                    created: r.slot.at,
                    completed: None,
                    delete_at: None,
                    vault: String::new(),
                    plan: None,
                    rule: None,
                },
            });
        }
        SlotStatus::Pending => e.status = SlotState::Pending,
        SlotStatus::Missed { near_misses } => {
            e.status = SlotState::Missed;
            e.near_misses = near_misses
                .iter()
                .map(|n| NearMissEvidence {
                    point_arn: n.point_arn.clone(),
                    created: n.created,
                    why: match &n.reason {
                        NearMissReason::NonConformingCreator { plan_id } => {
                            match ctx.names.plan(plan_id) {
                                Some(name) => format!("by non-conforming plan {name} ({plan_id})"),
                                None => near_miss_text(&n.reason),
                            }
                        }
                        other => near_miss_text(other),
                    },
                })
                .collect();
        }
    }
    e
}

fn creator(p: &RecoveryPointFacts, names: &Names) -> [Option<String>; 4] {
    let Some(cb) = &p.created_by else {
        return [None, None, None, None];
    };
    let rule_name = cb
        .rule_id
        .as_deref()
        .and_then(|r| names.rule(&cb.plan_id, r));
    [
        Some(cb.plan_id.clone()),
        names.plan(&cb.plan_id),
        cb.rule_id.clone(),
        rule_name,
    ]
}

fn point_ref(p: &RecoveryPointFacts, names: &Names) -> PointRef {
    let [plan_id, plan_name, rule_id, rule_name] = creator(p, names);
    PointRef {
        arn: p.arn.clone(),
        created: p.created,
        completed: p.completed,
        delete_at: p.delete_at,
        vault: p.vault_name.clone(),
        plan: plan_name.or(plan_id),
        rule: rule_name.or(rule_id),
    }
}

fn point_evidence(p: &RecoveryPointFacts, ctx: &TableCtx<'_>) -> PointEvidence {
    let [plan_id, plan_name, rule_id, rule_name] = creator(p, ctx.names);
    PointEvidence {
        arn: p.arn.clone(),
        vault: p.vault_name.clone(),
        status: p.status.as_api().to_string(),
        created: p.created,
        completed: p.completed,
        delete_after_days: p.delete_after_days,
        move_to_cold_storage_after_days: p.move_to_cold_storage_after_days,
        delete_at: p.delete_at,
        on_demand: p.is_on_demand(),
        plan_id,
        plan_name,
        rule_id,
        rule_name,
        by_conforming_rule: made_by_conforming_rule(p, ctx.conformance, ctx.policy),
        satisfies: Vec::new(),
        retention_issues: check_point_at(p, ctx.policy, ctx.now)
            .iter()
            .map(|i| i.describe())
            .collect(),
        findings: Vec::new(),
    }
}

fn coverage_evidence(c: &Coverage) -> CoverageEvidence {
    let mut e = CoverageEvidence {
        state: String::new(),
        by: Vec::new(),
        drifted: Vec::new(),
        not_covered_by: Vec::new(),
        unknown_reason: None,
    };
    let drifted = |d: &DriftedCover| CoverEvidence {
        plan_id: d.plan_id.clone(),
        plan_name: d.plan_name.clone(),
        selection_id: d.selection_id.clone(),
        selection_name: d.selection_name.clone(),
        rule_id: None,
        rule_name: None,
    };
    match c {
        Coverage::Protected { by, also_drifted } => {
            e.state = "protected".into();
            e.by = by
                .iter()
                .map(|r| CoverEvidence {
                    plan_id: r.plan_id.clone(),
                    plan_name: r.plan_name.clone(),
                    selection_id: r.selection_id.clone(),
                    selection_name: r.selection_name.clone(),
                    rule_id: r.rule_id.clone(),
                    rule_name: Some(r.rule_name.clone()),
                })
                .collect();
            e.drifted = also_drifted.iter().map(drifted).collect();
        }
        Coverage::DriftedOnly { covers } => {
            e.state = "drifted_only".into();
            e.drifted = covers.iter().map(drifted).collect();
        }
        Coverage::NotCovered { selections } => {
            e.state = "not_covered".into();
            e.not_covered_by = selections
                .iter()
                .map(|s| SelectionMiss {
                    plan_id: s.plan_id.clone(),
                    selection_id: s.selection_id.clone(),
                    selection_name: s.selection_name.clone(),
                    why: match &s.outcome {
                        SelectionOutcome::Covered { .. } => "covers it".to_string(),
                        SelectionOutcome::NotCovered { reason } => reason.to_string(),
                        SelectionOutcome::Undecidable { reason } => {
                            format!("undecidable: {reason}")
                        }
                    },
                })
                .collect();
        }
        Coverage::Unknown { reason } => {
            e.state = "unknown".into();
            e.unknown_reason = Some(reason.clone());
        }
    }
    e
}

fn jobs_evidence(
    jobs: &Fact<Vec<JobFacts>>,
    names: &Names,
    report: &policy::RunReport,
) -> JobsEvidence {
    match jobs {
        Fact::Unknown { reason } => JobsEvidence {
            unread: Some(reason.clone()),
            items: Vec::new(),
        },
        Fact::Known(all) => {
            let table_names: BTreeMap<&str, &str> = report
                .tables
                .iter()
                .map(|t| (t.table.arn.as_str(), t.table.name.as_str()))
                .collect();
            let mut items: Vec<JobEvidence> = all
                .iter()
                .filter(|j| j.state.is_failure())
                .map(|j| JobEvidence {
                    job_id: j.job_id.clone(),
                    table: table_names
                        .get(j.resource_arn.as_str())
                        .map(|n| n.to_string())
                        .or_else(|| {
                            j.resource_arn
                                .rsplit_once(":table/")
                                .map(|(_, n)| n.to_string())
                        })
                        .unwrap_or_default(),
                    resource_arn: j.resource_arn.clone(),
                    state: j.state.as_api().to_string(),
                    created: j.created,
                    completed: j.completed,
                    status_message: j.status_message.clone(),
                    plan_id: j.plan_id.clone(),
                    plan_name: j.plan_id.as_deref().and_then(|p| names.plan(p)),
                })
                .collect();
            items.sort_by(|a, b| (a.created, &a.job_id).cmp(&(b.created, &b.job_id)));
            JobsEvidence {
                unread: None,
                items,
            }
        }
    }
}

fn plans_evidence(
    input: &EvidenceInput<'_>,
    conformance: &BTreeMap<String, PlanConformance>,
) -> PlansEvidence {
    let setup = &input.facts.setup;
    let unread = match (
        setup.plans.unknown_reason(),
        setup.selections.unknown_reason(),
    ) {
        (Some(p), Some(s)) if p == s => Some(p.to_string()),
        (Some(p), Some(s)) => Some(format!("{p}; {s}")),
        (Some(r), None) | (None, Some(r)) => Some(r.to_string()),
        (None, None) => None,
    };
    let selections: &[SelectionFacts] = setup.selections.known().map_or(&[], Vec::as_slice);
    let mut items: Vec<PlanEvidence> = setup
        .plans
        .known()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|p| {
            let c = conformance.get(&p.plan_id);
            PlanEvidence {
                plan_id: p.plan_id.clone(),
                plan_name: p.name.clone(),
                version_id: p.version_id.clone(),
                conforms: c.is_some_and(PlanConformance::conforms),
                deviations: c
                    .map(|c| c.deviations.iter().map(|d| d.describe()).collect())
                    .unwrap_or_default(),
                rules: c
                    .map(|c| {
                        c.rules
                            .iter()
                            .map(|r| RuleEvidence {
                                rule_id: r.rule_id.clone(),
                                rule_name: r.rule_name.clone(),
                                conforms: r.conforms(),
                                deviations: r.deviations.iter().map(|d| d.describe()).collect(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                selections: selections
                    .iter()
                    .filter(|s| s.plan_id == p.plan_id)
                    .map(|s| (s.selection_id.clone(), s.name.clone()))
                    .collect(),
            }
        })
        .collect();
    items.sort_by(|a, b| {
        a.plan_name
            .cmp(&b.plan_name)
            .then(a.plan_id.cmp(&b.plan_id))
    });
    PlansEvidence { unread, items }
}
