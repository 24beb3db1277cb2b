//! The alert about an ended backup job (pure): a failure (naming the table, the slot it puts at
//! risk, the time left in the slot's completion window, AWS's status message and the likely
//! remedy), or the notice that a later job of the slot completed ("resolved", or completed
//! too late). Same attributes and JSON envelope as the table alerts ([`crate::alert`]), plus
//! `backup_job`, so the same SNS filter policies apply.

use awsio::chat::{self, ChatCard, MAX_DESCRIPTION_CHARS, code, escape};
use awsio::publisher::{AlertMessage, MAX_SUBJECT_CHARS};
use policy::findings::Severity;

use crate::alert::{CardKind, assemble, card_place, finish_card};
use crate::outcome::{BackupJobCheck, BackupJobNotice, GuardOutcome};

/// The message attribute naming the backup job.
pub const BACKUP_JOB_ATTRIBUTE: &str = "backup_job";

fn slot_text(check: &BackupJobCheck) -> String {
    check
        .slot
        .map(|s| s.at.strftime("%Y-%m-%d %H:%MZ").to_string())
        .unwrap_or_else(|| "?".to_string())
}

/// A few words for the subject: what happened (`with_slot`: naming the slot's instant).
pub fn headline(check: &BackupJobCheck, with_slot: bool) -> String {
    let slot = if with_slot {
        format!("slot {}", slot_text(check))
    } else {
        "slot".to_string()
    };
    match check.notice {
        BackupJobNotice::Failure => match &check.slot {
            Some(s) => format!(
                "backup {}, {slot} {}",
                check.state,
                policy::backup_job::slot_risk(s, check.event_time).as_words()
            ),
            None => format!("backup {} (no scheduled slot)", check.state),
        },
        BackupJobNotice::Resolved => format!("resolved, {slot} backed up"),
        BackupJobNotice::CompletedLate => format!("backup completed late, {slot} still missed"),
        BackupJobNotice::NotDue => "backup job completed".to_string(),
    }
}

/// The subject: `HIGH backup-guard <table>: backup FAILED, slot 2026-11-15 00:00Z at risk
/// (<acct>/<region>)`, at most [`MAX_SUBJECT_CHARS`]: without the slot's instant if that
/// makes it fit (the body names it), else with the table name shortened.
pub fn subject(outcome: &GuardOutcome, check: &BackupJobCheck, severity: Severity) -> String {
    let (table, account, region) = match &outcome.table {
        Some(t) => (t.name.as_str(), t.account.as_str(), t.region.as_str()),
        None => ("?", "?", "?"),
    };
    let sev = severity.as_str().to_ascii_uppercase();
    let build =
        |name: &str, what: &str| format!("{sev} backup-guard {name}: {what} ({account}/{region})");
    let full = build(table, &headline(check, true));
    if full.chars().count() <= MAX_SUBJECT_CHARS {
        return full;
    }
    let what = headline(check, false);
    let short = build(table, &what);
    if short.chars().count() <= MAX_SUBJECT_CHARS {
        return short;
    }
    let fixed = build("", &what).chars().count() + 3;
    if fixed < MAX_SUBJECT_CHARS {
        let keep: String = table.chars().take(MAX_SUBJECT_CHARS - fixed).collect();
        return build(&format!("{keep}..."), &what);
    }
    policy::restore::cut_chars(&short, MAX_SUBJECT_CHARS)
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

/// The event type of a backup-job card (`metadata.eventType`).
pub const CARD_EVENT_TYPE: &str = "backup-guard.backup-job";

/// The chat card of a backup-job alert: `:emoji: SEVERITY `table`: backup FAILED, slot ...`,
/// the job and what AWS said, the slot and the time left, what was found; next steps are
/// [`human_todo`]. Everything taken from the event or AWS is escaped.
pub fn card(
    outcome: &GuardOutcome,
    check: &BackupJobCheck,
    severity: Severity,
    subject: &str,
) -> ChatCard {
    let table = outcome.table.as_ref().map_or("?", |t| t.name.as_str());
    let title = format!(
        "{} {} {}: {}",
        chat::severity_emoji(severity.as_str()),
        severity.as_str().to_ascii_uppercase(),
        code(table),
        escape(&headline(check, true))
    );
    let mut d = String::new();
    chat::push_line(&mut d, &card_place(outcome), MAX_DESCRIPTION_CHARS);
    let mut job = format!(
        "*Backup job* {} ended {}",
        code(&check.backup_job_id),
        code(&check.state)
    );
    if let Some(m) = &check.status_message {
        job.push_str(&format!(" — AWS says: {}", escape(m)));
    }
    chat::push_line(&mut d, &job, MAX_DESCRIPTION_CHARS);
    chat::push_line(
        &mut d,
        &format!("*Slot* {}", escape(&check.placement)),
        MAX_DESCRIPTION_CHARS,
    );
    if let Some(w) = &check.window {
        chat::push_line(
            &mut d,
            &format!("*Time left* {}", escape(w)),
            MAX_DESCRIPTION_CHARS,
        );
    }
    let found: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| {
            escape(&format!(
                "({}) {}: {}",
                f.severity.as_str(),
                f.code,
                f.message
            ))
        })
        .collect();
    finish_card(
        outcome,
        severity,
        subject,
        title,
        d,
        ("*What was found*", &found, "nothing"),
        &human_todo(check),
        CardKind {
            event_type: CARD_EVENT_TYPE,
            keyword: "backup-job",
            context: ("backup_job", &check.backup_job_id),
        },
    )
}

/// The whole alert about an ended backup job.
pub fn compose(outcome: &GuardOutcome, check: &BackupJobCheck, severity: Severity) -> AlertMessage {
    let subject = subject(outcome, check, severity);
    let chat = card(outcome, check, severity, &subject);
    let text = text(outcome, check, severity);
    assemble(
        outcome,
        severity,
        (subject, text),
        human_todo(check),
        (BACKUP_JOB_ATTRIBUTE, check.backup_job_id.as_str()),
        chat,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, TableRef};

    fn check(state: &str, at: &str) -> (GuardOutcome, BackupJobCheck) {
        let p = policy::Policy::default();
        let slot = policy::slots::Slot::new(
            "2026-11-15T00:00:00Z".parse().unwrap(),
            p.start_window(),
            p.completion_window(),
        );
        let mut o = GuardOutcome::new(
            "e1",
            "BackupJobStateChange",
            Actor::default(),
            None,
            "enforce",
        );
        o.table =
            TableRef::parse_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "t").ok();
        let c = BackupJobCheck {
            backup_job_id: "J-1".into(),
            state: state.into(),
            status_message: Some("Access denied".into()),
            created: "2026-11-15T00:01:00Z".parse().unwrap(),
            completed: None,
            plan_id: Some("p".into()),
            rule_id: None,
            vault_name: None,
            event_time: at.parse().unwrap(),
            slot: Some(slot),
            placement: "scheduled slot".into(),
            window: Some("1 h left".into()),
            remedy: Some("Fix the role".into()),
            notice: BackupJobNotice::Failure,
            severity: Severity::High,
            resolves: None,
        };
        (o, c)
    }

    #[test]
    fn the_subject_names_the_slot_and_its_risk_and_always_fits() {
        let (o, c) = check("FAILED", "2026-11-15T00:30:00Z");
        assert_eq!(
            subject(&o, &c, Severity::High),
            "HIGH backup-guard orders: backup FAILED, slot 2026-11-15 00:00Z at risk (123456789012/eu-west-1)"
        );
        let (o, c) = check("EXPIRED", "2026-11-15T01:30:00Z");
        let s = subject(&o, &c, Severity::High);
        assert!(
            s.contains("likely missed") && s.chars().count() <= MAX_SUBJECT_CHARS,
            "{s}"
        );
        let (mut o, c) = check("FAILED", "2026-11-15T05:00:00Z");
        let long = format!(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/{}",
            "t".repeat(200)
        );
        o.table = TableRef::parse_arn(&long, "t").ok();
        let s = subject(&o, &c, Severity::High);
        assert!(s.chars().count() <= MAX_SUBJECT_CHARS, "{s}");
        assert!(s.contains("ttt...") && s.contains("slot missed"), "{s}");
    }

    #[test]
    fn the_body_has_aws_message_slot_time_left_and_remedy() {
        let (mut o, c) = check("FAILED", "2026-11-15T00:30:00Z");
        o.backup_job = Some(c.clone());
        let m = compose(&o, &c, Severity::High);
        for part in [
            "AWS says: Access denied",
            "Slot: scheduled slot",
            "Time left: 1 h left",
            "Fix the role",
            "MISSED_SLOT",
        ] {
            assert!(m.text.contains(part), "{part:?} missing in\n{}", m.text);
        }
        assert!(m.attributes.iter().any(|(k, v)| k == BACKUP_JOB_ATTRIBUTE
            && *v == awsio::publisher::AttributeValue::String("J-1".into())));
    }

    #[test]
    fn the_chat_card_names_the_job_slot_and_time_left_and_escapes_aws_text() {
        let (mut o, mut c) = check("FAILED", "2026-11-15T00:30:00Z");
        c.status_message = Some("Access denied to key <!channel> @here".into());
        o.backup_job = Some(c.clone());
        let m = compose(&o, &c, Severity::High);
        let card = m
            .chat
            .expect("a backup-job alert carries a chat card")
            .to_json();
        let title = card["content"]["title"].as_str().unwrap_or_default();
        assert!(
            title.contains("HIGH") && title.contains("`orders`"),
            "{title}"
        );
        assert!(title.contains("backup FAILED"), "{title}");
        let d = card["content"]["description"].as_str().unwrap_or_default();
        assert!(d.contains(&format!("`{}`", c.backup_job_id)), "{d}");
        assert!(d.contains("*Time left*") && d.contains("*Slot*"), "{d}");
        assert!(!d.contains("<!channel>") && !d.contains("@here"), "{d}");
        assert_eq!(card["metadata"]["eventType"], CARD_EVENT_TYPE);
        assert_eq!(
            card["metadata"]["additionalContext"]["backup_job"],
            c.backup_job_id.as_str()
        );
        let steps = card["content"]["nextSteps"].as_array().map_or(0, Vec::len);
        assert_eq!(steps, human_todo(&c).len());
    }
}
