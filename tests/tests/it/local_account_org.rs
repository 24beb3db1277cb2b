//! Accounts other than moto's default, the Backup stand-in's per-account state, and the local
//! organization.

use std::collections::BTreeSet;

use local_account::{LocalAccount, Scenario};

const OTHER: &str = "210987654321";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_in_another_account_starts_and_the_verifier_sees_it() {
    let scenario = Scenario::shipped("healthy")
        .unwrap()
        .rehomed(OTHER, "us-east-1")
        .unwrap();
    let account = LocalAccount::start(&scenario).await.unwrap();
    let ctx = account.context().await;
    // The code under test gets credentials moto maps to the scenario's account (an assumed
    // role's), no header: AWS's way.
    let me = ctx.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(me.account.as_deref(), Some(OTHER));
    assert!(account.credentials().session_token.is_some());
    let tables: BTreeSet<String> = ctx
        .dynamodb()
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default()
        .into_iter()
        .collect();
    let seeded: BTreeSet<String> = account
        .scenario()
        .tables
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(tables, seeded);
    // The stand-in answers the same credentials with the account's plans, ARNs in it.
    let plans = ctx
        .backup()
        .list_backup_plans()
        .send()
        .await
        .unwrap()
        .backup_plans_list
        .unwrap_or_default();
    assert_eq!(plans.len(), account.scenario().plans.len());
    for p in &plans {
        let arn = p.backup_plan_arn.as_deref().unwrap_or_default();
        assert!(arn.contains(&format!(":{OTHER}:")), "{arn}");
    }
    // moto's default account (the test key) sees none of it, in moto or in the stand-in.
    let default = local_account::account::sdk_config(
        &[
            ("AWS_ENDPOINT_URL".into(), account.moto().endpoint()),
            (
                "AWS_ENDPOINT_URL_BACKUP".into(),
                account.standin().endpoint(),
            ),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ],
        "us-east-1",
        &awsio::config::ClientSettings::default(),
    )
    .await;
    let db = aws_sdk_dynamodb::Client::new(&default);
    let none = db
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    assert!(none.is_empty(), "{none:?}");
    let bk = aws_sdk_backup::Client::new(&default);
    let none = bk
        .list_backup_plans()
        .send()
        .await
        .unwrap()
        .backup_plans_list
        .unwrap_or_default();
    assert!(none.is_empty(), "{none:?}");
}
