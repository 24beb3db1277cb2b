//! One measured run of the verifier or of the naive baseline, in a process of its own so
//! that its peak RSS (`VmHWM`) is the verification's, not the seeding's: the parent starts
//! the local account (`local-account up`, another process), then runs
//! `backup-guard-bench run-once` with the account's variables once per measurement and reads
//! the [`RunResult`] it prints as one JSON line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use awsio::AwsContext;
use jiff::Timestamp;
use policy::Policy;
use recovery_verifier::calls::minimal_calls_by_operation;
use recovery_verifier::{CacheSource, RegionReport, VerifyOptions, verify_region};
use serde::{Deserialize, Serialize};

use crate::naive::naive_scan;
use crate::procstat;

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `recovery_verifier::verify_region` (the product path).
    Verifier,
    /// The naive per-table baseline ([`crate::naive`]).
    Naive,
    /// One night of the verifier with its creation-time cache, as the Lambda's run does it:
    /// `verify_region` loads the cache from the state table (`BG_STATE_TABLE`) and applies it
    /// before `DescribeTable`, then the cache is saved if it changed. Two in a row on one
    /// account are the first and the second night.
    Night,
}

/// The measurements of one run (one JSON line on the child's stdout).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// `verifier` or `naive`.
    pub mode: String,
    /// Wall time of the work (clients already built), ms.
    pub wall_ms: f64,
    /// CPU time (user + system) of the process during the work, ms.
    pub cpu_ms: Option<u64>,
    /// Peak RSS of the process at the end (`VmHWM`), KiB.
    pub peak_rss_kib: Option<u64>,
    /// RSS before the work started (runtime and clients built), KiB.
    pub rss_before_kib: Option<u64>,
    /// Attempts per `Service.Operation` (the call counter).
    pub calls: BTreeMap<String, u64>,
    /// Sum of `calls`.
    pub calls_total: u64,
    /// Retries among them.
    pub retries: u64,
    /// The minimal-call formula per operation for the inventory's shape (verifier only).
    pub minimal: BTreeMap<String, u64>,
    /// Its sum.
    pub minimal_total: Option<u64>,
    /// Tables evaluated (verifier) or read (naive).
    pub tables: u64,
    /// Recovery points read (naive only).
    pub points: u64,
    /// Findings reported (verifier only).
    pub findings_total: u64,
    /// Findings per code (verifier only).
    pub findings_per_code: BTreeMap<String, u64>,
    /// Tables per verdict (verifier only).
    pub verdicts: BTreeMap<String, u64>,
    /// Tables whose creation time was read (verifier only).
    pub described_tables: u64,
    /// Tables whose creation time came from the creation-time cache (night only).
    #[serde(default)]
    pub cache_hits: u64,
    /// State-table items the cache load read (night only).
    #[serde(default)]
    pub cache_items_read: u64,
    /// True if the night saved the cache (it changed).
    #[serde(default)]
    pub cache_saved: bool,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
}

/// Runs one measurement in this process against the account in the environment
/// (`AWS_ENDPOINT_URL`, ...). Call it in a fresh process: peak RSS is the process's.
pub async fn run_once(mode: Mode, now: Timestamp, concurrency: usize) -> RunResult {
    let ctx = AwsContext::from_env(None).await;
    let rss_before_kib = procstat::rss_kib();
    let cpu_before = procstat::cpu_ms();
    let started = Instant::now();
    let mut r = RunResult {
        rss_before_kib,
        ..RunResult::default()
    };
    match mode {
        Mode::Verifier => {
            r.mode = "verifier".into();
            let opts = VerifyOptions {
                concurrency,
                ..VerifyOptions::default()
            };
            let report = verify_region(&ctx, &Policy::default(), now, &opts).await;
            r.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            fill_from_report(&mut r, &report);
        }
        Mode::Night => {
            r.mode = "night".into();
            let table = std::env::var("BG_STATE_TABLE").unwrap_or_default();
            let opts = VerifyOptions {
                concurrency,
                creation_cache: Some(CacheSource {
                    home: ctx.clone(),
                    table: table.clone(),
                    timeout: recovery_verifier::CACHE_LOAD_MAX,
                }),
                ..VerifyOptions::default()
            };
            let report = verify_region(&ctx, &Policy::default(), now, &opts).await;
            fill_from_report(&mut r, &report);
            if let (Some(c), Some(account)) = (&report.creation_cache, &report.account) {
                r.cache_hits = c.hits.len() as u64;
                r.cache_items_read = c.items_read;
                if let Some(e) = &c.error {
                    r.failure = Some(e.clone());
                }
                if c.changed && c.saveable {
                    let saved = awsio::creation_cache::save(
                        ctx.dynamodb(),
                        &table,
                        account,
                        &report.region,
                        &c.times,
                        now,
                        c.previous.as_ref(),
                    )
                    .await;
                    match saved {
                        Ok(_) => r.cache_saved = true,
                        Err(e) => r.failure = Some(format!("cache not saved: {e}")),
                    }
                }
            }
            r.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        }
        Mode::Naive => {
            r.mode = "naive".into();
            let out = naive_scan(&ctx, concurrency).await;
            r.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            match out {
                Ok(o) => {
                    r.tables = o.tables;
                    r.points = o.points;
                }
                Err(e) => r.failure = Some(e),
            }
        }
    }
    r.cpu_ms = match (cpu_before, procstat::cpu_ms()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    r.calls = ctx.calls.attempts();
    r.calls_total = ctx.calls.total();
    r.retries = ctx.calls.total_retries();
    r.peak_rss_kib = procstat::peak_rss_kib();
    r
}

/// The verifier's measurements from its report.
fn fill_from_report(r: &mut RunResult, report: &RegionReport) {
    r.tables = report.report.tables.len() as u64;
    r.findings_per_code = report
        .report
        .findings_per_code
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), *n))
        .collect();
    r.findings_total = r.findings_per_code.values().sum();
    r.verdicts = report
        .report
        .verdicts
        .iter()
        .map(|(v, n)| (v.as_str().to_string(), *n))
        .collect();
    r.described_tables = report.described_tables.len() as u64;
    if let Some(shape) = &report.shape {
        r.minimal = minimal_calls_by_operation(shape)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    }
    r.minimal_total = report.minimal_calls;
    r.failure = report.failure.clone();
    if r.failure.is_none() && !report.report.unreachable.is_empty() {
        r.failure = Some(
            report
                .report
                .unreachable
                .iter()
                .map(|u| format!("{}: {}", u.what, u.reason))
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
}

/// Parses the `export K='V'` lines `local-account up --env-file` writes.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("export ")
            .ok_or_else(|| format!("env file line {line:?} does not start with `export `"))?;
        let (k, v) = rest
            .split_once('=')
            .ok_or_else(|| format!("env file line {line:?} has no `=`"))?;
        let v = v
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(|| format!("env file line {line:?}: value is not single-quoted"))?
            .replace(r"'\''", "'");
        out.push((k.to_string(), v));
    }
    Ok(out)
}

/// Runs `exe run-once` in a child process with `env` (the account's variables) and returns
/// its result.
pub fn spawn_run(
    exe: &Path,
    env: &[(String, String)],
    mode: Mode,
    now: Timestamp,
    concurrency: usize,
) -> Result<RunResult, String> {
    let mode_arg = match mode {
        Mode::Verifier => "verifier",
        Mode::Naive => "naive",
        Mode::Night => "night",
    };
    let out = Command::new(exe)
        .args(["run-once", "--mode", mode_arg, "--now"])
        .arg(now.to_string())
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {} run-once: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} run-once --mode {mode_arg} exited with {}",
            exe.display(),
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("run-once --mode {mode_arg} printed no result line"))?;
    serde_json::from_str(line)
        .map_err(|e| format!("run-once result is not valid JSON ({e}): {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines_parse_and_unquote() {
        let env = parse_env_file(
            "export AWS_REGION='us-east-1'\nexport X='it'\\''s'\n\nexport AWS_ENDPOINT_URL='http://127.0.0.1:1'\n",
        )
        .unwrap();
        assert_eq!(env[0], ("AWS_REGION".into(), "us-east-1".into()));
        assert_eq!(env[1], ("X".into(), "it's".into()));
        assert_eq!(env.len(), 3);
        assert!(parse_env_file("AWS_REGION=x").is_err());
        assert!(parse_env_file("export A=unquoted").is_err());
    }
}
