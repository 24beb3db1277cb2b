//! The result types of an evaluation: the verdict, coverage, exemption and the per-table
//! evaluation that carries them with the findings.

use serde::{Deserialize, Serialize};

use crate::conformance::PlanConformance;
use crate::facts::TableFacts;
use crate::findings::Finding;
use crate::selection::SelectionMatch;
use crate::slots::SlotResult;

/// The verdict for one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Protected, every required slot satisfied, every policy point within the policy.
    Compliant,
    /// At least one finding that breaks compliance.
    NonCompliant,
    /// Exempt (exemption tag with a non-blank reason).
    Exempt,
    /// Protected, nothing wrong, but the first required backup is still to come.
    Pending,
    /// Something needed for a verdict could not be read, and nothing known is wrong.
    Unverifiable,
}

impl Verdict {
    /// Every verdict, in declaration order (reports list all of them, zero counts included).
    pub const ALL: [Verdict; 5] = [
        Verdict::Compliant,
        Verdict::NonCompliant,
        Verdict::Exempt,
        Verdict::Pending,
        Verdict::Unverifiable,
    ];

    /// Lower-case word with dashes (`non-compliant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::NonCompliant => "non-compliant",
            Verdict::Exempt => "exempt",
            Verdict::Pending => "pending",
            Verdict::Unverifiable => "unverifiable",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plan/selection/rule combination that protects a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveringRule {
    /// `BackupPlanId` of the covering plan.
    pub plan_id: String,
    /// `BackupPlanName` of the covering plan (how people know it).
    pub plan_name: String,
    /// `SelectionId` of the covering selection.
    pub selection_id: String,
    /// `SelectionName` of the covering selection.
    pub selection_name: String,
    /// Rule id of a conforming rule.
    pub rule_id: Option<String>,
    /// Rule name of a conforming rule.
    pub rule_name: String,
}

/// A selection that covers the table but whose plan has no conforming rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftedCover {
    /// `BackupPlanId` of the non-conforming plan (the `PLAN_DRIFT` subject).
    pub plan_id: String,
    /// `BackupPlanName` of the non-conforming plan (named in the message).
    pub plan_name: String,
    /// `SelectionId` of the selection that covers the table.
    pub selection_id: String,
    /// `SelectionName` of the selection that covers the table.
    pub selection_name: String,
    /// The plan's rules and their deviations.
    pub plan: PlanConformance,
}

/// Whether and by what a table is protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "coverage")]
pub enum Coverage {
    /// Covered by at least one selection of a plan with a conforming rule.
    Protected {
        /// Every conforming (plan, selection, rule) that covers the table.
        by: Vec<CoveringRule>,
        /// Drifted plans that also cover the table (for information).
        also_drifted: Vec<DriftedCover>,
    },
    /// Covered only by selections of plans without a conforming rule.
    DriftedOnly {
        /// The covering drifted plans and their deviations.
        covers: Vec<DriftedCover>,
    },
    /// No selection covers the table.
    NotCovered {
        /// Per selection, why it does not cover the table.
        selections: Vec<SelectionMatch>,
    },
    /// Could not be decided (plans/selections/tags unreadable, or a covering selection's plan
    /// is missing).
    Unknown {
        /// Why it is unknown: the source that could not be read and its error.
        reason: String,
    },
}

/// A table's exemption state, read from its tags (see [`super::exemption`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "exemption")]
pub enum Exemption {
    /// The table does not carry the exemption tag (key and value): it is evaluated.
    NotExempt,
    /// Exemption tag and a non-blank reason.
    Exempt {
        /// The reason tag's value.
        reason: String,
    },
    /// Exemption tag without a (non-blank) reason: not exempt.
    WithoutReason,
    /// Tags could not be read.
    Unknown {
        /// Why it is unknown: the source that could not be read and its error.
        reason: String,
    },
}

/// Everything the policy concluded about one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEvaluation {
    /// The table's facts as they were evaluated.
    pub table: TableFacts,
    /// The verdict that follows from the findings.
    pub verdict: Verdict,
    /// Whether and by which plans the table is protected.
    pub coverage: Coverage,
    /// Required slots and their states (empty for [`super::evaluate_new_table`] and exempt tables).
    pub slots: Vec<SlotResult>,
    /// Findings, sorted by descending severity then code then subject.
    pub findings: Vec<Finding>,
    /// Remarks that are not findings (e.g. the plans that also cover a table).
    pub notes: Vec<String>,
}
