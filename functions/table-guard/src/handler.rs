//! The handler: parse → claim the event → gather facts → `policy` → act → alert → record.
//!
//! [`handle`] is what the Lambda runtime, the CLI (`check-event --live`) and the tests call.
//!
//! Idempotency: the event id is claimed (conditional put) before anything is done; a
//! duplicate delivery does nothing. When the alert cannot be published the handler returns an
//! error so Lambda retries the event: if nothing was changed the claim is released and the
//! retry does everything again; if the backup tag was already added, the outcome (with the
//! unsent alert) is recorded instead, and the retry only publishes that alert — the
//! remediation is never repeated and its alert is never lost to a retry that finds nothing
//! left to do.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use awsio::AwsContext;
use awsio::error::AwsCallError;
use awsio::idempotency::{Claim, EventLedger};
use awsio::publisher::{self, PublishError};
use awsio::table::{self, Backoff, Lookup};
use policy::config::Policy;
use policy::evaluate::{self, Coverage, TableEvaluation};
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
    /// The event ledger.
    pub ledger: EventLedger,
}

impl GuardDeps {
    /// Builds the dependencies from clients, a policy and settings.
    pub fn new(ctx: AwsContext, policy: Policy, settings: GuardSettings) -> Self {
        let ledger = EventLedger::new(ctx.dynamodb().clone(), settings.state_table.clone());
        GuardDeps {
            ctx,
            policy,
            settings,
            setup_cache: SetupCache::new(),
            ledger,
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
            GuardError::Publish { outcome, .. } => Some(outcome),
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
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one EventBridge event (see the module docs). Logs the outcome as one JSON line.
pub async fn handle(
    event: serde_json::Value,
    deps: &GuardDeps,
) -> Result<GuardOutcome, GuardError> {
    let parsed = match parse_event(&event) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(field = %e.field, problem = %e.problem, "unusable event");
            return Err(e.into());
        }
    };
    handle_parsed(parsed, deps).await
}

/// Handles an already parsed event.
pub async fn handle_parsed(
    parsed: ParsedEvent,
    deps: &GuardDeps,
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
        let e = EventError::new(
            parsed.event_name.arn_path(),
            format!(
                "table {} is in region {}, but this function serves {region} (deploy one stack per region)",
                table_event.table.name, table_event.table.region
            ),
        );
        tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
        return Err(e.into());
    }

    let claim = deps
        .ledger
        .claim(&parsed.event_id, LEDGER_TTL, jiff::Timestamp::now())
        .await
        .map_err(GuardError::Ledger)?;
    if let Claim::Duplicate { outcome: previous } = claim {
        let previous_outcome: Option<GuardOutcome> = previous
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        // A delivery that acted but could not publish its alert recorded its outcome: the
        // retry sends that alert instead of acting again.
        if let Some(prev) =
            previous_outcome.filter(|p| matches!(p.alert, AlertStatus::Failed { .. }))
        {
            return resend_alert(prev, deps, &calls_before).await;
        }
        outcome.handling = Handling::Duplicate {
            previous: previous.and_then(|p| serde_json::from_str(&p).ok()),
        };
        outcome.api_calls = calls_since(&calls_before, &deps.ctx.calls.attempts());
        log_outcome(&outcome);
        return Ok(outcome);
    }

    let result = process(parsed.event_name, &table_event, deps, &mut outcome).await;
    outcome.api_calls = calls_since(&calls_before, &deps.ctx.calls.attempts());
    match result {
        Ok(()) => {
            record_done(deps, &outcome).await;
            Ok(outcome)
        }
        Err(source) => {
            outcome.alert = AlertStatus::Failed {
                error: source.to_string(),
            };
            if outcome.actions.iter().any(Action::changed_something) {
                // Something was changed: keep the claim and record the outcome, so the retry
                // re-sends this alert instead of finding nothing left to do.
                if let Err(e) = deps
                    .ledger
                    .complete(&parsed.event_id, &outcome.to_json_line())
                    .await
                {
                    tracing::warn!(error = %e, "outcome with the unsent alert not recorded; a retry will not re-send it");
                }
            } else if let Err(e) = deps.ledger.release(&parsed.event_id).await {
                tracing::warn!(error = %e, "claim not released; a retry will be treated as a duplicate");
            }
            tracing::error!(
                outcome = %outcome.to_json_line(),
                error = %source,
                "alert not published; the event will be retried (already done: {})",
                done_summary(&outcome)
            );
            Err(GuardError::Publish {
                outcome: Box::new(outcome),
                source,
            })
        }
    }
}

/// Publishes the alert a previous delivery of the event could not publish, and records it.
async fn resend_alert(
    mut prev: GuardOutcome,
    deps: &GuardDeps,
    calls_before: &BTreeMap<String, u64>,
) -> Result<GuardOutcome, GuardError> {
    let severity = decide::alert_severity(&prev.findings, &prev.actions);
    prev.alert = AlertStatus::NotNeeded;
    let message = alert::compose(&prev, severity);
    match publisher::publish(deps.ctx.sns(), &deps.settings.topic_arn, &message).await {
        Ok(id) => {
            prev.alert = AlertStatus::Sent { message_id: id };
            prev.notes
                .push("alert of an earlier delivery of this event, sent on retry".to_string());
            prev.api_calls = calls_since(calls_before, &deps.ctx.calls.attempts());
            record_done(deps, &prev).await;
            Ok(prev)
        }
        Err(source) => {
            prev.alert = AlertStatus::Failed {
                error: source.to_string(),
            };
            tracing::error!(
                outcome = %prev.to_json_line(),
                error = %source,
                "alert still not published; the event will be retried (already done: {})",
                done_summary(&prev)
            );
            Err(GuardError::Publish {
                outcome: Box::new(prev),
                source,
            })
        }
    }
}

/// Records a finished event's outcome in the ledger, then logs it. A failed write is only
/// logged: the work is done, and the claim stays "in progress", which still blocks repeats.
async fn record_done(deps: &GuardDeps, outcome: &GuardOutcome) {
    if let Err(e) = deps
        .ledger
        .complete(&outcome.event_id, &outcome.to_json_line())
        .await
    {
        tracing::warn!(error = %e, "outcome not recorded in the ledger");
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

/// Facts → policy → act → alert. Errors only when the alert cannot be published.
async fn process(
    event_name: TableEventName,
    event: &TableEvent,
    deps: &GuardDeps,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    let dynamodb = deps.ctx.dynamodb();
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

    let (setup, cached) = deps
        .setup_cache
        .get(&deps.ctx, deps.settings.setup_ttl)
        .await;
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
    let initial = evaluate::evaluate_new_table(&facts, &setup, &deps.policy);
    let proposed = evaluate::remediation_tag(&facts, &setup, &deps.policy);
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
            match table::tag_resource(dynamodb, arn, &pair, &deps.settings.tag_write).await {
                Ok(write) => {
                    // Re-check coverage with the tag added (the setup is already known).
                    let mut tagged = facts.clone();
                    if let Fact::Known(t) = &mut tagged.tags {
                        t.insert(key.clone(), value.clone());
                    }
                    final_eval = evaluate::evaluate_new_table(&tagged, &setup, &deps.policy);
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
        deps.settings.notify_compliant,
    ) {
        return Ok(());
    }
    let severity = decide::alert_severity(&outcome.findings, &outcome.actions);
    let message = alert::compose(outcome, severity);
    let id = publisher::publish(deps.ctx.sns(), &deps.settings.topic_arn, &message).await?;
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
