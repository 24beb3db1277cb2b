//! The organization fan-out against a local organization (`tests/scenarios/org-12x2.json`: 12
//! accounts × 2 regions × ~50 generated tables with violations spread across them; the last
//! account has no member role): the Plan step's items from moto's Organizations, each item
//! through `org_run::verify_item` (what the Distributed Map's items and `audit --org` run),
//! then the Aggregate step's one digest and org index, with the members' effective backup
//! policies attached in moto's Organizations.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, stream};
use local_account::LocalAccount;
use local_account::org::OrgScenario;
use local_account::scenario::STATE_TABLE;
use policy::Policy;
use recovery_verifier::Deps;
use recovery_verifier::org::{
    BackupPolicyCheck, ItemRequest, ItemStatus, ItemSummary, MODE_ITEM, MODE_PLAN, PlanRequest,
};
use recovery_verifier::org_run::{aggregate, index_key, list_items, verify_item};

use crate::common;

const RUN_ID: &str = "org-run-2026-11-25";

fn backup_policy(days: &str) -> String {
    format!(
        r#"{{"plans":{{"twice-monthly":{{"regions":{{"@@assign":["us-east-1","eu-west-1"]}},
        "rules":{{"policy":{{"schedule_expression":{{"@@assign":"cron(0 0 15,25 * ? *)"}},
        "start_backup_window_minutes":{{"@@assign":"60"}},"complete_backup_window_minutes":{{"@@assign":"180"}},
        "target_backup_vault_name":{{"@@assign":"backup-guard-vault"}},
        "lifecycle":{{"delete_after_days":{{"@@assign":"{days}"}}}}}}}},
        "selections":{{"tags":{{"tagged":{{"iam_role_arn":{{"@@assign":"arn:aws:iam::$account:role/backup"}},
        "tag_key":{{"@@assign":"backup-policy"}},"tag_value":{{"@@assign":["twice-monthly-90d"]}}}}}}}}}}}}}}"#
    )
}

/// Attaches an Organizations backup policy with `content` to `account` (from the management
/// account, as an administrator would).
async fn attach(home: &awsio::AwsContext, name: &str, content: &str, account: &str) {
    let org = home.organizations();
    let created = org
        .create_policy()
        .name(name)
        .description("test")
        .content(content)
        .r#type(aws_sdk_organizations::types::PolicyType::BackupPolicy)
        .send()
        .await
        .unwrap();
    let id = created
        .policy()
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.id())
        .unwrap()
        .to_string();
    org.attach_policy()
        .policy_id(id)
        .target_id(account)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_region_is_verified_one_missing_role_is_unverifiable_and_one_digest_goes_out()
{
    let spec = OrgScenario::shipped("org-12x2").unwrap();
    let org = LocalAccount::start_org(&spec).await.unwrap();
    let home_region = spec.regions[0].clone();
    let mgmt = org.management(&home_region).unwrap();
    let missing: Vec<&str> = spec
        .accounts
        .iter()
        .filter(|a| !a.member_role)
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        missing.len(),
        1,
        "the scenario has one account without its role"
    );
    let deps = Deps {
        policy: Policy::default(),
        topic_arn: mgmt.topic_arn().to_string(),
        state_table: STATE_TABLE.to_string(),
        evidence_bucket: Some(mgmt.evidence_bucket().to_string()),
        home: mgmt.context().await,
        regions: Vec::new(),
        safety_margin: Duration::ZERO,
        concurrency: 8,
    };
    // Effective backup policies: one conforming, one drifting (35 days), one malformed.
    let ids: Vec<&str> = spec.accounts.iter().map(|a| a.id.as_str()).collect();
    attach(&deps.home, "conforming", &backup_policy("90"), ids[1]).await;
    attach(&deps.home, "drifting", &backup_policy("35"), ids[2]).await;
    attach(
        &deps.home,
        "malformed",
        r#"{"plans": {"p": {"rules": "not an object"}}}"#,
        ids[3],
    )
    .await;

    let plan = PlanRequest {
        mode: MODE_PLAN.to_string(),
        run_id: RUN_ID.to_string(),
        regions: spec.regions.clone(),
        include_ous: Vec::new(),
        exclude_ous: Vec::new(),
        exclude_accounts: Vec::new(),
        member_role_name: spec.member_role_name.clone(),
        items_bucket: String::new(),
    };
    let items = list_items(&plan, &deps.home).await.unwrap();
    assert_eq!(items.len(), spec.accounts.len() * spec.regions.len());
    // An excluded OU takes its accounts out; an included one keeps only its own.
    let dev = spec
        .organizational_units
        .iter()
        .find(|u| u.name == "dev")
        .unwrap();
    let dev_id = org.ou_id("dev").unwrap().to_string();
    let without_dev = PlanRequest {
        exclude_ous: vec![dev_id.clone()],
        ..plan.clone()
    };
    let kept = list_items(&without_dev, &deps.home).await.unwrap();
    assert_eq!(
        kept.len(),
        (spec.accounts.len() - dev.accounts.len()) * spec.regions.len()
    );
    assert!(kept.iter().all(|i| !dev.accounts.contains(&i.account)));
    let only_dev = PlanRequest {
        include_ous: vec![dev_id],
        ..plan.clone()
    };
    let dev_items = list_items(&only_dev, &deps.home).await.unwrap();
    assert_eq!(dev_items.len(), dev.accounts.len() * spec.regions.len());
    let deps = &deps;
    let now = spec.now;
    let results: Vec<(ItemSummary, Option<recovery_verifier::RegionReport>)> = stream::iter(items)
        .map(|i| async move {
            let req = ItemRequest {
                mode: MODE_ITEM.to_string(),
                account: i.account,
                region: i.region,
                role_arn: i.role_arn,
                run_id: i.run_id,
            };
            verify_item(&req, deps, &common::no_deadline(), now).await
        })
        .buffer_unordered(4)
        .collect()
        .await;

    let mut policies = BTreeMap::new();
    for (summary, report) in &results {
        let (acct, region) = (summary.account.as_str(), summary.region.as_str());
        if missing.contains(&acct) {
            assert_eq!(summary.status, ItemStatus::Unverifiable, "{summary:?}");
            let reason = summary.reason.as_deref().unwrap_or_default();
            assert!(
                reason.contains("could not be assumed") && reason.contains("AccessDenied"),
                "{reason}"
            );
            assert!(report.is_none());
            continue;
        }
        assert_eq!(
            summary.status,
            ItemStatus::Verified,
            "{acct}/{region}: {summary:?}"
        );
        let report = report.as_ref().unwrap();
        let expected = org
            .account(acct, region)
            .unwrap()
            .expected_findings()
            .unwrap();
        assert_eq!(
            common::findings(report),
            expected,
            "{acct}/{region}: the verifier's findings are the scenario's, exactly"
        );
        let evidence = summary.evidence_prefix.as_deref().unwrap_or_default();
        assert!(
            evidence.starts_with(&format!(
                "s3://{}/evidence/{acct}/{region}/",
                mgmt.evidence_bucket()
            )),
            "{acct}/{region}: {evidence}"
        );
        if region == home_region {
            policies.insert(acct.to_string(), summary.backup_policy.clone());
        }
    }
    assert!(
        matches!(policies[ids[1]], Some(BackupPolicyCheck::Conforms { .. })),
        "{:?}",
        policies[ids[1]]
    );
    let Some(BackupPolicyCheck::Drifts { deviations }) = &policies[ids[2]] else {
        panic!("a 35-day policy drifts: {:?}", policies[ids[2]])
    };
    assert!(
        deviations.iter().any(|d| d.contains("35")),
        "{deviations:?}"
    );
    assert!(
        matches!(
            policies[ids[3]],
            Some(BackupPolicyCheck::Unverifiable { .. })
        ),
        "{:?}",
        policies[ids[3]]
    );
    assert_eq!(policies[ids[4]], Some(BackupPolicyCheck::None));

    // A second night of an item whose tables needed their creation time: from the central
    // state table's cache, with no DescribeTable and the same findings.
    let (first, again) = results
        .iter()
        .filter_map(|(s, r)| r.as_ref().map(|r| (s, r)))
        .find(|(_, r)| !r.described_tables.is_empty())
        .map(|(s, r)| (r.clone(), s.clone()))
        .expect("some account-region needed creation times");
    let req = ItemRequest {
        mode: MODE_ITEM.to_string(),
        account: again.account.clone(),
        region: again.region.clone(),
        role_arn: org.member_role_arn(&again.account),
        run_id: "second-night".to_string(),
    };
    let (_, second) = verify_item(&req, deps, &common::no_deadline(), now).await;
    let second = second.unwrap();
    assert!(
        second.described_tables.is_empty(),
        "{:?}",
        second.described_tables
    );
    assert_eq!(common::findings(&second), common::findings(&first));

    // The Aggregate step: one org digest, the org index.
    mgmt.receive_alerts().await.unwrap();
    let summaries: Vec<ItemSummary> = results.into_iter().map(|(s, _)| s).collect();
    let out = aggregate(RUN_ID, &summaries, deps, now).await.unwrap();
    assert_eq!(out["items"], 24);
    assert_eq!(out["unverifiable"], 2);
    let alerts = mgmt.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "one org digest: {alerts:#?}");
    let digest: serde_json::Value = serde_json::from_str(&alerts[0].message).unwrap();
    assert_eq!(digest["kind"], "backup-guard.org-digest");
    let subject = alerts[0].subject.clone().unwrap_or_default();
    assert!(
        subject.contains("12 accounts") && subject.contains("2 account-regions not verified"),
        "{subject}"
    );
    let index = deps
        .home
        .s3()
        .get_object()
        .bucket(mgmt.evidence_bucket())
        .key(index_key(RUN_ID))
        .send()
        .await
        .unwrap();
    let body = index.body.collect().await.unwrap().into_bytes();
    let index: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(index["items"].as_array().unwrap().len(), 24);
}
