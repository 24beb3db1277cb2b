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
    let json = serde_json::to_vec_pretty(&doc).map_err(|source| EvidenceError::Json {
        file: EVIDENCE_JSON.to_string(),
        source,
    })?;
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
