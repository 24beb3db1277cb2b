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
//! 4. write every region's evidence bundle to the evidence bucket ([`evidence_step`];
//!    `BG_EVIDENCE_BUCKET`, none on a dry run) — a failed write is a finding of the digest;
//! 5. log the full JSON report and the EMF metric lines ([`metrics`]);
//! 6. publish the digest ([`digest`]) — always, as a heartbeat, naming where the evidence
//!    went — then save the new state.
//!
//! The invocation fails only if nothing at all could be verified (or the payload is invalid,
//! or the digest could not be sent); partial failures are reported as `UNVERIFIABLE`.

// Every function of the functions and of awsio reads in one screen: clippy (run with
// -D warnings) refuses one over 100 lines (clippy.toml's default threshold).
#![warn(clippy::too_many_lines)]

pub mod bundle;
pub mod calls;
pub mod digest;
#[cfg(test)]
mod digest_golden;
pub mod evidence_step;
pub mod inventory;
pub mod metrics;
pub mod org;
pub mod org_run;
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
pub use evidence_step::EvidenceStatus;
pub use inventory::{Inventory, Source, SourceRead, read_inventory};
pub use payload::{Invocation, PayloadError, parse_invocation};
pub use settings::{
    ConfigError, ENV_EVIDENCE_BUCKET, ENV_REGIONS, ENV_STATE_TABLE, ENV_TOPIC_ARN, Settings,
    parse_regions,
};
pub use verify::{CacheSource, CacheUse, RegionReport, VerifyOptions, verify_region};

/// Every AWS operation this function calls, as the call counter names them
/// (`Service.Operation`). The single list the IAM policy of the template is checked against and
/// the fault matrix injects a fault into, one operation at a time; the fault-matrix tests prove
/// it complete (no call outside it) and current (every entry is called).
pub const AWS_OPERATIONS: &[&str] = &[
    "Backup.GetBackupPlan",
    "Backup.GetBackupSelection",
    "Backup.GetBackupVaultAccessPolicy",
    "Backup.ListBackupJobs",
    "Backup.ListBackupPlans",
    "Backup.ListBackupSelections",
    "Backup.ListBackupVaults",
    "Backup.ListRecoveryPointsByBackupVault",
    "Backup.ListRestoreJobs",
    "DynamoDB.DeleteItem",
    "DynamoDB.DescribeTable",
    "DynamoDB.GetItem",
    "DynamoDB.ListTables",
    "DynamoDB.PutItem",
    "KMS.DescribeKey",
    "Resource Groups Tagging API.GetResources",
    "S3.PutObject",
    "SNS.Publish",
    "STS.GetCallerIdentity",
];

/// The AWS operations the organization fan-out's steps call besides [`AWS_OPERATIONS`]
/// (`crate::org_run`): the central role assumes each member role, lists the organization's
/// accounts, reads each member's effective backup policy, and the items file, the result
/// files and the org index go through S3. The org template's central role is checked against
/// both lists; its fault matrix injects into these.
pub const ORG_OPERATIONS: &[&str] = &[
    "Organizations.DescribeEffectivePolicy",
    "Organizations.ListAccounts",
    "Organizations.ListAccountsForParent",
    "Organizations.ListOrganizationalUnitsForParent",
    "S3.GetObject",
    "STS.AssumeRole",
];

/// The creation-time cache's load gets at most this long ...
pub const CACHE_LOAD_MAX: Duration = Duration::from_secs(2);
/// ... and at most this share of the invocation's budget (1/20 = 5 %), so a state table that
/// hangs costs the run little and never the digest's time.
pub const CACHE_LOAD_SHARE: u32 = 20;

/// How long the creation-time cache's load may take in a run with `budget` left:
/// min([`CACHE_LOAD_MAX`], 5 % of it).
pub fn cache_load_timeout(budget: &Budget) -> Duration {
    CACHE_LOAD_MAX.min(budget.remaining() / CACHE_LOAD_SHARE)
}

/// Time kept after the digest and state calls' own deadline, to log and return before the
/// function's timeout.
pub const PUBLISH_RESERVE: Duration = Duration::from_millis(500);

/// Everything a run needs, built once per Lambda container.
#[derive(Debug, Clone)]
pub struct Deps {
    /// The backup policy every table is verified against (from the `BG_*` variables).
    pub policy: Policy,
    /// ARN of the SNS topic the digest is published to.
    pub topic_arn: String,
    /// Name of the DynamoDB table the open problems are kept in between runs.
    pub state_table: String,
    /// The bucket every run's evidence bundles are written to (`BG_EVIDENCE_BUCKET`);
    /// `None`: none are stored, and the digest says so.
    pub evidence_bucket: Option<String>,
    /// Clients for SNS, the state table and the evidence bucket (the function's own region).
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

impl Deps {
    /// Production wiring: the policy and [`Settings`] from the process environment, clients
    /// from `aws-config` for the function's own region and for each region to verify (the
    /// home region's clients are reused when it is one of them).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let policy = Policy::from_env()?;
        let settings = Settings::from_env()?;
        let home = AwsContext::from_env(None).await;
        let home_region = home.region().map(str::to_string);
        let mut regions = Vec::new();
        for r in settings.regions_or(home_region.as_deref())? {
            let ctx = if Some(&r) == home_region.as_ref() {
                home.clone()
            } else {
                AwsContext::from_env(Some(&r)).await
            };
            regions.push((r, ctx));
        }
        Ok(Deps {
            policy,
            topic_arn: settings.topic_arn,
            state_table: settings.state_table,
            evidence_bucket: settings.evidence_bucket,
            home,
            regions,
            safety_margin: settings.safety_margin,
            concurrency: settings.concurrency,
        })
    }
}

/// Why an invocation failed (Lambda then retries it, and the failure queue alarms).
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
        /// The region the payload asked for.
        region: String,
        /// The configured regions, comma-separated.
        configured: String,
    },
    /// Nothing could be verified in any region (the digest was still attempted).
    #[error("nothing could be verified: {0}")]
    NothingVerifiable(String),
    /// The digest (heartbeat) could not be published; state was not saved so the next run
    /// reports the same problems as new again.
    #[error("the digest could not be published: {0}")]
    DigestNotSent(String),
    /// A step of the organization fan-out could not do its job (list the accounts, write the
    /// items, read the results); the state machine's run fails and its alarm fires.
    #[error("org fan-out: {0}")]
    Org(String),
}

/// The result of a run that verified something: what [`handler`] summarises and tests inspect.
#[derive(Debug, Clone)]
pub struct VerifierOutcome {
    /// The instant the policy was evaluated at (the payload's `now`, or the clock).
    pub generated_at: Timestamp,
    /// True if nothing was published or saved.
    pub dry_run: bool,
    /// One verification report per region, in the order verified.
    pub regions: Vec<RegionReport>,
    /// New / still-open / resolved problems per region.
    pub diffs: BTreeMap<String, FindingDiff>,
    /// The digest (sent unless `dry_run`).
    pub digest: AlertMessage,
    /// SNS message id of the digest.
    pub digest_message_id: Option<String>,
    /// The run's id (the last segment of its evidence prefix).
    pub run_id: String,
    /// What became of each region's evidence bundle.
    pub evidence: BTreeMap<String, EvidenceStatus>,
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
            "run_id": self.run_id,
            "evidence": self.evidence,
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

fn calls_delta(ctx: &AwsContext, before: &awsio::Snapshot) -> BTreeMap<String, u64> {
    ctx.calls.calls_since(before).attempts
}

/// One invocation within `budget` (the invocation's deadline), as named steps: parse the
/// payload, verify the regions, compare with the previous run's state, store the evidence
/// bundles, build the digest, log the reports and metrics, publish the digest, save the state,
/// log the run and return its result. The same shape as table-guard's `run(payload, deps, budget)`.
pub async fn run(
    payload: Value,
    deps: &Deps,
    budget: Budget,
) -> Result<VerifierOutcome, VerifierError> {
    let started = Instant::now();
    let inv = parse_invocation(&payload)?;
    let now = inv.now.unwrap_or_else(Timestamp::now);
    let contexts = regions_to_verify(deps, &inv)?;
    let reports = verify_regions(&contexts, deps, now, &verify_options(&inv, &budget, deps)).await;

    // The digest and the state get what is left of the budget (the safety margin), each
    // step bounded by the same deadline before the function's timeout.
    let side = SidePhase {
        home: &deps.home,
        deadline: budget.before_deadline(PUBLISH_RESERVE),
    };
    let side_before = deps.home.calls.snapshot();
    let mut compared = compare_with_previous(&side, deps, &reports, &inv.tables).await;
    let run_id = inv
        .run_id
        .clone()
        .unwrap_or_else(|| evidence_step::run_id(now, ""));
    let evidence = store_evidence(
        deps,
        &budget,
        &reports,
        &compared,
        &run_id,
        now,
        inv.dry_run,
    )
    .await;
    let message = run_digest(&reports, &compared, now, deps, &evidence);
    log_reports_and_metrics(&reports, started);
    if let Some(line) = metrics::evidence_line(Timestamp::now(), &evidence) {
        println!("{line}");
    }

    let mut message_id = None;
    if !inv.dry_run {
        message_id = Some(publish_digest(&side, deps, &message).await?);
        save_state(&side, deps, &reports, now, &mut compared).await;
        save_creation_times(&side, deps, &reports, now, &mut compared.state_errors).await;
    }
    let side_calls = calls_delta(&deps.home, &side_before);
    log_run(
        &RunLog {
            now,
            dry_run: inv.dry_run,
            message: &message,
            message_id: message_id.as_deref(),
            side_calls: &side_calls,
            state_errors: &compared.state_errors,
        },
        started,
    );
    if let Some(why) = nothing_verified(&reports) {
        return Err(VerifierError::NothingVerifiable(why));
    }
    Ok(VerifierOutcome {
        generated_at: now,
        dry_run: inv.dry_run,
        regions: reports,
        diffs: compared.diffs,
        digest: message,
        digest_message_id: message_id,
        run_id,
        evidence,
        state_errors: compared.state_errors,
        side_calls,
    })
}

/// The clients of the regions the invocation asks for (by default every configured one), in
/// its order; [`VerifierError::UnknownRegion`] for one this function has no clients for.
fn regions_to_verify<'d>(
    deps: &'d Deps,
    inv: &Invocation,
) -> Result<Vec<(&'d str, &'d AwsContext)>, VerifierError> {
    let configured: Vec<&str> = deps.regions.iter().map(|(r, _)| r.as_str()).collect();
    let wanted: Vec<String> = match &inv.regions {
        Some(r) => r.clone(),
        None => configured.iter().map(|s| s.to_string()).collect(),
    };
    let mut contexts = Vec::new();
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
    Ok(contexts)
}

/// The verification options of this invocation: its table filter, and its deadlines (new work
/// stops at the safety margin, calls in flight are cut at half of it).
fn verify_options(inv: &Invocation, budget: &Budget, deps: &Deps) -> VerifyOptions {
    let cache_timeout = cache_load_timeout(budget);
    VerifyOptions {
        tables: inv.tables.clone(),
        deadline: Some(work_deadline(budget, deps.safety_margin)),
        call_deadline: Some(budget.before_deadline(deps.safety_margin / 2)),
        concurrency: deps.concurrency,
        creation_cache: Some(CacheSource {
            home: deps.home.clone(),
            table: deps.state_table.clone(),
            timeout: cache_timeout,
        }),
        ..VerifyOptions::default()
    }
}

/// Verifies every region concurrently ([`verify_region`]); the reports come in the regions'
/// order.
async fn verify_regions(
    contexts: &[(&str, &AwsContext)],
    deps: &Deps,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Vec<RegionReport> {
    futures::future::join_all(
        contexts
            .iter()
            .map(|(_, ctx)| verify_region(ctx, &deps.policy, now, opts)),
    )
    .await
}

/// The comparison of this run's open problems with the previous run's, per region.
struct Comparison {
    /// The previous state of each region whose state could be read (`None` inside: there was
    /// none). A region missing here must not have its state overwritten.
    previous: BTreeMap<String, Option<FindingState>>,
    /// New / still-open / resolved problems.
    diffs: BTreeMap<String, FindingDiff>,
    /// The open problems to remember ([`open_after_run`]).
    open_sets: BTreeMap<String, BTreeMap<String, OpenFinding>>,
    /// Remarks for the digest (previous state unreadable, problems carried over).
    notes: BTreeMap<String, String>,
    /// State-table problems, in the order they happened.
    state_errors: Vec<String>,
}

/// The digest-and-state phase: the home clients and the deadline every step of it must end by.
/// Each step gets clients capped to what is left when it starts, and is cut at the deadline as
/// a whole (a step of several calls, like saving the state, could otherwise use each call's
/// cap in turn and run past the function's timeout).
struct SidePhase<'a> {
    home: &'a AwsContext,
    deadline: Instant,
}

impl SidePhase<'_> {
    /// Clients capped to what is left of the phase now.
    fn clients(&self) -> AwsContext {
        self.home.with_deadline(self.deadline)
    }

    /// `step`'s result, or why it failed or did not finish before the deadline.
    async fn bounded<T, E: std::fmt::Display>(
        &self,
        step: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        match tokio::time::timeout_at(self.deadline.into(), step).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("not finished before the run's deadline".to_string()),
        }
    }
}

/// Loads each region's previous state (one region after the other) and compares it with the
/// region's open problems.
async fn compare_with_previous(
    side: &SidePhase<'_>,
    deps: &Deps,
    reports: &[RegionReport],
    table_filter: &[String],
) -> Comparison {
    let mut c = Comparison {
        previous: BTreeMap::new(),
        diffs: BTreeMap::new(),
        open_sets: BTreeMap::new(),
        notes: BTreeMap::new(),
        state_errors: Vec::new(),
    };
    for r in reports {
        let home = side.clients();
        let load = finding_state::load(home.dynamodb(), &deps.state_table, &r.region);
        let prev = match side.bounded(load).await {
            Ok(p) => Some(p),
            Err(e) => {
                c.state_errors.push(format!(
                    "region {}: previous findings could not be loaded: {e}",
                    r.region
                ));
                c.notes.insert(
                    r.region.clone(),
                    "previous run's findings could not be read: every open problem is listed as new and none as resolved".into(),
                );
                None
            }
        };
        let current = digest::open_problems(r);
        let prev_set = prev.as_ref().and_then(|p| p.as_ref()).map(|s| &s.findings);
        let (open, carried) = open_after_run(r, current, prev_set, table_filter);
        if carried > 0 {
            let n = format!(
                "{carried} problem(s) from the last run concern tables not verified this time; they stay open"
            );
            c.notes
                .entry(r.region.clone())
                .and_modify(|x| {
                    x.push_str("; ");
                    x.push_str(&n);
                })
                .or_insert(n);
        }
        c.diffs
            .insert(r.region.clone(), finding_state::diff(prev_set, &open));
        c.open_sets.insert(r.region.clone(), open);
        if let Some(p) = prev {
            c.previous.insert(r.region.clone(), p);
        }
    }
    c
}

/// Writes every region's evidence bundle ([`evidence_step::write_evidence`]; nothing on a
/// dry run or without a bucket). The writes must end by half the safety margin before the
/// deadline (their clients' timeouts are capped there), which leaves the rest to publish
/// the digest and save the state.
async fn store_evidence(
    deps: &Deps,
    budget: &Budget,
    reports: &[RegionReport],
    compared: &Comparison,
    run_id: &str,
    now: Timestamp,
    dry_run: bool,
) -> BTreeMap<String, EvidenceStatus> {
    let deadline = budget.before_deadline(deps.safety_margin / 2);
    let home = deps.home.with_deadline(deadline);
    let run = evidence_step::EvidenceRun {
        bucket: deps.evidence_bucket.as_deref(),
        dry_run,
        run_id,
        generated_at: now,
    };
    // The clients' timeouts bound each call; this bounds the whole step, whatever happens.
    let written = tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        evidence_step::write_evidence(&home, &run, reports, &compared.diffs),
    )
    .await;
    written.unwrap_or_else(|_| {
        reports
            .iter()
            .map(|r| {
                (
                    r.region.clone(),
                    EvidenceStatus::NotWritten {
                        location: None,
                        error: "the evidence writes did not finish before the invocation's deadline (the bundle may be incomplete)".into(),
                    },
                )
            })
            .collect()
    })
}

/// The run's digest ([`digest::build_digest`]) from the reports, the comparison and where the
/// evidence went.
fn run_digest(
    reports: &[RegionReport],
    compared: &Comparison,
    now: Timestamp,
    deps: &Deps,
    evidence: &BTreeMap<String, EvidenceStatus>,
) -> AlertMessage {
    let region_digests: Vec<digest::RegionDigest<'_>> = reports
        .iter()
        .map(|r| digest::RegionDigest {
            report: r,
            diff: compared.diffs.get(&r.region).cloned().unwrap_or_default(),
            state_note: compared.notes.get(&r.region).cloned(),
        })
        .collect();
    digest::build_digest(
        &region_digests,
        &digest::DigestContext {
            generated_at: now,
            account: reports.iter().find_map(|r| r.account.clone()),
            mode: deps.policy.mode.as_str().to_string(),
            evidence: evidence.clone(),
        },
    )
}

/// Logs the full report of each region, then the EMF metric lines.
fn log_reports_and_metrics(reports: &[RegionReport], started: Instant) {
    for r in reports {
        match serde_json::to_string(r) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                tracing::error!(region = %r.region, error = %e, "run report could not be serialised")
            }
        }
    }
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    for line in metrics::emf_lines(reports, Timestamp::now(), duration_ms) {
        println!("{line}");
    }
}

/// Publishes the digest and logs the run-outcome metric; [`VerifierError::DigestNotSent`] if
/// SNS did not take it (the state is then not saved).
async fn publish_digest(
    side: &SidePhase<'_>,
    deps: &Deps,
    message: &AlertMessage,
) -> Result<String, VerifierError> {
    let home = side.clients();
    let published = side
        .bounded(publisher::publish(home.sns(), &deps.topic_arn, message))
        .await;
    println!(
        "{}",
        metrics::run_outcome_line(Timestamp::now(), published.is_ok())
    );
    published.map_err(|e| {
        tracing::error!(error = %e, "digest not published");
        VerifierError::DigestNotSent(e)
    })
}

/// Saves each region's open problems, one region after the other, except where the previous
/// state could not be read; problems go to the comparison's state errors.
async fn save_state(
    side: &SidePhase<'_>,
    deps: &Deps,
    reports: &[RegionReport],
    now: Timestamp,
    compared: &mut Comparison,
) {
    for r in reports {
        let Some(open) = compared.open_sets.get(&r.region) else {
            continue;
        };
        let Some(prev) = compared.previous.get(&r.region) else {
            // The previous state was not read: overwriting it would drop the problems of
            // tables this run could not verify (they could not be carried over). Keep it;
            // the next run compares with it again.
            compared.state_errors.push(format!(
                "region {}: findings not saved, because the previous ones could not be read (kept for the next run)",
                r.region
            ));
            continue;
        };
        let home = side.clients();
        let save = finding_state::save(
            home.dynamodb(),
            &deps.state_table,
            &r.region,
            open,
            now,
            prev.as_ref(),
        );
        if let Err(e) = side.bounded(save).await {
            compared.state_errors.push(format!(
                "region {}: findings could not be saved: {e}",
                r.region
            ));
        }
    }
}

/// Saves each region's creation-time cache where it changed and may be saved (after the
/// digest and the findings state, bounded by the side deadline); a failure is only noted
/// (the next run reads those creation times again).
async fn save_creation_times(
    side: &SidePhase<'_>,
    deps: &Deps,
    reports: &[RegionReport],
    now: Timestamp,
    state_errors: &mut Vec<String>,
) {
    for r in reports {
        let (Some(cache), Some(account)) = (&r.creation_cache, &r.account) else {
            continue;
        };
        if !cache.changed || !cache.saveable {
            continue;
        }
        let home = side.clients();
        let save = awsio::creation_cache::save(
            home.dynamodb(),
            &deps.state_table,
            account,
            &r.region,
            &cache.times,
            now,
            cache.previous.as_ref(),
        );
        if let Err(e) = side.bounded(save).await {
            state_errors.push(format!(
                "region {}: creation-time cache not written ({e}); the next run reads those creation times again",
                r.region
            ));
        }
    }
}

/// What the run's closing log line says.
struct RunLog<'a> {
    now: Timestamp,
    dry_run: bool,
    message: &'a AlertMessage,
    message_id: Option<&'a str>,
    side_calls: &'a BTreeMap<String, u64>,
    state_errors: &'a [String],
}

/// Logs each state error as a warning, then the run's closing JSON line.
fn log_run(log: &RunLog<'_>, started: Instant) {
    for e in log.state_errors {
        tracing::warn!("{e}");
    }
    println!(
        "{}",
        json!({
            "kind": "backup-guard.verifier-run",
            "generated_at": log.now.to_string(),
            "dry_run": log.dry_run,
            "digest_subject": log.message.subject,
            "digest_message_id": log.message_id,
            "digest_and_state_calls": log.side_calls,
            "state_errors": log.state_errors,
            "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    );
}

/// Why nothing at all was verified, per region, if so (no region verified anything).
fn nothing_verified(reports: &[RegionReport]) -> Option<String> {
    if reports.is_empty() || reports.iter().any(|r| r.verified_something()) {
        return None;
    }
    Some(
        reports
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
            .join("; "),
    )
}

/// The Lambda handler (what `main.rs` gives the runtime): [`run`] within the invocation's
/// deadline, or [`DEFAULT_BUDGET`] when it gives none in the future ([`invocation_budget`]),
/// returning the run's summary.
pub async fn handler(
    event: LambdaEvent<Value>,
    deps: &Deps,
) -> Result<Value, lambda_runtime::Error> {
    let budget = invocation_budget(event.context.deadline);
    if let Some(req) = org::parse_org_request(&event.payload) {
        let result = match req {
            Ok(req) => org_run::run_org(req, deps, budget).await,
            Err(e) => Err(e.into()),
        };
        return result.map_err(|e| {
            tracing::error!(error = %e, "org fan-out step failed");
            Box::new(e) as lambda_runtime::Error
        });
    }
    match run(event.payload, deps, budget).await {
        Ok(outcome) => Ok(outcome.summary()),
        Err(e) => {
            tracing::error!(error = %e, "recovery verification failed");
            Err(Box::new(e))
        }
    }
}
