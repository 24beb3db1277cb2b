//! The alert about an ended backup job (pure): a failure (naming the table, the slot it puts at
//! risk, the time left in the slot's completion window, AWS's status message and the likely
//! remedy), or the notice that a later job of the slot completed ("resolved", or completed
//! too late). Same attributes and JSON envelope as the table alerts ([`crate::alert`]), plus
//! `backup_job`, so the same SNS filter policies apply.

use awsio::publisher::{AlertMessage, AttributeValue, MAX_SUBJECT_CHARS};
use policy::findings::Severity;

use crate::alert::attributes;
use crate::outcome::{BackupJobCheck, BackupJobNotice, GuardOutcome};

/// The message attribute naming the backup job.
pub const BACKUP_JOB_ATTRIBUTE: &str = "backup_job";

fn slot_text(check: &BackupJobCheck) -> String {
    check
        .slot
        .map(|s| s.at.strftime("%Y-%m-%d %H:%MZ").to_string())
        .unwrap_or_else(|| "?".to_string())
}

/// A few words for the subject: what happened.
pub fn headline(check: &BackupJobCheck) -> String {
    let slot = slot_text(check);
    match check.notice {
        BackupJobNotice::Failure => match (&check.slot, &check.window) {
            (Some(_), Some(w)) if w.contains("left") => {
                format!("backup job {}, slot {slot} at risk", check.state)
            }
            (Some(_), _) => format!("backup job {}, slot {slot} missed", check.state),
            (None, _) => format!("backup job {} (no scheduled slot)", check.state),
        },
        BackupJobNotice::Resolved => format!("resolved, slot {slot} backed up"),
        BackupJobNotice::CompletedLate => {
            format!("backup completed late, slot {slot} still missed")
        }
        BackupJobNotice::NotDue => "backup job completed".to_string(),
    }
}

/// The subject: `HIGH backup-guard <table>: backup job FAILED, slot … at risk
/// (<acct>/<region>)`, at most [`MAX_SUBJECT_CHARS`] (the table name is shortened first).
pub fn subject(outcome: &GuardOutcome, check: &BackupJobCheck, severity: Severity) -> String {
    let (table, account, region) = match &outcome.table {
        Some(t) => (t.name.as_str(), t.account.as_str(), t.region.as_str()),
        None => ("?", "?", "?"),
    };
    let sev = severity.as_str().to_ascii_uppercase();
    let what = headline(check);
    let build = |name: &str| format!("{sev} backup-guard {name}: {what} ({account}/{region})");
    let full = build(table);
    if full.chars().count() <= MAX_SUBJECT_CHARS {
        return full;
    }
    let fixed = build("").chars().count() + 3;
    if fixed < MAX_SUBJECT_CHARS {
        let keep: String = table.chars().take(MAX_SUBJECT_CHARS - fixed).collect();
        return build(&format!("{keep}..."));
    }
    policy::restore::cut_chars(&full, MAX_SUBJECT_CHARS)
}

/// What a human must do.
pub fn human_todo(check: &BackupJobCheck) -> Vec<String> {
    let deadline = check.slot.map(|s| s.completion_deadline.to_string());
    match check.notice {
        BackupJobNotice::Failure => {
            let mut todo: Vec<String> = check.remedy.iter().cloned().collect();
            if let (Some(slot), Some(d)) = (check.slot, deadline) {
                todo.push(format!(
                    "Make sure slot {} gets its backup: a job of the slot's plan rule must complete by {d}; otherwise the nightly recovery verifier reports the slot as MISSED_SLOT (an on-demand backup does not stand in for it)",
                    slot.at
                ));
            }
            todo
        }
        BackupJobNotice::CompletedLate => vec![format!(
            "Find out why the slot's backup ran past its completion window (deadline {}): the slot stays MISSED_SLOT until it leaves the retention horizon",
            deadline.unwrap_or_default()
        )],
        BackupJobNotice::Resolved | BackupJobNotice::NotDue => Vec::new(),
    }
}

/// The email-readable body.
pub fn text(outcome: &GuardOutcome, check: &BackupJobCheck, severity: Severity) -> String {
    let (name, arn, account, region) = match &outcome.table {
        Some(t) => (
            t.name.as_str(),
            t.arn.as_str(),
            t.account.as_str(),
            t.region.as_str(),
        ),
        None => ("?", "?", "?", "?"),
    };
    let mut out = format!(
        "backup-guard saw backup job {} of DynamoDB table {name} end {} in account {account}, region {region}.\n\n",
        check.backup_job_id, check.state
    );
    out.push_str(&format!("Severity: {severity}\n"));
    out.push_str(&format!(
        "Event: Backup Job State Change (EventBridge event {}, at {})\n",
        outcome.event_id, check.event_time
    ));
    let by = match (&check.plan_id, &check.rule_id) {
        (Some(p), Some(r)) => format!("backup plan {p}, rule {r}"),
        (Some(p), None) => format!("backup plan {p}"),
        (None, _) => "on demand (no backup plan)".to_string(),
    };
    out.push_str(&format!(
        "Job: {}, created {} by {by}{}{}\n",
        check.backup_job_id,
        check.created,
        check
            .completed
            .map(|c| format!(", ended {c}"))
            .unwrap_or_default(),
        check
            .vault_name
            .as_deref()
            .map(|v| format!(", vault {v}"))
            .unwrap_or_default()
    ));
    match &check.status_message {
        Some(m) => out.push_str(&format!("AWS says: {m}\n")),
        None => out.push_str("AWS says: nothing (no status message)\n"),
    }
    out.push_str(&format!("Slot: {}\n", check.placement));
    if let Some(w) = &check.window {
        out.push_str(&format!("Time left: {w}\n"));
    }
    if let Some(r) = &check.resolves {
        out.push_str(&format!(
            "Follows up on: backup job {} ended {} (alerted for EventBridge event {})\n",
            r.job_id, r.state, r.event_id
        ));
    }
    out.push_str("\nWhat was found:\n");
    match check.notice {
        BackupJobNotice::Failure => {
            for f in &outcome.findings {
                out.push_str(&format!(
                    "  - [{}] {}: {}\n",
                    f.severity.as_str().to_ascii_uppercase(),
                    f.code,
                    f.message
                ));
            }
        }
        BackupJobNotice::Resolved => out.push_str(&format!(
            "  - the slot's backup completed in time: slot {} is backed up\n",
            slot_text(check)
        )),
        BackupJobNotice::CompletedLate | BackupJobNotice::NotDue => {
            for f in &outcome.findings {
                out.push_str(&format!("  - [{}] {}: {}\n", f.severity, f.code, f.message));
            }
        }
    }
    out.push_str("\nWhat a human must do:\n");
    let todo = human_todo(check);
    if todo.is_empty() {
        out.push_str("  - nothing\n");
    }
    for t in todo {
        out.push_str(&format!("  - {t}\n"));
    }
    out.push_str(&format!("\nTable ARN: {arn}\n"));
    for n in &outcome.notes {
        out.push_str(&format!("Note: {n}\n"));
    }
    out
}

/// The whole alert about an ended backup job.
pub fn compose(outcome: &GuardOutcome, check: &BackupJobCheck, severity: Severity) -> AlertMessage {
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
        "human_todo": human_todo(check),
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
        BACKUP_JOB_ATTRIBUTE.to_string(),
        AttributeValue::String(check.backup_job_id.clone()),
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
    }
}
