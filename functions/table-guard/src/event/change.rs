//! Tampering and drift: CloudTrail's records of AWS Backup calls (EventBridge `source`
//! `aws.backup`, `detail.eventSource` `backup.amazonaws.com`) and of KMS calls (`aws.kms`,
//! `kms.amazonaws.com`) that can undo the policy: a recovery point deleted or its lifecycle
//! changed, a plan or selection edited or deleted, a vault's access policy, lock or the vault
//! itself removed, a backup job stopped, the vault's key disabled, scheduled for deletion or
//! given a new key policy. The handler ([`crate::handler::change`]) re-reads what changed and
//! judges it with the policy crate.
//!
//! What each record's `requestParameters` names (camelCase, as CloudTrail writes the API's
//! members), the target [`ChangeTarget`]:
//!
//! | `eventName` | target | fields read |
//! |---|---|---|
//! | `DeleteRecoveryPoint`, `DisassociateRecoveryPoint` | recovery point | `backupVaultName`, `recoveryPointArn` |
//! | `UpdateRecoveryPointLifecycle` | recovery point | the same, and `lifecycle.deleteAfterDays` / `moveToColdStorageAfterDays` (the "after") |
//! | `UpdateBackupPlan`, `DeleteBackupPlan` | plan | `backupPlanId` |
//! | `CreateBackupSelection` | plan | `backupPlanId` (the new selection's id: `responseElements.selectionId`) |
//! | `DeleteBackupSelection` | plan | `backupPlanId`, `selectionId` |
//! | `PutBackupVaultAccessPolicy`, `DeleteBackupVaultAccessPolicy`, `DeleteBackupVaultLockConfiguration`, `DeleteBackupVault` | vault | `backupVaultName` |
//! | `StopBackupJob` | backup job | `backupJobId` |
//! | `ScheduleKeyDeletion`, `DisableKey`, `PutKeyPolicy` | KMS key | `keyId` (an id or ARN; the handler resolves it with `DescribeKey`), `pendingWindowInDays` |
//!
//! Outcomes of [`parse_change_event`]: a handled, successful call → [`ChangeEvent`] with its
//! target; a call that failed (`detail.errorCode`) → [`ChangeEvent::failed`] set (noted, not
//! alerted: nothing changed); anything else (another source or event name, a missing or
//! malformed field) → [`EventError`] naming its JSON path.

use jiff::Timestamp;
use policy::json_path;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Actor, DETAIL_TYPE, EventError, shown};

/// The EventBridge `source` of KMS's CloudTrail events.
pub const KMS_SOURCE: &str = "aws.kms";
/// The CloudTrail `eventSource` of AWS Backup.
pub const BACKUP_EVENT_SOURCE: &str = "backup.amazonaws.com";
/// The CloudTrail `eventSource` of KMS.
pub const KMS_EVENT_SOURCE: &str = "kms.amazonaws.com";

/// The AWS Backup and KMS calls the guard reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeName {
    /// `DeleteRecoveryPoint`.
    DeleteRecoveryPoint,
    /// `UpdateRecoveryPointLifecycle`.
    UpdateRecoveryPointLifecycle,
    /// `DisassociateRecoveryPoint`.
    DisassociateRecoveryPoint,
    /// `UpdateBackupPlan`.
    UpdateBackupPlan,
    /// `DeleteBackupPlan`.
    DeleteBackupPlan,
    /// `CreateBackupSelection`.
    CreateBackupSelection,
    /// `DeleteBackupSelection`.
    DeleteBackupSelection,
    /// `PutBackupVaultAccessPolicy`.
    PutBackupVaultAccessPolicy,
    /// `DeleteBackupVaultAccessPolicy`.
    DeleteBackupVaultAccessPolicy,
    /// `DeleteBackupVaultLockConfiguration`.
    DeleteBackupVaultLockConfiguration,
    /// `DeleteBackupVault`.
    DeleteBackupVault,
    /// `StopBackupJob`.
    StopBackupJob,
    /// KMS `ScheduleKeyDeletion`.
    ScheduleKeyDeletion,
    /// KMS `DisableKey`.
    DisableKey,
    /// KMS `PutKeyPolicy`.
    PutKeyPolicy,
}

impl ChangeName {
    /// Every handled call.
    pub const ALL: [ChangeName; 15] = [
        ChangeName::DeleteRecoveryPoint,
        ChangeName::UpdateRecoveryPointLifecycle,
        ChangeName::DisassociateRecoveryPoint,
        ChangeName::UpdateBackupPlan,
        ChangeName::DeleteBackupPlan,
        ChangeName::CreateBackupSelection,
        ChangeName::DeleteBackupSelection,
        ChangeName::PutBackupVaultAccessPolicy,
        ChangeName::DeleteBackupVaultAccessPolicy,
        ChangeName::DeleteBackupVaultLockConfiguration,
        ChangeName::DeleteBackupVault,
        ChangeName::StopBackupJob,
        ChangeName::ScheduleKeyDeletion,
        ChangeName::DisableKey,
        ChangeName::PutKeyPolicy,
    ];

    /// The CloudTrail `eventName`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeName::DeleteRecoveryPoint => "DeleteRecoveryPoint",
            ChangeName::UpdateRecoveryPointLifecycle => "UpdateRecoveryPointLifecycle",
            ChangeName::DisassociateRecoveryPoint => "DisassociateRecoveryPoint",
            ChangeName::UpdateBackupPlan => "UpdateBackupPlan",
            ChangeName::DeleteBackupPlan => "DeleteBackupPlan",
            ChangeName::CreateBackupSelection => "CreateBackupSelection",
            ChangeName::DeleteBackupSelection => "DeleteBackupSelection",
            ChangeName::PutBackupVaultAccessPolicy => "PutBackupVaultAccessPolicy",
            ChangeName::DeleteBackupVaultAccessPolicy => "DeleteBackupVaultAccessPolicy",
            ChangeName::DeleteBackupVaultLockConfiguration => "DeleteBackupVaultLockConfiguration",
            ChangeName::DeleteBackupVault => "DeleteBackupVault",
            ChangeName::StopBackupJob => "StopBackupJob",
            ChangeName::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            ChangeName::DisableKey => "DisableKey",
            ChangeName::PutKeyPolicy => "PutKeyPolicy",
        }
    }

    /// True for the KMS calls (`aws.kms`, `kms.amazonaws.com`).
    pub fn is_kms(self) -> bool {
        matches!(
            self,
            ChangeName::ScheduleKeyDeletion | ChangeName::DisableKey | ChangeName::PutKeyPolicy
        )
    }

    /// The CloudTrail `eventSource` of the call.
    pub fn event_source(self) -> &'static str {
        if self.is_kms() {
            KMS_EVENT_SOURCE
        } else {
            BACKUP_EVENT_SOURCE
        }
    }

    /// The EventBridge `source` the call arrives with.
    pub fn source(self) -> &'static str {
        if self.is_kms() {
            KMS_SOURCE
        } else {
            super::restore::BACKUP_SOURCE
        }
    }

    /// The handled call named `name` and recorded by `event_source`.
    pub fn parse(event_source: &str, name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == name && n.event_source() == event_source)
    }
}

impl std::fmt::Display for ChangeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recovery point's lifecycle as the call set it (`requestParameters.lifecycle`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleAsked {
    /// `deleteAfterDays` (`None`: kept forever).
    pub delete_after_days: Option<i64>,
    /// `moveToColdStorageAfterDays`.
    pub move_to_cold_storage_after_days: Option<i64>,
}

/// What the call changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "target")]
pub enum ChangeTarget {
    /// A recovery point (deleted, disassociated, or its lifecycle updated).
    RecoveryPoint {
        /// `backupVaultName`.
        vault: String,
        /// `recoveryPointArn`.
        point_arn: String,
        /// `lifecycle` of `UpdateRecoveryPointLifecycle`.
        lifecycle: Option<LifecycleAsked>,
    },
    /// A backup plan (edited, deleted) or one of its selections (created, deleted).
    Plan {
        /// `backupPlanId`.
        plan_id: String,
        /// `selectionId` (of the request for a deletion, of the response for a creation).
        selection_id: Option<String>,
    },
    /// A backup vault (its access policy, its lock, or the vault itself).
    Vault {
        /// `backupVaultName`.
        vault: String,
    },
    /// A backup job (stopped).
    BackupJob {
        /// `backupJobId`.
        job_id: String,
    },
    /// A KMS key (scheduled for deletion, disabled, new key policy).
    Key {
        /// `keyId` as the caller gave it (a key id or ARN).
        key_id: String,
        /// `pendingWindowInDays` of `ScheduleKeyDeletion`.
        pending_days: Option<i64>,
        /// `responseElements.deletionDate` of `ScheduleKeyDeletion`, as CloudTrail wrote it.
        deletion_date: Option<String>,
    },
}

/// Who made the call (`userIdentity`, `sourceIPAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// `userIdentity.arn` and `invokedBy`.
    pub actor: Actor,
    /// `userIdentity.type` (`IAMUser`, `AssumedRole`, `Root`, `AWSService` …).
    pub identity_type: Option<String>,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role behind an assumed-role
    /// session.
    pub role_arn: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
}

impl Caller {
    /// Who, in a few words: `arn:aws:sts::…:assumed-role/Admin/alice (role …) from 203.0.113.5`.
    pub fn describe(&self) -> String {
        let mut s = self
            .actor
            .arn
            .clone()
            .unwrap_or_else(|| "an unknown caller".to_string());
        if let Some(t) = &self.identity_type {
            s.push_str(&format!(" ({t})"));
        }
        if let Some(r) = &self.role_arn
            && self.actor.arn.as_deref() != Some(r.as_str())
        {
            s.push_str(&format!(", role {r}"));
        }
        if let Some(by) = &self.actor.invoked_by {
            s.push_str(&format!(" via {by}"));
        }
        if let Some(ip) = &self.source_ip {
            s.push_str(&format!(" from {ip}"));
        }
        s
    }
}

/// A call that failed (`errorCode`, `errorMessage`): nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCall {
    /// `errorCode`.
    pub code: String,
    /// `errorMessage`, cut to 300 characters.
    pub message: Option<String>,
}

/// A parsed AWS Backup or KMS CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// `detail.eventID` (the ledger key).
    pub event_id: String,
    /// The call.
    pub name: ChangeName,
    /// `detail.eventTime`.
    pub at: Option<Timestamp>,
    /// `detail.recipientAccountId` (else the envelope's `account`).
    pub account: Option<String>,
    /// `detail.awsRegion` (else the envelope's `region`).
    pub region: Option<String>,
    /// Who made it.
    pub caller: Caller,
    /// What it changed.
    pub target: ChangeTarget,
    /// Set when the call failed (then nothing changed).
    pub failed: Option<FailedCall>,
    /// `requestParameters` as recorded (what the caller asked for: the "after" a record
    /// carries, e.g. the new plan or policy), for the alert.
    pub request: Value,
}

/// The `detail` fields read (the parameters are read by path, naming what is missing).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(rename = "eventID")]
    event_id: String,
    event_name: String,
    event_source: String,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    aws_region: Option<String>,
    #[serde(default)]
    recipient_account_id: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    response_elements: Option<Value>,
    #[serde(default)]
    user_identity: Option<Value>,
    #[serde(default, rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
    detail: Detail,
}

/// True if the event is a CloudTrail record this module parses (its `source` is `aws.kms`,
/// or `aws.backup` with `detail-type` "AWS API Call via CloudTrail").
pub fn is_change_event(value: &Value) -> bool {
    let source = value.get("source").and_then(Value::as_str);
    let detail_type = value.get("detail-type").and_then(Value::as_str);
    source == Some(KMS_SOURCE)
        || (source == Some(super::restore::BACKUP_SOURCE) && detail_type == Some(DETAIL_TYPE))
}

/// Parses an AWS Backup or KMS CloudTrail event (see the module docs).
pub fn parse_change_event(value: &Value) -> Result<ChangeEvent, EventError> {
    let env: Envelope = serde_path_to_error::deserialize(value).map_err(|e| {
        let (field, problem) = json_path::split(&e);
        EventError::new(field, problem)
    })?;
    if env.detail_type != DETAIL_TYPE {
        return Err(EventError::new(
            "detail-type",
            format!("{} is not {DETAIL_TYPE:?}", shown(&env.detail_type)),
        ));
    }
    let d = &env.detail;
    let name = change_name(&env.source, d)?;
    super::restore::check_id(
        super::PATH_EVENT_ID,
        &d.event_id,
        "CloudTrail event ids are UUIDs",
    )?;
    let account = d.recipient_account_id.clone().or(env.account.clone());
    let region = d.aws_region.clone().or(env.region.clone());
    super::restore::check_account_region(
        account.as_deref(),
        region.as_deref(),
        (
            if d.recipient_account_id.is_some() {
                super::PATH_ACCOUNT
            } else {
                "account"
            },
            if d.aws_region.is_some() {
                super::PATH_REGION
            } else {
                "region"
            },
        ),
    )?;
    let at = match &d.event_time {
        None => None,
        Some(t) => Some(t.parse::<Timestamp>().map_err(|e| {
            EventError::new(
                "detail.eventTime",
                format!("{} is not an RFC 3339 time: {e}", shown(t)),
            )
        })?),
    };
    let caller = caller(d.user_identity.as_ref(), d.source_ip_address.clone());
    let failed = d
        .error_code
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| FailedCall {
            code: json_path::cut(c, 80),
            message: d.error_message.as_deref().map(|m| json_path::cut(m, 300)),
        });
    let empty = Value::Object(Default::default());
    let request = d.request_parameters.clone().unwrap_or(empty);
    let target = target(
        name,
        &request,
        d.response_elements.as_ref(),
        failed.is_some(),
    )?;
    Ok(ChangeEvent {
        event_id: d.event_id.clone(),
        name,
        at,
        account,
        region,
        caller,
        target,
        failed,
        request,
    })
}

/// The handled call a record names, once its `eventSource` and `source` agree.
fn change_name(source: &str, d: &Detail) -> Result<ChangeName, EventError> {
    let name = ChangeName::parse(&d.event_source, &d.event_name).ok_or_else(|| {
        let handled: Vec<&str> = ChangeName::ALL
            .iter()
            .filter(|n| n.event_source() == d.event_source)
            .map(|n| n.as_str())
            .collect();
        if handled.is_empty() {
            EventError::new(
                "detail.eventSource",
                format!(
                    "{} is not {BACKUP_EVENT_SOURCE:?} or {KMS_EVENT_SOURCE:?}",
                    shown(&d.event_source)
                ),
            )
        } else {
            EventError::new(
                "detail.eventName",
                format!(
                    "{} is not handled (handled: {})",
                    shown(&d.event_name),
                    handled.join(", ")
                ),
            )
        }
    })?;
    if source != name.source() {
        return Err(EventError::conflict(
            "source",
            "detail.eventSource",
            format!(
                "{} does not go with eventSource {}",
                shown(source),
                d.event_source
            ),
        ));
    }
    Ok(name)
}

/// Parses an event given as JSON text.
pub fn parse_change_event_str(text: &str) -> Result<ChangeEvent, EventError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| EventError::new("$", format!("not valid JSON: {e}")))?;
    parse_change_event(&value)
}

fn caller(identity: Option<&Value>, source_ip: Option<String>) -> Caller {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let id = identity.unwrap_or(&Value::Null);
    Caller {
        actor: Actor {
            arn: s(id.get("arn")),
            invoked_by: s(id.get("invokedBy")),
        },
        identity_type: s(id.get("type")),
        role_arn: s(id.pointer("/sessionContext/sessionIssuer/arn")),
        source_ip,
    }
}

const REQ: &str = "detail.requestParameters";

/// A required string parameter, naming its path when it is missing, blank or not a string.
fn text(request: &Value, key: &str) -> Result<String, EventError> {
    let path = format!("{REQ}.{key}");
    match request.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(EventError::new(path, "empty")),
        Some(other) => Err(EventError::new(
            path,
            format!("expected a string, got {}", super::parse::json_kind(other)),
        )),
        None => Err(EventError::new(path, "missing")),
    }
}

/// An optional whole number (CloudTrail writes numbers; a numeric string is accepted too).
fn number(v: Option<&Value>, path: &str) -> Result<Option<i64>, EventError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| EventError::new(path, format!("{n} is not a whole number"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| EventError::new(path, format!("{} is not a whole number", shown(s)))),
        Some(other) => Err(EventError::new(
            path,
            format!("expected a number, got {}", super::parse::json_kind(other)),
        )),
    }
}

fn target(
    name: ChangeName,
    request: &Value,
    response: Option<&Value>,
    failed: bool,
) -> Result<ChangeTarget, EventError> {
    use ChangeName as N;
    Ok(match name {
        N::DeleteRecoveryPoint | N::DisassociateRecoveryPoint | N::UpdateRecoveryPointLifecycle => {
            let lifecycle = if name == N::UpdateRecoveryPointLifecycle {
                let l = request.get("lifecycle");
                let p = format!("{REQ}.lifecycle");
                Some(LifecycleAsked {
                    delete_after_days: number(
                        l.and_then(|l| l.get("deleteAfterDays")),
                        &format!("{p}.deleteAfterDays"),
                    )?,
                    move_to_cold_storage_after_days: number(
                        l.and_then(|l| l.get("moveToColdStorageAfterDays")),
                        &format!("{p}.moveToColdStorageAfterDays"),
                    )?,
                })
            } else {
                None
            };
            ChangeTarget::RecoveryPoint {
                vault: text(request, "backupVaultName")?,
                point_arn: text(request, "recoveryPointArn")?,
                lifecycle,
            }
        }
        N::UpdateBackupPlan | N::DeleteBackupPlan => ChangeTarget::Plan {
            plan_id: text(request, "backupPlanId")?,
            selection_id: None,
        },
        N::CreateBackupSelection => ChangeTarget::Plan {
            plan_id: text(request, "backupPlanId")?,
            selection_id: response
                .and_then(|r| r.get("selectionId"))
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        N::DeleteBackupSelection => ChangeTarget::Plan {
            plan_id: text(request, "backupPlanId")?,
            selection_id: Some(text(request, "selectionId")?),
        },
        N::PutBackupVaultAccessPolicy
        | N::DeleteBackupVaultAccessPolicy
        | N::DeleteBackupVaultLockConfiguration
        | N::DeleteBackupVault => ChangeTarget::Vault {
            vault: text(request, "backupVaultName")?,
        },
        N::StopBackupJob => ChangeTarget::BackupJob {
            job_id: text(request, "backupJobId")?,
        },
        N::ScheduleKeyDeletion | N::DisableKey | N::PutKeyPolicy => ChangeTarget::Key {
            key_id: text(request, "keyId")?,
            pending_days: number(
                request.get("pendingWindowInDays"),
                &format!("{REQ}.pendingWindowInDays"),
            )?,
            deletion_date: if failed {
                None
            } else {
                response
                    .and_then(|r| r.get("deletionDate"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(source: &str, event_source: &str, name: &str, request: Value) -> Value {
        json!({
            "version": "0", "id": "e", "detail-type": DETAIL_TYPE, "source": source,
            "account": "123456789012", "time": "2026-11-15T09:00:00Z", "region": "eu-west-1",
            "resources": [],
            "detail": {
                "eventVersion": "1.09", "eventID": "3c1c2c5e-1111-4d5e-9a1b-000000000001",
                "eventTime": "2026-11-15T09:00:00Z", "eventSource": event_source,
                "eventName": name, "awsRegion": "eu-west-1",
                "recipientAccountId": "123456789012", "sourceIPAddress": "203.0.113.5",
                "userIdentity": {"type": "AssumedRole",
                    "arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice",
                    "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/Admin"}}},
                "requestParameters": request, "responseElements": null
            }
        })
    }

    #[test]
    fn every_handled_call_parses_with_its_target_and_caller() {
        let point = "arn:aws:backup:eu-west-1:123456789012:recovery-point:AB";
        let cases = [
            (
                "DeleteRecoveryPoint",
                json!({"backupVaultName": "v", "recoveryPointArn": point}),
            ),
            (
                "UpdateRecoveryPointLifecycle",
                json!({"backupVaultName": "v", "recoveryPointArn": point, "lifecycle": {"deleteAfterDays": 35}}),
            ),
            (
                "DisassociateRecoveryPoint",
                json!({"backupVaultName": "v", "recoveryPointArn": point}),
            ),
            (
                "UpdateBackupPlan",
                json!({"backupPlanId": "p", "backupPlan": {}}),
            ),
            ("DeleteBackupPlan", json!({"backupPlanId": "p"})),
            (
                "CreateBackupSelection",
                json!({"backupPlanId": "p", "backupSelection": {}}),
            ),
            (
                "DeleteBackupSelection",
                json!({"backupPlanId": "p", "selectionId": "s"}),
            ),
            (
                "PutBackupVaultAccessPolicy",
                json!({"backupVaultName": "v", "policy": "{}"}),
            ),
            (
                "DeleteBackupVaultAccessPolicy",
                json!({"backupVaultName": "v"}),
            ),
            (
                "DeleteBackupVaultLockConfiguration",
                json!({"backupVaultName": "v"}),
            ),
            ("DeleteBackupVault", json!({"backupVaultName": "v"})),
            ("StopBackupJob", json!({"backupJobId": "j"})),
        ];
        for (name, req) in cases {
            let e = parse_change_event(&event("aws.backup", BACKUP_EVENT_SOURCE, name, req))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(e.name.as_str(), name);
            assert!(e.failed.is_none());
            assert_eq!(
                e.caller.role_arn.as_deref(),
                Some("arn:aws:iam::123456789012:role/Admin")
            );
            assert!(
                e.caller.describe().contains("alice"),
                "{}",
                e.caller.describe()
            );
        }
        for name in ["ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy"] {
            let e = parse_change_event(&event(
                KMS_SOURCE,
                KMS_EVENT_SOURCE,
                name,
                json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "pendingWindowInDays": 7}),
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(matches!(
                e.target,
                ChangeTarget::Key {
                    pending_days: Some(7),
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_lifecycle_update_carries_the_lifecycle_asked_for() {
        let e = parse_change_event(&event(
            "aws.backup",
            BACKUP_EVENT_SOURCE,
            "UpdateRecoveryPointLifecycle",
            json!({"backupVaultName": "v", "recoveryPointArn": "a",
                   "lifecycle": {"deleteAfterDays": 35, "moveToColdStorageAfterDays": "7"}}),
        ))
        .unwrap();
        let ChangeTarget::RecoveryPoint { lifecycle, .. } = e.target else {
            panic!("not a point: {:?}", e.target)
        };
        assert_eq!(
            lifecycle,
            Some(LifecycleAsked {
                delete_after_days: Some(35),
                move_to_cold_storage_after_days: Some(7)
            })
        );
    }

    #[test]
    fn a_failed_call_is_parsed_with_its_error() {
        let mut v = event(
            "aws.backup",
            BACKUP_EVENT_SOURCE,
            "DeleteRecoveryPoint",
            json!({"backupVaultName": "v", "recoveryPointArn": "a"}),
        );
        v["detail"]["errorCode"] = json!("AccessDenied");
        v["detail"]["errorMessage"] = json!("explicit deny in the vault's access policy");
        let e = parse_change_event(&v).unwrap();
        assert_eq!(
            e.failed.as_ref().map(|f| f.code.as_str()),
            Some("AccessDenied")
        );
    }

    #[test]
    fn bad_events_name_the_field() {
        let bad = |v: Value, field: &str| {
            let e = parse_change_event(&v).expect_err("must fail");
            assert!(e.names(field), "{field}: got {e}");
        };
        bad(
            event(
                "aws.backup",
                BACKUP_EVENT_SOURCE,
                "DeleteRecoveryPoint",
                json!({"backupVaultName": "v"}),
            ),
            "detail.requestParameters.recoveryPointArn",
        );
        bad(
            event(
                "aws.backup",
                BACKUP_EVENT_SOURCE,
                "StopBackupJob",
                json!({"backupJobId": 7}),
            ),
            "detail.requestParameters.backupJobId",
        );
        bad(
            event(
                "aws.backup",
                BACKUP_EVENT_SOURCE,
                "CreateBackupVault",
                json!({}),
            ),
            "detail.eventName",
        );
        bad(
            event(
                "aws.backup",
                KMS_EVENT_SOURCE,
                "DisableKey",
                json!({"keyId": "k"}),
            ),
            "source",
        );
        bad(
            event(
                "aws.kms",
                "s3.amazonaws.com",
                "DisableKey",
                json!({"keyId": "k"}),
            ),
            "detail.eventSource",
        );
        let mut v = event(
            "aws.kms",
            KMS_EVENT_SOURCE,
            "DisableKey",
            json!({"keyId": "k"}),
        );
        v["detail"]["recipientAccountId"] = json!("12");
        bad(v, "detail.recipientAccountId");
        let mut v = event(
            "aws.kms",
            KMS_EVENT_SOURCE,
            "DisableKey",
            json!({"keyId": "k"}),
        );
        v["detail"]["eventTime"] = json!("yesterday");
        bad(v, "detail.eventTime");
        let mut v = event(
            "aws.backup",
            BACKUP_EVENT_SOURCE,
            "UpdateRecoveryPointLifecycle",
            json!({"backupVaultName": "v", "recoveryPointArn": "a", "lifecycle": {"deleteAfterDays": "x"}}),
        );
        v["detail"]["eventID"] = json!("e1");
        bad(v, "detail.requestParameters.lifecycle.deleteAfterDays");
    }
}
