//! The recovery verifier against the local account (moto + AWS Backup stand-in), called
//! in-process (`lambda_runtime::run` only works inside Lambda).

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::Tag;
use awsio::Budget;
use local_account::standin::faults::{FailKind, Fault};
use local_account::{ExpectedFinding, Scenario};
use policy::{FindingCode, Verdict};
use recovery_verifier::{VerifierError, VerifyOptions, minimal_calls, run, verify_region};
use serde_json::{Value, json};

use crate::common::*;

fn alert_json(message: &str) -> Value {
    serde_json::from_str(message).expect("the SQS variant of the digest is JSON")
}

fn list_len(v: &Value, key: &str) -> usize {
    v.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_account_has_no_findings_and_the_digest_says_all_compliant() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let deps = deps(&account).await;
    let outcome = run(at_now(&account), &deps, no_deadline()).await.unwrap();

    let region = &outcome.regions[0];
    assert!(region.failure.is_none());
    assert_eq!(region.report.tables.len(), account.scenario().tables.len());
    assert!(findings(region).is_empty(), "{:#?}", findings(region));
    assert!(
        region
            .report
            .tables
            .iter()
            .all(|t| t.verdict == Verdict::Compliant)
    );

    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "exactly one digest per run");
    let a = &alerts[0];
    assert_eq!(
        a.subject.as_deref(),
        Some("[backup-guard] OK: all 6 tables compliant (123456789012)")
    );
    assert_eq!(a.attributes.get("severity").map(String::as_str), Some("ok"));
    assert_eq!(
        a.attributes.get("mode").map(String::as_str),
        Some("enforce")
    );
    assert_eq!(
        a.attributes.get("region").map(String::as_str),
        Some("us-east-1")
    );
    let body = alert_json(&a.message);
    assert_eq!(body["all_compliant"], Value::Bool(true));
    assert!(outcome.digest.text.contains("All 6 tables are compliant"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finding_reports_exactly_the_seeded_violations_then_tracks_a_fix() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    let deps = deps(&account).await;

    // A dry run publishes nothing and saves nothing.
    let mut dry = at_now(&account);
    dry["dry_run"] = json!(true);
    let dry_outcome = run(dry, &deps, no_deadline()).await.unwrap();
    assert!(dry_outcome.dry_run && dry_outcome.digest_message_id.is_none());
    assert!(account.receive_alerts().await.unwrap().is_empty());

    // First run: exactly the expected findings (code, table, slot/point/plan), nothing else.
    let first = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let region = &first.regions[0];
    let got = findings(region);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
    let verdict = |name: &str| table_named(region, name).map(|t| t.verdict);
    assert_eq!(verdict("ml-features"), Some(Verdict::Pending));
    assert_eq!(verdict("session-cache"), Some(Verdict::Exempt));
    assert_eq!(verdict("orders"), Some(Verdict::Compliant));

    // The digest: every open problem is new (the dry run saved nothing).
    let problems: BTreeSet<&ExpectedFinding> = expected
        .iter()
        .filter(|e| e.code.severity() > policy::Severity::Info)
        .collect();
    let diff = &first.diffs["us-east-1"];
    assert_eq!(diff.new.len(), problems.len());
    assert!(diff.still_open.is_empty() && diff.resolved.is_empty());
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    let subject = alerts[0].subject.clone().unwrap_or_default();
    assert!(subject.starts_with("[backup-guard] CRITICAL:"), "{subject}");
    let body = alert_json(&alerts[0].message);
    assert_eq!(list_len(&body, "new"), problems.len());
    assert_eq!(
        alerts[0].attributes.get("severity").map(String::as_str),
        Some("critical")
    );
    let codes: Vec<String> = serde_json::from_str(&alerts[0].attributes["finding_codes"]).unwrap();
    assert!(
        codes.contains(&"NOT_COVERED".to_string()) && codes.contains(&"MISSED_SLOT".to_string())
    );
    assert!(!codes.contains(&"EXEMPT".to_string()));

    // Fix one problem: the owner tag of temp-exports.
    let ctx = account.context().await;
    ctx.dynamodb()
        .tag_resource()
        .resource_arn(account.scenario().table_arn("temp-exports"))
        .tags(
            Tag::builder()
                .key("owner")
                .value("team-data")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let second = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let diff = &second.diffs["us-east-1"];
    assert!(diff.new.is_empty(), "nothing new: {:#?}", diff.new);
    assert_eq!(diff.resolved.len(), 1);
    assert_eq!(diff.resolved[0].table, "temp-exports");
    assert_eq!(diff.resolved[0].code.as_str(), "MISSING_TAG");
    assert_eq!(diff.still_open.len(), problems.len() - 1);
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    let body = alert_json(&alerts[0].message);
    assert_eq!(list_len(&body, "new"), 0);
    assert_eq!(list_len(&body, "still_open"), problems.len() - 1);
    let resolved = body["resolved"].as_array().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["table"], "temp-exports");
    assert_eq!(resolved[0]["code"], "MISSING_TAG");
    assert!(
        second
            .digest
            .text
            .contains("RESOLVED SINCE THE LAST RUN (1)")
    );
    assert!(!second.digest.text.contains("NEW PROBLEMS"));

    // A run restricted to one table does not resolve the other tables' problems: they were
    // not verified, so they stay open.
    let filtered = run(
        json!({"now": account.now().to_string(), "tables": ["orders"]}),
        &deps,
        no_deadline(),
    )
    .await
    .unwrap();
    let diff = &filtered.diffs["us-east-1"];
    assert!(diff.new.is_empty() && diff.resolved.is_empty(), "{diff:#?}");
    assert_eq!(diff.still_open.len(), problems.len() - 1);

    // A deleted table's problems are resolved (it is no longer listed and was not filtered out).
    ctx.dynamodb()
        .delete_table()
        .table_name("legacy-reports")
        .send()
        .await
        .unwrap();
    let third = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let diff = &third.diffs["us-east-1"];
    let legacy = problems
        .iter()
        .filter(|e| e.table == "legacy-reports")
        .count();
    assert!(legacy > 0);
    assert!(diff.new.is_empty(), "{:#?}", diff.new);
    assert_eq!(diff.resolved.len(), legacy);
    assert!(diff.resolved.iter().all(|f| f.table == "legacy-reports"));
    assert_eq!(diff.still_open.len(), problems.len() - 1 - legacy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finding_calls_equal_the_minimal_formula() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    let ctx = account.context().await;
    let policy = policy::Policy::default();
    let report = verify_region(&ctx, &policy, account.now(), &VerifyOptions::default()).await;

    // DescribeTable only for the tables that miss a slot without their creation time.
    let need = tables_needing_creation_time(account.scenario(), &expected, &policy);
    let described: BTreeSet<String> = report.described_tables.iter().cloned().collect();
    assert_eq!(described, need);

    let shape = shape_of(account.scenario(), need.len() as u64);
    let formula = minimal_calls(&shape);
    let counted: u64 = calls(&ctx).values().sum();
    println!(
        "audit-finding: counted {counted} calls, formula {formula}; per operation: {:?}; formula per operation: {:?}",
        calls(&ctx),
        recovery_verifier::calls::minimal_calls_by_operation(&shape)
    );
    assert_eq!(counted, formula);
    assert_eq!(report.counted_calls, counted);
    assert_eq!(report.minimal_calls, Some(formula));
    assert_eq!(report.shape.as_ref(), Some(&shape));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_recovery_point_listing_completes_with_retries() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    let mut fault = Fault::new("ListRecoveryPointsByBackupVault");
    fault.throttle_first = 3;
    account.standin().set_fault(fault).unwrap();
    let ctx = account.context().await;
    let report = verify_region(
        &ctx,
        &policy::Policy::default(),
        account.now(),
        &VerifyOptions::default(),
    )
    .await;
    assert!(
        report.report.unreachable.is_empty(),
        "{:?}",
        report.report.unreachable
    );
    assert_eq!(findings(&report), expected);
    let per_op = ctx.calls.snapshot();
    let listing = per_op["Backup.ListRecoveryPointsByBackupVault"];
    assert_eq!(listing.retries, 3, "each throttled call was retried once");
    assert_eq!(report.retries, 3);
    assert_eq!(
        Some(report.counted_calls - report.retries),
        report.minimal_calls
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_failing_permanently_makes_every_tables_points_unknown() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    let mut fault = Fault::new("ListRecoveryPointsByBackupVault");
    fault.fail_always = Some(FailKind::InternalServerError);
    fault.vault = Some("backup-guard-vault".into());
    account.standin().set_fault(fault).unwrap();
    let deps = deps(&account).await;
    let outcome = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let region = &outcome.regions[0];

    assert!(
        region
            .report
            .unreachable
            .iter()
            .any(|u| u.what.contains("vault=backup-guard-vault")),
        "{:?}",
        region.report.unreachable
    );
    assert_eq!(
        region
            .unread_sources()
            .map(|s| s.source.clone())
            .collect::<Vec<_>>(),
        vec![recovery_verifier::Source::Vault(
            "backup-guard-vault".into()
        )]
    );
    // Any vault may hold any table's points: no table is judged on the other vaults alone.
    for t in &region.report.tables {
        let name = t.table.name.as_str();
        if t.verdict == Verdict::Exempt {
            continue;
        }
        assert_ne!(t.verdict, Verdict::Compliant, "{name}");
        let unverifiable: Vec<_> = t
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::Unverifiable)
            .collect();
        assert!(
            unverifiable
                .iter()
                .any(|f| f.message.contains("backup-guard-vault")),
            "{name}: an UNVERIFIABLE finding names the vault: {:?}",
            t.findings
        );
        if expected_for(&expected, name).is_empty() {
            assert_eq!(t.verdict, Verdict::Unverifiable, "{name}");
        }
    }
    assert!(
        outcome.digest.subject.contains("1 source(s) unread"),
        "{}",
        outcome.digest.subject
    );
    // The run continued and the digest went out.
    assert!(outcome.digest_message_id.is_some());
    assert_eq!(account.receive_alerts().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_inside_the_safety_margin_is_reported_not_silent() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    // Two seconds left, but a safety margin of a minute: no new work may start.
    let mut deps = deps(&account).await;
    deps.safety_margin = std::time::Duration::from_secs(60);
    let budget = Budget::from_now(std::time::Duration::from_secs(2));
    let err = run(at_now(&account), &deps, budget).await.unwrap_err();
    assert!(matches!(err, VerifierError::NothingVerifiable(_)), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "the digest still reports the failure");
    let subject = alerts[0].subject.clone().unwrap_or_default();
    assert!(subject.contains("1 region(s) failed"), "{subject}");
    assert!(alerts[0].message.contains("deadline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_and_unknown_regions_fail_clearly_without_publishing() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let deps = deps(&account).await;
    let err = run(json!({"regions": "us-east-1"}), &deps, no_deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifierError::Payload(ref p) if p.field == "regions"),
        "{err}"
    );
    let err = run(json!({"regions": ["eu-central-1"]}), &deps, no_deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, VerifierError::UnknownRegion { .. }), "{err}");
    assert!(err.to_string().contains("eu-central-1"));
    assert!(account.receive_alerts().await.unwrap().is_empty());
    // The scheduled-event envelope works (and evaluates at the clock's now).
    let envelope = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-25T02:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {}});
    let outcome = run(envelope, &deps, no_deadline()).await.unwrap();
    assert_eq!(outcome.regions.len(), 1);
    // A table filter restricts evaluation but not the inventory reads.
    let outcome = run(
        json!({"now": account.now().to_string(), "tables": ["order*", "pay*"]}),
        &deps,
        no_deadline(),
    )
    .await
    .unwrap();
    let names: Vec<&str> = outcome.regions[0]
        .report
        .tables
        .iter()
        .map(|t| t.table.name.as_str())
        .collect();
    assert_eq!(names, ["orders", "payments"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_regions_are_verified_in_one_run_and_reported_per_region() {
    let east = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let west_json = Scenario::shipped("healthy")
        .unwrap()
        .to_json()
        .replace("us-east-1", "eu-west-1");
    let west = start(&Scenario::from_json(&west_json, "healthy in eu-west-1").unwrap()).await;
    let mut deps = deps(&east).await;
    deps.regions
        .push(("eu-west-1".to_string(), west.context().await));

    let outcome = run(at_now(&east), &deps, no_deadline()).await.unwrap();
    let regions: Vec<&str> = outcome.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(
        findings(&outcome.regions[0]),
        east.expected_findings().unwrap()
    );
    assert!(findings(&outcome.regions[1]).is_empty());
    assert!(
        outcome.regions[1]
            .report
            .tables
            .iter()
            .all(|t| t.table.arn.starts_with("arn:aws:dynamodb:eu-west-1:"))
    );
    assert!(outcome.diffs["eu-west-1"].new.is_empty());
    assert!(!outcome.diffs["us-east-1"].new.is_empty());

    let alerts = east.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "one digest for all regions");
    assert_eq!(
        alerts[0].attributes.get("region").map(String::as_str),
        Some("us-east-1,eu-west-1")
    );
    let east_tables = format!("Region us-east-1: {} tables", east.scenario().tables.len());
    assert!(
        outcome.digest.text.contains(&east_tables),
        "{}",
        outcome.digest.text
    );
    assert!(
        outcome
            .digest
            .text
            .contains("Region eu-west-1: 6 tables: 6 compliant")
    );

    // An on-demand run of one region leaves the other's state alone.
    let only_west = run(
        json!({"now": east.now().to_string(), "regions": ["eu-west-1"]}),
        &deps,
        no_deadline(),
    )
    .await
    .unwrap();
    assert_eq!(only_west.regions.len(), 1);
    let again = run(at_now(&east), &deps, no_deadline()).await.unwrap();
    assert!(again.diffs["us-east-1"].new.is_empty());
    assert!(again.diffs["us-east-1"].resolved.is_empty());
    assert_eq!(
        again.diffs["us-east-1"].still_open.len(),
        outcome.diffs["us-east-1"].new.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_not_reached_before_the_deadline_are_reported_unverifiable() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let expected = account.expected_findings().unwrap();
    // The deadline is 30 s away with a 27 s safety margin: new work stops after 3 s, calls in
    // flight may run until 16.5 s (attempts capped at a third of that: 5.5 s). The job listing
    // takes 3.5 s: it completes, but no DescribeTable may start any more.
    let mut slow = Fault::new("ListBackupJobs");
    slow.latency_ms = 3500;
    account.standin().set_fault(slow).unwrap();
    let mut deps = deps(&account).await;
    deps.safety_margin = std::time::Duration::from_secs(27);
    let budget = Budget::from_now(std::time::Duration::from_secs(30));
    let outcome = run(at_now(&account), &deps, budget).await.unwrap();
    let region = &outcome.regions[0];
    let need = tables_needing_creation_time(account.scenario(), &expected, &deps.policy);
    let unreached: BTreeSet<String> = region.unreached_tables.iter().cloned().collect();
    assert_eq!(unreached, need);
    assert!(region.described_tables.is_empty());
    for t in &region.report.tables {
        let name = t.table.name.as_str();
        if need.contains(name) {
            assert!(
                t.findings
                    .iter()
                    .any(|f| f.code == FindingCode::Unverifiable && f.message.contains("deadline")),
                "{name}: {:?}",
                t.findings
            );
        } else {
            assert_eq!(
                table_findings(t),
                expected_for(&expected, name),
                "{name} was reached and verified"
            );
        }
    }
    assert!(
        region
            .report
            .unreachable
            .iter()
            .any(|u| u.what.starts_with("DynamoDB.DescribeTable table="))
    );
    assert!(
        outcome
            .digest
            .text
            .contains("Not read: DynamoDB.DescribeTable")
    );
}

/// The reproduction of "a violation turns into compliant, resolved when a vault cannot be
/// read": `healthy` plus a second vault holding a 55-day-old manual backup of `orders` with no
/// lifecycle. First night: `UNMANAGED_BACKUP`. Second night the vault answers AccessDenied:
/// `orders` must not become compliant, its problem must stay open (not resolved), and the
/// metrics must count it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_vault_never_turns_a_violation_into_compliant_or_resolved() {
    let mut scenario = Scenario::shipped("healthy").unwrap();
    scenario.vaults.push(local_account::scenario::VaultSpec {
        name: "side-vault".into(),
        ..Default::default()
    });
    let created = scenario
        .now
        .checked_sub(jiff::SignedDuration::from_hours(55 * 24))
        .unwrap();
    scenario.recovery_points.push(
        serde_json::from_value(json!({
            "table": "orders",
            "vault": "side-vault",
            "created": created.to_string(),
            "note": "manual on-demand backup, no lifecycle"
        }))
        .unwrap(),
    );
    let account = start(&scenario).await;
    let deps = deps(&account).await;

    let first = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let orders = table_named(&first.regions[0], "orders").unwrap();
    assert_eq!(orders.verdict, Verdict::NonCompliant);
    let unmanaged: Vec<String> = orders
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::UnmanagedBackup)
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(unmanaged.len(), 1, "{:?}", orders.findings);
    account.receive_alerts().await.unwrap();

    let mut fault = Fault::new("ListRecoveryPointsByBackupVault");
    fault.fail_always = Some(FailKind::AccessDeniedException);
    fault.vault = Some("side-vault".into());
    account.standin().set_fault(fault).unwrap();
    // Every table is now unverifiable: the invocation fails (Lambda's Errors alarm), after the
    // digest went out and the state was saved.
    let err = run(at_now(&account), &deps, no_deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, VerifierError::NothingVerifiable(_)), "{err}");
    let region = verify_region(
        &account.context().await,
        &deps.policy,
        account.now(),
        &VerifyOptions::default(),
    )
    .await;
    let orders = table_named(&region, "orders").unwrap();
    assert!(
        matches!(
            orders.verdict,
            Verdict::Unverifiable | Verdict::NonCompliant
        ),
        "{:?}",
        orders.verdict
    );
    assert!(
        orders
            .findings
            .iter()
            .any(|f| f.code == FindingCode::Unverifiable && f.message.contains("side-vault")),
        "the reason names the vault: {:?}",
        orders.findings
    );
    for t in &region.report.tables {
        assert_ne!(t.verdict, Verdict::Compliant, "{}", t.table.name);
    }
    // The digest: nothing resolved, the problem still open, the unread source in the subject.
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    let subject = alerts[0].subject.clone().unwrap_or_default();
    assert!(subject.contains("1 source(s) unread"), "{subject}");
    let body = alert_json(&alerts[0].message);
    assert_eq!(list_len(&body, "resolved"), 0, "{body}");
    let still_open: Vec<&str> = body["still_open"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        unmanaged.iter().all(|id| still_open.contains(&id.as_str())),
        "UNMANAGED_BACKUP is still open: {body}"
    );
    // The metrics count it.
    let lines =
        recovery_verifier::metrics::emf_lines(std::slice::from_ref(&region), account.now(), 0);
    let totals: Value = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v.get("RegionsFailed").is_some())
        .unwrap();
    let counted = totals["TablesUnverifiable"].as_u64().unwrap()
        + totals["NonCompliantTables"].as_u64().unwrap();
    assert_eq!(counted, region.report.tables.len() as u64, "{totals}");
    assert_eq!(
        totals["TablesNotFullyVerified"].as_u64(),
        Some(region.report.tables.len() as u64)
    );
    assert_eq!(totals["SourcesUnread"].as_u64(), Some(1));
    assert_eq!(totals["TablesCompliant"].as_u64(), Some(0));
}
