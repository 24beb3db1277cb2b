//! Rule-level tests: configuration, selection semantics, plan conformance, retention, slots.

use crate::common::*;
use policy::config::{ConfigError, Mode, Policy, RequiredTag, SelectionMode, TagPair};
use policy::conformance::{
    AWS_DEFAULT_COMPLETION_WINDOW_MINUTES, Deviation, check_plan, check_plan_document, check_rule,
    parse_plan_document,
};
use policy::facts::{Fact, PointArnKind, PointStatus, TagCondition, point_arn_kind};
use policy::retention::{RetentionIssue, check_point, check_point_at};
use policy::selection::{
    ConditionOperator, CoverVia, NoMatchReason, SelectionOutcome, match_selection, wildcard_match,
};
use policy::slots::{NearMissReason, SlotStatus, classify_slots, required_slots};

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn invalid_var(err: ConfigError) -> (String, String, String) {
    match err {
        ConfigError::Invalid {
            var,
            value,
            accepted,
            ..
        } => (var, value, accepted),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------- configuration

#[test]
fn default_policy_is_the_policy_document() {
    let p = Policy::default();
    assert_eq!(p.schedule_expression(), "cron(0 0 15,25 * ? *)");
    assert_eq!(p.timezone(), "UTC");
    assert_eq!(p.start_window_minutes, 60);
    assert_eq!(p.completion_window_minutes, 180);
    assert_eq!(p.retention_days, 90);
    assert!(!p.cold_storage_allowed);
    assert_eq!(p.vault_name, None);
    assert_eq!(p.selection_mode, SelectionMode::AllTables);
    assert_eq!(
        p.backup_tag,
        TagPair::new("backup-policy", "twice-monthly-90d")
    );
    assert_eq!(p.required_tags, vec![RequiredTag::any("owner")]);
    assert_eq!(p.exempt_tag, TagPair::new("backup-policy", "exempt"));
    assert_eq!(p.exempt_reason_tag, "exempt-reason");
    assert_eq!(p.mode, Mode::Enforce);
    // The schedule is live: midnight UTC on the 15th and the 25th.
    let next = p.schedule().next_after(ts("2026-01-15T00:00:00Z")).unwrap();
    assert_eq!(next, ts("2026-01-25T00:00:00Z"));
    assert_eq!(p.retention(), days(90));
}

#[test]
fn from_vars_without_variables_is_the_default_and_ignores_other_names() {
    let p = Policy::from_vars(vars(&[("PATH", "/bin"), ("BG_UNRELATED", "x")])).unwrap();
    assert_eq!(p, Policy::default());
}

#[test]
fn from_vars_reads_every_variable() {
    let p = Policy::from_vars(vars(&[
        ("BG_SCHEDULE", "0 2 1 * ? *"),
        ("BG_TIMEZONE", "Europe/Berlin"),
        ("BG_START_WINDOW_MINUTES", "120"),
        ("BG_COMPLETION_WINDOW_MINUTES", "600"),
        ("BG_RETENTION_DAYS", "35"),
        ("BG_VAULT_NAME", "prod-vault"),
        ("BG_SELECTION_MODE", "tagged"),
        ("BG_BACKUP_TAG", "backup=monthly"),
        ("BG_REQUIRED_TAGS", "owner, cost-center=finance|ops"),
        ("BG_EXEMPT_TAG", "backup=none"),
        ("BG_EXEMPT_REASON_TAG", "why"),
        ("BG_MODE", "report-only"),
    ]))
    .unwrap();
    assert_eq!(p.schedule_expression(), "0 2 1 * ? *");
    assert_eq!(p.timezone(), "Europe/Berlin");
    assert_eq!(p.start_window_minutes, 120);
    assert_eq!(p.completion_window_minutes, 600);
    assert_eq!(p.retention_days, 35);
    assert_eq!(p.vault_name.as_deref(), Some("prod-vault"));
    assert_eq!(p.selection_mode, SelectionMode::Tagged);
    assert_eq!(p.backup_tag, TagPair::new("backup", "monthly"));
    assert_eq!(
        p.required_tags,
        vec![
            RequiredTag::any("owner"),
            RequiredTag {
                key: "cost-center".into(),
                allowed_values: vec!["finance".into(), "ops".into()]
            }
        ]
    );
    assert_eq!(p.exempt_tag, TagPair::new("backup", "none"));
    assert_eq!(p.exempt_reason_tag, "why");
    assert_eq!(p.mode, Mode::ReportOnly);
    // 02:00 Berlin on 1 Feb 2026 is 01:00 UTC.
    assert_eq!(
        p.schedule().next_after(ts("2026-01-15T00:00:00Z")),
        Some(ts("2026-02-01T01:00:00Z"))
    );
}

#[test]
fn empty_required_tags_and_vault_mean_none_and_any() {
    let p = Policy::from_vars(vars(&[("BG_REQUIRED_TAGS", ""), ("BG_VAULT_NAME", "")])).unwrap();
    assert!(p.required_tags.is_empty());
    assert_eq!(p.vault_name, None);
}

#[test]
fn config_errors_name_the_variable_the_value_and_what_is_accepted() {
    let cases: &[(&str, &str, &str)] = &[
        ("BG_RETENTION_DAYS", "ninety", "integer"),
        ("BG_RETENTION_DAYS", "0", "1 to 36500"),
        ("BG_START_WINDOW_MINUTES", "59", "60 to"),
        ("BG_COMPLETION_WINDOW_MINUTES", "-5", "60 to"),
        ("BG_SCHEDULE", "cron(0 0 15,25 * * *)", "cron expression"),
        ("BG_SCHEDULE", "rate(1 day)", "cron expression"),
        ("BG_TIMEZONE", "Mars/Olympus", "IANA"),
        ("BG_SELECTION_MODE", "some-tables", "all-tables or tagged"),
        ("BG_BACKUP_TAG", "backup-policy", "key=value"),
        ("BG_BACKUP_TAG", "aws:backup=x", "not starting with aws:"),
        ("BG_EXEMPT_TAG", "backup-policy=", "tag value"),
        (
            "BG_REQUIRED_TAGS",
            "owner,cost-center=finance|",
            "key=value1|value2",
        ),
        ("BG_REQUIRED_TAGS", "owner,owner", "each key at most once"),
        ("BG_VAULT_NAME", "a", "2-50 characters"),
        ("BG_MODE", "dry-run", "enforce or report-only"),
    ];
    for (var, value, accepted_part) in cases {
        let err = Policy::from_vars(vars(&[(var, value)])).unwrap_err();
        let text = err.to_string();
        let (v, val, accepted) = invalid_var(err);
        assert_eq!(&v, var, "{text}");
        assert_eq!(&val, value, "{text}");
        assert!(
            accepted.contains(accepted_part),
            "{var}={value}: accepted {accepted:?} should mention {accepted_part:?}"
        );
        assert!(text.contains(var) && text.contains(value), "{text}");
    }
}

#[test]
fn backup_tag_equal_to_exempt_tag_is_a_conflict() {
    let err = Policy::from_vars(vars(&[("BG_BACKUP_TAG", "backup-policy=exempt")])).unwrap_err();
    assert!(matches!(err, ConfigError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("BG_BACKUP_TAG"));
}

#[test]
fn policy_serialises_and_reads_back_validated() {
    let p = Policy::from_vars(vars(&[("BG_TIMEZONE", "Europe/Berlin")])).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"schedule_expression\":\"cron(0 0 15,25 * ? *)\""));
    assert!(json.contains("\"selection_mode\":\"all-tables\""));
    let back: Policy = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let bad = json.replace("Europe/Berlin", "Nowhere/Land");
    assert!(serde_json::from_str::<Policy>(&bad).is_err());
}

// ---------------------------------------------------------------- selection

#[test]
fn wildcard_matching() {
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("*", "anything"));
    assert!(wildcard_match("prod*", "production"));
    assert!(wildcard_match("*rod*", "production"));
    assert!(wildcard_match("a*b*c", "aXXbYYc"));
    assert!(wildcard_match("a*b*c", "abc"));
    assert!(!wildcard_match("a*b*c", "acb"));
    assert!(!wildcard_match("prod*", "Production"), "case-sensitive");
    assert!(
        !wildcard_match("prod", "production"),
        "no implicit prefix match"
    );
    assert!(wildcard_match("t?ble", "t?ble"), "? is literal");
    assert!(!wildcard_match("t?ble", "table"), "? is literal");
    assert!(wildcard_match(
        "arn:aws:dynamodb:*:*:table/*",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
    ));
    assert!(!wildcard_match(
        "arn:aws:dynamodb:*:*:table/*",
        "arn:aws:rds:eu-west-1:111122223333:db:orders"
    ));
}

#[test]
fn resources_exact_and_wildcard_and_no_inclusion() {
    let t = table("orders", &[]);
    let mut s = selection("s", PLAN);
    s.resources = vec![table_arn("orders")];
    assert_eq!(
        match_selection(&t.arn, &t.tags, &s),
        SelectionOutcome::Covered {
            via: CoverVia::Resource {
                pattern: table_arn("orders")
            }
        }
    );
    s.resources = vec![table_arn("ord*")];
    assert!(match_selection(&t.arn, &t.tags, &s).is_covered());
    s.resources = vec![table_arn("Orders")];
    assert_eq!(
        match_selection(&t.arn, &t.tags, &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::NoInclusion {
                resources: 1,
                list_of_tags: 0
            }
        }
    );
}

#[test]
fn list_of_tags_is_or_and_accepts_both_key_forms() {
    let mut s = selection("s", PLAN);
    s.list_of_tags = vec![
        TagCondition::new("aws:ResourceTag/team", "payments"),
        TagCondition::new("backup", "yes"),
    ];
    let a = table("a", &[("team", "payments")]);
    let b = table("b", &[("backup", "yes")]);
    let c = table("c", &[("team", "Payments"), ("backup", "no")]);
    assert!(match_selection(&a.arn, &a.tags, &s).is_covered());
    assert!(match_selection(&b.arn, &b.tags, &s).is_covered());
    assert!(matches!(
        match_selection(&c.arn, &c.tags, &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::NoInclusion { .. }
        }
    ));
}

#[test]
fn resources_or_list_of_tags() {
    let mut s = selection("s", PLAN);
    s.resources = vec![table_arn("orders")];
    s.list_of_tags = vec![TagCondition::new("backup", "yes")];
    let by_arn = table("orders", &[]);
    let by_tag = table("users", &[("backup", "yes")]);
    let neither = table("users", &[]);
    assert!(match_selection(&by_arn.arn, &by_arn.tags, &s).is_covered());
    assert!(matches!(
        match_selection(&by_tag.arn, &by_tag.tags, &s),
        SelectionOutcome::Covered {
            via: CoverVia::Tag { .. }
        }
    ));
    assert!(!match_selection(&neither.arn, &neither.tags, &s).is_covered());
}

#[test]
fn each_condition_operator() {
    let op_cases: &[(ConditionOperator, &str, Option<&str>, bool)] = &[
        (ConditionOperator::StringEquals, "prod", Some("prod"), true),
        (ConditionOperator::StringEquals, "prod", Some("Prod"), false),
        (ConditionOperator::StringEquals, "prod", None, false),
        (
            ConditionOperator::StringNotEquals,
            "exempt",
            Some("x"),
            true,
        ),
        (
            ConditionOperator::StringNotEquals,
            "exempt",
            Some("exempt"),
            false,
        ),
        (ConditionOperator::StringNotEquals, "exempt", None, true),
        (
            ConditionOperator::StringLike,
            "prod*",
            Some("production"),
            true,
        ),
        (
            ConditionOperator::StringLike,
            "prod*",
            Some("staging"),
            false,
        ),
        (ConditionOperator::StringLike, "*", None, false),
        (
            ConditionOperator::StringNotLike,
            "dev*",
            Some("development"),
            false,
        ),
        (ConditionOperator::StringNotLike, "dev*", Some("prod"), true),
        (ConditionOperator::StringNotLike, "dev*", None, true),
    ];
    for (op, pattern, actual, expected) in op_cases {
        assert_eq!(
            op.holds(pattern, *actual),
            *expected,
            "{op} {pattern} {actual:?}"
        );
    }

    // The same through selections.
    let base = || {
        let mut s = selection("s", PLAN);
        s.resources = vec!["*".into()];
        s
    };
    let t = table("t", &[("stage", "production"), ("team", "core")]);
    let mut s = base();
    s.conditions.string_equals = vec![TagCondition::new("aws:ResourceTag/team", "core")];
    assert!(match_selection(&t.arn, &t.tags, &s).is_covered());
    let mut s = base();
    s.conditions.string_like = vec![TagCondition::new("stage", "prod*")];
    assert!(match_selection(&t.arn, &t.tags, &s).is_covered());
    let mut s = base();
    s.conditions.string_not_like = vec![TagCondition::new("stage", "prod*")];
    assert_eq!(
        match_selection(&t.arn, &t.tags, &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::ConditionFailed {
                operator: ConditionOperator::StringNotLike,
                condition: TagCondition::new("stage", "prod*"),
                actual: Some("production".into())
            }
        }
    );
    let mut s = base();
    s.conditions.string_not_equals = vec![TagCondition::new("team", "core")];
    assert!(!match_selection(&t.arn, &t.tags, &s).is_covered());
}

#[test]
fn conditions_are_anded_with_the_inclusion() {
    let mut s = selection("s", PLAN);
    s.resources = vec!["arn:aws:dynamodb:*:*:table/*".into()];
    s.conditions.string_equals = vec![TagCondition::new("aws:ResourceTag/backup", "true")];
    s.conditions.string_like = vec![TagCondition::new("aws:ResourceTag/stage", "prod*")];
    let both = table("a", &[("backup", "true"), ("stage", "prod-eu")]);
    let one = table("b", &[("backup", "true"), ("stage", "dev")]);
    assert!(match_selection(&both.arn, &both.tags, &s).is_covered());
    assert!(matches!(
        match_selection(&one.arn, &one.tags, &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::ConditionFailed {
                operator: ConditionOperator::StringLike,
                ..
            }
        }
    ));
}

#[test]
fn not_resources_beats_a_tag_match_and_a_resource_match() {
    let mut s = selection("s", PLAN);
    s.resources = vec!["*".into()];
    s.list_of_tags = vec![TagCondition::new("backup", "yes")];
    s.not_resources = vec![table_arn("scratch-*")];
    let excluded = table("scratch-1", &[("backup", "yes")]);
    assert_eq!(
        match_selection(&excluded.arn, &excluded.tags, &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::Excluded {
                pattern: table_arn("scratch-*")
            }
        }
    );
    // Exclusion needs no tags: decided even when tags are unknown.
    assert!(matches!(
        match_selection(&excluded.arn, &Fact::unknown("AccessDenied"), &s),
        SelectionOutcome::NotCovered {
            reason: NoMatchReason::Excluded { .. }
        }
    ));
    let kept = table("orders", &[]);
    assert!(match_selection(&kept.arn, &kept.tags, &s).is_covered());
}

#[test]
fn empty_inclusion_means_every_resource_filtered_by_conditions() {
    let mut s = selection("s", PLAN);
    let t = table("t", &[("backup", "yes")]);
    assert_eq!(
        match_selection(&t.arn, &t.tags, &s),
        SelectionOutcome::Covered {
            via: CoverVia::AllResources
        }
    );
    s.conditions.string_equals = vec![TagCondition::new("backup", "no")];
    assert!(!match_selection(&t.arn, &t.tags, &s).is_covered());
}

#[test]
fn unknown_tags_make_tag_dependent_selections_undecidable_only() {
    let unknown = Fact::unknown("ThrottlingException");
    let arn = table_arn("t");
    let mut tagged = selection("s", PLAN);
    tagged.list_of_tags = vec![TagCondition::new("backup", "yes")];
    assert!(matches!(
        match_selection(&arn, &unknown, &tagged),
        SelectionOutcome::Undecidable { reason } if reason.contains("ThrottlingException")
    ));
    let all = all_tables_selection("s", PLAN);
    assert!(matches!(
        match_selection(&arn, &unknown, &all),
        SelectionOutcome::Undecidable { .. }
    ));
    let mut by_arn = selection("s", PLAN);
    by_arn.resources = vec![arn.clone()];
    assert!(match_selection(&arn, &unknown, &by_arn).is_covered());
    let mut other = selection("s", PLAN);
    other.resources = vec![table_arn("other")];
    assert!(matches!(
        match_selection(&arn, &unknown, &other),
        SelectionOutcome::NotCovered { .. }
    ));
}

#[test]
fn all_tables_selection_excludes_exempt_and_covers_untagged_tables() {
    let s = all_tables_selection("s", PLAN);
    let untagged = table("new", &[]);
    let exempt = table("x", &[("backup-policy", "exempt")]);
    assert!(match_selection(&untagged.arn, &untagged.tags, &s).is_covered());
    assert!(!match_selection(&exempt.arn, &exempt.tags, &s).is_covered());
}

// ---------------------------------------------------------------- conformance

const POLICY_DOCUMENT_PLAN: &str = r#"{
  "BackupPlanName": "DynamoDBMonthlyBackup",
  "Rules": [
    {
      "RuleName": "TwiceMonthly",
      "TargetBackupVaultName": "Default",
      "ScheduleExpression": "cron(0 0 15,25 * ? *)",
      "StartWindowMinutes": 60,
      "CompletionWindowMinutes": 180,
      "Lifecycle": {
        "DeleteAfterDays": 90
      }
    }
  ]
}"#;

#[test]
fn the_policy_documents_example_plan_conforms() {
    let plan = parse_plan_document(POLICY_DOCUMENT_PLAN).unwrap();
    assert_eq!(plan.name, "DynamoDBMonthlyBackup");
    assert_eq!(plan.plan_id, "DynamoDBMonthlyBackup");
    assert_eq!(plan.rules.len(), 1);
    assert_eq!(plan.rules[0].delete_after_days, Some(90));
    let c = check_plan(&plan, &Policy::default());
    assert!(c.conforms(), "{c:?}");
}

#[test]
fn get_backup_plan_output_shape_is_accepted() {
    let json = format!(
        r#"{{"BackupPlan": {POLICY_DOCUMENT_PLAN}, "BackupPlanId": "abc-123", "BackupPlanArn": "arn:aws:backup:eu-west-1:111122223333:backup-plan:abc-123", "VersionId": "v9"}}"#
    );
    let plan = parse_plan_document(&json).unwrap();
    assert_eq!(plan.plan_id, "abc-123");
    assert_eq!(plan.version_id, "v9");
    assert!(plan.plan_arn.ends_with("abc-123"));
}

#[test]
fn bad_plan_documents_are_errors() {
    assert!(parse_plan_document("not json").is_err());
    // A plan without rules is a valid document (see plan_document.rs): not an error here.
    assert!(parse_plan_document(r#"{"BackupPlanName": "x", "Rules": []}"#).is_ok());
    assert!(parse_plan_document(r#"{"Rules": []}"#).is_err());
    let err = parse_plan_document(
        r#"{"BackupPlanName": "x", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "v", "StartWindowMinutes": "sixty"}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("StartWindowMinutes") || err.to_string().contains("string"));
}

#[test]
fn plan_document_with_deviations_lists_them() {
    let json = r#"{"BackupPlanName": "Weekly", "Rules": [{"RuleName": "w", "TargetBackupVaultName": "Default",
        "ScheduleExpression": "cron(0 5 ? * 1 *)", "Lifecycle": {"DeleteAfterDays": 35, "MoveToColdStorageAfterDays": 7}}]}"#;
    let c = check_plan_document(json, &Policy::default()).unwrap();
    assert!(!c.conforms());
    let devs = &c.rules[0].deviations;
    assert!(
        matches!(devs[0], Deviation::ScheduleNotEquivalent { .. }),
        "{devs:?}"
    );
    assert!(devs.contains(&Deviation::StartWindowMissing { policy: 60 }));
    assert!(devs.contains(&Deviation::CompletionWindowMissing { policy: 180 }));
    assert!(devs.contains(&Deviation::RetentionTooShort {
        policy: 90,
        actual: 35
    }));
    assert!(devs.contains(&Deviation::ColdStorageSet { after_days: 7 }));
    assert_eq!(devs.len(), 5);
}

#[test]
fn reordered_cron_list_is_the_same_schedule() {
    let mut r = good_rule();
    r.schedule_expression = "cron(0 0 25,15 * ? *)".into();
    assert_eq!(check_rule(&r, &Policy::default()), vec![]);
    r.schedule_expression = "0 0 15,25 * ? *".into();
    r.schedule_timezone = Some("Etc/UTC".into());
    assert_eq!(check_rule(&r, &Policy::default()), vec![]);
}

#[test]
fn schedule_deviations() {
    let p = Policy::default();
    let mut r = good_rule();
    r.schedule_expression = "cron(0 0 15 * ? *)".into();
    assert!(matches!(
        check_rule(&r, &p)[..],
        [Deviation::ScheduleNotEquivalent { .. }]
    ));
    r.schedule_expression = "cron(0 0 15,25 * ? *)".into();
    r.schedule_timezone = Some("Europe/Berlin".into());
    assert_eq!(
        check_rule(&r, &p),
        vec![Deviation::TimezoneMismatch {
            expected: "UTC".into(),
            actual: "Europe/Berlin".into()
        }]
    );
    r.schedule_timezone = None;
    r.schedule_expression = "cron(0 0 15,25 * * *)".into();
    assert!(matches!(
        check_rule(&r, &p)[..],
        [Deviation::ScheduleInvalid { .. }]
    ));
    r.schedule_expression = String::new();
    assert_eq!(check_rule(&r, &p), vec![Deviation::ScheduleMissing]);
}

#[test]
fn window_deviations() {
    let p = Policy::default();
    let mut r = good_rule();
    r.start_window_minutes = Some(61);
    r.completion_window_minutes = Some(181);
    assert_eq!(
        check_rule(&r, &p),
        vec![
            Deviation::StartWindowTooLong {
                policy: 60,
                actual: 61
            },
            Deviation::CompletionWindowTooLong {
                policy: 180,
                actual: 181
            }
        ]
    );
    r.start_window_minutes = None;
    r.completion_window_minutes = None;
    assert_eq!(
        check_rule(&r, &p),
        vec![
            Deviation::StartWindowMissing { policy: 60 },
            Deviation::CompletionWindowMissing { policy: 180 }
        ]
    );
    // Shorter windows are stricter, so they conform.
    r.completion_window_minutes = Some(120);
    r.start_window_minutes = Some(60);
    assert_eq!(check_rule(&r, &p), vec![]);
    // A policy allowing ≥ the AWS defaults accepts absent windows.
    let mut lenient = Policy::default();
    lenient.start_window_minutes = 480;
    lenient.completion_window_minutes = AWS_DEFAULT_COMPLETION_WINDOW_MINUTES;
    r.start_window_minutes = None;
    r.completion_window_minutes = None;
    assert_eq!(check_rule(&r, &lenient), vec![]);
}

#[test]
fn lifecycle_and_vault_deviations() {
    let p = Policy::default();
    for (days, expected) in [
        (
            Some(89),
            vec![Deviation::RetentionTooShort {
                policy: 90,
                actual: 89,
            }],
        ),
        (Some(90), vec![]),
        (
            Some(91),
            vec![Deviation::RetentionTooLong {
                policy: 90,
                actual: 91,
            }],
        ),
        (None, vec![Deviation::RetentionMissing { policy: 90 }]),
    ] {
        let mut r = good_rule();
        r.delete_after_days = days;
        assert_eq!(check_rule(&r, &p), expected, "DeleteAfterDays {days:?}");
    }
    let mut r = good_rule();
    r.move_to_cold_storage_after_days = Some(30);
    assert_eq!(
        check_rule(&r, &p),
        vec![Deviation::ColdStorageSet { after_days: 30 }]
    );
    let mut named = Policy::default();
    named.vault_name = Some("Guarded".into());
    assert_eq!(
        check_rule(&good_rule(), &named),
        vec![Deviation::VaultMismatch {
            expected: "Guarded".into(),
            actual: "Default".into()
        }]
    );
    assert_eq!(
        check_rule(&good_rule(), &p),
        vec![],
        "no vault named: any vault"
    );
}

#[test]
fn a_plan_conforms_if_some_rule_does() {
    let mut bad = good_rule();
    bad.rule_id = Some("bad".into());
    bad.delete_after_days = Some(7);
    let c = check_plan(
        &plan("p", vec![bad.clone(), good_rule()]),
        &Policy::default(),
    );
    assert!(c.conforms());
    assert_eq!(c.conforming_rules().count(), 1);
    let c = check_plan(&plan("p", vec![bad]), &Policy::default());
    assert!(!c.conforms());
    assert!(!check_plan(&plan("p", vec![]), &Policy::default()).conforms());
}

// ---------------------------------------------------------------- retention

#[test]
fn retention_89_90_91_days() {
    let p = Policy::default();
    let created = ts("2026-01-15T00:20:00Z");
    for (d, expected) in [
        (
            89,
            vec![RetentionIssue::TooShort {
                policy: 90,
                actual: 89,
            }],
        ),
        (90, vec![]),
        (
            91,
            vec![RetentionIssue::TooLong {
                policy: 90,
                actual: 91,
            }],
        ),
    ] {
        let mut pt = point("t", created);
        pt.delete_after_days = Some(d);
        pt.delete_at = None;
        assert_eq!(check_point(&pt, &p), expected, "{d} days");
    }
    let mut pt = point("t", created);
    pt.delete_after_days = None;
    pt.delete_at = None;
    assert_eq!(
        check_point(&pt, &p),
        vec![RetentionIssue::NoExpiry { policy: 90 }]
    );
}

#[test]
fn delete_at_is_compared_with_one_day_tolerance() {
    let p = Policy::default();
    let created = ts("2026-01-15T00:20:00Z");
    let at = |d: jiff::SignedDuration| {
        let mut pt = point("t", created);
        pt.delete_at = Some(created + d);
        check_point(&pt, &p)
    };
    assert_eq!(at(days(90)), vec![]);
    assert_eq!(at(days(90) + mins(23 * 60)), vec![]);
    assert_eq!(at(days(90) - mins(23 * 60)), vec![]);
    assert_eq!(
        at(days(90) + mins(24 * 60)),
        vec![],
        "exactly the tolerance"
    );
    assert!(matches!(
        at(days(90) + mins(25 * 60))[..],
        [RetentionIssue::DeleteAtTooLate { .. }]
    ));
    assert!(matches!(
        at(days(89) - mins(60))[..],
        [RetentionIssue::DeleteAtTooEarly { .. }]
    ));
}

#[test]
fn cold_storage_and_status() {
    let p = Policy::default();
    let mut pt = point("t", ts("2026-01-15T00:20:00Z"));
    pt.move_to_cold_storage_after_days = Some(30);
    assert_eq!(
        check_point(&pt, &p),
        vec![RetentionIssue::ColdStorage { after_days: 30 }]
    );
    for (word, bad) in [
        ("AVAILABLE", false),
        ("COMPLETED", false),
        ("CREATING", false),
        ("DELETING", false),
        ("PARTIAL", true),
        ("EXPIRED", true),
        ("STOPPED", true),
        ("SOMETHING_NEW", true),
    ] {
        let mut pt = point("t", ts("2026-01-15T00:20:00Z"));
        pt.status = PointStatus::from_api(word);
        assert_eq!(pt.status.as_api(), word);
        let issues = check_point(&pt, &p);
        assert_eq!(!issues.is_empty(), bad, "{word}: {issues:?}");
    }
    assert!(!PointStatus::from_api("SOMETHING_NEW").is_good());
    assert!(!PointStatus::from_api("CREATING").is_good());
    assert!(PointStatus::from_api("completed").is_good());
}

#[test]
fn both_recovery_point_arn_forms() {
    assert_eq!(
        point_arn_kind("arn:aws:backup:eu-west-1:111122223333:recovery-point:abcd-1234"),
        PointArnKind::BackupRecoveryPoint
    );
    assert_eq!(
        point_arn_kind(
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/backup/01700000000000-abcdef"
        ),
        PointArnKind::DynamoDbBackup
    );
    assert_eq!(
        point_arn_kind("arn:aws:dynamodb:eu-west-1:111122223333:table/orders"),
        PointArnKind::Other
    );
    let od = on_demand("orders", ts("2026-01-15T00:10:00Z"), Some(90));
    assert_eq!(od.table_name_from_arn(), Some("orders"));
    assert!(od.is_on_demand());
}

// ---------------------------------------------------------------- slots

fn slots_at(now: &str, created: Option<&str>) -> Vec<jiff::Timestamp> {
    let p = Policy::default();
    required_slots(
        p.schedule(),
        p.start_window(),
        p.completion_window(),
        p.retention(),
        created.map(ts),
        ts(now),
    )
    .into_iter()
    .map(|s| s.at)
    .collect()
}

#[test]
fn required_slots_cover_the_retention_horizon() {
    // now − 90 days = 2025-12-01T00:00Z.
    assert_eq!(
        slots_at("2026-03-01T00:00:00Z", None),
        vec![
            ts("2025-12-15T00:00:00Z"),
            ts("2025-12-25T00:00:00Z"),
            ts("2026-01-15T00:00:00Z"),
            ts("2026-01-25T00:00:00Z"),
            ts("2026-02-15T00:00:00Z"),
            ts("2026-02-25T00:00:00Z"),
        ]
    );
    // Both ends inclusive.
    let s = slots_at("2026-03-15T00:00:00Z", None);
    assert_eq!(s.first(), Some(&ts("2025-12-15T00:00:00Z")));
    assert_eq!(s.last(), Some(&ts("2026-03-15T00:00:00Z")));
}

#[test]
fn a_table_created_between_two_slots_owes_only_later_slots() {
    assert_eq!(
        slots_at("2026-03-01T00:00:00Z", Some("2026-01-20T08:00:00Z")),
        vec![
            ts("2026-01-25T00:00:00Z"),
            ts("2026-02-15T00:00:00Z"),
            ts("2026-02-25T00:00:00Z"),
        ]
    );
    // Created one second after a slot: that slot is not owed.
    assert_eq!(
        slots_at("2026-01-26T00:00:00Z", Some("2026-01-25T00:00:01Z")),
        Vec::<jiff::Timestamp>::new()
    );
    // Created exactly at the slot: owed.
    assert_eq!(
        slots_at("2026-01-26T00:00:00Z", Some("2026-01-25T00:00:00Z")),
        vec![ts("2026-01-25T00:00:00Z")]
    );
}

fn classify_one(points: &[policy::facts::RecoveryPointFacts], now: &str) -> SlotStatus {
    let p = Policy::default();
    let slot = policy::slots::Slot::new(
        ts("2026-01-15T00:00:00Z"),
        p.start_window(),
        p.completion_window(),
    );
    let counts = |pt: &policy::facts::RecoveryPointFacts| {
        pt.created_by.as_ref().is_some_and(|c| c.plan_id == PLAN)
    };
    let mut r = classify_slots(&[slot], &table_arn("t"), points, &counts, ts(now));
    assert_eq!(r.len(), 1);
    r.remove(0).status
}

#[test]
fn slot_boundaries() {
    let after = "2026-01-16T00:00:00Z";
    // One second before T: not satisfying.
    let early = point("t", ts("2026-01-14T23:59:59Z"));
    assert!(matches!(
        classify_one(&[early], after),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::CreatedBeforeSlot
    ));
    // Exactly at T: satisfying.
    let at_t = point("t", ts("2026-01-15T00:00:00Z"));
    assert_eq!(
        classify_one(std::slice::from_ref(&at_t), after),
        SlotStatus::Satisfied {
            point_arn: at_t.arn.clone()
        }
    );
    // Exactly at T + 60 min: satisfying.
    let edge = point("t", ts("2026-01-15T01:00:00Z"));
    assert_eq!(
        classify_one(std::slice::from_ref(&edge), after),
        SlotStatus::Satisfied {
            point_arn: edge.arn.clone()
        }
    );
    // One second after T + 60 min: not.
    let late = point("t", ts("2026-01-15T01:00:01Z"));
    assert!(matches!(
        classify_one(&[late], after),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::CreatedAfterStartWindow
    ));
    // Completing exactly at the deadline (T + 240 min): satisfying.
    let mut on_time = point("t", ts("2026-01-15T00:30:00Z"));
    on_time.completed = Some(ts("2026-01-15T04:00:00Z"));
    assert!(matches!(
        classify_one(&[on_time], after),
        SlotStatus::Satisfied { .. }
    ));
    // Completing one second after the deadline: not.
    let mut slow = point("t", ts("2026-01-15T00:30:00Z"));
    slow.completed = Some(ts("2026-01-15T04:00:01Z"));
    assert!(matches!(
        classify_one(&[slow], after),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::CompletedLate
    ));
}

#[test]
fn pending_until_the_completion_deadline() {
    assert_eq!(
        classify_one(&[], "2026-01-15T03:59:59Z"),
        SlotStatus::Pending
    );
    assert!(matches!(
        classify_one(&[], "2026-01-15T04:00:00Z"),
        SlotStatus::Missed { .. }
    ));
    // A point still being created inside the window keeps the slot pending.
    let mut creating = point("t", ts("2026-01-15T00:10:00Z"));
    creating.status = PointStatus::Creating;
    creating.completed = None;
    assert_eq!(
        classify_one(&[creating.clone()], "2026-01-15T02:00:00Z"),
        SlotStatus::Pending
    );
    assert!(matches!(
        classify_one(&[creating], "2026-01-15T05:00:00Z"),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::BadStatus { status: "CREATING".into() }
    ));
}

#[test]
fn on_demand_and_foreign_points_never_satisfy_a_slot() {
    let od = on_demand("t", ts("2026-01-15T00:10:00Z"), Some(90));
    assert!(matches!(
        classify_one(&[od], "2026-01-16T00:00:00Z"),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::OnDemand
    ));
    let mut foreign = point("t", ts("2026-01-15T00:10:00Z"));
    if let Some(cb) = foreign.created_by.as_mut().map(std::sync::Arc::make_mut) {
        cb.plan_id = "someone-elses".into();
    }
    assert!(matches!(
        classify_one(&[foreign], "2026-01-16T00:00:00Z"),
        SlotStatus::Missed { near_misses } if near_misses[0].reason == NearMissReason::NonConformingCreator { plan_id: "someone-elses".into() }
    ));
    // Another table's point does not count either.
    let other = point("other", ts("2026-01-15T00:10:00Z"));
    assert!(matches!(
        classify_one(&[other], "2026-01-16T00:00:00Z"),
        SlotStatus::Missed { near_misses } if near_misses.is_empty()
    ));
}

#[test]
fn bad_status_points_do_not_satisfy() {
    for status in ["PARTIAL", "EXPIRED", "STOPPED", "WHATEVER"] {
        let mut pt = point("t", ts("2026-01-15T00:10:00Z"));
        pt.status = PointStatus::from_api(status);
        assert!(
            matches!(
                classify_one(&[pt], "2026-01-16T00:00:00Z"),
                SlotStatus::Missed { .. }
            ),
            "{status}"
        );
    }
}

#[test]
fn a_point_outliving_its_delete_at_is_kept_too_long() {
    let p = Policy::default();
    let created = ts("2025-10-15T00:20:00Z");
    let pt = point("t", created); // DeleteAt 2026-01-13T00:20Z
    assert_eq!(check_point_at(&pt, &p, ts("2026-01-14T00:20:00Z")), vec![]);
    assert_eq!(
        check_point_at(&pt, &p, ts("2026-01-14T00:20:01Z")),
        vec![RetentionIssue::KeptPastDeleteAt {
            delete_at: ts("2026-01-13T00:20:00Z")
        }]
    );
    let mut deleting = pt.clone();
    deleting.status = PointStatus::Deleting;
    assert_eq!(
        check_point_at(&deleting, &p, ts("2026-02-01T00:00:00Z")),
        vec![]
    );
}

#[test]
fn to_vars_is_the_inverse_of_from_vars() {
    use policy::config::vars;
    let default = Policy::default();
    let v = default.to_vars();
    assert_eq!(v.len(), vars::ALL.len() + policy::restore::VARS.len());
    assert_eq!(v[vars::SCHEDULE], "cron(0 0 15,25 * ? *)");
    assert_eq!(v[vars::RETENTION_DAYS], "90");
    assert_eq!(v[vars::BACKUP_TAG], "backup-policy=twice-monthly-90d");
    assert_eq!(v[vars::REQUIRED_TAGS], "owner");
    assert_eq!(v[vars::VAULT_NAME], "");
    assert_eq!(Policy::from_vars(v).unwrap(), default);

    let custom = Policy::from_vars([
        ("BG_SCHEDULE".to_string(), "cron(30 2 1 * ? *)".to_string()),
        ("BG_TIMEZONE".to_string(), "Europe/Berlin".to_string()),
        ("BG_RETENTION_DAYS".to_string(), "35".to_string()),
        ("BG_VAULT_NAME".to_string(), "audit-vault".to_string()),
        ("BG_SELECTION_MODE".to_string(), "tagged".to_string()),
        (
            "BG_REQUIRED_TAGS".to_string(),
            "owner,cost-center=finance|ops".to_string(),
        ),
        ("BG_MODE".to_string(), "report-only".to_string()),
    ])
    .unwrap();
    assert_eq!(Policy::from_vars(custom.to_vars()).unwrap(), custom);
    assert_ne!(custom.to_vars(), default.to_vars());
}
