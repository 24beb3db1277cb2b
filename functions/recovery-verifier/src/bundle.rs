//! The evidence bundle of a verified region ([`evidence::build_bundle`] over a
//! [`RegionReport`]): the one place the verifier and the CLI `report` turn a region's
//! verification into an auditor's files.

use evidence::{Bundle, EvidenceError, EvidenceInput, RunInfo, SourceStatus};

use crate::verify::RegionReport;

/// What produced a bundle written by this crate's code.
pub const GENERATOR: &str = concat!("backup-guard recovery-verifier ", env!("CARGO_PKG_VERSION"));

/// The bundle of one verified region, for run `run_id`, produced by `generator`: the region's
/// report, its sources and the inventory facts it carries ([`RegionReport::facts`]).
pub fn bundle_for_region(
    report: &RegionReport,
    run_id: &str,
    generator: &str,
) -> Result<Bundle, EvidenceError> {
    let input = EvidenceInput {
        run: RunInfo {
            run_id: run_id.to_string(),
            account: report.account.clone(),
            region: report.region.clone(),
            generator: generator.to_string(),
        },
        report: &report.report,
        sources: report
            .sources
            .iter()
            .map(|s| SourceStatus {
                source: s.source.what(&report.region),
                unread: s.unread.clone(),
            })
            .collect(),
        facts: &report.facts,
        failure: report.failure.clone(),
    };
    evidence::build_bundle(&input)
}
