//! The alert about a restore test (pure): a validation that FAILED, a restore job that failed
//! or was aborted, or a restore that could not be validated. Same attributes and JSON
//! envelope as the table alerts ([`crate::alert`]), so the same SNS filter policies apply.

use awsio::publisher::{AlertMessage, AttributeValue, MAX_SUBJECT_CHARS};
use policy::findings::Severity;
use policy::restore::ValidationStatus;

use crate::alert::{attributes, human_todo};
use crate::outcome::{GuardOutcome, RestoreCheck};

/// A few words for the subject.
fn headline(check: &RestoreCheck) -> String {
    if check.job_status != "COMPLETED" {
        return format!("restore test {}", check.job_status);
    }
    match (&check.validation, &check.problem) {
        (Some(v), _) if v.status == ValidationStatus::Failed => {
            "restore test FAILED validation".to_string()
        }
        (_, Some(_)) => "restore test could not be validated".to_string(),
        _ => "restore test validated".to_string(),
    }
}

fn table_word(outcome: &GuardOutcome) -> (&str, &str, &str) {
    match &outcome.table {
        Some(t) => (t.name.as_str(), t.account.as_str(), t.region.as_str()),
        None => ("?", "?", "?"),
    }
}

/// The subject: `HIGH backup-guard <table>: restore test FAILED validation (<acct>/<region>)`,
/// at most [`MAX_SUBJECT_CHARS`].
pub fn subject(outcome: &GuardOutcome, check: &RestoreCheck, severity: Severity) -> String {
    let (table, account, region) = table_word(outcome);
    let sev = severity.as_str().to_ascii_uppercase();
    let s = format!(
        "{sev} backup-guard {table}: {} ({account}/{region})",
        headline(check)
    );
    policy::restore::cut_chars(&s, MAX_SUBJECT_CHARS)
}

/// The email-readable body.
pub fn text(outcome: &GuardOutcome, check: &RestoreCheck, severity: Severity) -> String {
    let (table, account, region) = table_word(outcome);
    let mut out = format!(
        "backup-guard checked restore job {} of table {table} in account {account}, region {region}.\n\n",
        check.restore_job_id
    );
    out.push_str(&format!("Severity: {severity}\n"));
    out.push_str(&format!(
        "Event: Restore Job State Change (EventBridge event {})\n",
        outcome.event_id
    ));
    out.push_str(&format!("Restore job status: {}", check.job_status));
    if let Some(m) = &check.status_message {
        out.push_str(&format!(" — AWS says: {m}"));
    }
    out.push('\n');
    if let Some(p) = &check.plan_arn {
        out.push_str(&format!("Restore testing plan: {p}\n"));
    }
    if let Some(s) = &check.source_table_arn {
        out.push_str(&format!("Source table: {s}\n"));
    }
    if let Some(r) = &check.restored_table_arn {
        out.push_str(&format!("Restored table: {r}\n"));
    }
    out.push_str("\nWhat was found:\n");
    if let Some(v) = &check.validation {
        if v.differences.is_empty() {
            out.push_str(&format!("  - {}\n", v.message));
        }
        for d in &v.differences {
            out.push_str(&format!("  - {d}\n"));
        }
    }
    if let Some(p) = &check.problem {
        out.push_str(&format!("  - could not validate: {p}\n"));
    }
    if check.job_status != "COMPLETED" {
        out.push_str(&format!(
            "  - the restore job ended {}; nothing was restored to validate\n",
            check.job_status
        ));
    }
    out.push_str("\nWhat was done:\n");
    if outcome.actions.is_empty() {
        out.push_str("  - no validation result was reported\n");
    }
    for a in &outcome.actions {
        out.push_str(&format!("  - {}\n", crate::alert::action_text(outcome, a)));
    }
    out.push_str("\nWhat a human must do:\n");
    let todo = human_todo(outcome);
    if todo.is_empty() {
        out.push_str("  - nothing\n");
    }
    for t in todo {
        out.push_str(&format!("  - {t}\n"));
    }
    for n in &outcome.notes {
        out.push_str(&format!("Note: {n}\n"));
    }
    out
}

/// The whole alert about a restore test.
pub fn compose(outcome: &GuardOutcome, check: &RestoreCheck, severity: Severity) -> AlertMessage {
    let subject = subject(outcome, check, severity);
    let text = text(outcome, check, severity);
    let codes: Vec<String> = outcome
        .finding_codes()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let json = serde_json::json!({
        "kind": "backup-guard.table-guard",
        "severity": severity,
        "subject": subject,
        "finding_codes": codes,
        "human_todo": human_todo(outcome),
        "outcome": outcome,
    });
    let mut attrs = vec![(
        attributes::SEVERITY.to_string(),
        AttributeValue::String(severity.as_str().to_string()),
    )];
    if !codes.is_empty() {
        attrs.push((
            attributes::FINDING_CODES.to_string(),
            AttributeValue::StringArray(codes),
        ));
    }
    if let Some(t) = &outcome.table {
        attrs.push((
            attributes::TABLE.to_string(),
            AttributeValue::String(t.name.clone()),
        ));
        attrs.push((
            attributes::ACCOUNT.to_string(),
            AttributeValue::String(t.account.clone()),
        ));
        attrs.push((
            attributes::REGION.to_string(),
            AttributeValue::String(t.region.clone()),
        ));
    }
    attrs.push((
        attributes::RESTORE_JOB.to_string(),
        AttributeValue::String(check.restore_job_id.clone()),
    ));
    attrs.push((
        attributes::MODE.to_string(),
        AttributeValue::String(outcome.mode.clone()),
    ));
    AlertMessage {
        subject,
        text,
        json,
        attributes: attrs,
        chat: None,
    }
}
