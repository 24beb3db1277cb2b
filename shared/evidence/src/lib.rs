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

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::RunReport;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Everything a bundle is built from.
#[derive(Debug, Clone)]
pub struct EvidenceInput<'a> {
    /// The run.
    pub run: RunInfo,
    /// The policy's report for the region (tables, verdicts, findings, API calls).
    pub report: &'a RunReport,
    /// Every source read, with whether it was read completely.
    pub sources: Vec<SourceStatus>,
}

/// One table's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEvidence {
    /// The table's name.
    pub name: String,
    /// The table's ARN.
    pub arn: String,
    /// The verdict (`COMPLIANT`, `NON_COMPLIANT`...).
    pub verdict: String,
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
    /// Every table, by name.
    pub tables: Vec<TableEvidence>,
    /// Every source read, with whether it was read completely.
    pub sources: Vec<SourceStatus>,
    /// The run's API calls per operation.
    pub api_calls: BTreeMap<String, u64>,
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
        EvidenceDoc {
            schema_version: SCHEMA_VERSION,
            run: input.run.clone(),
            generated_at: input.report.generated_at,
            tables: input
                .report
                .tables
                .iter()
                .map(|t| TableEvidence {
                    name: t.table.name.clone(),
                    arn: t.table.arn.clone(),
                    verdict: t.verdict.as_str().to_string(),
                })
                .collect(),
            sources: input.sources.clone(),
            api_calls: input.report.api_calls.clone(),
            files: BTreeMap::new(),
        }
    }
}

/// Builds the bundle of a run.
pub fn build_bundle(input: &EvidenceInput<'_>) -> Result<Bundle, EvidenceError> {
    render_bundle(EvidenceDoc::from_input(input))
}

/// Renders the CSV and the HTML from `doc`, records their hashes in it and serialises it: the
/// same document always gives the same bytes.
pub fn render_bundle(mut doc: EvidenceDoc) -> Result<Bundle, EvidenceError> {
    let csv = render_csv(&doc).into_bytes();
    let html = render_html(&doc).into_bytes();
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

/// `slots.csv`: a header and one row per table (the skeleton; one row per table × slot to come).
fn render_csv(doc: &EvidenceDoc) -> String {
    let mut out = String::from("table,verdict\n");
    for t in &doc.tables {
        out.push_str(&format!("{},{}\n", t.name, t.verdict));
    }
    out
}

/// `report.html` (the skeleton: a list of tables).
fn render_html(doc: &EvidenceDoc) -> String {
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>backup-guard evidence</title></head><body><ul>",
    );
    for t in &doc.tables {
        out.push_str(&format!("<li>{} {}</li>", t.name, t.verdict));
    }
    out.push_str("</ul></body></html>\n");
    out
}
