//! `backup-guard audit [--region R]... [--table GLOB]...`: the recovery verifier's evaluation
//! (`recovery_verifier::verify_region`, read-only) of every table, rendered as a table with
//! colour on a terminal; JSON is the verifier's own report.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use policy::slots::SlotStatus;
use policy::{Finding, TableEvaluation, Verdict};
use recovery_verifier::{RegionReport, VerifyOptions, verify_region};

use crate::error::{CliError, ExitStatus};
use crate::output::{FailOn, Format, Paint};

/// Arguments of `audit`: which regions and tables to evaluate, and as of when.
#[derive(Debug, Clone)]
pub(crate) struct AuditArgs {
    /// Regions; empty = the configured region.
    pub regions: Vec<String>,
    /// Table-name globs; empty = every table.
    pub tables: Vec<String>,
    /// Evaluate as of this instant.
    pub now: Timestamp,
}

/// The instant of the newest satisfied slot of a table.
pub(crate) fn last_good_slot(t: &TableEvaluation) -> Option<Timestamp> {
    t.slots
        .iter()
        .filter(|s| matches!(s.status, SlotStatus::Satisfied { .. }))
        .map(|s| s.slot.at)
        .max()
}

/// Does the run fail at `fail_on`? Findings at or above the threshold, or parts of the account
/// that could not be read (unknown is never compliant: they count as warnings).
pub(crate) fn fails(reports: &[RegionReport], fail_on: FailOn) -> bool {
    reports.iter().any(|r| {
        r.report
            .tables
            .iter()
            .flat_map(|t| t.findings.iter())
            .any(|f| fail_on.fails(f.severity))
            || (!r.report.unreachable.is_empty() && fail_on.fails(policy::Severity::Warning))
    })
}

fn verdict_word(v: Verdict, paint: Paint) -> String {
    let w = format!("{:<14}", v.as_str());
    match v {
        Verdict::Compliant => paint.green(&w),
        Verdict::NonCompliant => paint.red(&w),
        Verdict::Exempt => paint.cyan(&w),
        Verdict::Pending => paint.yellow(&w),
        Verdict::Unverifiable => paint.yellow(&w),
    }
}

fn codes(findings: &[Finding]) -> String {
    let mut c: Vec<&str> = Vec::new();
    for f in findings {
        if !c.contains(&f.code.as_str()) {
            c.push(f.code.as_str());
        }
    }
    if c.is_empty() {
        "-".to_string()
    } else {
        c.join(", ")
    }
}

/// Renders one region as text.
pub(crate) fn render_region(r: &RegionReport, paint: Paint) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let rep = &r.report;
    let p = &rep.policy;
    let _ = writeln!(
        out,
        "{} account {}, region {}, as of {}",
        paint.bold("backup-guard audit:"),
        r.account.as_deref().unwrap_or("(unknown)"),
        r.region,
        rep.generated_at
    );
    let _ = writeln!(
        out,
        "{}",
        paint.dim(&format!(
            "policy {} {}, windows {}/{} min, exactly {} days, vault {}, selection {}",
            p.schedule_expression(),
            p.timezone(),
            p.start_window_minutes,
            p.completion_window_minutes,
            p.retention_days,
            p.vault_name.as_deref().unwrap_or("any"),
            p.selection_mode.as_str()
        ))
    );
    if let Some(f) = &r.failure {
        let _ = writeln!(out, "{}", paint.red(&format!("region not verified: {f}")));
    }
    let mut tables: Vec<&TableEvaluation> = rep.tables.iter().collect();
    tables.sort_by(|a, b| a.table.name.cmp(&b.table.name));
    if !tables.is_empty() {
        let w = tables
            .iter()
            .map(|t| t.table.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!(
                "{:<w$}  {:<14}  {:<20}  FINDINGS",
                "TABLE", "VERDICT", "LAST GOOD SLOT"
            ))
        );
        for t in &tables {
            let last = last_good_slot(t)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<w$}  {}  {:<20}  {}",
                t.table.name,
                verdict_word(t.verdict, paint),
                last,
                codes(&t.findings)
            );
        }
    }
    let mut findings: Vec<&Finding> = rep.tables.iter().flat_map(|t| t.findings.iter()).collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.table_name.cmp(&b.table_name))
            .then(a.code.cmp(&b.code))
    });
    if !findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!("Findings ({}):", findings.len()))
        );
        for f in findings {
            let _ = writeln!(
                out,
                "  {:<8} {} {}: {}",
                paint.severity(f.severity),
                f.table_name,
                paint.bold(f.code.as_str()),
                f.message
            );
            if let Some(r) = &f.remedy {
                let _ = writeln!(out, "           {}", paint.dim(&format!("fix: {r}")));
            }
        }
    }
    if !rep.unreachable.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            paint.yellow("Could not be read (unknown is never compliant):")
        );
        for u in &rep.unreachable {
            let _ = writeln!(out, "  {}: {}", u.what, u.reason);
        }
    }
    let _ = writeln!(out);
    let counts: Vec<String> = rep
        .verdicts
        .iter()
        .map(|(v, n)| format!("{n} {}", v.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "{} {} table(s): {}",
        paint.bold("Summary:"),
        rep.tables.len(),
        counts.join(", ")
    );
    let minimal = r
        .minimal_calls
        .map(|m| format!(" (minimal for this inventory: {m})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "AWS API calls: {}{minimal}, {} retries, {} ms",
        r.counted_calls, r.retries, r.duration_ms
    );
    out
}

/// Verifies every region of `args` (`recovery_verifier::verify_region`, read-only) with a
/// progress bar on a terminal: the one code path of `audit` and `report`.
pub(crate) async fn verify_regions(
    args: &AuditArgs,
    policy: &policy::Policy,
) -> Result<Vec<RegionReport>, CliError> {
    for g in &args.tables {
        if g.trim().is_empty() {
            return Err(CliError::usage("--table: empty glob"));
        }
    }
    let regions: Vec<Option<String>> = if args.regions.is_empty() {
        vec![None]
    } else {
        args.regions.iter().cloned().map(Some).collect()
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(regions.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{pos}/{len} regions, {elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    } else {
        ProgressBar::hidden()
    };
    let opts = VerifyOptions {
        tables: args.tables.clone(),
        ..VerifyOptions::default()
    };
    let mut reports = Vec::with_capacity(regions.len());
    for r in &regions {
        let ctx = awsio::AwsContext::from_env(r.as_deref()).await;
        let Some(region) = ctx.region().map(str::to_string) else {
            bar.finish_and_clear();
            return Err(CliError::usage(
                "no AWS region: set AWS_REGION or pass --region",
            ));
        };
        bar.set_message(format!("reading the inventory of {region}"));
        let rep = verify_region(&ctx, policy, args.now, &opts).await;
        bar.inc(1);
        reports.push(rep);
    }
    bar.finish_and_clear();
    Ok(reports)
}

/// Fails when no region could be verified at all, naming each region's failure.
pub(crate) fn require_something_verified(reports: &[RegionReport]) -> Result<(), CliError> {
    if reports.iter().all(|r| r.failure.is_some()) {
        let why: Vec<String> = reports
            .iter()
            .filter_map(|r| r.failure.as_ref().map(|f| format!("{}: {f}", r.region)))
            .collect();
        return Err(CliError::runtime(format!(
            "nothing could be verified ({})",
            why.join("; ")
        )));
    }
    Ok(())
}

/// Audits the account's tables and prints the report; exits 1 if a finding is at or above
/// `--fail-on`.
pub(crate) async fn run(
    args: &AuditArgs,
    format: Format,
    fail_on: FailOn,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let policy = crate::error::policy_from_env()?;
    let reports = verify_regions(args, &policy).await?;

    match format {
        Format::Json => {
            let value = if reports.len() == 1 {
                serde_json::to_value(&reports[0])
            } else {
                serde_json::to_value(&reports)
            }
            .map_err(|e| CliError::runtime(format!("cannot render the report: {e}")))?;
            crate::output::print_json(&value)?;
        }
        Format::Text => {
            for (i, r) in reports.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print!("{}", render_region(r, paint));
            }
        }
    }
    require_something_verified(&reports)?;
    Ok(if fails(&reports, fail_on) {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
