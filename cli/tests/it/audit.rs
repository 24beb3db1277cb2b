//! `audit` and `check-event --live` against the local account seeded with the
//! `audit-finding` scenario, the CLI run as a subprocess with the account's env.

use std::collections::BTreeSet;

use local_account::{LocalAccount, Scenario};
use serde_json::Value;

use crate::common::{bg, json, run};

fn codes_of(report: &Value, table: &str) -> BTreeSet<String> {
    report["report"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"]["name"] == table)
        .flat_map(|t| t["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn verdict_of(report: &Value, table: &str) -> String {
    report["report"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == table)
        .map(|t| t["verdict"].as_str().unwrap().to_string())
        .unwrap()
}

/// A CreateTable event (the shipped sample) retargeted at a table of the local account.
fn create_event(table: &str, region: &str, account: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/create-table.json");
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let arn = format!("arn:aws:dynamodb:{region}:{account}:table/{table}");
    e["region"] = region.into();
    e["account"] = account.into();
    e["detail"]["awsRegion"] = region.into();
    e["detail"]["recipientAccountId"] = account.into();
    e["detail"]["requestParameters"]["tableName"] = table.into();
    e["detail"]["requestParameters"]["tags"] = serde_json::json!([]);
    e["detail"]["responseElements"]["tableDescription"]["tableName"] = table.into();
    e["detail"]["responseElements"]["tableDescription"]["tableArn"] = arn.into();
    e.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reports_the_scenarios_findings_and_exit_codes() {
    let account = LocalAccount::start(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let env = account.env();
    let now = account.now().to_string();

    // JSON: the verifier's report, every table, the scenario's violations found.
    let out = run(bg(&env).args(["audit", "--now", &now, "--format", "json"]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["account"], "123456789012");
    assert_eq!(
        v["report"]["tables"].as_array().unwrap().len(),
        account.scenario().tables.len()
    );
    assert_eq!(verdict_of(&v, "orders"), "compliant");
    assert!(codes_of(&v, "orders").is_empty());
    assert!(codes_of(&v, "billing-ledger").contains("MISSED_SLOT"));
    assert!(codes_of(&v, "legacy-reports").contains("NOT_COVERED"));
    assert!(codes_of(&v, "reports-archive").contains("RETENTION_TOO_SHORT"));
    assert_eq!(verdict_of(&v, "session-cache"), "exempt");
    let calls = v["counted_calls"].as_u64().unwrap();
    assert!(calls > 0);
    assert_eq!(
        v["report"]["api_calls"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>(),
        calls
    );

    // Text: one row per table with verdict and last good slot, findings, the call count; no
    // colour when stdout is not a terminal; no progress bar when stderr is not a terminal.
    let out = run(bg(&env).args(["audit", "--now", &now]));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let orders_row = text
        .lines()
        .find(|l| l.starts_with("orders "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(orders_row.contains("compliant"), "{orders_row}");
    assert!(orders_row.contains("2026-11-25T00:00:00Z"), "{orders_row}");
    let billing = text
        .lines()
        .find(|l| l.starts_with("billing-ledger "))
        .unwrap();
    assert!(
        billing.contains("non-compliant") && billing.contains("MISSED_SLOT"),
        "{billing}"
    );
    assert!(text.contains(&format!("AWS API calls: {calls}")), "{text}");

    // Colour when forced.
    let out = run(bg(&env).args([
        "audit", "--now", &now, "--color", "always", "--table", "orders",
    ]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[32m"));

    // --table narrows the run: the compliant table alone → exit 0.
    let out = run(bg(&env).args([
        "audit", "--now", &now, "--table", "orders", "--format", "json",
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    let names: Vec<&str> = v["report"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders"]);

    // --fail-on: temp-exports only misses its owner tag (warning) → 1 at warning, 0 at high.
    let out = run(bg(&env).args(["audit", "--now", &now, "--table", "temp-*"]));
    assert_eq!(out.status.code(), Some(1));
    let out = run(bg(&env).args([
        "audit",
        "--now",
        &now,
        "--table",
        "temp-*",
        "--fail-on",
        "high",
    ]));
    assert_eq!(out.status.code(), Some(0));

    // Bad input → 2.
    let out = run(bg(&env).args(["audit", "--now", "whenever"]));
    assert_eq!(out.status.code(), Some(2));

    // An unreachable account → 2, naming what failed.
    let mut dead = env.clone();
    for (k, v) in dead.iter_mut() {
        if k.starts_with("AWS_ENDPOINT_URL") {
            *v = "http://127.0.0.1:9".into();
        }
    }
    let out = run(bg(&dead).args(["audit", "--now", &now]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing could be verified"));

    // check-event --live: the guard's handler, report-only, on two tables of the account.
    let region = account.scenario().region.clone();
    let acct = account.scenario().account.clone();
    let out = run(bg(&env)
        .args(["check-event", "-", "--live", "--format", "json"])
        .write_stdin(create_event("temp-exports", &region, &acct)));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["outcome"], "evaluate");
    assert_eq!(v["table_name"], "temp-exports");
    assert_eq!(v["verdict"], "non-compliant");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"MISSING_TAG"), "{codes:?}");
    assert_eq!(v["guard_outcome"]["mode"], "report-only");
    // Report-only: nothing was tagged.
    assert!(
        v["guard_outcome"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] != "tag_added")
    );

    let out = run(bg(&env)
        .args(["check-event", "-", "--live", "--format", "json"])
        .write_stdin(create_event("orders", &region, &acct)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A table the guard sees being created: protected, its first backup still to come.
    let v = json(&out);
    assert_eq!(v["verdict"], "pending");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info"),
        "{v:#}"
    );

    // --live without the guard's settings → 2 naming the variable.
    let no_topic: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "BG_TOPIC_ARN")
        .cloned()
        .collect();
    let out = run(bg(&no_topic)
        .env_remove("BG_TOPIC_ARN")
        .args(["check-event", "-", "--live"])
        .write_stdin(create_event("orders", &region, &acct)));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BG_TOPIC_ARN"));
}

/// Vault protection flows through `audit`: a vault whose key is pending deletion and that has
/// no Vault Lock although `BG_VAULT_LOCK_REQUIRED=true` gives both findings on every table
/// whose points it holds, in the text and the JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_shows_vault_protection_findings() {
    let mut scenario = Scenario::shipped("healthy").unwrap();
    scenario.vaults[0] = serde_json::from_value(serde_json::json!({
        "name": "backup-guard-vault",
        "access_policy": "deny-recovery-point-deletion",
        "key": {"state": "PendingDeletion"}
    }))
    .unwrap();
    let account = LocalAccount::start(&scenario).await.unwrap();
    let mut env = account.env();
    env.push(("BG_VAULT_LOCK_REQUIRED".into(), "true".into()));
    let now = account.now().to_string();

    let out = run(bg(&env).args(["audit", "--now", &now, "--format", "json"]));
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let codes = codes_of(&v, "orders");
    assert!(codes.contains("VAULT_KEY_NOT_USABLE"), "{codes:?}");
    assert!(codes.contains("VAULT_NOT_LOCKED"), "{codes:?}");
    assert_eq!(verdict_of(&v, "orders"), "non_compliant");

    let out = run(bg(&env).args(["audit", "--now", &now, "--table", "orders"]));
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("orders "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.contains("VAULT_KEY_NOT_USABLE") && row.contains("VAULT_NOT_LOCKED"),
        "{row}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_org_verifies_every_account_region_with_the_items_code_and_prints_one_digest() {
    let spec = local_account::org::OrgScenario::shipped("org-small").unwrap();
    let org = LocalAccount::start_org(&spec).await.unwrap();
    let mgmt = org.management(&spec.regions[0]).unwrap();
    let env = mgmt.env();
    let now = spec.now.to_string();
    let out = run(bg(&env).args([
        "audit",
        "--org",
        "--now",
        &now,
        "--region",
        &spec.regions[0],
        "--format",
        "json",
    ]));
    let digest = json(&out);
    assert_eq!(digest["kind"], "backup-guard.org-digest", "{digest:#}");
    let items = digest["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        spec.accounts.len() * spec.regions.len(),
        "{digest:#}"
    );
    for item in items {
        assert_eq!(item["status"], "verified", "{item:#}");
        let acct = item["account"].as_str().unwrap();
        let expected = org
            .account(acct, &spec.regions[0])
            .unwrap()
            .scenario()
            .tables
            .len() as u64;
        let counted: u64 = item["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            counted, expected,
            "{acct}: every table of the account judged"
        );
    }
    assert_eq!(digest["totals"]["unverifiable"], 0);
}
