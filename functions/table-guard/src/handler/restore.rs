//! The restore-job path of the handler: claim → gather facts → decide → act → alert →
//! record, with the claim, the phases and the recording of the table path
//! ([`super::claim`], [`super::record`]), so its idempotency and its "alert delivered or
//! invocation failed" ending are the same.
//!
//! - **Gather facts**: `DescribeRestoreJob` (the event carries neither the restore testing
//!   plan nor the source table), then for a completed job `DescribeTable` of the restored
//!   and of the source table, and `Scan` with `Limit` 1 of the source (and of the restored
//!   table when the source has items).
//! - **Decide**: [`policy::restore::compare_restored`] (pure).
//! - **Act**: `PutRestoreValidationResult` with `SUCCESSFUL` or `FAILED` and the reason.
//! - **Alert**: only on `FAILED`, a failed or aborted job, or a restore that could not be
//!   validated (a fact that could not be read is never reported as `SUCCESSFUL`: nothing is
//!   reported, AWS Backup marks the job `TIMED_OUT` after its validation window, and the
//!   alert says why).
//!
//! Jobs that no restore testing plan created (a human's restore), or that another plan than
//! the configured one created, end after `DescribeRestoreJob` without an alert.
//!
//! Calls per completed restore test: ledger `PutItem` + `UpdateItem`, `DescribeRestoreJob`,
//! 2 `DescribeTable`, 1–2 `Scan`, `PutRestoreValidationResult` = 7–8; `SNS.Publish` only
//! when the alert is due. A failed or aborted job: ledger 2 + `DescribeRestoreJob` +
//! `SNS.Publish` = 4.

use awsio::inventory::table_name_of_arn;
use awsio::publisher::{self, PublishError};
use awsio::restore_jobs;
use awsio::table::Lookup;
use awsio::{AwsContext, Budget};
use policy::findings::{Finding, FindingCode, Severity};
use policy::restore::{ItemPresence, RestoreJobFacts, TableShape, Validation, ValidationStatus};

use super::{Claimed, Deps, GuardError, Invocation, claim, ignored, record};
use crate::event::restore::RESTORE_EVENT_NAME;
use crate::event::{Actor, EventError, RestoreAction, RestoreJobEvent, TableRef};
use crate::outcome::{Action, AlertStatus, GuardOutcome, Handling, RestoreCheck};

/// Handles a parsed restore job event within `budget` (see the module docs).
pub async fn run_restore(
    event: RestoreJobEvent,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.snapshot();
    let mut outcome = GuardOutcome::new(
        &event.event_id,
        RESTORE_EVENT_NAME,
        Actor {
            arn: None,
            invoked_by: Some("backup.amazonaws.com".to_string()),
        },
        None,
        deps.policy.mode.as_str(),
    );
    outcome.restore = Some(RestoreCheck {
        restore_job_id: event.restore_job_id.clone(),
        job_status: event.status.clone(),
        status_message: event.status_message.clone(),
        plan_arn: None,
        source_table_arn: None,
        restored_table_arn: event.created_resource_arn.clone(),
        validation: None,
        problem: None,
    });
    if let RestoreAction::Ignored { reason } = &event.action {
        return Ok(ignored(&event.event_id, reason, outcome));
    }
    if let (Some(mine), Some(theirs)) = (deps.ctx.region(), event.region.as_deref())
        && mine != theirs
    {
        let e = EventError::new(
            "region",
            format!(
                "restore job {} ran in region {theirs}, but this function serves {mine} (deploy one stack per region)",
                event.restore_job_id
            ),
        );
        tracing::error!(field = %e.field, problem = %e.problem, "event for another region");
        return Err(e.into());
    }
    let inv = Invocation::new(deps, budget, calls_before);
    let (mut outcome, taken_over) = match claim(&inv, outcome).await {
        Claimed::Proceed {
            outcome,
            taken_over,
        } => (outcome, taken_over),
        Claimed::Done(result) => return result,
    };
    let result = inv
        .phases
        .work(process_restore(
            &event,
            deps,
            &inv.ctx,
            taken_over,
            &mut outcome,
        ))
        .await;
    record(&inv, result, None, outcome).await
}

/// What the restore's verdict is based on.
enum RestoreFacts {
    /// The job is not this guard's to validate.
    NotOurs(String),
    /// The job could not be read; the reason.
    Unknown(String),
    /// A failed or aborted test.
    JobFailed(RestoreJobFacts),
    /// A completed test and what the comparison needs (or why it cannot be made).
    Completed {
        job: RestoreJobFacts,
        tables: Box<Result<(TableShape, TableShape, ItemPresence), String>>,
    },
}

/// The main phase after the claim: gather facts → decide → act → alert.
async fn process_restore(
    event: &RestoreJobEvent,
    deps: &Deps,
    ctx: &AwsContext,
    taken_over: bool,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    let facts = gather_restore_facts(event, deps, ctx).await;
    let Some(check) = outcome.restore.as_mut() else {
        return Ok(());
    };
    let validation = match facts {
        RestoreFacts::NotOurs(reason) => {
            tracing::info!(event_id = %event.event_id, reason = %reason, "restore job ignored");
            outcome.handling = Handling::Ignored { reason };
            return Ok(());
        }
        RestoreFacts::Unknown(problem) => {
            check.problem = Some(problem);
            None
        }
        RestoreFacts::JobFailed(job) => {
            take_job(check, &job);
            None
        }
        RestoreFacts::Completed { job, tables } => {
            take_job(check, &job);
            match *tables {
                Ok((source, restored, items)) => {
                    let v = policy::restore::compare_restored(&source, &restored, items);
                    check.validation = Some(v.clone());
                    Some(v)
                }
                Err(problem) => {
                    check.problem = Some(problem);
                    None
                }
            }
        }
    };
    outcome.table = check
        .source_table_arn
        .as_deref()
        .and_then(|a| TableRef::parse_arn(a, "SourceResourceArn").ok());
    if let Some(v) = &validation {
        act(event, v, ctx, outcome).await;
    }
    outcome.findings = restore_findings(outcome);
    outcome.initial_findings = outcome.findings.clone();
    if !needs_restore_alert(outcome) && !taken_over {
        return Ok(());
    }
    let severity = restore_severity(outcome);
    let message = crate::alert::compose(outcome, severity);
    let id = publisher::publish(ctx.sns(), &deps.settings.topic_arn, &message).await?;
    outcome.alert = AlertStatus::Sent { message_id: id };
    Ok(())
}

fn take_job(check: &mut RestoreCheck, job: &RestoreJobFacts) {
    check.job_status = job.status.clone();
    if job.status_message.is_some() {
        check.status_message = job.status_message.clone();
    }
    check.plan_arn = job.plan_arn.clone();
    check.source_table_arn = job.source_arn.clone();
    if job.created_resource_arn.is_some() {
        check.restored_table_arn = job.created_resource_arn.clone();
    }
}

/// Gather facts: the job (`DescribeRestoreJob`), then the two tables of a completed one.
async fn gather_restore_facts(
    event: &RestoreJobEvent,
    deps: &Deps,
    ctx: &AwsContext,
) -> RestoreFacts {
    let id = &event.restore_job_id;
    let job = match restore_jobs::describe_restore_job(ctx.backup(), id).await {
        Ok(Lookup::Found(job)) => job,
        Ok(Lookup::Gone) => {
            return RestoreFacts::Unknown(format!(
                "DescribeRestoreJob does not know restore job {id} (ResourceNotFoundException)"
            ));
        }
        Err(e) => return RestoreFacts::Unknown(e.to_string()),
    };
    if let Some(reason) = not_ours(&job, deps.policy.restore_testing.plan_arn.as_deref()) {
        return RestoreFacts::NotOurs(reason);
    }
    match job.status.as_str() {
        "COMPLETED" => {}
        "FAILED" | "ABORTED" => return RestoreFacts::JobFailed(job),
        other => {
            // The event said it ended; DescribeRestoreJob disagrees: judge by the event.
            let mut job = job.clone();
            tracing::warn!(restore_job_id = %id, status = %other, event_status = %event.status, "DescribeRestoreJob status differs from the event's");
            job.status = event.status.clone();
            if event.action == RestoreAction::ReportFailure {
                return RestoreFacts::JobFailed(job);
            }
            let tables = Box::new(read_tables(&job, event, ctx).await);
            return RestoreFacts::Completed { job, tables };
        }
    }
    let tables = Box::new(read_tables(&job, event, ctx).await);
    RestoreFacts::Completed { job, tables }
}

/// Why a job is not the guard's to validate: not a restore test, or another plan's.
pub fn not_ours(job: &RestoreJobFacts, configured_plan: Option<&str>) -> Option<String> {
    match (&job.plan_arn, configured_plan) {
        (None, _) => Some(format!(
            "restore job {} was not started by a restore testing plan (CreatedBy has no RestoreTestingPlanArn): not a restore test",
            job.job_id
        )),
        (Some(p), Some(c)) if p != c => Some(format!(
            "restore job {} belongs to restore testing plan {p}, not to the configured {c}",
            job.job_id
        )),
        _ => None,
    }
}

/// The source and restored tables' shapes and whether they hold items.
async fn read_tables(
    job: &RestoreJobFacts,
    event: &RestoreJobEvent,
    ctx: &AwsContext,
) -> Result<(TableShape, TableShape, ItemPresence), String> {
    let source_arn = job.source_arn.as_deref().ok_or_else(|| {
        format!(
            "DescribeRestoreJob gives restore job {} no SourceResourceArn",
            job.job_id
        )
    })?;
    let restored_arn = job
        .created_resource_arn
        .as_deref()
        .or(event.created_resource_arn.as_deref())
        .ok_or_else(|| {
            format!(
                "restore job {} names no CreatedResourceArn (neither the event nor DescribeRestoreJob)",
                job.job_id
            )
        })?;
    let source = table_name_of_arn(source_arn)
        .ok_or_else(|| format!("SourceResourceArn {source_arn} is not a DynamoDB table ARN"))?;
    let restored = table_name_of_arn(restored_arn)
        .ok_or_else(|| format!("CreatedResourceArn {restored_arn} is not a DynamoDB table ARN"))?;
    let dynamodb = ctx.dynamodb();
    let restored_shape = shape(ctx, restored, "restored").await?;
    let source_shape = shape(ctx, source, "source").await?;
    let source_has_items = restore_jobs::has_items(dynamodb, source)
        .await
        .map_err(|e| format!("reading whether source table {source} holds items: {e}"))?;
    let restored_has_items = if source_has_items {
        Some(
            restore_jobs::has_items(dynamodb, restored)
                .await
                .map_err(|e| {
                    format!("reading whether restored table {restored} holds items: {e}")
                })?,
        )
    } else {
        None
    };
    Ok((
        source_shape,
        restored_shape,
        ItemPresence {
            source_has_items,
            restored_has_items,
        },
    ))
}

async fn shape(ctx: &AwsContext, name: &str, which: &str) -> Result<TableShape, String> {
    match restore_jobs::table_shape(ctx.dynamodb(), name).await {
        Ok(Lookup::Found(s)) => Ok(s),
        Ok(Lookup::Gone) => Err(format!(
            "the {which} table {name} does not exist (DescribeTable: ResourceNotFoundException)"
        )),
        Err(e) => Err(format!("describing the {which} table {name}: {e}")),
    }
}

/// Act: reports the validation with `PutRestoreValidationResult`.
async fn act(
    event: &RestoreJobEvent,
    validation: &Validation,
    ctx: &AwsContext,
    outcome: &mut GuardOutcome,
) {
    let id = event.restore_job_id.clone();
    let status = validation.status.as_str().to_string();
    match restore_jobs::put_validation_result(ctx.backup(), &id, validation).await {
        Ok(()) => outcome.actions.push(Action::ValidationRecorded {
            restore_job_id: id,
            status,
            message: validation.message.clone(),
        }),
        Err(e) => outcome.actions.push(Action::ValidationNotRecorded {
            restore_job_id: id,
            status,
            error: e.to_string(),
        }),
    }
}

/// The findings about the restore test: `RESTORE_TEST_FAILED` for a FAILED validation or a
/// failed / aborted job, `UNVERIFIABLE` when it could not be validated or the result not
/// reported.
pub fn restore_findings(outcome: &GuardOutcome) -> Vec<Finding> {
    let Some(check) = &outcome.restore else {
        return Vec::new();
    };
    let (arn, name) = match &outcome.table {
        Some(t) => (t.arn.clone(), t.name.clone()),
        None => (
            check.source_table_arn.clone().unwrap_or_default(),
            check
                .source_table_arn
                .as_deref()
                .and_then(table_name_of_arn)
                .unwrap_or("?")
                .to_string(),
        ),
    };
    let subject = Some(check.restore_job_id.clone());
    let mut out = Vec::new();
    if check.job_status != "COMPLETED" {
        out.push(Finding::new(
            FindingCode::RestoreTestFailed,
            &arn,
            &name,
            subject.clone(),
            format!(
                "Restore test job {} of {name} ended {}: {}",
                check.restore_job_id,
                check.job_status,
                check
                    .status_message
                    .as_deref()
                    .unwrap_or("AWS Backup gave no status message")
            ),
            Some(
                "Read the restore job in the AWS Backup console, fix its cause (role, key, quota), and let the restore testing plan run again"
                    .to_string(),
            ),
        ));
    }
    if let Some(v) = check
        .validation
        .as_ref()
        .filter(|v| v.status == ValidationStatus::Failed)
    {
        out.push(Finding::new(
            FindingCode::RestoreTestFailed,
            &arn,
            &name,
            subject.clone(),
            format!(
                "The table restored by job {} differs from {name}: {}",
                check.restore_job_id,
                v.differences.join("; ")
            ),
            Some(
                "Find out why the restore differs (a changed table, a backup of another table) before relying on these backups"
                    .to_string(),
            ),
        ));
    }
    let not_recorded = outcome.actions.iter().find_map(|a| match a {
        Action::ValidationNotRecorded { error, .. } => Some(error.clone()),
        _ => None,
    });
    if let Some(problem) = check.problem.clone().or(not_recorded) {
        out.push(Finding::new(
            FindingCode::Unverifiable,
            &arn,
            &name,
            subject,
            format!(
                "Restore test job {} could not be validated: {problem}",
                check.restore_job_id
            ),
            Some(
                "Fix what could not be read; AWS Backup marks the job TIMED_OUT after its validation window, and the nightly run reports the table as not restore-tested"
                    .to_string(),
            ),
        ));
    }
    out
}

/// True when the restore outcome needs a human: anything but a reported SUCCESSFUL.
pub fn needs_restore_alert(outcome: &GuardOutcome) -> bool {
    !outcome.findings.is_empty()
}

/// `high` for a failed test, `warning` when it could not be validated.
pub fn restore_severity(outcome: &GuardOutcome) -> Severity {
    outcome
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(plan: Option<&str>) -> RestoreJobFacts {
        RestoreJobFacts {
            job_id: "J1".into(),
            source_arn: Some("arn:aws:dynamodb:eu-west-1:123456789012:table/orders".into()),
            status: "COMPLETED".into(),
            status_message: None,
            validation_status: None,
            validation_message: None,
            created: None,
            completed: None,
            plan_arn: plan.map(str::to_string),
            created_resource_arn: None,
            recovery_point_arn: None,
            resource_type: Some("DynamoDB".into()),
        }
    }

    #[test]
    fn only_restore_tests_of_the_configured_plan_are_ours() {
        let p = "arn:aws:backup:eu-west-1:123456789012:restore-testing-plan:a";
        assert!(not_ours(&job(None), None).is_some());
        assert!(not_ours(&job(Some(p)), None).is_none());
        assert!(not_ours(&job(Some(p)), Some(p)).is_none());
        let other = not_ours(&job(Some(p)), Some("arn:…:b")).unwrap();
        assert!(other.contains("not to the configured"), "{other}");
    }

    #[test]
    fn failed_validation_failed_jobs_and_unreadable_facts_each_alert() {
        let mk = |status: &str, validation: Option<ValidationStatus>, problem: Option<&str>| {
            let mut o =
                GuardOutcome::new("e", RESTORE_EVENT_NAME, Actor::default(), None, "enforce");
            o.table =
                TableRef::parse_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "t")
                    .ok();
            o.restore = Some(RestoreCheck {
                restore_job_id: "J1".into(),
                job_status: status.into(),
                status_message: Some("Access denied".into()),
                plan_arn: None,
                source_table_arn: None,
                restored_table_arn: None,
                validation: validation.map(|s| Validation {
                    status: s,
                    message: "m".into(),
                    differences: if s == ValidationStatus::Failed {
                        vec!["global secondary index g is missing from the restored table".into()]
                    } else {
                        vec![]
                    },
                }),
                problem: problem.map(str::to_string),
            });
            o.findings = restore_findings(&o);
            o
        };
        let ok = mk("COMPLETED", Some(ValidationStatus::Successful), None);
        assert!(!needs_restore_alert(&ok));
        let failed = mk("COMPLETED", Some(ValidationStatus::Failed), None);
        assert!(needs_restore_alert(&failed));
        assert_eq!(failed.findings[0].code, FindingCode::RestoreTestFailed);
        assert!(failed.findings[0].message.contains("index g is missing"));
        assert_eq!(restore_severity(&failed), Severity::High);
        let job_failed = mk("FAILED", None, None);
        assert!(job_failed.findings[0].message.contains("Access denied"));
        let unknown = mk(
            "COMPLETED",
            None,
            Some("DescribeTable failed (AccessDeniedException)"),
        );
        assert_eq!(unknown.findings[0].code, FindingCode::Unverifiable);
        assert_eq!(restore_severity(&unknown), Severity::Warning);
        let alert = crate::alert::compose(&failed, Severity::High);
        assert!(
            alert.subject.contains("restore test FAILED validation"),
            "{}",
            alert.subject
        );
        assert!(alert.text.contains("index g is missing"), "{}", alert.text);
    }
}
