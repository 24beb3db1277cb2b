//! Judging a change someone made to the backup setup (the table guard's tampering and drift
//! alerts): what a removed recovery point meant for the slots it satisfied, what a new
//! lifecycle means for a point's retention, which tables a plan or selection change leaves
//! unprotected, and whether a KMS key policy still lets AWS Backup use the vault's key. Pure;
//! the same rules as the nightly evaluation ([`crate::slots`], [`crate::retention`],
//! [`crate::evaluate`]).
//!
//! **A removed point** (deleted or disassociated) is judged by the slots it satisfied: the
//! table's required slots are classified with and without it. A slot it satisfied that no
//! other point satisfies is lost (`MISSED_SLOT`, severity **critical**: the data of that slot
//! is gone for good); a slot another point still satisfies is covered by that sibling
//! (severity **warning**, saying which point). A point that satisfied no required slot (on
//! demand, outside the horizon, not by a conforming rule) costs no slot (**info**). When the
//! removed point's facts could not be read (AWS had already forgotten it), the slots are
//! classified without it: every required slot whose window has closed without a point is
//! critical (the removed point may have been its only one), and if none is, the verdict is a
//! warning saying which slot it was cannot be told.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Policy;
use crate::conformance::PlanConformance;
use crate::evaluate::{Evaluator, made_by_conforming_rule};
use crate::facts::{BackupSetup, RecoveryPointFacts, TableFacts};
use crate::findings::{Finding, FindingCode, Severity};
use crate::retention::check_point;
use crate::slots::{Slot, SlotStatus, classify_slots, required_slots, why_not_satisfying};
use crate::vault::iam_match;

/// What removing a point did to one slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "loss")]
pub enum SlotLoss {
    /// The removed point was the slot's only satisfying point: the slot is lost.
    OnlyPoint,
    /// Another point still satisfies the slot.
    CoveredBySibling {
        /// The sibling.
        point_arn: String,
    },
    /// The removed point is unknown; this slot has no satisfying point now and its window has
    /// closed (the removed point may have been its only one).
    MissedNow,
}

/// One slot touched by a removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotImpact {
    /// The slot.
    pub slot: Slot,
    /// What the removal did to it.
    pub loss: SlotLoss,
}

/// The verdict on a removed recovery point of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointRemovalVerdict {
    /// The slots the point satisfied (or, when it is unknown, the slots missed now).
    pub slots: Vec<SlotImpact>,
    /// `critical` if a slot is lost, `warning` if siblings cover every slot it satisfied (or
    /// which slot it satisfied cannot be told), `info` if it satisfied none.
    pub severity: Severity,
    /// `MISSED_SLOT` (critical) per lost slot.
    pub findings: Vec<Finding>,
    /// One sentence: what the removal means for the table.
    pub summary: String,
}

/// The inputs of [`judge_point_removal`].
#[derive(Debug, Clone, Copy)]
pub struct PointRemoval<'a> {
    /// The table the point belonged to.
    pub table: &'a TableFacts,
    /// The removed point's ARN.
    pub point_arn: &'a str,
    /// Its facts, if they could still be read (`DescribeRecoveryPoint` before AWS forgot it).
    pub removed: Option<&'a RecoveryPointFacts>,
    /// The table's points now (the removed one, if still listed, is left out).
    pub remaining: &'a [RecoveryPointFacts],
    /// The account's plans and selections (which rules' points count).
    pub setup: &'a BackupSetup,
}

/// Judges a removed point (see the module docs).
pub fn judge_point_removal(
    r: PointRemoval<'_>,
    policy: &Policy,
    now: Timestamp,
) -> PointRemovalVerdict {
    let table = r.table;
    let conformance: BTreeMap<String, PlanConformance> =
        Evaluator::new(r.setup, policy).conformance().clone();
    let counts = |p: &RecoveryPointFacts| made_by_conforming_rule(p, &conformance, policy);
    let slots = required_slots(
        policy.schedule(),
        policy.start_window(),
        policy.completion_window(),
        policy.retention(),
        table.created,
        now,
    );
    let remaining: Vec<RecoveryPointFacts> = r
        .remaining
        .iter()
        .filter(|p| p.arn != r.point_arn && p.resource_arn == table.arn)
        .cloned()
        .collect();
    let after = classify_slots(&slots, &table.arn, &remaining, &counts, now);
    let mut impacts = Vec::new();
    let mut findings = Vec::new();
    match r.removed {
        Some(point) => {
            for res in &after {
                if why_not_satisfying(&res.slot, point, &counts).is_some() {
                    continue;
                }
                let loss = match &res.status {
                    SlotStatus::Satisfied { point_arn } => SlotLoss::CoveredBySibling {
                        point_arn: point_arn.clone(),
                    },
                    SlotStatus::Pending | SlotStatus::Missed { .. } => SlotLoss::OnlyPoint,
                };
                if loss == SlotLoss::OnlyPoint {
                    findings.push(lost_slot(table, &res.slot, r.point_arn, true));
                }
                impacts.push(SlotImpact {
                    slot: res.slot,
                    loss,
                });
            }
        }
        None => {
            for res in &after {
                if matches!(res.status, SlotStatus::Missed { .. }) {
                    findings.push(lost_slot(table, &res.slot, r.point_arn, false));
                    impacts.push(SlotImpact {
                        slot: res.slot,
                        loss: SlotLoss::MissedNow,
                    });
                }
            }
        }
    }
    let slot_list = |want: &dyn Fn(&SlotLoss) -> bool| {
        impacts
            .iter()
            .filter(|i| want(&i.loss))
            .map(|i| i.slot.at.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (severity, summary) = if !findings.is_empty() {
        let lost = slot_list(&|l| !matches!(l, SlotLoss::CoveredBySibling { .. }));
        let s = if r.removed.is_some() {
            format!(
                "It was the only recovery point of slot {lost} of table {}: that slot has no backup any more.",
                table.name
            )
        } else {
            format!(
                "Slot {lost} of table {} has no recovery point now; the removed point (no longer readable) may have been its only one.",
                table.name
            )
        };
        (Severity::Critical, s)
    } else if let Some(first) = impacts.first() {
        let sibling = match &first.loss {
            SlotLoss::CoveredBySibling { point_arn } => point_arn.clone(),
            _ => String::new(),
        };
        (
            Severity::Warning,
            format!(
                "It satisfied slot {} of table {}, which sibling point {sibling} still satisfies: no slot was lost.",
                slot_list(&|_| true),
                table.name
            ),
        )
    } else if r.removed.is_none() {
        (
            Severity::Warning,
            format!(
                "Every closed slot of table {} still has a recovery point; which slot the removed point satisfied cannot be told (AWS no longer describes it).",
                table.name
            ),
        )
    } else {
        (
            Severity::Info,
            format!(
                "It satisfied no required slot of table {} (on demand, outside the retention horizon, or not made by a conforming rule): no slot was lost.",
                table.name
            ),
        )
    };
    PointRemovalVerdict {
        slots: impacts,
        severity,
        findings,
        summary,
    }
}

fn lost_slot(table: &TableFacts, slot: &Slot, point_arn: &str, known: bool) -> Finding {
    let message = if known {
        format!(
            "Slot {} of table {}: its only satisfying recovery point {point_arn} was removed; the slot has no backup any more.",
            slot.at, table.name
        )
    } else {
        format!(
            "Slot {} of table {} has no satisfying recovery point now; the removed point {point_arn} may have been its only one.",
            slot.at, table.name
        )
    };
    let mut f = Finding::new(
        FindingCode::MissedSlot,
        &table.arn,
        &table.name,
        Some(slot.at.to_string()),
        message,
        Some(
            "The data of this slot cannot be brought back. Record the gap for the audit, find out who removed the point and why, and stop it happening again: a Vault Lock (MinRetentionDays = the retention) and a vault access policy denying backup:DeleteRecoveryPoint to every principal."
                .to_string(),
        ),
    );
    f.severity = Severity::Critical;
    f
}

/// The retention findings of a point after its lifecycle changed (`RETENTION_TOO_SHORT`,
/// `RETENTION_TOO_LONG`, `COLD_STORAGE_DRIFT`, each at its code's severity); empty if it
/// still conforms. Points made on demand are judged the same: the call made them deviate.
pub fn lifecycle_findings(
    table: &TableFacts,
    point: &RecoveryPointFacts,
    policy: &Policy,
) -> Vec<Finding> {
    // One finding per code (DeleteAfterDays and DeleteAt may both say "too short").
    let mut by_code: BTreeMap<FindingCode, Vec<String>> = BTreeMap::new();
    for issue in check_point(point, policy) {
        if matches!(issue, crate::retention::RetentionIssue::BadStatus { .. }) {
            continue;
        }
        by_code
            .entry(crate::evaluate::issue_code(&issue))
            .or_default()
            .push(issue.describe());
    }
    let remedy = format!(
        "Set the point's lifecycle back to the policy's: DeleteAfterDays {}{}.",
        policy.retention_days,
        if policy.cold_storage_allowed {
            ""
        } else {
            ", no cold-storage transition"
        }
    );
    by_code
        .into_iter()
        .map(|(code, what)| {
            Finding::new(
                code,
                &table.arn,
                &table.name,
                Some(point.arn.clone()),
                format!(
                    "Recovery point {} of table {}: {}.",
                    point.arn,
                    table.name,
                    what.join("; ")
                ),
                Some(remedy.clone()),
            )
        })
        .collect()
}

/// A table whose protection a plan or selection change took away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageLoss {
    /// The table.
    pub table_arn: String,
    /// Its name.
    pub table_name: String,
    /// Its coverage before, in words (`None`: the setup before is not known).
    pub before: Option<String>,
    /// Its coverage now, in words.
    pub after: String,
    /// `NOT_COVERED` (critical), `PLAN_DRIFT` (high) or `UNVERIFIABLE`.
    pub finding: Finding,
}

/// Tables not protected under `after` (and, when `before` is known, protected under it),
/// with the coverage finding of each, by [`Evaluator::evaluate_new_table`] (exempt tables are
/// not listed).
pub fn coverage_losses(
    tables: &[TableFacts],
    before: Option<&BackupSetup>,
    after: &BackupSetup,
    policy: &Policy,
) -> Vec<CoverageLoss> {
    let now_ev = Evaluator::new(after, policy);
    let then_ev = before.map(|b| Evaluator::new(b, policy));
    let wanted = |c: FindingCode| {
        matches!(
            c,
            FindingCode::NotCovered | FindingCode::PlanDrift | FindingCode::Unverifiable
        )
    };
    let mut out = Vec::new();
    for t in tables {
        let now = now_ev.evaluate_new_table(t);
        let Some(finding) = now.findings.iter().find(|f| wanted(f.code)).cloned() else {
            continue;
        };
        let then = then_ev.as_ref().map(|e| e.evaluate_new_table(t));
        if let Some(then) = &then
            && then.findings.iter().any(|f| wanted(f.code))
        {
            continue; // it was not protected before either: not this change's doing
        }
        out.push(CoverageLoss {
            table_arn: t.arn.clone(),
            table_name: t.name.clone(),
            before: then.map(|e| coverage_words(&e.coverage)),
            after: coverage_words(&now.coverage),
            finding,
        });
    }
    out
}

/// A coverage in a few words.
pub fn coverage_words(c: &crate::evaluate::Coverage) -> String {
    use crate::evaluate::Coverage as C;
    match c {
        C::Protected { by, .. } => match by.first() {
            Some(r) => format!(
                "protected by plan {}, selection {}, rule {}",
                r.plan_name, r.selection_name, r.rule_name
            ),
            None => "protected".to_string(),
        },
        C::DriftedOnly { covers } => format!(
            "covered only by drifted plan(s) {}",
            covers
                .iter()
                .map(|d| d.plan_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        C::NotCovered { .. } => "covered by no backup selection".to_string(),
        C::Unknown { reason } => format!("unknown ({reason})"),
    }
}

/// The KMS actions AWS Backup needs on a vault's key to write and restore its points.
pub const BACKUP_KEY_ACTIONS: [&str; 4] = [
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:CreateGrant",
    "kms:DescribeKey",
];

/// What in a KMS key policy keeps AWS Backup from using the key, in sentences (empty: nothing
/// found). Two things are looked for: an unconditional `Deny` of one of
/// [`BACKUP_KEY_ACTIONS`] to every principal (`"*"` / `{"AWS": "*"}`), and the loss of the
/// statement that lets the account's IAM policies grant use of the key (an `Allow` of
/// `kms:*` to the account root, `arn:<p>:iam::<account>:root` or the bare account id) when no
/// statement allows those actions to `backup.amazonaws.com` or to a role of the account whose
/// name says it is AWS Backup's (`…:role/…backup…`, as `AWSBackupDefaultServiceRole`)
/// instead: a key only an administrator role may use locks AWS Backup out. `Err` if the document is not a policy.
pub fn key_policy_problems(document: &str, account: &str) -> Result<Vec<String>, String> {
    let doc: Value =
        serde_json::from_str(document).map_err(|e| format!("the key policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(s)) => s.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err("the key policy has no Statement".to_string()),
    };
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let principals = |st: &Value| -> Vec<String> {
        match st.get("Principal") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Object(m)) => m.values().flat_map(|v| list(Some(v))).collect(),
            _ => Vec::new(),
        }
    };
    let is_root = |p: &str| {
        p == account || (p.starts_with("arn:") && p.ends_with(&format!(":iam::{account}:root")))
    };
    let mut problems = Vec::new();
    let mut root_allowed = false;
    let mut backup_allowed = false;
    for st in &statements {
        let effect = st.get("Effect").and_then(Value::as_str).unwrap_or("");
        let actions = list(st.get("Action"));
        let who = principals(st);
        let covers = |wanted: &str| actions.iter().any(|a| iam_match(a, wanted, true));
        if effect == "Deny" && st.get("Condition").is_none() && who.iter().any(|p| p == "*") {
            let denied: Vec<&str> = BACKUP_KEY_ACTIONS
                .iter()
                .copied()
                .filter(|a| covers(a))
                .collect();
            if !denied.is_empty() {
                problems.push(format!(
                    "a statement denies {} to every principal, AWS Backup included",
                    denied.join(", ")
                ));
            }
        }
        if effect == "Allow" {
            if who.iter().any(|p| is_root(p))
                && covers("kms:*")
                && actions.iter().any(|a| a == "kms:*" || a == "*")
            {
                root_allowed = true;
            }
            // AWS Backup itself, or a role of the account named for it (AWS's default
            // `AWSBackupDefaultServiceRole`, the stack's backup role).
            let role_prefix = format!(":iam::{account}:role/");
            let to_backup = who.iter().any(|p| {
                p == "backup.amazonaws.com"
                    || p.split_once(&role_prefix)
                        .is_some_and(|(_, r)| r.to_ascii_lowercase().contains("backup"))
            });
            if to_backup && BACKUP_KEY_ACTIONS.iter().all(|a| covers(a)) {
                backup_allowed = true;
            }
        }
    }
    if !root_allowed && !backup_allowed {
        problems.push(format!(
            "no statement lets the account's IAM policies grant use of the key (Allow kms:* to arn:aws:iam::{account}:root), and none allows {} to AWS Backup or a role of the account",
            BACKUP_KEY_ACTIONS.join(", ")
        ));
    }
    Ok(problems)
}

/// The policy's backup rule as the AWS CLI takes it (`--backup-plan` of
/// `create-backup-plan` / `update-backup-plan`), targeting `vault`: the exact values the
/// policy checks.
pub fn policy_plan_json(policy: &Policy, plan_name: &str, vault: &str) -> String {
    let mut lifecycle = serde_json::json!({"DeleteAfterDays": policy.retention_days});
    if let Some(m) = lifecycle.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    serde_json::json!({
        "BackupPlanName": plan_name,
        "Rules": [{
            "RuleName": "policy",
            "TargetBackupVaultName": vault,
            "ScheduleExpression": policy.schedule_expression(),
            "ScheduleExpressionTimezone": policy.timezone(),
            "StartWindowMinutes": policy.start_window().as_mins(),
            "CompletionWindowMinutes": policy.completion_window().as_mins(),
            "Lifecycle": lifecycle,
        }]
    })
    .to_string()
}

/// A vault access policy that denies [`crate::vault::DELETION_ACTIONS`] to every principal on
/// every point (what `VAULT_DELETION_NOT_DENIED` asks for), as the AWS CLI takes it.
pub fn deny_deletion_policy_json() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyRecoveryPointDeletion",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": crate::vault::DELETION_ACTIONS,
            "Resource": "*"
        }]
    })
    .to_string()
}

/// A shell-quoted argument (single quotes; a quote inside is closed, escaped and reopened).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{CreatedBy, Fact, PlanFacts, PointStatus, RuleFacts};
    use std::sync::Arc;

    const TABLE: &str = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";

    fn table() -> TableFacts {
        TableFacts {
            arn: TABLE.to_string(),
            name: "orders".to_string(),
            account: "123456789012".to_string(),
            region: "eu-west-1".to_string(),
            created: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            tags: Fact::Known(Default::default()),
        }
    }

    fn setup() -> BackupSetup {
        BackupSetup {
            plans: Fact::Known(vec![PlanFacts {
                plan_id: "p".into(),
                plan_arn: String::new(),
                name: "plan".into(),
                version_id: "v".into(),
                rules: vec![RuleFacts {
                    rule_id: Some("r".into()),
                    name: "rule".into(),
                    target_vault: "vault".into(),
                    schedule_expression: "cron(0 0 15,25 * ? *)".into(),
                    schedule_timezone: None,
                    start_window_minutes: Some(60),
                    completion_window_minutes: Some(180),
                    delete_after_days: Some(90),
                    move_to_cold_storage_after_days: None,
                }],
            }]),
            selections: Fact::Known(vec![]),
        }
    }

    fn point(arn: &str, created: &str) -> RecoveryPointFacts {
        let c: Timestamp = created.parse().unwrap();
        RecoveryPointFacts {
            arn: arn.into(),
            resource_arn: TABLE.into(),
            vault_name: "vault".into(),
            status: PointStatus::Available,
            created: c,
            completed: Some(c + jiff::SignedDuration::from_mins(20)),
            delete_after_days: Some(90),
            move_to_cold_storage_after_days: None,
            delete_at: Some(c + jiff::SignedDuration::from_hours(90 * 24)),
            created_by: Some(Arc::new(CreatedBy {
                plan_id: "p".into(),
                plan_arn: None,
                plan_version: None,
                rule_id: Some("r".into()),
                rule_cron: None,
                rule_timezone: None,
            })),
            is_encrypted: Some(true),
            encryption_key_arn: None,
        }
    }

    fn judge(
        removed: Option<&RecoveryPointFacts>,
        remaining: &[RecoveryPointFacts],
    ) -> PointRemovalVerdict {
        let t = table();
        let s = setup();
        judge_point_removal(
            PointRemoval {
                table: &t,
                point_arn: "gone",
                removed,
                remaining,
                setup: &s,
            },
            &Policy::default(),
            "2026-11-20T00:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn the_only_point_of_a_slot_is_critical_for_that_slot() {
        let gone = point("gone", "2026-11-15T00:05:00Z");
        let v = judge(Some(&gone), &[point("other", "2026-10-25T00:05:00Z")]);
        assert_eq!(v.severity, Severity::Critical);
        assert_eq!(v.slots.len(), 1);
        assert_eq!(v.slots[0].loss, SlotLoss::OnlyPoint);
        assert_eq!(v.slots[0].slot.at.to_string(), "2026-11-15T00:00:00Z");
        assert_eq!(v.findings.len(), 1);
        assert_eq!(v.findings[0].code, FindingCode::MissedSlot);
        assert_eq!(v.findings[0].severity, Severity::Critical);
        assert!(v.summary.contains("only recovery point"), "{}", v.summary);
    }

    #[test]
    fn a_sibling_covering_the_slot_lowers_the_severity_and_is_named() {
        let gone = point("gone", "2026-11-15T00:05:00Z");
        let v = judge(Some(&gone), &[point("sibling", "2026-11-15T00:30:00Z")]);
        assert_eq!(v.severity, Severity::Warning);
        assert!(v.findings.is_empty());
        assert_eq!(
            v.slots[0].loss,
            SlotLoss::CoveredBySibling {
                point_arn: "sibling".into()
            }
        );
        assert!(v.summary.contains("sibling point sibling"), "{}", v.summary);
    }

    #[test]
    fn an_on_demand_point_costs_no_slot_and_an_unknown_one_is_judged_by_the_gaps() {
        let mut gone = point("gone", "2026-11-15T00:05:00Z");
        gone.created_by = None;
        let v = judge(Some(&gone), &[]);
        assert_eq!(v.severity, Severity::Info);
        assert!(v.slots.is_empty());
        // Unknown point, every closed slot still has its point → warning.
        let all: Vec<RecoveryPointFacts> = [
            "2026-08-25",
            "2026-09-15",
            "2026-09-25",
            "2026-10-15",
            "2026-10-25",
            "2026-11-15",
        ]
        .iter()
        .map(|d| point(d, &format!("{d}T00:05:00Z")))
        .collect();
        let v = judge(None, &all);
        assert_eq!(v.severity, Severity::Warning, "{v:?}");
        // Unknown point, one closed slot empty → critical for that slot.
        let v = judge(None, &all[..5]);
        assert_eq!(v.severity, Severity::Critical);
        assert_eq!(v.slots.len(), 1);
        assert_eq!(v.slots[0].loss, SlotLoss::MissedNow);
    }

    #[test]
    fn a_shortened_lifecycle_is_retention_too_short() {
        let mut p = point("p", "2026-11-15T00:05:00Z");
        assert!(lifecycle_findings(&table(), &p, &Policy::default()).is_empty());
        p.delete_after_days = Some(35);
        p.delete_at = Some(p.created + jiff::SignedDuration::from_hours(35 * 24));
        let f = lifecycle_findings(&table(), &p, &Policy::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, FindingCode::RetentionTooShort);
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn key_policies_that_lock_backup_out_are_found() {
        let default = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;
        assert_eq!(
            key_policy_problems(default, "123456789012").unwrap(),
            Vec::<String>::new()
        );
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":["kms:Decrypt"],"Resource":"*"}]}"#;
        let p = key_policy_problems(deny, "123456789012").unwrap();
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("kms:Decrypt"), "{p:?}");
        let locked_out = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let admins_only = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Operator"},"Action":"kms:*","Resource":"*"}]}"#;
        assert_eq!(
            key_policy_problems(admins_only, "123456789012")
                .unwrap()
                .len(),
            1
        );
        let backup_role = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"},"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"}]}"#;
        assert!(
            key_policy_problems(backup_role, "123456789012")
                .unwrap()
                .is_empty()
        );
        let p = key_policy_problems(locked_out, "123456789012").unwrap();
        assert!(p[0].contains("IAM policies"), "{p:?}");
        let conditioned = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"false"}}}]}"#;
        assert!(
            key_policy_problems(conditioned, "123456789012")
                .unwrap()
                .is_empty()
        );
        assert!(key_policy_problems("nope", "1").is_err());
    }

    #[test]
    fn the_way_back_documents_are_what_aws_takes() {
        let plan: Value =
            serde_json::from_str(&policy_plan_json(&Policy::default(), "p", "v")).unwrap();
        assert_eq!(
            plan["Rules"][0]["ScheduleExpression"],
            "cron(0 0 15,25 * ? *)"
        );
        assert_eq!(plan["Rules"][0]["StartWindowMinutes"], 60);
        assert_eq!(plan["Rules"][0]["CompletionWindowMinutes"], 180);
        assert_eq!(plan["Rules"][0]["Lifecycle"]["DeleteAfterDays"], 90);
        let deny = deny_deletion_policy_json();
        assert_eq!(
            crate::vault::denied_deletion_actions(&deny, None)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
