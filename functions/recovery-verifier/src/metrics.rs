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
//! `TablesUnverifiable`, `ApiCalls`, `ApiRetries`, `DurationMs`, `RegionsFailed` (totals only).

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::{FindingCode, Verdict};
use serde_json::{Map, Value, json};

use crate::verify::RegionReport;

/// The metric namespace.
pub const NAMESPACE: &str = "BackupGuard";
/// The `Service` dimension's value.
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
    let mut per_code: BTreeMap<FindingCode, u64> =
        FindingCode::ALL.iter().map(|c| (*c, 0)).collect();
    for r in regions {
        let mut metrics: Vec<(&str, u64, &str)> = Vec::new();
        for v in Verdict::ALL {
            let n = r.report.verdicts.get(&v).copied().unwrap_or(0);
            *totals.entry(v).or_default() += n;
            metrics.push((verdict_metric(v), n, "Count"));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
