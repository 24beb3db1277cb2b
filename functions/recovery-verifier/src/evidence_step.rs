//! The run's evidence step: every region's bundle ([`crate::bundle::bundle_for_region`])
//! written to the evidence bucket (`awsio::evidence_store`), after the verification and the
//! comparison with the previous run, before the digest, which names where each went
//! ([`EvidenceStatus`]). A write that fails is a finding of the digest and the
//! `EvidenceNotWritten` metric, never silence; it changes no table's verdict.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use awsio::AwsContext;
use awsio::evidence_store::{self, RunLocation, RunSummary};
use awsio::finding_state::FindingDiff;
use jiff::Timestamp;
use policy::Verdict;
use serde::Serialize;

use crate::bundle::{GENERATOR, bundle_for_region};
use crate::verify::RegionReport;

/// What became of one region's evidence this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// No evidence bucket is configured (`BG_EVIDENCE_BUCKET` unset): nothing written.
    NotConfigured,
    /// A dry run writes nothing.
    DryRun,
    /// Written: the run's location (`s3://bucket/prefix`).
    Written {
        /// `s3://bucket/evidence/<account>/<region>/<YYYY>/<MM>/<DD>/<run-id>/`.
        location: String,
    },
    /// Not written, and why (the failed operation and its AWS error code, or the bundle
    /// error).
    NotWritten {
        /// Where it was to go, when known.
        location: Option<String>,
        /// Why not.
        error: String,
    },
}

impl EvidenceStatus {
    /// True if the write was attempted and failed.
    pub fn failed(&self) -> bool {
        matches!(self, EvidenceStatus::NotWritten { .. })
    }

    /// One line for the digest.
    pub fn line(&self, region: &str) -> String {
        match self {
            EvidenceStatus::NotConfigured => format!(
                "Evidence {region}: not stored (no evidence bucket configured, BG_EVIDENCE_BUCKET)"
            ),
            EvidenceStatus::DryRun => format!("Evidence {region}: not stored (dry run)"),
            EvidenceStatus::Written { location } => format!("Evidence {region}: {location}"),
            EvidenceStatus::NotWritten { location, error } => format!(
                "Evidence {region}: NOT WRITTEN{}: {error}",
                location
                    .as_deref()
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// A run id unique per run: the evaluation time (`20261201T033000Z`) and a short id, from the
/// Lambda request id when there is one (its first 8 alphanumerics), else from the clock and a
/// per-process counter.
pub fn run_id(generated_at: Timestamp, request_id: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let compact = generated_at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let from_request: String = request_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let short = if from_request.len() >= 8 {
        from_request
    } else {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mixed = (nanos ^ (u64::from(std::process::id()) << 32))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(n.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        format!("{:08x}", mixed >> 32)
    };
    format!("{compact}-{short}")
}

/// The run's summary a region's manifest records.
pub fn summary(report: &RegionReport, diff: Option<&FindingDiff>) -> RunSummary {
    RunSummary {
        generated_at: report.report.generated_at,
        tables: report.report.tables.len() as u64,
        verdicts: Verdict::ALL
            .iter()
            .map(|v| {
                (
                    v.as_str().to_string(),
                    report.report.verdicts.get(v).copied().unwrap_or(0),
                )
            })
            .collect(),
        new: diff.map(|d| d.new.len() as u64),
        resolved: diff.map(|d| d.resolved.len() as u64),
        still_open: diff.map(|d| d.still_open.len() as u64),
        failure: report.failure.clone(),
    }
}

/// What the evidence step needs besides the reports.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceRun<'a> {
    /// The evidence bucket, if configured.
    pub bucket: Option<&'a str>,
    /// A dry run writes nothing.
    pub dry_run: bool,
    /// The run's id.
    pub run_id: &'a str,
    /// The instant the policy was evaluated at (the run's date).
    pub generated_at: Timestamp,
}

/// Writes every region's bundle, one region after the other, with `home`'s S3 client (the
/// bucket is in the function's region); returns each region's [`EvidenceStatus`].
pub async fn write_evidence(
    home: &AwsContext,
    run: &EvidenceRun<'_>,
    reports: &[RegionReport],
    diffs: &BTreeMap<String, FindingDiff>,
) -> BTreeMap<String, EvidenceStatus> {
    let mut out = BTreeMap::new();
    // A region whose account could not be read files under the account another region read.
    let any_account = reports.iter().find_map(|r| r.account.clone());
    for r in reports {
        let status = match (run.bucket, run.dry_run) {
            (None, _) => EvidenceStatus::NotConfigured,
            (Some(_), true) => EvidenceStatus::DryRun,
            (Some(bucket), false) => {
                let account = r.account.clone().or_else(|| any_account.clone());
                write_region(
                    home,
                    bucket,
                    account.as_deref(),
                    run,
                    r,
                    diffs.get(&r.region),
                )
                .await
            }
        };
        if status.failed() {
            tracing::error!(region = %r.region, "{}", status.line(&r.region));
        }
        out.insert(r.region.clone(), status);
    }
    out
}

async fn write_region(
    home: &AwsContext,
    bucket: &str,
    account: Option<&str>,
    run: &EvidenceRun<'_>,
    report: &RegionReport,
    diff: Option<&FindingDiff>,
) -> EvidenceStatus {
    let location = match RunLocation::new(
        bucket,
        account,
        &report.region,
        run.generated_at,
        run.run_id,
    ) {
        Ok(l) => l,
        Err(e) => {
            return EvidenceStatus::NotWritten {
                location: None,
                error: e.to_string(),
            };
        }
    };
    let bundle = match bundle_for_region(report, run.run_id, GENERATOR) {
        Ok(b) => b,
        Err(e) => {
            return EvidenceStatus::NotWritten {
                location: Some(location.uri()),
                error: format!("the bundle could not be built: {e}"),
            };
        }
    };
    match evidence_store::write_run(home.s3(), &location, &bundle, &summary(report, diff)).await {
        Ok(w) => EvidenceStatus::Written {
            location: w.location.uri(),
        },
        Err(e) => EvidenceStatus::NotWritten {
            location: Some(location.uri()),
            error: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_carry_the_time_and_differ_per_run() {
        let at: Timestamp = "2026-12-01T03:30:00Z".parse().unwrap();
        let a = run_id(at, "");
        let b = run_id(at, "");
        assert!(a.starts_with("20261201T033000Z-"), "{a}");
        assert_eq!(a.len(), "20261201T033000Z-".len() + 8);
        assert_ne!(a, b);
        assert_eq!(
            run_id(at, "8f3c2a1e-77b0-4c1d-9e2f-0123456789ab"),
            "20261201T033000Z-8f3c2a1e"
        );
        assert!(!run_id(at, "../x").contains('/'));
    }

    #[test]
    fn a_failed_write_is_named_in_its_line() {
        let s = EvidenceStatus::NotWritten {
            location: Some("s3://b/evidence/1/r/2026/12/01/x/".into()),
            error: "S3.PutObject failed (AccessDenied): denied".into(),
        };
        assert!(s.failed());
        assert_eq!(
            s.line("us-east-1"),
            "Evidence us-east-1: NOT WRITTEN to s3://b/evidence/1/r/2026/12/01/x/: S3.PutObject failed (AccessDenied): denied"
        );
        assert!(!EvidenceStatus::NotConfigured.failed());
        assert!(
            EvidenceStatus::NotConfigured
                .line("r")
                .contains("BG_EVIDENCE_BUCKET")
        );
    }
}
