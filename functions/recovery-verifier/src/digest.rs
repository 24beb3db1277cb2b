//! The nightly digest: one SNS message per run, always sent (a heartbeat: silence means the
//! verifier is broken).
//!
//! It says, per region, how many tables got each verdict, then lists the *problems* (findings
//! above `info` severity: everything but `EXEMPT` and `PENDING_FIRST_BACKUP`) as new,
//! still open, or resolved since the previous run. The subject carries the worst severity.
//!
//! Chat channels (AWS Chatbot) get a card ([`card`]): the counts, each region in a line, where
//! the evidence went, the top new problems and their remedies as next steps, within
//! Chatbot's limits and the same for every size of run.
//!
//! SNS accepts 256 KB per message, counted over the whole `MessageStructure=json` body, which
//! carries the text and the JSON document once per subscriber kind and the card once
//! ([`wire_size`]). Problems
//! are listed one whole line (and one whole JSON record) at a time while they fit, new ones first, then resolved, then still open; the rest
//! of each list is summarised by code and by table. Nothing is ever cut mid-record.

use std::collections::BTreeMap;

use awsio::chat::{self, ChatCard, MAX_DESCRIPTION_CHARS, code, escape};
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
/// How many new problems the chat card lists at most (worst first).
pub const CARD_NEW_LISTED: usize = 10;
/// How many regions the chat card gives a line each at most.
pub const CARD_REGIONS_LISTED: usize = 10;
/// The `eventType` of the digest's chat card.
pub const CARD_EVENT_TYPE: &str = "backup-guard.verifier-digest";

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
    chat: ChatCard,
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
            chat: Some(self.chat.clone()),
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
            chat: Some(self.chat.clone()),
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
    let chat = card(regions, ctx, &totals, &subject, &lists);
    fit(subject, &header, attributes, chat, &lists)
}

/// The chat card's description: the run's counts, a line per region, the evidence, then
/// the top new problems (worst first, whole lines while they fit in Chatbot's limit).
fn card_description(
    regions: &[RegionDigest<'_>],
    ctx: &DigestContext,
    t: &Totals,
    new: &[Entry<'_>],
) -> String {
    let max = MAX_DESCRIPTION_CHARS;
    let mut d = String::new();
    chat::push_line(
        &mut d,
        &format!(
            "*Account* {} · mode {} · evaluated {}",
            code(&t.account),
            code(&ctx.mode),
            code(&ctx.generated_at.to_string())
        ),
        max,
    );
    chat::push_line(
        &mut d,
        &format!(
            "*{}* tables · *{}* non-compliant · *{}* unverifiable",
            t.tables, t.non_compliant, t.unverifiable
        ),
        max,
    );
    chat::push_line(
        &mut d,
        &format!(
            "*{}* open problems: *{}* new, *{}* still open · *{}* resolved since the last run",
            t.open,
            t.new,
            t.open - t.new,
            t.resolved
        ),
        max,
    );
    // Room is kept for the problems: regions and evidence take at most half.
    let half = max / 2;
    for r in regions.iter().take(CARD_REGIONS_LISTED) {
        let rr = r.report;
        let mut line = format!(
            "• {}: {} tables: {}",
            code(&rr.region),
            rr.report.tables.len(),
            verdict_counts(rr)
        );
        if let Some(f) = &rr.failure {
            line.push_str(&format!(" — *NOT VERIFIED*: {}", escape(f)));
        } else if rr.unread_sources().count() > 0 {
            line.push_str(&format!(
                " — {} source(s) not read",
                rr.unread_sources().count()
            ));
        }
        chat::push_line(&mut d, &line, half);
    }
    if regions.len() > CARD_REGIONS_LISTED {
        chat::push_line(
            &mut d,
            &format!(
                "• … and {} more regions",
                regions.len() - CARD_REGIONS_LISTED
            ),
            half,
        );
    }
    for (region, e) in &ctx.evidence {
        let line = match e {
            EvidenceStatus::Written { location } => {
                format!("*Evidence* {}: {}", code(region), code(location))
            }
            EvidenceStatus::NotWritten { error, .. } => {
                format!(
                    "*Evidence* {}: *NOT stored*: {}",
                    code(region),
                    escape(error)
                )
            }
            other => format!(
                "*Evidence* {}: {}",
                code(region),
                escape(&other.line(region))
            ),
        };
        chat::push_line(&mut d, &line, half);
    }
    card_top_new(&mut d, new, regions.len() > 1);
    d.trim_end().to_string()
}

/// Appends the card's "Top new problems": at most [`CARD_NEW_LISTED`], worst first, each a
/// whole line while it fits, then how many more there are.
fn card_top_new(d: &mut String, new: &[Entry<'_>], multi_region: bool) {
    let max = MAX_DESCRIPTION_CHARS;
    if new.is_empty() {
        return;
    }
    chat::push_line(d, "*Top new problems*", max);
    let listed = new.len().min(CARD_NEW_LISTED);
    for (i, e) in new.iter().take(listed).enumerate() {
        let room = if i + 1 < new.len() { max - 60 } else { max };
        let mut line = format!(
            "• ({}) {} {}",
            e.open.severity,
            code(e.open.code.as_str()),
            code(&e.open.table)
        );
        if multi_region {
            line.push_str(&format!(" in {}", code(e.region)));
        }
        if let Some(m) = e.record.get("message").and_then(Value::as_str) {
            line.push_str(&format!(": {}", escape(m)));
        }
        if !chat::push_line(d, &line, room) {
            chat::push_line(
                d,
                &format!("• … and {} more new (see the email)", new.len() - i),
                max,
            );
            return;
        }
    }
    if new.len() > listed {
        chat::push_line(
            d,
            &format!("• … and {} more new (see the email)", new.len() - listed),
            max,
        );
    }
}

/// The chat card's next steps: what to do about a region that was not verified and about
/// evidence not stored, then the remedy of each finding code among the open problems (new
/// first, worst first), with how many problems it answers.
fn card_next_steps(
    regions: &[RegionDigest<'_>],
    ctx: &DigestContext,
    lists: &[(ListKind, Vec<Entry<'_>>)],
    findings: &BTreeMap<&str, &Finding>,
) -> Vec<String> {
    let mut steps = Vec::new();
    for r in regions {
        if r.report.failure.is_some() {
            steps.push(format!(
                "Check the verifier's access in {}: the region was not verified (see the email)",
                code(&r.report.region)
            ));
        }
    }
    if ctx.evidence.values().any(EvidenceStatus::failed) {
        steps.push(
            "Find out why the evidence bundle was not stored (the verifier's log names the S3 error) and run the verifier again".to_string(),
        );
    }
    let mut per_code: Vec<(policy::FindingCode, usize, Option<&str>)> = Vec::new();
    for kind in [ListKind::New, ListKind::StillOpen] {
        let Some((_, entries)) = lists.iter().find(|(k, _)| *k == kind) else {
            continue;
        };
        for e in entries {
            let remedy = findings
                .get(e.open.id.as_str())
                .and_then(|f| f.remedy.as_deref());
            match per_code.iter_mut().find(|(c, _, _)| *c == e.open.code) {
                Some((_, n, r)) => {
                    *n += 1;
                    if r.is_none() {
                        *r = remedy;
                    }
                }
                None => per_code.push((e.open.code, 1, remedy)),
            }
        }
    }
    for (c, n, remedy) in per_code {
        if let Some(r) = remedy {
            steps.push(format!("{} ({n} open): {}", code(c.as_str()), escape(r)));
        }
    }
    steps
}

/// The digest's chat card: the subject as title (with the worst severity's emoji), the
/// description of [`card_description`], next steps from the remedies, keywords (severity,
/// `digest`, mode, the open problems' codes) and the tables of the top new problems.
fn card(
    regions: &[RegionDigest<'_>],
    ctx: &DigestContext,
    t: &Totals,
    subject: &str,
    lists: &[(ListKind, Vec<Entry<'_>>)],
) -> ChatCard {
    let findings: BTreeMap<&str, &Finding> = regions
        .iter()
        .flat_map(|r| r.report.report.tables.iter())
        .flat_map(|t| t.findings.iter())
        .map(|f| (f.id.as_str(), f))
        .collect();
    let new: &[Entry<'_>] = lists
        .iter()
        .find(|(k, _)| *k == ListKind::New)
        .map_or(&[], |(_, e)| e.as_slice());
    let severity = match t.worst {
        Some(s) => s.as_str(),
        None if t.evidence_failed > 0 => "high",
        None => "ok",
    };
    let title = format!(
        "{} {}",
        chat::severity_emoji(severity),
        escape(subject.trim_start_matches("[backup-guard] "))
    );
    let mut keywords = vec![severity.to_string(), "digest".to_string(), ctx.mode.clone()];
    for (_, entries) in lists.iter().filter(|(k, _)| *k != ListKind::Resolved) {
        for e in entries {
            let c = e.open.code.as_str().to_string();
            if !keywords.contains(&c) {
                keywords.push(c);
            }
        }
    }
    let related: Vec<String> = new
        .iter()
        .filter_map(|e| {
            findings
                .get(e.open.id.as_str())
                .map(|f| f.table_arn.clone())
        })
        .take(chat::MAX_RELATED_RESOURCES)
        .collect();
    let mut context = BTreeMap::new();
    context.insert("account".to_string(), t.account.clone());
    context.insert("mode".to_string(), ctx.mode.clone());
    context.insert("generated_at".to_string(), ctx.generated_at.to_string());
    context.insert(
        "regions".to_string(),
        regions
            .iter()
            .map(|r| r.report.region.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    context.insert("tables".to_string(), t.tables.to_string());
    context.insert("new".to_string(), t.new.to_string());
    context.insert("open".to_string(), t.open.to_string());
    context.insert("resolved".to_string(), t.resolved.to_string());
    ChatCard {
        id: format!(
            "digest-{}-{}",
            t.account.replace(' ', "-"),
            ctx.generated_at
        ),
        title,
        description: card_description(regions, ctx, t, new),
        next_steps: card_next_steps(regions, ctx, lists, &findings),
        keywords,
        thread_id: None,
        summary: subject.to_string(),
        event_type: CARD_EVENT_TYPE.to_string(),
        related_resources: related,
        additional_context: context,
    }
}

/// Lists whole entries while the estimate says they fit, highest priority first, and
/// summarises the rest; then renders, and should the estimate be off, moves listed entries
/// (lowest priority first) to the summaries until the message fits, or sends the counts only.
fn fit(
    subject: String,
    header: &Header,
    attributes: Vec<(String, AttributeValue)>,
    chat: ChatCard,
    lists: &[(ListKind, Vec<Entry<'_>>)],
) -> AlertMessage {
    // Budget, in bytes on the wire: SNS counts the whole `MessageStructure=json` body, which
    // carries the text and the JSON document several times over (escaped), plus attributes.
    let attr_size = attributes_size(&attributes).unwrap_or(0);
    let (text_copies, json_copies) = body_copies();
    let cost = |text: &str, json: &str| {
        text_copies * escaped_len(text) + json_copies * (escaped_len(json) + 1)
    };
    // The card is the same whatever is listed: carried once, as the `https` variant.
    let fixed = cost(&header.text, &header.json.to_string())
        + 3 * cost(&" ".repeat(SUMMARY_RESERVE), &" ".repeat(SUMMARY_RESERVE))
        + escaped_len(&chat.to_json().to_string())
        + 1;
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
        chat,
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

/// How many times the publisher's structured body carries the text and the JSON document
/// of a message with a chat card (the digest always has one).
fn body_copies() -> (usize, usize) {
    let probe = |text: &str, json: Value| {
        awsio::publisher::structured_body(&AlertMessage {
            subject: String::new(),
            text: text.to_string(),
            json,
            attributes: Vec::new(),
            chat: Some(ChatCard::default()),
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
            creation_cache: None,
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
        // The chat card rides along (the https variant) and is counted in the size.
        let card = msg.chat.clone().expect("the digest has a chat card");
        let body: Value =
            serde_json::from_str(&awsio::publisher::structured_body(&msg).unwrap()).unwrap();
        let https: Value = serde_json::from_str(body["https"].as_str().unwrap()).unwrap();
        assert_eq!(https, card.to_json());
        assert_eq!(body["sqs"], serde_json::to_string(&msg.json).unwrap());
        let d = https["content"]["description"].as_str().unwrap();
        assert!(d.chars().count() <= MAX_DESCRIPTION_CHARS);
        let top = d.lines().filter(|l| l.starts_with("• (high) ")).count();
        assert_eq!(top, CARD_NEW_LISTED);
        assert!(
            d.ends_with(&format!(
                "• … and {} more new (see the email)",
                5000 - CARD_NEW_LISTED
            )),
            "{d}"
        );
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
    fn the_digest_card_has_counts_top_new_problems_and_remedies_as_next_steps() {
        let mut report = region_report(3, 2);
        for t in &mut report.report.tables {
            for f in &mut t.findings {
                f.remedy = Some(format!("Fix {} of *{}* <!here>.", f.code, f.table_name));
            }
        }
        let d = diff(None, &open_problems(&report));
        let mut c = ctx();
        c.evidence.insert(
            "eu-west-1".into(),
            EvidenceStatus::NotWritten {
                location: None,
                error: "S3.PutObject failed (AccessDenied): <@U1> denied".into(),
            },
        );
        let msg = build_digest(
            &[RegionDigest {
                report: &report,
                diff: d,
                state_note: None,
            }],
            &c,
        );
        let j = msg.chat.clone().unwrap().to_json();
        assert_eq!(j["version"], "1.0");
        assert_eq!(j["source"], "custom");
        assert_eq!(j["content"]["textType"], "client-markdown");
        assert_eq!(
            j["content"]["title"],
            ":red_circle: HIGH: 3 of 3 tables non-compliant, evidence NOT stored (1), 6 new, 0 resolved"
        );
        let desc = j["content"]["description"].as_str().unwrap();
        for part in [
            "*3* tables · *3* non-compliant · *0* unverifiable",
            "*6* open problems: *6* new, *0* still open · *0* resolved since the last run",
            "• `eu-west-1`: 3 tables: 0 compliant, 3 non-compliant",
            "*Evidence* `eu-west-1`: *NOT stored*: S3.PutObject failed (AccessDenied): &lt;@\u{200B}U1&gt; denied",
            "*Top new problems*\n• (high) `MISSED_SLOT` `table-00000`: Table table-00000 missed",
        ] {
            assert!(desc.contains(part), "missing {part:?} in\n{desc}");
        }
        let steps: Vec<&str> = j["content"]["nextSteps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(steps[0].starts_with("Find out why the evidence bundle was not stored"));
        assert_eq!(
            steps[1],
            "`MISSED_SLOT` (3 open): Fix MISSED_SLOT of *\u{200B}table-00000*\u{200B} &lt;!here&gt;."
        );
        assert!(steps[2].starts_with("`RETENTION_TOO_LONG` (3 open): "));
        assert_eq!(steps.len(), 3);
        assert_eq!(
            j["content"]["keywords"],
            json!([
                "high",
                "digest",
                "enforce",
                "MISSED_SLOT",
                "RETENTION_TOO_LONG"
            ])
        );
        assert_eq!(j["metadata"]["eventType"], CARD_EVENT_TYPE);
        assert_eq!(j["metadata"]["summary"], msg.subject);
        assert_eq!(
            j["metadata"]["relatedResources"][0],
            "arn:aws:dynamodb:eu-west-1:123456789012:table/table-00000"
        );
        assert!(j["metadata"].get("threadId").is_none());
        let all = serde_json::to_string(&j).unwrap();
        assert!(!all.contains("<!here>") && !all.contains("<@U1>"), "{all}");
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

    /// The digest card of docs/CHAT.md (docs/chat-card-digest.json) is what this code
    /// builds; `BLESS_CHAT_EXAMPLES=1` writes it again.
    #[test]
    fn the_documented_digest_card_is_current() {
        let before = region_report(40, 2);
        let mut after = region_report(42, 2);
        for t in &mut after.report.tables {
            for f in &mut t.findings {
                f.message = match f.code {
                    FindingCode::MissedSlot => format!(
                        "Table {} has no recovery point for the slot of 2026-11-15T00:00:00Z (its completion window closed at 04:00).",
                        f.table_name
                    ),
                    _ => format!(
                        "A recovery point of table {} is kept 120 days, not exactly 90.",
                        f.table_name
                    ),
                };
                f.remedy = Some(match f.code {
                    FindingCode::MissedSlot => "Find out why AWS Backup did not back up the table in this window (backup jobs, IAM role, vault access, plan changes); a missed slot cannot be made up, so make sure the next one is taken.".to_string(),
                    _ => "Set the point's retention to exactly 90 days (UpdateRecoveryPointLifecycle).".to_string(),
                });
            }
        }
        let d = diff(Some(&open_problems(&before)), &open_problems(&after));
        let mut c = ctx();
        c.evidence.insert(
            "eu-west-1".into(),
            EvidenceStatus::Written {
                location: "s3://backup-guard-evidence/evidence/123456789012/eu-west-1/2026/11/25/20261125T120000Z-1a2b3c4d/".into(),
            },
        );
        let msg = build_digest(
            &[RegionDigest {
                report: &after,
                diff: d,
                state_note: None,
            }],
            &c,
        );
        let card = msg.chat.unwrap().to_json();
        let got = format!("{}\n", serde_json::to_string_pretty(&card).unwrap());
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/chat-card-digest.json"
        );
        if std::env::var_os("BLESS_CHAT_EXAMPLES").is_some() {
            std::fs::write(path, &got).unwrap();
        }
        let want = std::fs::read_to_string(path).unwrap_or_default();
        assert!(got == want, "{path} differs from:\n{got}");
    }
}
