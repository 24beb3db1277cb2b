//! Builders shared by the policy tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use policy::facts::{
    BackupSetup, Conditions, CreatedBy, Fact, PlanFacts, PointStatus, RecoveryPointFacts,
    RuleFacts, SelectionFacts, TableFacts, TagCondition,
};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "eu-west-1";
pub const PLAN: &str = "plan-good";
pub const RULE: &str = "rule-good";

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

pub fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

pub fn days(d: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * d)
}

pub fn table_arn(name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
}

pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A table with known tags and unknown creation time.
pub fn table(name: &str, pairs: &[(&str, &str)]) -> TableFacts {
    TableFacts {
        arn: table_arn(name),
        name: name.to_string(),
        account: ACCOUNT.to_string(),
        region: REGION.to_string(),
        created: None,
        tags: Fact::Known(tags(pairs)),
    }
}

/// The policy document's rule.
pub fn good_rule() -> RuleFacts {
    RuleFacts {
        rule_id: Some(RULE.to_string()),
        name: "TwiceMonthly".to_string(),
        target_vault: "Default".to_string(),
        schedule_expression: "cron(0 0 15,25 * ? *)".to_string(),
        schedule_timezone: None,
        start_window_minutes: Some(60),
        completion_window_minutes: Some(180),
        delete_after_days: Some(90),
        move_to_cold_storage_after_days: None,
    }
}

pub fn plan(id: &str, rules: Vec<RuleFacts>) -> PlanFacts {
    PlanFacts {
        plan_id: id.to_string(),
        plan_arn: format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{id}"),
        name: format!("name-{id}"),
        version_id: "v1".to_string(),
        rules,
    }
}

pub fn selection(id: &str, plan_id: &str) -> SelectionFacts {
    SelectionFacts {
        selection_id: id.to_string(),
        name: format!("sel-{id}"),
        plan_id: plan_id.to_string(),
        resources: Vec::new(),
        not_resources: Vec::new(),
        list_of_tags: Vec::new(),
        conditions: Conditions::default(),
    }
}

/// The all-tables selection of the design: every table minus exempt-tagged ones.
pub fn all_tables_selection(id: &str, plan_id: &str) -> SelectionFacts {
    let mut s = selection(id, plan_id);
    s.resources = vec!["arn:aws:dynamodb:*:*:table/*".to_string()];
    s.conditions.string_not_equals =
        vec![TagCondition::new("aws:ResourceTag/backup-policy", "exempt")];
    s
}

/// A tagged selection (ListOfTags backup-policy=twice-monthly-90d).
pub fn tagged_selection(id: &str, plan_id: &str) -> SelectionFacts {
    let mut s = selection(id, plan_id);
    s.list_of_tags = vec![TagCondition::new("backup-policy", "twice-monthly-90d")];
    s
}

/// One conforming plan with an all-tables selection.
pub fn good_setup() -> BackupSetup {
    BackupSetup {
        plans: Fact::Known(vec![plan(PLAN, vec![good_rule()])]),
        selections: Fact::Known(vec![all_tables_selection("sel-all", PLAN)]),
    }
}

pub fn created_by_good() -> CreatedBy {
    CreatedBy {
        plan_id: PLAN.to_string(),
        plan_arn: None,
        plan_version: Some("v1".to_string()),
        rule_id: Some(RULE.to_string()),
        rule_cron: Some("cron(0 0 15,25 * ? *)".to_string()),
        rule_timezone: Some("UTC".to_string()),
    }
}

/// A good policy point of `table` created at `created`, completed 30 minutes later,
/// DeleteAfterDays 90 and DeleteAt = created + 90 days.
pub fn point(table: &str, created: Timestamp) -> RecoveryPointFacts {
    RecoveryPointFacts {
        arn: format!(
            "arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:{}-{}",
            table,
            created.as_second()
        ),
        resource_arn: table_arn(table),
        vault_name: "Default".to_string(),
        status: PointStatus::Available,
        created,
        completed: Some(created + mins(30)),
        delete_after_days: Some(90),
        move_to_cold_storage_after_days: None,
        delete_at: Some(created + days(90)),
        created_by: Some(created_by_good().into()),
        is_encrypted: Some(true),
        encryption_key_arn: None,
    }
}

/// An on-demand point (no CreatedBy).
pub fn on_demand(
    table: &str,
    created: Timestamp,
    retention_days: Option<i64>,
) -> RecoveryPointFacts {
    let mut p = point(table, created);
    p.arn = format!(
        "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/backup/01{}-manual",
        created.as_second()
    );
    p.created_by = None;
    p.delete_after_days = retention_days;
    p.delete_at = retention_days.map(|d| created + days(d));
    p
}
