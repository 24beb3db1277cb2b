//! `restore-command` against the local account seeded with the `audit-finding` scenario
//! (moto + the AWS Backup stand-in), the CLI run as a subprocess with the account's env.

use local_account::{LocalAccount, Scenario};
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{bg, json, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_command_picks_the_newest_good_point_and_prints_the_command() {
    let account = LocalAccount::start(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let env = account.env();

    // orders: scheduled points 5 minutes after each slot; at 2026-11-20 the newest is the
    // 15 November one.
    let out = run(bg(&env).args([
        "restore-command",
        "orders",
        "--at",
        "2026-11-20T00:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["table_name"], "orders");
    assert_eq!(
        v["table_arn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    );
    let rp = &v["recovery_point"];
    assert_eq!(rp["created"], "2026-11-15T00:05:00Z");
    assert_eq!(rp["vault_name"], "backup-guard-vault");
    assert_eq!(rp["on_demand"], false);
    assert_eq!(v["target_table_name"], "orders-restored-20261115T0005");
    let role = v["iam_role_arn"].as_str().unwrap();
    assert!(
        role.starts_with("arn:aws:iam::123456789012:role/"),
        "{role}"
    );
    assert_eq!(rp["iam_role_arn"], role);
    let cmd = v["command"].as_str().unwrap();
    let arn = rp["arn"].as_str().unwrap();
    assert!(
        cmd.starts_with(&format!(
            "aws backup start-restore-job --recovery-point-arn {arn} --iam-role-arn {role} \
             --metadata '{{\"targetTableName\":\"orders-restored-20261115T0005\"}}' \
             --resource-type DynamoDB"
        )),
        "{cmd}"
    );

    // Text output carries the same command; explicit name and role win.
    let out = run(bg(&env).args([
        "restore-command",
        "orders",
        "--at",
        "2026-11-20T00:00:00Z",
        "--target-name",
        "orders-drill",
        "--role-arn",
        "arn:aws:iam::123456789012:role/restore-operator",
    ]));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--iam-role-arn arn:aws:iam::123456789012:role/restore-operator"),
        "{text}"
    );
    assert!(
        text.contains(r#"'{"targetTableName":"orders-drill"}'"#),
        "{text}"
    );

    // search-index: the 15 October point is PARTIAL (not good), its retry came at 00:40; just
    // before the retry the newest good point is the 25 September one.
    let out = run(bg(&env).args([
        "restore-command",
        "search-index",
        "--at",
        "2026-10-15T00:30:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json(&out)["recovery_point"]["created"],
        "2026-09-25T00:05:00Z"
    );
    let out = run(bg(&env).args([
        "restore-command",
        "search-index",
        "--at",
        "2026-10-15T01:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(
        json(&out)["recovery_point"]["created"],
        "2026-10-15T00:40:00Z"
    );

    // legacy-reports is not covered: no point at all → exit 1 with the reason.
    let out = run(bg(&env).args(["restore-command", "legacy-reports", "--format", "json"]));
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["recovery_point"], Value::Null);
    assert!(v["reason"].as_str().unwrap().contains("legacy-reports"));

    // Before the table's first backup → exit 1 too.
    bg(&env)
        .args(["restore-command", "orders", "--at", "2020-01-01"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no good recovery point"));

    // The target may never be the source.
    let out = run(bg(&env).args(["restore-command", "orders", "--target-name", "orders"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrite"));

    // Bad input → 2.
    let out = run(bg(&env).args(["restore-command", "orders", "--at", "soon"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(bg(&env).args(["restore-command", "no spaces allowed"]));
    assert_eq!(out.status.code(), Some(2));
}
