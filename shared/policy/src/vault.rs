//! Vault protection: whether the vaults that hold a table's recovery points keep them safe.
//!
//! For every vault holding at least one of the table's points (in the verifier's look-back),
//! and for every such point:
//!
//! | check | finding | unknown → |
//! |---|---|---|
//! | a Vault Lock is present, when the policy requires one (`BG_VAULT_LOCK_REQUIRED`) | `VAULT_NOT_LOCKED` | `UNVERIFIABLE` (lock fields unread) |
//! | a present lock's `MinRetentionDays` ≤ retention ≤ `MaxRetentionDays` (each where set) | `VAULT_LOCK_RETENTION_INCOMPATIBLE` | same |
//! | the vault access policy denies `backup:DeleteRecoveryPoint`, `backup:UpdateRecoveryPointLifecycle` and `backup:PutBackupVaultAccessPolicy` to every principal | `VAULT_DELETION_NOT_DENIED` | `UNVERIFIABLE` (policy unread) |
//! | the vault's KMS key is `Enabled` | `VAULT_KEY_NOT_USABLE` | `UNVERIFIABLE` (key state unread) |
//! | every point is encrypted (`IsEncrypted`) | `RECOVERY_POINT_NOT_ENCRYPTED` | `UNVERIFIABLE` (not reported) |
//! | every encrypted point uses the expected key, when one is configured (`BG_EXPECTED_KMS_KEY_ARN`) | `RECOVERY_POINT_WRONG_KEY` | — |
//!
//! The deletion denial is judged as AWS Config's `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED`
//! judges it: the three actions that rule names must be denied (the third,
//! `PutBackupVaultAccessPolicy`, keeps anyone from replacing the policy that denies the other
//! two), and a statement counts only if its `Effect` is `Deny`, its `Principal` is `"*"` or
//! `{"AWS": "*"}`, its `Action` names the action exactly or by a matching IAM wildcard
//! (`backup:*`, `backup:DeleteRecoveryPoint*`; action names are case-insensitive), its
//! `Resource` is `"*"` or matches every recovery point of the vault, and it has no
//! `Condition` (a condition exempts someone). A vault with no access policy denies nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::config::Policy;
use crate::facts::{Fact, RecoveryPointFacts, TableFacts, VaultFacts, VaultLock};
use crate::findings::{Finding, FindingCode};

/// The vaults' facts by vault name (what [`crate::Evaluator::with_vaults`] takes).
pub type VaultIndex = BTreeMap<String, VaultFacts>;

/// The actions a vault access policy must deny to every principal (those of AWS Config's
/// `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED`).
pub const DELETION_ACTIONS: [&str; 3] = [
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
];

/// Whether `pattern` (IAM wildcards `*` and `?`) matches `text`; `ignore_case` for action
/// names (IAM compares them case-insensitively), not for ARNs.
pub fn iam_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A string or a list of strings (IAM's `"a"` / `["a", "b"]`); `None` for anything else.
fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// `"*"`, `{"AWS": "*"}` or `{"AWS": ["*"]}`: every principal.
fn is_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(m) => {
            m.len() == 1
                && m.get("AWS")
                    .and_then(strings)
                    .is_some_and(|v| v.contains(&"*"))
        }
        _ => false,
    }
}

/// The ARN that stands for "every recovery point of the vault" (`arn:<p>:backup:<r>:<a>:recovery-point:*`),
/// from the vault's ARN.
fn every_point_of(vault_arn: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = vault_arn?.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && parts[2] == "backup").then(|| {
        format!(
            "arn:{}:backup:{}:{}:recovery-point:*",
            parts[1], parts[3], parts[4]
        )
    })
}

/// Which of [`DELETION_ACTIONS`] the access policy `document` denies to every principal,
/// unconditionally, on every recovery point of the vault (`vault_arn`; without it only
/// `Resource: "*"` counts). `Err` if the document is not an IAM policy.
pub fn denied_deletion_actions(
    document: &str,
    vault_arn: Option<&str>,
) -> Result<BTreeSet<&'static str>, String> {
    let doc: Value = serde_json::from_str(document)
        .map_err(|e| format!("the vault access policy is not JSON: {e}"))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(s)) => s.iter().collect::<Vec<_>>(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err("the vault access policy has no Statement".to_string()),
    };
    let points = every_point_of(vault_arn);
    let mut denied = BTreeSet::new();
    for st in statements {
        let counts = st.get("Effect").and_then(Value::as_str) == Some("Deny")
            && st.get("Principal").is_some_and(is_everyone)
            && st.get("Condition").is_none()
            && st.get("Resource").and_then(strings).is_some_and(|rs| {
                rs.iter()
                    .any(|r| *r == "*" || points.as_deref().is_some_and(|p| iam_match(r, p, false)))
            });
        if !counts {
            continue;
        }
        let Some(actions) = st.get("Action").and_then(strings) else {
            continue;
        };
        for wanted in DELETION_ACTIONS {
            if actions.iter().any(|a| iam_match(a, wanted, true)) {
                denied.insert(wanted);
            }
        }
    }
    Ok(denied)
}

/// The problems of a present lock's retention bounds with a `retention_days` retention, in
/// words (empty if compatible or not locked).
pub fn lock_retention_problems(lock: &VaultLock, retention_days: i64) -> Vec<String> {
    if !lock.locked {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(min) = lock.min_retention_days
        && min > retention_days
    {
        out.push(format!(
            "MinRetentionDays {min} is above the policy's {retention_days} days"
        ));
    }
    if let Some(max) = lock.max_retention_days
        && max < retention_days
    {
        out.push(format!(
            "MaxRetentionDays {max} is below the policy's {retention_days} days"
        ));
    }
    out
}

/// The vault-protection findings of `table`, whose recovery points are `points` (its own),
/// against the facts of the vaults that hold them.
pub fn vault_findings(
    table: &TableFacts,
    points: &[RecoveryPointFacts],
    vaults: &VaultIndex,
    policy: &Policy,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let held: BTreeSet<&str> = points.iter().map(|p| p.vault_name.as_str()).collect();
    for name in held {
        match vaults.get(name) {
            Some(v) => vault_level(table, v, policy, &mut out),
            None => out.push(unknown(
                table,
                name,
                "vault",
                "the vault was not among the vaults listed (ListBackupVaults)",
                "Grant backup:ListBackupVaults and re-run.",
            )),
        }
    }
    for p in points {
        point_level(table, p, policy, &mut out);
    }
    out
}

fn subject(vault: &str, aspect: &str) -> Option<String> {
    Some(format!("vault:{vault}:{aspect}"))
}

/// `UNVERIFIABLE` about `aspect` (`lock`, `access-policy`, `key`, `vault`) of `vault`.
fn unknown(table: &TableFacts, vault: &str, aspect: &str, reason: &str, remedy: &str) -> Finding {
    let what = match aspect {
        "lock" => "Vault Lock settings",
        "access-policy" => "access policy",
        "key" => "key state",
        _ => "listing",
    };
    Finding::new(
        FindingCode::Unverifiable,
        &table.arn,
        &table.name,
        subject(vault, aspect),
        format!(
            "The {what} of vault {vault}, which holds recovery points of table {}, could not be read ({reason}): whether those points are protected cannot be verified.",
            table.name
        ),
        Some(remedy.to_string()),
    )
}

fn vault_level(table: &TableFacts, v: &VaultFacts, policy: &Policy, out: &mut Vec<Finding>) {
    let days = policy.retention_days;
    match &v.lock {
        Fact::Unknown { reason } => out.push(unknown(
            table,
            &v.name,
            "lock",
            reason,
            "Grant backup:ListBackupVaults and re-run.",
        )),
        Fact::Known(lock) => {
            if policy.vault_lock_required && !lock.locked {
                out.push(Finding::new(
                    FindingCode::VaultNotLocked,
                    &table.arn,
                    &table.name,
                    subject(&v.name, "lock"),
                    format!(
                        "Vault {} holds recovery points of table {} but has no Vault Lock, which the policy requires (BG_VAULT_LOCK_REQUIRED): anyone with enough permissions can delete them early.",
                        v.name, table.name
                    ),
                    Some(format!(
                        "Add a Vault Lock to vault {} (PutBackupVaultLockConfiguration with MinRetentionDays ≤ {days} ≤ MaxRetentionDays; the template's EnableVaultLock), or set BG_VAULT_LOCK_REQUIRED=false if the policy does not require one.",
                        v.name
                    )),
                ));
            }
            let problems = lock_retention_problems(lock, days);
            if !problems.is_empty() {
                out.push(Finding::new(
                    FindingCode::VaultLockRetentionIncompatible,
                    &table.arn,
                    &table.name,
                    subject(&v.name, "lock-retention"),
                    format!(
                        "The Vault Lock of vault {}, which holds recovery points of table {}, does not allow the policy's {days}-day retention: {}.",
                        v.name,
                        table.name,
                        problems.join("; ")
                    ),
                    Some(format!(
                        "While the lock is still changeable (before its LockDate), set MinRetentionDays ≤ {days} ≤ MaxRetentionDays (PutBackupVaultLockConfiguration); once it is immutable, back the table up to another, correctly locked vault."
                    )),
                ));
            }
        }
    }
    match &v.access_policy {
        Fact::Unknown { reason } => out.push(unknown(
            table,
            &v.name,
            "access-policy",
            reason,
            "Grant backup:GetBackupVaultAccessPolicy on the vault and re-run.",
        )),
        Fact::Known(doc) => {
            let missing: Result<Vec<&str>, String> = match doc {
                None => Ok(DELETION_ACTIONS.to_vec()),
                Some(d) => denied_deletion_actions(d, v.arn.as_deref()).map(|denied| {
                    DELETION_ACTIONS
                        .iter()
                        .copied()
                        .filter(|a| !denied.contains(a))
                        .collect()
                }),
            };
            match missing {
                Err(reason) => out.push(unknown(
                    table,
                    &v.name,
                    "access-policy",
                    &reason,
                    "Check the vault's access policy document (GetBackupVaultAccessPolicy) and re-run.",
                )),
                Ok(missing) if !missing.is_empty() => {
                    let why = if doc.is_none() {
                        "has no access policy".to_string()
                    } else {
                        format!(
                            "has an access policy that does not deny {} to every principal without a condition",
                            missing.join(" and ")
                        )
                    };
                    out.push(Finding::new(
                        FindingCode::VaultDeletionNotDenied,
                        &table.arn,
                        &table.name,
                        subject(&v.name, "access-policy"),
                        format!(
                            "Vault {} holds recovery points of table {} and {why}: they can be deleted or their retention shortened by hand.",
                            v.name, table.name
                        ),
                        Some(format!(
                            "Put an access policy on vault {} with a statement {{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": [\"backup:DeleteRecoveryPoint\", \"backup:UpdateRecoveryPointLifecycle\", \"backup:PutBackupVaultAccessPolicy\"], \"Resource\": \"*\"}} and no Condition (PutBackupVaultAccessPolicy).",
                            v.name
                        )),
                    ));
                }
                Ok(_) => {}
            }
        }
    }
    match (&v.key_state, v.encryption_key_arn.as_deref()) {
        (Fact::Unknown { reason }, _) => out.push(unknown(
            table,
            &v.name,
            "key",
            reason,
            "Grant kms:DescribeKey on the vault's key and re-run.",
        )),
        (Fact::Known(state), key) if !state.is_usable() => {
            let key = key.unwrap_or("(unnamed)");
            out.push(Finding::new(
                FindingCode::VaultKeyNotUsable,
                &table.arn,
                &table.name,
                subject(&v.name, "key"),
                format!(
                    "The KMS key {key} of vault {}, which holds recovery points of table {}, is {state}: the points it protects cannot be restored{}.",
                    v.name,
                    table.name,
                    if matches!(state, crate::facts::KeyState::PendingDeletion) {
                        " once the key is deleted"
                    } else {
                        ""
                    }
                ),
                Some(match state {
                    crate::facts::KeyState::PendingDeletion => format!(
                        "Cancel the key's deletion now (kms:CancelKeyDeletion {key}, then kms:EnableKey) and find out who scheduled it."
                    ),
                    crate::facts::KeyState::Disabled => {
                        format!("Enable the key (kms:EnableKey {key}) and find out who disabled it.")
                    }
                    crate::facts::KeyState::NotFound => "The key no longer exists: the vault's points cannot be decrypted. Back the table up to a vault with a usable key at once.".to_string(),
                    _ => format!("Make the key {key} usable (state Enabled) again."),
                }),
            ));
        }
        (Fact::Known(_), _) => {}
    }
}

fn point_level(
    table: &TableFacts,
    p: &RecoveryPointFacts,
    policy: &Policy,
    out: &mut Vec<Finding>,
) {
    match p.is_encrypted {
        None => out.push(Finding::new(
            FindingCode::Unverifiable,
            &table.arn,
            &table.name,
            Some(p.arn.clone()),
            format!(
                "Recovery point {} of table {} (vault {}): AWS Backup did not report whether it is encrypted (IsEncrypted).",
                p.arn, table.name, p.vault_name
            ),
            Some("Check the point with DescribeRecoveryPoint and re-run.".to_string()),
        )),
        Some(false) => out.push(Finding::new(
            FindingCode::RecoveryPointNotEncrypted,
            &table.arn,
            &table.name,
            Some(p.arn.clone()),
            format!(
                "Recovery point {} of table {} (vault {}, created {}) is not encrypted.",
                p.arn, table.name, p.vault_name, p.created
            ),
            Some(
                "Back the table up to a vault with a KMS key (or copy the point into one), then let the unencrypted point expire."
                    .to_string(),
            ),
        )),
        Some(true) => {
            if let Some(expected) = &policy.expected_kms_key_arn
                && p.encryption_key_arn.as_deref() != Some(expected.as_str())
            {
                let actual = p
                    .encryption_key_arn
                    .as_deref()
                    .unwrap_or("a key AWS Backup did not name (an AWS owned key)");
                out.push(Finding::new(
                    FindingCode::RecoveryPointWrongKey,
                    &table.arn,
                    &table.name,
                    Some(p.arn.clone()),
                    format!(
                        "Recovery point {} of table {} (vault {}) is encrypted with {actual}, not with the expected key {expected} (BG_EXPECTED_KMS_KEY_ARN).",
                        p.arn, table.name, p.vault_name
                    ),
                    Some(format!(
                        "Back the table up to a vault encrypted with {expected} (for DynamoDB, with AWS Backup's advanced features on, points take the vault's key)."
                    )),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{KeyState, PointStatus};
    use jiff::Timestamp;
    use std::collections::BTreeMap;

    const VAULT_ARN: &str = "arn:aws:backup:eu-west-1:123456789012:backup-vault:v";
    const KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1111";

    fn deny(actions: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":{actions},"Resource":"*"}}]}}"#
        )
    }

    fn table() -> TableFacts {
        TableFacts {
            arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t".into(),
            name: "t".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            created: None,
            tags: Fact::Known(BTreeMap::new()),
        }
    }

    fn point(id: &str, encrypted: Option<bool>, key: Option<&str>) -> RecoveryPointFacts {
        RecoveryPointFacts {
            arn: format!("arn:aws:backup:eu-west-1:123456789012:recovery-point:{id}"),
            resource_arn: table().arn,
            vault_name: "v".into(),
            status: PointStatus::Available,
            created: Timestamp::UNIX_EPOCH,
            completed: None,
            delete_after_days: Some(90),
            move_to_cold_storage_after_days: None,
            delete_at: None,
            created_by: None,
            is_encrypted: encrypted,
            encryption_key_arn: key.map(str::to_string),
        }
    }

    fn good_vault() -> VaultFacts {
        VaultFacts {
            name: "v".into(),
            arn: Some(VAULT_ARN.into()),
            lock: Fact::Known(VaultLock {
                locked: true,
                min_retention_days: Some(90),
                max_retention_days: Some(90),
                lock_date: None,
            }),
            encryption_key_arn: Some(KEY.into()),
            access_policy: Fact::Known(Some(deny(
                r#"["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle","backup:PutBackupVaultAccessPolicy"]"#,
            ))),
            key_state: Fact::Known(KeyState::Enabled),
        }
    }

    fn codes(
        vault: VaultFacts,
        points: &[RecoveryPointFacts],
        policy: &Policy,
    ) -> Vec<FindingCode> {
        let index: VaultIndex = [(vault.name.clone(), vault)].into_iter().collect();
        let mut c: Vec<FindingCode> = vault_findings(&table(), points, &index, policy)
            .into_iter()
            .map(|f| f.code)
            .collect();
        c.sort();
        c
    }

    fn locked_policy() -> Policy {
        let mut p = Policy::default();
        p.vault_lock_required = true;
        p
    }

    #[test]
    fn a_protected_vault_and_encrypted_points_give_nothing() {
        let p = [point("a", Some(true), Some(KEY))];
        assert!(codes(good_vault(), &p, &locked_policy()).is_empty());
        let mut expected = locked_policy();
        expected.expected_kms_key_arn = Some(KEY.into());
        assert!(codes(good_vault(), &p, &expected).is_empty());
    }

    #[test]
    fn a_table_without_points_gets_no_vault_finding() {
        let mut v = good_vault();
        v.access_policy = Fact::Known(None);
        assert!(codes(v, &[], &locked_policy()).is_empty());
    }

    #[test]
    fn an_unlocked_vault_is_a_finding_only_when_a_lock_is_required() {
        let mut v = good_vault();
        v.lock = Fact::Known(VaultLock::default());
        let p = [point("a", Some(true), Some(KEY))];
        assert_eq!(
            codes(v.clone(), &p, &locked_policy()),
            [FindingCode::VaultNotLocked]
        );
        assert!(codes(v, &p, &Policy::default()).is_empty());
    }

    #[test]
    fn lock_bounds_must_admit_exactly_the_retention() {
        let lock = |min, max| VaultLock {
            locked: true,
            min_retention_days: min,
            max_retention_days: max,
            lock_date: None,
        };
        assert!(lock_retention_problems(&lock(Some(90), Some(90)), 90).is_empty());
        assert!(lock_retention_problems(&lock(None, None), 90).is_empty());
        assert!(lock_retention_problems(&lock(Some(1), Some(36500)), 90).is_empty());
        assert_eq!(lock_retention_problems(&lock(None, Some(30)), 90).len(), 1);
        assert_eq!(lock_retention_problems(&lock(Some(91), None), 90).len(), 1);
        assert_eq!(
            lock_retention_problems(&lock(Some(100), Some(30)), 90).len(),
            2
        );
        // Not locked: bounds are not in force.
        let mut off = lock(Some(100), Some(30));
        off.locked = false;
        assert!(lock_retention_problems(&off, 90).is_empty());
        let mut v = good_vault();
        v.lock = Fact::Known(lock(Some(7), Some(30)));
        let p = [point("a", Some(true), Some(KEY))];
        assert_eq!(
            codes(v, &p, &Policy::default()),
            [FindingCode::VaultLockRetentionIncompatible]
        );
    }

    #[test]
    fn deletion_denial_follows_the_config_rule() {
        let both =
            |doc: &str, arn: Option<&str>| denied_deletion_actions(doc, arn).unwrap().len() == 3;
        let exact = deny(
            r#"["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle","backup:PutBackupVaultAccessPolicy"]"#,
        );
        assert!(both(&exact, Some(VAULT_ARN)));
        assert!(both(&deny(r#""backup:*""#), None));
        assert!(both(&deny(r#""*""#), None));
        assert!(both(
            &deny(r#"["backup:deleterecoverypoint*","backup:UpdateRecoveryPoint*","backup:Put*"]"#),
            None
        ));
        assert!(both(
            &deny(
                r#"["backup:?eleteRecoveryPoint","backup:UpdateRecoveryPointLifecycl?","backup:PutBackupVaultAccess*"]"#,
            ),
            None
        ));
        // The two point actions without the policy's own protection are not enough (Config's
        // rule names all three).
        assert!(!both(
            &deny(r#"["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle"]"#),
            None
        ));
        // One action only.
        assert_eq!(
            denied_deletion_actions(&deny(r#""backup:DeleteRecoveryPoint""#), None).unwrap(),
            BTreeSet::from(["backup:DeleteRecoveryPoint"])
        );
        // A wildcard that does not cover the action.
        assert!(
            denied_deletion_actions(&deny(r#""backup:Delete*Vault""#), None)
                .unwrap()
                .is_empty()
        );
        // Principal {"AWS": "*"} counts; a named principal does not.
        let aws_star = exact.replace(r#""Principal":"*""#, r#""Principal":{"AWS":["*"]}"#);
        assert!(both(&aws_star, None));
        let named = exact.replace(
            r#""Principal":"*""#,
            r#""Principal":{"AWS":"arn:aws:iam::123456789012:root"}"#,
        );
        assert!(!both(&named, None));
        // Allow never denies; a Condition exempts someone.
        assert!(!both(&exact.replace("Deny", "Allow"), None));
        let conditional = exact.replace(
            r#""Resource":"*""#,
            r#""Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::1:role/x"}}"#,
        );
        assert!(!both(&conditional, None));
        // Resource: every recovery point of the vault, not some.
        let every = exact.replace(
            r#""Resource":"*""#,
            r#""Resource":"arn:aws:backup:eu-west-1:123456789012:recovery-point:*""#,
        );
        assert!(both(&every, Some(VAULT_ARN)));
        assert!(!both(&every, None));
        let some = exact.replace(
            r#""Resource":"*""#,
            r#""Resource":"arn:aws:backup:eu-west-1:123456789012:recovery-point:abc*""#,
        );
        assert!(!both(&some, Some(VAULT_ARN)));
        // A single statement object is a statement too.
        let single =
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"backup:*","Resource":"*"}}"#;
        assert!(both(single, None));
        assert!(denied_deletion_actions("not json", None).is_err());
    }

    #[test]
    fn no_policy_or_a_weak_one_is_deletion_not_denied_and_unparsable_is_unverifiable() {
        let p = [point("a", Some(true), Some(KEY))];
        let mut v = good_vault();
        v.access_policy = Fact::Known(None);
        assert_eq!(
            codes(v.clone(), &p, &Policy::default()),
            [FindingCode::VaultDeletionNotDenied]
        );
        v.access_policy = Fact::Known(Some(deny(r#""backup:DeleteRecoveryPoint""#)));
        assert_eq!(
            codes(v.clone(), &p, &Policy::default()),
            [FindingCode::VaultDeletionNotDenied]
        );
        v.access_policy = Fact::Known(Some("{".into()));
        assert_eq!(
            codes(v, &p, &Policy::default()),
            [FindingCode::Unverifiable]
        );
    }

    #[test]
    fn only_an_enabled_key_is_usable() {
        let p = [point("a", Some(true), Some(KEY))];
        for (state, finding) in [
            (KeyState::Enabled, false),
            (KeyState::Disabled, true),
            (KeyState::PendingDeletion, true),
            (KeyState::NotFound, true),
            (KeyState::Other("New".into()), true),
        ] {
            let mut v = good_vault();
            v.key_state = Fact::Known(state.clone());
            let c = codes(v, &p, &Policy::default());
            assert_eq!(
                c == [FindingCode::VaultKeyNotUsable],
                finding,
                "{state}: {c:?}"
            );
            assert_eq!(c.is_empty(), !finding, "{state}: {c:?}");
        }
        assert_eq!(
            KeyState::from_api("PendingDeletion"),
            KeyState::PendingDeletion
        );
        assert_eq!(
            KeyState::from_api("PendingDeletion").as_api(),
            "PendingDeletion"
        );
    }

    #[test]
    fn unread_facts_are_unverifiable_never_silent() {
        let p = [point("a", Some(true), Some(KEY))];
        for which in 0..3 {
            let mut v = good_vault();
            match which {
                0 => v.lock = Fact::unknown("ListBackupVaults failed"),
                1 => v.access_policy = Fact::unknown("AccessDeniedException"),
                _ => v.key_state = Fact::unknown("kms AccessDeniedException"),
            }
            assert_eq!(
                codes(v, &p, &locked_policy()),
                [FindingCode::Unverifiable],
                "{which}"
            );
        }
        // A vault missing from the index is unverifiable too.
        let index = VaultIndex::new();
        let f = vault_findings(&table(), &p, &index, &Policy::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, FindingCode::Unverifiable);
    }

    #[test]
    fn points_must_be_encrypted_and_with_the_expected_key() {
        let mut expected = Policy::default();
        expected.expected_kms_key_arn = Some(KEY.into());
        let other = "arn:aws:kms:eu-west-1:123456789012:key/2222";
        let points = [
            point("plain", Some(false), None),
            point("other", Some(true), Some(other)),
            point("unnamed", Some(true), None),
            point("silent", None, None),
            point("good", Some(true), Some(KEY)),
        ];
        let index: VaultIndex = [("v".to_string(), good_vault())].into_iter().collect();
        let f = vault_findings(&table(), &points, &index, &expected);
        let by: BTreeMap<String, FindingCode> = f
            .iter()
            .map(|f| (f.subject.clone().unwrap_or_default(), f.code))
            .collect();
        let id = |s: &str| format!("arn:aws:backup:eu-west-1:123456789012:recovery-point:{s}");
        assert_eq!(by.len(), 4, "{by:?}");
        assert_eq!(by[&id("plain")], FindingCode::RecoveryPointNotEncrypted);
        assert_eq!(by[&id("other")], FindingCode::RecoveryPointWrongKey);
        assert_eq!(by[&id("unnamed")], FindingCode::RecoveryPointWrongKey);
        assert_eq!(by[&id("silent")], FindingCode::Unverifiable);
        // Without an expected key, any key will do.
        let any = vault_findings(&table(), &points, &index, &Policy::default());
        assert_eq!(any.len(), 2, "{any:?}");
    }

    #[test]
    fn the_new_codes_break_compliance_with_the_conventional_severities() {
        use crate::findings::Severity;
        for (code, sev) in [
            (FindingCode::VaultNotLocked, Severity::High),
            (FindingCode::VaultLockRetentionIncompatible, Severity::High),
            (FindingCode::VaultDeletionNotDenied, Severity::High),
            (FindingCode::RecoveryPointNotEncrypted, Severity::High),
            (FindingCode::RecoveryPointWrongKey, Severity::Warning),
            (FindingCode::VaultKeyNotUsable, Severity::Critical),
        ] {
            assert_eq!(code.severity(), sev, "{code}");
            assert!(code.breaks_compliance(), "{code}");
        }
    }

    #[test]
    fn iam_wildcards() {
        assert!(iam_match("backup:*", "backup:DeleteRecoveryPoint", true));
        assert!(iam_match(
            "BACKUP:delete*",
            "backup:DeleteRecoveryPoint",
            true
        ));
        assert!(!iam_match(
            "BACKUP:delete*",
            "backup:DeleteRecoveryPoint",
            false
        ));
        assert!(!iam_match(
            "backup:Delete",
            "backup:DeleteRecoveryPoint",
            true
        ));
        assert!(iam_match("*", "", true));
    }
}
