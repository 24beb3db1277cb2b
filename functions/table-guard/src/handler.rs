//! The handler: parse → claim the event → gather facts → evaluate (`policy`) → act → alert →
//! record. A restore job event (AWS Backup's `Restore Job State Change`) takes the same
//! steps in [`restore`] (validate the restored table, report it, alert when it failed); a
//! backup job event (`Backup Job State Change`) in [`backup_job`] (alert on a failure naming
//! its slot, a "resolved" notice when a later job of the slot completes).
//!
//! [`run`] is what the Lambda runtime, the CLI (`check-event --live`) and the tests call,
//! with the invocation's [`Budget`] (its deadline). Its steps are functions of their own:
//!
//! - [`run_parsed`], the claim/budget wrapper: ignored events end at once; `claim` takes
//!   the event id in the ledger (a duplicate ends there, re-sending an alert its first
//!   delivery could not publish); the main phase runs `process` under the deadline; `record`
//!   ends the invocation.
//! - `process`, the main phase: `gather_facts` (current tags, [`decide::tags_to_judge`] for a
//!   read that lags behind the event, the cached backup setup) → `policy` evaluates → `act`
//!   (the remediation tag, [`decide::decide_tag`]) → `alert` ([`decide::needs_alert`],
//!   [`crate::alert::compose`], SNS).
//! - `record`: the outcome of a finished event is written to the ledger and logged
//!   (`record_done`); after an unsent alert, `record_failure` keeps or releases the claim and
//!   fails the invocation.
//!
//! # Invariant: every delivered event ends as "alert delivered" or "invocation failed"
//!
//! An invocation that returns `Ok` has either sent the alert the event needs, or found that
//! it needs none (compliant table, ignored event, a table already deleted, a duplicate whose
//! first handling finished). Every other end is an `Err`, which Lambda retries (twice, about
//! 1 and 3 minutes later) and then sends to the failure queue, whose alarm a human sees. How
//! each path keeps that:
//!
//! - **Claim** (`claim`, a conditional put, [`EventLedger::claim`]): the claim is a lease
//!   ending [`Settings::lease_margin`] after the invocation's deadline, so it has ended
//!   before Lambda's first retry. A redelivery while another invocation's lease runs fails
//!   ([`GuardError::InProgress`]) instead of returning `Ok` with nothing sent: the retry
//!   comes after the lease and takes the claim over if the holder never finished. A takeover
//!   always alerts (the earlier delivery may have tagged the table and died before saying so).
//! - **Time**: the main phase (claim, facts, act, alert) is bounded by
//!   `tokio::time::timeout_at(deadline − record_reserve)`, and its clients' timeouts are capped
//!   to that time ([`AwsContext::with_deadline`]), so a hung call (SNS not answering) cannot
//!   run the function into its timeout: [`Settings::record_reserve`] is left to record the
//!   outcome or release the claim (bounded again, by the deadline minus [`RETURN_SLACK`]) and
//!   return `Err` ([`GuardError::OutOfTime`]) before Lambda kills the invocation.
//! - **Alert not published** (error or out of time; `record_failure`): the invocation fails.
//!   If nothing was changed the claim is released and the retry does everything again; if the
//!   backup tag was added (or a `TagResource` was cut off by the deadline, so it may have
//!   been), the outcome with the unsent alert is recorded instead, and the retry only
//!   publishes that alert — the remediation is never repeated and its alert is never lost to a
//!   retry that finds nothing left to do. If that ledger write fails too, the invocation still
//!   fails, and the claim ends with its lease: the retry takes it over and alerts.
//! - **Re-sending a recorded alert** (`resend_alert`) that fails again: the invocation fails;
//!   the recorded outcome stays for the next retry.
//! - **Recording after a sent alert** (or one not needed; `record_done`) fails: only a warning
//!   — the alert went out; a later redelivery takes the unfinished claim over and alerts again
//!   at worst.
//! - **Table gone** (found deleted while reading its tags or adding the tag): nothing is left
//!   to guard, so no alert is needed; the outcome (handling `gone`) is recorded like that of
//!   a finished event and the invocation returns `Ok`.

use std::collections::BTreeMap;
use std::time::Duration;

use awsio::error::AwsCallError;
use awsio::idempotency::{Claim, EventLedger};
use awsio::publisher::{self, PublishError};
use awsio::table::{self, Lookup};
use awsio::{AwsContext, Budget, Snapshot};
use policy::config::Policy;
use policy::evaluate::{Coverage, Evaluator, TableEvaluation};
use policy::facts::{BackupSetup, Fact, TableFacts};

use crate::decide::{self, TagDecision};
use crate::event::{
    Disposition, EventError, GuardEvent, ParsedEvent, TableEvent, TableEventName, parse_guard_event,
};
use crate::outcome::{Action, AlertStatus, GuardOutcome, Handling};
use crate::settings::{LEDGER_TTL, RETURN_SLACK};

pub use crate::cache::SetupCache;
pub use crate::settings::{ConfigError, Settings};

pub mod backup_job;
pub mod change;
pub mod replica;
pub mod restore;
pub use backup_job::run_backup_job;
pub use change::run_change;
pub use restore::run_restore;

/// Everything the handler needs, built once per Lambda instance and shared by its
/// invocations: the SDK clients with their call counter, the backup policy, the settings and
/// the backup setup cache.
#[derive(Debug)]
pub struct Deps {
    /// SDK clients for the function's account and region, and the call counter they share
    /// (each invocation uses copies capped to its deadline, counting in the same counter).
    pub ctx: AwsContext,
    /// The backup policy tables are checked against (and its mode: `enforce` or
    /// `report-only`).
    pub policy: Policy,
    /// Where alerts go, where the ledger lives, and the invocation's timings.
    pub settings: Settings,
    /// Backup plans and selections reused across warm invocations.
    pub setup_cache: SetupCache,
}

impl Deps {
    /// Builds the dependencies from clients, a policy and settings. Each invocation works with
    /// copies of `ctx` whose timeouts are capped to its deadline (same call counter).
    pub fn new(ctx: AwsContext, policy: Policy, settings: Settings) -> Self {
        Deps {
            ctx,
            policy,
            settings,
            setup_cache: SetupCache::new(),
        }
    }

    /// Production wiring: policy and settings from the process environment, clients from
    /// `aws-config`.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let policy = Policy::from_env()?;
        let settings = Settings::from_env()?;
        let ctx = AwsContext::from_env(None).await;
        Ok(Self::new(ctx, policy, settings))
    }
}

/// Why an invocation failed (the runtime then retries the event or sends it to the DLQ).
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The event is not one the guard handles, or is malformed.
    #[error("unusable event: {0}")]
    Event(#[from] EventError),
    /// The event ledger could not be read or written, so acting could repeat an action.
    #[error("event ledger: {0}")]
    Ledger(AwsCallError),
    /// The state table's remembered backup failures could not be read, so whether a notice
    /// is due is unknown (a completed backup job).
    #[error("remembered backup job failures: {0}")]
    State(AwsCallError),
    /// The alert could not be published; `outcome` records what was already done.
    #[error("alert not published for table {table}: {source}; already done: {done}", table = table_name(outcome), done = done_summary(outcome))]
    Publish {
        /// The outcome so far (actions taken).
        outcome: Box<GuardOutcome>,
        /// Why SNS did not take the alert.
        source: PublishError,
    },
    /// Another invocation holds the event's claim and its lease has not ended: acting could
    /// repeat what it does, returning `Ok` could lose the event if it fails. Lambda retries
    /// this one after the lease.
    #[error("event {event_id} is being handled by another invocation (its claim's lease ends {lease}); failing so the event is retried after it", lease = lease_text(lease_until))]
    InProgress {
        /// The CloudTrail event id whose claim another invocation holds.
        event_id: String,
        /// When the holder's lease ends, if known.
        lease_until: Option<jiff::Timestamp>,
    },
    /// The work did not finish before the invocation's deadline minus the reserve (a call
    /// hung); `outcome` records what was already done.
    #[error("{phase} for table {table} did not finish {reserve:?} before the invocation's deadline; already done: {done}", table = table_name(outcome), done = done_summary(outcome))]
    OutOfTime {
        /// The step that was cut off (e.g. `claiming the event`).
        phase: &'static str,
        /// The time kept for recording ([`Settings::record_reserve`]).
        reserve: Duration,
        /// The outcome so far (actions taken).
        outcome: Box<GuardOutcome>,
    },
}

fn lease_text(lease: &Option<jiff::Timestamp>) -> String {
    match lease {
        Some(t) => format!("at {t}"),
        None => "soon (the claim was released while being read)".to_string(),
    }
}

fn table_name(o: &GuardOutcome) -> &str {
    o.table.as_ref().map(|t| t.name.as_str()).unwrap_or("?")
}

fn done_summary(o: &GuardOutcome) -> String {
    let done: Vec<String> = o
        .actions
        .iter()
        .filter(|a| a.changed_something())
        .map(|a| match a {
            Action::TagAdded { key, value, .. } => format!("added tag {key}={value}"),
            other => format!("{other:?}"),
        })
        .collect();
    if done.is_empty() {
        "nothing".to_string()
    } else {
        done.join(", ")
    }
}

impl GuardError {
    /// The outcome recorded with the error, if any.
    pub fn outcome(&self) -> Option<&GuardOutcome> {
        match self {
            GuardError::Publish { outcome, .. } | GuardError::OutOfTime { outcome, .. } => {
                Some(outcome)
            }
            _ => None,
        }
    }
}

impl From<GuardError> for lambda_runtime::Diagnostic {
    fn from(e: GuardError) -> Self {
        let error_type = match &e {
            GuardError::Event(_) => "TableGuard.UnusableEvent",
            GuardError::Ledger(_) => "TableGuard.LedgerUnavailable",
            GuardError::State(_) => "TableGuard.StateUnavailable",
            GuardError::Publish { .. } => "TableGuard.AlertNotPublished",
            GuardError::InProgress { .. } => "TableGuard.EventInProgress",
            GuardError::OutOfTime { .. } => "TableGuard.OutOfTime",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
}

/// The Lambda handler (what `main.rs` gives the runtime): [`run`] within the invocation's
/// deadline, or [`Settings::default_budget`] when it gives none in the future (`cargo lambda
/// watch` sends a past constant), with a warning.
pub async fn handler(
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
    deps: &Deps,
) -> Result<GuardOutcome, GuardError> {
    let budget = Budget::from_deadline_ms(event.context.deadline, deps.settings.default_budget);
    run(event.payload, deps, budget).await
}

/// Handles one EventBridge event (see the module docs) within `budget` (the invocation's
/// deadline). Logs the outcome as one JSON line.
pub async fn run(
    event: serde_json::Value,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let parsed = match parse_guard_event(&event) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(field = %e.field, problem = %e.problem, "unusable event");
            return Err(e.into());
        }
    };
    match parsed {
        GuardEvent::Table(parsed) => run_parsed(parsed, deps, budget).await,
        GuardEvent::RestoreJob(job) => run_restore(job, deps, budget).await,
        GuardEvent::BackupJob(job) => run_backup_job(job, deps, budget).await,
        GuardEvent::Change(change) => run_change(change, deps, budget).await,
    }
}

/// Handles an already parsed event within `budget`: the claim/budget wrapper around the
/// main phase (`process`); see the module docs for how each path ends.
pub async fn run_parsed(
    parsed: ParsedEvent,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.snapshot();
    let mut outcome = GuardOutcome::new(
        &parsed.event_id,
        parsed.event_name.as_str(),
        parsed.actor.clone(),
        parsed.table().cloned(),
        deps.policy.mode.as_str(),
    );
    let table_event = match &parsed.disposition {
        Disposition::Ignored { reason } => return Ok(ignored(&parsed.event_id, reason, outcome)),
        Disposition::Evaluate(e) => e.clone(),
        Disposition::Replicas(r) => match replica::split(r, deps.ctx.region()) {
            // A replica in this region is a new table here: the CreateTable path.
            replica::Replicas::Here(table) => {
                outcome.table = Some(table.clone());
                TableEvent {
                    table,
                    tags_in_request: BTreeMap::new(),
                    tag_keys_removed: Vec::new(),
                }
            }
            replica::Replicas::Unwatched { elsewhere, here } => {
                return replica::run_unwatched(&parsed, r, elsewhere, here, deps, budget).await;
            }
        },
    };
    check_region(&parsed, &table_event, deps)?;

    let inv = Invocation::new(deps, budget, calls_before);
    let (mut outcome, taken_over) = match claim(&inv, outcome).await {
        Claimed::Proceed {
            outcome,
            taken_over,
        } => (outcome, taken_over),
        Claimed::Done(result) => return result,
    };
    let mut tagging: Option<(String, String)> = None;
    let result = inv
        .phases
        .work(process(
            parsed.event_name,
            &table_event,
            deps,
            &inv.ctx,
            taken_over,
            &mut outcome,
            &mut tagging,
        ))
        .await;
    record(&inv, result, tagging, outcome).await
}

/// An event the guard does not act on: logged, `Ok` (nothing to alert, nothing claimed).
fn ignored(event_id: &str, reason: &str, mut outcome: GuardOutcome) -> GuardOutcome {
    tracing::info!(event_id = %event_id, reason = %reason, "event ignored");
    outcome.handling = Handling::Ignored {
        reason: reason.to_string(),
    };
    log_outcome(&outcome);
    outcome
}

/// Fails an event for a table in another region than the function's (one stack per region).
fn check_region(
    parsed: &ParsedEvent,
    table_event: &TableEvent,
    deps: &Deps,
) -> Result<(), GuardError> {
    let Some(region) = deps.ctx.region() else {
        return Ok(());
    };
    if region == table_event.table.region {
        return Ok(());
    }
    let e = EventError::new(
        parsed.event_name.arn_path(),
        format!(
            "table {} is in region {}, but this function serves {region} (deploy one stack per region)",
            table_event.table.name, table_event.table.region
        ),
    );
    tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
    Err(e.into())
}

/// One invocation's frame: the dependencies, its phases, the clients capped to the main
/// phase, the lease its claim asks for, and the call counts when it started.
struct Invocation<'a> {
    deps: &'a Deps,
    phases: Phases,
    ctx: AwsContext,
    lease_until: jiff::Timestamp,
    calls_before: Snapshot,
}

impl<'a> Invocation<'a> {
    fn new(deps: &'a Deps, budget: Budget, calls_before: Snapshot) -> Self {
        let phases = Phases::new(budget, &deps.settings);
        let ctx = deps.ctx.with_deadline(phases.work_until);
        let lease_until = budget
            .deadline_timestamp()
            .checked_add(deps.settings.lease_margin)
            .unwrap_or(jiff::Timestamp::MAX);
        Invocation {
            deps,
            phases,
            ctx,
            lease_until,
            calls_before,
        }
    }

    /// Attempts per operation made by this invocation so far.
    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.deps.ctx.calls.calls_since(&self.calls_before).attempts
    }

    fn reserve(&self) -> Duration {
        self.deps.settings.record_reserve
    }
}

/// How the claim step ended.
enum Claimed {
    /// The event is this invocation's to handle; `taken_over` if an earlier delivery's claim
    /// was taken over (so the alert is always sent).
    Proceed {
        outcome: GuardOutcome,
        taken_over: bool,
    },
    /// The invocation ends here: a duplicate (or its re-sent alert), or an error.
    Done(Result<GuardOutcome, GuardError>),
}

/// Claim: takes the event id in the ledger (within the main phase).
async fn claim(inv: &Invocation<'_>, mut outcome: GuardOutcome) -> Claimed {
    let deps = inv.deps;
    let ledger = EventLedger::new(
        inv.ctx.dynamodb().clone(),
        deps.settings.state_table.clone(),
    );
    let event_id = outcome.event_id.clone();
    let now = jiff::Timestamp::now();
    let claim = match inv
        .phases
        .work(ledger.claim(&event_id, LEDGER_TTL, now, inv.lease_until))
        .await
    {
        Some(Ok(claim)) => claim,
        Some(Err(e)) => return Claimed::Done(Err(GuardError::Ledger(e))),
        None => {
            // Whether the claim was written is unknown; if it was, it ends with its lease.
            let e = Failure::OutOfTime("claiming the event").into_error(outcome, inv.reserve());
            tracing::error!(error = %e, "the event will be retried");
            return Claimed::Done(Err(e));
        }
    };
    match claim {
        Claim::New => Claimed::Proceed {
            outcome,
            taken_over: false,
        },
        Claim::TakenOver { claimed_at } => {
            outcome.notes.push(format!(
                "an earlier delivery of this event (claimed at {}) did not finish: it may have changed the table before it stopped; this alert reports the table as it is now",
                claimed_at.as_deref().unwrap_or("an unknown time")
            ));
            Claimed::Proceed {
                outcome,
                taken_over: true,
            }
        }
        Claim::InProgress { lease_until } => {
            let e = GuardError::InProgress {
                event_id,
                lease_until,
            };
            tracing::error!(error = %e, "event in progress elsewhere");
            Claimed::Done(Err(e))
        }
        Claim::Duplicate { outcome: previous } => {
            Claimed::Done(duplicate(inv, previous, outcome).await)
        }
    }
}

/// A redelivery of an event whose first handling finished: nothing to do, unless that
/// handling acted but could not publish its alert and recorded it — then the alert is sent
/// instead of acting again.
async fn duplicate(
    inv: &Invocation<'_>,
    previous: Option<String>,
    mut outcome: GuardOutcome,
) -> Result<GuardOutcome, GuardError> {
    let previous_outcome: Option<GuardOutcome> = previous
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok());
    if let Some(prev) = previous_outcome.filter(|p| matches!(p.alert, AlertStatus::Failed { .. })) {
        return resend_alert(prev, inv).await;
    }
    outcome.handling = Handling::Duplicate {
        previous: previous.and_then(|p| serde_json::from_str(&p).ok()),
    };
    outcome.api_calls = inv.api_calls();
    log_outcome(&outcome);
    Ok(outcome)
}

/// The main phase after the claim: gather facts → evaluate (`policy`) → act → alert. Errors
/// only when the alert cannot be published. `always_alert`: alert even when nothing needs
/// attention (a takeover: the earlier delivery may have acted). `tagging` holds the tag while
/// a `TagResource` is under way (for a caller that gives up waiting).
async fn process(
    event_name: TableEventName,
    event: &TableEvent,
    deps: &Deps,
    ctx: &AwsContext,
    always_alert: bool,
    outcome: &mut GuardOutcome,
    tagging: &mut Option<(String, String)>,
) -> Result<(), PublishError> {
    let Some(facts) = gather_facts(event_name, event, deps, ctx, outcome).await else {
        return Ok(()); // the table is gone: the outcome says so
    };
    let evaluator = Evaluator::new(&facts.setup, &deps.policy);
    let initial = evaluator.evaluate_new_table(&facts.table);
    outcome.initial_verdict = Some(initial.verdict);
    outcome.initial_findings = initial.findings.clone();
    let Some(evaluation) = act(
        &evaluator,
        &facts.table,
        initial,
        deps,
        ctx,
        outcome,
        tagging,
    )
    .await
    else {
        return Ok(()); // the table was deleted before it could be tagged
    };
    outcome.set_final_evaluation(&evaluation);
    alert(&evaluation, deps, ctx, always_alert, outcome).await
}

/// What the verdict is based on: the table with its current tags, and the backup setup.
struct Facts {
    table: TableFacts,
    setup: BackupSetup,
}

/// Gather facts: the table's current tags and the backup setup (from the warm cache if
/// fresh). `None` if the table no longer exists (the outcome says so).
async fn gather_facts(
    event_name: TableEventName,
    event: &TableEvent,
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
) -> Option<Facts> {
    let tags = read_tags(event_name, event, deps, ctx, outcome).await?;
    let (setup, cached) = deps.setup_cache.get(ctx, deps.settings.setup_ttl).await;
    if cached {
        outcome
            .notes
            .push("backup plans and selections from the warm cache".to_string());
    }
    let table = TableFacts {
        arn: event.table.arn.clone(),
        name: event.table.name.clone(),
        account: event.table.account.clone(),
        region: event.table.region.clone(),
        created: None,
        tags,
    };
    Some(Facts { table, setup })
}

/// The table's current tags, waiting briefly for the tags the call set to become visible
/// ([`decide::tags_to_judge`] decides about a read that still lags). A tag read that fails is
/// an unknown fact; `None` if the table no longer exists.
async fn read_tags(
    event_name: TableEventName,
    event: &TableEvent,
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
) -> Option<Fact<BTreeMap<String, String>>> {
    let dynamodb = ctx.dynamodb();
    let arn = &event.table.arn;
    let read = table::read_tags_expecting(
        dynamodb,
        arn,
        &event.tags_in_request,
        &deps.settings.tag_read,
    )
    .await;
    match read {
        Ok(Lookup::Found(read)) => {
            let (tags, note) = decide::tags_to_judge(read, event_name.creates_table());
            outcome.notes.extend(note);
            Some(Fact::Known(tags))
        }
        Ok(Lookup::Gone) => match table::describe_table(dynamodb, arn).await {
            Ok(Lookup::Gone) => {
                outcome.handling = Handling::Gone;
                outcome.notes.push(
                    "the table no longer exists (ListTagsOfResource and DescribeTable: ResourceNotFoundException)"
                        .to_string(),
                );
                None
            }
            Ok(Lookup::Found(state)) => Some(Fact::unknown(format!(
                "ListTagsOfResource did not find the table although DescribeTable reports it {}",
                state.status
            ))),
            Err(e) => Some(Fact::unknown(format!(
                "ListTagsOfResource did not find the table and DescribeTable failed: {e}"
            ))),
        },
        Err(e) => Some(Fact::unknown(e.to_string())),
    }
}

/// Act: does what [`decide::decide_tag`] says about the tag the policy proposes (adds it in
/// mode `enforce`, re-evaluating the table with it) and records the action. Returns the final
/// evaluation; `None` if the table was deleted before the tag could be added.
async fn act(
    evaluator: &Evaluator<'_>,
    facts: &TableFacts,
    initial: TableEvaluation,
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
    tagging: &mut Option<(String, String)>,
) -> Option<TableEvaluation> {
    let proposed = evaluator.remediation_tag(facts);
    let (key, value) = match decide::decide_tag(&facts.tags, proposed, deps.policy.mode) {
        TagDecision::Nothing => return Some(initial),
        TagDecision::WouldAdd { key, value } => {
            outcome.actions.push(Action::WouldAddTag { key, value });
            return Some(initial);
        }
        TagDecision::Refuse {
            key,
            wanted,
            existing,
        } => {
            outcome.actions.push(Action::TagNotOverwritten {
                key,
                wanted,
                existing,
            });
            return Some(initial);
        }
        TagDecision::Add { key, value } => (key, value),
    };
    let pair = [(key.clone(), value.clone())];
    *tagging = Some((key.clone(), value.clone()));
    let written =
        table::tag_resource(ctx.dynamodb(), &facts.arn, &pair, &deps.settings.tag_write).await;
    *tagging = None;
    match written {
        Ok(write) => {
            // Re-check coverage with the tag added (the setup is already known).
            let mut tagged = facts.clone();
            if let Fact::Known(t) = &mut tagged.tags {
                t.insert(key.clone(), value.clone());
            }
            let tagged_eval = evaluator.evaluate_new_table(&tagged);
            let confirmed = matches!(tagged_eval.coverage, Coverage::Protected { .. });
            outcome.actions.push(Action::TagAdded {
                key,
                value,
                coverage_confirmed: confirmed,
                calls: write.calls,
            });
            Some(tagged_eval)
        }
        Err(e) if e.is_not_found() => {
            outcome.handling = Handling::Gone;
            outcome
                .notes
                .push("the table was deleted before the backup tag could be added".to_string());
            None
        }
        Err(e) => {
            outcome.actions.push(Action::TagFailed {
                key,
                value,
                error: e.to_string(),
            });
            Some(initial)
        }
    }
}

/// Alert: publishes the alert if [`decide::needs_alert`] says the event needs one
/// (`always_alert` forces it), with the severity of [`decide::alert_severity`].
async fn alert(
    evaluation: &TableEvaluation,
    deps: &Deps,
    ctx: &AwsContext,
    always_alert: bool,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    let notify = deps.settings.notify_compliant || always_alert;
    if !decide::needs_alert(evaluation, &outcome.actions, notify) {
        return Ok(());
    }
    let severity = decide::alert_severity(&outcome.findings, &outcome.actions);
    let message = crate::alert::compose(outcome, severity);
    let id = publisher::publish(ctx.sns(), &deps.settings.topic_arn, &message).await?;
    outcome.alert = AlertStatus::Sent { message_id: id };
    Ok(())
}

/// Record: ends the invocation after the main phase (`None` if it ran out of time). A
/// finished event is recorded and `Ok`; an unsent alert goes to [`record_failure`].
async fn record(
    inv: &Invocation<'_>,
    result: Option<Result<(), PublishError>>,
    tagging: Option<(String, String)>,
    mut outcome: GuardOutcome,
) -> Result<GuardOutcome, GuardError> {
    let failure = match result {
        Some(Ok(())) => {
            outcome.api_calls = inv.api_calls();
            record_done(inv.deps, &inv.phases, &outcome).await;
            return Ok(outcome);
        }
        Some(Err(source)) => Failure::Publish(source),
        None => Failure::OutOfTime("gathering facts, acting and alerting"),
    };
    record_failure(inv, failure, tagging, outcome).await
}

/// The alert was not published: keeps the claim with the recorded outcome if something was
/// (or may have been) changed, so the retry re-sends this alert, else releases it so the
/// retry does everything again; then fails the invocation.
async fn record_failure(
    inv: &Invocation<'_>,
    failure: Failure,
    tagging: Option<(String, String)>,
    mut outcome: GuardOutcome,
) -> Result<GuardOutcome, GuardError> {
    let reserve = inv.reserve();
    let lease_until = inv.lease_until;
    // A `TagResource` cut off by the deadline may have been applied: say so, and keep the
    // claim like after an added tag, so the retry reports it instead of finding it done.
    let mut maybe_changed = false;
    if let (Failure::OutOfTime(_), Some((key, value))) = (&failure, tagging) {
        maybe_changed = true;
        outcome.actions.push(Action::TagFailed {
            key,
            value,
            error: "TagResource did not answer before the invocation's deadline: the tag may or may not have been added".to_string(),
        });
    }
    outcome.alert = AlertStatus::Failed {
        error: failure.text(reserve),
    };
    outcome.api_calls = inv.api_calls();
    let record = inv.phases.record_ledger(inv.deps);
    if maybe_changed || outcome.actions.iter().any(Action::changed_something) {
        // Something was changed: keep the claim and record the outcome, so the retry re-sends
        // this alert instead of finding nothing left to do.
        let written = inv
            .phases
            .record(record.complete(&outcome.event_id, &outcome.to_json_line()))
            .await;
        if let Some(Err(e)) = &written {
            tracing::error!(error = %e, lease_until = %lease_until, "outcome with the unsent alert not recorded; the claim ends with its lease, then a retry takes it over and alerts");
        } else if written.is_none() {
            tracing::error!(lease_until = %lease_until, "recording the outcome with the unsent alert ran out of time; the claim ends with its lease, then a retry takes it over and alerts");
        }
    } else {
        let released = inv.phases.record(record.release(&outcome.event_id)).await;
        if let Some(Err(e)) = &released {
            tracing::error!(error = %e, lease_until = %lease_until, "claim not released; it ends with its lease, then a retry handles the event again");
        } else if released.is_none() {
            tracing::error!(lease_until = %lease_until, "releasing the claim ran out of time; it ends with its lease, then a retry handles the event again");
        }
    }
    tracing::error!(
        outcome = %outcome.to_json_line(),
        error = %failure.text(reserve),
        "alert not published; the event will be retried (already done: {})",
        done_summary(&outcome)
    );
    Err(failure.into_error(outcome, reserve))
}

/// Publishes the alert a previous delivery of the event could not publish, and records it.
/// On failure the recorded outcome stays for the next retry.
async fn resend_alert(
    mut prev: GuardOutcome,
    inv: &Invocation<'_>,
) -> Result<GuardOutcome, GuardError> {
    let deps = inv.deps;
    let severity = match &prev.backup_job {
        Some(check) => check.severity,
        None => decide::alert_severity(&prev.findings, &prev.actions),
    };
    prev.alert = AlertStatus::NotNeeded;
    let message = crate::alert::compose(&prev, severity);
    let reserve = inv.reserve();
    let failure = match inv
        .phases
        .work(publisher::publish(
            inv.ctx.sns(),
            &deps.settings.topic_arn,
            &message,
        ))
        .await
    {
        Some(Ok(id)) => {
            prev.alert = AlertStatus::Sent { message_id: id };
            prev.notes
                .push("alert of an earlier delivery of this event, sent on retry".to_string());
            prev.api_calls = inv.api_calls();
            record_done(deps, &inv.phases, &prev).await;
            return Ok(prev);
        }
        Some(Err(source)) => Failure::Publish(source),
        None => Failure::OutOfTime("re-sending the alert of an earlier delivery"),
    };
    prev.alert = AlertStatus::Failed {
        error: failure.text(reserve),
    };
    tracing::error!(
        outcome = %prev.to_json_line(),
        error = %failure.text(reserve),
        "alert still not published; the event will be retried (already done: {})",
        done_summary(&prev)
    );
    Err(failure.into_error(prev, reserve))
}

/// Why the main phase ended without the alert out.
enum Failure {
    Publish(PublishError),
    OutOfTime(&'static str),
}

impl Failure {
    fn text(&self, reserve: Duration) -> String {
        match self {
            Failure::Publish(e) => e.to_string(),
            Failure::OutOfTime(phase) => {
                format!("{phase} did not finish {reserve:?} before the invocation's deadline")
            }
        }
    }

    fn into_error(self, outcome: GuardOutcome, reserve: Duration) -> GuardError {
        match self {
            Failure::Publish(source) => GuardError::Publish {
                outcome: Box::new(outcome),
                source,
            },
            Failure::OutOfTime(phase) => GuardError::OutOfTime {
                phase,
                reserve,
                outcome: Box::new(outcome),
            },
        }
    }
}

/// The phases of one invocation: the main one ends `record_reserve` before the deadline, the
/// recording one [`RETURN_SLACK`] before it.
struct Phases {
    budget: Budget,
    work_until: std::time::Instant,
    finish_by: std::time::Instant,
}

impl Phases {
    fn new(budget: Budget, settings: &Settings) -> Self {
        Phases {
            budget,
            work_until: budget.before_deadline(settings.record_reserve),
            finish_by: budget.before_deadline(RETURN_SLACK),
        }
    }

    /// The ledger for the recording phase, its clients capped to what is left of it.
    fn record_ledger(&self, deps: &Deps) -> EventLedger {
        let ctx = deps.ctx.with_deadline(self.finish_by);
        EventLedger::new(ctx.dynamodb().clone(), deps.settings.state_table.clone())
    }

    async fn work<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.work_until.into(), fut)
            .await
            .ok()
    }

    async fn record<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.finish_by.into(), fut)
            .await
            .ok()
    }
}

/// Records a finished event's outcome in the ledger, then logs it. A failed write is only
/// logged: the alert went out (or none was needed); the claim stays "in progress" until its
/// lease ends, and a later redelivery would take it over and alert again.
async fn record_done(deps: &Deps, phases: &Phases, outcome: &GuardOutcome) {
    let ledger = phases.record_ledger(deps);
    match phases
        .record(ledger.complete(&outcome.event_id, &outcome.to_json_line()))
        .await
    {
        Some(Ok(())) => {}
        Some(Err(e)) => tracing::warn!(error = %e, "outcome not recorded in the ledger"),
        None => tracing::warn!(
            left_ms = u64::try_from(phases.budget.remaining().as_millis()).unwrap_or(u64::MAX),
            "recording the outcome in the ledger ran out of time"
        ),
    }
    log_outcome(outcome);
}

fn log_outcome(outcome: &GuardOutcome) {
    tracing::info!(outcome = %outcome.to_json_line(), "table-guard outcome");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_in_progress_and_running_out_of_time_are_errors_of_their_own_type() {
        let e = GuardError::InProgress {
            event_id: "ev-1".into(),
            lease_until: Some("2026-11-25T12:00:35Z".parse().unwrap()),
        };
        let text = e.to_string();
        assert!(
            text.contains("ev-1") && text.contains("2026-11-25T12:00:35Z"),
            "{text}"
        );
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, "TableGuard.EventInProgress");

        let outcome = GuardOutcome::new(
            "ev-2",
            "CreateTable",
            crate::event::Actor::default(),
            None,
            "enforce",
        );
        let e = GuardError::OutOfTime {
            phase: "alerting",
            reserve: Duration::from_secs(5),
            outcome: Box::new(outcome),
        };
        assert!(e.outcome().is_some());
        assert!(e.to_string().contains("already done: nothing"), "{e}");
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, "TableGuard.OutOfTime");
    }
}
