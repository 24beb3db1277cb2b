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
        todo!()
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
    let _ = (rule, policy);
    todo!()
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
pub fn parse_plan_document(json: &str) -> Result<PlanFacts, PlanDocumentError> {
    let _ = json;
    todo!()
}

/// Parses a plan document ([`parse_plan_document`]) and checks it ([`check_plan`]).
pub fn check_plan_document(
    json: &str,
    policy: &Policy,
) -> Result<PlanConformance, PlanDocumentError> {
    Ok(check_plan(&parse_plan_document(json)?, policy))
}
