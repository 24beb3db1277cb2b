//! Seeds `audit-finding` and reads every fact back through the real SDK clients with small
//! pages, so pagination is exercised: what comes back must be exactly what was seeded.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::PointInTimeRecoveryStatus;
use local_account::{LocalAccount, Scenario};

fn ts(d: &aws_smithy_types::DateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(d.to_millis().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finding_reads_back_exactly_through_the_sdk() {
    let scenario = Scenario::shipped("audit-finding").unwrap();
    let account = LocalAccount::start(&scenario).await.unwrap();
    let s = account.scenario().clone();
    let ctx = account.context().await;

    // --- DynamoDB ListTables, 7 per page.
    let mut names = BTreeSet::new();
    let mut pages = 0;
    let mut start: Option<String> = None;
    loop {
        let out = ctx
            .dynamodb()
            .list_tables()
            .limit(7)
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        names.extend(out.table_names.unwrap_or_default());
        match out.last_evaluated_table_name {
            Some(n) => start = Some(n),
            None => break,
        }
    }
    let seeded: BTreeSet<String> = s.tables.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, seeded);
    assert_eq!(seeded.len(), 26);
    assert!(pages >= 4, "ListTables pages: {pages}");

    // --- Tagging GetResources, 4 per page.
    let mut tags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .tagging()
            .get_resources()
            .resource_type_filters("dynamodb:table")
            .resources_per_page(4)
            .set_pagination_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        for r in out.resource_tag_mapping_list.unwrap_or_default() {
            let m = r
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect();
            tags.insert(r.resource_arn.unwrap(), m);
        }
        match out.pagination_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let seeded_tags: BTreeMap<String, BTreeMap<String, String>> = s
        .tables
        .iter()
        .map(|t| (s.table_arn(&t.name), t.tags.clone()))
        .collect();
    assert_eq!(tags, seeded_tags);
    assert!(pages >= 5, "GetResources pages: {pages}");

    // --- DescribeTable: the creation times the scenario says (set through the launcher).
    for t in &s.tables {
        let d = ctx
            .dynamodb()
            .describe_table()
            .table_name(&t.name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        assert_eq!(
            ts(d.creation_date_time.as_ref().unwrap()),
            t.created,
            "{}",
            t.name
        );
        assert_eq!(d.table_arn.unwrap(), s.table_arn(&t.name));
        let pitr = ctx
            .dynamodb()
            .describe_continuous_backups()
            .table_name(&t.name)
            .send()
            .await
            .unwrap()
            .continuous_backups_description
            .and_then(|c| c.point_in_time_recovery_description)
            .and_then(|p| p.point_in_time_recovery_status);
        assert_eq!(
            pitr == Some(PointInTimeRecoveryStatus::Enabled),
            t.pitr,
            "PITR of {}",
            t.name
        );
    }
    let ttl = ctx
        .dynamodb()
        .describe_time_to_live()
        .table_name("backup-guard-state")
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name.as_deref(), Some("expires_at"));

    // --- Backup plans, 1 per page, with their rules.
    let mut plan_ids = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = ctx
            .backup()
            .list_backup_plans()
            .max_results(1)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        for p in out.backup_plans_list.unwrap_or_default() {
            plan_ids.insert(p.backup_plan_name.unwrap(), p.backup_plan_id.unwrap());
        }
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert!(pages >= 2);
    let names: BTreeSet<&String> = plan_ids.keys().collect();
    assert_eq!(names, s.plans.iter().map(|p| &p.name).collect());
    for plan in &s.plans {
        let id = &plan_ids[&plan.name];
        assert_eq!(account.plan_id(&plan.name), Some(id.as_str()));
        let got = ctx
            .backup()
            .get_backup_plan()
            .backup_plan_id(id)
            .send()
            .await
            .unwrap()
            .backup_plan
            .unwrap();
        let rules: BTreeSet<_> = got
            .rules
            .iter()
            .map(|r| {
                let lc = r.lifecycle.as_ref();
                (
                    r.rule_name.clone(),
                    r.target_backup_vault_name.clone(),
                    r.schedule_expression.clone().unwrap(),
                    r.schedule_expression_timezone.clone(),
                    r.start_window_minutes,
                    r.completion_window_minutes,
                    lc.and_then(|l| l.delete_after_days),
                    lc.and_then(|l| l.move_to_cold_storage_after_days),
                )
            })
            .collect();
        let want: BTreeSet<_> = plan
            .rules
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.vault.clone(),
                    r.schedule.clone(),
                    r.timezone.clone(),
                    r.start_window_minutes,
                    r.completion_window_minutes,
                    r.delete_after_days,
                    r.move_to_cold_storage_after_days,
                )
            })
            .collect();
        assert_eq!(rules, want, "rules of {}", plan.name);

        // --- Selections of the plan, 1 per page, each read in full.
        let mut sel_ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = ctx
                .backup()
                .list_backup_selections()
                .backup_plan_id(id)
                .max_results(1)
                .set_next_token(token.take())
                .send()
                .await
                .unwrap();
            for sel in out.backup_selections_list.unwrap_or_default() {
                sel_ids.push(sel.selection_id.unwrap());
            }
            match out.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let want: Vec<_> = s
            .selections
            .iter()
            .filter(|x| x.plan == plan.name)
            .collect();
        assert_eq!(sel_ids.len(), want.len());
        for sid in sel_ids {
            let got = ctx
                .backup()
                .get_backup_selection()
                .backup_plan_id(id)
                .selection_id(&sid)
                .send()
                .await
                .unwrap()
                .backup_selection
                .unwrap();
            let w = want
                .iter()
                .find(|x| x.name == got.selection_name)
                .expect("a seeded selection");
            assert_eq!(got.resources.unwrap_or_default(), w.resources);
            assert_eq!(got.not_resources.unwrap_or_default(), w.not_resources);
            let lot: Vec<(String, String)> = got
                .list_of_tags
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.condition_key, c.condition_value))
                .collect();
            let wlot: Vec<(String, String)> = w
                .list_of_tags
                .iter()
                .map(|m| (m.key.clone(), m.value.clone()))
                .collect();
            assert_eq!(lot, wlot);
            let c = got
                .conditions
                .unwrap_or_else(|| aws_sdk_backup::types::Conditions::builder().build());
            let pairs = |v: Option<Vec<aws_sdk_backup::types::ConditionParameter>>| {
                v.unwrap_or_default()
                    .into_iter()
                    .map(|p| (p.condition_key.unwrap(), p.condition_value.unwrap()))
                    .collect::<Vec<_>>()
            };
            let wp = |v: &[local_account::scenario::TagMatch]| {
                v.iter()
                    .map(|m| (m.key.clone(), m.value.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(pairs(c.string_equals), wp(&w.conditions.string_equals));
            assert_eq!(
                pairs(c.string_not_equals),
                wp(&w.conditions.string_not_equals)
            );
            assert_eq!(pairs(c.string_like), wp(&w.conditions.string_like));
            assert_eq!(pairs(c.string_not_like), wp(&w.conditions.string_not_like));
        }
    }

    // --- Recovery points per vault, 7 per page, with lifecycle and CreatedBy.
    type Row = (
        String,
        String,
        String,
        String,
        jiff::Timestamp,
        Option<jiff::Timestamp>,
        Option<i64>,
        Option<i64>,
        Option<jiff::Timestamp>,
        Option<(String, String)>,
    );
    let mut got: BTreeSet<Row> = BTreeSet::new();
    let mut pages = 0;
    for v in &s.vaults {
        let mut token: Option<String> = None;
        loop {
            let out = ctx
                .backup()
                .list_recovery_points_by_backup_vault()
                .backup_vault_name(&v.name)
                .by_resource_type("DynamoDB")
                .max_results(7)
                .set_next_token(token.take())
                .send()
                .await
                .unwrap();
            pages += 1;
            for p in out.recovery_points.unwrap_or_default() {
                let lc = p.lifecycle.as_ref();
                got.insert((
                    p.recovery_point_arn.unwrap(),
                    p.backup_vault_name.unwrap(),
                    p.resource_arn.unwrap(),
                    p.status.unwrap().as_str().to_string(),
                    ts(p.creation_date.as_ref().unwrap()),
                    p.completion_date.as_ref().map(ts),
                    lc.and_then(|l| l.delete_after_days),
                    lc.and_then(|l| l.move_to_cold_storage_after_days),
                    p.calculated_lifecycle
                        .as_ref()
                        .and_then(|c| c.delete_at.as_ref())
                        .map(ts),
                    p.created_by
                        .map(|c| (c.backup_plan_id.unwrap(), c.backup_rule_id.unwrap())),
                ));
            }
            match out.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
    }
    let want: BTreeSet<Row> = s
        .recovery_points
        .iter()
        .map(|p| {
            let created_by = p.plan.as_ref().map(|plan| {
                let seeded = account.plan(plan).unwrap();
                (
                    seeded.id.clone(),
                    seeded.rules[p.rule.as_ref().unwrap()].id.clone(),
                )
            });
            (
                p.arn.clone().unwrap(),
                p.vault.clone().unwrap(),
                s.table_arn(&p.table),
                p.status.clone(),
                p.created,
                p.completed,
                p.delete_after_days,
                p.move_to_cold_storage_after_days,
                p.delete_at,
                created_by,
            )
        })
        .collect();
    assert_eq!(
        got.len(),
        s.recovery_points.len(),
        "no duplicates, none lost"
    );
    assert_eq!(got, want);
    assert!(s.recovery_points.len() > 100, "{}", s.recovery_points.len());
    assert!(pages > 15, "recovery-point pages: {pages}");

    // --- Backup jobs, 5 per page.
    let mut jobs = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .backup()
            .list_backup_jobs()
            .max_results(5)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        for j in out.backup_jobs.unwrap_or_default() {
            jobs.insert((
                j.backup_job_id.unwrap(),
                j.resource_arn.unwrap(),
                j.state.unwrap().as_str().to_string(),
            ));
        }
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let want: BTreeSet<_> = s
        .backup_jobs
        .iter()
        .map(|j| {
            (
                j.id.clone().unwrap(),
                s.table_arn(&j.table),
                j.state.clone(),
            )
        })
        .collect();
    assert_eq!(jobs, want);
    assert!(jobs.iter().any(|j| j.2 == "FAILED"));

    // STS says the scenario's account.
    let who = ctx.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(who.account.as_deref(), Some(s.account.as_str()));
}
