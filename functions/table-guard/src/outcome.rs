//! What one invocation did: the structured outcome the handler returns and logs as one JSON
//! line (and records in the event ledger).

use std::collections::BTreeMap;

use policy::evaluate::{Coverage, TableEvaluation, Verdict};
use policy::findings::{Finding, FindingCode};
use serde::{Deserialize, Serialize};

use crate::event::{Actor, TableRef};

/// How the event was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Handling {
    /// The table was evaluated (and acted on, if needed).
    Evaluated,
    /// The event needs nothing (a failed call).
    Ignored {
        /// Why the event needs nothing (e.g. the call failed and changed nothing).
        reason: String,
    },
    /// The same event id was handled before (its outcome recorded): nothing done again. A
    /// delivery still in progress elsewhere is not a duplicate but an error
    /// (`GuardError::InProgress`), so it is retried.
    Duplicate {
        /// The outcome the first delivery recorded (None only if it could not be read back).
        previous: Option<serde_json::Value>,
    },
    /// The table no longer exists (deleted before it could be checked or tagged): nothing
    /// left to guard.
    Gone,
}

/// Something the guard did (or, in report-only mode, would have done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// The backup tag was added.
    TagAdded {
        /// The backup tag's key.
        key: String,
        /// The backup tag's value the policy asks for.
        value: String,
        /// Re-evaluating with the tag shows the table protected by a conforming plan.
        coverage_confirmed: bool,
        /// `TagResource` calls made (retries on throttling / table in use included).
        calls: u32,
    },
    /// Report-only mode: the backup tag would have been added.
    WouldAddTag {
        /// The backup tag's key.
        key: String,
        /// The backup tag's value the policy asks for.
        value: String,
    },
    /// The backup tag was not added because the table already has the key with another
    /// value, which the guard never overwrites.
    TagNotOverwritten {
        /// The backup tag's key.
        key: String,
        /// The value the policy wants.
        wanted: String,
        /// The value someone set.
        existing: String,
    },
    /// Adding the backup tag failed.
    TagFailed {
        /// The backup tag's key.
        key: String,
        /// The backup tag's value the policy asks for.
        value: String,
        /// Why `TagResource` failed (or that it did not answer before the deadline).
        error: String,
    },
    /// The restore validation was reported (`PutRestoreValidationResult`).
    ValidationRecorded {
        /// The restore job.
        restore_job_id: String,
        /// `SUCCESSFUL` or `FAILED`.
        status: String,
        /// The `ValidationStatusMessage` sent.
        message: String,
    },
    /// Reporting the restore validation failed.
    ValidationNotRecorded {
        /// The restore job.
        restore_job_id: String,
        /// The status that was to be reported.
        status: String,
        /// Why `PutRestoreValidationResult` failed.
        error: String,
    },
}

impl Action {
    /// True if the action changed the account (a tag added, a validation reported): a retry
    /// after an unsent alert then re-sends that alert instead of acting again.
    pub fn changed_something(&self) -> bool {
        matches!(
            self,
            Action::TagAdded { .. } | Action::ValidationRecorded { .. }
        )
    }
}

/// What table-guard found about one restore job of the restore testing plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreCheck {
    /// `RestoreJobId`.
    pub restore_job_id: String,
    /// The job's status (`COMPLETED`, `FAILED`, `ABORTED`), from `DescribeRestoreJob` when
    /// read, else the event's.
    pub job_status: String,
    /// AWS's `StatusMessage` of the job.
    pub status_message: Option<String>,
    /// `CreatedBy.RestoreTestingPlanArn` of the job.
    pub plan_arn: Option<String>,
    /// The table the recovery point is a backup of (`SourceResourceArn`).
    pub source_table_arn: Option<String>,
    /// The table the restore created (`CreatedResourceArn`).
    pub restored_table_arn: Option<String>,
    /// The comparison's verdict, when the tables could be compared.
    pub validation: Option<policy::restore::Validation>,
    /// Why the restore could not be validated (a fact that could not be read).
    pub problem: Option<String>,
}

/// What a backup job notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupJobNotice {
    /// The job failed (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`): the failure alert.
    Failure,
    /// A job of a slot whose failure was alerted on completed in time: the "resolved" notice.
    Resolved,
    /// A job of a slot whose failure was alerted on completed, but after the slot's
    /// completion window: the slot stays missed.
    CompletedLate,
    /// A completed job with no failure alerted for its table and slot: nothing to say.
    NotDue,
}

/// The failure a completed job's notice follows up on (remembered in the state table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedFailure {
    /// The failed job.
    pub job_id: String,
    /// Its state.
    pub state: String,
    /// The EventBridge event its alert was about.
    pub event_id: String,
}

/// What table-guard found about one ended backup job of a table (AWS Backup's `Backup Job
/// State Change` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupJobCheck {
    /// `backupJobId`.
    pub backup_job_id: String,
    /// The job's state (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`, `COMPLETED`).
    pub state: String,
    /// AWS's `statusMessage` (without its quotes).
    pub status_message: Option<String>,
    /// When the job was created.
    pub created: jiff::Timestamp,
    /// When it completed, if the event says.
    pub completed: Option<jiff::Timestamp>,
    /// `createdBy.backupPlanId` (`None`: on demand).
    pub plan_id: Option<String>,
    /// `createdBy.backupPlanRuleId`.
    pub rule_id: Option<String>,
    /// `backupVaultName`.
    pub vault_name: Option<String>,
    /// The event's time (when AWS Backup emitted it; the invocation's time if absent).
    pub event_time: jiff::Timestamp,
    /// The slot of the policy's schedule the job belongs to (`None`: no slot).
    pub slot: Option<policy::slots::Slot>,
    /// Which slot, or why none, in a sentence.
    pub placement: String,
    /// The slot's completion window at the event's time, in a sentence (jobs in a slot).
    pub window: Option<String>,
    /// The likely remedy (failures).
    pub remedy: Option<String>,
    /// What the notice is.
    pub notice: BackupJobNotice,
    /// The notice's severity.
    pub severity: policy::findings::Severity,
    /// The earlier failure a completed job's notice follows up on.
    pub resolves: Option<ResolvedFailure>,
}

/// What one table (or, without one, the setup) suffers from a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeImpact {
    /// The table's name (`None`: the change matters for the setup as a whole).
    pub table: Option<String>,
    /// The table's ARN.
    pub table_arn: Option<String>,
    /// How bad it is for that table.
    pub severity: policy::findings::Severity,
    /// What it means, in a sentence.
    pub what: String,
}

/// What table-guard found about an AWS Backup or KMS call that changed the backup setup
/// (tampering or drift, from CloudTrail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCheck {
    /// The call (`DeleteRecoveryPoint`, `DisableKey`, …).
    pub call: String,
    /// `eventSource` (`backup.amazonaws.com`, `kms.amazonaws.com`).
    pub event_source: String,
    /// When it was made (`eventTime`).
    pub at: Option<jiff::Timestamp>,
    /// Who made it, in words ([`crate::event::change::Caller::describe`]).
    pub who: String,
    /// What it changed, in words (`recovery point … in vault …`).
    pub target: String,
    /// The state before, where it is known (the event rarely carries it; a warm cache may).
    pub before: Option<String>,
    /// The state after, as re-read from AWS (or as the call asked, when it says so).
    pub after: Option<String>,
    /// What it means for which tables (worst first).
    pub impacts: Vec<ChangeImpact>,
    /// The exact way back: commands to run.
    pub way_back: Vec<String>,
    /// The alert's severity: the worst impact's (`info`: nothing to alert).
    pub severity: policy::findings::Severity,
    /// The error of a call that failed (noted, not alerted: nothing changed).
    pub failed: Option<String>,
}

/// What became of the alert for the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "alert")]
pub enum AlertStatus {
    /// Nothing needed attention.
    NotNeeded,
    /// Published to the alert topic.
    Sent {
        /// The message id SNS returned for the published alert.
        message_id: String,
    },
    /// Publishing failed or did not finish before the deadline (the handler returns an error
    /// so the event is retried).
    Failed {
        /// Why the alert was not published (the SNS error, or the phase that ran out of time).
        error: String,
    },
}

/// The outcome of one invocation: the event, how it was handled, the verdicts and findings
/// before and after the actions, the actions, the alert and the calls made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardOutcome {
    /// The CloudTrail event id (`detail.eventID`), also the event's key in the ledger.
    pub event_id: String,
    /// The API call the event reports (`detail.eventName`, e.g. `CreateTable`).
    pub event_name: String,
    /// Who made the call.
    pub actor: Actor,
    /// The table (absent for ignored events).
    pub table: Option<TableRef>,
    /// How the event was handled.
    pub handling: Handling,
    /// The policy's mode when the event was handled: `enforce` or `report-only`.
    pub mode: String,
    /// Verdict before any action.
    pub initial_verdict: Option<Verdict>,
    /// Verdict after the actions (equal to the initial one when nothing changed).
    pub verdict: Option<Verdict>,
    /// Findings before any action (what was found).
    pub initial_findings: Vec<Finding>,
    /// Findings after the actions (what is still true).
    pub findings: Vec<Finding>,
    /// Which backup plans and selections cover the table after the actions (or why none).
    pub coverage: Option<Coverage>,
    /// The table's tags as evaluated (after the actions).
    pub tags: Option<BTreeMap<String, String>>,
    /// What the guard did (or would have done in report-only mode), in order.
    pub actions: Vec<Action>,
    /// Whether the alert was needed, sent (with its message id) or not published.
    pub alert: AlertStatus,
    /// Remarks (e.g. tags not yet visible, cache use).
    pub notes: Vec<String>,
    /// AWS calls (attempts) this invocation made before recording its outcome, by operation.
    pub api_calls: BTreeMap<String, u64>,
    /// For a restore job event: the job and its validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreCheck>,
    /// For a backup job event: the job, its slot and the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_job: Option<BackupJobCheck>,
    /// For an `UpdateTable` that created replicas: those in regions this stack does not watch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unwatched_replicas: Vec<TableRef>,
    /// For an AWS Backup or KMS call that changed the setup: what it changed and means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeCheck>,
}

impl GuardOutcome {
    /// An outcome with nothing evaluated yet.
    pub fn new(
        event_id: &str,
        event_name: &str,
        actor: Actor,
        table: Option<TableRef>,
        mode: &str,
    ) -> Self {
        GuardOutcome {
            event_id: event_id.to_string(),
            event_name: event_name.to_string(),
            actor,
            table,
            handling: Handling::Evaluated,
            mode: mode.to_string(),
            initial_verdict: None,
            verdict: None,
            initial_findings: Vec::new(),
            findings: Vec::new(),
            coverage: None,
            tags: None,
            actions: Vec::new(),
            alert: AlertStatus::NotNeeded,
            notes: Vec::new(),
            api_calls: BTreeMap::new(),
            restore: None,
            backup_job: None,
            unwatched_replicas: Vec::new(),
            change: None,
        }
    }

    /// Takes the verdict, findings, coverage, tags and notes of the table's final evaluation
    /// (after any action) into the outcome.
    pub(crate) fn set_final_evaluation(&mut self, evaluation: &TableEvaluation) {
        self.verdict = Some(evaluation.verdict);
        self.findings = evaluation.findings.clone();
        self.coverage = Some(evaluation.coverage.clone());
        self.tags = evaluation.table.tags.known().cloned();
        self.notes.extend(evaluation.notes.iter().cloned());
    }

    /// The SNS message id, if an alert was sent.
    pub fn alert_message_id(&self) -> Option<&str> {
        match &self.alert {
            AlertStatus::Sent { message_id } => Some(message_id),
            _ => None,
        }
    }

    /// Codes of the findings before and after the actions, sorted, without repeats.
    pub fn finding_codes(&self) -> Vec<FindingCode> {
        let mut codes: Vec<FindingCode> = self
            .initial_findings
            .iter()
            .chain(&self.findings)
            .map(|f| f.code)
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// One-line JSON (what the handler logs).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"event_id":{:?},"error":"outcome not serialisable: {e}"}}"#,
                self.event_id
            )
        })
    }
}
