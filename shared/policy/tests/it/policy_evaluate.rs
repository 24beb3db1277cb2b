//! Evaluation tests: verdicts, findings, coverage, remediation, reports.

use std::collections::BTreeMap;

use crate::common::*;
use jiff::Timestamp;
use policy::config::{Policy, SelectionMode};
use policy::evaluate::{
    Coverage, Verdict, evaluate_coverage, evaluate_new_table, evaluate_table, needs_creation_time,
    remediation_tag,
};
use policy::facts::{BackupSetup, Fact, JobFacts, JobState, RecoveryPointFacts, TableFacts};
use policy::findings::FindingCode;
use policy::report::{RunReport, Unreachable};
use policy::slots::SlotStatus;

const NOW: &str = "2026-03-01T00:00:00Z";

/// The six slots owed at NOW (see policy_rules::required_slots_cover_the_retention_horizon).
const SLOTS: [&str; 6] = [
    "2025-12-15T00:00:00Z",
    "2025-12-25T00:00:00Z",
    "2026-01-15T00:00:00Z",
    "2026-01-25T00:00:00Z",
    "2026-02-15T00:00:00Z",
    "2026-02-25T00:00:00Z",
];

/// Healthy points for every slot (created 20 minutes after T).
fn healthy_points(name: &str) -> Vec<RecoveryPointFacts> {
    SLOTS
        .iter()
        .map(|s| point(name, ts(s) + mins(20)))
        .collect()
}

fn eval(
    t: &TableFacts,
    setup: &BackupSetup,
    points: Vec<RecoveryPointFacts>,
    jobs: Vec<JobFacts>,
) -> policy::evaluate::TableEvaluation {
    evaluate_table(
        t,
        setup,
        &Fact::Known(points),
        &Fact::Known(jobs),
        &Policy::default(),
        ts(NOW),
    )
}

fn codes(ev: &policy::evaluate::TableEvaluation) -> Vec<FindingCode> {
    ev.findings.iter().map(|f| f.code).collect()
}

fn owned(name: &str) -> TableFacts {
    table(name, &[("owner", "team-a")])
}

#[test]
fn healthy_table_is_compliant() {
    let t = owned("orders");
    let ev = eval(&t, &good_setup(), healthy_points("orders"), vec![]);
    assert_eq!(ev.verdict, Verdict::Compliant, "{:#?}", ev.findings);
    assert!(ev.findings.is_empty());
    assert_eq!(ev.slots.len(), 6);
    assert!(
        ev.slots
            .iter()
            .all(|s| matches!(s.status, SlotStatus::Satisfied { .. }))
    );
    match &ev.coverage {
        Coverage::Protected { by, .. } => {
            assert_eq!(by.len(), 1);
            assert_eq!(by[0].plan_id, PLAN);
            assert_eq!(by[0].selection_id, "sel-all");
            assert_eq!(by[0].rule_name, "TwiceMonthly");
        }
        other => panic!("expected protected, got {other:?}"),
    }
    assert!(!needs_creation_time(&ev));
}

#[test]
fn a_missing_slot_is_a_finding_even_if_newer_points_exist() {
    let t = owned("orders");
    let mut points = healthy_points("orders");
    points.remove(2); // 2026-01-15
    let ev = eval(&t, &good_setup(), points, vec![]);
    assert_eq!(ev.verdict, Verdict::NonCompliant);
    assert_eq!(codes(&ev), vec![FindingCode::MissedSlot]);
    let f = &ev.findings[0];
    assert_eq!(f.subject.as_deref(), Some("2026-01-15T00:00:00Z"));
    assert!(f.message.contains("2026-01-15T00:00:00Z"), "{}", f.message);
    assert!(f.remedy.is_some());
    // Creation time unknown, but earlier slots were satisfied: the table existed before the
    // missed slot, so no creation time can excuse it and none needs reading.
    assert!(!needs_creation_time(&ev));

    // The earliest slot missed: it may precede the table's birth, so the caller should read
    // the creation time.
    let mut points = healthy_points("orders");
    points.remove(0);
    let ev = eval(&t, &good_setup(), points, vec![]);
    assert_eq!(codes(&ev), vec![FindingCode::MissedSlot]);
    assert!(needs_creation_time(&ev));

    // No point at all (e.g. never covered): every missed slot may precede the table's birth.
    let ev = eval(&t, &good_setup(), vec![], vec![]);
    assert!(needs_creation_time(&ev));
}

#[test]
fn creation_time_read_lazily_grants_grace() {
    // A table created on 2026-01-20 has only three slots; without its creation time the
    // earlier ones look missed.
    let mut t = owned("young");
    let points: Vec<_> = SLOTS[3..]
        .iter()
        .map(|s| point("young", ts(s) + mins(5)))
        .collect();
    let first = eval(&t, &good_setup(), points.clone(), vec![]);
    assert_eq!(first.verdict, Verdict::NonCompliant);
    assert_eq!(
        codes(&first),
        vec![FindingCode::MissedSlot; 3],
        "no grace without a creation time"
    );
    assert!(needs_creation_time(&first));
    t.created = Some(ts("2026-01-20T08:00:00Z"));
    let second = eval(&t, &good_setup(), points, vec![]);
    assert_eq!(second.verdict, Verdict::Compliant, "{:#?}", second.findings);
    assert_eq!(second.slots.len(), 3);
    assert!(!needs_creation_time(&second));
}

#[test]
fn finding_ids_are_stable_across_runs() {
    let t = owned("orders");
    let mut points = healthy_points("orders");
    points.remove(4);
    let a = eval(&t, &good_setup(), points.clone(), vec![]);
    let b = evaluate_table(
        &t,
        &good_setup(),
        &Fact::Known(points),
        &Fact::Known(vec![]),
        &Policy::default(),
        ts("2026-03-02T12:00:00Z"),
    );
    assert_eq!(a.findings[0].id, b.findings[0].id);
    let other = eval(&owned("users"), &good_setup(), vec![], vec![]);
    assert_ne!(a.findings[0].id, other.findings[0].id);
}

#[test]
fn exempt_with_reason_yields_only_exempt() {
    let t = table(
        "scratch",
        &[
            ("backup-policy", "exempt"),
            ("exempt-reason", "rebuildable cache"),
        ],
    );
    let ev = eval(&t, &good_setup(), vec![], vec![]);
    assert_eq!(ev.verdict, Verdict::Exempt);
    assert_eq!(codes(&ev), vec![FindingCode::Exempt]);
    assert!(ev.findings[0].message.contains("rebuildable cache"));
    assert!(ev.slots.is_empty());
    assert!(!needs_creation_time(&ev));
}

#[test]
fn exempt_without_reason_is_not_exempt() {
    for reason in [None, Some("   ")] {
        let mut pairs = vec![("backup-policy", "exempt"), ("owner", "a")];
        if let Some(r) = reason {
            pairs.push(("exempt-reason", r));
        }
        let t = table("scratch", &pairs);
        let ev = eval(&t, &good_setup(), vec![], vec![]);
        assert_eq!(ev.verdict, Verdict::NonCompliant);
        let c = codes(&ev);
        assert!(c.contains(&FindingCode::ExemptWithoutReason), "{c:?}");
        // The all-tables selection excludes the exempt tag, so it is not covered either.
        assert!(c.contains(&FindingCode::NotCovered), "{c:?}");
        assert!(!c.contains(&FindingCode::Exempt));
    }
}

#[test]
fn unknown_tags_are_unverifiable() {
    let mut t = owned("orders");
    t.tags = Fact::unknown("AccessDeniedException");
    let ev = eval(&t, &good_setup(), healthy_points("orders"), vec![]);
    assert_eq!(ev.verdict, Verdict::Unverifiable);
    assert_eq!(codes(&ev), vec![FindingCode::Unverifiable]);
    assert!(ev.findings[0].message.contains("AccessDeniedException"));
}

#[test]
fn unknown_points_or_setup_are_unverifiable_never_compliant() {
    let t = owned("orders");
    let ev = evaluate_table(
        &t,
        &good_setup(),
        &Fact::unknown("vault Default: AccessDenied"),
        &Fact::Known(vec![]),
        &Policy::default(),
        ts(NOW),
    );
    assert_eq!(ev.verdict, Verdict::Unverifiable);
    assert_eq!(codes(&ev), vec![FindingCode::Unverifiable]);

    let setup = BackupSetup {
        plans: Fact::unknown("ListBackupPlans throttled"),
        selections: Fact::Known(vec![]),
    };
    let ev = eval(&t, &setup, healthy_points("orders"), vec![]);
    assert_eq!(ev.verdict, Verdict::Unverifiable);
    assert!(matches!(ev.coverage, Coverage::Unknown { .. }));
}

#[test]
fn known_problems_win_over_unknowns() {
    // Setup unknown, but a slot is definitely missed: non-compliant.
    let t = owned("orders");
    let setup = BackupSetup {
        plans: Fact::unknown("throttled"),
        selections: Fact::unknown("throttled"),
    };
    let ev = eval(&t, &setup, vec![], vec![]);
    assert_eq!(ev.verdict, Verdict::NonCompliant);
    let c = codes(&ev);
    assert!(c.contains(&FindingCode::Unverifiable) && c.contains(&FindingCode::MissedSlot));
}

#[test]
fn not_covered_in_tagged_mode_names_the_fixing_tag() {
    let mut policy = Policy::default();
    policy.selection_mode = SelectionMode::Tagged;
    let setup = BackupSetup {
        plans: Fact::Known(vec![plan(PLAN, vec![good_rule()])]),
        selections: Fact::Known(vec![tagged_selection("sel-tag", PLAN)]),
    };
    let t = owned("orders");
    let ev = evaluate_new_table(&t, &setup, &policy);
    assert_eq!(ev.verdict, Verdict::NonCompliant);
    assert_eq!(codes(&ev), vec![FindingCode::NotCovered]);
    assert!(
        ev.findings[0]
            .remedy
            .as_deref()
            .unwrap()
            .contains("backup-policy=twice-monthly-90d")
    );
    assert_eq!(
        remediation_tag(&t, &setup, &policy),
        Some(("backup-policy".into(), "twice-monthly-90d".into()))
    );
    // Tagged: protected, first backup pending.
    let tagged = table(
        "orders",
        &[("owner", "a"), ("backup-policy", "twice-monthly-90d")],
    );
    let ev = evaluate_new_table(&tagged, &setup, &policy);
    assert_eq!(ev.verdict, Verdict::Pending);
    assert_eq!(codes(&ev), vec![FindingCode::PendingFirstBackup]);
    assert_eq!(
        remediation_tag(&tagged, &setup, &policy),
        None,
        "already protected"
    );
}

#[test]
fn remediation_tag_only_when_it_would_help() {
    let policy = Policy::default();
    let t = owned("orders");
    // The only plan that selects by tag is drifted: tagging would not protect.
    let mut bad = good_rule();
    bad.delete_after_days = Some(30);
    let drifted = BackupSetup {
        plans: Fact::Known(vec![plan("drift", vec![bad])]),
        selections: Fact::Known(vec![tagged_selection("s", "drift")]),
    };
    assert_eq!(remediation_tag(&t, &drifted, &policy), None);
    // A NotResources exclusion beats the tag.
    let mut excl = tagged_selection("s", PLAN);
    excl.not_resources = vec![table_arn("orders")];
    let excluded = BackupSetup {
        plans: Fact::Known(vec![plan(PLAN, vec![good_rule()])]),
        selections: Fact::Known(vec![excl]),
    };
    assert_eq!(remediation_tag(&t, &excluded, &policy), None);
    // Exempt-tagged tables are never re-tagged (a human decides).
    let mut tagged_setup = good_setup();
    tagged_setup.selections = Fact::Known(vec![tagged_selection("s", PLAN)]);
    let ex = table("x", &[("backup-policy", "exempt")]);
    assert_eq!(remediation_tag(&ex, &tagged_setup, &policy), None);
    // Unknown tags: no guess.
    let mut unknown = owned("orders");
    unknown.tags = Fact::unknown("denied");
    assert_eq!(remediation_tag(&unknown, &tagged_setup, &policy), None);
}

#[test]
fn covered_only_by_a_drifted_plan_is_plan_drift() {
    let mut bad = good_rule();
    bad.delete_after_days = Some(35);
    bad.schedule_expression = "cron(0 3 * * ? *)".into();
    let setup = BackupSetup {
        plans: Fact::Known(vec![plan("daily", vec![bad])]),
        selections: Fact::Known(vec![all_tables_selection("s", "daily")]),
    };
    let t = owned("orders");
    let ev = evaluate_new_table(&t, &setup, &Policy::default());
    assert_eq!(codes(&ev), vec![FindingCode::PlanDrift]);
    assert_eq!(ev.findings[0].subject.as_deref(), Some("daily"));
    assert!(
        ev.findings[0].message.contains("DeleteAfterDays is 35"),
        "{}",
        ev.findings[0].message
    );
    assert!(matches!(ev.coverage, Coverage::DriftedOnly { .. }));
}

#[test]
fn not_covered_lists_each_selections_reason() {
    let mut s = selection("only-users", PLAN);
    s.resources = vec![table_arn("users")];
    let setup = BackupSetup {
        plans: Fact::Known(vec![plan(PLAN, vec![good_rule()])]),
        selections: Fact::Known(vec![s]),
    };
    let t = owned("orders");
    match evaluate_coverage(&t, &setup, &Policy::default()) {
        Coverage::NotCovered { selections } => {
            assert_eq!(selections.len(), 1);
            assert_eq!(selections[0].selection_id, "only-users");
        }
        other => panic!("{other:?}"),
    }
    let ev = eval(&t, &setup, vec![], vec![]);
    let nc = ev
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NotCovered)
        .unwrap();
    assert!(nc.message.contains("sel-only-users"), "{}", nc.message);
    assert_eq!(
        ev.findings[0].code,
        FindingCode::NotCovered,
        "most severe first"
    );
}

#[test]
fn selection_of_an_unread_plan_is_unknown_coverage() {
    let setup = BackupSetup {
        plans: Fact::Known(vec![]),
        selections: Fact::Known(vec![all_tables_selection("s", "ghost")]),
    };
    assert!(matches!(
        evaluate_coverage(&owned("t"), &setup, &Policy::default()),
        Coverage::Unknown { .. }
    ));
}

#[test]
fn on_demand_points_never_fill_a_slot_and_are_unmanaged_outside_the_lifecycle() {
    let t = owned("orders");
    let mut points = healthy_points("orders");
    points.remove(5); // 2026-02-25
    // A manual backup right in the missed slot's window, kept 35 days.
    points.push(on_demand("orders", ts("2026-02-25T00:05:00Z"), Some(35)));
    // A manual backup with the policy's lifecycle: tolerated (no finding).
    points.push(on_demand("orders", ts("2026-02-20T10:00:00Z"), Some(90)));
    let ev = eval(&t, &good_setup(), points, vec![]);
    let mut c = codes(&ev);
    c.sort();
    assert_eq!(
        c,
        vec![FindingCode::MissedSlot, FindingCode::UnmanagedBackup]
    );
    let missed = ev
        .findings
        .iter()
        .find(|f| f.code == FindingCode::MissedSlot)
        .unwrap();
    assert!(missed.message.contains("on demand"), "{}", missed.message);
}

#[test]
fn policy_point_lifecycle_drift_and_bad_status() {
    let t = owned("orders");
    let mut points = healthy_points("orders");
    // (The newest point: with 30 days it is not yet due for deletion.)
    points[5].delete_after_days = Some(30);
    points[5].delete_at = Some(points[5].created + days(30));
    points[1].delete_after_days = Some(120);
    points[1].delete_at = Some(points[1].created + days(120));
    points[2].move_to_cold_storage_after_days = Some(10);
    let mut broken = point("orders", ts("2026-02-20T00:00:00Z"));
    broken.status = policy::facts::PointStatus::from_api("PARTIAL");
    points.push(broken.clone());
    let ev = eval(&t, &good_setup(), points.clone(), vec![]);
    let mut c = codes(&ev);
    c.sort();
    assert_eq!(
        c,
        vec![
            FindingCode::RetentionTooShort,
            FindingCode::RetentionTooLong,
            FindingCode::ColdStorageDrift,
            FindingCode::BadRecoveryPoint
        ]
    );
    assert_eq!(ev.verdict, Verdict::NonCompliant);
    let bad = ev
        .findings
        .iter()
        .find(|f| f.code == FindingCode::BadRecoveryPoint)
        .unwrap();
    assert_eq!(bad.subject.as_deref(), Some(broken.arn.as_str()));
}

#[test]
fn points_of_a_deleted_plan_count_when_their_rule_cron_and_lifecycle_conform() {
    let t = owned("orders");
    let mut points = healthy_points("orders");
    for p in &mut points {
        if let Some(cb) = p.created_by.as_mut().map(std::sync::Arc::make_mut) {
            cb.plan_id = "old-plan-since-deleted".into();
            cb.rule_id = Some("old-rule".into());
        }
    }
    let ev = eval(&t, &good_setup(), points.clone(), vec![]);
    assert_eq!(ev.verdict, Verdict::Compliant, "{:#?}", ev.findings);
    // Without the rule's cron in CreatedBy there is no evidence: the slots are missed.
    for p in &mut points {
        if let Some(cb) = p.created_by.as_mut().map(std::sync::Arc::make_mut) {
            cb.rule_cron = None;
        }
    }
    let ev = eval(&t, &good_setup(), points, vec![]);
    assert!(codes(&ev).contains(&FindingCode::MissedSlot));
}

#[test]
fn failed_jobs_are_reported_without_changing_the_verdict() {
    let t = owned("orders");
    let job = |id: &str, state: &str| JobFacts {
        job_id: id.into(),
        resource_arn: table_arn("orders"),
        state: JobState::from_api(state),
        created: ts("2026-02-25T00:01:00Z"),
        completed: None,
        status_message: Some("Insufficient privileges".into()),
        plan_id: Some(PLAN.into()),
    };
    let jobs = vec![
        job("j1", "FAILED"),
        job("j2", "COMPLETED"),
        job("j3", "EXPIRED"),
        job("j4", "RUNNING"),
    ];
    let ev = eval(&t, &good_setup(), healthy_points("orders"), jobs);
    assert_eq!(ev.verdict, Verdict::Compliant);
    let subjects: Vec<_> = ev
        .findings
        .iter()
        .map(|f| f.subject.clone().unwrap())
        .collect();
    assert_eq!(codes(&ev), vec![FindingCode::BackupJobFailed; 2]);
    assert_eq!(subjects, vec!["j1".to_string(), "j3".to_string()]);
    assert!(ev.findings[0].message.contains("Insufficient privileges"));

    let ev = evaluate_table(
        &t,
        &good_setup(),
        &Fact::Known(healthy_points("orders")),
        &Fact::unknown("denied"),
        &Policy::default(),
        ts(NOW),
    );
    // Unknown is never compliant: a failed job may be unreported.
    assert_eq!(ev.verdict, Verdict::Unverifiable);
    assert_eq!(codes(&ev), vec![FindingCode::Unverifiable]);
    assert_eq!(ev.findings[0].subject.as_deref(), Some("backup-jobs"));
    assert!(
        ev.findings[0].message.contains("denied"),
        "{:?}",
        ev.findings
    );
}

#[test]
fn required_tags_and_allowed_values() {
    let mut policy = Policy::default();
    policy.required_tags = vec![
        policy::config::RequiredTag::any("owner"),
        policy::config::RequiredTag {
            key: "cost-center".into(),
            allowed_values: vec!["finance".into(), "ops".into()],
        },
    ];
    let ev = |pairs: &[(&str, &str)]| {
        let t = table("orders", pairs);
        let e = evaluate_new_table(&t, &good_setup(), &policy);
        let mut c: Vec<_> = e
            .findings
            .iter()
            .filter(|f| f.code != FindingCode::PendingFirstBackup)
            .map(|f| (f.code, f.subject.clone().unwrap_or_default()))
            .collect();
        c.sort();
        c
    };
    assert_eq!(
        ev(&[]),
        vec![
            (FindingCode::MissingTag, "cost-center".into()),
            (FindingCode::MissingTag, "owner".into())
        ]
    );
    assert_eq!(
        ev(&[("owner", " "), ("cost-center", "Finance")]),
        vec![
            (FindingCode::MissingTag, "owner".into()),
            (FindingCode::TagValueNotAllowed, "cost-center".into())
        ]
    );
    assert_eq!(ev(&[("owner", "x"), ("cost-center", "ops")]), vec![]);
}

#[test]
fn new_table_without_any_selection() {
    let setup = BackupSetup {
        plans: Fact::Known(vec![]),
        selections: Fact::Known(vec![]),
    };
    let ev = evaluate_new_table(&owned("t"), &setup, &Policy::default());
    assert_eq!(codes(&ev), vec![FindingCode::NotCovered]);
    assert!(ev.findings[0].message.contains("no backup selections"));
}

#[test]
fn pending_first_backup_for_a_brand_new_protected_table() {
    let mut t = owned("fresh");
    t.created = Some(ts("2026-02-26T10:00:00Z"));
    let ev = eval(&t, &good_setup(), vec![], vec![]);
    assert_eq!(ev.verdict, Verdict::Pending);
    assert_eq!(codes(&ev), vec![FindingCode::PendingFirstBackup]);
    assert!(
        ev.findings[0].message.contains("2026-03-15T00:00:00Z"),
        "{}",
        ev.findings[0].message
    );
}

#[test]
fn run_report_counts_and_renders() {
    let good = eval(
        &owned("orders"),
        &good_setup(),
        healthy_points("orders"),
        vec![],
    );
    let bad = eval(&owned("users"), &good_setup(), vec![], vec![]);
    let exempt = eval(
        &table(
            "cache",
            &[("backup-policy", "exempt"), ("exempt-reason", "cache")],
        ),
        &good_setup(),
        vec![],
        vec![],
    );
    let mut calls = BTreeMap::new();
    calls.insert("dynamodb:ListTables".to_string(), 1);
    calls.insert("backup:ListRecoveryPointsByBackupVault".to_string(), 2);
    let report = RunReport::new(
        ts(NOW),
        Policy::default(),
        vec![good, bad, exempt],
        calls,
        vec![Unreachable {
            what: "vault Legacy".into(),
            reason: "AccessDenied".into(),
        }],
        vec![],
    );
    assert_eq!(report.verdicts[&Verdict::Compliant], 1);
    assert_eq!(report.verdicts[&Verdict::NonCompliant], 1);
    assert_eq!(report.verdicts[&Verdict::Exempt], 1);
    assert_eq!(report.verdicts[&Verdict::Pending], 0);
    assert_eq!(report.findings_per_code[&FindingCode::MissedSlot], 6);
    assert_eq!(report.total_api_calls(), 3);
    assert!(!report.all_good());

    let text = report.render_text();
    assert!(text.contains("users [NON-COMPLIANT]"), "{text}");
    assert!(text.contains("MISSED_SLOT"));
    assert!(text.contains("COMPLIANT (1): orders"));
    assert!(text.contains("EXEMPT (1): cache (cache)"), "{text}");
    assert!(text.contains("vault Legacy: AccessDenied"));

    let json = report.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["findings_per_code"]["MISSED_SLOT"], 6);
    assert_eq!(v["verdicts"]["non_compliant"], 1);
    assert_eq!(v["tables"][1]["findings"][0]["code"], "MISSED_SLOT");
    let back: RunReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn timestamps_in_findings_are_rfc3339_utc() {
    let ev = eval(&owned("t"), &good_setup(), vec![], vec![]);
    let s = ev.findings[0].subject.clone().unwrap();
    assert!(s.parse::<Timestamp>().is_ok() && s.ends_with('Z'), "{s}");
}

#[test]
fn evaluator_gives_the_same_results_as_the_free_functions() {
    let mut bad = good_rule();
    bad.rule_id = Some("bad".into());
    bad.schedule_expression = "cron(0 0 15 * ? *)".into();
    let setup = BackupSetup {
        plans: Fact::Known(vec![
            plan(PLAN, vec![good_rule()]),
            plan("drift", vec![bad]),
        ]),
        selections: Fact::Known(vec![
            tagged_selection("s-tag", PLAN),
            all_tables_selection("s-all", "drift"),
        ]),
    };
    let policy = Policy::default();
    let ev = policy::evaluate::Evaluator::new(&setup, &policy);
    assert!(ev.conformance()[PLAN].conforms());
    assert!(!ev.conformance()["drift"].conforms());
    let tables = [
        owned("orders"),
        table(
            "tagged",
            &[("owner", "a"), ("backup-policy", "twice-monthly-90d")],
        ),
        table(
            "x",
            &[("backup-policy", "exempt"), ("exempt-reason", "tmp")],
        ),
    ];
    for t in &tables {
        let points = Fact::Known(healthy_points(&t.name));
        let jobs = Fact::Known(vec![]);
        assert_eq!(
            ev.evaluate_table(t, &points, &jobs, ts(NOW)),
            evaluate_table(t, &setup, &points, &jobs, &policy, ts(NOW))
        );
        assert_eq!(
            ev.evaluate_new_table(t),
            evaluate_new_table(t, &setup, &policy)
        );
        assert_eq!(
            ev.evaluate_coverage(t),
            evaluate_coverage(t, &setup, &policy)
        );
        assert_eq!(ev.remediation_tag(t), remediation_tag(t, &setup, &policy));
    }
    // orders: only the drifted all-tables plan covers it; the tag would fix it.
    assert!(matches!(
        ev.evaluate_coverage(&tables[0]),
        Coverage::DriftedOnly { .. }
    ));
    assert_eq!(
        ev.remediation_tag(&tables[0]),
        Some(("backup-policy".into(), "twice-monthly-90d".into()))
    );
    // tagged: protected, with the drifted cover listed for information.
    match ev.evaluate_coverage(&tables[1]) {
        Coverage::Protected { by, also_drifted } => {
            assert_eq!(by[0].plan_id, PLAN);
            assert_eq!(also_drifted[0].plan_id, "drift");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn evaluator_slot_cache_follows_now_and_creation_time() {
    let setup = good_setup();
    let policy = Policy::default();
    let ev = policy::evaluate::Evaluator::new(&setup, &policy);
    let points = Fact::Known(healthy_points("orders"));
    let jobs = Fact::Known(vec![]);
    for now in [NOW, "2026-02-16T00:00:00Z", NOW, "2026-02-25T02:00:00Z"] {
        for created in [
            None,
            Some("2026-01-20T00:00:00Z"),
            Some("2026-02-25T00:00:00Z"),
        ] {
            let mut t = owned("orders");
            t.created = created.map(ts);
            assert_eq!(
                ev.evaluate_table(&t, &points, &jobs, ts(now)),
                evaluate_table(&t, &setup, &points, &jobs, &policy, ts(now)),
                "now {now}, created {created:?}"
            );
            let expected: Vec<_> = policy::slots::required_slots(
                policy.schedule(),
                policy.start_window(),
                policy.completion_window(),
                policy.retention(),
                t.created,
                ts(now),
            );
            let got: Vec<_> = ev
                .evaluate_table(&t, &points, &jobs, ts(now))
                .slots
                .into_iter()
                .map(|r| r.slot)
                .collect();
            assert_eq!(got, expected, "now {now}, created {created:?}");
        }
    }
}

#[test]
fn finding_text_names_plans_and_selections_by_name_and_keeps_ids_in_subjects() {
    const GOOD_ID: &str = "00000001-0000-4000-8000-000000000001";
    const DRIFT_ID: &str = "00000001-0000-4000-8000-000000000003";
    let named = |id: &str, name: &str, rules| {
        let mut p = plan(id, rules);
        p.name = name.to_string();
        p
    };
    let mut bad = good_rule();
    bad.name = "daily".into();
    bad.delete_after_days = Some(35);
    let mut only_users = selection("only-users", GOOD_ID);
    only_users.resources = vec![table_arn("users")];
    let setup = BackupSetup {
        plans: Fact::Known(vec![
            named(GOOD_ID, "twice-monthly", vec![good_rule()]),
            named(DRIFT_ID, "daily-35d", vec![bad]),
        ]),
        selections: Fact::Known(vec![
            only_users.clone(),
            all_tables_selection("all", DRIFT_ID),
        ]),
    };
    let drifted = std::sync::Arc::new(policy::facts::CreatedBy {
        plan_id: DRIFT_ID.into(),
        plan_arn: None,
        plan_version: None,
        rule_id: None,
        rule_cron: None,
        rule_timezone: None,
    });
    let mut by_drifted = point("orders", ts("2026-02-25T00:05:00Z"));
    by_drifted.created_by = Some(drifted);
    by_drifted.delete_after_days = Some(35);
    by_drifted.delete_at = Some(by_drifted.created + days(35));
    let job = JobFacts {
        job_id: "job-1".into(),
        resource_arn: table_arn("orders"),
        state: JobState::Failed,
        created: ts("2026-02-25T00:01:00Z"),
        completed: None,
        status_message: None,
        plan_id: Some(DRIFT_ID.into()),
    };
    let ev = eval(&owned("orders"), &setup, vec![by_drifted], vec![job]);
    let find = |code: FindingCode| {
        ev.findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code:?} in {:?}", ev.findings))
    };
    let drift = find(FindingCode::PlanDrift);
    assert_eq!(
        drift.subject.as_deref(),
        Some(DRIFT_ID),
        "ids stay in the subject"
    );
    assert!(
        drift
            .message
            .contains("plan daily-35d (via selection sel-all): rule daily:"),
        "{}",
        drift.message
    );
    let missed = ev
        .findings
        .iter()
        .find(|f| f.code == FindingCode::MissedSlot && f.message.contains("Nearby"))
        .unwrap_or_else(|| panic!("no missed slot with a near miss: {:?}", ev.findings));
    assert!(
        missed.message.contains("by non-conforming plan daily-35d"),
        "{}",
        missed.message
    );
    let unmanaged = find(FindingCode::UnmanagedBackup);
    assert!(
        unmanaged
            .message
            .contains("made by plan daily-35d, which does not conform"),
        "{}",
        unmanaged.message
    );
    let failed = find(FindingCode::BackupJobFailed);
    assert!(
        failed.message.contains("(plan daily-35d, created"),
        "{}",
        failed.message
    );
    for f in &ev.findings {
        assert!(
            !f.message.contains(DRIFT_ID),
            "plan id in the text: {}",
            f.message
        );
    }

    // Not covered: each selection is named with its plan's name.
    let setup = BackupSetup {
        plans: Fact::Known(vec![named(GOOD_ID, "twice-monthly", vec![good_rule()])]),
        selections: Fact::Known(vec![only_users]),
    };
    let ev = eval(&owned("orders"), &setup, vec![], vec![]);
    let nc = ev
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NotCovered)
        .unwrap();
    assert!(
        nc.message
            .contains("selection sel-only-users (plan twice-monthly):"),
        "{}",
        nc.message
    );
    assert!(!nc.message.contains(GOOD_ID), "{}", nc.message);

    // A plan that was not read has no name: its id is all there is to name it by.
    let setup = BackupSetup {
        plans: Fact::Known(vec![]),
        selections: Fact::Known(vec![all_tables_selection("s", "ghost")]),
    };
    let ev = eval(&owned("orders"), &setup, vec![], vec![]);
    let unknown = ev
        .findings
        .iter()
        .find(|f| f.subject.as_deref() == Some("coverage"))
        .unwrap();
    assert!(
        unknown
            .message
            .contains("its plan ghost is not among the plans read"),
        "{}",
        unknown.message
    );
}
