//! The alert about a restore test (pure): a validation that FAILED, a restore job that failed
//! or was aborted, or a restore that could not be validated. Same attributes and JSON
//! envelope as the table alerts ([`crate::alert`]), so the same SNS filter policies apply.

use awsio::chat::{self, ChatCard, MAX_DESCRIPTION_CHARS, code, escape};
use awsio::publisher::{AlertMessage, MAX_SUBJECT_CHARS};
use policy::findings::Severity;
use policy::restore::ValidationStatus;

use crate::alert::envelope;
use crate::alert::{
    CARD_RESERVE_CHARS, attributes, card_frame, card_place, card_section, human_todo,
};
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

/// The `eventType` of a restore-test alert's chat card.
pub const CARD_EVENT_TYPE: &str = "backup-guard.restore-test";

/// What was found, one item per line (the differences, the problem, the job's end).
fn found(check: &RestoreCheck) -> Vec<String> {
    let mut items = Vec::new();
    if let Some(v) = &check.validation {
        if v.differences.is_empty() {
            items.push(v.message.clone());
        }
        items.extend(v.differences.iter().map(ToString::to_string));
    }
    if let Some(p) = &check.problem {
        items.push(format!("could not validate: {p}"));
    }
    if check.job_status != "COMPLETED" {
        items.push(format!(
            "the restore job ended {}; nothing was restored to validate",
            check.job_status
        ));
    }
    items
}

/// The chat card of a restore-test alert: `:emoji: SEVERITY `table`: restore test ...`, the
/// job, its status and what AWS said, the tables, what was found and done; next steps are
/// [`human_todo`]. Everything taken from the event, the tables or AWS is escaped.
pub fn card(
    outcome: &GuardOutcome,
    check: &RestoreCheck,
    severity: Severity,
    subject: &str,
) -> ChatCard {
    let (table, _, _) = table_word(outcome);
    let title = format!(
        "{} {} {}: {}",
        chat::severity_emoji(severity.as_str()),
        severity.as_str().to_ascii_uppercase(),
        code(table),
        escape(&headline(check))
    );
    let mut d = String::new();
    chat::push_line(&mut d, &card_place(outcome), MAX_DESCRIPTION_CHARS);
    let mut job = format!(
        "*Restore job* {} ended {}",
        code(&check.restore_job_id),
        code(&check.job_status)
    );
    if let Some(m) = &check.status_message {
        job.push_str(&format!(" — AWS says: {}", escape(m)));
    }
    chat::push_line(&mut d, &job, MAX_DESCRIPTION_CHARS);
    for (label, arn) in [
        ("Restore testing plan", &check.plan_arn),
        ("Source table", &check.source_table_arn),
        ("Restored table", &check.restored_table_arn),
    ] {
        if let Some(a) = arn {
            chat::push_line(
                &mut d,
                &format!("*{label}* {}", code(a)),
                MAX_DESCRIPTION_CHARS,
            );
        }
    }
    let found: Vec<String> = found(check).iter().map(|f| escape(f)).collect();
    let done: Vec<String> = outcome
        .actions
        .iter()
        .map(|a| escape(&crate::alert::action_text(outcome, a)))
        .collect();
    let notes: Vec<String> = outcome.notes.iter().map(|n| escape(n)).collect();
    let before = MAX_DESCRIPTION_CHARS - CARD_RESERVE_CHARS;
    let all = MAX_DESCRIPTION_CHARS;
    let _ = card_section(&mut d, "*What was found*", &found, "nothing", before)
        && card_section(
            &mut d,
            "*What was done*",
            &done,
            "no validation result was reported",
            all,
        )
        && (notes.is_empty() || card_section(&mut d, "*Notes*", &notes, "", all));
    let mut card = ChatCard {
        title,
        description: d.trim_end().to_string(),
        next_steps: human_todo(outcome).iter().map(|t| escape(t)).collect(),
        ..card_frame(outcome, severity, subject)
    };
    card.event_type = CARD_EVENT_TYPE.to_string();
    card.keywords.insert(1, "restore-test".to_string());
    card.additional_context
        .insert("restore_job".to_string(), check.restore_job_id.clone());
    for arn in [
        &check.source_table_arn,
        &check.restored_table_arn,
        &check.plan_arn,
    ]
    .into_iter()
    .flatten()
    {
        card.related_resources.push(arn.clone());
    }
    card
}

/// The whole alert about a restore test.
pub fn compose(outcome: &GuardOutcome, check: &RestoreCheck, severity: Severity) -> AlertMessage {
    let subject = subject(outcome, check, severity);
    let text = text(outcome, check, severity);
    let (json, attrs) = envelope(
        outcome,
        severity,
        &subject,
        human_todo(outcome),
        Some((attributes::RESTORE_JOB, check.restore_job_id.as_str())),
    );
    let card = card(outcome, check, severity, &subject);
    AlertMessage {
        subject,
        text,
        json,
        attributes: attrs,
        chat: Some(card),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, TableRef};
    use crate::outcome::Action;
    use policy::restore::Validation;

    fn failed() -> (GuardOutcome, RestoreCheck) {
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
        let table = TableRef::parse_arn(arn, "t").unwrap();
        let mut o = GuardOutcome::new(
            "ev-1",
            "Restore Job State Change",
            Actor::default(),
            Some(table),
            "enforce",
        );
        o.actions.push(Action::ValidationRecorded {
            restore_job_id: "job-1".into(),
            status: "FAILED".into(),
            message: "differs".into(),
        });
        let check = RestoreCheck {
            restore_job_id: "job-1".into(),
            job_status: "COMPLETED".into(),
            status_message: Some("<!here> done".into()),
            plan_arn: Some("arn:aws:backup:eu-west-1:123456789012:restore-testing-plan:p".into()),
            source_table_arn: Some(arn.into()),
            restored_table_arn: Some(
                "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-restored".into(),
            ),
            validation: Some(Validation {
                status: ValidationStatus::Failed,
                message: "1 difference".into(),
                differences: vec!["the key schema differs: `pk` vs *sk*".into()],
            }),
            problem: None,
        };
        o.restore = Some(check.clone());
        (o, check)
    }

    #[test]
    fn a_failed_restore_test_card_names_the_job_the_tables_and_the_difference() {
        let (o, check) = failed();
        let m = crate::alert::compose(&o, Severity::High);
        let j = m
            .chat
            .clone()
            .expect("a restore alert has a card")
            .to_json();
        assert_eq!(j["version"], "1.0");
        assert_eq!(j["source"], "custom");
        assert_eq!(
            j["content"]["title"],
            ":red_circle: HIGH `orders`: restore test FAILED validation"
        );
        let d = j["content"]["description"].as_str().unwrap();
        for part in [
            "*Restore job* `job-1` ended `COMPLETED` — AWS says: &lt;!here&gt; done",
            "*Restored table* `arn:aws:dynamodb:eu-west-1:123456789012:table/orders-restored`",
            "*What was found*\n• the key schema differs: 'pk' vs *\u{200B}sk*\u{200B}",
        ] {
            assert!(d.contains(part), "missing {part:?} in\n{d}");
        }
        assert_eq!(j["metadata"]["eventType"], CARD_EVENT_TYPE);
        assert_eq!(j["metadata"]["additionalContext"]["restore_job"], "job-1");
        let related = j["metadata"]["relatedResources"].as_array().unwrap();
        assert_eq!(related.len(), 3, "{related:?}");
        assert_eq!(
            j["content"]["keywords"][1], "restore-test",
            "{}",
            j["content"]["keywords"]
        );
        assert_eq!(card(&o, &check, Severity::High, &m.subject).to_json(), j);
    }
}
