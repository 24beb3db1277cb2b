//! Property tests of the vault checks: the deletion denial over generated access policies,
//! and the lock bounds against the retention.

use policy::facts::VaultLock;
use policy::vault::{
    DELETION_ACTIONS, denied_deletion_actions, iam_match, lock_retention_problems,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACTIONS: [&str; 10] = [
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
    "backup:*",
    "*",
    "backup:Delete*",
    "backup:Update*",
    "backup:Put*Policy",
    "backup:ListBackupVaults",
    "s3:DeleteObject",
];
const PRINCIPALS: [&str; 4] = [
    "*",
    "{\"AWS\":\"*\"}",
    "{\"AWS\":[\"*\"]}",
    "{\"AWS\":\"arn:aws:iam::123456789012:root\"}",
];
const VAULT: &str = "arn:aws:backup:eu-west-1:123456789012:backup-vault:v";

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        0..PRINCIPALS.len(),
        proptest::collection::vec(0..ACTIONS.len(), 1..4),
        any::<bool>(),
        prop_oneof![
            Just("*"),
            Just("arn:aws:backup:eu-west-1:123456789012:recovery-point:*"),
            Just("arn:aws:backup:eu-west-1:123456789012:recovery-point:x")
        ],
    )
        .prop_map(|(deny, p, actions, condition, resource)| {
            let principal: Value = serde_json::from_str(PRINCIPALS[p]).unwrap_or(json!("*"));
            let mut st = json!({
                "Effect": if deny { "Deny" } else { "Allow" },
                "Principal": principal,
                "Action": actions.iter().map(|i| ACTIONS[*i]).collect::<Vec<_>>(),
                "Resource": resource,
            });
            if condition {
                st["Condition"] =
                    json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}});
            }
            st
        })
}

fn doc(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// What one statement denies, judged directly from the rule's definition.
fn oracle(st: &Value) -> Vec<&'static str> {
    let everyone = match &st["Principal"] {
        Value::String(s) => s == "*",
        Value::Object(m) => match m.get("AWS") {
            Some(Value::String(s)) => s == "*",
            Some(Value::Array(a)) => a.iter().any(|x| x == "*"),
            _ => false,
        },
        _ => false,
    };
    let resource_ok = matches!(
        st["Resource"].as_str(),
        Some("*") | Some("arn:aws:backup:eu-west-1:123456789012:recovery-point:*")
    );
    if st["Effect"] != "Deny" || !everyone || st.get("Condition").is_some() || !resource_ok {
        return Vec::new();
    }
    let actions: Vec<&str> = st["Action"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    DELETION_ACTIONS
        .into_iter()
        .filter(|w| actions.iter().any(|a| iam_match(a, w, true)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The denied actions are the union over the statements that count, whatever their order.
    #[test]
    fn denial_is_the_union_of_the_counting_statements(sts in proptest::collection::vec(statement(), 0..5)) {
        let got = denied_deletion_actions(&doc(&sts), Some(VAULT)).unwrap();
        let want: std::collections::BTreeSet<&str> = sts.iter().flat_map(oracle).collect();
        prop_assert_eq!(&got, &want);
        let mut reversed = sts.clone();
        reversed.reverse();
        prop_assert_eq!(denied_deletion_actions(&doc(&reversed), Some(VAULT)).unwrap(), got);
    }

    /// Adding a condition to a statement, or turning it into an Allow, never denies more.
    #[test]
    fn conditions_and_allows_never_add_denial(sts in proptest::collection::vec(statement(), 1..5), i in 0usize..5) {
        let i = i % sts.len();
        let before = denied_deletion_actions(&doc(&sts), Some(VAULT)).unwrap();
        let mut weaker = sts.clone();
        weaker[i]["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
        prop_assert!(denied_deletion_actions(&doc(&weaker), Some(VAULT)).unwrap().is_subset(&before));
        let mut allowed = sts.clone();
        allowed[i]["Effect"] = json!("Allow");
        prop_assert!(denied_deletion_actions(&doc(&allowed), Some(VAULT)).unwrap().is_subset(&before));
    }

    /// A present lock is compatible exactly when min ≤ retention ≤ max (each where set).
    #[test]
    fn lock_bounds_are_compatible_iff_they_admit_the_retention(
        min in proptest::option::of(1i64..200),
        max in proptest::option::of(1i64..200),
        retention in 1i64..200,
        locked in any::<bool>(),
    ) {
        let lock = VaultLock { locked, min_retention_days: min, max_retention_days: max, lock_date: None };
        let ok = !locked || (min.is_none_or(|m| m <= retention) && max.is_none_or(|m| retention <= m));
        prop_assert_eq!(lock_retention_problems(&lock, retention).is_empty(), ok);
    }
}
