//! # recovery-verifier
//!
//! The nightly proof that every DynamoDB table has every backup the policy requires, kept
//! exactly as long as it says. Per invocation:
//!
//! 1. parse the payload ([`payload`]: EventBridge schedule envelope, Scheduler input, empty,
//!    or on-demand `{"now", "regions", "tables", "dry_run"}`);
//! 2. per region, concurrently: inventory with the fewest calls and `policy::evaluate_table`
//!    for every table ([`verify::verify_region`], read-only, reused by the CLI `audit`);
//! 3. compare the open problems with the previous run's (state table,
//!    `awsio::finding_state`);
//! 4. log the full JSON report and the EMF metric lines ([`metrics`]);
//! 5. publish the digest ([`digest`]) — always, as a heartbeat — then save the new state.
//!
//! The invocation fails only if nothing at all could be verified (or the payload is invalid,
//! or the digest could not be sent); partial failures are reported as `UNVERIFIABLE`.

pub mod calls;
pub mod digest;
#[cfg(test)]
mod digest_golden;
pub mod inventory;
pub mod metrics;
pub mod payload;
pub mod settings;
pub mod verify;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use awsio::finding_state::{self, FindingDiff, FindingState, OpenFinding};
use awsio::publisher::{self, AlertMessage};
use awsio::{AwsContext, Budget};
use jiff::Timestamp;
use lambda_runtime::LambdaEvent;
use policy::{FindingCode, Policy, Verdict};
use serde_json::{Value, json};

pub use calls::{InventoryShape, minimal_calls};
pub use inventory::{Inventory, Source, SourceRead, read_inventory};
pub use payload::{Invocation, PayloadError, parse_invocation};
pub use settings::{
    ConfigError, ENV_REGIONS, ENV_STATE_TABLE, ENV_TOPIC_ARN, Settings, parse_regions,
};
pub use verify::{RegionReport, VerifyOptions, verify_region};

/// Every AWS operation this function calls, as the call counter names them
/// (`Service.Operation`). The single list the IAM policy of the template is checked against and
/// the fault matrix injects a fault into, one operation at a time; the fault-matrix tests prove
/// it complete (no call outside it) and current (every entry is called).
pub const AWS_OPERATIONS: &[&str] = &[
    "Backup.GetBackupPlan",
    "Backup.GetBackupSelection",
    "Backup.ListBackupJobs",
    "Backup.ListBackupPlans",
    "Backup.ListBackupSelections",
    "Backup.ListBackupVaults",
    "Backup.ListRecoveryPointsByBackupVault",
    "DynamoDB.DeleteItem",
    "DynamoDB.DescribeTable",
    "DynamoDB.GetItem",
    "DynamoDB.ListTables",
    "DynamoDB.PutItem",
    "ResourceGroupsTaggingAPI.GetResources",
    "SNS.Publish",
    "STS.GetCallerIdentity",
];

/// Time kept after the digest and state calls' own deadline, to log and return before the
/// function's timeout.
pub const PUBLISH_RESERVE: Duration = Duration::from_millis(500);

/// Everything a run needs, built once per Lambda container.
#[derive(Debug, Clone)]
pub struct Deps {
    /// The policy.
    pub policy: Policy,
    /// Alert topic ARN.
    pub topic_arn: String,
    /// State table name.
    pub state_table: String,
    /// Clients for SNS and the state table (the function's own region).
    pub home: AwsContext,
    /// Clients per region to verify, in order (the configured regions).
    pub regions: Vec<(String, AwsContext)>,
    /// Stop starting new work this long before the Lambda deadline. Calls still in flight are
    /// cut at half of it (their clients' timeouts are capped there), which leaves the other
    /// half to publish the digest and save the state.
    pub safety_margin: Duration,
    /// Concurrent independent calls per region.
    pub concurrency: usize,
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The payload could not be understood.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The payload asked for a region this function has no clients for.
    #[error(
        "region {region} is not configured (BG_REGIONS: {configured}); add it to BG_REGIONS to verify it"
    )]
    UnknownRegion {
        /// The region asked for.
        region: String,
        /// The configured ones.
        configured: String,
    },
    /// Nothing could be verified in any region (the digest was still attempted).
    #[error("nothing could be verified: {0}")]
    NothingVerifiable(String),
    /// The digest (heartbeat) could not be published; state was not saved so the next run
    /// reports the same problems as new again.
    #[error("the digest could not be published: {0}")]
    DigestNotSent(String),
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct VerifierOutcome {
    /// The instant evaluated.
    pub generated_at: Timestamp,
    /// True if nothing was published or saved.
    pub dry_run: bool,
    /// Per region.
    pub regions: Vec<RegionReport>,
    /// New / still-open / resolved problems per region.
    pub diffs: BTreeMap<String, FindingDiff>,
    /// The digest (sent unless `dry_run`).
    pub digest: AlertMessage,
    /// SNS message id of the digest.
    pub digest_message_id: Option<String>,
    /// State-table problems (load or save), if any.
    pub state_errors: Vec<String>,
    /// Calls made for the digest and the state (SNS, DynamoDB state table), per operation.
    pub side_calls: BTreeMap<String, u64>,
}

impl VerifierOutcome {
    /// A short JSON summary (the Lambda's return value).
    pub fn summary(&self) -> Value {
        json!({
            "generated_at": self.generated_at.to_string(),
            "dry_run": self.dry_run,
            "subject": self.digest.subject,
            "message_id": self.digest_message_id,
            "regions": self.regions.iter().map(|r| json!({
                "region": r.region,
                "tables": r.report.tables.len(),
                "verdicts": Verdict::ALL.iter().map(|v| (v.as_str(), r.report.verdicts.get(v).copied().unwrap_or(0))).collect::<BTreeMap<_, _>>(),
                "failure": r.failure,
                "api_calls": r.counted_calls,
                "minimal_calls": r.minimal_calls,
                "new": self.diffs.get(&r.region).map(|d| d.new.len()),
                "still_open": self.diffs.get(&r.region).map(|d| d.still_open.len()),
                "resolved": self.diffs.get(&r.region).map(|d| d.resolved.len()),
            })).collect::<Vec<_>>(),
            "state_errors": self.state_errors,
        })
    }
}

/// The verifier's budget when the invocation gives no usable deadline (none, or one already
/// past, as `cargo lambda watch` sends): the template's function timeout.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(900);

/// The invocation's budget: the Lambda deadline (epoch ms), or [`DEFAULT_BUDGET`] from now
/// when there is none in the future (see `awsio::Budget::from_deadline_ms`).
pub fn invocation_budget(deadline_ms: u64) -> Budget {
    Budget::from_deadline_ms(deadline_ms, DEFAULT_BUDGET)
}

/// The instant to stop starting new work: the budget's deadline minus the safety margin.
pub fn work_deadline(budget: &Budget, margin: Duration) -> Instant {
    budget.before_deadline(margin)
}

/// The open problems to remember after this run: the current ones, plus the previous ones of
/// tables this run did not verify completely — a problem is only *resolved* when its table was
/// verified again on facts that were all read, or no longer exists. Not verified completely:
/// the region failed, the table's evaluation has an `UNVERIFIABLE` finding (a source it depends
/// on was not read, or not reached before the deadline — whatever its verdict: a
/// non-compliant table whose points were unreadable must not have its point problems
/// resolved), or a table filter (`tables`) left it out. A previous problem of a table that is
/// no longer listed (and not filtered out, the table list having been read) is resolved: the
/// table was deleted. Returns the set and how many were carried over. (Bookkeeping, not a
/// compliance decision.)
pub fn open_after_run(
    report: &RegionReport,
    current: BTreeMap<String, OpenFinding>,
    previous: Option<&BTreeMap<String, OpenFinding>>,
    table_filter: &[String],
) -> (BTreeMap<String, OpenFinding>, usize) {
    let fully_read: BTreeMap<&str, bool> = report
        .report
        .tables
        .iter()
        .map(|t| {
            let unread = t.verdict == Verdict::Unverifiable
                || t.findings
                    .iter()
                    .any(|f| f.code == FindingCode::Unverifiable);
            (t.table.name.as_str(), !unread)
        })
        .collect();
    let not_verified = |table: &str| -> bool {
        if report.failure.is_some() {
            return true;
        }
        match fully_read.get(table) {
            Some(read) => !read,
            None => {
                !table_filter.is_empty()
                    && !table_filter
                        .iter()
                        .any(|g| policy::selection::wildcard_match(g, table))
            }
        }
    };
    let mut out = current;
    let mut carried = 0;
    if let Some(prev) = previous {
        for (id, f) in prev {
            if !out.contains_key(id) && not_verified(&f.table) {
                out.insert(id.clone(), f.clone());
                carried += 1;
            }
        }
    }
    (out, carried)
}

fn calls_delta(ctx: &AwsContext, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    ctx.calls
        .attempts()
        .into_iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(before.get(&k).copied().unwrap_or(0));
            (d > 0).then_some((k, d))
        })
        .collect()
}

/// One invocation: verify every region, log report and metrics, publish the digest, save the
/// state.
pub async fn run(event: LambdaEvent<Value>, deps: &Deps) -> Result<VerifierOutcome, VerifierError> {
    let started = Instant::now();
    let inv = parse_invocation(&event.payload)?;
    let now = inv.now.unwrap_or_else(Timestamp::now);
    let configured: Vec<&str> = deps.regions.iter().map(|(r, _)| r.as_str()).collect();
    let wanted: Vec<String> = match &inv.regions {
        Some(r) => r.clone(),
        None => configured.iter().map(|s| s.to_string()).collect(),
    };
    let mut contexts: Vec<(&str, &AwsContext)> = Vec::new();
    for r in &wanted {
        match deps.regions.iter().find(|(name, _)| name == r) {
            Some((name, ctx)) => contexts.push((name.as_str(), ctx)),
            None => {
                return Err(VerifierError::UnknownRegion {
                    region: r.clone(),
                    configured: configured.join(","),
                });
            }
        }
    }
    let budget = invocation_budget(event.context.deadline);
    let opts = VerifyOptions {
        tables: inv.tables.clone(),
        deadline: Some(work_deadline(&budget, deps.safety_margin)),
        call_deadline: Some(budget.before_deadline(deps.safety_margin / 2)),
        concurrency: deps.concurrency,
        ..VerifyOptions::default()
    };

    let reports: Vec<RegionReport> = futures::future::join_all(
        contexts
            .iter()
            .map(|(_, ctx)| verify_region(ctx, &deps.policy, now, &opts)),
    )
    .await;

    // Compare with the previous run. The digest and the state get what is left of the
    // budget (the safety margin): their clients give up before the function's timeout.
    let home = deps
        .home
        .with_deadline(budget.before_deadline(PUBLISH_RESERVE));
    let side_before = deps.home.calls.attempts();
    let mut state_errors = Vec::new();
    let mut previous: BTreeMap<String, Option<FindingState>> = BTreeMap::new();
    let mut diffs = BTreeMap::new();
    let mut open_sets = BTreeMap::new();
    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    for r in &reports {
        let prev = match finding_state::load(home.dynamodb(), &deps.state_table, &r.region).await {
            Ok(p) => Some(p),
            Err(e) => {
                state_errors.push(format!(
                    "region {}: previous findings could not be loaded: {e}",
                    r.region
                ));
                notes.insert(
                    r.region.clone(),
                    "previous run's findings could not be read: every open problem is listed as new and none as resolved".into(),
                );
                None
            }
        };
        let current = digest::open_problems(r);
        let prev_set = prev.as_ref().and_then(|p| p.as_ref()).map(|s| &s.findings);
        let (open, carried) = open_after_run(r, current, prev_set, &inv.tables);
        if carried > 0 {
            let n = format!(
                "{carried} problem(s) from the last run concern tables not verified this time; they stay open"
            );
            notes
                .entry(r.region.clone())
                .and_modify(|x| {
                    x.push_str("; ");
                    x.push_str(&n);
                })
                .or_insert(n);
        }
        diffs.insert(r.region.clone(), finding_state::diff(prev_set, &open));
        open_sets.insert(r.region.clone(), open);
        if let Some(p) = prev {
            previous.insert(r.region.clone(), p);
        }
    }

    let account = reports.iter().find_map(|r| r.account.clone());
    let region_digests: Vec<digest::RegionDigest<'_>> = reports
        .iter()
        .map(|r| digest::RegionDigest {
            report: r,
            diff: diffs.get(&r.region).cloned().unwrap_or_default(),
            state_note: notes.get(&r.region).cloned(),
        })
        .collect();
    let message = digest::build_digest(
        &region_digests,
        &digest::DigestContext {
            generated_at: now,
            account,
            mode: deps.policy.mode.as_str().to_string(),
        },
    );

    // Log: the full report per region, then the metrics.
    for r in &reports {
        match serde_json::to_string(r) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                tracing::error!(region = %r.region, error = %e, "run report could not be serialised")
            }
        }
    }
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    for line in metrics::emf_lines(&reports, Timestamp::now(), duration_ms) {
        println!("{line}");
    }

    let nothing_verified = !reports.is_empty() && reports.iter().all(|r| !r.verified_something());
    let mut message_id = None;
    if !inv.dry_run {
        let published = publisher::publish(home.sns(), &deps.topic_arn, &message).await;
        println!(
            "{}",
            metrics::run_outcome_line(Timestamp::now(), published.is_ok())
        );
        match published {
            Ok(id) => message_id = Some(id),
            Err(e) => {
                tracing::error!(error = %e, "digest not published");
                return Err(VerifierError::DigestNotSent(e.to_string()));
            }
        }
        for r in &reports {
            let Some(open) = open_sets.get(&r.region) else {
                continue;
            };
            if !previous.contains_key(&r.region) {
                // The previous state was not read: overwriting it would drop the problems of
                // tables this run could not verify (they could not be carried over). Keep it;
                // the next run compares with it again.
                state_errors.push(format!(
                    "region {}: findings not saved, because the previous ones could not be read (kept for the next run)",
                    r.region
                ));
                continue;
            }
            let prev = previous.get(&r.region).and_then(|p| p.as_ref());
            if let Err(e) = finding_state::save(
                home.dynamodb(),
                &deps.state_table,
                &r.region,
                open,
                now,
                prev,
            )
            .await
            {
                state_errors.push(format!(
                    "region {}: findings could not be saved: {e}",
                    r.region
                ));
            }
        }
    }
    for e in &state_errors {
        tracing::warn!("{e}");
    }
    let side_calls = calls_delta(&deps.home, &side_before);
    println!(
        "{}",
        json!({
            "kind": "backup-guard.verifier-run",
            "generated_at": now.to_string(),
            "dry_run": inv.dry_run,
            "digest_subject": message.subject,
            "digest_message_id": message_id,
            "digest_and_state_calls": side_calls,
            "state_errors": state_errors,
            "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    );

    if nothing_verified {
        let why = reports
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r.region,
                    r.failure
                        .clone()
                        .unwrap_or_else(|| "every table is unverifiable".into())
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(VerifierError::NothingVerifiable(why));
    }
    Ok(VerifierOutcome {
        generated_at: now,
        dry_run: inv.dry_run,
        regions: reports,
        diffs,
        digest: message,
        digest_message_id: message_id,
        state_errors,
        side_calls,
    })
}

/// The Lambda handler: [`run`], returning its summary.
pub async fn handler(
    event: LambdaEvent<Value>,
    deps: &Deps,
) -> Result<Value, lambda_runtime::Error> {
    match run(event, deps).await {
        Ok(outcome) => Ok(outcome.summary()),
        Err(e) => {
            tracing::error!(error = %e, "recovery verification failed");
            Err(Box::new(e))
        }
    }
}
