//! Vault protection against the local account: the `healthy` scenario plus a second,
//! protected vault `side-vault` that holds one on-demand point of `orders` (90-day lifecycle,
//! so no other finding). Each case breaks one thing of `side-vault` (or of one point) and must
//! give exactly its finding, on `orders` only, and nothing else; an unreadable access policy or
//! key gives `UNVERIFIABLE`, never `compliant`. The verifier's calls equal the minimal formula
//! with the vault reads (one access policy per vault holding points, one `DescribeKey` per key).

use std::collections::BTreeSet;
use std::time::Duration;

use local_account::matrix::{self, FaultKind};
use local_account::{ExpectedFinding, LocalAccount, Scenario};
use policy::{FindingCode, Policy, Verdict};
use recovery_verifier::calls::minimal_calls_by_operation;
use recovery_verifier::{RegionReport, VerifyOptions, minimal_calls, verify_region};
use serde_json::{Value, json};

use crate::common::*;

/// The on-demand point's creation: 10 days before the scenario's now.
fn side_point_created(s: &Scenario) -> jiff::Timestamp {
    s.now
        .checked_sub(jiff::SignedDuration::from_hours(10 * 24))
        .unwrap()
}

/// `healthy` + `side-vault` (locked 90/90, deletion denied, enabled key, as given by `vault`'s
/// overrides) holding one on-demand point of `orders`.
fn scenario(vault: Value, point: Value) -> Scenario {
    let mut s = Scenario::shipped("healthy").unwrap();
    s.name = "vault-protection".into();
    let mut v = json!({
        "name": "side-vault",
        "lock": {"min_retention_days": 90, "max_retention_days": 90, "changeable_for_days": 3},
        "access_policy": "deny-recovery-point-deletion"
    });
    for (k, x) in vault.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    s.vaults.push(serde_json::from_value(v).unwrap());
    let mut p = json!({
        "table": "orders",
        "vault": "side-vault",
        "created": side_point_created(&s).to_string(),
        "delete_after_days": 90,
        "note": "on-demand backup with the policy's lifecycle"
    });
    for (k, x) in point.as_object().unwrap() {
        p[k] = x.clone();
    }
    s.recovery_points.push(serde_json::from_value(p).unwrap());
    s
}

fn lock_required() -> Policy {
    let mut p = Policy::default();
    p.vault_lock_required = true;
    p
}

async fn verify(account: &LocalAccount, policy: &Policy) -> RegionReport {
    let report = verify_region(
        &account.context().await,
        policy,
        account.now(),
        &VerifyOptions::default(),
    )
    .await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    report
}

/// Runs `scenario` and asserts that its only finding is `code` on `orders` with `subject`
/// (and that `orders` is non-compliant while every other table stays compliant).
async fn exactly(scenario: Scenario, policy: &Policy, code: FindingCode, subject: &str) {
    let account = start(&scenario).await;
    let report = verify(&account, policy).await;
    let want: BTreeSet<ExpectedFinding> = [ExpectedFinding {
        table: "orders".into(),
        code,
        subject: Some(subject.to_string()),
    }]
    .into_iter()
    .collect();
    assert_eq!(findings(&report), want);
    for t in &report.report.tables {
        let expected = if t.table.name == "orders" {
            Verdict::NonCompliant
        } else {
            Verdict::Compliant
        };
        assert_eq!(t.verdict, expected, "{}", t.table.name);
    }
    let f = &table_named(&report, "orders").unwrap().findings[0];
    assert!(f.remedy.as_deref().is_some_and(|r| !r.is_empty()));
    assert!(f.message.contains("side-vault"), "{}", f.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_vaults_are_clean_and_cost_exactly_the_formulas_extra_calls() {
    let account = start(&scenario(json!({}), json!({}))).await;
    let ctx = account.context().await;
    let report = verify_region(
        &ctx,
        &lock_required(),
        account.now(),
        &VerifyOptions::default(),
    )
    .await;
    assert!(findings(&report).is_empty(), "{:#?}", findings(&report));
    assert!(
        report
            .report
            .tables
            .iter()
            .all(|t| t.verdict == Verdict::Compliant)
    );
    // Two vaults hold DynamoDB points, each with its own key: 2 access policies, 2 keys.
    let need =
        tables_needing_creation_time(account.scenario(), &Default::default(), &Policy::default());
    let mut shape = shape_of(account.scenario(), need.len() as u64);
    // This test's policy configures no restore testing: no ListRestoreJobs listing.
    shape.restore_jobs = None;
    assert_eq!(report.shape.as_ref(), Some(&shape));
    let by_op = minimal_calls_by_operation(&shape);
    assert_eq!(by_op["Backup.GetBackupVaultAccessPolicy"], 2);
    assert_eq!(by_op["KMS.DescribeKey"], 2);
    let counted = calls(&ctx);
    assert_eq!(
        counted.values().sum::<u64>(),
        minimal_calls(&shape),
        "{counted:?}"
    );
    for (op, n) in &by_op {
        assert_eq!(counted.get(*op), Some(n), "{op}: {counted:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlocked_vault_is_vault_not_locked_when_a_lock_is_required() {
    let s = scenario(json!({"lock": null}), json!({}));
    exactly(
        s.clone(),
        &lock_required(),
        FindingCode::VaultNotLocked,
        "vault:side-vault:lock",
    )
    .await;
    // Not required: nothing to say.
    let account = start(&s).await;
    assert!(findings(&verify(&account, &Policy::default()).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_with_max_retention_30_is_incompatible() {
    let s = scenario(
        json!({"lock": {"min_retention_days": 7, "max_retention_days": 30}}),
        json!({}),
    );
    exactly(
        s,
        &lock_required(),
        FindingCode::VaultLockRetentionIncompatible,
        "vault:side-vault:lock-retention",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_policy_without_the_deny_is_deletion_not_denied() {
    // Denies only one of the two actions, and a full deny with a condition does not count.
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "backup:*", "Resource": "*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/break-glass"}}}
        ]
    });
    let s = scenario(json!({"access_policy": policy}), json!({}));
    exactly(
        s,
        &lock_required(),
        FindingCode::VaultDeletionNotDenied,
        "vault:side-vault:access-policy",
    )
    .await;
}

/// No access policy at all: `GetBackupVaultAccessPolicy` answers `ResourceNotFoundException`,
/// which is the fact "nothing is denied", not an unreadable source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_without_an_access_policy_is_deletion_not_denied_not_unverifiable() {
    let s = scenario(json!({"access_policy": null}), json!({}));
    exactly(
        s.clone(),
        &lock_required(),
        FindingCode::VaultDeletionNotDenied,
        "vault:side-vault:access-policy",
    )
    .await;
    let account = start(&s).await;
    let report = verify(&account, &lock_required()).await;
    assert!(
        report.unread_sources().next().is_none(),
        "{:?}",
        report.sources
    );
    let orders = table_named(&report, "orders").unwrap();
    assert!(
        orders.findings[0].message.contains("has no access policy"),
        "{}",
        orders.findings[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unencrypted_point_is_recovery_point_not_encrypted() {
    let s = scenario(json!({}), json!({"encrypted": false}));
    let arn = s
        .clone()
        .expand()
        .unwrap()
        .recovery_points
        .iter()
        .find(|p| p.vault.as_deref() == Some("side-vault"))
        .and_then(|p| p.arn.clone())
        .unwrap();
    exactly(
        s,
        &lock_required(),
        FindingCode::RecoveryPointNotEncrypted,
        &arn,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pending_deletion_is_vault_key_not_usable() {
    let s = scenario(json!({"key": {"state": "PendingDeletion"}}), json!({}));
    exactly(
        s,
        &lock_required(),
        FindingCode::VaultKeyNotUsable,
        "vault:side-vault:key",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_access_policy_or_key_is_unverifiable_never_compliant() {
    let account = LocalAccount::start_with_proxy(&scenario(json!({}), json!({})))
        .await
        .unwrap();
    for (op, subject) in [
        ("Backup.GetBackupVaultAccessPolicy", "access-policy"),
        ("KMS.DescribeKey", "key"),
    ] {
        matrix::clear(&account);
        matrix::inject(&account, op, FaultKind::AccessDenied, Duration::ZERO).unwrap();
        let report = verify(&account, &lock_required()).await;
        assert!(matrix::injected(&account, op) > 0, "{op}: the fault fired");
        matrix::clear(&account);
        for t in &report.report.tables {
            assert_eq!(t.verdict, Verdict::Unverifiable, "{op}: {}", t.table.name);
            assert!(
                t.findings
                    .iter()
                    .all(|f| f.code == FindingCode::Unverifiable),
                "{op}: {:?}",
                t.findings
            );
            let vault_subject = |v: &str| format!("vault:{v}:{subject}");
            assert!(
                t.findings
                    .iter()
                    .any(|f| f.subject.as_deref()
                        == Some(vault_subject("backup-guard-vault").as_str())),
                "{op}: {} {:?}",
                t.table.name,
                t.findings
            );
        }
        // `orders` has points in both vaults: both are named.
        let orders = table_named(&report, "orders").unwrap();
        assert!(
            orders
                .findings
                .iter()
                .any(|f| f.subject.as_deref()
                    == Some(format!("vault:side-vault:{subject}").as_str())),
            "{op}: {:?}",
            orders.findings
        );
        assert!(
            report.unread_sources().next().is_some(),
            "{op}: the unread source is reported"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_names_a_vault_finding_on_its_table() {
    let account = start(&scenario(json!({"key": {"state": "Disabled"}}), json!({}))).await;
    let deps = deps(&account).await;
    let outcome = recovery_verifier::run(at_now(&account), &deps, no_deadline())
        .await
        .unwrap();
    let text = &outcome.digest.text;
    assert!(text.contains("VAULT_KEY_NOT_USABLE"), "{text}");
    assert!(text.contains("orders"), "{text}");
    assert!(
        text.contains("[critical] VAULT_KEY_NOT_USABLE orders"),
        "{text}"
    );
    assert!(text.contains("is Disabled"), "{text}");
    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.contains("VAULT_KEY_NOT_USABLE"));
}
