//! Composing the alert for one event (pure): subject, email-readable text, JSON document and
//! filterable message attributes.

use awsio::publisher::{AlertMessage, AttributeValue, MAX_SUBJECT_CHARS};
use policy::findings::{FindingCode, Severity};

use crate::outcome::{Action, GuardOutcome};

/// Message attribute names (SNS filter policies match on these).
pub mod attributes {
    /// The alert's severity: `info`, `warning`, `high` or `critical`.
    pub const SEVERITY: &str = "severity";
    /// `String.Array` of finding codes (before and after the actions).
    pub const FINDING_CODES: &str = "finding_codes";
    /// The name of the table the alert is about.
    pub const TABLE: &str = "table";
    /// The 12-digit id of the account the table is in.
    pub const ACCOUNT: &str = "account";
    /// The AWS region the table is in (e.g. `eu-west-1`).
    pub const REGION: &str = "region";
    /// The guard's mode when it handled the event: `enforce` or `report-only`.
    pub const MODE: &str = "mode";
    /// The restore job a restore-test alert is about.
    pub const RESTORE_JOB: &str = "restore_job";
}

/// A few words for the subject: what happened.
fn headline(outcome: &GuardOutcome) -> String {
    if let Some(a) = outcome.actions.first() {
        return match a {
            Action::TagAdded {
                coverage_confirmed: true,
                ..
            } => "backup tag added, now protected".to_string(),
            Action::TagAdded { .. } => "backup tag added, still not protected".to_string(),
            Action::WouldAddTag { .. } => "not protected (report-only: tag not added)".to_string(),
            Action::TagNotOverwritten { key, .. } => format!("not protected, {key} tag conflicts"),
            Action::TagFailed { .. } => "not protected, tagging failed".to_string(),
            Action::ValidationRecorded { status, .. } => format!("restore validation {status}"),
            Action::ValidationNotRecorded { .. } => "restore validation not recorded".to_string(),
        };
    }
    let codes: Vec<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.code.breaks_compliance() || f.code == FindingCode::Unverifiable)
        .map(|f| f.code.as_str())
        .collect();
    if codes.is_empty() {
        outcome
            .verdict
            .map(|v| v.as_str().to_string())
            .unwrap_or_else(|| "checked".to_string())
    } else {
        let mut c = codes;
        c.dedup();
        c.join(", ")
    }
}

/// The subject: `BACKUP-GUARD HIGH: <table>: <what> (<account>/<region>)`, at most 100
/// characters (the table name is shortened first).
pub fn subject(outcome: &GuardOutcome, severity: Severity) -> String {
    let (table, account, region) = match &outcome.table {
        Some(t) => (t.name.as_str(), t.account.as_str(), t.region.as_str()),
        None => ("?", "?", "?"),
    };
    let sev = severity.as_str().to_ascii_uppercase();
    let what = headline(outcome);
    let build =
        |name: &str, what: &str| format!("{sev} backup-guard {name}: {what} ({account}/{region})");
    let full = build(table, &what);
    if full.len() <= MAX_SUBJECT_CHARS {
        return full;
    }
    // Shorten the table name, keeping its start (names are ASCII).
    let fixed = build("", &what).len() + 3;
    if fixed < MAX_SUBJECT_CHARS {
        let keep = MAX_SUBJECT_CHARS - fixed;
        let short = format!("{}...", &table[..keep.min(table.len())]);
        return build(&short, &what);
    }
    let mut s = build("", "");
    s.truncate(MAX_SUBJECT_CHARS);
    s
}

/// The email-readable body: what was found, what was done, what a human must do.
pub fn text(outcome: &GuardOutcome, severity: Severity) -> String {
    let mut out = String::new();
    let (name, arn, account, region) = match &outcome.table {
        Some(t) => (
            t.name.as_str(),
            t.arn.as_str(),
            t.account.as_str(),
            t.region.as_str(),
        ),
        None => ("?", "?", "?", "?"),
    };
    out.push_str(&format!(
        "backup-guard checked DynamoDB table {name} in account {account}, region {region}.\n\n"
    ));
    out.push_str(&format!("Severity: {severity}\n"));
    out.push_str(&format!(
        "Event: {} by {}{} (CloudTrail event {})\n",
        outcome.event_name,
        outcome.actor.arn.as_deref().unwrap_or("an unknown caller"),
        outcome
            .actor
            .invoked_by
            .as_deref()
            .map(|s| format!(" via {s}"))
            .unwrap_or_default(),
        outcome.event_id
    ));
    out.push_str(&format!("Mode: {}\n", outcome.mode));
    if let Some(v) = outcome.verdict {
        match outcome.initial_verdict {
            Some(i) if i != v => out.push_str(&format!("Verdict: {v} (was {i})\n")),
            _ => out.push_str(&format!("Verdict: {v}\n")),
        }
    }

    out.push_str("\nWhat was found:\n");
    if outcome.initial_findings.is_empty() {
        out.push_str("  - nothing wrong\n");
    }
    for f in &outcome.initial_findings {
        out.push_str(&format!(
            "  - [{}] {}: {}\n",
            f.severity.as_str().to_ascii_uppercase(),
            f.code,
            f.message
        ));
    }

    out.push_str("\nWhat was done:\n");
    if outcome.actions.is_empty() {
        out.push_str("  - nothing was changed\n");
    }
    for a in &outcome.actions {
        out.push_str(&format!("  - {}\n", action_line(outcome, a)));
    }

    out.push_str("\nWhat a human must do:\n");
    let todo = human_todo(outcome);
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

/// One line of "What was done" for an action of the outcome (also used by the restore
/// alert).
pub fn action_text(outcome: &GuardOutcome, a: &Action) -> String {
    action_line(outcome, a)
}

/// One line of "What was done" for an action of the outcome.
fn action_line(outcome: &GuardOutcome, a: &Action) -> String {
    match a {
        Action::TagAdded {
            key,
            value,
            coverage_confirmed,
            ..
        } => {
            if *coverage_confirmed {
                format!(
                    "added tag {key}={value}; re-checked: the table is now covered by a conforming backup plan{}",
                    covered_by(outcome)
                )
            } else {
                format!("added tag {key}={value}, but the table is still not protected")
            }
        }
        Action::WouldAddTag { key, value } => format!(
            "nothing was changed (mode report-only); in enforce mode the guard would have added tag {key}={value}"
        ),
        Action::TagNotOverwritten {
            key,
            wanted,
            existing,
        } => format!(
            "did not add tag {key}={wanted}: the table already has {key}={existing}, and the guard never overwrites a tag someone set"
        ),
        Action::TagFailed { key, value, error } => {
            format!("tried to add tag {key}={value} and failed: {error}")
        }
        Action::ValidationRecorded {
            restore_job_id,
            status,
            ..
        } => format!("reported validation {status} for restore job {restore_job_id}"),
        Action::ValidationNotRecorded {
            restore_job_id,
            status,
            error,
        } => format!(
            "tried to report validation {status} for restore job {restore_job_id} and failed: {error}"
        ),
    }
}

fn covered_by(outcome: &GuardOutcome) -> String {
    match &outcome.coverage {
        Some(policy::evaluate::Coverage::Protected { by, .. }) => by
            .first()
            .map(|c| {
                format!(
                    " (plan {}, selection {}, rule {})",
                    c.plan_name, c.selection_name, c.rule_name
                )
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The remedies of the findings that are still true, plus what the actions leave to a human.
pub fn human_todo(outcome: &GuardOutcome) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    for a in &outcome.actions {
        match a {
            Action::WouldAddTag { key, value } => todo.push(format!(
                "add tag {key}={value} to the table (or switch the guard to enforce mode)"
            )),
            Action::TagNotOverwritten {
                key,
                wanted,
                existing,
            } => todo.push(format!(
                "decide whether tag {key}={existing} is right; for the backup policy it must be {key}={wanted} (or exempt the table with a reason)"
            )),
            Action::TagFailed { key, value, .. } => {
                todo.push(format!("add tag {key}={value} to the table"))
            }
            Action::TagAdded { key, value, .. } if outcome.actor.is_cloudformation() => {
                todo.push(format!(
                    "add tag {key}={value} to the table in its CloudFormation template, so a stack update does not remove it"
                ))
            }
            Action::TagAdded { .. } | Action::ValidationRecorded { .. } => {}
            Action::ValidationNotRecorded { .. } => todo.push(
                "report the validation of the restore job yourself (aws backup put-restore-validation-result) before its validation window ends".to_string(),
            ),
        }
    }
    for f in &outcome.findings {
        if !(f.code.breaks_compliance() || f.code == FindingCode::Unverifiable) {
            continue;
        }
        // A remediation the guard reported already says what to do about coverage.
        if f.code == FindingCode::NotCovered
            && outcome
                .actions
                .iter()
                .any(|a| !matches!(a, Action::TagAdded { .. }))
        {
            continue;
        }
        if let Some(r) = &f.remedy {
            let line = if outcome.actor.is_cloudformation() && f.code == FindingCode::MissingTag {
                format!(
                    "{r} Do it in the table's CloudFormation template, not by hand: the stack owns the table."
                )
            } else {
                r.clone()
            };
            if !todo.contains(&line) {
                todo.push(line);
            }
        }
    }
    todo
}

/// The whole alert for an outcome: subject, text body, JSON document (the outcome itself)
/// and the message attributes that SNS filter policies match on.
pub fn compose(outcome: &GuardOutcome, severity: Severity) -> AlertMessage {
    if let Some(check) = &outcome.restore {
        return crate::restore_alert::compose(outcome, check, severity);
    }
    if let Some(check) = &outcome.backup_job {
        return crate::backup_job_alert::compose(outcome, check, severity);
    }
    let subject = subject(outcome, severity);
    let text = text(outcome, severity);
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
    let mut attributes = vec![(
        attributes::SEVERITY.to_string(),
        AttributeValue::String(severity.as_str().to_string()),
    )];
    if !codes.is_empty() {
        attributes.push((
            attributes::FINDING_CODES.to_string(),
            AttributeValue::StringArray(codes),
        ));
    }
    if let Some(t) = &outcome.table {
        attributes.push((
            attributes::TABLE.to_string(),
            AttributeValue::String(t.name.clone()),
        ));
        attributes.push((
            attributes::ACCOUNT.to_string(),
            AttributeValue::String(t.account.clone()),
        ));
        attributes.push((
            attributes::REGION.to_string(),
            AttributeValue::String(t.region.clone()),
        ));
    }
    attributes.push((
        attributes::MODE.to_string(),
        AttributeValue::String(outcome.mode.clone()),
    ));
    AlertMessage {
        subject,
        text,
        json,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, TableRef};
    use policy::findings::Finding;

    fn outcome(name: &str) -> GuardOutcome {
        let arn = format!("arn:aws:dynamodb:eu-west-1:123456789012:table/{name}");
        let table = TableRef::parse_arn(&arn, "t").unwrap();
        let mut o = GuardOutcome::new(
            "e1",
            "CreateTable",
            Actor::default(),
            Some(table),
            "enforce",
        );
        o.initial_findings = vec![Finding::new(
            FindingCode::NotCovered,
            &arn,
            name,
            None,
            "not covered",
            Some("Tag it.".into()),
        )];
        o.findings = o.initial_findings.clone();
        o
    }

    #[test]
    fn subject_fits_sns_limit_and_names_table_and_place() {
        let o = outcome("orders");
        let s = subject(&o, Severity::Critical);
        assert_eq!(
            s,
            "CRITICAL backup-guard orders: NOT_COVERED (123456789012/eu-west-1)"
        );
        let long = "t".repeat(255);
        let s = subject(&outcome(&long), Severity::Critical);
        assert!(s.len() <= MAX_SUBJECT_CHARS, "{} chars", s.len());
        assert!(s.contains("(123456789012/eu-west-1)"), "{s}");
        assert!(s.contains("ttt..."), "{s}");
    }

    #[test]
    fn text_has_the_three_sections_and_the_remedy() {
        let mut o = outcome("orders");
        o.actions.push(Action::TagFailed {
            key: "backup-policy".into(),
            value: "v".into(),
            error: "AccessDenied".into(),
        });
        let t = text(&o, Severity::High);
        for part in [
            "What was found:",
            "NOT_COVERED",
            "What was done:",
            "AccessDenied",
            "What a human must do:",
            "add tag backup-policy=v",
        ] {
            assert!(t.contains(part), "missing {part:?} in\n{t}");
        }
    }

    #[test]
    fn attributes_carry_filterable_fields() {
        let o = outcome("orders");
        let m = compose(&o, Severity::Critical);
        let get = |n: &str| {
            m.attributes
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get("severity"),
            Some(AttributeValue::String("critical".into()))
        );
        assert_eq!(
            get("finding_codes"),
            Some(AttributeValue::StringArray(vec!["NOT_COVERED".into()]))
        );
        assert_eq!(get("table"), Some(AttributeValue::String("orders".into())));
        assert_eq!(
            get("account"),
            Some(AttributeValue::String("123456789012".into()))
        );
        assert_eq!(
            get("region"),
            Some(AttributeValue::String("eu-west-1".into()))
        );
        assert_eq!(get("mode"), Some(AttributeValue::String("enforce".into())));
        assert_eq!(m.json["outcome"]["event_id"], "e1");
    }
}
