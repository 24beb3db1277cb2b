//! # evidence
//!
//! The evidence bundle of one verification run of one account and region: what an auditor
//! opens, keeps and compares with last quarter. Pure (no AWS types, no I/O): the nightly
//! verifier and the CLI `report` build it from the same [`EvidenceInput`]; storing it is
//! `awsio`'s job.
//!
//! A bundle is three files ([`EVIDENCE_JSON`], [`SLOTS_CSV`], [`REPORT_HTML`]). The CSV and the
//! HTML are rendered from the [`EvidenceDoc`] alone, so a stored `evidence.json` renders again
//! to the same bytes ([`render_bundle`]). `evidence.json` carries the SHA-256 of the other two
//! ([`EvidenceDoc::files`]); whoever stores the bundle records the SHA-256 of `evidence.json`
//! itself beside it ([`Bundle::manifest`]).

mod csv;
mod doc;
mod html;
mod model;

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::RunReport;
use policy::facts::{BackupSetup, Fact, JobFacts, RecoveryPointFacts};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use csv::CSV_COLUMNS;
pub use model::*;

/// Version of the `evidence.json` schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
/// File name of the machine-readable evidence.
pub const EVIDENCE_JSON: &str = "evidence.json";
/// File name of the table × slot rows.
pub const SLOTS_CSV: &str = "slots.csv";
/// File name of the self-contained report page.
pub const REPORT_HTML: &str = "report.html";

/// Why a bundle could not be built, read back or trusted.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The document could not be serialised or parsed.
    #[error("{file}: {source}")]
    Json {
        /// The file concerned.
        file: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A file's bytes do not hash to what the bundle recorded: it was changed after it was
    /// written.
    #[error("{file} was modified: recorded SHA-256 {expected}, stored bytes hash to {actual}")]
    Tampered {
        /// The file whose hash differs.
        file: String,
        /// The SHA-256 the bundle recorded.
        expected: String,
        /// The SHA-256 of the bytes read.
        actual: String,
    },
    /// A file the bundle records is missing.
    #[error("{0} is missing from the bundle")]
    Missing(String),
}

/// Whether one source of facts was read completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// The source (`tables`, `vault Default`, `backup-jobs`...).
    pub source: String,
    /// `None` if read completely; otherwise why not.
    pub unread: Option<String>,
}

/// What the run was, beside the policy's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run's id (unique per run; the last part of its storage prefix).
    pub run_id: String,
    /// The account verified, if it could be read.
    pub account: Option<String>,
    /// The region verified.
    pub region: String,
    /// What produced the bundle (`backup-guard recovery-verifier 0.1.0`, `backup-guard report`).
    pub generator: String,
}

/// The facts of the inventory that the policy's [`RunReport`] does not carry: every table's
/// recovery points (for the retention of each point and the satisfying point of each slot),
/// the plans and selections (for the plans' conformance and the names of plans and rules),
/// and the failed backup jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryFacts {
    /// The plans and selections read.
    pub setup: BackupSetup,
    /// Each evaluated table's recovery points (its own only), by table ARN; a table missing
    /// from the map has unknown points.
    pub points: BTreeMap<String, Fact<Vec<RecoveryPointFacts>>>,
    /// The failed backup jobs read (`ListBackupJobs`), or why they are unknown.
    pub failed_jobs: Fact<Vec<JobFacts>>,
}

impl InventoryFacts {
    /// Facts of a run whose inventory could not be read at all: everything unknown for
    /// `reason`.
    pub fn unread(reason: &str) -> InventoryFacts {
        InventoryFacts {
            setup: BackupSetup {
                plans: Fact::unknown(reason),
                selections: Fact::unknown(reason),
            },
            points: BTreeMap::new(),
            failed_jobs: Fact::unknown(reason),
        }
    }
}

/// Everything a bundle is built from.
#[derive(Debug, Clone)]
pub struct EvidenceInput<'a> {
    /// The run.
    pub run: RunInfo,
    /// The policy's report for the region (tables, verdicts, findings, API calls).
    pub report: &'a RunReport,
    /// Every source read, with whether it was read completely.
    pub sources: Vec<SourceStatus>,
    /// The inventory's facts beside the report (points, plans, failed jobs).
    pub facts: &'a InventoryFacts,
    /// Why nothing in the region could be verified, if so.
    pub failure: Option<String>,
}

/// One table's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEvidence {
    /// The table's name.
    pub name: String,
    /// The table's ARN.
    pub arn: String,
    /// The verdict (`COMPLIANT`, `NON_COMPLIANT`, `EXEMPT`, `PENDING`, `UNVERIFIABLE`).
    pub verdict: String,
    /// Creation time, when it was read (`DescribeTable`, only where a verdict depends on it).
    pub created: Option<Timestamp>,
    /// The exemption reason of an exempt table.
    pub exempt_reason: Option<String>,
    /// Whether and by what the table is protected.
    pub coverage: CoverageEvidence,
    /// Every slot of the horizon ([`EvidenceDoc::horizon`]), in order.
    pub slots: Vec<SlotEvidence>,
    /// Every recovery point of the table listed, with its retention.
    pub points: PointsEvidence,
    /// The findings, most severe first.
    pub findings: Vec<FindingEvidence>,
    /// Ids of the table's failed backup jobs ([`EvidenceDoc::failed_jobs`]).
    pub failed_jobs: Vec<String>,
    /// Remarks that are not findings.
    pub notes: Vec<String>,
}

/// The content of `evidence.json` (schema version [`SCHEMA_VERSION`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDoc {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The run.
    pub run: RunInfo,
    /// When the policy was evaluated.
    pub generated_at: Timestamp,
    /// Why nothing in the region could be verified, if so.
    pub failure: Option<String>,
    /// The policy judged.
    pub policy: PolicyEvidence,
    /// The slots judged (`now − retention .. now`).
    pub horizon: Horizon,
    /// Number of tables per verdict word (every verdict, zero included).
    pub verdicts: BTreeMap<String, u64>,
    /// Number of findings per code (codes that occur).
    pub findings_per_code: BTreeMap<String, u64>,
    /// Every table, by name.
    pub tables: Vec<TableEvidence>,
    /// The backup plans and their conformance.
    pub plans: PlansEvidence,
    /// The failed backup jobs of the account.
    pub failed_jobs: JobsEvidence,
    /// Every source read, with whether it was read completely.
    pub sources: Vec<SourceStatus>,
    /// The run's API calls per operation.
    pub api_calls: BTreeMap<String, u64>,
    /// Remarks about the run as a whole.
    pub notes: Vec<String>,
    /// SHA-256 (lowercase hex) of the bundle's other files, by file name.
    pub files: BTreeMap<String, String>,
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// File name ([`EVIDENCE_JSON`], [`SLOTS_CSV`], [`REPORT_HTML`]).
    pub name: String,
    /// MIME type to store it with.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A rendered bundle: the document and its files (evidence.json first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The document `evidence.json` holds (with the other files' hashes filled in).
    pub doc: EvidenceDoc,
    /// The files, `evidence.json` first.
    pub files: Vec<BundleFile>,
}

impl Bundle {
    /// SHA-256 of every file, `evidence.json` included, by name: what the store records beside
    /// the bundle so that `evidence.json` itself can be checked.
    pub fn manifest(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|f| (f.name.clone(), sha256_hex(&f.bytes)))
            .collect()
    }

    /// The file named `name`, if the bundle has it.
    pub fn file(&self, name: &str) -> Option<&BundleFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl EvidenceDoc {
    /// The document for `input` (its `files` still empty; [`render_bundle`] fills them).
    pub fn from_input(input: &EvidenceInput<'_>) -> EvidenceDoc {
        doc::build(input)
    }

    /// The sources not read completely.
    pub fn unread_sources(&self) -> impl Iterator<Item = &SourceStatus> {
        self.sources.iter().filter(|s| s.unread.is_some())
    }
}

/// A writer that only counts the bytes written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds the bundle of a run.
pub fn build_bundle(input: &EvidenceInput<'_>) -> Result<Bundle, EvidenceError> {
    render_bundle(EvidenceDoc::from_input(input))
}

/// Renders the CSV and the HTML from `doc`, records their hashes in it and serialises it: the
/// same document always gives the same bytes.
pub fn render_bundle(mut doc: EvidenceDoc) -> Result<Bundle, EvidenceError> {
    let csv = csv::render(&doc).into_bytes();
    let html = html::render(&doc).into_bytes();
    doc.files = BTreeMap::from([
        (SLOTS_CSV.to_string(), sha256_hex(&csv)),
        (REPORT_HTML.to_string(), sha256_hex(&html)),
    ]);
    // Compact (one line and a newline): at 10,000 tables the indentation alone would add a
    // quarter to the file; `jq .` shows it indented.
    // Sized exactly first (a counting pass): a growing buffer would double to twice the
    // document's size at its peak, and at 10,000 tables the document is tens of MB.
    let json_error = |source| EvidenceError::Json {
        file: EVIDENCE_JSON.to_string(),
        source,
    };
    let mut count = ByteCount(0);
    serde_json::to_writer(&mut count, &doc).map_err(json_error)?;
    let mut json = Vec::with_capacity(count.0 + 1);
    serde_json::to_writer(&mut json, &doc).map_err(json_error)?;
    json.push(b'\n');
    Ok(Bundle {
        doc,
        files: vec![
            BundleFile {
                name: EVIDENCE_JSON.to_string(),
                content_type: "application/json",
                bytes: json,
            },
            BundleFile {
                name: SLOTS_CSV.to_string(),
                content_type: "text/csv; charset=utf-8",
                bytes: csv,
            },
            BundleFile {
                name: REPORT_HTML.to_string(),
                content_type: "text/html; charset=utf-8",
                bytes: html,
            },
        ],
    })
}

/// Reads a stored bundle back: parses `evidence.json` and checks every other file against the
/// hashes it records. `files` maps file names to the bytes read.
pub fn read_bundle(files: &BTreeMap<String, Vec<u8>>) -> Result<EvidenceDoc, EvidenceError> {
    let json = files
        .get(EVIDENCE_JSON)
        .ok_or_else(|| EvidenceError::Missing(EVIDENCE_JSON.to_string()))?;
    let doc: EvidenceDoc = serde_json::from_slice(json).map_err(|source| EvidenceError::Json {
        file: EVIDENCE_JSON.to_string(),
        source,
    })?;
    for (name, expected) in &doc.files {
        let bytes = files
            .get(name)
            .ok_or_else(|| EvidenceError::Missing(name.clone()))?;
        let actual = sha256_hex(bytes);
        if &actual != expected {
            return Err(EvidenceError::Tampered {
                file: name.clone(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use policy::facts::{CreatedBy, PlanFacts, PointStatus, RuleFacts, SelectionFacts, TableFacts};
    use policy::{Evaluator, Policy};

    use super::*;

    const ACCOUNT: &str = "123456789012";
    const NOW: &str = "2026-11-25T12:00:00Z";

    fn arn(name: &str) -> String {
        format!("arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{name}")
    }

    fn table(name: &str, tags: &[(&str, &str)]) -> TableFacts {
        TableFacts {
            arn: arn(name),
            name: name.to_string(),
            account: ACCOUNT.to_string(),
            region: "eu-west-1".to_string(),
            created: None,
            tags: Fact::Known(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }

    fn setup() -> BackupSetup {
        BackupSetup {
            plans: Fact::Known(vec![PlanFacts {
                plan_id: "plan-1".into(),
                plan_arn: String::new(),
                name: "policy-plan".into(),
                version_id: "v1".into(),
                rules: vec![RuleFacts {
                    rule_id: Some("rule-1".into()),
                    name: "twice-monthly".into(),
                    target_vault: "vault".into(),
                    schedule_expression: "cron(0 0 15,25 * ? *)".into(),
                    schedule_timezone: None,
                    start_window_minutes: Some(60),
                    completion_window_minutes: Some(180),
                    delete_after_days: Some(90),
                    move_to_cold_storage_after_days: None,
                }],
            }]),
            selections: Fact::Known(vec![SelectionFacts {
                selection_id: "sel-1".into(),
                name: "all".into(),
                plan_id: "plan-1".into(),
                resources: vec![arn("*")],
                not_resources: Vec::new(),
                list_of_tags: Vec::new(),
                conditions: Default::default(),
            }]),
        }
    }

    /// A point of `table` made by the policy's rule at `at` + 5 minutes, kept `days`.
    fn point(table: &str, at: &str, days: i64) -> RecoveryPointFacts {
        let created: Timestamp =
            at.parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_mins(5);
        RecoveryPointFacts {
            arn: format!("arn:aws:backup:eu-west-1:{ACCOUNT}:recovery-point:{table}-{at}"),
            resource_arn: arn(table),
            vault_name: "vault".into(),
            status: PointStatus::Available,
            created,
            completed: Some(created + jiff::SignedDuration::from_mins(20)),
            delete_after_days: Some(days),
            move_to_cold_storage_after_days: None,
            delete_at: Some(created + jiff::SignedDuration::from_hours(24 * days)),
            created_by: Some(Arc::new(CreatedBy {
                plan_id: "plan-1".into(),
                plan_arn: None,
                plan_version: None,
                rule_id: Some("rule-1".into()),
                rule_cron: None,
                rule_timezone: None,
            })),
            is_encrypted: Some(true),
            encryption_key_arn: None,
        }
    }

    /// A report of two tables: `good` with every slot's point (one of them kept 35 days), and
    /// an exempt table whose reason is hostile markup; the facts that go with it.
    fn input_parts() -> (RunReport, InventoryFacts) {
        let policy = Policy::default();
        let now: Timestamp = NOW.parse().unwrap();
        let setup = setup();
        let evaluator = Evaluator::new(&setup, &policy);
        let slots = [
            "2026-09-15T00:00:00Z",
            "2026-09-25T00:00:00Z",
            "2026-10-15T00:00:00Z",
            "2026-10-25T00:00:00Z",
            "2026-11-15T00:00:00Z",
            "2026-11-25T00:00:00Z",
        ];
        let mut good_points: Vec<_> = slots.iter().map(|s| point("good", s, 90)).collect();
        good_points[4] = point("good", slots[4], 35);
        let good = table("good", &[("owner", "me")]);
        let exempt = table(
            "odd",
            &[
                ("owner", "me"),
                ("backup-policy", "exempt"),
                ("exempt-reason", "<img src=x onerror=alert(1)> & \"quotes\""),
            ],
        );
        let no_jobs = Fact::Known(Vec::new());
        let tables = vec![
            evaluator.evaluate_table(&good, &Fact::Known(good_points.clone()), &no_jobs, now),
            evaluator.evaluate_table(&exempt, &Fact::Known(Vec::new()), &no_jobs, now),
        ];
        let report = RunReport::new(
            now,
            policy,
            tables,
            BTreeMap::from([("backup:ListBackupJobs".to_string(), 1)]),
            Vec::new(),
            Vec::new(),
        );
        let facts = InventoryFacts {
            setup,
            points: BTreeMap::from([
                (arn("good"), Fact::Known(good_points)),
                (arn("odd"), Fact::Known(Vec::new())),
            ]),
            failed_jobs: Fact::Known(Vec::new()),
        };
        (report, facts)
    }

    fn bundle(run_id: &str) -> Bundle {
        let (report, facts) = input_parts();
        build_bundle(&EvidenceInput {
            run: RunInfo {
                run_id: run_id.to_string(),
                account: Some(ACCOUNT.to_string()),
                region: "eu-west-1".to_string(),
                generator: "unit test".to_string(),
            },
            report: &report,
            sources: vec![SourceStatus {
                source: "Backup.ListBackupJobs".into(),
                unread: None,
            }],
            facts: &facts,
            failure: None,
        })
        .unwrap()
    }

    fn text<'a>(b: &'a Bundle, name: &str) -> &'a str {
        std::str::from_utf8(&b.file(name).unwrap().bytes).unwrap()
    }

    #[test]
    fn every_slot_of_the_horizon_gets_its_state_and_the_35_day_point_is_flagged() {
        let b = bundle("run-1");
        let good = &b.doc.tables[0];
        assert_eq!(good.name, "good");
        assert_eq!(good.verdict, "NON_COMPLIANT");
        let states: Vec<SlotState> = good.slots.iter().map(|s| s.status).collect();
        assert_eq!(states, vec![SlotState::Satisfied; 6]);
        assert_eq!(good.slots[4].point_findings, vec!["RETENTION_TOO_SHORT"]);
        let p = good.slots[4].point.as_ref().unwrap();
        assert_eq!(
            (p.plan.as_deref(), p.rule.as_deref()),
            (Some("policy-plan"), Some("twice-monthly"))
        );
        let short = good.points.items.iter().find(|x| x.arn == p.arn).unwrap();
        assert_eq!(short.delete_after_days, Some(35));
        assert_eq!(short.satisfies, vec![good.slots[4].at]);
        assert!(short.by_conforming_rule && !short.retention_issues.is_empty());
        let odd = &b.doc.tables[1];
        assert_eq!(odd.verdict, "EXEMPT");
        assert!(odd.slots.iter().all(|s| s.status == SlotState::Exempt));
        assert_eq!(b.doc.verdicts["EXEMPT"], 1);
        assert_eq!(b.doc.verdicts["COMPLIANT"], 0);
        assert!(b.doc.plans.items[0].conforms);
    }

    #[test]
    fn the_page_escapes_every_value_and_the_csv_quotes_per_rfc_4180() {
        let b = bundle("run \"7\", night");
        let html = text(&b, REPORT_HTML);
        assert!(!html.contains("<img"), "unescaped markup in the page");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;"));
        assert!(html.contains("run &quot;7&quot;, night"));
        let csv = text(&b, SLOTS_CSV);
        let first = csv.split("\r\n").nth(1).unwrap();
        assert!(first.ends_with(",\"run \"\"7\"\", night\""), "{first}");
        assert_eq!(csv.matches("\r\n").count(), 1 + 2 * 6);
    }

    #[test]
    fn a_stored_document_renders_to_the_same_bytes_and_a_changed_byte_is_tampering() {
        let b = bundle("run-1");
        let stored: BTreeMap<String, Vec<u8>> = b
            .files
            .iter()
            .map(|f| (f.name.clone(), f.bytes.clone()))
            .collect();
        let again = render_bundle(read_bundle(&stored).unwrap()).unwrap();
        assert_eq!(again, b);
        let mut changed = stored;
        changed.get_mut(SLOTS_CSV).unwrap()[0] ^= 1;
        assert!(matches!(
            read_bundle(&changed),
            Err(EvidenceError::Tampered { file, .. }) if file == SLOTS_CSV
        ));
    }

    #[test]
    fn the_calendar_comes_in_chunks_that_hold_every_row_once() {
        let mut doc = bundle("run-1").doc;
        let template = doc.tables[0].clone();
        doc.tables = (0..600)
            .map(|i| TableEvidence {
                name: format!("t{i:04}"),
                ..template.clone()
            })
            .collect();
        let b = render_bundle(doc).unwrap();
        let html = text(&b, REPORT_HTML);
        assert_eq!(html.matches("<div class=\"gc\">").count(), 3);
        assert_eq!(html.matches("<tr data-v=\"NON_COMPLIANT\">").count(), 600);
        for i in [0, 249, 250, 599] {
            assert_eq!(
                html.matches(&format!(">t{i:04}</th>")).count(),
                1,
                "t{i:04}"
            );
        }
        // One header row of slot columns, the same column layout in every chunk.
        assert_eq!(html.matches("<th data-at=").count(), 6);
        assert_eq!(html.matches("<colgroup>").count(), 4);
    }
}
