//! The shipped scenarios' expectations are exactly what the policy engine concludes from the
//! scenario's facts (pure: no servers). If the engine or a scenario changes, this says which
//! findings differ, so the end-to-end verifier tests can trust the expectations.

use std::collections::BTreeSet;

use local_account::scenario::{ExpectedFinding, Scenario, TagMatch};
use policy::facts::{
    BackupSetup, Conditions, CreatedBy, Fact, JobFacts, JobState, PlanFacts, PointStatus,
    RecoveryPointFacts, RuleFacts, SelectionFacts, TableFacts, TagCondition,
};
use policy::{Policy, evaluate_table};

/// Plan ids are the plan names here (the stand-in's ids exist only once seeded).
fn findings_of(s: &Scenario) -> BTreeSet<ExpectedFinding> {
    let s = s.expand().unwrap();
    let plan_arn = |p: &str| format!("arn:aws:backup:{}:{}:backup-plan:{p}", s.region, s.account);
    let plans = s
        .plans
        .iter()
        .map(|p| PlanFacts {
            plan_id: p.name.clone(),
            plan_arn: plan_arn(&p.name),
            name: p.name.clone(),
            version_id: "v1".into(),
            rules: p
                .rules
                .iter()
                .map(|r| RuleFacts {
                    rule_id: Some(r.name.clone()),
                    name: r.name.clone(),
                    target_vault: r.vault.clone(),
                    schedule_expression: r.schedule.clone(),
                    schedule_timezone: r.timezone.clone(),
                    start_window_minutes: r.start_window_minutes,
                    completion_window_minutes: r.completion_window_minutes,
                    delete_after_days: r.delete_after_days,
                    move_to_cold_storage_after_days: r.move_to_cold_storage_after_days,
                })
                .collect(),
        })
        .collect();
    let tc = |v: &[TagMatch]| -> Vec<TagCondition> {
        v.iter()
            .map(|m| TagCondition::new(&m.key, &m.value))
            .collect()
    };
    let selections = s
        .selections
        .iter()
        .map(|x| SelectionFacts {
            selection_id: format!("{}/{}", x.plan, x.name),
            name: x.name.clone(),
            plan_id: x.plan.clone(),
            resources: x.resources.clone(),
            not_resources: x.not_resources.clone(),
            list_of_tags: tc(&x.list_of_tags),
            conditions: Conditions {
                string_equals: tc(&x.conditions.string_equals),
                string_not_equals: tc(&x.conditions.string_not_equals),
                string_like: tc(&x.conditions.string_like),
                string_not_like: tc(&x.conditions.string_not_like),
            },
        })
        .collect();
    let setup = BackupSetup {
        plans: Fact::Known(plans),
        selections: Fact::Known(selections),
    };
    let created_by = |plan: &Option<String>, rule: &Option<String>| {
        let (plan, rule) = (plan.as_ref()?, rule.as_ref()?);
        let r = s.rule(plan, rule)?;
        Some(CreatedBy {
            plan_id: plan.clone(),
            plan_arn: Some(plan_arn(plan)),
            plan_version: Some("v1".into()),
            rule_id: Some(rule.clone()),
            rule_cron: Some(r.schedule.clone()),
            rule_timezone: r.timezone.clone(),
        })
    };
    let points = Fact::Known(
        s.recovery_points
            .iter()
            .map(|p| RecoveryPointFacts {
                arn: p.arn.clone().unwrap(),
                resource_arn: s.table_arn(&p.table),
                vault_name: p.vault.clone().unwrap(),
                status: PointStatus::from_api(&p.status),
                created: p.created,
                completed: p.completed,
                delete_after_days: p.delete_after_days,
                move_to_cold_storage_after_days: p.move_to_cold_storage_after_days,
                delete_at: p.delete_at,
                created_by: created_by(&p.plan, &p.rule).map(Into::into),
                is_encrypted: Some(true),
                encryption_key_arn: None,
            })
            .collect(),
    );
    let jobs = Fact::Known(
        s.backup_jobs
            .iter()
            .map(|j| JobFacts {
                job_id: j.id.clone().unwrap(),
                resource_arn: s.table_arn(&j.table),
                state: JobState::from_api(&j.state),
                created: j.created,
                completed: j.completed,
                status_message: j.status_message.clone(),
                plan_id: j.plan.clone(),
            })
            .collect(),
    );
    let policy = Policy::default();
    let mut out = BTreeSet::new();
    for t in &s.tables {
        let facts = TableFacts {
            arn: s.table_arn(&t.name),
            name: t.name.clone(),
            account: s.account.clone(),
            region: s.region.clone(),
            created: Some(t.created),
            tags: Fact::Known(t.tags.clone()),
        };
        let ev = evaluate_table(&facts, &setup, &points, &jobs, &policy, s.now);
        for f in ev.findings {
            out.insert(ExpectedFinding {
                table: f.table_name,
                code: f.code,
                subject: f.subject,
            });
        }
    }
    out
}

fn check(name: &str) -> usize {
    let s = Scenario::shipped(name).unwrap();
    let expected = s.expected_findings(|p| Some(p.to_string())).unwrap();
    let got = findings_of(&s);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "scenario {name}: expected but not found: {missing:#?}\nfound but not expected: {extra:#?}"
    );
    expected.len()
}

#[test]
fn healthy_has_no_findings() {
    assert_eq!(check("healthy"), 0);
}

#[test]
fn audit_finding_expectations_are_exactly_the_engines_findings() {
    let n = check("audit-finding");
    assert_eq!(n, 16);
    // Every kind of violation the design lists is present.
    let s = Scenario::shipped("audit-finding").unwrap();
    let codes: BTreeSet<String> = s.expectations.iter().map(|e| e.code.clone()).collect();
    for code in [
        "MISSED_SLOT",
        "RETENTION_TOO_SHORT",
        "RETENTION_TOO_LONG",
        "NOT_COVERED",
        "PLAN_DRIFT",
        "EXEMPT",
        "PENDING_FIRST_BACKUP",
        "BAD_RECOVERY_POINT",
        "BACKUP_JOB_FAILED",
        "MISSING_TAG",
        "UNMANAGED_BACKUP",
        "COLD_STORAGE_DRIFT",
    ] {
        assert!(codes.contains(code), "{code} missing");
    }
}
