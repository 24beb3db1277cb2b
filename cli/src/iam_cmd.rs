//! `iam-actions` (hidden): the IAM actions each template function needs, derived from the
//! operations its code calls (`AWS_OPERATIONS` of the function crates), as JSON keyed by the
//! function's logical id in `template.yaml`. `make lint` writes it to `target/iam-actions.json`
//! and `tests/template` compares the template's grants with it, so a grant the code no longer
//! needs (or a call the template does not allow) fails the lint.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::CliError;

/// Each template function (logical id) and the `Service.Operation` names its code calls.
pub(crate) const FUNCTIONS: &[(&str, &[&str])] = &[
    ("TableGuardFunction", table_guard::AWS_OPERATIONS),
    (
        "RecoveryVerifierFunction",
        recovery_verifier::AWS_OPERATIONS,
    ),
];

/// SDK service names (as the call counter prints them) and their IAM action prefixes.
const SERVICE_PREFIXES: &[(&str, &str)] = &[
    ("Backup", "backup"),
    ("DynamoDB", "dynamodb"),
    ("KMS", "kms"),
    ("Organizations", "organizations"),
    // The call counter names the service as the SDK does, with spaces.
    ("Resource Groups Tagging API", "tag"),
    ("S3", "s3"),
    ("SNS", "sns"),
    ("STS", "sts"),
];

/// Operations IAM does not permission: every principal may call them.
const NOT_PERMISSIONED: &[&str] = &["STS.GetCallerIdentity"];

/// An operation name that cannot be turned into an IAM action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IamMappingError {
    /// Not of the form `Service.Operation`.
    #[error("operation {0:?} is not of the form Service.Operation (e.g. DynamoDB.PutItem)")]
    Malformed(String),
    /// The service has no known IAM prefix.
    #[error(
        "operation {operation:?}: service {service:?} has no known IAM action prefix (known: {known}); add it to SERVICE_PREFIXES in cli/src/iam_cmd.rs"
    )]
    UnknownService {
        /// The whole operation name.
        operation: String,
        /// Its service part.
        service: String,
        /// The services that are mapped, comma-separated.
        known: String,
    },
}

/// The IAM action an SDK operation needs (`DynamoDB.PutItem` → `dynamodb:PutItem`), or `None`
/// for an operation IAM does not permission (`STS.GetCallerIdentity`).
pub(crate) fn iam_action(operation: &str) -> Result<Option<String>, IamMappingError> {
    let malformed = || IamMappingError::Malformed(operation.to_string());
    let (service, name) = operation.split_once('.').ok_or_else(malformed)?;
    let well_formed = |s: &str, spaces: bool| {
        s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || (spaces && c == ' '))
    };
    // Service names may have spaces (the SDK's "Resource Groups Tagging API"); operations not.
    if !well_formed(service, true) || !well_formed(name, false) {
        return Err(malformed());
    }
    let prefix = SERVICE_PREFIXES
        .iter()
        .find(|(s, _)| *s == service)
        .map(|(_, p)| *p)
        .ok_or_else(|| IamMappingError::UnknownService {
            operation: operation.to_string(),
            service: service.to_string(),
            known: SERVICE_PREFIXES
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    if NOT_PERMISSIONED.contains(&operation) {
        return Ok(None);
    }
    Ok(Some(format!("{prefix}:{name}")))
}

/// The sorted, de-duplicated IAM actions a list of operations needs.
pub(crate) fn iam_actions(operations: &[&str]) -> Result<BTreeSet<String>, IamMappingError> {
    let mut actions = BTreeSet::new();
    for op in operations {
        if let Some(action) = iam_action(op)? {
            actions.insert(action);
        }
    }
    Ok(actions)
}

/// Every template function's IAM actions, keyed by logical id.
pub(crate) fn function_actions() -> Result<BTreeMap<&'static str, BTreeSet<String>>, IamMappingError>
{
    FUNCTIONS
        .iter()
        .map(|(id, ops)| Ok((*id, iam_actions(ops)?)))
        .collect()
}

/// Prints [`function_actions`] as a JSON object of sorted action arrays.
pub(crate) fn run() -> Result<(), CliError> {
    let actions = function_actions().map_err(|e| CliError::runtime(e.to_string()))?;
    let value = serde_json::to_value(&actions)
        .map_err(|e| CliError::runtime(format!("cannot render the IAM actions: {e}")))?;
    crate::output::print_json(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_maps_to_its_iam_prefix() {
        let cases = [
            ("Backup.ListBackupJobs", "backup:ListBackupJobs"),
            ("DynamoDB.PutItem", "dynamodb:PutItem"),
            ("SNS.Publish", "sns:Publish"),
            (
                "Resource Groups Tagging API.GetResources",
                "tag:GetResources",
            ),
            ("STS.AssumeRole", "sts:AssumeRole"),
        ];
        for (op, action) in cases {
            assert_eq!(iam_action(op).unwrap().as_deref(), Some(action), "{op}");
        }
    }

    #[test]
    fn get_caller_identity_needs_no_permission() {
        assert_eq!(iam_action("STS.GetCallerIdentity").unwrap(), None);
        assert_eq!(
            iam_actions(&["STS.GetCallerIdentity", "SNS.Publish", "SNS.Publish"]).unwrap(),
            BTreeSet::from(["sns:Publish".to_string()])
        );
    }

    #[test]
    fn an_unknown_service_is_an_error_naming_it() {
        let err = iam_action("Lambda.Invoke").unwrap_err();
        assert!(matches!(
            &err,
            IamMappingError::UnknownService { service, .. } if service == "Lambda"
        ));
        let text = err.to_string();
        assert!(
            text.contains("Lambda.Invoke") && text.contains("DynamoDB"),
            "{text}"
        );
        // One bad entry fails the whole list: no partial policy.
        assert!(iam_actions(&["SNS.Publish", "Kms.Decrypt"]).is_err());
    }

    #[test]
    fn malformed_operation_names_are_errors() {
        for op in [
            "PutItem",
            "dynamodb:PutItem",
            "DynamoDB.",
            ".PutItem",
            "DynamoDB.put_item",
        ] {
            assert_eq!(
                iam_action(op),
                Err(IamMappingError::Malformed(op.to_string())),
                "{op}"
            );
        }
    }

    #[test]
    fn both_functions_operations_map_and_name_their_calls() {
        let all = function_actions().unwrap();
        assert_eq!(
            all.keys().copied().collect::<Vec<_>>(),
            ["RecoveryVerifierFunction", "TableGuardFunction"]
        );
        assert!(all["TableGuardFunction"].contains("dynamodb:TagResource"));
        assert!(all["RecoveryVerifierFunction"].contains("tag:GetResources"));
        assert!(!all["RecoveryVerifierFunction"].contains("sts:GetCallerIdentity"));
        for (id, ops) in FUNCTIONS {
            let needs_permission = ops.iter().filter(|o| !NOT_PERMISSIONED.contains(o)).count();
            assert_eq!(
                all[id].len(),
                needs_permission,
                "{id}: one action per operation"
            );
        }
    }
}
