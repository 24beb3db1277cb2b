//! Plan conformance: does a backup plan rule implement the policy?
//!
//! A rule conforms iff [`check_rule`] returns no deviation:
//!
//! * its schedule (expression in its `ScheduleExpressionTimezone`, UTC when absent) fires at
//!   exactly the policy schedule's instants ([`crate::schedule::Schedule::equivalent`]);
//!   if the expressions are equivalent in one zone but the zones differ, the deviation is
//!   reported as a time-zone mismatch;
//! * its start window is not longer than the policy's (absent = AWS default 8 hours);
//! * its completion window is not longer than the policy's (absent = AWS default 7 days);
//! * `DeleteAfterDays` equals the policy's retention exactly (absent = kept forever);
//! * `MoveToColdStorageAfterDays` is absent (unless the policy allows cold storage);
//! * it targets the policy's vault when the policy names one.
//!
//! A plan conforms iff at least one of its rules conforms; a plan without rules
//! ([`Deviation::NoRules`]) backs nothing up and does not conform.
//!
//! A start or completion window outside AWS Backup's bounds (60 minutes to 100 years,
//! [`crate::config::WINDOW_MINUTES`]) is a deviation too: AWS would not have accepted the rule,
//! so the facts cannot be trusted to describe a working one. A plan *document* with such a
//! value is not a plan AWS would create: [`parse_plan_document`] rejects it, naming the field.

use serde::{Deserialize, Serialize};

use crate::config::{BoundsError, IntBounds, Policy, RETENTION_DAYS, WINDOW_MINUTES};
use crate::facts::{PlanFacts, RuleFacts};
use crate::json_path;
use crate::schedule::Schedule;

/// AWS's default start window when a rule omits `StartWindowMinutes` (8 hours).
pub const AWS_DEFAULT_START_WINDOW_MINUTES: i64 = 8 * 60;
/// AWS's default completion window when a rule omits `CompletionWindowMinutes` (7 days).
pub const AWS_DEFAULT_COMPLETION_WINDOW_MINUTES: i64 = 7 * 24 * 60;

/// One way a rule deviates from the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "deviation")]
pub enum Deviation {
    /// The rule has no schedule expression.
    ScheduleMissing,
    /// The rule's schedule expression or time zone could not be parsed.
    ScheduleInvalid {
        /// The rule's schedule expression as the plan states it.
        expression: String,
        /// Time zone.
        timezone: String,
        /// Parser error.
        error: String,
    },
    /// The rule fires at other instants than the policy.
    ScheduleNotEquivalent {
        /// Policy expression and zone.
        expected: String,
        /// Rule expression and zone.
        actual: String,
    },
    /// Same expression semantics, different time zone.
    TimezoneMismatch {
        /// Policy zone.
        expected: String,
        /// Rule zone.
        actual: String,
    },
    /// Start window longer than the policy's.
    StartWindowTooLong {
        /// Policy minutes.
        policy: i64,
        /// Rule minutes.
        actual: i64,
    },
    /// Start window outside AWS Backup's bounds (60 ..= 52,560,000 minutes).
    StartWindowInvalid {
        /// Rule minutes.
        actual: i64,
    },
    /// Completion window outside AWS Backup's bounds (60 ..= 52,560,000 minutes).
    CompletionWindowInvalid {
        /// Rule minutes.
        actual: i64,
    },
    /// The plan has no rules: it backs nothing up (a plan-level deviation).
    NoRules,
    /// No start window: AWS's default of 8 hours applies.
    StartWindowMissing {
        /// Policy minutes.
        policy: i64,
    },
    /// Completion window longer than the policy's.
    CompletionWindowTooLong {
        /// Policy minutes.
        policy: i64,
        /// Rule minutes.
        actual: i64,
    },
    /// No completion window: AWS's default of 7 days applies.
    CompletionWindowMissing {
        /// Policy minutes.
        policy: i64,
    },
    /// `DeleteAfterDays` shorter than the policy's retention.
    RetentionTooShort {
        /// Policy days.
        policy: i64,
        /// Rule days.
        actual: i64,
    },
    /// `DeleteAfterDays` longer than the policy's retention.
    RetentionTooLong {
        /// Policy days.
        policy: i64,
        /// Rule days.
        actual: i64,
    },
    /// No `DeleteAfterDays`: recovery points are kept forever.
    RetentionMissing {
        /// Policy days.
        policy: i64,
    },
    /// `MoveToColdStorageAfterDays` is set.
    ColdStorageSet {
        /// Rule days.
        after_days: i64,
    },
    /// The rule targets another vault than the policy names.
    VaultMismatch {
        /// Policy vault.
        expected: String,
        /// Rule vault.
        actual: String,
    },
}

impl Deviation {
    /// A short human sentence.
    pub fn describe(&self) -> String {
        match self {
            Deviation::ScheduleMissing => "the rule has no schedule expression".to_string(),
            Deviation::ScheduleInvalid {
                expression,
                timezone,
                error,
            } => format!("the rule's schedule {expression} ({timezone}) is invalid: {error}"),
            Deviation::ScheduleNotEquivalent { expected, actual } => format!(
                "the rule's schedule {actual} does not fire at the policy's instants ({expected})"
            ),
            Deviation::TimezoneMismatch { expected, actual } => format!(
                "the rule's schedule is evaluated in time zone {actual}, the policy's in {expected}"
            ),
            Deviation::StartWindowTooLong { policy, actual } => format!(
                "start window is {actual} minutes, longer than the policy's {policy} minutes"
            ),
            Deviation::StartWindowInvalid { actual } => format!(
                "start window is {actual} minutes, outside AWS Backup's bounds ({})",
                WINDOW_MINUTES.accepted()
            ),
            Deviation::CompletionWindowInvalid { actual } => format!(
                "completion window is {actual} minutes, outside AWS Backup's bounds ({})",
                WINDOW_MINUTES.accepted()
            ),
            Deviation::NoRules => "the plan has no rules, so it backs nothing up".to_string(),
            Deviation::StartWindowMissing { policy } => format!(
                "no start window: AWS's default of {AWS_DEFAULT_START_WINDOW_MINUTES} minutes exceeds the policy's {policy} minutes"
            ),
            Deviation::CompletionWindowTooLong { policy, actual } => format!(
                "completion window is {actual} minutes, longer than the policy's {policy} minutes"
            ),
            Deviation::CompletionWindowMissing { policy } => format!(
                "no completion window: AWS's default of {AWS_DEFAULT_COMPLETION_WINDOW_MINUTES} minutes exceeds the policy's {policy} minutes"
            ),
            Deviation::RetentionTooShort { policy, actual } => format!(
                "DeleteAfterDays is {actual}, shorter than the policy's {policy} days (backups deleted too early)"
            ),
            Deviation::RetentionTooLong { policy, actual } => format!(
                "DeleteAfterDays is {actual}, longer than the policy's {policy} days (backups kept too long)"
            ),
            Deviation::RetentionMissing { policy } => {
                format!("no DeleteAfterDays: backups are kept forever instead of {policy} days")
            }
            Deviation::ColdStorageSet { after_days } => format!(
                "MoveToColdStorageAfterDays is {after_days}; the policy allows no cold-storage transition"
            ),
            Deviation::VaultMismatch { expected, actual } => {
                format!("the rule targets vault {actual}, the policy requires vault {expected}")
            }
        }
    }
}

impl std::fmt::Display for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A rule and its deviations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleConformance {
    /// `RuleId`, if any.
    pub rule_id: Option<String>,
    /// `RuleName`.
    pub rule_name: String,
    /// Deviations; empty = the rule conforms.
    pub deviations: Vec<Deviation>,
}

impl RuleConformance {
    /// True if the rule has no deviation.
    pub fn conforms(&self) -> bool {
        self.deviations.is_empty()
    }
}

/// A plan's conformance: per rule, plus deviations of the plan as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanConformance {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanName`.
    pub plan_name: String,
    /// Deviations of the plan itself (not of one rule): [`Deviation::NoRules`].
    #[serde(default)]
    pub deviations: Vec<Deviation>,
    /// Each rule, in plan order.
    pub rules: Vec<RuleConformance>,
}

impl PlanConformance {
    /// True if some rule conforms (so never for a plan without rules).
    pub fn conforms(&self) -> bool {
        self.rules.iter().any(RuleConformance::conforms)
    }

    /// True if nothing deviates: no plan-level deviation, at least one rule, every rule
    /// conforms.
    pub fn clean(&self) -> bool {
        self.deviations.is_empty()
            && !self.rules.is_empty()
            && self.rules.iter().all(RuleConformance::conforms)
    }

    /// Every deviation: the plan's own, then each rule's.
    pub fn deviation_count(&self) -> usize {
        self.deviations.len() + self.rules.iter().map(|r| r.deviations.len()).sum::<usize>()
    }

    /// The conforming rules.
    pub fn conforming_rules(&self) -> impl Iterator<Item = &RuleConformance> {
        self.rules.iter().filter(|r| r.conforms())
    }
}

/// Checks one rule against the policy.
pub fn check_rule(rule: &RuleFacts, policy: &Policy) -> Vec<Deviation> {
    let mut out = Vec::new();
    if let Some(d) = check_schedule(rule, policy) {
        out.push(d);
    }

    let start = policy.start_window_minutes;
    match rule.start_window_minutes {
        Some(actual) if !WINDOW_MINUTES.contains(actual) => {
            out.push(Deviation::StartWindowInvalid { actual })
        }
        None if AWS_DEFAULT_START_WINDOW_MINUTES > start => {
            out.push(Deviation::StartWindowMissing { policy: start })
        }
        Some(actual) if actual > start => out.push(Deviation::StartWindowTooLong {
            policy: start,
            actual,
        }),
        _ => {}
    }

    let completion = policy.completion_window_minutes;
    match rule.completion_window_minutes {
        Some(actual) if !WINDOW_MINUTES.contains(actual) => {
            out.push(Deviation::CompletionWindowInvalid { actual })
        }
        None if AWS_DEFAULT_COMPLETION_WINDOW_MINUTES > completion => {
            out.push(Deviation::CompletionWindowMissing { policy: completion })
        }
        Some(actual) if actual > completion => out.push(Deviation::CompletionWindowTooLong {
            policy: completion,
            actual,
        }),
        _ => {}
    }

    let days = policy.retention_days;
    match rule.delete_after_days {
        None => out.push(Deviation::RetentionMissing { policy: days }),
        Some(actual) if actual < days => out.push(Deviation::RetentionTooShort {
            policy: days,
            actual,
        }),
        Some(actual) if actual > days => out.push(Deviation::RetentionTooLong {
            policy: days,
            actual,
        }),
        Some(_) => {}
    }

    if let Some(after_days) = rule.move_to_cold_storage_after_days
        && !policy.cold_storage_allowed
    {
        out.push(Deviation::ColdStorageSet { after_days });
    }

    if let Some(expected) = &policy.vault_name
        && &rule.target_vault != expected
    {
        out.push(Deviation::VaultMismatch {
            expected: expected.clone(),
            actual: rule.target_vault.clone(),
        });
    }
    out
}

/// The time zone a rule's schedule is evaluated in (`UTC` when absent or blank).
pub fn rule_timezone(rule: &RuleFacts) -> &str {
    match rule.schedule_timezone.as_deref().map(str::trim) {
        Some(tz) if !tz.is_empty() => tz,
        _ => "UTC",
    }
}

/// True if `expression` in `timezone` (`None`/blank = UTC) fires exactly at the policy's
/// instants; false if it does not or cannot be parsed.
pub fn schedule_matches_policy(expression: &str, timezone: Option<&str>, policy: &Policy) -> bool {
    let tz = match timezone.map(str::trim) {
        Some(tz) if !tz.is_empty() => tz,
        _ => "UTC",
    };
    Schedule::new(expression, tz).is_ok_and(|s| policy.schedule().equivalent(&s))
}

fn check_schedule(rule: &RuleFacts, policy: &Policy) -> Option<Deviation> {
    let expression = rule.schedule_expression.trim();
    if expression.is_empty() {
        return Some(Deviation::ScheduleMissing);
    }
    let tz = rule_timezone(rule);
    let schedule = match Schedule::new(expression, tz) {
        Ok(s) => s,
        Err(e) => {
            return Some(Deviation::ScheduleInvalid {
                expression: expression.to_string(),
                timezone: tz.to_string(),
                error: e.to_string(),
            });
        }
    };
    if policy.schedule().equivalent(&schedule) {
        return None;
    }
    // Would the same expression conform in the policy's zone? Then the zone is the problem.
    if tz != policy.timezone()
        && let Ok(in_policy_zone) = Schedule::new(expression, policy.timezone())
        && policy.schedule().equivalent(&in_policy_zone)
    {
        return Some(Deviation::TimezoneMismatch {
            expected: policy.timezone().to_string(),
            actual: tz.to_string(),
        });
    }
    Some(Deviation::ScheduleNotEquivalent {
        expected: format!("{} {}", policy.schedule_expression(), policy.timezone()),
        actual: format!("{expression} {tz}"),
    })
}

/// Checks every rule of a plan.
pub fn check_plan(plan: &PlanFacts, policy: &Policy) -> PlanConformance {
    PlanConformance {
        plan_id: plan.plan_id.clone(),
        plan_name: plan.name.clone(),
        deviations: if plan.rules.is_empty() {
            vec![Deviation::NoRules]
        } else {
            Vec::new()
        },
        rules: plan
            .rules
            .iter()
            .map(|r| RuleConformance {
                rule_id: r.rule_id.clone(),
                rule_name: r.name.clone(),
                deviations: check_rule(r, policy),
            })
            .collect(),
    }
}

/// A plan document that is not a plan AWS Backup would accept, naming the JSON path of the
/// offending field (`$` = the document as a whole, e.g. when it is not JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan document is invalid: {path}: {problem}")]
pub struct PlanDocumentError {
    /// JSON path, e.g. `Rules[0].StartWindowMinutes` or
    /// `BackupPlan.Rules[1].Lifecycle.DeleteAfterDays`.
    pub path: String,
    /// What is wrong with it.
    pub problem: String,
}

impl PlanDocumentError {
    fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        PlanDocumentError {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// Parses a plan document in the console/CLI JSON shape: either the plan itself
/// (`{"BackupPlanName": ..., "Rules": [...]}`, as in the policy document and
/// `create-backup-plan --backup-plan`) or `get-backup-plan` output (`{"BackupPlan": {...},
/// "BackupPlanId": ..., "BackupPlanArn": ..., "VersionId": ...}`).
///
/// Unknown fields (e.g. `CopyActions`, `RecoveryPointTags`) are ignored. When the document
/// has no `BackupPlanId`, the plan name is used as the id; ARN and version are then empty.
/// A plan with an empty `Rules` list is a valid document (AWS's model sets no minimum); it
/// does not conform ([`Deviation::NoRules`]).
///
/// Every error names the JSON path of the field: wrong types, missing required members
/// (`BackupPlanName`, `Rules`, `RuleName`, `TargetBackupVaultName`), blank names, and values
/// AWS Backup rejects: `StartWindowMinutes` / `CompletionWindowMinutes` outside
/// [`WINDOW_MINUTES`] (60 minutes to 100 years), `DeleteAfterDays` outside [`RETENTION_DAYS`]
/// (1 to 36,500 days), a negative `MoveToColdStorageAfterDays`.
pub fn parse_plan_document(json: &str) -> Result<PlanFacts, PlanDocumentError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        PlanDocumentError::new(json_path::ROOT, format!("not a valid JSON document: {e}"))
    })?;
    let bad = |(path, problem): (String, String)| PlanDocumentError::new(path, problem);
    let (doc, plan_id, plan_arn, version_id, base) = if value.get("BackupPlan").is_some() {
        let d: GetBackupPlanDoc = json_path::deserialize(&value).map_err(bad)?;
        (
            d.backup_plan,
            d.backup_plan_id,
            d.backup_plan_arn,
            d.version_id,
            "BackupPlan",
        )
    } else if value.is_object() {
        let d: PlanDoc = json_path::deserialize(&value).map_err(bad)?;
        (d, None, None, None, json_path::ROOT)
    } else {
        return Err(PlanDocumentError::new(
            json_path::ROOT,
            "expected a JSON object (a plan, or get-backup-plan output)",
        ));
    };
    let at = |child: &str| json_path::join(base, child);
    let name = doc.backup_plan_name.trim().to_string();
    if name.is_empty() {
        return Err(PlanDocumentError::new(at("BackupPlanName"), "empty"));
    }
    let mut rules = Vec::with_capacity(doc.rules.len());
    for (i, r) in doc.rules.into_iter().enumerate() {
        let rule_at = |field: &str| at(&format!("Rules[{i}].{field}"));
        if r.rule_name.trim().is_empty() {
            return Err(PlanDocumentError::new(rule_at("RuleName"), "empty"));
        }
        if r.target_backup_vault_name.trim().is_empty() {
            return Err(PlanDocumentError::new(
                rule_at("TargetBackupVaultName"),
                "empty",
            ));
        }
        let in_bounds = |field: &str, v: Option<i64>, bounds: IntBounds| match v {
            Some(n) => bounds.check(n).map(|_| ()).map_err(|e: BoundsError| {
                PlanDocumentError::new(
                    rule_at(field),
                    format!("{n} is {e} (AWS Backup rejects the rule otherwise)"),
                )
            }),
            None => Ok(()),
        };
        in_bounds("StartWindowMinutes", r.start_window_minutes, WINDOW_MINUTES)?;
        in_bounds(
            "CompletionWindowMinutes",
            r.completion_window_minutes,
            WINDOW_MINUTES,
        )?;
        let lifecycle = r.lifecycle.unwrap_or_default();
        in_bounds(
            "Lifecycle.DeleteAfterDays",
            lifecycle.delete_after_days,
            RETENTION_DAYS,
        )?;
        if let Some(n) = lifecycle.move_to_cold_storage_after_days
            && n < 0
        {
            return Err(PlanDocumentError::new(
                rule_at("Lifecycle.MoveToColdStorageAfterDays"),
                format!("{n} is negative; accepted: a number of days, 0 or more"),
            ));
        }
        rules.push(RuleFacts {
            rule_id: r.rule_id,
            name: r.rule_name,
            target_vault: r.target_backup_vault_name,
            schedule_expression: r.schedule_expression.unwrap_or_default(),
            schedule_timezone: r.schedule_expression_timezone,
            start_window_minutes: r.start_window_minutes,
            completion_window_minutes: r.completion_window_minutes,
            delete_after_days: lifecycle.delete_after_days,
            move_to_cold_storage_after_days: lifecycle.move_to_cold_storage_after_days,
        });
    }
    Ok(PlanFacts {
        plan_id: plan_id.unwrap_or_else(|| name.clone()),
        plan_arn: plan_arn.unwrap_or_default(),
        name,
        version_id: version_id.unwrap_or_default(),
        rules,
    })
}

/// `get-backup-plan` output.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetBackupPlanDoc {
    backup_plan: PlanDoc,
    #[serde(default)]
    backup_plan_id: Option<String>,
    #[serde(default)]
    backup_plan_arn: Option<String>,
    #[serde(default)]
    version_id: Option<String>,
}

/// The plan (`BackupPlanInput`); `Rules` is required by AWS's model, without a minimum.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlanDoc {
    backup_plan_name: String,
    rules: Vec<RuleDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleDoc {
    rule_name: String,
    #[serde(default)]
    rule_id: Option<String>,
    target_backup_vault_name: String,
    #[serde(default)]
    schedule_expression: Option<String>,
    #[serde(default)]
    schedule_expression_timezone: Option<String>,
    #[serde(default)]
    start_window_minutes: Option<i64>,
    #[serde(default)]
    completion_window_minutes: Option<i64>,
    #[serde(default)]
    lifecycle: Option<LifecycleDoc>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct LifecycleDoc {
    #[serde(default)]
    delete_after_days: Option<i64>,
    #[serde(default)]
    move_to_cold_storage_after_days: Option<i64>,
}

/// Parses a plan document ([`parse_plan_document`]) and checks it ([`check_plan`]).
pub fn check_plan_document(
    json: &str,
    policy: &Policy,
) -> Result<PlanConformance, PlanDocumentError> {
    Ok(check_plan(&parse_plan_document(json)?, policy))
}
