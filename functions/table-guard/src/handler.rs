//! The handler: parse → claim the event → gather facts → `policy` → act → alert → record.
//!
//! [`handle`] is what the Lambda runtime, the CLI (`check-event --live`) and the tests call,
//! with the invocation's [`Budget`] (its deadline).
//!
//! # Invariant: every delivered event ends as "alert delivered" or "invocation failed"
//!
//! An invocation that returns `Ok` has either sent the alert the event needs, or found that
//! it needs none (compliant table, ignored event, a duplicate whose first handling finished).
//! Every other end is an `Err`, which Lambda retries (twice, about 1 and 3 minutes later) and
//! then sends to the failure queue, whose alarm a human sees. How each path keeps that:
//!
//! - **Claim** (conditional put, [`EventLedger::claim`]): the claim is a lease ending
//!   [`GuardSettings::lease_margin`] after the invocation's deadline, so it has ended before
//!   Lambda's first retry. A redelivery while another invocation's lease runs fails
//!   ([`GuardError::InProgress`]) instead of returning `Ok` with nothing sent: the retry
//!   comes after the lease and takes the claim over if the holder never finished. A takeover
//!   always alerts (the earlier delivery may have tagged the table and died before saying so).
//! - **Time**: the main phase (claim, facts, act, alert) is bounded by
//!   `tokio::time::timeout_at(deadline − record_reserve)`, and its clients' timeouts are capped
//!   to that time ([`AwsContext::with_deadline`]), so a hung call (SNS not answering) cannot
//!   run the function into its timeout: [`GuardSettings::record_reserve`] is left to record the
//!   outcome or release the claim (bounded again, by the deadline minus [`RETURN_SLACK`]) and
//!   return `Err` ([`GuardError::OutOfTime`]) before Lambda kills the invocation.
//! - **Alert not published** (error or out of time): the invocation fails. If nothing was
//!   changed the claim is released and the retry does everything again; if the backup tag was
//!   added (or a `TagResource` was cut off by the deadline, so it may have been), the outcome
//!   with the unsent alert is recorded instead, and the retry only publishes that alert — the
//!   remediation is never repeated and its alert is never lost to a retry that finds nothing
//!   left to do. If that ledger write fails too, the invocation still fails, and the claim
//!   ends with its lease: the retry takes it over and alerts.
//! - **Re-sending a recorded alert** that fails again: the invocation fails; the recorded
//!   outcome stays for the next retry.
//! - **Recording after a sent alert** (or one not needed) fails: only a warning — the alert
//!   went out; a later redelivery takes the unfinished claim over and alerts again at worst.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use awsio::error::AwsCallError;
use awsio::idempotency::{Claim, EventLedger};
use awsio::publisher::{self, PublishError};
use awsio::table::{self, Backoff, Lookup};
use awsio::{AwsContext, Budget};
use policy::config::Policy;
use policy::evaluate::{Coverage, Evaluator, TableEvaluation};
use policy::facts::{BackupSetup, Fact, TableFacts};

use crate::alert;
use crate::decide::{self, TagDecision};
use crate::event::{Disposition, EventError, ParsedEvent, TableEvent, TableEventName, parse_event};
use crate::outcome::{Action, AlertStatus, GuardOutcome, Handling};

/// Environment variable: the alert topic ARN (required).
pub const VAR_TOPIC_ARN: &str = "BG_TOPIC_ARN";
/// Environment variable: the state table name (required).
pub const VAR_STATE_TABLE: &str = "BG_STATE_TABLE";
/// Environment variable: `true` to alert for compliant tables too (default `false`).
pub const VAR_NOTIFY_COMPLIANT: &str = "BG_NOTIFY_COMPLIANT";

/// How long the backup plans and selections read by one invocation are reused.
pub const SETUP_CACHE_TTL: Duration = Duration::from_secs(60);
/// How long an event id is remembered (EventBridge retries for up to 24 hours, Lambda async
/// retries for up to 6).
pub const LEDGER_TTL: Duration = Duration::from_secs(3 * 24 * 3600);
/// The budget of an invocation without a usable deadline (none, or already past: `cargo
/// lambda watch`, the CLI): the template's function timeout.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// How long a claim's lease outlasts the invocation's deadline (clock differences between
/// invocations); far below the minute until Lambda's first retry.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Time kept from the main phase for recording the outcome or releasing the claim.
pub const RECORD_RESERVE: Duration = Duration::from_secs(5);
/// The recording phase ends this long before the deadline, to return in time.
pub const RETURN_SLACK: Duration = Duration::from_millis(250);

/// A configuration problem at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The policy variables are invalid.
    #[error(transparent)]
    Policy(#[from] policy::ConfigError),
    /// A required variable is not set.
    #[error("{0} is not set (required)")]
    Missing(&'static str),
    /// A variable has a bad value.
    #[error("{var}={value:?} is invalid; accepted: {accepted}")]
    Invalid {
        /// Variable.
        var: &'static str,
        /// Value.
        value: String,
        /// What is accepted.
        accepted: &'static str,
    },
}

/// The function's settings besides the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSettings {
    /// Alert topic.
    pub topic_arn: String,
    /// State (ledger) table.
    pub state_table: String,
    /// Alert for compliant tables too.
    pub notify_compliant: bool,
    /// Re-reads of tags that the event set but the read does not show yet.
    pub tag_read: Backoff,
    /// Retries of `TagResource`.
    pub tag_write: Backoff,
    /// Lifetime of the cached backup setup.
    pub setup_ttl: Duration,
    /// Budget of an invocation without a usable deadline ([`DEFAULT_BUDGET`]).
    pub default_budget: Duration,
    /// How long the claim's lease outlasts the invocation's deadline ([`LEASE_MARGIN`]).
    pub lease_margin: Duration,
    /// Time kept from the main phase for the ledger write that ends it ([`RECORD_RESERVE`]).
    pub record_reserve: Duration,
}

impl GuardSettings {
    /// Reads `BG_TOPIC_ARN`, `BG_STATE_TABLE`, `BG_NOTIFY_COMPLIANT` from `(name, value)` pairs.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let topic_arn = get(VAR_TOPIC_ARN).ok_or(ConfigError::Missing(VAR_TOPIC_ARN))?;
        let state_table = get(VAR_STATE_TABLE).ok_or(ConfigError::Missing(VAR_STATE_TABLE))?;
        let notify_compliant = match get(VAR_NOTIFY_COMPLIANT).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: VAR_NOTIFY_COMPLIANT,
                    value: other.to_string(),
                    accepted: "true or false",
                });
            }
        };
        Ok(GuardSettings {
            topic_arn,
            state_table,
            notify_compliant,
            tag_read: Backoff::tag_read(),
            tag_write: Backoff::tag_write(),
            setup_ttl: SETUP_CACHE_TTL,
            default_budget: DEFAULT_BUDGET,
            lease_margin: LEASE_MARGIN,
            record_reserve: RECORD_RESERVE,
        })
    }
}

/// Backup plans and selections, kept across warm invocations for a short time.
#[derive(Debug, Default)]
pub struct SetupCache {
    slot: Mutex<Option<(Instant, BackupSetup)>>,
}

impl SetupCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached setup if younger than `ttl`, else a fresh read (cached only if fully read:
    /// an unknown setup is retried by the next invocation). The flag says whether it was
    /// cached.
    pub async fn get(&self, ctx: &AwsContext, ttl: Duration) -> (BackupSetup, bool) {
        {
            let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, setup)) = slot.as_ref()
                && at.elapsed() < ttl
            {
                return (setup.clone(), true);
            }
        }
        let setup = awsio::backup_setup::read_backup_setup(ctx.backup()).await;
        if setup.plans.known().is_some() && setup.selections.known().is_some() {
            *self.slot.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((Instant::now(), setup.clone()));
        }
        (setup, false)
    }

    /// Forgets the cached setup.
    pub fn clear(&self) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Everything the handler needs; built once per Lambda instance.
#[derive(Debug)]
pub struct GuardDeps {
    /// SDK clients and the call counter.
    pub ctx: AwsContext,
    /// The policy.
    pub policy: Policy,
    /// Settings.
    pub settings: GuardSettings,
    /// The backup setup cache.
    pub setup_cache: SetupCache,
}

impl GuardDeps {
    /// Builds the dependencies from clients, a policy and settings. Each invocation works with
    /// copies of `ctx` whose timeouts are capped to its deadline (same call counter).
    pub fn new(ctx: AwsContext, policy: Policy, settings: GuardSettings) -> Self {
        GuardDeps {
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
        let vars: Vec<(String, String)> = [VAR_TOPIC_ARN, VAR_STATE_TABLE, VAR_NOTIFY_COMPLIANT]
            .iter()
            .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
            .collect();
        let settings = GuardSettings::from_vars(&vars)?;
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
    /// The alert could not be published; `outcome` records what was already done.
    #[error("alert not published for table {table}: {source}; already done: {done}", table = table_name(outcome), done = done_summary(outcome))]
    Publish {
        /// The outcome so far (actions taken).
        outcome: Box<GuardOutcome>,
        /// The publishing error.
        source: PublishError,
    },
    /// Another invocation holds the event's claim and its lease has not ended: acting could
    /// repeat what it does, returning `Ok` could lose the event if it fails. Lambda retries
    /// this one after the lease.
    #[error("event {event_id} is being handled by another invocation (its claim's lease ends {lease}); failing so the event is retried after it", lease = lease_text(lease_until))]
    InProgress {
        /// The event id.
        event_id: String,
        /// When the holder's lease ends, if known.
        lease_until: Option<jiff::Timestamp>,
    },
    /// The work did not finish before the invocation's deadline minus the reserve (a call
    /// hung); `outcome` records what was already done.
    #[error("{phase} for table {table} did not finish {reserve:?} before the invocation's deadline; already done: {done}", table = table_name(outcome), done = done_summary(outcome))]
    OutOfTime {
        /// What was being done.
        phase: &'static str,
        /// The time kept for recording ([`GuardSettings::record_reserve`]).
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

/// Handles one EventBridge event (see the module docs) within `budget` (the invocation's
/// deadline). Logs the outcome as one JSON line.
pub async fn handle(
    event: serde_json::Value,
    deps: &GuardDeps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let parsed = match parse_event(&event) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(field = %e.field, problem = %e.problem, "unusable event");
            return Err(e.into());
        }
    };
    handle_parsed(parsed, deps, budget).await
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
    fn new(budget: Budget, settings: &GuardSettings) -> Self {
        Phases {
            budget,
            work_until: budget.before_deadline(settings.record_reserve),
            finish_by: budget.before_deadline(RETURN_SLACK),
        }
    }

    /// The ledger for the recording phase, its clients capped to what is left of it.
    fn record_ledger(&self, deps: &GuardDeps) -> EventLedger {
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

/// Handles an already parsed event within `budget`.
pub async fn handle_parsed(
    parsed: ParsedEvent,
    deps: &GuardDeps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.attempts();
    let mode = deps.policy.mode.as_str();
    let mut outcome = GuardOutcome::new(
        &parsed.event_id,
        parsed.event_name.as_str(),
        parsed.actor.clone(),
        parsed.table().cloned(),
        mode,
    );
    let table_event = match &parsed.disposition {
        Disposition::Ignored { reason } => {
            tracing::info!(event_id = %parsed.event_id, reason = %reason, "event ignored");
            outcome.handling = Handling::Ignored {
                reason: reason.clone(),
            };
            log_outcome(&outcome);
            return Ok(outcome);
        }
        Disposition::Evaluate(e) => e.clone(),
    };

    if let Some(region) = deps.ctx.region()
        && region != table_event.table.region
    {
        let e = EventError {
            field: parsed.event_name.arn_path().to_string(),
            problem: format!(
                "table {} is in region {}, but this function serves {region} (deploy one stack per region)",
                table_event.table.name, table_event.table.region
            ),
        };
        tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
        return Err(e.into());
    }

    let phases = Phases::new(budget, &deps.settings);
    let reserve = deps.settings.record_reserve;
    let ctx = deps.ctx.with_deadline(phases.work_until);
    let ledger = EventLedger::new(ctx.dynamodb().clone(), deps.settings.state_table.clone());
    let lease_until = budget
        .deadline_timestamp()
        .checked_add(deps.settings.lease_margin)
        .unwrap_or(jiff::Timestamp::MAX);
    let now = jiff::Timestamp::now();
    let claim = match phases
        .work(ledger.claim(&parsed.event_id, LEDGER_TTL, now, lease_until))
        .await
    {
        Some(claim) => claim.map_err(GuardError::Ledger)?,
        None => {
            // Whether the claim was written is unknown; if it was, it ends with its lease.
            let e = Failure::OutOfTime("claiming the event").into_error(outcome, reserve);
            tracing::error!(error = %e, "the event will be retried");
            return Err(e);
        }
    };
    let mut taken_over = false;
    match claim {
        Claim::New => {}
        Claim::TakenOver { claimed_at } => {
            taken_over = true;
            outcome.notes.push(format!(
                "an earlier delivery of this event (claimed at {}) did not finish: it may have changed the table before it stopped; this alert reports the table as it is now",
                claimed_at.as_deref().unwrap_or("an unknown time")
            ));
        }
        Claim::InProgress { lease_until } => {
            let e = GuardError::InProgress {
                event_id: parsed.event_id.clone(),
                lease_until,
            };
            tracing::error!(error = %e, "event in progress elsewhere");
            return Err(e);
        }
        Claim::Duplicate { outcome: previous } => {
            let previous_outcome: Option<GuardOutcome> = previous
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok());
            // A delivery that acted but could not publish its alert recorded its outcome: the
            // retry sends that alert instead of acting again.
            if let Some(prev) =
                previous_outcome.filter(|p| matches!(p.alert, AlertStatus::Failed { .. }))
            {
                return resend_alert(prev, deps, &ctx, &phases, &calls_before).await;
            }
            outcome.handling = Handling::Duplicate {
                previous: previous.and_then(|p| serde_json::from_str(&p).ok()),
            };
            outcome.api_calls = calls_since(&calls_before, &deps.ctx.calls.attempts());
            log_outcome(&outcome);
            return Ok(outcome);
        }
    }

    let mut tagging: Option<(String, String)> = None;
    let result = phases
        .work(process(
            parsed.event_name,
            &table_event,
            deps,
            &ctx,
            taken_over,
            &mut outcome,
            &mut tagging,
        ))
        .await;
    let failure = match result {
        Some(Ok(())) => {
            outcome.api_calls = calls_since(&calls_before, &deps.ctx.calls.attempts());
            record_done(deps, &phases, &outcome).await;
            return Ok(outcome);
        }
        Some(Err(source)) => Failure::Publish(source),
        None => Failure::OutOfTime("gathering facts, acting and alerting"),
    };
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
    outcome.api_calls = calls_since(&calls_before, &deps.ctx.calls.attempts());
    let record = phases.record_ledger(deps);
    if maybe_changed || outcome.actions.iter().any(Action::changed_something) {
        // Something was changed: keep the claim and record the outcome, so the retry re-sends
        // this alert instead of finding nothing left to do.
        let written = phases
            .record(record.complete(&parsed.event_id, &outcome.to_json_line()))
            .await;
        if let Some(Err(e)) = &written {
            tracing::error!(error = %e, lease_until = %lease_until, "outcome with the unsent alert not recorded; the claim ends with its lease, then a retry takes it over and alerts");
        } else if written.is_none() {
            tracing::error!(lease_until = %lease_until, "recording the outcome with the unsent alert ran out of time; the claim ends with its lease, then a retry takes it over and alerts");
        }
    } else {
        let released = phases.record(record.release(&parsed.event_id)).await;
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
    deps: &GuardDeps,
    ctx: &AwsContext,
    phases: &Phases,
    calls_before: &BTreeMap<String, u64>,
) -> Result<GuardOutcome, GuardError> {
    let severity = decide::alert_severity(&prev.findings, &prev.actions);
    prev.alert = AlertStatus::NotNeeded;
    let message = alert::compose(&prev, severity);
    let reserve = deps.settings.record_reserve;
    let failure = match phases
        .work(publisher::publish(
            ctx.sns(),
            &deps.settings.topic_arn,
            &message,
        ))
        .await
    {
        Some(Ok(id)) => {
            prev.alert = AlertStatus::Sent { message_id: id };
            prev.notes
                .push("alert of an earlier delivery of this event, sent on retry".to_string());
            prev.api_calls = calls_since(calls_before, &deps.ctx.calls.attempts());
            record_done(deps, phases, &prev).await;
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

/// Records a finished event's outcome in the ledger, then logs it. A failed write is only
/// logged: the alert went out (or none was needed); the claim stays "in progress" until its
/// lease ends, and a later redelivery would take it over and alert again.
async fn record_done(deps: &GuardDeps, phases: &Phases, outcome: &GuardOutcome) {
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

fn calls_since(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(before.get(k).copied().unwrap_or(0));
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

/// Facts → policy → act → alert. Errors only when the alert cannot be published. `always_alert`:
/// alert even when nothing needs attention (a takeover: the earlier delivery may have acted).
/// `tagging` holds the tag while a `TagResource` is under way (for a caller that gives up
/// waiting).
async fn process(
    event_name: TableEventName,
    event: &TableEvent,
    deps: &GuardDeps,
    ctx: &AwsContext,
    always_alert: bool,
    outcome: &mut GuardOutcome,
    tagging: &mut Option<(String, String)>,
) -> Result<(), PublishError> {
    let dynamodb = ctx.dynamodb();
    let arn = &event.table.arn;

    // Facts: current tags (waiting briefly for the tags the call set to become visible).
    let tags: Fact<BTreeMap<String, String>> = match table::read_tags_expecting(
        dynamodb,
        arn,
        &event.tags_in_request,
        &deps.settings.tag_read,
    )
    .await
    {
        Ok(Lookup::Found(read)) => {
            let mut tags = read.tags;
            if !read.not_yet_visible.is_empty() {
                let keys: Vec<&str> = read.not_yet_visible.keys().map(String::as_str).collect();
                if event_name.creates_table() {
                    // Created with these tags: the read lags. Use the event's values.
                    outcome.notes.push(format!(
                            "tags set at creation not visible after {} reads ({}); used the event's values",
                            read.reads,
                            keys.join(", ")
                        ));
                    for (k, v) in read.not_yet_visible {
                        tags.entry(k).or_insert(v);
                    }
                } else {
                    outcome.notes.push(format!(
                            "tags this call set are not on the table after {} reads ({}): a later call changed them; used the current tags",
                            read.reads,
                            keys.join(", ")
                        ));
                }
            }
            Fact::Known(tags)
        }
        Ok(Lookup::Gone) => match table::describe_table(dynamodb, arn).await {
            Ok(Lookup::Gone) => {
                outcome.handling = Handling::Gone;
                outcome.notes.push(
                        "the table no longer exists (ListTagsOfResource and DescribeTable: ResourceNotFoundException)"
                            .to_string(),
                    );
                return Ok(());
            }
            Ok(Lookup::Found(state)) => Fact::unknown(format!(
                "ListTagsOfResource did not find the table although DescribeTable reports it {}",
                state.status
            )),
            Err(e) => Fact::unknown(format!(
                "ListTagsOfResource did not find the table and DescribeTable failed: {e}"
            )),
        },
        Err(e) => Fact::unknown(e.to_string()),
    };

    let (setup, cached) = deps.setup_cache.get(ctx, deps.settings.setup_ttl).await;
    if cached {
        outcome
            .notes
            .push("backup plans and selections from the warm cache".to_string());
    }
    let facts = TableFacts {
        arn: arn.clone(),
        name: event.table.name.clone(),
        account: event.table.account.clone(),
        region: event.table.region.clone(),
        created: None,
        tags: tags.clone(),
    };

    // Decision (policy only).
    let evaluator = Evaluator::new(&setup, &deps.policy);
    let initial = evaluator.evaluate_new_table(&facts);
    let proposed = evaluator.remediation_tag(&facts);
    outcome.initial_verdict = Some(initial.verdict);
    outcome.initial_findings = initial.findings.clone();

    // Act.
    let mut final_eval: TableEvaluation = initial.clone();
    match decide::decide_tag(&tags, proposed, deps.policy.mode) {
        TagDecision::Nothing => {}
        TagDecision::WouldAdd { key, value } => {
            outcome.actions.push(Action::WouldAddTag { key, value })
        }
        TagDecision::Refuse {
            key,
            wanted,
            existing,
        } => outcome.actions.push(Action::TagNotOverwritten {
            key,
            wanted,
            existing,
        }),
        TagDecision::Add { key, value } => {
            let pair = [(key.clone(), value.clone())];
            *tagging = Some((key.clone(), value.clone()));
            let written = table::tag_resource(dynamodb, arn, &pair, &deps.settings.tag_write).await;
            *tagging = None;
            match written {
                Ok(write) => {
                    // Re-check coverage with the tag added (the setup is already known).
                    let mut tagged = facts.clone();
                    if let Fact::Known(t) = &mut tagged.tags {
                        t.insert(key.clone(), value.clone());
                    }
                    final_eval = evaluator.evaluate_new_table(&tagged);
                    let confirmed = matches!(final_eval.coverage, Coverage::Protected { .. });
                    outcome.actions.push(Action::TagAdded {
                        key,
                        value,
                        coverage_confirmed: confirmed,
                        calls: write.calls,
                    });
                }
                Err(e) if e.is_not_found() => {
                    outcome.handling = Handling::Gone;
                    outcome.notes.push(
                        "the table was deleted before the backup tag could be added".to_string(),
                    );
                    return Ok(());
                }
                Err(e) => outcome.actions.push(Action::TagFailed {
                    key,
                    value,
                    error: e.to_string(),
                }),
            }
        }
    }
    outcome.verdict = Some(final_eval.verdict);
    outcome.findings = final_eval.findings.clone();
    outcome.coverage = Some(final_eval.coverage.clone());
    outcome.tags = final_eval.table.tags.known().cloned();
    outcome.notes.extend(final_eval.notes.iter().cloned());

    // Alert.
    if !decide::needs_alert(
        &final_eval,
        &outcome.actions,
        deps.settings.notify_compliant || always_alert,
    ) {
        return Ok(());
    }
    let severity = decide::alert_severity(&outcome.findings, &outcome.actions);
    let message = alert::compose(outcome, severity);
    let id = publisher::publish(ctx.sns(), &deps.settings.topic_arn, &message).await?;
    outcome.alert = AlertStatus::Sent { message_id: id };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_need_topic_and_state_table() {
        let e = GuardSettings::from_vars(&vars(&[(VAR_STATE_TABLE, "t")])).unwrap_err();
        assert!(e.to_string().contains(VAR_TOPIC_ARN), "{e}");
        let e = GuardSettings::from_vars(&vars(&[(VAR_TOPIC_ARN, "arn:t")])).unwrap_err();
        assert!(e.to_string().contains(VAR_STATE_TABLE), "{e}");
        let s =
            GuardSettings::from_vars(&vars(&[(VAR_TOPIC_ARN, "arn:t"), (VAR_STATE_TABLE, "t")]))
                .unwrap();
        assert!(!s.notify_compliant);
        assert_eq!(s.setup_ttl, SETUP_CACHE_TTL);
    }

    #[test]
    fn notify_compliant_accepts_only_true_or_false() {
        let base = [(VAR_TOPIC_ARN, "arn:t"), (VAR_STATE_TABLE, "t")];
        let with = |v: &str| {
            let mut p = base.to_vec();
            p.push((VAR_NOTIFY_COMPLIANT, v));
            GuardSettings::from_vars(&vars(&p))
        };
        assert!(with("true").unwrap().notify_compliant);
        assert!(!with("false").unwrap().notify_compliant);
        let e = with("yes").unwrap_err();
        assert!(e.to_string().contains("BG_NOTIFY_COMPLIANT=\"yes\""), "{e}");
    }

    #[test]
    fn the_budget_settings_default_to_the_templates_timeout_and_fit_before_lambdas_retry() {
        let s =
            GuardSettings::from_vars(&vars(&[(VAR_TOPIC_ARN, "arn:t"), (VAR_STATE_TABLE, "t")]))
                .unwrap();
        assert_eq!(s.default_budget, Duration::from_secs(30));
        assert!(s.record_reserve < s.default_budget);
        // The lease of a 30 s invocation ends well before Lambda's first retry (~60 s).
        assert!(s.default_budget + s.lease_margin < Duration::from_secs(60));
    }

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

    #[test]
    fn calls_since_counts_only_new_attempts() {
        let before: BTreeMap<String, u64> = [("A".to_string(), 2), ("B".to_string(), 1)].into();
        let after: BTreeMap<String, u64> = [
            ("A".to_string(), 3),
            ("B".to_string(), 1),
            ("C".to_string(), 4),
        ]
        .into();
        let d = calls_since(&before, &after);
        assert_eq!(d, [("A".to_string(), 1), ("C".to_string(), 4)].into());
    }
}
