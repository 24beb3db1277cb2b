//! `history` and `report --run`: the verifier's stored runs in the evidence bucket
//! (`awsio::evidence_store`).
//!
//! * `history` lists the runs (date, run id, verdict counts, new/resolved) and the trend per
//!   table (its verdict in each run, oldest first), from each run's `manifest.json` and
//!   `evidence.json`. A run whose `evidence.json` does not hash to its manifest is listed as
//!   modified and left out of the trend.
//! * `report --run` reads one run, verifies every stored hash (the manifest's, then
//!   `evidence.json`'s) and renders the bundle again from the stored `evidence.json` into a
//!   directory. Tampering is an error naming the modified object (exit 2).
//!
//! The S3 client is the environment's region's (`AWS_REGION`, the stack's region where the
//! bucket is); `--region` selects the runs of a verified region, not the client's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use awsio::evidence_store::{self, ListedRun, RunFilter, StoreError};
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::error::{CliError, ExitStatus};
use crate::output::{Format, Paint};

/// `history`'s arguments.
#[derive(Debug, Clone)]
pub(crate) struct HistoryArgs {
    /// The evidence bucket.
    pub(crate) bucket: String,
    /// Only this account's runs.
    pub(crate) account: Option<String>,
    /// Only this verified region's runs.
    pub(crate) region: Option<String>,
    /// Only runs on or after this date (UTC).
    pub(crate) since: Option<Date>,
}

/// `report --run`'s arguments.
#[derive(Debug, Clone)]
pub(crate) struct ReportRunArgs {
    /// The run's id.
    pub(crate) run_id: String,
    /// The evidence bucket.
    pub(crate) bucket: String,
    /// The run's account, if several have a run of that id.
    pub(crate) account: Option<String>,
    /// The run's region, if several have a run of that id.
    pub(crate) region: Option<String>,
    /// Where the rendered files go.
    pub(crate) out: PathBuf,
}

/// Parses `--since` (`YYYY-MM-DD`).
pub(crate) fn parse_date(s: &str) -> Result<Date, String> {
    s.parse::<Date>()
        .map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))
}

fn store_err(e: StoreError) -> CliError {
    CliError::runtime(e.to_string())
}

/// One run as `history` shows it.
#[derive(Debug, Clone)]
struct RunRow {
    listed: ListedRun,
    manifest: Option<evidence_store::Manifest>,
    /// Table → verdict, from `evidence.json` (empty if unread).
    verdicts: BTreeMap<String, String>,
    /// Why the run is not trusted or not complete, if so.
    problem: Option<String>,
}

async fn read_row(s3: &aws_sdk_s3::Client, listed: ListedRun) -> RunRow {
    let loc = &listed.location;
    if !listed.complete() {
        return RunRow {
            listed,
            manifest: None,
            verdicts: BTreeMap::new(),
            problem: Some("incomplete: no manifest.json (the write was interrupted)".into()),
        };
    }
    let manifest = match evidence_store::read_manifest(s3, loc).await {
        Ok(m) => m,
        Err(e) => {
            return RunRow {
                listed,
                manifest: None,
                verdicts: BTreeMap::new(),
                problem: Some(e.to_string()),
            };
        }
    };
    let key = loc.key(evidence::EVIDENCE_JSON);
    let (verdicts, problem) = match evidence_store::get_object(s3, &loc.bucket, &key).await {
        Err(e) => (BTreeMap::new(), Some(e.to_string())),
        Ok(bytes) => {
            let actual = evidence::sha256_hex(&bytes);
            match manifest.files.get(evidence::EVIDENCE_JSON) {
                Some(expected) if *expected == actual => {
                    match serde_json::from_slice::<evidence::EvidenceDoc>(&bytes) {
                        Ok(doc) => (
                            doc.tables
                                .into_iter()
                                .map(|t| (t.name, verdict_word(&t.verdict)))
                                .collect(),
                            None,
                        ),
                        Err(e) => (
                            BTreeMap::new(),
                            Some(format!("s3://{}/{key}: {e}", loc.bucket)),
                        ),
                    }
                }
                _ => (
                    BTreeMap::new(),
                    Some(format!(
                        "MODIFIED: s3://{}/{key} does not hash to its manifest",
                        loc.bucket
                    )),
                ),
            }
        }
    };
    RunRow {
        listed,
        manifest: Some(manifest),
        verdicts,
        problem,
    }
}

/// The policy's word for a verdict (`non-compliant`, as the manifest's counts spell it) from
/// evidence.json's code (`NON_COMPLIANT`); an unknown code stays as it is.
fn verdict_word(code: &str) -> String {
    policy::Verdict::ALL
        .iter()
        .find(|v| evidence::verdict_code(**v) == code)
        .map_or_else(|| code.to_string(), |v| v.as_str().to_string())
}

/// A short letter per verdict for the trend (`-`: the table was not in that run).
fn verdict_letter(v: Option<&String>) -> &'static str {
    use policy::Verdict;
    let Some(v) = v else { return "-" };
    match Verdict::ALL.iter().find(|x| x.as_str() == v.as_str()) {
        Some(Verdict::Compliant) => "C",
        Some(Verdict::NonCompliant) => "N",
        Some(Verdict::Exempt) => "E",
        Some(Verdict::Pending) => "P",
        Some(Verdict::Unverifiable) => "U",
        None => "?",
    }
}

fn count(m: &Option<evidence_store::Manifest>, verdict: &str) -> String {
    m.as_ref()
        .and_then(|m| m.summary.verdicts.get(verdict))
        .map_or("-".into(), u64::to_string)
}

fn opt(n: Option<u64>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}

/// `history`: lists the stored runs and the trend per table.
pub(crate) async fn run_history(
    args: &HistoryArgs,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let ctx = awsio::AwsContext::from_env(None).await;
    let s3 = ctx.s3();
    let filter = RunFilter {
        account: args.account.clone(),
        region: args.region.clone(),
        since: args.since,
    };
    let listed = evidence_store::list_runs(s3, &args.bucket, &filter)
        .await
        .map_err(store_err)?;
    let mut rows = Vec::new();
    for l in listed {
        rows.push(read_row(s3, l).await);
    }
    // Trend: (account/region, table) → verdict per run of that account and region.
    let mut trend: BTreeMap<(String, String), Vec<Option<String>>> = BTreeMap::new();
    let mut runs_per_scope: BTreeMap<String, Vec<&RunRow>> = BTreeMap::new();
    for r in &rows {
        let scope = format!("{}/{}", r.listed.location.account, r.listed.location.region);
        runs_per_scope.entry(scope).or_default().push(r);
    }
    for (scope, runs) in &runs_per_scope {
        let trusted: Vec<&&RunRow> = runs.iter().filter(|r| r.problem.is_none()).collect();
        for (i, r) in trusted.iter().enumerate() {
            for (table, verdict) in &r.verdicts {
                let e = trend
                    .entry((scope.clone(), table.clone()))
                    .or_insert_with(|| vec![None; trusted.len()]);
                e[i] = Some(verdict.clone());
            }
        }
    }
    match format {
        Format::Json => {
            let v = json!({
                "bucket": args.bucket,
                "runs": rows.iter().map(|r| json!({
                    "date": r.listed.location.date.to_string(),
                    "run_id": r.listed.location.run_id,
                    "account": r.listed.location.account,
                    "region": r.listed.location.region,
                    "location": r.listed.location.uri(),
                    "summary": r.manifest.as_ref().map(|m| &m.summary),
                    "problem": r.problem,
                })).collect::<Vec<_>>(),
                "trend": trend.iter().map(|((scope, table), v)| json!({
                    "scope": scope, "table": table, "verdicts": v,
                })).collect::<Vec<_>>(),
            });
            crate::output::print_json(&v)?;
        }
        Format::Text => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{} {} run(s) in s3://{}/{}",
                paint.bold("backup-guard history:"),
                rows.len(),
                args.bucket,
                evidence_store::PREFIX
            );
            let _ = writeln!(
                out,
                "{:<10}  {:<26}  {:<25}  {:>4} {:>4} {:>4} {:>4} {:>4}  {:>4} {:>8}",
                "date", "run id", "account/region", "C", "N", "E", "P", "U", "new", "resolved"
            );
            for r in &rows {
                let l = &r.listed.location;
                let s = r.manifest.as_ref().map(|m| &m.summary);
                let _ = writeln!(
                    out,
                    "{:<10}  {:<26}  {:<25}  {:>4} {:>4} {:>4} {:>4} {:>4}  {:>4} {:>8}",
                    l.date.to_string(),
                    l.run_id,
                    format!("{}/{}", l.account, l.region),
                    count(&r.manifest, policy::Verdict::Compliant.as_str()),
                    count(&r.manifest, policy::Verdict::NonCompliant.as_str()),
                    count(&r.manifest, policy::Verdict::Exempt.as_str()),
                    count(&r.manifest, policy::Verdict::Pending.as_str()),
                    count(&r.manifest, policy::Verdict::Unverifiable.as_str()),
                    opt(s.and_then(|s| s.new)),
                    opt(s.and_then(|s| s.resolved)),
                );
                if let Some(p) = &r.problem {
                    let _ = writeln!(out, "            {}", paint.red(p));
                }
            }
            if !trend.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{} (oldest run first; C compliant, N non-compliant, E exempt, P pending, U unverifiable, - not in that run)",
                    paint.bold("Trend per table")
                );
                for ((scope, table), v) in &trend {
                    let letters: Vec<&str> = v.iter().map(|x| verdict_letter(x.as_ref())).collect();
                    let _ = writeln!(out, "  {scope} {table:<32} {}", letters.join(" "));
                }
            }
            print!("{out}");
        }
    }
    Ok(ExitStatus::Ok)
}

/// The stored run `run_id` (the filter narrows it to one account and region).
async fn find_run(
    s3: &aws_sdk_s3::Client,
    args: &ReportRunArgs,
) -> Result<evidence_store::RunLocation, CliError> {
    let filter = RunFilter {
        account: args.account.clone(),
        region: args.region.clone(),
        since: None,
    };
    let runs = evidence_store::list_runs(s3, &args.bucket, &filter)
        .await
        .map_err(store_err)?;
    let matching: Vec<&ListedRun> = runs
        .iter()
        .filter(|r| r.location.run_id == args.run_id)
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.location.clone()),
        [] => Err(CliError::runtime(format!(
            "no run {} in s3://{}/{} (list them with backup-guard history --bucket {})",
            args.run_id,
            args.bucket,
            evidence_store::PREFIX,
            args.bucket
        ))),
        many => Err(CliError::usage(format!(
            "run {} exists for {}; choose one with --account and --region",
            args.run_id,
            many.iter()
                .map(|r| format!("{}/{}", r.location.account, r.location.region))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, CliError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)
        .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// `report --run`: verifies a stored run's hashes and renders it again into `--out`.
pub(crate) async fn run_report_run(
    args: &ReportRunArgs,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let ctx = awsio::AwsContext::from_env(None).await;
    let s3 = ctx.s3();
    let loc = find_run(s3, args).await?;
    let stored = evidence_store::read_run(s3, &loc)
        .await
        .map_err(store_err)?;
    let doc = evidence_store::verify_run(&stored).map_err(|e| {
        CliError::runtime(format!(
            "the stored run {} failed verification: {e}",
            loc.uri()
        ))
    })?;
    let bundle = evidence::render_bundle(doc)
        .map_err(|e| CliError::runtime(format!("cannot render {}: {e}", loc.uri())))?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::runtime(format!("cannot create {}: {e}", args.out.display())))?;
    let mut files = Vec::new();
    for f in &bundle.files {
        let path = write_file(&args.out, &f.name, &f.bytes)?;
        // The same renderer gives the same bytes; a newer one may render differently.
        let same = stored.files.get(&f.name) == Some(&f.bytes);
        files.push((f.name.clone(), path, same));
    }
    match format {
        Format::Json => {
            let v: Value = json!({
                "run_id": loc.run_id,
                "location": loc.uri(),
                "verified": true,
                "files": files.iter().map(|(n, p, same)| json!({
                    "name": n, "path": p.display().to_string(), "same_as_stored": same,
                })).collect::<Vec<_>>(),
            });
            crate::output::print_json(&v)?;
        }
        Format::Text => {
            println!(
                "{} {} verified: every stored hash matches ({} files)",
                paint.bold("backup-guard report --run:"),
                loc.uri(),
                stored.files.len()
            );
            for (name, path, same) in &files {
                println!(
                    "  {name}: {}{}",
                    path.display(),
                    if *same {
                        ""
                    } else {
                        " (rendered by this version; differs from the stored file)"
                    }
                );
            }
        }
    }
    Ok(ExitStatus::Ok)
}
