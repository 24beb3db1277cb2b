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

use crate::evidence_step::EvidenceStatus;
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
                    code: f.code,
                    severity: f.severity,
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
    /// The region's verification report (verdicts, findings, unread parts, calls).
    pub report: &'a RegionReport,
    /// New / still-open / resolved problems.
    pub diff: FindingDiff,
    /// A remark about the comparison (e.g. previous state unreadable).
    pub state_note: Option<String>,
}

/// Run-level context of the digest.
#[derive(Debug, Clone)]
pub struct DigestContext {
    /// The instant the policy was evaluated at.
    pub generated_at: Timestamp,
    /// The account verified, if any region could read it (else "unknown account").
    pub account: Option<String>,
    /// The policy's mode as its word: `enforce` or `report-only`.
    pub mode: String,
    /// What became of each region's evidence bundle (empty: the digest says nothing of
    /// evidence). A failed write is a problem of the run: the subject says so and the
    /// digest is not "OK".
    pub evidence: BTreeMap<String, EvidenceStatus>,
}

/// The worst severity among open problems (and region failures, which count as `high`: a
/// region that could not be verified is a blind spot); `None` if all is well.
pub fn worst_severity(regions: &[RegionDigest<'_>]) -> Option<Severity> {
    let mut worst: Option<Severity> = None;
    for r in regions {
        for f in r.diff.new.iter().chain(r.diff.still_open.iter()) {
            worst = worst.max(Some(f.severity));
        }
        if r.report.failure.is_some() {
            worst = worst.max(Some(Severity::High));
        } else if !r.report.report.unreachable.is_empty() {
            worst = worst.max(Some(Severity::Warning));
        }
    }
    worst
}

/// The three problem lists of the digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum ListKind {
    New,
    Resolved,
    StillOpen,
}

impl ListKind {
    /// The order in which lists get room in the message: new problems first, then resolved,
    /// then still open.
    const PRIORITY: [ListKind; 3] = [ListKind::New, ListKind::Resolved, ListKind::StillOpen];
    /// The order in which lists appear in the message.
    const SHOWN: [ListKind; 3] = [ListKind::New, ListKind::StillOpen, ListKind::Resolved];

    fn key(self) -> &'static str {
        match self {
            ListKind::New => "new",
            ListKind::Resolved => "resolved",
            ListKind::StillOpen => "still_open",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ListKind::New => "NEW PROBLEMS",
            ListKind::Resolved => "RESOLVED SINCE THE LAST RUN",
            ListKind::StillOpen => "STILL OPEN",
        }
    }

    fn of(self, diff: &FindingDiff) -> &[OpenFinding] {
        match self {
            ListKind::New => &diff.new,
            ListKind::Resolved => &diff.resolved,
            ListKind::StillOpen => &diff.still_open,
        }
    }
}

/// One problem as the digest lists it: one text line and one JSON record.
struct Entry<'a> {
    region: &'a str,
    open: &'a OpenFinding,
    line: String,
    record: Value,
}

/// Run-wide counts the subject and the header are written from.
struct Totals {
    worst: Option<Severity>,
    tables: u64,
    non_compliant: u64,
    unverifiable: u64,
    new: usize,
    open: usize,
    resolved: usize,
    unread_sources: usize,
    failed_regions: usize,
    evidence_failed: usize,
    account: String,
    all_good: bool,
}

impl Totals {
    fn of(regions: &[RegionDigest<'_>], ctx: &DigestContext) -> Totals {
        let worst = worst_severity(regions);
        let count_verdict = |v: Verdict| -> u64 {
            regions
                .iter()
                .map(|r| r.report.report.verdicts.get(&v).copied().unwrap_or(0))
                .sum()
        };
        let open: usize = regions
            .iter()
            .map(|r| r.diff.new.len() + r.diff.still_open.len())
            .sum();
        // A failed region's one unread source is already said by "region(s) failed".
        let unread_sources: usize = regions
            .iter()
            .filter(|r| r.report.failure.is_none())
            .map(|r| r.report.unread_sources().count())
            .sum();
        Totals {
            worst,
            tables: regions
                .iter()
                .map(|r| r.report.report.tables.len() as u64)
                .sum(),
            non_compliant: count_verdict(Verdict::NonCompliant),
            unverifiable: count_verdict(Verdict::Unverifiable),
            new: regions.iter().map(|r| r.diff.new.len()).sum(),
            open,
            resolved: regions.iter().map(|r| r.diff.resolved.len()).sum(),
            unread_sources,
            failed_regions: regions
                .iter()
                .filter(|r| r.report.failure.is_some())
                .count(),
            evidence_failed: ctx.evidence.values().filter(|e| e.failed()).count(),
            account: ctx
                .account
                .clone()
                .unwrap_or_else(|| "unknown account".into()),
            all_good: worst.is_none() && open == 0 && unread_sources == 0,
        }
    }
}

/// The subject: the worst severity and the counts, most important first (SNS cuts subjects at
/// 100 characters, and the counts of new and resolved problems are repeated in the body).
fn subject(t: &Totals) -> String {
    if t.all_good && t.evidence_failed == 0 {
        return format!(
            "[backup-guard] OK: all {} tables compliant ({})",
            t.tables, t.account
        );
    }
    if t.all_good {
        return format!(
            "[backup-guard] HIGH: evidence NOT stored ({} region(s)); all {} tables compliant ({})",
            t.evidence_failed, t.tables, t.account
        );
    }
    let sev = t
        .worst
        .map(|s| s.as_str().to_ascii_uppercase())
        .unwrap_or_else(|| "INFO".into());
    let mut s = format!(
        "[backup-guard] {sev}: {} of {} tables non-compliant",
        t.non_compliant, t.tables
    );
    if t.unverifiable > 0 {
        s.push_str(&format!(", {} unverifiable", t.unverifiable));
    }
    if t.failed_regions > 0 {
        s.push_str(&format!(", {} region(s) failed", t.failed_regions));
    }
    if t.unread_sources > 0 {
        s.push_str(&format!(", {} source(s) unread", t.unread_sources));
    }
    if t.evidence_failed > 0 {
        s.push_str(&format!(", evidence NOT stored ({})", t.evidence_failed));
    }
    s.push_str(&format!(", {} new, {} resolved", t.new, t.resolved));
    s
}

/// What the digest always carries, whatever fits of the lists: the run's counts and one
/// paragraph per region, as text and as the JSON document the lists are added to.
struct Header {
    text: String,
    json: Value,
}

impl Header {
    fn of(regions: &[RegionDigest<'_>], ctx: &DigestContext, t: &Totals) -> Header {
        let mut text = format!(
            "backup-guard nightly recovery verification\nEvaluated at {} for account {} (mode {}).\n\n",
            ctx.generated_at, t.account, ctx.mode
        );
        if t.all_good {
            text.push_str(&format!(
                "All {} tables are compliant (or exempt / pending their first backup). No open problems.\n\n",
                t.tables
            ));
        } else {
            text.push_str(&format!(
                "{} open problem(s): {} new, {} still open; {} resolved since the last run.\n\n",
                t.open,
                t.new,
                t.open - t.new,
                t.resolved
            ));
        }
        for r in regions {
            text.push_str(&region_text(r));
        }
        if !ctx.evidence.is_empty() {
            for (region, e) in &ctx.evidence {
                text.push_str(&e.line(region));
                text.push('\n');
            }
            text.push('\n');
        }
        let mut json = json!({
            "kind": "backup-guard.verifier-digest",
            "generated_at": ctx.generated_at.to_string(),
            "account": ctx.account,
            "mode": ctx.mode,
            "worst_severity": t.worst.map(|s| s.as_str()),
            "all_compliant": t.all_good,
            "tables": t.tables,
            "regions": regions.iter().map(region_json).collect::<Vec<_>>(),
        });
        if !ctx.evidence.is_empty() {
            json["evidence"] = serde_json::to_value(&ctx.evidence).unwrap_or(Value::Null);
        }
        Header { text, json }
    }
}

/// A region's paragraph of the header.
fn region_text(r: &RegionDigest<'_>) -> String {
    let rr = r.report;
    let mut text = format!(
        "Region {}: {} tables: {}.\n",
        rr.region,
        rr.report.tables.len(),
        verdict_counts(rr)
    );
    if let Some(f) = &rr.failure {
        text.push_str(&format!("  NOT VERIFIED: {f}\n"));
    }
    text.push_str(&format!(
        "  Problems: {} new, {} still open, {} resolved.\n",
        r.diff.new.len(),
        r.diff.still_open.len(),
        r.diff.resolved.len()
    ));
    if let Some(n) = &r.state_note {
        text.push_str(&format!("  Note: {n}\n"));
    }
    let unreachable = &rr.report.unreachable;
    for u in unreachable.iter().take(UNREACHABLE_LISTED) {
        text.push_str(&format!("  Not read: {}: {}\n", u.what, u.reason));
    }
    if unreachable.len() > UNREACHABLE_LISTED {
        text.push_str(&format!(
            "  ... and {} more parts not read (see the run report in the log).\n",
            unreachable.len() - UNREACHABLE_LISTED
        ));
    }
    text.push_str(&format!(
        "  API calls: {} (minimal for this inventory: {}), {} retries, {} ms.\n",
        rr.counted_calls,
        rr.minimal_calls
            .map(|m| m.to_string())
            .unwrap_or_else(|| "n/a".into()),
        rr.retries,
        rr.duration_ms
    ));
    text
}

/// A region's record in the header's JSON `regions`.
fn region_json(r: &RegionDigest<'_>) -> Value {
    let rr = r.report;
    let unreachable = &rr.report.unreachable;
    json!({
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
    })
}

/// The entries of one list over every region, worst first, then by region, table, code and
/// subject. Resolved problems carry no message (their finding is gone).
fn entries<'a>(regions: &'a [RegionDigest<'_>], kind: ListKind) -> Vec<Entry<'a>> {
    let multi_region = regions.len() > 1;
    let messages: BTreeMap<&str, &Finding> = regions
        .iter()
        .flat_map(|r| r.report.report.tables.iter())
        .flat_map(|t| t.findings.iter())
        .map(|f| (f.id.as_str(), f))
        .collect();
    let mut entries: Vec<Entry<'a>> = Vec::new();
    for r in regions {
        for open in kind.of(&r.diff) {
            let message = if kind == ListKind::Resolved {
                None
            } else {
                messages.get(open.id.as_str()).map(|f| f.message.as_str())
            };
            let region = (multi_region).then_some(r.report.region.as_str());
            entries.push(Entry {
                region: &r.report.region,
                open,
                line: entry_line(open, region, message),
                record: json!({
                    "id": open.id, "code": open.code, "severity": open.severity,
                    "region": r.report.region, "table": open.table, "subject": open.subject,
                    "message": message,
                }),
            });
        }
    }
    entries.sort_by(|a, b| {
        b.open
            .severity
            .cmp(&a.open.severity)
            .then_with(|| a.region.cmp(b.region))
            .then_with(|| a.open.table.cmp(&b.open.table))
            .then_with(|| a.open.code.as_str().cmp(b.open.code.as_str()))
            .then_with(|| a.open.subject.cmp(&b.open.subject))
    });
    entries
}

/// One problem's text line; the region is named only when the digest covers several.
fn entry_line(open: &OpenFinding, region: Option<&str>, message: Option<&str>) -> String {
    let mut line = format!("  [{}] {} {}", open.severity, open.code, open.table);
    if let Some(r) = region {
        line.push_str(&format!(" ({r})"));
    }
    if let Some(s) = &open.subject {
        line.push_str(&format!(" @ {s}"));
    }
    if let Some(m) = message {
        line.push_str(&format!(": {m}"));
    }
    line.push('\n');
    line
}

/// One list of the digest as sent: the entries listed whole, and the rest, summarised.
struct Section<'e, 'a> {
    kind: ListKind,
    listed: Vec<&'e Entry<'a>>,
    not_listed: Vec<&'e Entry<'a>>,
}

impl Section<'_, '_> {
    fn total(&self) -> usize {
        self.listed.len() + self.not_listed.len()
    }

    /// Appends the list's text (title, listed lines, summary of the rest) and adds its JSON
    /// records (`new`, ...) and summary (`new_not_listed`, ...); nothing if the list is empty.
    fn render(&self, text: &mut String, doc: &mut serde_json::Map<String, Value>) {
        if self.total() == 0 {
            return;
        }
        text.push_str(&format!("\n{} ({})\n", self.kind.title(), self.total()));
        for e in &self.listed {
            text.push_str(&e.line);
        }
        doc.insert(
            self.kind.key().to_string(),
            Value::Array(self.listed.iter().map(|e| e.record.clone()).collect()),
        );
        if !self.not_listed.is_empty() {
            let (summary_text, summary_json) = summary(&self.not_listed);
            text.push_str(&summary_text);
            doc.insert(format!("{}_not_listed", self.kind.key()), summary_json);
        }
    }
}

/// The digest as typed parts: subject, header, the three lists (in [`ListKind::PRIORITY`]
/// order) and the attributes; rendered to text and JSON only to be sent or measured.
struct Digest<'h, 'e, 'a> {
    subject: String,
    header: &'h Header,
    sections: Vec<Section<'e, 'a>>,
    attributes: Vec<(String, AttributeValue)>,
}

const FOOTER: &str =
    "\nThe full run report (every table, finding and API call) is in the verifier's log.\n";

impl Digest<'_, '_, '_> {
    fn section(&self, kind: ListKind) -> Option<&Section<'_, '_>> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// The text and the JSON document: the header, the lists in [`ListKind::SHOWN`] order,
    /// and the text's closing line.
    fn render(&self) -> (String, Value) {
        let mut text = self.header.text.clone();
        let mut doc = match &self.header.json {
            Value::Object(o) => o.clone(),
            _ => serde_json::Map::new(),
        };
        for kind in ListKind::SHOWN {
            if let Some(s) = self.section(kind) {
                s.render(&mut text, &mut doc);
            }
        }
        text.push_str(FOOTER);
        (text, Value::Object(doc))
    }

    fn message(&self) -> AlertMessage {
        let (text, json) = self.render();
        AlertMessage {
            subject: self.subject.clone(),
            text,
            json,
            attributes: self.attributes.clone(),
            chat: None,
        }
    }

    /// Moves the last quarter (rounded up) of the lowest-priority list that still lists
    /// something to its summary; false if nothing is listed any more.
    fn list_less(&mut self) -> bool {
        let Some(s) = self
            .sections
            .iter_mut()
            .rev()
            .find(|s| !s.listed.is_empty())
        else {
            return false;
        };
        let take = s.listed.len().div_ceil(4);
        let mut moved = s.listed.split_off(s.listed.len() - take);
        moved.append(&mut s.not_listed);
        s.not_listed = moved;
        true
    }

    /// The message with no list at all, when even summaries do not fit: the header's counts.
    /// The text is cut where the new problems' list begins; without new problems there is no
    /// such place and the whole text is kept, as the digest always did.
    fn counts_only(&self) -> AlertMessage {
        let head = if self.section(ListKind::New).is_some_and(|s| s.total() > 0) {
            self.header.text.clone()
        } else {
            self.render().0
        };
        let mut json = self.header.json.clone();
        if let Some(o) = json.as_object_mut() {
            o.insert("details_omitted".into(), Value::Bool(true));
        }
        AlertMessage {
            subject: self.subject.clone(),
            text: format!(
                "{head}\n(Problem lists omitted to fit SNS's size limit; see the log.)\n"
            ),
            json,
            attributes: self.attributes.clone(),
            chat: None,
        }
    }
}

/// Builds the digest message (subject, text, JSON, attributes), under SNS's limit unless even
/// the header alone exceeds it.
pub fn build_digest(regions: &[RegionDigest<'_>], ctx: &DigestContext) -> AlertMessage {
    let totals = Totals::of(regions, ctx);
    let subject = subject(&totals);
    let header = Header::of(regions, ctx, &totals);
    let attributes = digest_attributes(regions, totals.worst, ctx, &totals.account);
    let lists: Vec<(ListKind, Vec<Entry<'_>>)> = ListKind::PRIORITY
        .into_iter()
        .map(|kind| (kind, entries(regions, kind)))
        .collect();
    fit(subject, &header, attributes, &lists)
}

/// Lists whole entries while the estimate says they fit, highest priority first, and
/// summarises the rest; then renders, and should the estimate be off, moves listed entries
/// (lowest priority first) to the summaries until the message fits, or sends the counts only.
fn fit(
    subject: String,
    header: &Header,
    attributes: Vec<(String, AttributeValue)>,
    lists: &[(ListKind, Vec<Entry<'_>>)],
) -> AlertMessage {
    // Budget, in bytes on the wire: SNS counts the whole `MessageStructure=json` body, which
    // carries the text and the JSON document several times over (escaped), plus attributes.
    let attr_size = attributes_size(&attributes).unwrap_or(0);
    let (text_copies, json_copies) = body_copies();
    let cost = |text: &str, json: &str| {
        text_copies * escaped_len(text) + json_copies * (escaped_len(json) + 1)
    };
    let fixed = cost(&header.text, &header.json.to_string())
        + 3 * cost(&" ".repeat(SUMMARY_RESERVE), &" ".repeat(SUMMARY_RESERVE));
    let mut left = MAX_MESSAGE_BYTES.saturating_sub(attr_size + SAFETY_BYTES + fixed);
    let mut sections = Vec::new();
    for (kind, entries) in lists {
        let mut section = Section {
            kind: *kind,
            listed: Vec::new(),
            not_listed: Vec::new(),
        };
        for e in entries {
            let c = cost(&e.line, &e.record.to_string());
            if section.not_listed.is_empty() && c <= left {
                left -= c;
                section.listed.push(e);
            } else {
                section.not_listed.push(e);
            }
        }
        sections.push(section);
    }
    let mut digest = Digest {
        subject,
        header,
        sections,
        attributes,
    };
    loop {
        let msg = digest.message();
        if wire_size(&msg) <= MAX_MESSAGE_BYTES {
            return msg;
        }
        if !digest.list_less() {
            return digest.counts_only();
        }
    }
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
            chat: None,
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

fn digest_attributes(
    regions: &[RegionDigest<'_>],
    worst: Option<Severity>,
    ctx: &DigestContext,
    account: &str,
) -> Vec<(String, AttributeValue)> {
    let mut codes: Vec<String> = regions
        .iter()
        .flat_map(|r| r.diff.new.iter().chain(r.diff.still_open.iter()))
        .map(|f| f.code.as_str().to_string())
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
            facts: evidence::InventoryFacts::unread("not read in this test"),
            duration_ms: 0,
        }
    }

    fn ctx() -> DigestContext {
        DigestContext {
            evidence: BTreeMap::new(),
            generated_at: "2026-11-25T12:00:00Z".parse().unwrap(),
            account: Some("123456789012".into()),
            mode: "enforce".into(),
        }
    }

    #[test]
    fn a_failed_evidence_write_spoils_an_ok_digest_and_a_written_one_is_located() {
        let report = region_report(0, 0);
        let region = RegionDigest {
            report: &report,
            diff: FindingDiff::default(),
            state_note: None,
        };
        let ok = build_digest(std::slice::from_ref(&region), &ctx());
        assert!(
            ok.subject.starts_with("[backup-guard] OK"),
            "{}",
            ok.subject
        );
        assert!(!ok.text.contains("Evidence"));

        let mut c = ctx();
        c.evidence.insert(
            "eu-west-1".into(),
            EvidenceStatus::Written {
                location: "s3://b/evidence/123456789012/eu-west-1/2026/11/25/r/".into(),
            },
        );
        let written = build_digest(std::slice::from_ref(&region), &c);
        assert!(written.subject.starts_with("[backup-guard] OK"));
        assert!(
            written.text.contains(
                "Evidence eu-west-1: s3://b/evidence/123456789012/eu-west-1/2026/11/25/r/"
            )
        );
        assert_eq!(written.json["evidence"]["eu-west-1"]["status"], "written");

        c.evidence.insert(
            "eu-west-1".into(),
            EvidenceStatus::NotWritten {
                location: None,
                error: "S3.PutObject failed (AccessDenied): denied".into(),
            },
        );
        let failed = build_digest(std::slice::from_ref(&region), &c);
        assert!(
            failed
                .subject
                .starts_with("[backup-guard] HIGH: evidence NOT stored (1 region(s))"),
            "{}",
            failed.subject
        );
        assert!(
            failed
                .text
                .contains("NOT WRITTEN: S3.PutObject failed (AccessDenied)")
        );
        assert_eq!(
            failed.json["evidence"]["eu-west-1"]["status"],
            "not_written"
        );
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

    #[test]
    fn worst_severity_and_order_come_from_the_typed_severities_of_open_problems() {
        let report = region_report(1, 0);
        let open = |id: &str, code: FindingCode, severity: Severity| OpenFinding {
            id: id.into(),
            code,
            severity,
            table: "carried-over".into(),
            subject: None,
        };
        let d = FindingDiff {
            new: vec![open("bg-1", FindingCode::MissingTag, Severity::Warning)],
            still_open: vec![open("bg-2", FindingCode::NotCovered, Severity::Critical)],
            // A resolved problem does not count, whatever its severity.
            resolved: vec![open("bg-3", FindingCode::NotCovered, Severity::Critical)],
        };
        let mut region = RegionDigest {
            report: &report,
            diff: d,
            state_note: None,
        };
        assert_eq!(
            worst_severity(std::slice::from_ref(&region)),
            Some(Severity::Critical)
        );
        let msg = build_digest(std::slice::from_ref(&region), &ctx());
        assert!(
            msg.subject.starts_with("[backup-guard] CRITICAL: "),
            "{}",
            msg.subject
        );
        assert!(
            msg.text.contains("  [critical] NOT_COVERED carried-over\n"),
            "{}",
            msg.text
        );
        assert_eq!(msg.json["still_open"][0]["severity"], "critical");
        region.diff.still_open.clear();
        assert_eq!(
            worst_severity(std::slice::from_ref(&region)),
            Some(Severity::Warning)
        );
    }
}
