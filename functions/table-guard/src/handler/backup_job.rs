//! The backup-job path of the handler: AWS Backup's `Backup Job State Change` events of
//! DynamoDB tables. It takes the claim, the phases and the recording of the table path
//! ([`super::claim`], [`super::record`]), so its idempotency and its "alert delivered or
//! invocation failed" ending are the same.
//!
//! - **Decide** (pure, [`policy::backup_job`]): the slot of the policy's schedule the job
//!   belongs to, the time left in its completion window at the event's time, the severity and
//!   the likely remedy.
//! - **A failed job** (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`): claim the event id →
//!   remember the failure for the table and slot in the state table
//!   ([`awsio::backup_failures`], expiring one day past the slot's retention horizon; a job in
//!   no slot is not remembered) → one alert → record. A failure that could not be remembered
//!   still alerts, and the alert says no resolved notice will follow.
//! - **A completed job**: in no slot → `Ok`, no alert, no call. In a slot → read the
//!   remembered failure of the table and slot (`GetItem`); none → `Ok`, no alert (nothing was
//!   alerted, so nothing is resolved). One → claim → the "resolved" notice (or, completed after
//!   the completion window, that the slot stays missed) → forget the failure → record. A read
//!   that fails fails the invocation ([`GuardError::State`]): whether a notice is due is
//!   unknown.
//!
//! Calls per event (the fewest each variant needs): failure in a slot: ledger `PutItem`,
//! `PutItem` (remember), `SNS.Publish`, ledger `UpdateItem` = 4; failure in no slot: 3;
//! completed in no slot: 0; completed without a remembered failure: 1 `GetItem`; completed
//! after a failure: `GetItem`, ledger `PutItem`, `SNS.Publish`, `DeleteItem` (forget), ledger
//! `UpdateItem` = 5. A duplicate delivery of a failure: ledger `PutItem` + `GetItem` (the
//! ledger reads the recorded outcome) = 2, no alert.

use awsio::backup_failures::{FailureMemory, RememberedFailure};
use awsio::publisher::{self, PublishError};
use awsio::{AwsContext, Budget};
use jiff::{SignedDuration, Timestamp};
use policy::backup_job::{
    CompletedVerdict, EndedJob, FailedJobVerdict, WindowLeft, judge_completed_job, judge_ended_job,
};
use policy::findings::{Finding, FindingCode, Severity};
use policy::slots::Slot;

use super::{Claimed, Deps, Failure, GuardError, Invocation, claim, ignored, log_outcome, record};
use crate::event::backup_job::{BACKUP_JOB_EVENT_NAME, PATH_BACKUP_RESOURCE_ARN};
use crate::event::{Actor, BackupJobAction, BackupJobEvent, EndedBackupJob, EventError};
use crate::outcome::{AlertStatus, BackupJobCheck, BackupJobNotice, GuardOutcome, ResolvedFailure};

/// How long past the slot's retention horizon a remembered failure lives.
pub const MEMORY_MARGIN: SignedDuration = SignedDuration::from_hours(24);

/// Handles a parsed backup job event within `budget` (see the module docs).
pub async fn run_backup_job(
    event: BackupJobEvent,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.snapshot();
    let actor = Actor {
        arn: None,
        invoked_by: Some("backup.amazonaws.com".to_string()),
    };
    let mode = deps.policy.mode.as_str();
    let job = match &event.action {
        BackupJobAction::Ignored { reason } => {
            let o = GuardOutcome::new(&event.event_id, BACKUP_JOB_EVENT_NAME, actor, None, mode);
            return Ok(ignored(&event.event_id, reason, o));
        }
        BackupJobAction::Ended(job) => job.as_ref().clone(),
    };
    if let Some(mine) = deps.ctx.region()
        && mine != job.table.region
    {
        let e = EventError::new(
            PATH_BACKUP_RESOURCE_ARN,
            format!(
                "table {} is in region {}, but this function serves {mine} (deploy one stack per region)",
                job.table.name, job.table.region
            ),
        );
        tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
        return Err(e.into());
    }
    let mut outcome = GuardOutcome::new(
        &event.event_id,
        BACKUP_JOB_EVENT_NAME,
        actor,
        Some(job.table.clone()),
        mode,
    );
    let at = match event.time {
        Some(t) => t,
        None => {
            outcome
                .notes
                .push("the event has no time: the time left is counted from now".to_string());
            Timestamp::now()
        }
    };
    let inv = Invocation::new(deps, budget, calls_before);
    if job.completed_ok() {
        return run_completed(&event, &job, at, &inv, outcome).await;
    }
    let verdict = judge_ended_job(&deps.policy, &ended_job(&event, &job), at);
    outcome.backup_job = Some(check_of(
        &event,
        &job,
        at,
        verdict.placement.slot().copied(),
        verdict.placement.describe(deps.policy.start_window()),
        verdict.window.map(|w| w.describe()),
        Some(verdict.remedy.clone()),
        BackupJobNotice::Failure,
        verdict.severity,
    ));
    outcome.initial_findings = vec![verdict.finding.clone()];
    outcome.findings = outcome.initial_findings.clone();
    let mut outcome = match claim(&inv, outcome).await {
        Claimed::Proceed { outcome, .. } => outcome,
        Claimed::Done(result) => return result,
    };
    let result = inv
        .phases
        .work(process_failure(
            &event,
            &job,
            &verdict,
            deps,
            &inv.ctx,
            &mut outcome,
        ))
        .await;
    record(&inv, result, None, outcome).await
}

/// The policy's view of the job.
fn ended_job(event: &BackupJobEvent, job: &EndedBackupJob) -> EndedJob {
    EndedJob {
        job_id: event.backup_job_id.clone(),
        table_arn: job.table.arn.clone(),
        table_name: job.table.name.clone(),
        state: job.state.clone(),
        created: job.created,
        completed: job.completed,
        status_message: job.status_message.clone(),
        plan_id: job.plan_id.clone(),
        rule_id: job.rule_id.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_of(
    event: &BackupJobEvent,
    job: &EndedBackupJob,
    at: Timestamp,
    slot: Option<Slot>,
    placement: String,
    window: Option<String>,
    remedy: Option<String>,
    notice: BackupJobNotice,
    severity: Severity,
) -> BackupJobCheck {
    BackupJobCheck {
        backup_job_id: event.backup_job_id.clone(),
        state: job.state.as_api().to_string(),
        status_message: job.status_message.clone(),
        created: job.created,
        completed: job.completed,
        plan_id: job.plan_id.clone(),
        rule_id: job.rule_id.clone(),
        vault_name: job.vault_name.clone(),
        event_time: at,
        slot,
        placement,
        window,
        remedy,
        notice,
        severity,
        resolves: None,
    }
}

fn memory(deps: &Deps, ctx: &AwsContext) -> FailureMemory {
    FailureMemory::new(ctx.dynamodb().clone(), deps.settings.state_table.clone())
}

/// A failed job after the claim: remember it (in a slot), then alert.
async fn process_failure(
    event: &BackupJobEvent,
    job: &EndedBackupJob,
    verdict: &FailedJobVerdict,
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    match verdict.placement.slot() {
        Some(slot) => {
            let failure = RememberedFailure {
                table_arn: job.table.arn.clone(),
                slot: slot.at,
                job_id: event.backup_job_id.clone(),
                state: job.state.as_api().to_string(),
                event_id: event.event_id.clone(),
                remembered_at: Timestamp::now(),
            };
            let expires = slot
                .at
                .checked_add(deps.policy.retention())
                .and_then(|t| t.checked_add(MEMORY_MARGIN))
                .unwrap_or(Timestamp::MAX);
            if let Err(e) = memory(deps, ctx).remember(&failure, expires).await {
                tracing::warn!(error = %e, "backup job failure not remembered");
                outcome.notes.push(format!(
                    "this failure could not be remembered ({e}): no resolved notice will follow when a job of the slot completes"
                ));
            }
        }
        None => outcome.notes.push(
            "the job belongs to no slot of the policy's schedule, so no resolved notice will follow"
                .to_string(),
        ),
    }
    publish(deps, ctx, outcome, verdict.severity).await
}

/// Publishes the outcome's alert at `severity` and notes its message id.
pub(super) async fn publish(
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
    severity: Severity,
) -> Result<(), PublishError> {
    let message = crate::alert::compose(outcome, severity);
    let id = publisher::publish(ctx.sns(), &deps.settings.topic_arn, &message).await?;
    outcome.alert = AlertStatus::Sent { message_id: id };
    Ok(())
}

/// A completed job: a notice only if a failure of its table and slot was alerted on.
async fn run_completed(
    event: &BackupJobEvent,
    job: &EndedBackupJob,
    at: Timestamp,
    inv: &Invocation<'_>,
    mut outcome: GuardOutcome,
) -> Result<GuardOutcome, GuardError> {
    let deps = inv.deps;
    let completed = job.completed.unwrap_or(at);
    let verdict = judge_completed_job(&deps.policy, &ended_job(event, job), completed);
    let sw = deps.policy.start_window();
    let (slot, notice, severity) = match &verdict {
        CompletedVerdict::SatisfiesSlot { slot } => {
            (*slot, BackupJobNotice::Resolved, Severity::Info)
        }
        CompletedVerdict::Late { slot, .. } => {
            (*slot, BackupJobNotice::CompletedLate, Severity::High)
        }
        CompletedVerdict::NoSlot { placement } => {
            outcome.backup_job = Some(check_of(
                event,
                job,
                at,
                None,
                placement.describe(sw),
                None,
                None,
                BackupJobNotice::NotDue,
                Severity::Info,
            ));
            outcome.notes.push(
                "a completed job in no slot of the policy's schedule: no failure of a slot to resolve, no alert due"
                    .to_string(),
            );
            log_outcome(&outcome);
            return Ok(outcome);
        }
    };
    let placement = policy::backup_job::Placement::InSlot { slot };
    let mut check = check_of(
        event,
        job,
        at,
        Some(slot),
        placement.describe(sw),
        Some(WindowLeft::of(&slot, at).describe()),
        None,
        BackupJobNotice::NotDue,
        Severity::Info,
    );
    let recalled = inv
        .phases
        .work(memory(deps, &inv.ctx).recall(&job.table.arn, slot.at, Timestamp::now()))
        .await;
    let failure = match recalled {
        Some(Ok(f)) => f,
        Some(Err(e)) => {
            tracing::error!(error = %e, "remembered backup failures not readable; the event will be retried");
            return Err(GuardError::State(e));
        }
        None => {
            let e = Failure::OutOfTime("reading the remembered failure of the slot")
                .into_error(outcome, inv.reserve());
            tracing::error!(error = %e, "the event will be retried");
            return Err(e);
        }
    };
    let Some(failure) = failure else {
        outcome.backup_job = Some(check);
        outcome.notes.push(
            "no failure was alerted for this table and slot: no resolved notice due".to_string(),
        );
        outcome.api_calls = inv.api_calls();
        log_outcome(&outcome);
        return Ok(outcome);
    };
    check.notice = notice;
    check.severity = severity;
    check.resolves = Some(ResolvedFailure {
        job_id: failure.job_id.clone(),
        state: failure.state.clone(),
        event_id: failure.event_id.clone(),
    });
    if let CompletedVerdict::Late { completed, .. } = verdict {
        let f = late_finding(job, &slot, completed);
        outcome.initial_findings = vec![f.clone()];
        outcome.findings = vec![f];
    }
    outcome.backup_job = Some(check);
    let mut outcome = match claim(inv, outcome).await {
        Claimed::Proceed { outcome, .. } => outcome,
        Claimed::Done(result) => return result,
    };
    let result = inv
        .phases
        .work(process_resolved(
            job,
            slot,
            severity,
            deps,
            &inv.ctx,
            &mut outcome,
        ))
        .await;
    record(inv, result, None, outcome).await
}

/// `MISSED_SLOT` for a slot whose only completed job came after its completion window.
fn late_finding(job: &EndedBackupJob, slot: &Slot, completed: Timestamp) -> Finding {
    Finding::new(
        FindingCode::MissedSlot,
        &job.table.arn,
        &job.table.name,
        Some(slot.at.to_string()),
        format!(
            "Slot {} of table {}: the backup completed at {completed}, after the completion deadline {}; the slot stays missed.",
            slot.at, job.table.name, slot.completion_deadline
        ),
        Some(
            "Find out why the backup ran past the completion window (a large table, concurrent jobs) and widen the window or move the schedule if the policy allows."
                .to_string(),
        ),
    )
}

/// A completed job after the claim: the notice, then the failure is forgotten (a failed
/// `DeleteItem` only means a later completion of the slot would notify again).
async fn process_resolved(
    job: &EndedBackupJob,
    slot: Slot,
    severity: Severity,
    deps: &Deps,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    publish(deps, ctx, outcome, severity).await?;
    if let Err(e) = memory(deps, ctx).forget(&job.table.arn, slot.at).await {
        tracing::warn!(error = %e, "remembered backup failure not forgotten");
        outcome.notes.push(format!(
            "the remembered failure could not be deleted ({e}); it expires with its TTL"
        ));
    }
    Ok(())
}
