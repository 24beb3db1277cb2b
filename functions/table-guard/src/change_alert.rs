//! The alert about an AWS Backup or KMS call that changed the backup setup (pure): who did
//! it, what changed (before and after where known), what it means for which tables, and the
//! exact way back. Same attributes and JSON envelope as the table alerts ([`crate::alert`]),
//! plus `change` (the call), so the same SNS filter policies apply.

use awsio::chat::{self, ChatCard, MAX_DESCRIPTION_CHARS, code, escape};
use awsio::publisher::{AlertMessage, MAX_SUBJECT_CHARS};
use policy::findings::Severity;

use crate::alert::{CardKind, assemble, card_place, finish_card};
use crate::outcome::{ChangeCheck, GuardOutcome};

/// The message attribute naming the call.
pub const CHANGE_ATTRIBUTE: &str = "change";
/// The event type of a change card (`metadata.eventType`).
pub const CARD_EVENT_TYPE: &str = "backup-guard.change";

/// A few words: the call and its worst consequence.
pub fn headline(check: &ChangeCheck) -> String {
    let what = match check.severity {
        Severity::Critical => "data at risk",
        Severity::High => "policy broken",
        Severity::Warning => "check it",
        Severity::Info => "policy met",
    };
    let tables = check.impacts.iter().filter(|i| i.table.is_some()).count();
    match tables {
        0 | 1 => format!("{}, {what}", check.call),
        n => format!("{}, {what} for {n} tables", check.call),
    }
}

/// The subject: `CRITICAL backup-guard orders: DeleteRecoveryPoint, data at risk
/// (<acct>/<region>)`, at most [`MAX_SUBJECT_CHARS`].
pub fn subject(outcome: &GuardOutcome, check: &ChangeCheck, severity: Severity) -> String {
    let sev = severity.as_str().to_ascii_uppercase();
    let (name, place) = match &outcome.table {
        Some(t) => (t.name.clone(), format!(" ({}/{})", t.account, t.region)),
        None => (check.target.clone(), String::new()),
    };
    let what = headline(check);
    let build = |n: &str| format!("{sev} backup-guard {n}: {what}{place}");
    let full = build(&name);
    if full.chars().count() <= MAX_SUBJECT_CHARS {
        return full;
    }
    let fixed = build("").chars().count() + 3;
    let keep: String = name
        .chars()
        .take(MAX_SUBJECT_CHARS.saturating_sub(fixed))
        .collect();
    policy::restore::cut_chars(&build(&format!("{keep}...")), MAX_SUBJECT_CHARS)
}

/// What a human must do: the impacts' way back.
pub fn human_todo(check: &ChangeCheck) -> Vec<String> {
    let mut out = vec![format!(
        "Confirm with {} whether the {} was intended.",
        check.who, check.call
    )];
    out.extend(check.way_back.iter().cloned());
    out
}

/// The email-readable body.
pub fn text(outcome: &GuardOutcome, check: &ChangeCheck, severity: Severity) -> String {
    let mut out = format!(
        "backup-guard saw {} change {} ({}).\n\n",
        check.call, check.target, check.event_source
    );
    out.push_str(&format!("Severity: {severity}\n"));
    out.push_str(&format!("Who: {}\n", check.who));
    out.push_str(&format!(
        "When: {} (CloudTrail event {})\n",
        check
            .at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "not recorded".to_string()),
        outcome.event_id
    ));
    out.push_str(&format!(
        "Before: {}\n",
        check.before.as_deref().unwrap_or("not known")
    ));
    out.push_str(&format!(
        "After: {}\n",
        check.after.as_deref().unwrap_or("not known")
    ));
    out.push_str("\nWhat it means:\n");
    if check.impacts.is_empty() {
        out.push_str("  - nothing for the policy\n");
    }
    for i in &check.impacts {
        out.push_str(&format!(
            "  - [{}] {}{}\n",
            i.severity.as_str().to_ascii_uppercase(),
            i.table
                .as_deref()
                .map(|t| format!("table {t}: "))
                .unwrap_or_default(),
            i.what
        ));
    }
    out.push_str("\nThe way back:\n");
    for t in human_todo(check) {
        out.push_str(&format!("  - {t}\n"));
    }
    for n in &outcome.notes {
        out.push_str(&format!("Note: {n}\n"));
    }
    out
}

/// The chat card.
pub fn card(
    outcome: &GuardOutcome,
    check: &ChangeCheck,
    severity: Severity,
    subject: &str,
) -> ChatCard {
    let title = format!(
        "{} {} {}: {}",
        chat::severity_emoji(severity.as_str()),
        severity.as_str().to_ascii_uppercase(),
        code(&check.call),
        escape(&headline(check))
    );
    let mut d = String::new();
    if outcome.table.is_some() {
        chat::push_line(&mut d, &card_place(outcome), MAX_DESCRIPTION_CHARS);
    }
    for (label, value) in [
        ("*Who*", Some(check.who.clone())),
        ("*What*", Some(check.target.clone())),
        ("*Before*", check.before.clone()),
        ("*After*", check.after.clone()),
    ] {
        if let Some(v) = value {
            chat::push_line(
                &mut d,
                &format!("{label} {}", escape(&v)),
                MAX_DESCRIPTION_CHARS,
            );
        }
    }
    let impacts: Vec<String> = check
        .impacts
        .iter()
        .map(|i| {
            escape(&format!(
                "({}) {}{}",
                i.severity.as_str(),
                i.table
                    .as_deref()
                    .map(|t| format!("{t}: "))
                    .unwrap_or_default(),
                i.what
            ))
        })
        .collect();
    finish_card(
        outcome,
        severity,
        subject,
        title,
        d,
        ("*What it means*", &impacts, "nothing for the policy"),
        &human_todo(check),
        CardKind {
            event_type: CARD_EVENT_TYPE,
            keyword: "change",
            context: ("change", &check.call),
        },
    )
}

/// The whole alert about a change.
pub fn compose(outcome: &GuardOutcome, check: &ChangeCheck, severity: Severity) -> AlertMessage {
    let subject = subject(outcome, check, severity);
    let chat = card(outcome, check, severity, &subject);
    let text = text(outcome, check, severity);
    assemble(
        outcome,
        severity,
        (subject, text),
        human_todo(check),
        (CHANGE_ATTRIBUTE, check.call.as_str()),
        chat,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, TableRef};
    use crate::outcome::ChangeImpact;

    fn check() -> (GuardOutcome, ChangeCheck) {
        let mut o = GuardOutcome::new(
            "e1",
            "DeleteRecoveryPoint",
            Actor::default(),
            None,
            "enforce",
        );
        o.table =
            TableRef::parse_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "t").ok();
        let c = ChangeCheck {
            call: "DeleteRecoveryPoint".into(),
            event_source: "backup.amazonaws.com".into(),
            at: None,
            who: "arn:aws:sts::123456789012:assumed-role/Admin/alice <!channel>".into(),
            target: "recovery point P in vault V".into(),
            before: Some("status AVAILABLE".into()),
            after: Some("deleted".into()),
            impacts: vec![ChangeImpact {
                table: Some("orders".into()),
                table_arn: None,
                severity: Severity::Critical,
                what: "It was the only recovery point of slot 2026-11-15T00:00:00Z".into(),
            }],
            way_back: vec!["aws backup put-backup-vault-access-policy ...".into()],
            severity: Severity::Critical,
            failed: None,
        };
        (o, c)
    }

    #[test]
    fn the_alert_says_who_what_before_after_meaning_and_way_back() {
        let (mut o, c) = check();
        o.change = Some(c.clone());
        let m = compose(&o, &c, Severity::Critical);
        assert!(
            m.subject
                .starts_with("CRITICAL backup-guard orders: DeleteRecoveryPoint, data at risk"),
            "{}",
            m.subject
        );
        assert!(m.subject.chars().count() <= MAX_SUBJECT_CHARS);
        for part in [
            "Who: arn:aws:sts::123456789012:assumed-role/Admin/alice",
            "Before: status AVAILABLE",
            "After: deleted",
            "[CRITICAL] table orders: It was the only recovery point",
            "aws backup put-backup-vault-access-policy",
        ] {
            assert!(m.text.contains(part), "{part:?} missing in\n{}", m.text);
        }
        assert!(m.attributes.iter().any(|(k, v)| k == CHANGE_ATTRIBUTE
            && *v == awsio::publisher::AttributeValue::String("DeleteRecoveryPoint".into())));
        let card = m.chat.expect("a card").to_json();
        let d = card["content"]["description"].as_str().unwrap_or_default();
        assert!(d.contains("*Who*") && !d.contains("<!channel>"), "{d}");
        assert_eq!(card["metadata"]["eventType"], CARD_EVENT_TYPE);
    }
}
