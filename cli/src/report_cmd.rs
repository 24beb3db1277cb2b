//! `backup-guard report --out DIR [--region R]... [--table GLOB]... [--now T]`: the evidence
//! bundle (`evidence.json`, `slots.csv`, `report.html`) of the verifier's evaluation, read-only,
//! written to DIR. `backup-guard report --run ID --bucket B --out DIR` renders a run the
//! nightly verifier stored instead, after verifying every stored hash
//! ([`crate::history_cmd::run_report_run`]). The same code path as `audit` (`audit_cmd::verify_regions`, i.e.
//! `recovery_verifier::verify_region`), and the same bundle the nightly verifier builds
//! (`recovery_verifier::bundle::bundle_for_region`).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use recovery_verifier::RegionReport;
use recovery_verifier::bundle::bundle_for_region;
use serde_json::json;

use crate::audit_cmd::{AuditArgs, fails, require_something_verified, verify_regions};
use crate::error::{CliError, ExitStatus};
use crate::history_cmd::{ReportRunArgs, run_report_run};
use crate::output::{FailOn, Format, Paint, parse_instant};

/// What produced a bundle written by the CLI.
pub(crate) const GENERATOR: &str = concat!("backup-guard report ", env!("CARGO_PKG_VERSION"));

/// The command line of `report` (its own struct, so options such as a stored run's id can
/// join it without touching `audit`).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ReportOpts {
    /// Directory to write the bundle to (created if missing; one subdirectory per region when
    /// several regions are given). Existing bundle files in it are replaced.
    #[arg(long)]
    pub out: PathBuf,
    /// Region to report on (repeatable; default: AWS_REGION / the profile's). With --run: the
    /// stored run's region, if several regions have a run of that id.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Only tables whose name matches this glob (`*` wildcards; repeatable).
    #[arg(long = "table", conflicts_with = "run")]
    pub tables: Vec<String>,
    /// Evaluate as of this instant (RFC 3339, a date, or `now`).
    #[arg(long, default_value = "now", conflicts_with = "run")]
    pub now: String,
    /// Render a run the nightly verifier stored (its id: see `history`) instead of evaluating
    /// the account. Every stored hash is verified first; a modified object is an error naming
    /// it (exit 2). Needs --bucket.
    #[arg(long = "run", requires = "bucket")]
    pub run: Option<String>,
    /// The evidence bucket the stored run is in (the stack's EvidenceBucketName output).
    #[arg(long, requires = "run")]
    pub bucket: Option<String>,
    /// The stored run's account, if several accounts have a run of that id.
    #[arg(long, requires = "run")]
    pub account: Option<String>,
}

/// The run id of a CLI report evaluated at `now`: `cli-<yyyymmddThhmmssZ>`.
pub(crate) fn run_id(now: Timestamp) -> String {
    format!("cli-{}", now.strftime("%Y%m%dT%H%M%SZ"))
}

/// One region's written bundle.
struct Written {
    region: String,
    dir: PathBuf,
    report_html: PathBuf,
    manifest: std::collections::BTreeMap<String, String>,
}

fn write_bundle(r: &RegionReport, dir: &Path, run_id: &str) -> Result<Written, CliError> {
    let bundle = bundle_for_region(r, run_id, GENERATOR).map_err(|e| {
        CliError::runtime(format!("cannot build the evidence of {}: {e}", r.region))
    })?;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::usage(format!("--out {}: cannot create: {e}", dir.display())))?;
    for f in &bundle.files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.bytes)
            .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(Written {
        region: r.region.clone(),
        dir: dir.to_path_buf(),
        report_html: dir.join(evidence::REPORT_HTML),
        manifest: bundle.manifest(),
    })
}

/// Verifies the regions, writes each one's bundle and prints the path of each `report.html`
/// (text) or the paths and SHA-256 of the files (JSON); exits 1 if a finding is at or above
/// `--fail-on`, as `audit` does.
pub(crate) async fn run(
    opts: &ReportOpts,
    format: Format,
    fail_on: FailOn,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    if let Some(run_id) = &opts.run {
        return stored_run(opts, run_id, format, paint).await;
    }
    let args = AuditArgs {
        regions: opts.regions.clone(),
        tables: opts.tables.clone(),
        now: parse_instant("--now", &opts.now)?,
    };
    let policy = crate::error::policy_from_env()?;
    let reports = verify_regions(&args, &policy).await?;
    require_something_verified(&reports)?;
    let id = run_id(args.now);
    let mut written = Vec::with_capacity(reports.len());
    for r in &reports {
        let dir = if reports.len() == 1 {
            opts.out.clone()
        } else {
            opts.out.join(&r.region)
        };
        written.push(write_bundle(r, &dir, &id)?);
    }
    match format {
        Format::Text => {
            for w in &written {
                println!("{}", w.report_html.display());
            }
        }
        Format::Json => {
            let v: Vec<serde_json::Value> = written
                .iter()
                .map(|w| {
                    json!({
                        "region": w.region,
                        "run_id": id,
                        "dir": w.dir.display().to_string(),
                        "report_html": w.report_html.display().to_string(),
                        "sha256": w.manifest,
                    })
                })
                .collect();
            crate::output::print_json(&json!({ "bundles": v }))?;
        }
    }
    Ok(if fails(&reports, fail_on) {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}

/// `report --run ID`: the stored run, verified and rendered again.
async fn stored_run(
    opts: &ReportOpts,
    run_id: &str,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let Some(bucket) = opts.bucket.clone() else {
        return Err(CliError::usage(
            "--run needs --bucket (the evidence bucket)",
        ));
    };
    let region = match opts.regions.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            return Err(CliError::usage(
                "--run renders one stored run: give at most one --region",
            ));
        }
    };
    let args = ReportRunArgs {
        run_id: run_id.to_string(),
        bucket,
        account: opts.account.clone(),
        region,
        out: opts.out.clone(),
    };
    run_report_run(&args, format, paint).await
}
