//! Run reports: the result of one verifier (or CLI audit) run, as email-readable text and JSON.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::evaluate::{Exemption, TableEvaluation, Verdict, exemption};
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
    /// The policy the tables were evaluated against.
    pub policy: Policy,
    /// Every table's evaluation, verdict and findings.
    pub tables: Vec<TableEvaluation>,
    /// Number of tables per verdict (every verdict present, zero included).
    pub verdicts: BTreeMap<Verdict, u64>,
    /// Number of findings per code (only codes that occur).
    pub findings_per_code: BTreeMap<FindingCode, u64>,
    /// AWS API calls made, by `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
    /// What could not be reached.
    pub unreachable: Vec<Unreachable>,
    /// Remarks about the run as a whole that are not findings.
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

    /// The AWS API calls of the run, all operations summed.
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

    /// The report as pretty-printed JSON (the machine-readable digest).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Email-readable text: a summary (policy, counts, API calls, unreachable), then every
    /// table that is not compliant with its findings (most severe first), then the compliant,
    /// pending and exempt tables by name.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let p = &self.policy;
        let _ = writeln!(out, "backup-guard report, {}", self.generated_at);
        let _ = writeln!(
            out,
            "Policy: {} ({}), start window {} min, completion window {} min, retention exactly {} days, cold storage {}, vault {}, selection {}, mode {}.",
            p.schedule_expression(),
            p.timezone(),
            p.start_window_minutes,
            p.completion_window_minutes,
            p.retention_days,
            if p.cold_storage_allowed {
                "allowed"
            } else {
                "not allowed"
            },
            p.vault_name.as_deref().unwrap_or("any"),
            p.selection_mode.as_str(),
            p.mode.as_str()
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "Tables: {}", self.tables.len());
        for (v, n) in &self.verdicts {
            let _ = writeln!(out, "  {:<14} {n}", v.as_str());
        }
        if !self.findings_per_code.is_empty() {
            let _ = writeln!(out, "Findings:");
            for (c, n) in &self.findings_per_code {
                let _ = writeln!(out, "  {:<22} {n}", c.as_str());
            }
        }
        if !self.api_calls.is_empty() {
            let _ = writeln!(out, "AWS API calls: {}", self.total_api_calls());
            for (op, n) in &self.api_calls {
                let _ = writeln!(out, "  {op:<48} {n}");
            }
        }
        if !self.unreachable.is_empty() {
            let _ = writeln!(out, "Could not be read:");
            for u in &self.unreachable {
                let _ = writeln!(out, "  {}: {}", u.what, u.reason);
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "Note: {n}");
        }

        let mut attention: Vec<&TableEvaluation> = self
            .tables
            .iter()
            .filter(|t| matches!(t.verdict, Verdict::NonCompliant | Verdict::Unverifiable))
            .collect();
        attention.sort_by(|a, b| {
            let sa = a.findings.iter().map(|f| f.severity).max();
            let sb = b.findings.iter().map(|f| f.severity).max();
            sb.cmp(&sa).then(a.table.name.cmp(&b.table.name))
        });
        if !attention.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "NEEDS ATTENTION");
            for t in attention {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "{} [{}] {}",
                    t.table.name,
                    t.verdict.as_str().to_uppercase(),
                    t.table.arn
                );
                for f in &t.findings {
                    let _ = writeln!(
                        out,
                        "  - {} ({}, {}): {}",
                        f.code, f.severity, f.id, f.message
                    );
                    if let Some(r) = &f.remedy {
                        let _ = writeln!(out, "    Fix: {r}");
                    }
                }
                for n in &t.notes {
                    let _ = writeln!(out, "  note: {n}");
                }
            }
        }
        for verdict in [Verdict::Pending, Verdict::Exempt, Verdict::Compliant] {
            let mut names: Vec<String> = self
                .tables
                .iter()
                .filter(|t| t.verdict == verdict)
                .map(|t| match exemption(&t.table, &self.policy) {
                    Exemption::Exempt { reason } if verdict == Verdict::Exempt => {
                        format!("{} ({reason})", t.table.name)
                    }
                    _ => t.table.name.clone(),
                })
                .collect();
            if names.is_empty() {
                continue;
            }
            names.sort_unstable();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{} ({}): {}",
                verdict.as_str().to_uppercase(),
                names.len(),
                names.join(", ")
            );
        }
        out
    }
}
