//! The Backup stand-in driven by the real `aws-sdk-backup` client: every response must
//! deserialise into the SDK's types with the seeded facts intact.

use aws_sdk_backup::Client;
use aws_sdk_backup::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_backup::error::ProvideErrorMetadata;
use aws_sdk_backup::operation::describe_recovery_point::DescribeRecoveryPointError;
use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanError;
use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultError;
use aws_sdk_backup::primitives::DateTime;
use aws_sdk_backup::types::{
    BackupJobState, BackupPlanInput, BackupRuleInput, BackupSelection, Condition,
    ConditionParameter, ConditionType, Conditions, Lifecycle, RecoveryPointStatus,
};
use jiff::{SignedDuration, Timestamp};
use local_account::standin::{self, BackupJob, CreatedBy, RecoveryPoint, StandIn};
use std::collections::{BTreeSet, HashSet};

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/backup";

fn client(standin: &StandIn) -> Client {
    let config = aws_sdk_backup::Config::builder()
        .http_client(awsio::config::https_client())
        .endpoint_url(standin.endpoint())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .build();
    Client::from_conf(config)
}

fn table_arn(name: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}")
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap()
}

fn dt(t: Timestamp) -> DateTime {
    DateTime::from_secs(t.as_second())
}

async fn vault(c: &Client, name: &str) {
    c.create_backup_vault()
        .backup_vault_name(name)
        .send()
        .await
        .unwrap();
}

fn rule(name: &str, vault: &str) -> aws_sdk_backup::types::builders::BackupRuleInputBuilder {
    BackupRuleInput::builder()
        .rule_name(name)
        .target_backup_vault_name(vault)
        .schedule_expression("cron(0 0 15,25 * ? *)")
}

#[tokio::test]
async fn vault_plan_and_selection_read_back_through_the_sdk() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);

    let created = c
        .create_backup_vault()
        .backup_vault_name("policy-vault")
        .creator_request_id("req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.backup_vault_arn(),
        Some("arn:aws:backup:us-east-1:123456789012:backup-vault:policy-vault")
    );
    let dup = c
        .create_backup_vault()
        .backup_vault_name("policy-vault")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("AlreadyExistsException"));
    // The same request again (same CreatorRequestId, as an SDK retry sends) is idempotent.
    let again = c
        .create_backup_vault()
        .backup_vault_name("policy-vault")
        .creator_request_id("req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.backup_vault_arn(), created.backup_vault_arn());
    vault(&c, "other-vault").await;

    let described = c
        .describe_backup_vault()
        .backup_vault_name("policy-vault")
        .send()
        .await
        .unwrap();
    assert_eq!(described.backup_vault_name(), Some("policy-vault"));
    assert_eq!(described.number_of_recovery_points(), 0);
    assert_eq!(described.creator_request_id(), Some("req-1"));
    let vaults = c.list_backup_vaults().max_results(1).send().await.unwrap();
    assert_eq!(vaults.backup_vault_list().len(), 1);
    assert_eq!(
        vaults.backup_vault_list()[0].backup_vault_name(),
        Some("other-vault")
    );
    let rest = c
        .list_backup_vaults()
        .set_next_token(vaults.next_token().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.backup_vault_list()[0].backup_vault_name(),
        Some("policy-vault")
    );
    assert!(rest.next_token().is_none());

    let plan = BackupPlanInput::builder()
        .backup_plan_name("twice-monthly")
        .rules(
            rule("fifteenth-and-25th", "policy-vault")
                .schedule_expression_timezone("UTC")
                .start_window_minutes(60)
                .completion_window_minutes(180)
                .lifecycle(Lifecycle::builder().delete_after_days(90).build())
                .build()
                .unwrap(),
        )
        .rules(
            rule("defaults", "other-vault")
                .lifecycle(
                    Lifecycle::builder()
                        .move_to_cold_storage_after_days(30)
                        .delete_after_days(120)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = c
        .create_backup_plan()
        .backup_plan(plan.clone())
        .creator_request_id("plan-req")
        .send()
        .await
        .unwrap();
    let plan_id = out.backup_plan_id().unwrap().to_string();
    let v1 = out.version_id().unwrap().to_string();
    // Same name, new request: AlreadyExists. Same request id: the same plan back.
    let e = c
        .create_backup_plan()
        .backup_plan(plan.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AlreadyExistsException"));
    let again = c
        .create_backup_plan()
        .backup_plan(plan.clone())
        .creator_request_id("plan-req")
        .send()
        .await
        .unwrap();
    assert_eq!(again.backup_plan_id(), Some(plan_id.as_str()));
    assert_eq!(again.version_id(), Some(v1.as_str()));
    assert_eq!(
        out.backup_plan_arn(),
        Some(format!("arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:{plan_id}").as_str())
    );

    let got = c
        .get_backup_plan()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.version_id(), Some(v1.as_str()));
    let bp = got.backup_plan().unwrap();
    assert_eq!(bp.backup_plan_name(), "twice-monthly");
    let rules = bp.rules();
    assert_eq!(rules.len(), 2);
    let r0 = &rules[0];
    assert_eq!(r0.rule_name(), "fifteenth-and-25th");
    assert_eq!(r0.target_backup_vault_name(), "policy-vault");
    assert_eq!(r0.schedule_expression(), Some("cron(0 0 15,25 * ? *)"));
    assert_eq!(r0.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(r0.start_window_minutes(), Some(60));
    assert_eq!(r0.completion_window_minutes(), Some(180));
    assert_eq!(r0.lifecycle().and_then(|l| l.delete_after_days()), Some(90));
    assert_eq!(
        r0.lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
        None
    );
    assert!(r0.rule_id().is_some());
    // Omitted windows and zone read back with AWS's defaults.
    let r1 = &rules[1];
    assert_eq!(r1.start_window_minutes(), Some(480));
    assert_eq!(r1.completion_window_minutes(), Some(10080));
    assert_eq!(r1.schedule_expression_timezone(), Some("Etc/UTC"));
    assert_eq!(
        r1.lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
        Some(30)
    );
    assert_ne!(r0.rule_id(), r1.rule_id());

    let plans = c.list_backup_plans().send().await.unwrap();
    assert_eq!(plans.backup_plans_list().len(), 1);
    assert_eq!(
        plans.backup_plans_list()[0].backup_plan_name(),
        Some("twice-monthly")
    );
    assert_eq!(plans.backup_plans_list()[0].version_id(), Some(v1.as_str()));

    // Selection: every member round-trips.
    let selection = BackupSelection::builder()
        .selection_name("all-tables")
        .iam_role_arn(ROLE)
        .resources(format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"))
        .not_resources(table_arn("scratch"))
        .list_of_tags(
            Condition::builder()
                .condition_type(ConditionType::Stringequals)
                .condition_key("backup-policy")
                .condition_value("twice-monthly-90d")
                .build()
                .unwrap(),
        )
        .conditions(
            Conditions::builder()
                .string_not_equals(
                    ConditionParameter::builder()
                        .condition_key("aws:ResourceTag/backup-policy")
                        .condition_value("exempt")
                        .build(),
                )
                .string_like(
                    ConditionParameter::builder()
                        .condition_key("aws:ResourceTag/owner")
                        .condition_value("team-*")
                        .build(),
                )
                .build(),
        )
        .build()
        .unwrap();
    let sel = c
        .create_backup_selection()
        .backup_plan_id(&plan_id)
        .backup_selection(selection.clone())
        .creator_request_id("sel-req")
        .send()
        .await
        .unwrap();
    let sel_id = sel.selection_id().unwrap().to_string();
    assert_eq!(sel.backup_plan_id(), Some(plan_id.as_str()));
    let got = c
        .get_backup_selection()
        .backup_plan_id(&plan_id)
        .selection_id(&sel_id)
        .send()
        .await
        .unwrap();
    let back = got.backup_selection().unwrap();
    assert_eq!(back.selection_name(), "all-tables");
    assert_eq!(back.iam_role_arn(), ROLE);
    assert_eq!(back.resources(), selection.resources());
    assert_eq!(back.not_resources(), selection.not_resources());
    assert_eq!(back.list_of_tags(), selection.list_of_tags());
    let conds = back.conditions().unwrap();
    assert_eq!(
        conds.string_not_equals(),
        selection.conditions().unwrap().string_not_equals()
    );
    assert_eq!(
        conds.string_like(),
        selection.conditions().unwrap().string_like()
    );
    // Lists not given come back empty (present), as AWS returns them.
    assert!(conds.string_equals().is_empty() && conds.string_not_like().is_empty());
    assert_eq!(got.creator_request_id(), Some("sel-req"));

    let listed = c
        .list_backup_selections()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.backup_selections_list().len(), 1);
    assert_eq!(
        listed.backup_selections_list()[0].selection_id(),
        Some(sel_id.as_str())
    );
    assert_eq!(
        listed.backup_selections_list()[0].iam_role_arn(),
        Some(ROLE)
    );

    // Fix a drifted rule: a new version, the rule id kept, the old version still readable.
    let fixed = BackupPlanInput::builder()
        .backup_plan_name("twice-monthly")
        .rules(
            rule("fifteenth-and-25th", "policy-vault")
                .schedule_expression_timezone("UTC")
                .start_window_minutes(60)
                .completion_window_minutes(180)
                .lifecycle(Lifecycle::builder().delete_after_days(90).build())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let up = c
        .update_backup_plan()
        .backup_plan_id(&plan_id)
        .backup_plan(fixed)
        .send()
        .await
        .unwrap();
    let v2 = up.version_id().unwrap().to_string();
    assert_ne!(v1, v2);
    let now = c
        .get_backup_plan()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(now.version_id(), Some(v2.as_str()));
    let now_rules = now.backup_plan().unwrap().rules();
    assert_eq!(now_rules.len(), 1);
    assert_eq!(now_rules[0].rule_id(), r0.rule_id());
    let old = c
        .get_backup_plan()
        .backup_plan_id(&plan_id)
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(old.backup_plan().unwrap().rules().len(), 2);

    // Deleting a plan with selections is refused; after deleting them it works.
    let refused = c
        .delete_backup_plan()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("InvalidRequestException"));
    c.delete_backup_selection()
        .backup_plan_id(&plan_id)
        .selection_id(&sel_id)
        .send()
        .await
        .unwrap();
    let deleted = c
        .delete_backup_plan()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert!(deleted.deletion_date().is_some());
    assert!(
        c.list_backup_plans()
            .send()
            .await
            .unwrap()
            .backup_plans_list()
            .is_empty()
    );
    let with_deleted = c
        .list_backup_plans()
        .include_deleted(true)
        .send()
        .await
        .unwrap();
    assert_eq!(with_deleted.backup_plans_list().len(), 1);
}

#[tokio::test]
async fn plan_validation_errors_are_the_modelled_variants() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    let bad_window = BackupPlanInput::builder()
        .backup_plan_name("p")
        .rules(rule("r", "v").start_window_minutes(30).build().unwrap())
        .build()
        .unwrap();
    let e = c
        .create_backup_plan()
        .backup_plan(bad_window)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_invalid_parameter_value_exception(),
        "{e:?}"
    );
    assert!(e.message().unwrap().contains("StartWindowMinutes"));

    let e = c
        .get_backup_plan()
        .backup_plan_id("no-such-plan")
        .send()
        .await
        .unwrap_err();
    match e.as_service_error() {
        Some(GetBackupPlanError::ResourceNotFoundException(inner)) => {
            assert!(inner.message().unwrap().contains("no-such-plan"));
        }
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

/// 2,500 recovery points in one vault plus a few elsewhere.
struct Seeded {
    plan_a: String,
    base: Timestamp,
}

const TABLES: [&str; 5] = ["orders", "users", "payments", "audit", "events"];

fn seed_points(s: &StandIn) -> Seeded {
    let plan_a = "aaaaaaaa-0000-4000-8000-00000000000a".to_string();
    let plan_b = "bbbbbbbb-0000-4000-8000-00000000000b".to_string();
    let base = ts(1_750_000_000);
    let mut points = Vec::new();
    for i in 0..2500i64 {
        let table = TABLES[(i % 5) as usize];
        let plan = if i % 2 == 0 { &plan_a } else { &plan_b };
        points.push(RecoveryPoint {
            backup_vault_name: "main".into(),
            resource_arn: table_arn(table),
            creation_date: base + SignedDuration::from_hours(i),
            completion_date: Some(
                base + SignedDuration::from_hours(i) + SignedDuration::from_mins(20),
            ),
            status: Some(if i % 100 == 7 { "PARTIAL" } else { "COMPLETED" }.into()),
            lifecycle: Some(standin::Lifecycle {
                delete_after_days: Some(90),
                ..Default::default()
            }),
            created_by: Some(CreatedBy {
                backup_plan_id: Some(plan.clone()),
                backup_plan_arn: Some(format!(
                    "arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:{plan}"
                )),
                backup_plan_version: Some("v1".into()),
                backup_rule_id: Some("rule-1".into()),
                backup_rule_name: Some("fifteenth-and-25th".into()),
                backup_rule_cron: Some("cron(0 0 15,25 * ? *)".into()),
                backup_rule_timezone: Some("UTC".into()),
                ..Default::default()
            }),
            iam_role_arn: Some(ROLE.into()),
            backup_size_in_bytes: Some(1000 + i),
            ..Default::default()
        });
    }
    // Not DynamoDB: filtered out by ByResourceType.
    for i in 0..10i64 {
        points.push(RecoveryPoint {
            backup_vault_name: "main".into(),
            resource_arn: format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-{i:04}"),
            creation_date: base + SignedDuration::from_mins(i),
            ..Default::default()
        });
    }
    assert_eq!(s.add_recovery_points(points).unwrap(), 2510);
    Seeded { plan_a, base }
}

#[tokio::test]
async fn recovery_points_paginate_and_filter_like_aws() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    vault(&c, "empty").await;
    let seeded = seed_points(&s);
    s.reset_calls();

    // Manual pagination with a small MaxResults.
    let mut token = None;
    let mut arns = Vec::new();
    let mut created = Vec::new();
    let mut pages = 0;
    loop {
        let out = c
            .list_recovery_points_by_backup_vault()
            .backup_vault_name("main")
            .by_resource_type("DynamoDB")
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.recovery_points().len() <= 100);
        for p in out.recovery_points() {
            arns.push(p.recovery_point_arn().unwrap().to_string());
            created.push(p.creation_date().unwrap().secs());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 25);
    assert_eq!(arns.len(), 2500);
    assert_eq!(
        arns.iter().collect::<HashSet<_>>().len(),
        2500,
        "no repeats"
    );
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(s.calls().get("ListRecoveryPointsByBackupVault"), Some(&25));

    // The paginator, at the 1000 cap: three pages.
    s.reset_calls();
    let all: Vec<_> = c
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("main")
        .max_results(1000)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2510);
    assert_eq!(s.calls().get("ListRecoveryPointsByBackupVault"), Some(&3));

    // Every member the product reads deserialises.
    let newest = all
        .iter()
        .find(|p| p.resource_arn() == Some(table_arn("orders").as_str()))
        .unwrap();
    assert_eq!(newest.backup_vault_name(), Some("main"));
    assert_eq!(
        newest.backup_vault_arn(),
        Some(format!("arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:main").as_str())
    );
    assert_eq!(newest.resource_type(), Some("DynamoDB"));
    assert_eq!(newest.iam_role_arn(), Some(ROLE));
    let creation = newest.creation_date().unwrap().secs();
    // i = 2495 is the newest orders point (i % 5 == 0).
    assert_eq!(creation, seeded.base.as_second() + 2495 * 3600);
    assert_eq!(newest.completion_date().unwrap().secs(), creation + 1200);
    assert_eq!(newest.lifecycle().unwrap().delete_after_days(), Some(90));
    assert_eq!(
        newest
            .calculated_lifecycle()
            .unwrap()
            .delete_at()
            .unwrap()
            .secs(),
        creation + 90 * 86400
    );
    let by = newest.created_by().unwrap();
    assert_eq!(by.backup_rule_cron(), Some("cron(0 0 15,25 * ? *)"));
    assert_eq!(by.backup_rule_timezone(), Some("UTC"));
    assert_eq!(by.backup_rule_name(), Some("fifteenth-and-25th"));
    assert_eq!(by.backup_plan_version(), Some("v1"));
    assert_eq!(newest.backup_size_in_bytes(), Some(1000 + 2495));
    assert_eq!(
        all.iter()
            .filter(|p| p.status() == Some(&RecoveryPointStatus::Partial))
            .count(),
        25
    );

    // Filters, alone and combined.
    let count = |b: aws_sdk_backup::operation::list_recovery_points_by_backup_vault::builders::ListRecoveryPointsByBackupVaultFluentBuilder| async move {
        let v: Vec<_> = b.max_results(1000).into_paginator().items().send().try_collect().await.unwrap();
        v
    };
    let lrp = || {
        c.list_recovery_points_by_backup_vault()
            .backup_vault_name("main")
    };
    let orders = count(lrp().by_resource_arn(table_arn("orders"))).await;
    assert_eq!(orders.len(), 500);
    assert!(
        orders
            .iter()
            .all(|p| p.resource_arn() == Some(table_arn("orders").as_str()))
    );
    assert_eq!(count(lrp().by_resource_type("EBS")).await.len(), 0);
    assert_eq!(count(lrp().by_resource_type("EC2")).await.len(), 10);
    let plan_a = count(lrp().by_backup_plan_id(&seeded.plan_a)).await;
    assert_eq!(plan_a.len(), 1250);
    assert!(
        plan_a
            .iter()
            .all(|p| p.created_by().unwrap().backup_plan_id() == Some(seeded.plan_a.as_str()))
    );
    // Strict bounds: after hour 100 and before hour 200 → hours 101..=199.
    let after = seeded.base + SignedDuration::from_hours(100);
    let before = seeded.base + SignedDuration::from_hours(200);
    let window = count(
        lrp()
            .by_resource_type("DynamoDB")
            .by_created_after(dt(after))
            .by_created_before(dt(before)),
    )
    .await;
    assert_eq!(window.len(), 99);
    let combined = count(
        lrp()
            .by_resource_arn(table_arn("users"))
            .by_backup_plan_id(&seeded.plan_a)
            .by_created_after(dt(after)),
    )
    .await;
    // users: i % 5 == 1; plan A: i even → i ≡ 6 (mod 10), i > 100.
    assert_eq!(combined.len(), (101..2500).filter(|i| i % 10 == 6).count());
    assert!(
        count(
            c.list_recovery_points_by_backup_vault()
                .backup_vault_name("empty")
        )
        .await
        .is_empty()
    );

    // Invalid MaxResults and unknown vaults are the modelled errors.
    for bad in [0, 1001] {
        let e = lrp().max_results(bad).send().await.unwrap_err();
        assert!(
            matches!(
                e.as_service_error(),
                Some(ListRecoveryPointsByBackupVaultError::InvalidParameterValueException(_))
            ),
            "{bad}: {e:?}"
        );
    }
    let e = c
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        e.as_service_error(),
        Some(ListRecoveryPointsByBackupVaultError::ResourceNotFoundException(_))
    ));
    let e = lrp().next_token("forged").send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValueException"));

    // A default page (no MaxResults) is 100 items.
    let first = lrp().send().await.unwrap();
    assert_eq!(
        first.recovery_points().len(),
        standin::store::DEFAULT_PAGE_SIZE
    );
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn points_by_resource_and_describe_with_slashes_in_arns() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    vault(&c, "copies").await;
    let orders = table_arn("orders");
    let legacy_arn = format!("{orders}/backup/01750000000000-a1b2c3d4");
    s.add_recovery_points(vec![
        RecoveryPoint {
            recovery_point_arn: Some(legacy_arn.clone()),
            backup_vault_name: "main".into(),
            resource_arn: orders.clone(),
            creation_date: ts(1_750_000_000),
            status: Some("AVAILABLE".into()),
            backup_size_in_bytes: Some(4096),
            encryption_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            lifecycle: Some(standin::Lifecycle {
                delete_after_days: Some(35),
                ..Default::default()
            }),
            ..Default::default()
        },
        RecoveryPoint {
            backup_vault_name: "copies".into(),
            resource_arn: orders.clone(),
            creation_date: ts(1_760_000_000),
            status: Some("EXPIRED".into()),
            status_message: Some("expired by lifecycle".into()),
            ..Default::default()
        },
        RecoveryPoint {
            backup_vault_name: "main".into(),
            resource_arn: table_arn("orders-archive"),
            creation_date: ts(1_755_000_000),
            ..Default::default()
        },
    ])
    .unwrap();

    let out = c
        .list_recovery_points_by_resource()
        .resource_arn(&orders)
        .send()
        .await
        .unwrap();
    let points = out.recovery_points();
    assert_eq!(points.len(), 2, "only the orders table, across vaults");
    assert_eq!(points[0].backup_vault_name(), Some("copies"));
    assert_eq!(points[0].status(), Some(&RecoveryPointStatus::Expired));
    assert_eq!(points[0].status_message(), Some("expired by lifecycle"));
    assert_eq!(points[1].recovery_point_arn(), Some(legacy_arn.as_str()));
    assert_eq!(points[1].backup_size_bytes(), Some(4096));
    assert_eq!(points[1].creation_date().unwrap().secs(), 1_750_000_000);
    assert_eq!(points[1].status(), Some(&RecoveryPointStatus::Available));

    // Paginated one by one.
    let one = c
        .list_recovery_points_by_resource()
        .resource_arn(&orders)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(one.recovery_points().len(), 1);
    let two = c
        .list_recovery_points_by_resource()
        .resource_arn(&orders)
        .max_results(1)
        .set_next_token(one.next_token().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(
        two.recovery_points()[0].recovery_point_arn(),
        Some(legacy_arn.as_str())
    );
    assert!(two.next_token().is_none());

    // DescribeRecoveryPoint with the legacy ARN form (contains '/').
    let d = c
        .describe_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.recovery_point_arn(), Some(legacy_arn.as_str()));
    assert_eq!(d.resource_arn(), Some(orders.as_str()));
    assert_eq!(d.resource_type(), Some("DynamoDB"));
    assert_eq!(d.lifecycle().unwrap().delete_after_days(), Some(35));
    assert_eq!(
        d.calculated_lifecycle()
            .unwrap()
            .delete_at()
            .unwrap()
            .secs(),
        1_750_000_000 + 35 * 86400
    );
    // The same point is not in the other vault.
    let e = c
        .describe_recovery_point()
        .backup_vault_name("copies")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        e.as_service_error(),
        Some(DescribeRecoveryPointError::ResourceNotFoundException(_))
    ));
}

#[tokio::test]
async fn backup_jobs_filter_and_paginate() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    vault(&c, "other").await;
    let base = ts(1_760_000_000);
    let states = [
        "COMPLETED",
        "FAILED",
        "RUNNING",
        "PARTIAL",
        "ABORTED",
        "EXPIRED",
    ];
    let mut jobs = Vec::new();
    for i in 0..60i64 {
        jobs.push(BackupJob {
            backup_vault_name: if i % 4 == 0 { "other" } else { "main" }.into(),
            resource_arn: table_arn(TABLES[(i % 5) as usize]),
            creation_date: base + SignedDuration::from_hours(i),
            completion_date: (i % 6 != 2)
                .then(|| base + SignedDuration::from_hours(i) + SignedDuration::from_mins(30)),
            state: states[(i % 6) as usize].into(),
            status_message: (i % 6 == 1).then(|| "Insufficient privileges".to_string()),
            created_by: Some(CreatedBy {
                backup_plan_id: Some("plan-1".into()),
                backup_rule_id: Some("rule-1".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    jobs.push(BackupJob {
        backup_job_id: Some("ebs-job".into()),
        backup_vault_name: "main".into(),
        resource_arn: format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-1"),
        creation_date: base,
        state: "COMPLETED".into(),
        ..Default::default()
    });
    assert_eq!(s.add_backup_jobs(jobs).unwrap(), 61);

    let list =
        |b: aws_sdk_backup::operation::list_backup_jobs::builders::ListBackupJobsFluentBuilder| async move {
            let v: Vec<_> = b
                .max_results(7)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .unwrap();
            v
        };
    let all = list(c.list_backup_jobs()).await;
    assert_eq!(all.len(), 61);
    assert_eq!(
        all.iter()
            .map(|j| j.backup_job_id().unwrap())
            .collect::<BTreeSet<_>>()
            .len(),
        61
    );
    let failed = list(c.list_backup_jobs().by_state(BackupJobState::Failed)).await;
    assert_eq!(failed.len(), 10);
    assert!(
        failed
            .iter()
            .all(|j| j.status_message() == Some("Insufficient privileges"))
    );
    assert_eq!(
        failed[0].created_by().unwrap().backup_plan_id(),
        Some("plan-1")
    );
    assert_eq!(failed[0].account_id(), Some(ACCOUNT));
    let ddb = list(c.list_backup_jobs().by_resource_type("DynamoDB")).await;
    assert_eq!(ddb.len(), 60);
    let orders = list(c.list_backup_jobs().by_resource_arn(table_arn("orders"))).await;
    assert_eq!(orders.len(), 12);
    let other = list(c.list_backup_jobs().by_backup_vault_name("other")).await;
    assert_eq!(other.len(), 15);
    let after = list(
        c.list_backup_jobs()
            .by_created_after(dt(base + SignedDuration::from_hours(49)))
            .by_resource_type("DynamoDB"),
    )
    .await;
    assert_eq!(after.len(), 10, "hours 50..=59");
    assert!(
        after
            .windows(2)
            .all(|w| w[0].creation_date() >= w[1].creation_date())
    );
    let before = list(
        c.list_backup_jobs()
            .by_created_before(dt(base + SignedDuration::from_hours(1))),
    )
    .await;
    assert_eq!(before.len(), 2, "hour 0: one DynamoDB job and the EBS job");
    let running_done = list(
        c.list_backup_jobs()
            .by_state(BackupJobState::Running)
            .by_complete_after(dt(base)),
    )
    .await;
    assert!(
        running_done.is_empty(),
        "running jobs have no completion date"
    );

    let e = c
        .list_backup_jobs()
        .max_results(5000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
}

#[tokio::test]
async fn seeding_an_unknown_vault_names_it_and_adds_nothing() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    let ok = RecoveryPoint {
        backup_vault_name: "main".into(),
        resource_arn: table_arn("a"),
        creation_date: ts(1_700_000_000),
        ..Default::default()
    };
    let bad = RecoveryPoint {
        backup_vault_name: "missing-vault".into(),
        ..ok.clone()
    };
    let e = s.add_recovery_points(vec![ok.clone(), bad]).unwrap_err();
    assert!(e.to_string().contains("missing-vault"), "{e}");
    let d = c
        .describe_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    assert_eq!(d.number_of_recovery_points(), 0, "all or nothing");
    let dup = RecoveryPoint {
        recovery_point_arn: Some("arn:aws:backup:us-east-1:123456789012:recovery-point:x".into()),
        ..ok
    };
    assert_eq!(s.add_recovery_points(vec![dup.clone()]).unwrap(), 1);
    assert!(matches!(
        s.add_recovery_points(vec![dup]),
        Err(standin::StandInError::Duplicate(_))
    ));
}

use policy::facts::CreatedBy as CreatedByFacts;
use std::sync::Arc;

/// `awsio::inventory::vault_recovery_points` (the verifier's reader) gives every point of one
/// creator the same shared `CreatedBy` (what keeps 60,000 points inside the verifier's memory),
/// and points of different creators different ones, with the values read.
#[tokio::test]
async fn the_vault_reader_shares_one_creator_per_rule() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    let seeded = seed_points(&s);
    let read = awsio::inventory::vault_recovery_points(
        &c,
        "main",
        seeded.base - SignedDuration::from_hours(1),
    )
    .await
    .unwrap();
    assert_eq!(read.points.len(), 2500);
    assert!(read.malformed.is_empty());
    let creators: Vec<&Arc<CreatedByFacts>> = read
        .points
        .iter()
        .map(|p| p.created_by.as_ref().unwrap())
        .collect();
    let (a, b): (Vec<&Arc<CreatedByFacts>>, Vec<&Arc<CreatedByFacts>>) = creators
        .into_iter()
        .partition(|c| c.plan_id == seeded.plan_a);
    assert_eq!((a.len(), b.len()), (1250, 1250));
    assert!(a.iter().all(|c| Arc::ptr_eq(c, a[0])));
    assert!(b.iter().all(|c| Arc::ptr_eq(c, b[0])));
    assert!(!Arc::ptr_eq(a[0], b[0]));
    assert_eq!(a[0].rule_cron.as_deref(), Some("cron(0 0 15,25 * ? *)"));
    assert_eq!(b[0].plan_id, "bbbbbbbb-0000-4000-8000-00000000000b");
}

#[tokio::test]
async fn vault_access_policy_and_lock_read_back_through_the_sdk() {
    use aws_sdk_backup::operation::get_backup_vault_access_policy::GetBackupVaultAccessPolicyError;
    use aws_sdk_backup::operation::put_backup_vault_access_policy::PutBackupVaultAccessPolicyError;
    use aws_sdk_backup::operation::put_backup_vault_lock_configuration::PutBackupVaultLockConfigurationError;
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "locked").await;

    // No policy yet: ResourceNotFoundException, the modelled variant.
    let e = c
        .get_backup_vault_access_policy()
        .backup_vault_name("locked")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(GetBackupVaultAccessPolicyError::ResourceNotFoundException(
                _
            ))
        ),
        "{e:?}"
    );
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"backup:DeleteRecoveryPoint","Resource":"*"}]}"#;
    c.put_backup_vault_access_policy()
        .backup_vault_name("locked")
        .policy(doc)
        .send()
        .await
        .unwrap();
    let got = c
        .get_backup_vault_access_policy()
        .backup_vault_name("locked")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(doc));
    assert_eq!(got.backup_vault_name(), Some("locked"));
    assert_eq!(
        got.backup_vault_arn(),
        Some("arn:aws:backup:us-east-1:123456789012:backup-vault:locked")
    );
    // Not a policy document: InvalidParameterValueException; an unknown vault: not found.
    let e = c
        .put_backup_vault_access_policy()
        .backup_vault_name("locked")
        .policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(PutBackupVaultAccessPolicyError::InvalidParameterValueException(_))
        ),
        "{e:?}"
    );
    let e = c
        .put_backup_vault_access_policy()
        .backup_vault_name("nope")
        .policy(doc)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(PutBackupVaultAccessPolicyError::ResourceNotFoundException(
                _
            ))
        ),
        "{e:?}"
    );
    c.delete_backup_vault_access_policy()
        .backup_vault_name("locked")
        .send()
        .await
        .unwrap();
    assert!(
        c.get_backup_vault_access_policy()
            .backup_vault_name("locked")
            .send()
            .await
            .is_err()
    );

    // Unlocked until PutBackupVaultLockConfiguration; then Locked with the bounds and a
    // LockDate ChangeableForDays from now, in both the list and the description.
    let before = c.list_backup_vaults().send().await.unwrap();
    assert_eq!(before.backup_vault_list()[0].locked(), Some(false));
    assert_eq!(before.backup_vault_list()[0].max_retention_days(), None);
    let e = c
        .put_backup_vault_lock_configuration()
        .backup_vault_name("locked")
        .min_retention_days(100)
        .max_retention_days(30)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(PutBackupVaultLockConfigurationError::InvalidParameterValueException(_))
        ),
        "{e:?}"
    );
    let now = Timestamp::now();
    c.put_backup_vault_lock_configuration()
        .backup_vault_name("locked")
        .min_retention_days(7)
        .max_retention_days(30)
        .changeable_for_days(3)
        .send()
        .await
        .unwrap();
    let listed = c.list_backup_vaults().send().await.unwrap();
    let v = &listed.backup_vault_list()[0];
    assert_eq!(v.locked(), Some(true));
    assert_eq!(v.min_retention_days(), Some(7));
    assert_eq!(v.max_retention_days(), Some(30));
    let lock_date = v.lock_date().unwrap().secs();
    let expected = now.as_second() + 3 * 24 * 3600;
    assert!(
        (lock_date - expected).abs() < 60,
        "{lock_date} vs {expected}"
    );
    let d = c
        .describe_backup_vault()
        .backup_vault_name("locked")
        .send()
        .await
        .unwrap();
    assert_eq!(d.locked(), Some(true));
    assert_eq!(d.max_retention_days(), Some(30));
    assert_eq!(d.lock_date().map(|t| t.secs()), Some(lock_date));
}

/// The writes on points, vaults and jobs through the SDK: percent-encoded ARNs (with `/`
/// and `:`) in the path, the modelled error variants, and the effects read back.
#[tokio::test]
async fn point_vault_and_job_writes_through_the_sdk() {
    use aws_sdk_backup::operation::delete_backup_vault::DeleteBackupVaultError;
    use aws_sdk_backup::operation::delete_recovery_point::DeleteRecoveryPointError;
    use aws_sdk_backup::operation::describe_backup_job::DescribeBackupJobError;
    use aws_sdk_backup::operation::disassociate_recovery_point::DisassociateRecoveryPointError;
    use aws_sdk_backup::operation::stop_backup_job::StopBackupJobError;
    use aws_sdk_backup::operation::update_recovery_point_lifecycle::UpdateRecoveryPointLifecycleError;
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    vault(&c, "main").await;
    vault(&c, "empty").await;
    let orders = table_arn("orders");
    let legacy_arn = format!("{orders}/backup/01750000000000-a1b2c3d4");
    let created = ts(1_750_000_000);
    s.add_recovery_points(vec![RecoveryPoint {
        recovery_point_arn: Some(legacy_arn.clone()),
        backup_vault_name: "main".into(),
        resource_arn: orders.clone(),
        creation_date: created,
        lifecycle: Some(standin::Lifecycle {
            delete_after_days: Some(35),
            ..Default::default()
        }),
        ..Default::default()
    }])
    .unwrap();

    // UpdateRecoveryPointLifecycle: the new lifecycle and its instants.
    let out = c
        .update_recovery_point_lifecycle()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .lifecycle(
            Lifecycle::builder()
                .delete_after_days(120)
                .move_to_cold_storage_after_days(10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.recovery_point_arn(), Some(legacy_arn.as_str()));
    assert_eq!(
        out.backup_vault_arn(),
        Some("arn:aws:backup:us-east-1:123456789012:backup-vault:main")
    );
    assert_eq!(out.lifecycle().unwrap().delete_after_days(), Some(120));
    let calc = out.calculated_lifecycle().unwrap();
    assert_eq!(
        calc.delete_at().unwrap().secs(),
        created.as_second() + 120 * 86400
    );
    assert_eq!(
        calc.move_to_cold_storage_at().unwrap().secs(),
        created.as_second() + 10 * 86400
    );
    let d = c
        .describe_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.lifecycle().unwrap().delete_after_days(), Some(120));
    let e = c
        .update_recovery_point_lifecycle()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .lifecycle(
            Lifecycle::builder()
                .delete_after_days(50)
                .move_to_cold_storage_after_days(10)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(UpdateRecoveryPointLifecycleError::InvalidParameterValueException(_))
        ),
        "{e:?}"
    );

    // DisassociateRecoveryPoint: a DynamoDB point is no continuous backup.
    let e = c
        .disassociate_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(DisassociateRecoveryPointError::InvalidRequestException(_))
        ),
        "{e:?}"
    );

    // DeleteBackupVault: refused while the vault holds the point; an empty one goes.
    let e = c
        .delete_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(DeleteBackupVaultError::InvalidRequestException(_))
        ),
        "{e:?}"
    );
    c.delete_backup_vault()
        .backup_vault_name("empty")
        .send()
        .await
        .unwrap();
    let vaults = c.list_backup_vaults().send().await.unwrap();
    assert_eq!(vaults.backup_vault_list().len(), 1);

    // DeleteRecoveryPoint: gone from describe and both listings; a second delete is 404.
    c.delete_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap();
    let e = c
        .describe_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        e.as_service_error(),
        Some(DescribeRecoveryPointError::ResourceNotFoundException(_))
    ));
    let listed = c
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    assert!(listed.recovery_points().is_empty());
    let listed = c
        .list_recovery_points_by_resource()
        .resource_arn(&orders)
        .send()
        .await
        .unwrap();
    assert!(listed.recovery_points().is_empty());
    let e = c
        .delete_recovery_point()
        .backup_vault_name("main")
        .recovery_point_arn(&legacy_arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(DeleteRecoveryPointError::ResourceNotFoundException(_))
        ),
        "{e:?}"
    );

    // DeleteBackupVaultLockConfiguration before the lock date.
    c.put_backup_vault_lock_configuration()
        .backup_vault_name("main")
        .min_retention_days(7)
        .changeable_for_days(3)
        .send()
        .await
        .unwrap();
    c.delete_backup_vault_lock_configuration()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    let v = c
        .describe_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    assert_eq!(v.locked(), Some(false));

    // DescribeBackupJob and StopBackupJob.
    s.add_backup_jobs(vec![BackupJob {
        backup_job_id: Some("job-running".into()),
        backup_vault_name: "main".into(),
        resource_arn: orders.clone(),
        creation_date: created,
        state: "RUNNING".into(),
        percent_done: Some("40.0".into()),
        start_by: Some(created + SignedDuration::from_hours(1)),
        ..Default::default()
    }])
    .unwrap();
    let j = c
        .describe_backup_job()
        .backup_job_id("job-running")
        .send()
        .await
        .unwrap();
    assert_eq!(j.state(), Some(&BackupJobState::Running));
    assert_eq!(j.resource_arn(), Some(orders.as_str()));
    assert_eq!(j.resource_type(), Some("DynamoDB"));
    assert_eq!(j.start_by().unwrap().secs(), created.as_second() + 3600);
    c.stop_backup_job()
        .backup_job_id("job-running")
        .send()
        .await
        .unwrap();
    let j = c
        .describe_backup_job()
        .backup_job_id("job-running")
        .send()
        .await
        .unwrap();
    assert_eq!(j.state(), Some(&BackupJobState::Aborted));
    let e = c
        .stop_backup_job()
        .backup_job_id("job-running")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(StopBackupJobError::InvalidRequestException(_))
        ),
        "{e:?}"
    );
    let e = c
        .describe_backup_job()
        .backup_job_id("no-such-job")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.as_service_error(),
            Some(DescribeBackupJobError::ResourceNotFoundException(_))
        ),
        "{e:?}"
    );
}
