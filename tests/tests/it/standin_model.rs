//! The stand-in follows AWS, never our code: every operation it serves is called over plain
//! HTTP, built from AWS's own AWS Backup model (botocore's `service-2.json`, installed by
//! `make venv`, see `local_account::model_check`), on the seeded `audit-finding` account, and
//! each response is checked against the model: method and URI template, status, the output
//! shape recursively, error shapes and the REST-JSON error protocol, and `MaxResults` bounds.
//!
//! Adding an operation to the stand-in: add ONE line to [`reads`], [`creates`] or [`changes`]
//! (and, for a list call, nothing more: its pagination is checked from the model), plus a line
//! to [`errors`] for each error it answers. [`the_table_covers_every_served_operation`] fails
//! until every name in `standin::OPERATIONS` has a line.

use local_account::model_check::{Exchange, Model, Operation, Violation};
use local_account::standin::{FailKind, Fault, OPERATIONS};
use local_account::{LocalAccount, Scenario, http};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const VAULT: &str = "backup-guard-vault";
const PLAN: &str = "backup-guard-policy";
const ROLE: &str = "arn:aws:iam::123456789012:role/backup";
/// Restore testing the check seeds (the `audit-finding` scenario has none).
const RT_PLAN: &str = "model_check_plan";
const RT_SELECTION: &str = "model_check_tables";
/// A completed restore job that [`RT_PLAN`] started (validated by [`changes`]).
const RT_JOB: &str = "model-check-restore-0";
/// Vaults and records the check seeds for the recovery-point, vault and job writes.
const POINTS_VAULT: &str = "model-check-points";
/// Locked (MinRetentionDays 7, MaxRetentionDays 365) and holding [`YOUNG_POINT`].
const LOCKED_VAULT: &str = "model-check-locked";
/// Empty: deleted by [`changes`].
const DOOMED_VAULT: &str = "model-check-doomed";
const SNAPSHOT_POINT: &str =
    "arn:aws:backup:us-east-1:123456789012:recovery-point:model-check-snapshot";
const CONTINUOUS_POINT: &str =
    "arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:db-model-check";
/// A day old, in [`LOCKED_VAULT`]: under the lock's minimum retention.
const YOUNG_POINT: &str = "arn:aws:backup:us-east-1:123456789012:recovery-point:model-check-young";
const RUNNING_JOB: &str = "model-check-job-running";
const DONE_JOB: &str = "model-check-job-done";
const DENY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle"],"Resource":"*"}]}"#;

/// One call: an operation, its path labels and query pairs (wire names, as in the model) and
/// an optional JSON body.
struct Call {
    op: &'static str,
    labels: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

fn call(
    op: &'static str,
    labels: &[(&'static str, &str)],
    query: &[(&'static str, &str)],
    body: Option<Value>,
) -> Call {
    Call {
        op,
        labels: pairs(labels),
        query: pairs(query),
        body,
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Facts of the seeded account the calls refer to.
#[derive(Default)]
struct Fixture {
    plan_id: String,
    version_id: String,
    selection_id: String,
    point_arn: String,
    resource_arn: String,
    /// A backup job of the scenario.
    job_id: String,
    /// The ARN of [`RT_PLAN`].
    rt_plan_arn: String,
    /// Set by [`creates`]' answers.
    new_plan_id: String,
    new_selection_id: String,
}

fn plan_body(name: &str) -> Value {
    json!({"BackupPlan": {"BackupPlanName": name, "Rules": [{
        "RuleName": "model-rule", "TargetBackupVaultName": VAULT,
        "ScheduleExpression": "cron(0 0 15,25 * ? *)", "StartWindowMinutes": 60,
        "CompletionWindowMinutes": 180, "Lifecycle": {"DeleteAfterDays": 90}
    }]}})
}

/// Read-only calls: one line per operation (or per interesting variant).
fn reads(f: &Fixture) -> Vec<Call> {
    vec![
        call("ListBackupVaults", &[], &[], None),
        call(
            "ListBackupVaults",
            &[],
            &[("vaultType", "BACKUP_VAULT")],
            None,
        ),
        call(
            "DescribeBackupVault",
            &[("backupVaultName", VAULT)],
            &[],
            None,
        ),
        call("ListBackupPlans", &[], &[], None),
        call("ListBackupPlans", &[], &[("includeDeleted", "true")], None),
        call("GetBackupPlan", &[("backupPlanId", &f.plan_id)], &[], None),
        call(
            "GetBackupPlan",
            &[("backupPlanId", &f.plan_id)],
            &[("versionId", &f.version_id)],
            None,
        ),
        call(
            "ListBackupSelections",
            &[("backupPlanId", &f.plan_id)],
            &[],
            None,
        ),
        call(
            "GetBackupSelection",
            &[
                ("backupPlanId", &f.plan_id),
                ("selectionId", &f.selection_id),
            ],
            &[],
            None,
        ),
        call(
            "ListRecoveryPointsByBackupVault",
            &[("backupVaultName", VAULT)],
            &[],
            None,
        ),
        call(
            "ListRecoveryPointsByBackupVault",
            &[("backupVaultName", VAULT)],
            &[
                ("resourceArn", &f.resource_arn),
                ("resourceType", "DynamoDB"),
                ("createdAfter", "2026-01-01T00:00:00Z"),
            ],
            None,
        ),
        call(
            "ListRecoveryPointsByResource",
            &[("resourceArn", &f.resource_arn)],
            &[],
            None,
        ),
        call(
            "ListRecoveryPointsByResource",
            &[("resourceArn", &f.resource_arn)],
            &[("managedByAWSBackupOnly", "true")],
            None,
        ),
        call(
            "DescribeRecoveryPoint",
            &[
                ("backupVaultName", VAULT),
                ("recoveryPointArn", &f.point_arn),
            ],
            &[],
            None,
        ),
        call("ListBackupJobs", &[], &[], None),
        call(
            "ListBackupJobs",
            &[],
            &[("state", "COMPLETED"), ("resourceType", "DynamoDB")],
            None,
        ),
        call(
            "DescribeBackupJob",
            &[("backupJobId", &f.job_id)],
            &[],
            None,
        ),
        call(
            "DescribeBackupJob",
            &[("backupJobId", RUNNING_JOB)],
            &[],
            None,
        ),
        call(
            "GetBackupVaultAccessPolicy",
            &[("backupVaultName", VAULT)],
            &[],
            None,
        ),
        call("ListRestoreJobs", &[], &[], None),
        call(
            "ListRestoreJobs",
            &[],
            &[
                ("status", "COMPLETED"),
                ("resourceType", "DynamoDB"),
                ("restoreTestingPlanArn", &f.rt_plan_arn),
                ("createdAfter", "2026-01-01T00:00:00Z"),
            ],
            None,
        ),
        call("DescribeRestoreJob", &[("restoreJobId", RT_JOB)], &[], None),
        call("ListRestoreTestingPlans", &[], &[], None),
        call(
            "GetRestoreTestingPlan",
            &[("RestoreTestingPlanName", RT_PLAN)],
            &[],
            None,
        ),
        call(
            "ListRestoreTestingSelections",
            &[("RestoreTestingPlanName", RT_PLAN)],
            &[],
            None,
        ),
        call(
            "GetRestoreTestingSelection",
            &[
                ("RestoreTestingPlanName", RT_PLAN),
                ("RestoreTestingSelectionName", RT_SELECTION),
            ],
            &[],
            None,
        ),
    ]
}

/// Calls that create: their answers give [`Fixture::new_plan_id`] and
/// [`Fixture::new_selection_id`] (a selection needs the plan, so it runs after the plan).
fn creates(f: &Fixture) -> Vec<Call> {
    vec![
        call(
            "CreateBackupVault",
            &[("backupVaultName", "model-check-vault")],
            &[],
            Some(json!({"CreatorRequestId": "model-check-1", "BackupVaultTags": {"k": "v"}})),
        ),
        call(
            "CreateBackupPlan",
            &[],
            &[],
            Some(plan_body("model-check-plan")),
        ),
        call(
            "CreateBackupSelection",
            &[("backupPlanId", &f.new_plan_id)],
            &[],
            Some(json!({"BackupSelection": {
                "SelectionName": "model-check-selection", "IamRoleArn": ROLE,
                "Resources": ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]
            }})),
        ),
    ]
}

/// Calls that change or delete what [`creates`] made, in order.
fn changes(f: &Fixture) -> Vec<Call> {
    vec![
        call(
            "UpdateBackupPlan",
            &[("backupPlanId", &f.new_plan_id)],
            &[],
            Some(plan_body("model-check-plan")),
        ),
        call(
            "DeleteBackupSelection",
            &[
                ("backupPlanId", &f.new_plan_id),
                ("selectionId", &f.new_selection_id),
            ],
            &[],
            None,
        ),
        call(
            "DeleteBackupPlan",
            &[("backupPlanId", &f.new_plan_id)],
            &[],
            None,
        ),
        call(
            "PutBackupVaultAccessPolicy",
            &[("backupVaultName", "model-check-vault")],
            &[],
            Some(json!({ "Policy": DENY_POLICY })),
        ),
        call(
            "DeleteBackupVaultAccessPolicy",
            &[("backupVaultName", "model-check-vault")],
            &[],
            None,
        ),
        call(
            "PutBackupVaultLockConfiguration",
            &[("backupVaultName", "model-check-vault")],
            &[],
            Some(json!({"MinRetentionDays": 7, "MaxRetentionDays": 365, "ChangeableForDays": 3})),
        ),
        call(
            "PutRestoreValidationResult",
            &[("restoreJobId", RT_JOB)],
            &[],
            Some(
                json!({"ValidationStatus": "SUCCESSFUL", "ValidationStatusMessage": "model check"}),
            ),
        ),
        call(
            "UpdateRecoveryPointLifecycle",
            &[
                ("backupVaultName", POINTS_VAULT),
                ("recoveryPointArn", SNAPSHOT_POINT),
            ],
            &[],
            Some(json!({"Lifecycle": {"DeleteAfterDays": 120, "MoveToColdStorageAfterDays": 10}})),
        ),
        call(
            "DisassociateRecoveryPoint",
            &[
                ("backupVaultName", POINTS_VAULT),
                ("recoveryPointArn", CONTINUOUS_POINT),
            ],
            &[],
            None,
        ),
        call(
            "DeleteRecoveryPoint",
            &[
                ("backupVaultName", POINTS_VAULT),
                ("recoveryPointArn", SNAPSHOT_POINT),
            ],
            &[],
            None,
        ),
        call("StopBackupJob", &[("backupJobId", RUNNING_JOB)], &[], None),
        // The lock PutBackupVaultLockConfiguration put above: changeable for 3 more days.
        call(
            "DeleteBackupVaultLockConfiguration",
            &[("backupVaultName", "model-check-vault")],
            &[],
            None,
        ),
        call(
            "DeleteBackupVault",
            &[("backupVaultName", DOOMED_VAULT)],
            &[],
            None,
        ),
    ]
}

const NO_POINT: &str = "arn:aws:backup:us-east-1:123456789012:recovery-point:no-such-point";

/// Calls that must fail with the given error code.
fn errors(f: &Fixture) -> Vec<(Call, &'static str)> {
    let nf = "ResourceNotFoundException";
    vec![
        (
            call(
                "DescribeBackupVault",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "GetBackupPlan",
                &[("backupPlanId", "no-such-plan")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "GetBackupSelection",
                &[
                    ("backupPlanId", &f.plan_id),
                    ("selectionId", "no-such-selection"),
                ],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "ListRecoveryPointsByBackupVault",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "DescribeRecoveryPoint",
                &[
                    ("backupVaultName", VAULT),
                    (
                        "recoveryPointArn",
                        "arn:aws:backup:us-east-1:123456789012:recovery-point:no-such-point",
                    ),
                ],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "ListBackupJobs",
                &[],
                &[("nextToken", "not-a-token-the-stand-in-gave")],
                None,
            ),
            "InvalidParameterValueException",
        ),
        (
            call(
                "CreateBackupVault",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({"CreatorRequestId": "model-check-dup"})),
            ),
            "AlreadyExistsException",
        ),
        (
            call("CreateBackupPlan", &[], &[], Some(json!({}))),
            "MissingParameterValueException",
        ),
        (
            call(
                "DeleteBackupPlan",
                &[("backupPlanId", &f.plan_id)],
                &[],
                None,
            ),
            "InvalidRequestException",
        ),
        // Vault protection.
        (
            call(
                "GetBackupVaultAccessPolicy",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            // A vault without an access policy.
            call(
                "GetBackupVaultAccessPolicy",
                &[("backupVaultName", "model-check-bare-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "PutBackupVaultAccessPolicy",
                &[("backupVaultName", "no-such-vault")],
                &[],
                Some(json!({ "Policy": DENY_POLICY })),
            ),
            nf,
        ),
        (
            call(
                "PutBackupVaultAccessPolicy",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({ "Policy": "not a policy document" })),
            ),
            "InvalidParameterValueException",
        ),
        (
            call(
                "DeleteBackupVaultAccessPolicy",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "PutBackupVaultLockConfiguration",
                &[("backupVaultName", "no-such-vault")],
                &[],
                Some(json!({"MinRetentionDays": 7})),
            ),
            nf,
        ),
        (
            call(
                "PutBackupVaultLockConfiguration",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({"MinRetentionDays": 30, "MaxRetentionDays": 7})),
            ),
            "InvalidParameterValueException",
        ),
        (
            // AWS: ChangeableForDays is at least 3 (the 72-hour cooling-off period) ...
            call(
                "PutBackupVaultLockConfiguration",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({"MinRetentionDays": 7, "ChangeableForDays": 2})),
            ),
            "InvalidParameterValueException",
        ),
        (
            // ... and at most 36,500 days.
            call(
                "PutBackupVaultLockConfiguration",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({"MinRetentionDays": 7, "ChangeableForDays": 36501})),
            ),
            "InvalidParameterValueException",
        ),
        (
            // AWS: the longest MaxRetentionDays is 36500 days.
            call(
                "PutBackupVaultLockConfiguration",
                &[("backupVaultName", VAULT)],
                &[],
                Some(json!({"MaxRetentionDays": 36501})),
            ),
            "InvalidParameterValueException",
        ),
        // Restore jobs and restore testing.
        (
            call(
                "DescribeRestoreJob",
                &[("restoreJobId", "no-such-restore-job")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "ListRestoreJobs",
                &[],
                &[("nextToken", "not-a-token-the-stand-in-gave")],
                None,
            ),
            "InvalidParameterValueException",
        ),
        (
            call("ListRestoreJobs", &[], &[("status", "DONE")], None),
            "InvalidParameterValueException",
        ),
        (
            call(
                "PutRestoreValidationResult",
                &[("restoreJobId", "no-such-restore-job")],
                &[],
                Some(json!({"ValidationStatus": "SUCCESSFUL"})),
            ),
            nf,
        ),
        (
            call(
                "PutRestoreValidationResult",
                &[("restoreJobId", RT_JOB)],
                &[],
                Some(json!({})),
            ),
            "MissingParameterValueException",
        ),
        (
            call(
                "PutRestoreValidationResult",
                &[("restoreJobId", RT_JOB)],
                &[],
                Some(json!({"ValidationStatus": "PASSED"})),
            ),
            "InvalidParameterValueException",
        ),
        (
            // A restore job no restore testing plan started.
            call(
                "PutRestoreValidationResult",
                &[("restoreJobId", "model-check-restore-manual")],
                &[],
                Some(json!({"ValidationStatus": "SUCCESSFUL"})),
            ),
            "InvalidRequestException",
        ),
        (
            call(
                "ListRestoreTestingPlans",
                &[],
                &[("NextToken", "not-a-token-the-stand-in-gave")],
                None,
            ),
            "InvalidParameterValueException",
        ),
        (
            call(
                "GetRestoreTestingPlan",
                &[("RestoreTestingPlanName", "no_such_plan")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "ListRestoreTestingSelections",
                &[("RestoreTestingPlanName", "no_such_plan")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "GetRestoreTestingSelection",
                &[
                    ("RestoreTestingPlanName", RT_PLAN),
                    ("RestoreTestingSelectionName", "no_such_selection"),
                ],
                &[],
                None,
            ),
            nf,
        ),
        // Recovery point, vault and job writes.
        (
            call(
                "DeleteRecoveryPoint",
                &[("backupVaultName", VAULT), ("recoveryPointArn", NO_POINT)],
                &[],
                None,
            ),
            nf,
        ),
        (
            // AWS: a Vault Lock keeps points for its minimum retention.
            call(
                "DeleteRecoveryPoint",
                &[
                    ("backupVaultName", LOCKED_VAULT),
                    ("recoveryPointArn", YOUNG_POINT),
                ],
                &[],
                None,
            ),
            "InvalidRequestException",
        ),
        (
            call(
                "UpdateRecoveryPointLifecycle",
                &[("backupVaultName", VAULT), ("recoveryPointArn", NO_POINT)],
                &[],
                Some(json!({"Lifecycle": {"DeleteAfterDays": 90}})),
            ),
            nf,
        ),
        (
            // Shorter than the lock's MinRetentionDays 7.
            call(
                "UpdateRecoveryPointLifecycle",
                &[
                    ("backupVaultName", LOCKED_VAULT),
                    ("recoveryPointArn", YOUNG_POINT),
                ],
                &[],
                Some(json!({"Lifecycle": {"DeleteAfterDays": 3}})),
            ),
            "InvalidParameterValueException",
        ),
        (
            call(
                "UpdateRecoveryPointLifecycle",
                &[
                    ("backupVaultName", POINTS_VAULT),
                    ("recoveryPointArn", CONTINUOUS_POINT),
                ],
                &[],
                Some(json!({"Lifecycle": {"DeleteAfterDays": 90}})),
            ),
            "InvalidRequestException",
        ),
        (
            call(
                "DisassociateRecoveryPoint",
                &[("backupVaultName", VAULT), ("recoveryPointArn", NO_POINT)],
                &[],
                None,
            ),
            nf,
        ),
        (
            // A DynamoDB snapshot, not a continuous backup.
            call(
                "DisassociateRecoveryPoint",
                &[
                    ("backupVaultName", VAULT),
                    ("recoveryPointArn", &f.point_arn),
                ],
                &[],
                None,
            ),
            "InvalidRequestException",
        ),
        (
            call(
                "DeleteBackupVault",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            // Not empty.
            call(
                "DeleteBackupVault",
                &[("backupVaultName", VAULT)],
                &[],
                None,
            ),
            "InvalidRequestException",
        ),
        (
            call(
                "DeleteBackupVaultLockConfiguration",
                &[("backupVaultName", "no-such-vault")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "DescribeBackupJob",
                &[("backupJobId", "no-such-job")],
                &[],
                None,
            ),
            nf,
        ),
        (
            call(
                "StopBackupJob",
                &[("backupJobId", "no-such-job")],
                &[],
                None,
            ),
            nf,
        ),
        (
            // Ended.
            call("StopBackupJob", &[("backupJobId", DONE_JOB)], &[], None),
            "InvalidRequestException",
        ),
    ]
}

/// Errors injected by the stand-in's faults, on one operation each.
const INJECTED: &[(FailKind, &str, &str)] = &[
    (
        FailKind::ThrottlingException,
        "ListBackupPlans",
        "ThrottlingException",
    ),
    (
        FailKind::ServiceUnavailableException,
        "ListBackupVaults",
        "ServiceUnavailableException",
    ),
    (
        FailKind::AccessDeniedException,
        "ListBackupJobs",
        "AccessDeniedException",
    ),
    (
        FailKind::InternalServerError,
        "ListBackupSelections",
        "InternalFailure",
    ),
];

fn model() -> Model {
    Model::load().unwrap_or_else(|e| panic!("{e}"))
}

struct Runner<'a> {
    account: &'a LocalAccount,
    model: &'a Model,
    violations: Vec<String>,
    /// Violations by operation, JSON path with list indices as `[*]`, and problem: the
    /// first call that showed it, and how many did. Keeps a report of one wrong member in
    /// 300 list items one line long.
    seen: BTreeMap<String, (String, usize)>,
}

fn runner<'a>(account: &'a LocalAccount, model: &'a Model) -> Runner<'a> {
    Runner {
        account,
        model,
        violations: Vec::new(),
        seen: BTreeMap::new(),
    }
}

/// `$.Items[12].Name` -> `$.Items[*].Name`.
fn generic(path: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for ch in path.chars() {
        match ch {
            '0'..='9' if digits => {}
            '0'..='9' if out.ends_with('[') => {
                digits = true;
                out.push('*');
            }
            _ => {
                digits = false;
                out.push(ch);
            }
        }
    }
    out
}

impl Runner<'_> {
    fn note(&mut self, op: &str, what: &str, vs: Vec<Violation>) {
        for v in vs {
            let key = format!("{op} {}: {}", generic(&v.path), v.problem);
            self.seen
                .entry(key)
                .or_insert_with(|| (format!("{op} {what}: {v}"), 0))
                .1 += 1;
        }
    }

    /// Sends `target` (already rendered) with the model's method.
    async fn raw(&self, op: &Operation<'_>, target: &str, body: Option<&Value>) -> http::Response {
        let body = body.map(|b| b.to_string().into_bytes());
        http::request(
            &self.account.standin().addr().to_string(),
            op.method(),
            target,
            body.as_deref(),
            Duration::from_secs(10),
        )
        .await
        .unwrap()
    }

    /// Renders `c` from the model and sends it; `None` if the call itself departs from the
    /// model (noted as violations).
    /// `check_body`: whether the body must fit the input shape (error calls may be malformed
    /// on purpose).
    async fn send(&mut self, c: &Call, check_body: bool) -> Option<(String, http::Response)> {
        let op = self.model.operation(c.op).unwrap();
        let target = match op.render(&refs(&c.labels), &refs(&c.query)) {
            Ok(t) => t,
            Err(vs) => {
                self.note(c.op, "request", vs);
                return None;
            }
        };
        if check_body {
            let vs = op.check_query_values(&refs(&c.query));
            self.note(c.op, "request", vs);
        }
        if let Some(b) = c.body.as_ref().filter(|_| check_body) {
            let vs = op.check_request_body(b);
            self.note(c.op, "request", vs);
        }
        let r = self.raw(&op, &target, c.body.as_ref()).await;
        Some((format!("{} {target}", op.method()), r))
    }

    /// Sends a call that must succeed; checks routing (the stand-in counted it as `c.op`)
    /// and the response. Returns the body.
    async fn ok(&mut self, c: &Call) -> Value {
        let before = self.account.standin().calls().get(c.op).copied();
        let Some((what, r)) = self.send(c, true).await else {
            return Value::Null;
        };
        let after = self.account.standin().calls().get(c.op).copied();
        if after.unwrap_or(0) != before.unwrap_or(0) + 1 {
            self.violations.push(format!(
                "{} {what}: the stand-in did not route the model's method and URI to {} (status {}, {})",
                c.op,
                c.op,
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
            return Value::Null;
        }
        let op = self.model.operation(c.op).unwrap();
        let vs = op.check_response(Exchange::from(&r));
        self.note(c.op, &what, vs);
        // aws-sdk-backup (Smithy's model) writes botocore's trailing-slash paths without the
        // slash: a read must route to the same operation either way.
        if op.method() == "GET" {
            self.other_spelling(c, &op).await;
        }
        serde_json::from_slice(&r.body).unwrap_or(Value::Null)
    }

    async fn other_spelling(&mut self, c: &Call, op: &Operation<'_>) {
        let Ok(target) = op.render(&refs(&c.labels), &refs(&c.query)) else {
            return;
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let toggled = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => return,
        };
        let target = if query.is_empty() {
            toggled
        } else {
            format!("{toggled}?{query}")
        };
        let before = self.account.standin().calls().get(c.op).copied();
        let r = self.raw(op, &target, None).await;
        let after = self.account.standin().calls().get(c.op).copied();
        if after.unwrap_or(0) != before.unwrap_or(0) + 1 || r.status != op.response_code() {
            self.note(
                c.op,
                &format!("GET {target}"),
                vec![Violation {
                    path: "request.uri".into(),
                    problem: format!(
                        "{} without its trailing slash (as aws-sdk-backup sends it) did not answer as {} (status {})",
                        op.request_uri(),
                        c.op,
                        r.status
                    ),
                }],
            );
        }
    }

    /// Sends a call that must fail with `code` and checks the error.
    async fn err(&mut self, c: &Call, code: &str) {
        let Some((what, r)) = self.send(c, false).await else {
            return;
        };
        let op = self.model.operation(c.op).unwrap();
        let vs = op.check_error(Exchange::from(&r), code);
        self.note(c.op, &what, vs);
    }

    fn finish(mut self) {
        for (first, n) in std::mem::take(&mut self.seen).into_values() {
            self.violations.push(match n {
                1 => first,
                n => format!("{first} (and {} more like it)", n - 1),
            });
        }
        assert!(
            self.violations.is_empty(),
            "{} violation(s) of AWS's Backup model ({}):\n{}",
            self.violations.len(),
            self.model.origin(),
            self.violations.join("\n")
        );
    }
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} missing in {v}"))
}

async fn start() -> (LocalAccount, Fixture) {
    let account = LocalAccount::start(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let plan = account.plan(PLAN).unwrap();
    let body: Value = {
        let r = http::request(
            &account.standin().addr().to_string(),
            "GET",
            &format!("/backup-vaults/{VAULT}/recovery-points"),
            None,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        serde_json::from_slice(&r.body).unwrap()
    };
    let jobs: Value = {
        let r = http::request(
            &account.standin().addr().to_string(),
            "GET",
            "/backup-jobs",
            None,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        serde_json::from_slice(&r.body).unwrap()
    };
    let fixture = Fixture {
        plan_id: plan.id.clone(),
        version_id: plan.version_id.clone(),
        selection_id: plan.selections.values().next().unwrap().clone(),
        point_arn: text(&body, "/RecoveryPoints/0/RecoveryPointArn").to_string(),
        resource_arn: text(&body, "/RecoveryPoints/0/ResourceArn").to_string(),
        job_id: text(&jobs, "/BackupJobs/0/BackupJobId").to_string(),
        rt_plan_arn: account.standin().restore_testing_plan_arn(RT_PLAN),
        ..Fixture::default()
    };
    seed_vault_protection_and_restore_testing(&account, &fixture).await;
    (account, fixture)
}

/// The `audit-finding` scenario has no vault access policy, no Vault Lock and no restore
/// testing: the check seeds them, the policy and lock through the stand-in's own API, restore
/// testing through its admin seeding. Three plans with three selections each and 25 restore
/// jobs (one manual), so that every list call pages.
async fn seed_vault_protection_and_restore_testing(account: &LocalAccount, f: &Fixture) {
    let addr = account.standin().addr().to_string();
    for (method, target, body) in [
        (
            "PUT",
            format!("/backup-vaults/{VAULT}/access-policy"),
            Some(json!({ "Policy": DENY_POLICY })),
        ),
        (
            "PUT",
            format!("/backup-vaults/{VAULT}/vault-lock"),
            Some(json!({"MinRetentionDays": 7, "MaxRetentionDays": 3650})),
        ),
        (
            "PUT",
            "/backup-vaults/model-check-bare-vault".to_string(),
            Some(json!({})),
        ),
        (
            "PUT",
            format!("/backup-vaults/{POINTS_VAULT}"),
            Some(json!({})),
        ),
        (
            "PUT",
            format!("/backup-vaults/{LOCKED_VAULT}"),
            Some(json!({})),
        ),
        (
            "PUT",
            format!("/backup-vaults/{LOCKED_VAULT}/vault-lock"),
            Some(json!({"MinRetentionDays": 7, "MaxRetentionDays": 365})),
        ),
        (
            "PUT",
            format!("/backup-vaults/{DOOMED_VAULT}"),
            Some(json!({})),
        ),
    ] {
        let body = body.map(|b| b.to_string().into_bytes());
        let r = http::request(
            &addr,
            method,
            &target,
            body.as_deref(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(
            r.status < 300,
            "seeding {method} {target}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    let mut plans = Vec::new();
    let mut selections = Vec::new();
    for (i, plan) in [RT_PLAN, "model_check_plan_b", "model_check_plan_c"]
        .into_iter()
        .enumerate()
    {
        plans.push(json!({
            "RestoreTestingPlanName": plan,
            "ScheduleExpression": "cron(0 5 ? * * *)",
            "ScheduleExpressionTimezone": "Etc/UTC",
            "StartWindowHours": 24,
            "CreatorRequestId": format!("model-check-{i}"),
            "LastExecutionTime": "2026-11-30T05:00:00Z",
            "LastUpdateTime": "2026-11-01T00:00:00Z",
            "RecoveryPointSelection": {
                "Algorithm": "LATEST_WITHIN_WINDOW",
                "IncludeVaults": ["*"],
                "ExcludeVaults": [],
                "RecoveryPointTypes": ["SNAPSHOT", "CONTINUOUS"],
                "SelectionWindowDays": 7
            }
        }));
        for sel in [RT_SELECTION, "model_check_orders", "model_check_tagged"] {
            selections.push(json!({
                "RestoreTestingPlanName": plan,
                "RestoreTestingSelectionName": sel,
                "IamRoleArn": ROLE,
                "ProtectedResourceType": "DynamoDB",
                "ProtectedResourceArns": [f.resource_arn],
                "ProtectedResourceConditions": {
                    "StringEquals": [{"Key": "aws:ResourceTag/backup", "Value": "daily"}],
                    "StringNotEquals": []
                },
                "RestoreMetadataOverrides": {"targetTableName": "restore-test"},
                "ValidationWindowHours": 4,
                "CreatorRequestId": format!("model-check-{plan}-{sel}")
            }));
        }
    }
    seed_points_and_jobs(account, f);
    let seed = serde_json::from_value(json!({"Plans": plans, "Selections": selections})).unwrap();
    account.standin().add_restore_testing(seed).unwrap();
    let mut jobs = Vec::new();
    for i in 0..24 {
        let done = i % 4 != 3;
        let mut job = json!({
            "RestoreJobId": format!("model-check-restore-{i}"),
            "RecoveryPointArn": f.point_arn,
            "SourceResourceArn": f.resource_arn,
            "BackupVaultArn": format!("arn:aws:backup:us-east-1:123456789012:backup-vault:{VAULT}"),
            "CreationDate": format!("2026-11-{:02}T05:00:00Z", 30 - i),
            "Status": if done { "COMPLETED" } else { "FAILED" },
            "StatusMessage": if done { "restored" } else { "the restore failed" },
            "PercentDone": "100.00%",
            "BackupSizeInBytes": 1024 * (i + 1),
            "IamRoleArn": ROLE,
            "ExpectedCompletionTimeMinutes": 10,
            "RecoveryPointCreationDate": format!("2026-11-{:02}T00:00:00Z", 29 - i.min(28)),
            "IsParent": false,
            "CreatedBy": {"RestoreTestingPlanArn": f.rt_plan_arn},
            "DeletionStatus": "SUCCESSFUL",
            "DeletionStatusMessage": "the restored table was deleted"
        });
        if done {
            job["CompletionDate"] = json!(format!("2026-11-{:02}T05:20:00Z", 30 - i));
            job["CreatedResourceArn"] = json!(format!(
                "arn:aws:dynamodb:us-east-1:123456789012:table/restore-test-{i}"
            ));
        }
        jobs.push(job);
    }
    jobs.push(json!({
        "RestoreJobId": "model-check-restore-manual",
        "RecoveryPointArn": f.point_arn,
        "SourceResourceArn": f.resource_arn,
        "CreationDate": "2026-11-15T12:00:00Z",
        "CompletionDate": "2026-11-15T12:30:00Z",
        "Status": "COMPLETED",
        "IamRoleArn": ROLE
    }));
    let jobs = serde_json::from_value(json!(jobs)).unwrap();
    account.standin().add_restore_jobs(jobs).unwrap();
}

/// The points and jobs [`changes`] and [`errors`] act on: a snapshot and a continuous point
/// in [`POINTS_VAULT`], a day-old point in [`LOCKED_VAULT`] (the stand-in's clock is real
/// time), a running and a completed job.
fn seed_points_and_jobs(account: &LocalAccount, f: &Fixture) {
    let young = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)).as_second();
    let points = json!([
        {"RecoveryPointArn": SNAPSHOT_POINT, "BackupVaultName": POINTS_VAULT,
         "ResourceArn": f.resource_arn, "CreationDate": "2026-11-01T00:00:00Z",
         "Lifecycle": {"DeleteAfterDays": 90}},
        {"RecoveryPointArn": CONTINUOUS_POINT, "BackupVaultName": POINTS_VAULT,
         "ResourceArn": "arn:aws:rds:us-east-1:123456789012:db:model-check",
         "CreationDate": "2026-11-01T00:00:00Z"},
        {"RecoveryPointArn": YOUNG_POINT, "BackupVaultName": LOCKED_VAULT,
         "ResourceArn": f.resource_arn, "CreationDate": young,
         "Lifecycle": {"DeleteAfterDays": 30}},
    ]);
    account
        .standin()
        .add_recovery_points(serde_json::from_value(points).unwrap())
        .unwrap();
    let jobs = json!([
        {"BackupJobId": RUNNING_JOB, "BackupVaultName": POINTS_VAULT,
         "ResourceArn": f.resource_arn, "CreationDate": "2026-11-25T00:00:00Z",
         "State": "RUNNING", "PercentDone": "40.0", "IamRoleArn": ROLE,
         "StartBy": "2026-11-25T01:00:00Z"},
        {"BackupJobId": DONE_JOB, "BackupVaultName": POINTS_VAULT,
         "ResourceArn": f.resource_arn, "CreationDate": "2026-11-24T00:00:00Z",
         "CompletionDate": "2026-11-24T00:20:00Z", "State": "COMPLETED",
         "RecoveryPointArn": SNAPSHOT_POINT},
    ]);
    account
        .standin()
        .add_backup_jobs(serde_json::from_value(jobs).unwrap())
        .unwrap();
}

#[test]
fn the_table_covers_every_served_operation() {
    let f = Fixture::default();
    let mut listed: Vec<&str> = reads(&f)
        .into_iter()
        .chain(creates(&f))
        .chain(changes(&f))
        .map(|c| c.op)
        .collect();
    listed.sort_unstable();
    let missing: Vec<&&str> = OPERATIONS
        .iter()
        .filter(|o| listed.binary_search(o).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "operations the stand-in serves with no line in standin_model's tables: {missing:?}"
    );
    let model = model();
    for op in OPERATIONS {
        assert!(
            model.operation(op).is_ok(),
            "{op}: not an operation of AWS's Backup model"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_operation_answers_as_the_model_says() {
    let model = model();
    let (account, mut f) = start().await;
    let mut run = runner(&account, &model);
    let mut listed = 0;
    for c in reads(&f) {
        let body = run.ok(&c).await;
        // The seeded account makes the bodies non-trivial: count the listed items, and
        // every list call (its filters included) must list something, so that its item
        // shape is checked.
        let lists: Vec<usize> = body
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| v.as_array())
            .map(Vec::len)
            .collect();
        if lists.contains(&0) {
            run.violations.push(format!(
                "{} {:?}: listed nothing, so its item shape went unchecked: seed the account",
                c.op, c.query
            ));
        }
        listed += lists.iter().sum::<usize>();
    }
    assert!(
        listed >= 100,
        "only {listed} items listed: is the scenario seeded?"
    );
    // Each create may need the id an earlier one returned, so the table is re-read each time.
    for i in 0..creates(&f).len() {
        let c = creates(&f).swap_remove(i);
        let body = run.ok(&c).await;
        if let Some(id) = body.get("BackupPlanId").and_then(Value::as_str) {
            f.new_plan_id = id.to_string();
        }
        if let Some(id) = body.get("SelectionId").and_then(Value::as_str) {
            f.new_selection_id = id.to_string();
        }
    }
    for c in changes(&f) {
        run.ok(&c).await;
    }
    run.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_model_shapes_and_the_rest_json_protocol() {
    let model = model();
    let (account, f) = start().await;
    let mut run = runner(&account, &model);
    for (c, code) in errors(&f) {
        run.err(&c, code).await;
    }
    for (kind, op, code) in INJECTED {
        let mut fault = Fault::new(*op);
        fault.fail_always = Some(*kind);
        account.standin().set_fault(fault).unwrap();
        let c = reads(&f).into_iter().find(|c| c.op == *op).unwrap();
        run.err(&c, code).await;
        account.standin().clear_faults();
    }
    // A path no operation has.
    let op = model.operation("ListBackupJobs").unwrap();
    let r = run.raw(&op, "/no-such-operation", None).await;
    let vs = op.check_error(Exchange::from(&r), "UnknownOperationException");
    run.note("(no operation)", "GET /no-such-operation", vs);
    run.finish();
}

/// Every integer query parameter with bounds in the model (`maxResults`,
/// `MaxScheduledRunsPreview`): one past them is an `InvalidParameterValueException`. Every
/// list call whose model input has `NextToken` and `MaxResults`: the largest page size is
/// accepted, a page never holds
/// more than `MaxResults` items, and following `NextToken` reaches the same items as one
/// large page. Also: the query names the stand-in accepts are the model's (the stand-in names
/// them when it refuses an unknown one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_calls_honour_the_model_page_bounds_and_query_names() {
    let model = model();
    let (account, f) = start().await;
    let mut run = runner(&account, &model);
    let mut paged = 0;
    let mut probed = 0;
    let mut bounded = 0;
    let mut checked = std::collections::BTreeSet::new();
    for c in reads(&f) {
        let op = model.operation(c.op).unwrap();

        // Query names: the stand-in refuses an unknown one and lists those it supports.
        let target = op.render(&refs(&c.labels), &[]).unwrap();
        let sep = if target.contains('?') { '&' } else { '?' };
        let r = run
            .raw(&op, &format!("{target}{sep}zzNotAnAwsParameter=1"), None)
            .await;
        let message = String::from_utf8_lossy(&r.body).to_string();
        if let Some(list) = message
            .split("(supported: ")
            .nth(1)
            .and_then(|s| s.split(')').next())
        {
            probed += 1;
            let names = op.query_names();
            for name in list.split(", ").filter(|n| !n.is_empty()) {
                if !names.iter().any(|n| n == name) {
                    run.violations.push(format!(
                        "{}: the stand-in accepts query parameter {name:?}, which the model does not have (the model's: {})",
                        c.op,
                        names.join(", ")
                    ));
                }
            }
        } else if r.status < 400 && !op.query_names().is_empty() {
            run.violations.push(format!(
                "{}: an unknown query parameter was silently ignored (status {})",
                c.op, r.status
            ));
        }

        // Integer query parameters outside their shape's bounds are refused, once per
        // operation (the first line).
        if checked.insert(c.op) {
            for (name, min, max) in op.bounded_query() {
                for bad in [min.map(|m| m - 1), max.map(|m| m + 1)]
                    .into_iter()
                    .flatten()
                {
                    let mut q = c.query.clone();
                    q.retain(|(k, _)| *k != name);
                    q.push((name.clone(), bad.to_string()));
                    let call = Call {
                        op: c.op,
                        labels: c.labels.clone(),
                        query: q,
                        body: None,
                    };
                    run.err(&call, "InvalidParameterValueException").await;
                    bounded += 1;
                }
            }
        }

        // Pagination, once per operation (the unfiltered line).
        let Some(bounds) = op.page_bounds() else {
            continue;
        };
        if !c.query.is_empty() {
            continue;
        }
        paged += 1;
        let with = |n: String| {
            let mut q = c.query.clone();
            q.push((bounds.max_results.clone(), n));
            Call {
                op: c.op,
                labels: c.labels.clone(),
                query: q,
                body: None,
            }
        };
        let all = run.ok(&with(bounds.max.to_string())).await;
        let list_member = |body: &Value| -> Vec<Value> {
            body.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, v)| v.as_array())
                .flatten()
                .cloned()
                .collect()
        };
        let expected = list_member(&all);
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..=expected.len() {
            let mut page = with(bounds.min.to_string());
            if let Some(t) = token.take() {
                page.query.push((bounds.next_token.clone(), t));
            }
            let body = run.ok(&page).await;
            let items = list_member(&body);
            if items.len() as i64 > bounds.min {
                run.violations.push(format!(
                    "{}: a page with {}={} held {} items",
                    c.op,
                    bounds.max_results,
                    bounds.min,
                    items.len()
                ));
            }
            seen.extend(items);
            match body.get("NextToken").and_then(Value::as_str) {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        if seen != expected {
            run.violations.push(format!(
                "{}: {} pages of {} reached {} items, one page of {} holds {}",
                c.op,
                bounds.max_results,
                bounds.min,
                seen.len(),
                bounds.max,
                expected.len()
            ));
        }
    }
    assert!(
        probed >= 10,
        "only {probed} query-name lists read from the stand-in"
    );
    assert!(
        bounded >= 14,
        "only {bounded} out-of-bounds query values sent"
    );
    assert!(paged >= 6, "only {paged} paginated operations checked");
    run.finish();
}

/// AWS: "On and after the lock date, the Vault Lock becomes immutable and cannot be changed";
/// before it, a lock may be changed. (The stand-in's clock is the caller's, so the store is
/// driven directly: over HTTP the lock date is always at least 3 days ahead.)
#[test]
fn a_vault_lock_past_its_lock_date_cannot_be_changed() {
    use local_account::standin::store::Store;
    let t0: jiff::Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    let day = jiff::SignedDuration::from_hours(24);
    let mut store = Store::new("us-east-1", "123456789012");
    store.create_backup_vault(VAULT, b"{}", t0).unwrap();
    let lock = br#"{"MinRetentionDays": 7, "MaxRetentionDays": 365, "ChangeableForDays": 3}"#;
    store
        .put_backup_vault_lock_configuration(VAULT, lock, t0)
        .unwrap();
    // Within the cooling-off period: still changeable.
    store
        .put_backup_vault_lock_configuration(VAULT, lock, t0 + day * 2)
        .unwrap();
    // The lock date is now t0 + 5 days.
    let err = store
        .put_backup_vault_lock_configuration(VAULT, lock, t0 + day * 5)
        .unwrap_err();
    assert_eq!(err.code, "InvalidRequestException", "{err:?}");
    let v = store.describe_backup_vault(VAULT).unwrap();
    assert_eq!(v["MinRetentionDays"], 7, "{v}");
}
