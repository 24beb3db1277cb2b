//! The parts of `evidence.json` beside the run and the hashes: the policy judged, each table
//! with its coverage, slots, points, findings and failed jobs, the plans' conformance and the
//! failed jobs of the account. Every type here is (de)serialised exactly as documented in
//! `docs/EVIDENCE.md` and `evidence.schema.json`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::Verdict;
use serde::{Deserialize, Serialize};

/// The stable verdict word of the evidence (`COMPLIANT`, `NON_COMPLIANT`, `EXEMPT`, `PENDING`,
/// `UNVERIFIABLE`), as the report's filter and the CSV use it.
pub fn verdict_code(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "COMPLIANT",
        Verdict::NonCompliant => "NON_COMPLIANT",
        Verdict::Exempt => "EXEMPT",
        Verdict::Pending => "PENDING",
        Verdict::Unverifiable => "UNVERIFIABLE",
    }
}

/// Every verdict word, in the order reports list them.
pub const VERDICT_CODES: [&str; 5] = [
    "COMPLIANT",
    "NON_COMPLIANT",
    "EXEMPT",
    "PENDING",
    "UNVERIFIABLE",
];

/// The policy the tables were judged against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEvidence {
    /// The schedule (`cron(0 0 15,25 * ? *)`).
    pub schedule_expression: String,
    /// The IANA zone the schedule is evaluated in (`UTC`).
    pub timezone: String,
    /// Start window in minutes.
    pub start_window_minutes: i64,
    /// Completion window in minutes (after the start window).
    pub completion_window_minutes: i64,
    /// Exact retention in days.
    pub retention_days: i64,
    /// Whether a transition to cold storage is allowed.
    pub cold_storage_allowed: bool,
    /// The vault conforming rules must target; `None`: any vault.
    pub vault_name: Option<String>,
    /// How the conforming selection picks tables (`all-tables`, `tagged`).
    pub selection_mode: String,
    /// `enforce` or `report-only`.
    pub mode: String,
    /// The backup tag (`key=value`).
    pub backup_tag: String,
    /// Tags every non-exempt table must carry (keys).
    pub required_tags: Vec<String>,
    /// The exemption tag (`key=value`).
    pub exempt_tag: String,
    /// The tag key holding the exemption reason.
    pub exempt_reason_tag: String,
}

/// The slots judged: every fire time of the schedule in `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Horizon {
    /// `now − retention`.
    pub from: Timestamp,
    /// `now` (the evaluation instant).
    pub to: Timestamp,
    /// The fire times in the horizon, ascending: the columns of the calendar.
    pub slots: Vec<Timestamp>,
}

/// The state of one table's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// A recovery point made by a conforming rule satisfied it.
    Satisfied,
    /// No point satisfied it and its completion deadline has passed.
    Missed,
    /// Not satisfied yet; the completion deadline is still ahead.
    Pending,
    /// The slot precedes the table's creation: no backup was owed.
    NotRequired,
    /// The table is exempt from the policy.
    Exempt,
    /// The table's recovery points (or tags) could not be read: nothing is claimed.
    Unknown,
}

impl SlotState {
    /// The word used in `evidence.json` and `slots.csv` (`not_required`).
    pub fn as_str(self) -> &'static str {
        match self {
            SlotState::Satisfied => "satisfied",
            SlotState::Missed => "missed",
            SlotState::Pending => "pending",
            SlotState::NotRequired => "not_required",
            SlotState::Exempt => "exempt",
            SlotState::Unknown => "unknown",
        }
    }

    /// The one-letter CSS class of a calendar cell.
    pub fn class(self) -> &'static str {
        match self {
            SlotState::Satisfied => "s",
            SlotState::Missed => "m",
            SlotState::Pending => "p",
            SlotState::NotRequired => "n",
            SlotState::Exempt => "e",
            SlotState::Unknown => "u",
        }
    }
}

/// The recovery point that satisfied a slot (its plan and rule ids, lifecycle and status are
/// in the table's [`PointEvidence`] of the same ARN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointRef {
    /// `RecoveryPointArn`.
    pub arn: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `CalculatedLifecycle.DeleteAt`.
    pub delete_at: Option<Timestamp>,
    /// `BackupVaultName`.
    pub vault: String,
    /// The creating plan's name (its id when the plan was not read).
    pub plan: Option<String>,
    /// The creating rule's name (its id when the plan was not read).
    pub rule: Option<String>,
}

/// A point near a missed slot that did not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMissEvidence {
    /// The point's ARN.
    pub point_arn: String,
    /// Its creation time.
    pub created: Timestamp,
    /// Why it does not satisfy the slot (a phrase: `after the start window`).
    pub why: String,
}

/// One slot of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotEvidence {
    /// The scheduled instant.
    pub at: Timestamp,
    /// Its state.
    pub status: SlotState,
    /// The latest creation time of a satisfying point (missed and pending slots only; for a
    /// satisfied slot the point's times are the evidence).
    pub start_deadline: Option<Timestamp>,
    /// The latest completion time of a satisfying point (missed and pending slots only).
    pub completion_deadline: Option<Timestamp>,
    /// The satisfying point (status `satisfied` only).
    pub point: Option<PointRef>,
    /// Codes of the findings about the satisfying point (e.g. `RETENTION_TOO_SHORT`): it
    /// satisfied the slot, but is itself outside the policy.
    pub point_findings: Vec<String>,
    /// Points near a missed slot that did not count (status `missed` only).
    pub near_misses: Vec<NearMissEvidence>,
}

/// A plan/selection/rule that protects a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverEvidence {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanName`.
    pub plan_name: String,
    /// `SelectionId`.
    pub selection_id: String,
    /// `SelectionName`.
    pub selection_name: String,
    /// The conforming rule's id (`None` for a drifted plan or a rule without id).
    pub rule_id: Option<String>,
    /// The conforming rule's name (`None` for a drifted plan).
    pub rule_name: Option<String>,
}

/// One selection that does not cover a table, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionMiss {
    /// `BackupPlanId` of the selection's plan.
    pub plan_id: String,
    /// `SelectionId`.
    pub selection_id: String,
    /// `SelectionName`.
    pub selection_name: String,
    /// Why it does not cover the table.
    pub why: String,
}

/// Whether and by what a table is protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageEvidence {
    /// `protected`, `drifted_only`, `not_covered` or `unknown`.
    pub state: String,
    /// The conforming plan/selection/rule combinations that cover it.
    pub by: Vec<CoverEvidence>,
    /// Covering selections of plans without a conforming rule.
    pub drifted: Vec<CoverEvidence>,
    /// For `not_covered`: each selection and why it does not cover the table.
    pub not_covered_by: Vec<SelectionMiss>,
    /// For `unknown`: why coverage could not be decided.
    pub unknown_reason: Option<String>,
}

/// One recovery point of a table and its retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointEvidence {
    /// `RecoveryPointArn`.
    pub arn: String,
    /// `BackupVaultName`.
    pub vault: String,
    /// `Status` (API word).
    pub status: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `Lifecycle.DeleteAfterDays` (`None`: no expiry set).
    pub delete_after_days: Option<i64>,
    /// `Lifecycle.MoveToColdStorageAfterDays`.
    pub move_to_cold_storage_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt`.
    pub delete_at: Option<Timestamp>,
    /// True for an on-demand (manual) backup (no `CreatedBy`).
    pub on_demand: bool,
    /// `CreatedBy.BackupPlanId`.
    pub plan_id: Option<String>,
    /// The plan's name, if the plan was read.
    pub plan_name: Option<String>,
    /// `CreatedBy.BackupRuleId`.
    pub rule_id: Option<String>,
    /// The rule's name, if the plan was read.
    pub rule_name: Option<String>,
    /// True if made by a conforming rule: only such points can satisfy a slot.
    pub by_conforming_rule: bool,
    /// The slots this point satisfied.
    pub satisfies: Vec<Timestamp>,
    /// Its retention, lifecycle and status problems against the policy (sentences).
    pub retention_issues: Vec<String>,
    /// Codes of the table's findings about this point.
    pub findings: Vec<String>,
}

/// The recovery points of a table, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsEvidence {
    /// `None` if every vault was read completely; otherwise why the points are unknown.
    pub unread: Option<String>,
    /// The points (empty when unread), by creation time.
    pub items: Vec<PointEvidence>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvidence {
    /// The stable id (`bg-…`), the same in every run for the same problem.
    pub id: String,
    /// The code (`MISSED_SLOT`).
    pub code: String,
    /// `info`, `warning`, `high` or `critical`.
    pub severity: String,
    /// What inside the table it is about (a slot instant, a point ARN, a plan id...).
    pub subject: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What a human must do.
    pub remedy: Option<String>,
}

/// A failed backup job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvidence {
    /// `BackupJobId`.
    pub job_id: String,
    /// The table's name (the last part of the resource ARN).
    pub table: String,
    /// `ResourceArn`.
    pub resource_arn: String,
    /// `State` (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`...).
    pub state: String,
    /// `CreationDate`.
    pub created: Timestamp,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `StatusMessage`.
    pub status_message: Option<String>,
    /// `CreatedBy.BackupPlanId` (`None`: on demand).
    pub plan_id: Option<String>,
    /// The plan's name, if the plan was read.
    pub plan_name: Option<String>,
}

/// The failed jobs of the account, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsEvidence {
    /// `None` if the jobs were read completely; otherwise why not.
    pub unread: Option<String>,
    /// The failed jobs (empty when unread), by creation time.
    pub items: Vec<JobEvidence>,
}

/// One rule of a plan and whether it conforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEvidence {
    /// `RuleId`.
    pub rule_id: Option<String>,
    /// `RuleName`.
    pub rule_name: String,
    /// True if the rule has no deviation.
    pub conforms: bool,
    /// Its deviations from the policy (sentences).
    pub deviations: Vec<String>,
}

/// One backup plan and its conformance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEvidence {
    /// `BackupPlanId`.
    pub plan_id: String,
    /// `BackupPlanName`.
    pub plan_name: String,
    /// `VersionId` of the version judged.
    pub version_id: String,
    /// True if some rule conforms (its points count for the policy).
    pub conforms: bool,
    /// Deviations of the plan as a whole (sentences).
    pub deviations: Vec<String>,
    /// Each rule.
    pub rules: Vec<RuleEvidence>,
    /// The plan's selections (`SelectionName`, by id).
    pub selections: BTreeMap<String, String>,
}

/// The account's backup plans, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlansEvidence {
    /// `None` if plans and selections were read completely; otherwise why not.
    pub unread: Option<String>,
    /// The plans (empty when unread), by name.
    pub items: Vec<PlanEvidence>,
}
