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

const MGMT: &str = "100000000001";
const PROD: &str = "100000000002";
const SANDBOX: &str = "100000000003";

fn small_org() -> local_account::OrgScenario {
    local_account::OrgScenario::from_json(
        &serde_json::json!({
            "name": "org-small", "now": "2026-11-25T12:00:00Z",
            "management_account": MGMT,
            "regions": ["us-east-1", "eu-west-1"],
            "organizational_units": [{"name": "prod", "accounts": [PROD]},
                                     {"name": "sandbox", "accounts": [SANDBOX]}],
            "accounts": [
                {"id": MGMT, "name": "management", "scenario": {"base": "healthy"}},
                {"id": PROD, "name": "prod-1", "scenario": {"generate": {"tables": 6, "seed": 7}},
                 "regions": {"eu-west-1": {"base": "healthy"}}},
                {"id": SANDBOX, "name": "sandbox-1", "member_role": false,
                 "scenario": {"base": "healthy"}}
            ]
        })
        .to_string(),
        "org-small",
    )
    .unwrap()
}

async fn tables(ctx: &awsio::AwsContext) -> BTreeSet<String> {
    ctx.dynamodb()
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default()
        .into_iter()
        .collect()
}

async fn plan_arns(ctx: &awsio::AwsContext) -> BTreeSet<String> {
    ctx.backup()
        .list_backup_plans()
        .send()
        .await
        .unwrap()
        .backup_plans_list
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.backup_plan_arn)
        .collect()
}

async fn points(ctx: &awsio::AwsContext, vault: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut token = None;
    loop {
        let page = ctx
            .backup()
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        out.extend(
            page.recovery_points
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.recovery_point_arn),
        );
        match page.next_token {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_organization_holds_its_accounts_and_member_roles() {
    let org = small_org();
    let local = local_account::LocalAccount::start_org(&org).await.unwrap();
    let moto = local.moto();

    // Organizations: the pinned ids, the OUs.
    let listed = moto
        .organizations(MGMT, "ListAccounts", &serde_json::json!({}))
        .await
        .unwrap();
    let ids: BTreeSet<&str> = listed["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Id"].as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from([MGMT, PROD, SANDBOX]));
    let in_prod = moto
        .organizations(
            MGMT,
            "ListAccountsForParent",
            &serde_json::json!({"ParentId": local.ou_id("prod").unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(in_prod["Accounts"][0]["Id"].as_str(), Some(PROD));

    // The code under test runs as the management account and assumes the member role.
    let mgmt = local.management("us-east-1").unwrap();
    let me = mgmt.context().await;
    let who = me.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(who.account.as_deref(), Some(MGMT));
    let creds = local_account::account::assume_role(
        &moto.endpoint(),
        mgmt.credentials(),
        &local.member_role_arn(PROD),
        "backup-guard",
    )
    .await
    .unwrap();
    // Without the member role: AccessDenied, as AWS answers.
    let denied = local_account::account::assume_role(
        &moto.endpoint(),
        mgmt.credentials(),
        &local.member_role_arn(SANDBOX),
        "backup-guard",
    )
    .await
    .unwrap_err();
    assert!(denied.to_string().contains("AccessDenied"), "{denied}");

    for region in ["us-east-1", "eu-west-1"] {
        let prod = local.account(PROD, region).unwrap();
        let mut vars: Vec<(String, String)> = mgmt
            .env()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
            .filter(|(k, _)| k != "AWS_SESSION_TOKEN" && k != "AWS_REGION")
            .collect();
        vars.extend(creds.vars());
        vars.push(("AWS_REGION".into(), region.into()));
        let member = awsio::AwsContext::from_vars(&vars, Some(region)).await;
        let who = member.sts().get_caller_identity().send().await.unwrap();
        assert_eq!(who.account.as_deref(), Some(PROD));
        let seeded: BTreeSet<String> = prod
            .scenario()
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect();
        assert_eq!(tables(&member).await, seeded, "{region}");
        // The stand-in: the member's plans and points, not the management account's.
        let member_plans = plan_arns(&member).await;
        assert_eq!(member_plans.len(), prod.scenario().plans.len());
        assert!(
            member_plans
                .iter()
                .all(|a| a.contains(&format!(":{region}:{PROD}:")))
        );
        let mine = plan_arns(&local.management(region).unwrap().context().await).await;
        assert!(mine.is_disjoint(&member_plans));
        let vault = &prod.scenario().vaults[0].name;
        let member_points = points(&member, vault).await;
        let expected: BTreeSet<String> = prod
            .scenario()
            .recovery_points
            .iter()
            .filter(|p| p.vault.as_deref() == Some(vault.as_str()))
            .filter_map(|p| p.arn.clone())
            .collect();
        assert_eq!(member_points, expected, "{region}");
        assert!(member_points.iter().all(|a| a.contains(PROD)));
    }
    // Each region of the member is its own: us-east-1 is generated, eu-west-1 is `healthy`.
    let east = local.account(PROD, "us-east-1").unwrap().scenario();
    let west = local.account(PROD, "eu-west-1").unwrap().scenario();
    assert_ne!(east.tables.len(), west.tables.len());
}

#[test]
fn the_shipped_org_scenario_is_valid_and_spreads_violations() {
    let org = local_account::OrgScenario::shipped("org-12x2").unwrap();
    assert_eq!(org.accounts.len(), 12);
    assert_eq!(org.regions.len(), 2);
    assert_eq!(org.accounts.iter().filter(|a| !a.member_role).count(), 1);
    let mut with_findings = 0;
    for a in &org.accounts {
        for r in &org.regions {
            let s = org.account_scenario(&a.id, r).unwrap();
            assert!(
                (45..=60).contains(&s.tables.len()),
                "{} {r}: {}",
                a.id,
                s.tables.len()
            );
            if s.expectations.iter().any(|e| e.code != "EXEMPT") {
                with_findings += 1;
            }
        }
    }
    assert!(
        with_findings >= 12,
        "account-regions with violations: {with_findings}"
    );
}

/// The Must-show organization, seeded whole (12 accounts x 2 regions x 51 tables: about 15 s
/// of seeding on 2 cores; run with `--ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "seeds 1,224 tables; run with --ignored"]
async fn org_12x2_starts_whole() {
    let org = local_account::OrgScenario::shipped("org-12x2").unwrap();
    let started = std::time::Instant::now();
    let local = local_account::LocalAccount::start_org(&org).await.unwrap();
    eprintln!("org-12x2 seeded in {:?}", started.elapsed());
    assert_eq!(local.accounts().count(), 24);
    let mgmt = local.management("us-east-1").unwrap();
    let last = &org.accounts.last().unwrap().id;
    let denied = local_account::account::assume_role(
        &local.moto().endpoint(),
        mgmt.credentials(),
        &local.member_role_arn(last),
        "backup-guard",
    )
    .await
    .unwrap_err();
    assert!(denied.to_string().contains("AccessDenied"), "{denied}");
    for ((id, region), a) in local.accounts() {
        let ctx = a.context().await;
        assert_eq!(
            tables(&ctx).await.len(),
            a.scenario().tables.len(),
            "{id} {region}"
        );
    }
}

fn backup_client(
    standin: &local_account::standin::StandIn,
    key: &str,
    region: &str,
) -> aws_sdk_backup::Client {
    let config = aws_sdk_backup::Config::builder()
        .http_client(awsio::config::https_client())
        .endpoint_url(standin.endpoint())
        .behavior_version(aws_sdk_backup::config::BehaviorVersion::latest())
        .region(aws_sdk_backup::config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_backup::config::Credentials::new(
            key, "secret", None, None, "test",
        ))
        .build();
    aws_sdk_backup::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standin_keeps_accounts_and_regions_apart() {
    let standin = local_account::standin::StandIn::start().await.unwrap();
    standin.map_access_key("AKIDONE", "111111111111");
    standin.map_access_key("AKIDTWO", "222222222222");
    let one = backup_client(&standin, "AKIDONE", "us-east-1");
    let two = backup_client(&standin, "AKIDTWO", "us-east-1");
    let one_west = backup_client(&standin, "AKIDONE", "eu-west-1");
    let vault = one
        .create_backup_vault()
        .backup_vault_name("vault-1")
        .send()
        .await
        .unwrap();
    let arn = vault.backup_vault_arn.unwrap();
    assert!(
        arn.starts_with("arn:aws:backup:us-east-1:111111111111:"),
        "{arn}"
    );
    let listed = |c: aws_sdk_backup::Client| async move {
        c.list_backup_vaults()
            .send()
            .await
            .unwrap()
            .backup_vault_list
            .unwrap_or_default()
            .len()
    };
    assert_eq!(listed(one.clone()).await, 1);
    assert_eq!(listed(two.clone()).await, 0);
    assert_eq!(listed(one_west.clone()).await, 0);
    // The same name in the other account is its own vault.
    two.create_backup_vault()
        .backup_vault_name("vault-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed(two).await, 1);
    // Admin requests name their account (default: the stand-in's own).
    let admin = local_account::standin::admin::AdminClient::new(&standin.endpoint()).unwrap();
    let point = serde_json::json!([{
        "RecoveryPointArn": "arn:aws:backup:us-east-1:111111111111:recovery-point:p1",
        "BackupVaultName": "vault-1",
        "ResourceArn": "arn:aws:dynamodb:us-east-1:111111111111:table/t",
        "ResourceType": "DynamoDB",
        "Status": "COMPLETED",
        "CreationDate": 1764000000
    }]);
    let added = admin
        .request(
            "POST",
            "/_standin/recovery-points?account=111111111111&region=us-east-1",
            Some(&point),
        )
        .await
        .unwrap();
    assert_eq!(added["added"], 1);
    // The default account has no vault `vault-1`.
    assert!(admin.add_recovery_points(&point).await.is_err());
    let points = one
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("vault-1")
        .send()
        .await
        .unwrap()
        .recovery_points
        .unwrap_or_default();
    assert_eq!(points.len(), 1);
}
