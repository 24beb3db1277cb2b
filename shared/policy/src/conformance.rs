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
//! A plan conforms iff at least one of its rules conforms.

use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::facts::{PlanFacts, RuleFacts};
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
        /// Expression.
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

/// A plan's conformance: per rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanConformance {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanName`.
    pub plan_name: String,
    /// Each rule, in plan order.
    pub rules: Vec<RuleConformance>,
}

impl PlanConformance {
    /// True if some rule conforms.
    pub fn conforms(&self) -> bool {
        self.rules.iter().any(RuleConformance::conforms)
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

/// A plan document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanDocumentError {
    /// Not valid JSON of the expected shape.
    #[error("plan document is not a valid AWS Backup plan JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Valid JSON, but something required is missing or out of range.
    #[error("plan document is invalid: {0}")]
    Invalid(String),
}

/// Parses a plan document in the console/CLI JSON shape: either the plan itself
/// (`{"BackupPlanName": ..., "Rules": [...]}`, as in the policy document and
/// `create-backup-plan --backup-plan`) or `get-backup-plan` output (`{"BackupPlan": {...},
/// "BackupPlanId": ..., "BackupPlanArn": ..., "VersionId": ...}`).
///
/// Unknown fields (e.g. `CopyActions`, `RecoveryPointTags`) are ignored. When the document
/// has no `BackupPlanId`, the plan name is used as the id; ARN and version are then empty.
pub fn parse_plan_document(json: &str) -> Result<PlanFacts, PlanDocumentError> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    let (plan_value, plan_id, plan_arn, version_id) = match value.get("BackupPlan") {
        Some(inner) => (
            inner.clone(),
            str_field(&value, "BackupPlanId"),
            str_field(&value, "BackupPlanArn"),
            str_field(&value, "VersionId"),
        ),
        None => (value, None, None, None),
    };
    let doc: PlanDoc = serde_json::from_value(plan_value)?;
    let name = doc.backup_plan_name.trim().to_string();
    if name.is_empty() {
        return Err(PlanDocumentError::Invalid(
            "BackupPlanName is empty".to_string(),
        ));
    }
    if doc.rules.is_empty() {
        return Err(PlanDocumentError::Invalid(format!(
            "plan {name} has no Rules"
        )));
    }
    let mut rules = Vec::with_capacity(doc.rules.len());
    for (i, r) in doc.rules.into_iter().enumerate() {
        if r.rule_name.trim().is_empty() {
            return Err(PlanDocumentError::Invalid(format!(
                "Rules[{i}].RuleName is empty"
            )));
        }
        let lifecycle = r.lifecycle.unwrap_or_default();
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

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlanDoc {
    backup_plan_name: String,
    #[serde(default)]
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
