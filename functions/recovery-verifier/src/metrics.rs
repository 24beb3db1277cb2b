//! CloudWatch Embedded Metric Format (EMF) lines: printed to stdout, turned into metrics by
//! CloudWatch Logs, no `PutMetricData` call or permission needed.
//!
//! Namespace [`NAMESPACE`]. Per run:
//!
//! * one line with dimension `Service` only: the run's totals. The `NonCompliantTables` alarm of
//!   the template reads this one (name and dimension must not change);
//! * one line per region with dimensions `Service, Region`;
//! * one line per finding code with dimensions `Service, FindingCode` (metric `Findings`; every
//!   code, zeros included, so alarms on a code always have data).
//!
//! Metrics: `TablesCompliant`, `NonCompliantTables`, `TablesExempt`, `TablesPending`,
//! `TablesUnverifiable`, `TablesNotFullyVerified` (tables with an `UNVERIFIABLE` finding,
//! whatever their verdict: a non-compliant table whose points could not be read counts here
//! too), `SourcesUnread` (sources of facts not read completely), `ApiCalls`, `ApiRetries`,
//! `DurationMs`, `RegionsFailed` (totals only).
//!
//! After the digest, one more line ([`run_outcome_line`], dimension `Service`):
//! `VerifierRunsSucceeded` (1 once the digest was published: the heartbeat alarm counts these,
//! not invocations) and `DigestsNotPublished` (1 when it could not be).

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::{FindingCode, Verdict};
use serde_json::{Map, Value, json};

use crate::verify::RegionReport;

/// The CloudWatch namespace every metric is published in.
pub const NAMESPACE: &str = "BackupGuard";
/// The value of the `Service` dimension every metric carries.
pub const SERVICE: &str = "backup-guard";

/// Metric name for a verdict's table count.
pub fn verdict_metric(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "TablesCompliant",
        Verdict::NonCompliant => "NonCompliantTables",
        Verdict::Exempt => "TablesExempt",
        Verdict::Pending => "TablesPending",
        Verdict::Unverifiable => "TablesUnverifiable",
    }
}

fn emf_line(at: Timestamp, dimensions: &[(&str, &str)], metrics: &[(&str, u64, &str)]) -> String {
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(n, _, unit)| json!({"Name": n, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).to_string(), Value::String((*v).to_string()));
    }
    for (n, v, _) in metrics {
        root.insert((*n).to_string(), json!(v));
    }
    Value::Object(root).to_string()
}

/// The EMF lines of a run (`at` is the wall-clock time of emission, which CloudWatch requires
/// to be recent; `duration_ms` the whole run).
pub fn emf_lines(regions: &[RegionReport], at: Timestamp, duration_ms: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut totals: BTreeMap<Verdict, u64> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
    let mut calls = 0;
    let mut retries = 0;
    let mut not_fully_total = 0;
    let mut unread_total = 0;
    let mut per_code: BTreeMap<FindingCode, u64> =
        FindingCode::ALL.iter().map(|c| (*c, 0)).collect();
    for r in regions {
        let mut metrics: Vec<(&str, u64, &str)> = Vec::new();
        for v in Verdict::ALL {
            let n = r.report.verdicts.get(&v).copied().unwrap_or(0);
            *totals.entry(v).or_default() += n;
            metrics.push((verdict_metric(v), n, "Count"));
        }
        let not_fully = not_fully_verified(r);
        let unread = r.unread_sources().count() as u64;
        not_fully_total += not_fully;
        unread_total += unread;
        metrics.push(("TablesNotFullyVerified", not_fully, "Count"));
        metrics.push(("SourcesUnread", unread, "Count"));
        metrics.push(("ApiCalls", r.counted_calls, "Count"));
        metrics.push(("ApiRetries", r.retries, "Count"));
        metrics.push(("DurationMs", r.duration_ms, "Milliseconds"));
        calls += r.counted_calls;
        retries += r.retries;
        for (c, n) in &r.report.findings_per_code {
            *per_code.entry(*c).or_default() += n;
        }
        lines.push(emf_line(
            at,
            &[("Service", SERVICE), ("Region", &r.region)],
            &metrics,
        ));
    }
    let failed = regions.iter().filter(|r| r.failure.is_some()).count() as u64;
    let mut metrics: Vec<(&str, u64, &str)> = Verdict::ALL
        .iter()
        .map(|v| (verdict_metric(*v), totals[v], "Count"))
        .collect();
    metrics.push(("TablesNotFullyVerified", not_fully_total, "Count"));
    metrics.push(("SourcesUnread", unread_total, "Count"));
    metrics.push(("ApiCalls", calls, "Count"));
    metrics.push(("ApiRetries", retries, "Count"));
    metrics.push(("DurationMs", duration_ms, "Milliseconds"));
    metrics.push(("RegionsFailed", failed, "Count"));
    lines.push(emf_line(at, &[("Service", SERVICE)], &metrics));
    for (code, n) in per_code {
        lines.push(emf_line(
            at,
            &[("Service", SERVICE), ("FindingCode", code.as_str())],
            &[("Findings", n, "Count")],
        ));
    }
    lines
}

/// Tables of the region with an `UNVERIFIABLE` finding, whatever their verdict.
pub fn not_fully_verified(r: &RegionReport) -> u64 {
    r.report
        .tables
        .iter()
        .filter(|t| {
            t.findings
                .iter()
                .any(|f| f.code == FindingCode::Unverifiable)
        })
        .count() as u64
}

/// Metric name: runs whose digest was published (the heartbeat alarm's metric).
pub const RUNS_SUCCEEDED: &str = "VerifierRunsSucceeded";
/// Metric name: runs whose digest could not be published.
pub const DIGESTS_NOT_PUBLISHED: &str = "DigestsNotPublished";

/// The line saying whether the run's digest went out (emitted after the publish attempt).
pub fn run_outcome_line(at: Timestamp, digest_published: bool) -> String {
    let (ok, failed) = if digest_published { (1, 0) } else { (0, 1) };
    emf_line(
        at,
        &[("Service", SERVICE)],
        &[
            (RUNS_SUCCEEDED, ok, "Count"),
            (DIGESTS_NOT_PUBLISHED, failed, "Count"),
        ],
    )
}

/// Metric: regions whose evidence bundle could not be stored this run (the
/// `EvidenceNotWrittenAlarm` of the template reads it, dimension `Service`).
pub const EVIDENCE_NOT_WRITTEN: &str = "EvidenceNotWritten";
/// Metric: regions whose evidence bundle was stored this run.
pub const EVIDENCE_WRITTEN: &str = "EvidenceWritten";

/// The line counting the regions whose evidence was and was not stored; `None` when no write
/// was attempted (no evidence bucket, or a dry run).
pub fn evidence_line(
    at: Timestamp,
    evidence: &BTreeMap<String, crate::evidence_step::EvidenceStatus>,
) -> Option<String> {
    use crate::evidence_step::EvidenceStatus;
    let written = evidence
        .values()
        .filter(|e| matches!(e, EvidenceStatus::Written { .. }))
        .count() as u64;
    let failed = evidence.values().filter(|e| e.failed()).count() as u64;
    (written + failed > 0).then(|| {
        emf_line(
            at,
            &[("Service", SERVICE)],
            &[
                (EVIDENCE_WRITTEN, written, "Count"),
                (EVIDENCE_NOT_WRITTEN, failed, "Count"),
            ],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_line_counts_failed_writes_and_is_absent_without_writes() {
        use crate::evidence_step::EvidenceStatus;
        let at = "2026-11-25T12:00:00Z".parse().unwrap();
        let mut m = BTreeMap::from([("us-east-1".to_string(), EvidenceStatus::DryRun)]);
        assert_eq!(evidence_line(at, &m), None);
        m.insert(
            "eu-west-1".into(),
            EvidenceStatus::NotWritten {
                location: None,
                error: "denied".into(),
            },
        );
        m.insert(
            "us-east-1".into(),
            EvidenceStatus::Written {
                location: "s3://b/p/".into(),
            },
        );
        let line: Value = serde_json::from_str(&evidence_line(at, &m).unwrap()).unwrap();
        assert_eq!(line[EVIDENCE_NOT_WRITTEN], 1);
        assert_eq!(line[EVIDENCE_WRITTEN], 1);
        assert_eq!(line["Service"], SERVICE);
    }

    #[test]
    fn totals_line_has_the_alarm_metric_with_the_service_dimension_only() {
        let lines = emf_lines(&[], "2026-11-25T12:00:00Z".parse().unwrap(), 1234);
        let parsed: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let totals = parsed
            .iter()
            .find(|v| v.get("NonCompliantTables").is_some())
            .unwrap();
        let cw = &totals["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "BackupGuard");
        assert_eq!(cw["Dimensions"], json!([["Service"]]));
        assert_eq!(totals["Service"], "backup-guard");
        assert_eq!(totals["DurationMs"], 1234);
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for n in [
            "TablesCompliant",
            "NonCompliantTables",
            "TablesExempt",
            "TablesPending",
            "TablesUnverifiable",
            "TablesNotFullyVerified",
            "SourcesUnread",
            "ApiCalls",
            "DurationMs",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        // One line per finding code, zeros included.
        let code_lines = parsed
            .iter()
            .filter(|v| v.get("FindingCode").is_some())
            .count();
        assert_eq!(code_lines, FindingCode::ALL.len());
    }

    #[test]
    fn run_outcome_line_counts_a_published_or_an_unpublished_digest() {
        let at = "2026-11-25T12:00:00Z".parse().unwrap();
        for (published, ok, failed) in [(true, 1, 0), (false, 0, 1)] {
            let v: Value = serde_json::from_str(&run_outcome_line(at, published)).unwrap();
            assert_eq!(v[RUNS_SUCCEEDED], ok);
            assert_eq!(v[DIGESTS_NOT_PUBLISHED], failed);
            assert_eq!(
                v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                json!([["Service"]])
            );
            assert_eq!(v["Service"], SERVICE);
        }
    }
}
