//! The evidence store: each run's bundle ([`evidence::Bundle`]) in an S3 bucket with Object
//! Lock, where nobody can quietly change it.
//!
//! Layout, per account and region:
//!
//! ```text
//! evidence/<account>/<region>/<YYYY>/<MM>/<DD>/<run-id>/evidence.json
//!                                                      /slots.csv
//!                                                      /report.html
//!                                                      /manifest.json
//! evidence/<account>/<region>/latest.json
//! ```
//!
//! The date is the run's `generated_at` in UTC. `manifest.json` ([`Manifest`]) records the
//! SHA-256 of every file of the bundle (`evidence.json` included: the document itself records
//! only the others') and the run's summary, and is written after the files: a run with a
//! manifest is complete. `latest.json` ([`LatestIndex`]) points at the newest run.
//!
//! Every object is written with its content type and an SDK checksum (SHA-256, sent in the
//! `x-amz-checksum-sha256` header): S3 refuses a `PutObject` without Content-MD5 or an SDK
//! checksum in a bucket with Object Lock. [`verify_run`] checks a stored run: the manifest's
//! hash of each file, then [`evidence::read_bundle`]'s hashes; any mismatch or missing file is
//! an error naming the object.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use evidence::{Bundle, EvidenceDoc, EvidenceError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{AwsCallError, OperationContext};

/// The key prefix every stored run is under.
pub const PREFIX: &str = "evidence";
/// The file that records the hashes of the run's files and its summary (written last).
pub const MANIFEST_JSON: &str = "manifest.json";
/// The per-account-and-region index naming the newest run.
pub const LATEST_JSON: &str = "latest.json";
/// Version of the `manifest.json` and `latest.json` schemas.
pub const MANIFEST_VERSION: u32 = 1;
/// The account segment used when a run could not read its account.
pub const UNKNOWN_ACCOUNT: &str = "unknown-account";

/// Why the evidence store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An S3 call failed (the operation and AWS error code are in it).
    #[error("s3://{bucket}/{key}: {source}")]
    Aws {
        /// The bucket.
        bucket: String,
        /// The object (or prefix) concerned.
        key: String,
        /// The call's error.
        #[source]
        source: AwsCallError,
    },
    /// A document could not be encoded or parsed.
    #[error("s3://{bucket}/{key}: {reason}")]
    BadObject {
        /// The bucket.
        bucket: String,
        /// The object.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// An object the run needs is missing.
    #[error("s3://{bucket}/{key} is missing")]
    Missing {
        /// The bucket.
        bucket: String,
        /// The object.
        key: String,
    },
    /// An object's bytes do not hash to what the run recorded: it was changed after it was
    /// written.
    #[error(
        "s3://{bucket}/{key} was modified after it was written: recorded SHA-256 {expected}, stored bytes hash to {actual}"
    )]
    Tampered {
        /// The bucket.
        bucket: String,
        /// The modified object.
        key: String,
        /// The SHA-256 the run recorded.
        expected: String,
        /// The SHA-256 of the bytes read.
        actual: String,
    },
    /// A run id or key part that cannot be part of a key (empty, or with `/`).
    #[error("invalid evidence location: {0}")]
    InvalidLocation(String),
}

impl StoreError {
    /// The S3 error, if an S3 call failed.
    pub fn aws(&self) -> Option<&AwsCallError> {
        match self {
            StoreError::Aws { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where one run is stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunLocation {
    /// The bucket.
    pub bucket: String,
    /// The account (or [`UNKNOWN_ACCOUNT`]).
    pub account: String,
    /// The region verified.
    pub region: String,
    /// The run's date (UTC).
    pub date: Date,
    /// The run's id.
    pub run_id: String,
}

fn valid_segment(what: &str, s: &str) -> Result<(), StoreError> {
    if s.is_empty() || s.contains('/') || s == "." || s == ".." {
        return Err(StoreError::InvalidLocation(format!(
            "{what} {s:?} cannot be a key segment (empty, '.', '..' or containing '/')"
        )));
    }
    Ok(())
}

impl RunLocation {
    /// The location of run `run_id` generated at `generated_at` (its UTC date), checking every
    /// part can be a key segment.
    pub fn new(
        bucket: &str,
        account: Option<&str>,
        region: &str,
        generated_at: Timestamp,
        run_id: &str,
    ) -> Result<RunLocation, StoreError> {
        let account = account.unwrap_or(UNKNOWN_ACCOUNT);
        valid_segment("account", account)?;
        valid_segment("region", region)?;
        valid_segment("run id", run_id)?;
        if bucket.is_empty() {
            return Err(StoreError::InvalidLocation("empty bucket name".into()));
        }
        Ok(RunLocation {
            bucket: bucket.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            date: jiff::tz::TimeZone::UTC.to_datetime(generated_at).date(),
            run_id: run_id.to_string(),
        })
    }

    /// `evidence/<account>/<region>/<YYYY>/<MM>/<DD>/<run-id>/`.
    pub fn prefix(&self) -> String {
        format!(
            "{}{:04}/{:02}/{:02}/{}/",
            region_prefix(&self.account, &self.region),
            self.date.year(),
            self.date.month(),
            self.date.day(),
            self.run_id
        )
    }

    /// The key of the run's file `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    /// `s3://bucket/prefix`: where the run is, for people.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix())
    }

    /// Parses the key of a run's file (`evidence/a/r/YYYY/MM/DD/run/file`) into the run's
    /// location and the file name; `None` for any other key.
    pub fn from_key(bucket: &str, key: &str) -> Option<(RunLocation, String)> {
        let parts: Vec<&str> = key.split('/').collect();
        let [prefix, account, region, y, m, d, run_id, file] = parts.as_slice() else {
            return None;
        };
        if *prefix != PREFIX || file.is_empty() || run_id.is_empty() {
            return None;
        }
        let date = Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
        Some((
            RunLocation {
                bucket: bucket.to_string(),
                account: (*account).to_string(),
                region: (*region).to_string(),
                date,
                run_id: (*run_id).to_string(),
            },
            (*file).to_string(),
        ))
    }
}

/// `evidence/<account>/<region>/`.
pub fn region_prefix(account: &str, region: &str) -> String {
    format!("{PREFIX}/{account}/{region}/")
}

/// The key of the index of the newest run of an account and region.
pub fn latest_key(account: &str, region: &str) -> String {
    format!("{}{LATEST_JSON}", region_prefix(account, region))
}

/// A run's summary, recorded in its manifest so that listing runs needs no bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// When the policy was evaluated.
    pub generated_at: Timestamp,
    /// Tables judged.
    pub tables: u64,
    /// Tables per verdict (`compliant`, `non-compliant`...), every verdict listed.
    pub verdicts: BTreeMap<String, u64>,
    /// Problems new since the previous run, when the comparison was made.
    #[serde(default)]
    pub new: Option<u64>,
    /// Problems resolved since the previous run, when the comparison was made.
    #[serde(default)]
    pub resolved: Option<u64>,
    /// Problems still open, when the comparison was made.
    #[serde(default)]
    pub still_open: Option<u64>,
    /// Why the region was not verified, if it was not.
    #[serde(default)]
    pub failure: Option<String>,
}

/// `manifest.json`: the SHA-256 of every file of a run and its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`] of the writer.
    pub manifest_version: u32,
    /// The run's id.
    pub run_id: String,
    /// The account (or [`UNKNOWN_ACCOUNT`]).
    pub account: String,
    /// The region.
    pub region: String,
    /// SHA-256 (lowercase hex) of each file by name ([`Bundle::manifest`]).
    pub files: BTreeMap<String, String>,
    /// The run's summary.
    pub summary: RunSummary,
    /// What wrote the run.
    pub generator: String,
}

/// `latest.json`: the newest run of an account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestIndex {
    /// [`MANIFEST_VERSION`] of the writer.
    pub manifest_version: u32,
    /// The run's id.
    pub run_id: String,
    /// The run's key prefix.
    pub prefix: String,
    /// The key of its manifest.
    pub manifest: String,
    /// When the run's policy was evaluated.
    pub generated_at: Timestamp,
}

/// A run written to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenRun {
    /// Where.
    pub location: RunLocation,
    /// Every key written, in order (the files, the manifest, `latest.json`).
    pub keys: Vec<String>,
}

fn encode<T: Serialize>(bucket: &str, key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec_pretty(value).map_err(|e| StoreError::BadObject {
        bucket: bucket.to_string(),
        key: key.to_string(),
        reason: format!("cannot encode: {e}"),
    })
}

async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .op("S3.PutObject")
        .map_err(|source| StoreError::Aws {
            bucket: bucket.to_string(),
            key: key.to_string(),
            source,
        })?;
    Ok(())
}

/// Writes `value` as pretty JSON to `key` (with its SHA-256 checksum): the org fan-out's items
/// file and index.
pub async fn put_json<T: Serialize>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let bytes = encode(bucket, key, value)?;
    put(s3, bucket, key, "application/json", bytes).await
}

/// Writes a run: the bundle's files, then `manifest.json` (their hashes and `summary`), then
/// `latest.json`. Stops at the first failure (a run without a manifest is incomplete, and
/// listed as such).
pub async fn write_run(
    s3: &aws_sdk_s3::Client,
    location: &RunLocation,
    bundle: &Bundle,
    summary: &RunSummary,
) -> Result<WrittenRun, StoreError> {
    let bucket = location.bucket.as_str();
    let mut keys = Vec::new();
    for f in &bundle.files {
        valid_segment("file name", &f.name)?;
        let key = location.key(&f.name);
        put(s3, bucket, &key, f.content_type, f.bytes.clone()).await?;
        keys.push(key);
    }
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        run_id: location.run_id.clone(),
        account: location.account.clone(),
        region: location.region.clone(),
        files: bundle.manifest(),
        summary: summary.clone(),
        generator: bundle.doc.run.generator.clone(),
    };
    let key = location.key(MANIFEST_JSON);
    put(
        s3,
        bucket,
        &key,
        "application/json",
        encode(bucket, &key, &manifest)?,
    )
    .await?;
    keys.push(key.clone());
    let latest = LatestIndex {
        manifest_version: MANIFEST_VERSION,
        run_id: location.run_id.clone(),
        prefix: location.prefix(),
        manifest: key,
        generated_at: summary.generated_at,
    };
    let latest_key = latest_key(&location.account, &location.region);
    put(
        s3,
        bucket,
        &latest_key,
        "application/json",
        encode(bucket, &latest_key, &latest)?,
    )
    .await?;
    keys.push(latest_key);
    Ok(WrittenRun {
        location: location.clone(),
        keys,
    })
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only this account.
    pub account: Option<String>,
    /// Only this region (with or without `account`).
    pub region: Option<String>,
    /// Only runs on or after this date (UTC).
    pub since: Option<Date>,
}

/// A stored run as listed: its location and the files found under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRun {
    /// Where.
    pub location: RunLocation,
    /// The file names found (`manifest.json` among them when the run is complete).
    pub files: Vec<String>,
}

impl ListedRun {
    /// Whether the run's manifest was written (the last step of [`write_run`]).
    pub fn complete(&self) -> bool {
        self.files.iter().any(|f| f == MANIFEST_JSON)
    }
}

/// Lists the stored runs matching `filter` (`ListObjectsV2`, every page), oldest first (by
/// date, then run id).
pub async fn list_runs(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    filter: &RunFilter,
) -> Result<Vec<ListedRun>, StoreError> {
    let prefix = match (&filter.account, &filter.region) {
        (Some(a), Some(r)) => region_prefix(a, r),
        (Some(a), None) => format!("{PREFIX}/{a}/"),
        _ => format!("{PREFIX}/"),
    };
    let mut req = s3.list_objects_v2().bucket(bucket).prefix(&prefix);
    if let (Some(a), Some(r), Some(since)) = (&filter.account, &filter.region, filter.since) {
        // Keys sort by date within a region: skip the older days server-side.
        let day_before = since.yesterday().unwrap_or(since);
        req = req.start_after(format!(
            "{}{:04}/{:02}/{:02}/~",
            region_prefix(a, r),
            day_before.year(),
            day_before.month(),
            day_before.day()
        ));
    }
    let mut pages = req.into_paginator().send();
    let mut runs: BTreeMap<RunLocation, Vec<String>> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page
            .op("S3.ListObjectsV2")
            .map_err(|source| StoreError::Aws {
                bucket: bucket.to_string(),
                key: prefix.clone(),
                source,
            })?;
        for obj in page.contents() {
            let Some((loc, file)) = obj.key().and_then(|k| RunLocation::from_key(bucket, k)) else {
                continue;
            };
            if filter.region.as_ref().is_some_and(|r| *r != loc.region)
                || filter.since.is_some_and(|s| loc.date < s)
            {
                continue;
            }
            runs.entry(loc).or_default().push(file);
        }
    }
    let mut out: Vec<ListedRun> = runs
        .into_iter()
        .map(|(location, files)| ListedRun { location, files })
        .collect();
    out.sort_by(|a, b| {
        (a.location.date, &a.location.run_id).cmp(&(b.location.date, &b.location.run_id))
    });
    Ok(out)
}

/// Reads one object's bytes; [`StoreError::Missing`] if it does not exist.
pub async fn get_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, StoreError> {
    let aws = |source: AwsCallError| StoreError::Aws {
        bucket: bucket.to_string(),
        key: key.to_string(),
        source,
    };
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .op("S3.GetObject");
    let out = match out {
        Ok(o) => o,
        Err(e) if e.is_not_found() => {
            return Err(StoreError::Missing {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        Err(e) => return Err(aws(e)),
    };
    let bytes = out.body.collect().await.map_err(|e| {
        aws(AwsCallError::invalid_response(
            "S3.GetObject",
            format!("reading the body: {e}"),
        ))
    })?;
    Ok(bytes.into_bytes().to_vec())
}

/// Reads a run's manifest.
pub async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    location: &RunLocation,
) -> Result<Manifest, StoreError> {
    let key = location.key(MANIFEST_JSON);
    let bytes = get_object(s3, &location.bucket, &key).await?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::BadObject {
        bucket: location.bucket.clone(),
        key,
        reason: format!("not a manifest: {e}"),
    })
}

/// Reads the index of the newest run of an account and region (`None` if there is none yet).
pub async fn read_latest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    account: &str,
    region: &str,
) -> Result<Option<LatestIndex>, StoreError> {
    let key = latest_key(account, region);
    let bytes = match get_object(s3, bucket, &key).await {
        Ok(b) => b,
        Err(StoreError::Missing { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| StoreError::BadObject {
            bucket: bucket.to_string(),
            key,
            reason: format!("not a latest.json index: {e}"),
        })
}

/// A run read back from the store, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    /// Where.
    pub location: RunLocation,
    /// Its manifest.
    pub manifest: Manifest,
    /// The bytes of every file the manifest names, by name.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Reads a run: its manifest, then every file the manifest names (`GetObject` each); a file
/// missing is [`StoreError::Missing`] naming its key.
pub async fn read_run(
    s3: &aws_sdk_s3::Client,
    location: &RunLocation,
) -> Result<StoredRun, StoreError> {
    let manifest = read_manifest(s3, location).await?;
    let mut files = BTreeMap::new();
    for name in manifest.files.keys() {
        valid_segment("file name", name)?;
        let bytes = get_object(s3, &location.bucket, &location.key(name)).await?;
        files.insert(name.clone(), bytes);
    }
    Ok(StoredRun {
        location: location.clone(),
        manifest,
        files,
    })
}

/// Verifies a run read back: every file hashes to what the manifest recorded (so
/// `evidence.json` too), then [`evidence::read_bundle`] checks the files against the hashes
/// `evidence.json` records. Returns the document; any mismatch or missing file is an error
/// naming the object.
pub fn verify_run(run: &StoredRun) -> Result<EvidenceDoc, StoreError> {
    let loc = &run.location;
    let missing = |name: &str| StoreError::Missing {
        bucket: loc.bucket.clone(),
        key: loc.key(name),
    };
    for (name, expected) in &run.manifest.files {
        let bytes = run.files.get(name).ok_or_else(|| missing(name))?;
        let actual = evidence::sha256_hex(bytes);
        if &actual != expected {
            return Err(StoreError::Tampered {
                bucket: loc.bucket.clone(),
                key: loc.key(name),
                expected: expected.clone(),
                actual,
            });
        }
    }
    if !run.manifest.files.contains_key(evidence::EVIDENCE_JSON) {
        return Err(StoreError::BadObject {
            bucket: loc.bucket.clone(),
            key: loc.key(MANIFEST_JSON),
            reason: format!("records no hash of {}", evidence::EVIDENCE_JSON),
        });
    }
    evidence::read_bundle(&run.files).map_err(|e| match e {
        EvidenceError::Tampered {
            file,
            expected,
            actual,
        } => StoreError::Tampered {
            bucket: loc.bucket.clone(),
            key: loc.key(&file),
            expected,
            actual,
        },
        EvidenceError::Missing(file) => missing(&file),
        EvidenceError::Json { file, source } => StoreError::BadObject {
            bucket: loc.bucket.clone(),
            key: loc.key(&file),
            reason: source.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> RunLocation {
        RunLocation::new(
            "b",
            Some("123456789012"),
            "us-east-1",
            "2026-11-30T23:30:00-05:00".parse().unwrap(),
            "20261201T043000Z-ab12",
        )
        .unwrap()
    }

    #[test]
    fn keys_follow_the_layout_with_the_utc_date() {
        let l = loc();
        assert_eq!(
            l.prefix(),
            "evidence/123456789012/us-east-1/2026/12/01/20261201T043000Z-ab12/"
        );
        assert_eq!(
            l.uri(),
            "s3://b/evidence/123456789012/us-east-1/2026/12/01/20261201T043000Z-ab12/"
        );
        assert_eq!(
            latest_key("123456789012", "us-east-1"),
            "evidence/123456789012/us-east-1/latest.json"
        );
        let (back, file) = RunLocation::from_key("b", &l.key("report.html")).unwrap();
        assert_eq!((back, file.as_str()), (l, "report.html"));
        assert!(
            RunLocation::from_key("b", "evidence/123456789012/us-east-1/latest.json").is_none()
        );
        assert!(RunLocation::from_key("b", "other/a/r/2026/12/01/x/f").is_none());
        assert!(RunLocation::from_key("b", "evidence/a/r/2026/13/01/x/f").is_none());
    }

    #[test]
    fn a_run_id_or_account_that_cannot_be_a_segment_is_refused() {
        let at: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        for bad in ["", "a/b", ".."] {
            let e = RunLocation::new("b", Some("1"), "us-east-1", at, bad).unwrap_err();
            assert!(e.to_string().contains("run id"), "{e}");
        }
        let e = RunLocation::new("b", Some("1/2"), "us-east-1", at, "r").unwrap_err();
        assert!(e.to_string().contains("account"), "{e}");
        let l = RunLocation::new("b", None, "us-east-1", at, "r").unwrap();
        assert!(l.prefix().starts_with("evidence/unknown-account/"));
    }

    fn bundle() -> Bundle {
        // An empty region (no tables), built by the evidence crate's own builder, so the
        // fixture follows the schema as it evolves.
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let report = policy::RunReport::new(
            now,
            policy::Policy::default(),
            Vec::new(),
            BTreeMap::new(),
            Vec::new(),
            Vec::new(),
        );
        let facts = evidence::InventoryFacts::unread("not read in this test");
        evidence::build_bundle(&evidence::EvidenceInput {
            run: evidence::RunInfo {
                run_id: "r".into(),
                account: Some("1".into()),
                region: "us-east-1".into(),
                generator: "t".into(),
            },
            report: &report,
            sources: Vec::new(),
            facts: &facts,
            failure: None,
        })
        .unwrap()
    }

    fn stored(b: &Bundle) -> StoredRun {
        let l = loc();
        StoredRun {
            manifest: Manifest {
                manifest_version: MANIFEST_VERSION,
                run_id: l.run_id.clone(),
                account: l.account.clone(),
                region: l.region.clone(),
                files: b.manifest(),
                summary: RunSummary {
                    generated_at: b.doc.generated_at,
                    tables: 0,
                    verdicts: BTreeMap::new(),
                    new: None,
                    resolved: None,
                    still_open: None,
                    failure: None,
                },
                generator: "t".into(),
            },
            location: l,
            files: b
                .files
                .iter()
                .map(|f| (f.name.clone(), f.bytes.clone()))
                .collect(),
        }
    }

    #[test]
    fn verify_names_the_modified_or_missing_object() {
        let b = bundle();
        let run = stored(&b);
        assert_eq!(verify_run(&run).unwrap(), b.doc);

        let mut t = run.clone();
        t.files
            .insert("report.html".into(), b"<p>fine</p>".to_vec());
        let e = verify_run(&t).unwrap_err();
        assert!(matches!(&e, StoreError::Tampered { key, .. } if key.ends_with("/report.html")));
        assert!(e.to_string().contains("report.html was modified"), "{e}");

        // evidence.json re-written with the other files' hashes to match: only the manifest
        // catches it.
        let mut t = run.clone();
        let mut doc = b.doc.clone();
        doc.verdicts.insert("COMPLIANT".into(), 99);
        let forged = evidence::render_bundle(doc).unwrap();
        for f in &forged.files {
            t.files.insert(f.name.clone(), f.bytes.clone());
        }
        let e = verify_run(&t).unwrap_err();
        assert!(
            matches!(&e, StoreError::Tampered { key, .. } if key.ends_with("/evidence.json")),
            "{e}"
        );

        let mut t = run;
        t.files.remove("slots.csv");
        let e = verify_run(&t).unwrap_err();
        assert!(matches!(&e, StoreError::Missing { key, .. } if key.ends_with("/slots.csv")));
    }
}
