//! Run reports: the result of one verifier (or CLI audit) run, as email-readable text and JSON.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::evaluate::{TableEvaluation, Verdict};
use crate::findings::FindingCode;

/// Something the run could not reach (an API, a vault, a region...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreachable {
    /// What (e.g. `backup:ListRecoveryPointsByBackupVault vault=Default`).
    pub what: String,
    /// Why (error code / message).
    pub reason: String,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// When the run evaluated (`now`).
    pub generated_at: Timestamp,
    /// The policy applied.
    pub policy: Policy,
    /// Every table's evaluation.
    pub tables: Vec<TableEvaluation>,
    /// Number of tables per verdict (every verdict present, zero included).
    pub verdicts: BTreeMap<Verdict, u64>,
    /// Number of findings per code (only codes that occur).
    pub findings_per_code: BTreeMap<FindingCode, u64>,
    /// AWS API calls made, by `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
    /// What could not be reached.
    pub unreachable: Vec<Unreachable>,
    /// Free-form notes.
    pub notes: Vec<String>,
}

impl RunReport {
    /// Builds a report and computes the counts.
    pub fn new(
        generated_at: Timestamp,
        policy: Policy,
        tables: Vec<TableEvaluation>,
        api_calls: BTreeMap<String, u64>,
        unreachable: Vec<Unreachable>,
        notes: Vec<String>,
    ) -> Self {
        let mut verdicts: BTreeMap<Verdict, u64> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
        let mut findings_per_code: BTreeMap<FindingCode, u64> = BTreeMap::new();
        for t in &tables {
            *verdicts.entry(t.verdict).or_insert(0) += 1;
            for f in &t.findings {
                *findings_per_code.entry(f.code).or_insert(0) += 1;
            }
        }
        RunReport {
            generated_at,
            policy,
            tables,
            verdicts,
            findings_per_code,
            api_calls,
            unreachable,
            notes,
        }
    }

    /// Total API calls.
    pub fn total_api_calls(&self) -> u64 {
        self.api_calls.values().sum()
    }

    /// True if every table is compliant, exempt or pending and nothing was unreachable.
    pub fn all_good(&self) -> bool {
        self.unreachable.is_empty()
            && self.tables.iter().all(|t| {
                matches!(
                    t.verdict,
                    Verdict::Compliant | Verdict::Exempt | Verdict::Pending
                )
            })
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Email-readable text.
    pub fn render_text(&self) -> String {
        todo!()
    }
}
