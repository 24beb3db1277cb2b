//! The nightly digest: one SNS message per run, always sent (a heartbeat: silence means the
//! verifier is broken).
//!
//! It says, per region, how many tables got each verdict, then lists the *problems* (findings
//! above `info` severity: everything but `EXEMPT` and `PENDING_FIRST_BACKUP`) as new,
//! still open, or resolved since the previous run. The subject carries the worst severity.
//!
//! SNS accepts 256 KB per message, counted over the whole `MessageStructure=json` body, which
//! carries the text and the JSON document once per subscriber kind ([`wire_size`]). Problems
//! are listed one whole line (and one whole JSON record) at a time while they fit, new ones first, then resolved, then still open; the rest
//! of each list is summarised by code and by table. Nothing is ever cut mid-record.

use std::collections::BTreeMap;

use awsio::finding_state::{FindingDiff, OpenFinding};
use awsio::publisher::{
    AlertMessage, AttributeValue, MAX_MESSAGE_BYTES, attributes_size, message_size,
};
use jiff::Timestamp;
use policy::{Finding, Severity, Verdict};
use serde_json::{Value, json};

use crate::verify::RegionReport;

/// Bytes kept free below SNS's limit (encoding slack).
pub const SAFETY_BYTES: usize = 4096;
/// Bytes reserved per list for the summary of what was not listed.
pub const SUMMARY_RESERVE: usize = 2048;
/// How many tables a summary names at most (the most affected first).
pub const SUMMARY_TABLES: usize = 10;
/// How many unreachable parts are listed per region at most.
pub const UNREACHABLE_LISTED: usize = 10;

/// The open problems of a region's report, by finding id (findings above `info` severity).
pub fn open_problems(report: &RegionReport) -> BTreeMap<String, OpenFinding> {
    report
        .report
        .tables
        .iter()
        .flat_map(|t| t.findings.iter())
        .filter(|f| f.severity > Severity::Info)
        .map(|f| {
            (
                f.id.clone(),
                OpenFinding {
                    id: f.id.clone(),
                    code: f.code.as_str().to_string(),
                    severity: f.severity.as_str().to_string(),
                    table: f.table_name.clone(),
                    subject: f.subject.clone(),
                },
            )
        })
        .collect()
}

/// One region's part of the digest.
#[derive(Debug, Clone)]
pub struct RegionDigest<'a> {
    /// The region's verification.
    pub report: &'a RegionReport,
    /// New / still-open / resolved problems.
    pub diff: FindingDiff,
    /// A remark about the comparison (e.g. previous state unreadable).
    pub state_note: Option<String>,
}

/// Run-level context of the digest.
#[derive(Debug, Clone)]
pub struct DigestContext {
    /// The instant evaluated.
    pub generated_at: Timestamp,
    /// The account (if known).
    pub account: Option<String>,
    /// `enforce` / `report-only`.
    pub mode: String,
}

fn severity_of(word: &str) -> Severity {
    match word {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "warning" => Severity::Warning,
        _ => Severity::Info,
    }
}

/// The worst severity among open problems (and region failures, which count as `high`: a
/// region that could not be verified is a blind spot); `None` if all is well.
pub fn worst_severity(regions: &[RegionDigest<'_>]) -> Option<Severity> {
    let mut worst: Option<Severity> = None;
    for r in regions {
        for f in r.diff.new.iter().chain(r.diff.still_open.iter()) {
            worst = worst.max(Some(severity_of(&f.severity)));
        }
        if r.report.failure.is_some() {
            worst = worst.max(Some(Severity::High));
        } else if !r.report.report.unreachable.is_empty() {
            worst = worst.max(Some(Severity::Warning));
        }
    }
    worst
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Section {
    New,
    Resolved,
    StillOpen,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::New => "new",
            Section::Resolved => "resolved",
            Section::StillOpen => "still_open",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Section::New => "NEW PROBLEMS",
            Section::Resolved => "RESOLVED SINCE THE LAST RUN",
            Section::StillOpen => "STILL OPEN",
        }
    }
}

struct Entry<'a> {
    region: &'a str,
    open: &'a OpenFinding,
    line: String,
    record: Value,
}

fn verdict_counts(report: &RegionReport) -> String {
    Verdict::ALL
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                report.report.verdicts.get(v).copied().unwrap_or(0),
                v.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(entries: &[&Entry<'_>]) -> (String, Value) {
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_table: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in entries {
        *by_code.entry(e.open.code.as_str()).or_default() += 1;
        *by_table
            .entry((e.region, e.open.table.as_str()))
            .or_default() += 1;
    }
    let mut tables: Vec<((&str, &str), u64)> = by_table.into_iter().collect();
    tables.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let table_count = tables.len();
    let top: Vec<((&str, &str), u64)> = tables.into_iter().take(SUMMARY_TABLES).collect();
    let mut text = format!(
        "  ... and {} more not listed (on {} tables):\n",
        entries.len(),
        table_count
    );
    for (code, n) in &by_code {
        text.push_str(&format!("    {code}: {n}\n"));
    }
    text.push_str("    most affected tables: ");
    text.push_str(
        &top.iter()
            .map(|((r, t), n)| format!("{t} ({r}): {n}"))
            .collect::<Vec<_>>()
            .join("; "),
    );
    if table_count > top.len() {
        text.push_str(&format!("; and {} more tables", table_count - top.len()));
    }
    text.push('\n');
    let json = json!({
        "count": entries.len(),
        "tables": table_count,
        "by_code": by_code,
        "top_tables": top.iter().map(|((r, t), n)| json!({"region": r, "table": t, "count": n})).collect::<Vec<_>>(),
    });
    (text, json)
}

/// Builds the digest message (subject, text, JSON, attributes), always under SNS's limit.
pub fn build_digest(regions: &[RegionDigest<'_>], ctx: &DigestContext) -> AlertMessage {
    let worst = worst_severity(regions);
    let total_tables: u64 = regions
        .iter()
        .map(|r| r.report.report.tables.len() as u64)
        .sum();
    let count_verdict = |v: Verdict| -> u64 {
        regions
            .iter()
            .map(|r| r.report.report.verdicts.get(&v).copied().unwrap_or(0))
            .sum()
    };
    let non_compliant = count_verdict(Verdict::NonCompliant);
    let unverifiable = count_verdict(Verdict::Unverifiable);
    let n_new: usize = regions.iter().map(|r| r.diff.new.len()).sum();
    let n_open: usize = regions
        .iter()
        .map(|r| r.diff.new.len() + r.diff.still_open.len())
        .sum();
    let n_resolved: usize = regions.iter().map(|r| r.diff.resolved.len()).sum();
    // A failed region's one unread source is already said by "region(s) failed".
    let unread_sources: usize = regions
        .iter()
        .filter(|r| r.report.failure.is_none())
        .map(|r| r.report.unread_sources().count())
        .sum();
    let failed_regions = regions
        .iter()
        .filter(|r| r.report.failure.is_some())
        .count();
    let account = ctx
        .account
        .clone()
        .unwrap_or_else(|| "unknown account".into());
    let all_good = worst.is_none() && n_open == 0 && unread_sources == 0;

    let subject = if all_good {
        format!("[backup-guard] OK: all {total_tables} tables compliant ({account})")
    } else {
        let sev = worst
            .map(|s| s.as_str().to_ascii_uppercase())
            .unwrap_or_else(|| "INFO".into());
        // Most important first: SNS cuts subjects at 100 characters, and the counts of new
        // and resolved problems are repeated in the body.
        let mut s =
            format!("[backup-guard] {sev}: {non_compliant} of {total_tables} tables non-compliant");
        if unverifiable > 0 {
            s.push_str(&format!(", {unverifiable} unverifiable"));
        }
        if failed_regions > 0 {
            s.push_str(&format!(", {failed_regions} region(s) failed"));
        }
        if unread_sources > 0 {
            s.push_str(&format!(", {unread_sources} source(s) unread"));
        }
        s.push_str(&format!(", {n_new} new, {n_resolved} resolved"));
        s
    };

    // Header: counts per region.
    let mut header = format!(
        "backup-guard nightly recovery verification\nEvaluated at {} for account {} (mode {}).\n\n",
        ctx.generated_at, account, ctx.mode
    );
    if all_good {
        header.push_str(&format!(
            "All {total_tables} tables are compliant (or exempt / pending their first backup). No open problems.\n\n"
        ));
    } else {
        header.push_str(&format!(
            "{n_open} open problem(s): {n_new} new, {} still open; {n_resolved} resolved since the last run.\n\n",
            n_open - n_new
        ));
    }
    let mut region_json = Vec::new();
    for r in regions {
        let rr = r.report;
        header.push_str(&format!(
            "Region {}: {} tables: {}.\n",
            rr.region,
            rr.report.tables.len(),
            verdict_counts(rr)
        ));
        if let Some(f) = &rr.failure {
            header.push_str(&format!("  NOT VERIFIED: {f}\n"));
        }
        header.push_str(&format!(
            "  Problems: {} new, {} still open, {} resolved.\n",
            r.diff.new.len(),
            r.diff.still_open.len(),
            r.diff.resolved.len()
        ));
        if let Some(n) = &r.state_note {
            header.push_str(&format!("  Note: {n}\n"));
        }
        let unreachable = &rr.report.unreachable;
        for u in unreachable.iter().take(UNREACHABLE_LISTED) {
            header.push_str(&format!("  Not read: {}: {}\n", u.what, u.reason));
        }
        if unreachable.len() > UNREACHABLE_LISTED {
            header.push_str(&format!(
                "  ... and {} more parts not read (see the run report in the log).\n",
                unreachable.len() - UNREACHABLE_LISTED
            ));
        }
        header.push_str(&format!(
            "  API calls: {} (minimal for this inventory: {}), {} retries, {} ms.\n",
            rr.counted_calls,
            rr.minimal_calls
                .map(|m| m.to_string())
                .unwrap_or_else(|| "n/a".into()),
            rr.retries,
            rr.duration_ms
        ));
        region_json.push(json!({
            "region": rr.region,
            "tables": rr.report.tables.len(),
            "verdicts": Verdict::ALL.iter().map(|v| (v.as_str(), rr.report.verdicts.get(v).copied().unwrap_or(0))).collect::<BTreeMap<_, _>>(),
            "failure": rr.failure,
            "new": r.diff.new.len(),
            "still_open": r.diff.still_open.len(),
            "resolved": r.diff.resolved.len(),
            "state_note": r.state_note,
            "unreachable": unreachable.iter().take(UNREACHABLE_LISTED).map(|u| json!({"what": u.what, "reason": u.reason})).collect::<Vec<_>>(),
            "unreachable_count": unreachable.len(),
            "api_calls": rr.counted_calls,
            "minimal_calls": rr.minimal_calls,
        }));
    }

    let attributes = digest_attributes(regions, worst, ctx, &account);
    let base_json = json!({
        "kind": "backup-guard.verifier-digest",
        "generated_at": ctx.generated_at.to_string(),
        "account": ctx.account,
        "mode": ctx.mode,
        "worst_severity": worst.map(|s| s.as_str()),
        "all_compliant": all_good,
        "tables": total_tables,
        "regions": region_json,
    });

    // Entries per section, in priority order.
    let multi_region = regions.len() > 1;
    let messages: BTreeMap<&str, &Finding> = regions
        .iter()
        .flat_map(|r| r.report.report.tables.iter())
        .flat_map(|t| t.findings.iter())
        .map(|f| (f.id.as_str(), f))
        .collect();
    let mut sections: Vec<(Section, Vec<Entry<'_>>)> = Vec::new();
    for section in [Section::New, Section::Resolved, Section::StillOpen] {
        let mut entries: Vec<Entry<'_>> = Vec::new();
        for r in regions {
            let list = match section {
                Section::New => &r.diff.new,
                Section::Resolved => &r.diff.resolved,
                Section::StillOpen => &r.diff.still_open,
            };
            for open in list {
                let message = if section == Section::Resolved {
                    None
                } else {
                    messages.get(open.id.as_str()).map(|f| f.message.as_str())
                };
                let mut line = format!(
                    "  [{}] {} {}{}",
                    open.severity,
                    open.code,
                    open.table,
                    if multi_region {
                        format!(" ({})", r.report.region)
                    } else {
                        String::new()
                    }
                );
                if let Some(s) = &open.subject {
                    line.push_str(&format!(" @ {s}"));
                }
                if let Some(m) = message {
                    line.push_str(&format!(": {m}"));
                }
                line.push('\n');
                let record = json!({
                    "id": open.id, "code": open.code, "severity": open.severity,
                    "region": r.report.region, "table": open.table, "subject": open.subject,
                    "message": message,
                });
                entries.push(Entry {
                    region: &r.report.region,
                    open,
                    line,
                    record,
                });
            }
        }
        entries.sort_by(|a, b| {
            severity_of(&b.open.severity)
                .cmp(&severity_of(&a.open.severity))
                .then_with(|| a.region.cmp(b.region))
                .then_with(|| a.open.table.cmp(&b.open.table))
                .then_with(|| a.open.code.cmp(&b.open.code))
                .then_with(|| a.open.subject.cmp(&b.open.subject))
        });
        sections.push((section, entries));
    }

    // Budget, in bytes on the wire: SNS counts the whole `MessageStructure=json` body, which
    // carries the text and the JSON document several times over (escaped), plus attributes.
    let attr_size = attributes_size(&attributes).unwrap_or(0);
    let (text_copies, json_copies) = body_copies();
    let cost = |text: &str, json: &str| {
        text_copies * escaped_len(text) + json_copies * (escaped_len(json) + 1)
    };
    let fixed = cost(&header, &base_json.to_string())
        + 3 * cost(&" ".repeat(SUMMARY_RESERVE), &" ".repeat(SUMMARY_RESERVE));
    let mut left = MAX_MESSAGE_BYTES.saturating_sub(attr_size + SAFETY_BYTES + fixed);
    let mut listed: Vec<Listed<'_, '_>> = Vec::new();
    for (section, entries) in &sections {
        let mut shown = Vec::new();
        let mut omitted = Vec::new();
        let mut full = false;
        for e in entries {
            let c = cost(&e.line, &e.record.to_string());
            if !full && c <= left {
                left -= c;
                shown.push(e);
            } else {
                full = true;
                omitted.push(e);
            }
        }
        listed.push((*section, shown, omitted));
    }

    // Render; should the estimate be off, move listed entries (lowest priority first) to the
    // summaries until the message fits.
    loop {
        let (text, json) = render(&header, &base_json, &listed);
        let msg = AlertMessage {
            subject: subject.clone(),
            text,
            json,
            attributes: attributes.clone(),
        };
        if wire_size(&msg) <= MAX_MESSAGE_BYTES {
            return msg;
        }
        let Some((_, shown, omitted)) = listed
            .iter_mut()
            .rev()
            .find(|(_, shown, _)| !shown.is_empty())
        else {
            return counts_only(msg);
        };
        let take = shown.len().div_ceil(4);
        let moved: Vec<&Entry<'_>> = shown.split_off(shown.len() - take);
        let mut rest = moved;
        rest.append(omitted);
        *omitted = rest;
    }
}

/// One section's listed and summarised entries.
type Listed<'e, 'a> = (Section, Vec<&'e Entry<'a>>, Vec<&'e Entry<'a>>);

/// Length of `s` once escaped as a JSON string (without the quotes).
fn escaped_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(s.len() * 2, |e| e.len().saturating_sub(2))
}

/// How many times the publisher's structured body carries the text and the JSON document.
fn body_copies() -> (usize, usize) {
    let probe = |text: &str, json: Value| {
        awsio::publisher::structured_body(&AlertMessage {
            subject: String::new(),
            text: text.to_string(),
            json,
            attributes: Vec::new(),
        })
        .map_or(0, |b| b.len())
    };
    let base = probe("", Value::String(String::new()));
    let text = probe(&"x".repeat(1000), Value::String(String::new()));
    let json = probe("", Value::String("x".repeat(1000)));
    (
        text.saturating_sub(base).div_ceil(1000).max(1),
        json.saturating_sub(base).div_ceil(1000).max(1),
    )
}

/// The bytes SNS counts for `msg`: the structured body plus attribute names, types and values.
pub fn wire_size(msg: &AlertMessage) -> usize {
    message_size(msg).unwrap_or(usize::MAX / 2)
}

fn render(header: &str, base_json: &Value, listed: &[Listed<'_, '_>]) -> (String, Value) {
    let mut text = header.to_string();
    let mut json = base_json.clone();
    for section in [Section::New, Section::StillOpen, Section::Resolved] {
        let Some((_, shown, omitted)) = listed.iter().find(|(s, _, _)| *s == section) else {
            continue;
        };
        let total = shown.len() + omitted.len();
        if total == 0 {
            continue;
        }
        text.push_str(&format!("\n{} ({total})\n", section.title()));
        for e in shown {
            text.push_str(&e.line);
        }
        if let Some(obj) = json.as_object_mut() {
            obj.insert(
                section.key().to_string(),
                Value::Array(shown.iter().map(|e| e.record.clone()).collect()),
            );
            if !omitted.is_empty() {
                let (summary_text, summary_json) = summary(omitted);
                text.push_str(&summary_text);
                obj.insert(format!("{}_not_listed", section.key()), summary_json);
            }
        }
    }
    text.push_str(
        "\nThe full run report (every table, finding and API call) is in the verifier's log.\n",
    );
    (text, json)
}

fn counts_only(msg: AlertMessage) -> AlertMessage {
    let head: String = msg
        .text
        .split("\nNEW PROBLEMS")
        .next()
        .unwrap_or_default()
        .to_string();
    let mut json = msg.json;
    if let Some(o) = json.as_object_mut() {
        for k in [
            "new",
            "still_open",
            "resolved",
            "new_not_listed",
            "still_open_not_listed",
            "resolved_not_listed",
        ] {
            o.remove(k);
        }
        o.insert("details_omitted".into(), Value::Bool(true));
    }
    AlertMessage {
        subject: msg.subject,
        text: format!("{head}\n(Problem lists omitted to fit SNS's size limit; see the log.)\n"),
        json,
        attributes: msg.attributes,
    }
}

fn digest_attributes(
    regions: &[RegionDigest<'_>],
    worst: Option<Severity>,
    ctx: &DigestContext,
    account: &str,
) -> Vec<(String, AttributeValue)> {
    let mut codes: Vec<String> = regions
        .iter()
        .flat_map(|r| r.diff.new.iter().chain(r.diff.still_open.iter()))
        .map(|f| f.code.clone())
        .collect();
    codes.sort();
    codes.dedup();
    let region_names: Vec<String> = regions.iter().map(|r| r.report.region.clone()).collect();
    let mut attrs = vec![
        ("kind".to_string(), AttributeValue::String("digest".into())),
        (
            "severity".to_string(),
            AttributeValue::String(worst.map_or("ok", |s| s.as_str()).to_string()),
        ),
        (
            "account".to_string(),
            AttributeValue::String(account.to_string()),
        ),
        (
            "region".to_string(),
            AttributeValue::String(region_names.join(",")),
        ),
        ("mode".to_string(), AttributeValue::String(ctx.mode.clone())),
    ];
    if !codes.is_empty() {
        attrs.push((
            "finding_codes".to_string(),
            AttributeValue::StringArray(codes),
        ));
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use awsio::finding_state::diff;
    use policy::evaluate::{Coverage, TableEvaluation};
    use policy::facts::{Fact, TableFacts};
    use policy::report::RunReport;
    use policy::{FindingCode, Policy};

    fn table(i: usize) -> TableFacts {
        let name = format!("table-{i:05}");
        TableFacts {
            arn: format!("arn:aws:dynamodb:eu-west-1:123456789012:table/{name}"),
            name,
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            created: None,
            tags: Fact::Known(Default::default()),
        }
    }

    fn region_report(tables: usize, findings_per_table: usize) -> RegionReport {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let evals: Vec<TableEvaluation> = (0..tables)
            .map(|i| {
                let t = table(i);
                let findings = (0..findings_per_table)
                    .map(|k| {
                        let code = if k % 2 == 0 {
                            FindingCode::MissedSlot
                        } else {
                            FindingCode::RetentionTooLong
                        };
                        Finding::new(
                            code,
                            &t.arn,
                            &t.name,
                            Some(format!("slot-{k}")),
                            format!("Table {} missed something important number {k}.", t.name),
                            None,
                        )
                    })
                    .collect::<Vec<_>>();
                TableEvaluation {
                    verdict: if findings.is_empty() {
                        Verdict::Compliant
                    } else {
                        Verdict::NonCompliant
                    },
                    table: t,
                    coverage: Coverage::Unknown {
                        reason: "test".into(),
                    },
                    slots: Vec::new(),
                    findings,
                    notes: Vec::new(),
                }
            })
            .collect();
        RegionReport {
            region: "eu-west-1".into(),
            account: Some("123456789012".into()),
            report: RunReport::new(
                now,
                Policy::default(),
                evals,
                BTreeMap::new(),
                Vec::new(),
                Vec::new(),
            ),
            failure: None,
            sources: Vec::new(),
            described_tables: Vec::new(),
            unreached_tables: Vec::new(),
            shape: None,
            minimal_calls: None,
            counted_calls: 0,
            retries: 0,
            duration_ms: 0,
        }
    }

    fn ctx() -> DigestContext {
        DigestContext {
            generated_at: "2026-11-25T12:00:00Z".parse().unwrap(),
            account: Some("123456789012".into()),
            mode: "enforce".into(),
        }
    }

    #[test]
    fn five_thousand_findings_fit_under_the_sns_limit_without_cutting_a_record() {
        let report = region_report(2500, 2);
        let open = open_problems(&report);
        assert_eq!(open.len(), 5000);
        let d = diff(None, &open);
        let msg = build_digest(
            &[RegionDigest {
                report: &report,
                diff: d,
                state_note: None,
            }],
            &ctx(),
        );
        let size = wire_size(&msg);
        assert!(size <= MAX_MESSAGE_BYTES, "digest is {size} bytes");
        // Every listed line is a whole record: it names a table and ends with its message.
        let listed: Vec<&str> = msg
            .text
            .lines()
            .filter(|l| l.starts_with("  [high] ") || l.starts_with("  [warning] "))
            .collect();
        assert!(!listed.is_empty() && listed.len() < 5000);
        for l in &listed {
            assert!(l.ends_with('.'), "cut line: {l}");
        }
        // The rest is summarised by code and table, and the counts add up.
        let records = msg.json["new"].as_array().unwrap().len();
        assert_eq!(records, listed.len());
        let not_listed = msg.json["new_not_listed"]["count"].as_u64().unwrap();
        assert_eq!(records as u64 + not_listed, 5000);
        let by_code = &msg.json["new_not_listed"]["by_code"];
        let summed: u64 = by_code
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(summed, not_listed);
        assert!(
            msg.text
                .contains(&format!("... and {not_listed} more not listed"))
        );
        assert!(msg.text.contains("MISSED_SLOT: "));
        assert!(msg.subject.contains("HIGH"), "{}", msg.subject);
        assert!(
            msg.subject.contains("2500 of 2500 tables non-compliant"),
            "{}",
            msg.subject
        );
    }

    #[test]
    fn healthy_digest_says_all_compliant() {
        let report = region_report(12, 0);
        let d = diff(None, &open_problems(&report));
        let msg = build_digest(
            &[RegionDigest {
                report: &report,
                diff: d,
                state_note: None,
            }],
            &ctx(),
        );
        assert_eq!(
            msg.subject,
            "[backup-guard] OK: all 12 tables compliant (123456789012)"
        );
        assert!(
            msg.text.contains("All 12 tables are compliant"),
            "{}",
            msg.text
        );
        assert_eq!(msg.json["all_compliant"], Value::Bool(true));
        assert!(
            msg.attributes
                .iter()
                .any(|(k, v)| k == "severity" && *v == AttributeValue::String("ok".into()))
        );
        assert!(!msg.attributes.iter().any(|(k, _)| k == "finding_codes"));
    }

    #[test]
    fn resolved_and_still_open_are_listed_with_codes_in_attributes() {
        let before = region_report(3, 2);
        let after = region_report(3, 1); // the RETENTION_TOO_LONG findings were fixed
        let prev = open_problems(&before);
        let d = diff(Some(&prev), &open_problems(&after));
        assert_eq!(
            (d.new.len(), d.still_open.len(), d.resolved.len()),
            (0, 3, 3)
        );
        let msg = build_digest(
            &[RegionDigest {
                report: &after,
                diff: d,
                state_note: None,
            }],
            &ctx(),
        );
        assert!(msg.text.contains("STILL OPEN (3)"));
        assert!(msg.text.contains("RESOLVED SINCE THE LAST RUN (3)"));
        assert!(!msg.text.contains("NEW PROBLEMS"));
        let codes = msg
            .attributes
            .iter()
            .find(|(k, _)| k == "finding_codes")
            .map(|(_, v)| v.clone());
        assert_eq!(
            codes,
            Some(AttributeValue::StringArray(vec!["MISSED_SLOT".into()]))
        );
    }
}
