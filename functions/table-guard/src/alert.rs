//! Composing the alert for one event (pure): subject, email-readable text, JSON document,
//! chat card and filterable message attributes.

use std::collections::BTreeMap;

use awsio::chat::{self, ChatCard, MAX_DESCRIPTION_CHARS, code, escape};
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
    match outcome.unwatched_replicas.as_slice() {
        [] => {}
        [one] => return format!("replica in unwatched region {}", one.region),
        many => return format!("replicas in {} unwatched regions", many.len()),
    }
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

/// The `eventType` of a table alert's chat card.
pub const CARD_EVENT_TYPE: &str = "backup-guard.table-guard";

/// Characters of a card's description kept for the sections after "What was found" (what
/// was done, notes), so many findings cannot crowd them out.
pub const CARD_RESERVE_CHARS: usize = 2000;

/// Adds one bulleted section to a card's description, which stays within `limit`
/// characters: its heading, then one whole line per item while they fit, then how many did
/// not (the email and the JSON list them all). False if even the heading did not fit.
pub fn card_section(
    out: &mut String,
    heading: &str,
    items: &[String],
    empty: &str,
    limit: usize,
) -> bool {
    if !chat::push_line(out, heading, limit) {
        return false;
    }
    if items.is_empty() {
        return chat::push_line(out, &format!("• {empty}"), limit);
    }
    for (i, item) in items.iter().enumerate() {
        let rest = items.len() - i;
        // Keep room for the line that says how many more there are.
        let room = if rest > 1 {
            limit.saturating_sub(60)
        } else {
            limit
        };
        if !chat::push_line(out, &format!("• {item}"), room) {
            return chat::push_line(
                out,
                &format!("• … and {rest} more (see the email or the JSON)"),
                limit,
            );
        }
    }
    true
}

/// The card's head line: the table (as code), its account and region, and the mode.
pub fn card_place(outcome: &GuardOutcome) -> String {
    match &outcome.table {
        Some(t) => format!(
            "*Table* {} in account {} / {} · mode {}",
            code(&t.name),
            code(&t.account),
            code(&t.region),
            code(&outcome.mode)
        ),
        None => format!("*Table* unknown · mode {}", code(&outcome.mode)),
    }
}

/// What every card about a table shares: id, keywords (severity, finding codes, mode),
/// thread (the table's ARN, so a table's alerts form one thread), summary (the subject),
/// the table's ARN and the plain facts of the event; title, description and next steps
/// are the caller's.
pub fn card_frame(outcome: &GuardOutcome, severity: Severity, subject: &str) -> ChatCard {
    let mut keywords = vec![severity.as_str().to_string()];
    keywords.extend(
        outcome
            .finding_codes()
            .iter()
            .map(|c| c.as_str().to_string()),
    );
    keywords.push(outcome.mode.clone());
    let mut context = BTreeMap::new();
    context.insert("event_id".to_string(), outcome.event_id.clone());
    context.insert("event_name".to_string(), outcome.event_name.clone());
    context.insert("mode".to_string(), outcome.mode.clone());
    let mut related = Vec::new();
    if let Some(t) = &outcome.table {
        context.insert("account".to_string(), t.account.clone());
        context.insert("region".to_string(), t.region.clone());
        context.insert("table".to_string(), t.name.clone());
        related.push(t.arn.clone());
    }
    ChatCard {
        id: outcome.event_id.clone(),
        keywords,
        thread_id: outcome.table.as_ref().map(|t| t.arn.clone()),
        summary: subject.to_string(),
        event_type: CARD_EVENT_TYPE.to_string(),
        related_resources: related,
        additional_context: context,
        ..ChatCard::default()
    }
}

/// The chat card of a table alert: `:emoji: SEVERITY `table`: what happened`, then where,
/// which event, the verdict, what was found and what was done; the next steps are
/// [`human_todo`]. Everything taken from the event, the table or AWS is escaped.
pub fn card(outcome: &GuardOutcome, severity: Severity, subject: &str) -> ChatCard {
    let table = outcome.table.as_ref().map_or("?", |t| t.name.as_str());
    let title = format!(
        "{} {} {}: {}",
        chat::severity_emoji(severity.as_str()),
        severity.as_str().to_ascii_uppercase(),
        code(table),
        escape(&headline(outcome))
    );
    let mut d = String::new();
    chat::push_line(&mut d, &card_place(outcome), MAX_DESCRIPTION_CHARS);
    let via = outcome
        .actor
        .invoked_by
        .as_deref()
        .map(|s| format!(" via {}", code(s)))
        .unwrap_or_default();
    chat::push_line(
        &mut d,
        &format!(
            "*Event* {} by {}{via}",
            code(&outcome.event_name),
            code(outcome.actor.arn.as_deref().unwrap_or("an unknown caller")),
        ),
        MAX_DESCRIPTION_CHARS,
    );
    if let Some(v) = outcome.verdict {
        let line = match outcome.initial_verdict {
            Some(i) if i != v => {
                format!("*Verdict* {} (was {})", code(v.as_str()), code(i.as_str()))
            }
            _ => format!("*Verdict* {}", code(v.as_str())),
        };
        chat::push_line(&mut d, &line, MAX_DESCRIPTION_CHARS);
    }
    let found: Vec<String> = outcome
        .initial_findings
        .iter()
        .map(|f| {
            format!(
                "{} ({}) {}",
                code(f.code.as_str()),
                f.severity.as_str(),
                escape(&f.message)
            )
        })
        .collect();
    let done: Vec<String> = outcome
        .actions
        .iter()
        .map(|a| escape(&action_line(outcome, a)))
        .collect();
    let notes: Vec<String> = outcome.notes.iter().map(|n| escape(n)).collect();
    let before = MAX_DESCRIPTION_CHARS - CARD_RESERVE_CHARS;
    let _ = card_section(&mut d, "*What was found*", &found, "nothing wrong", before)
        && card_section(
            &mut d,
            "*What was done*",
            &done,
            "nothing was changed",
            MAX_DESCRIPTION_CHARS,
        )
        && (notes.is_empty() || card_section(&mut d, "*Notes*", &notes, "", MAX_DESCRIPTION_CHARS));
    ChatCard {
        title,
        description: d.trim_end().to_string(),
        next_steps: human_todo(outcome).iter().map(|t| escape(t)).collect(),
        ..card_frame(outcome, severity, subject)
    }
}

/// What every table-guard alert shares: the JSON envelope (`kind`, severity, subject, finding
/// codes, what a human must do, the outcome) and the message attributes SNS filter policies
/// match on, in this order: severity, finding codes (if any), table, account and region (if
/// the table is known), `extra` (the restore or backup job), mode.
pub fn envelope(
    outcome: &GuardOutcome,
    severity: Severity,
    subject: &str,
    human_todo: Vec<String>,
    extra: Option<(&str, &str)>,
) -> (serde_json::Value, Vec<(String, AttributeValue)>) {
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
        "human_todo": human_todo,
        "outcome": outcome,
    });
    let string =
        |name: &str, value: &str| (name.to_string(), AttributeValue::String(value.to_string()));
    let mut attrs = vec![string(attributes::SEVERITY, severity.as_str())];
    if !codes.is_empty() {
        attrs.push((
            attributes::FINDING_CODES.to_string(),
            AttributeValue::StringArray(codes),
        ));
    }
    if let Some(t) = &outcome.table {
        attrs.push(string(attributes::TABLE, &t.name));
        attrs.push(string(attributes::ACCOUNT, &t.account));
        attrs.push(string(attributes::REGION, &t.region));
    }
    if let Some((name, value)) = extra {
        attrs.push(string(name, value));
    }
    attrs.push(string(attributes::MODE, &outcome.mode));
    (json, attrs)
}

/// The parts of a kind of alert's chat card besides its title and first lines: the
/// `metadata.eventType`, the keyword added after the severity, and the one
/// `additionalContext` entry (the job or call the alert is about).
pub struct CardKind<'a> {
    /// `metadata.eventType`.
    pub event_type: &'a str,
    /// The keyword (`backup-job`, `change`).
    pub keyword: &'a str,
    /// The `additionalContext` entry.
    pub context: (&'a str, &'a str),
}

/// Finishes a job or change card: the found section (`heading`, `items`, `empty`) within the
/// description's reserve, the notes, the next steps (`todo`, escaped) and `kind`'s metadata.
#[allow(clippy::too_many_arguments)]
pub fn finish_card(
    outcome: &GuardOutcome,
    severity: Severity,
    subject: &str,
    title: String,
    mut d: String,
    (heading, items, empty): (&str, &[String], &str),
    todo: &[String],
    kind: CardKind<'_>,
) -> ChatCard {
    let notes: Vec<String> = outcome.notes.iter().map(|n| escape(n)).collect();
    let _ = card_section(
        &mut d,
        heading,
        items,
        empty,
        MAX_DESCRIPTION_CHARS - CARD_RESERVE_CHARS,
    ) && (notes.is_empty()
        || card_section(&mut d, "*Notes*", &notes, "", MAX_DESCRIPTION_CHARS));
    let mut card = ChatCard {
        title,
        description: d.trim_end().to_string(),
        next_steps: todo.iter().map(|t| escape(t)).collect(),
        ..card_frame(outcome, severity, subject)
    };
    card.event_type = kind.event_type.to_string();
    card.keywords.insert(1, kind.keyword.to_string());
    card.additional_context
        .insert(kind.context.0.to_string(), kind.context.1.to_string());
    card
}

/// An alert from its parts: the envelope ([`envelope`]) of the outcome with `todo` and the
/// `extra` attribute, the subject, the text and the card.
pub fn assemble(
    outcome: &GuardOutcome,
    severity: Severity,
    (subject, text): (String, String),
    todo: Vec<String>,
    extra: (&str, &str),
    chat: ChatCard,
) -> AlertMessage {
    let (json, attributes) = envelope(outcome, severity, &subject, todo, Some(extra));
    AlertMessage {
        subject,
        text,
        json,
        attributes,
        chat: Some(chat),
    }
}

/// The whole alert for an outcome: subject, text body, JSON document (the outcome itself),
/// chat card and the message attributes that SNS filter policies match on.
pub fn compose(outcome: &GuardOutcome, severity: Severity) -> AlertMessage {
    if let Some(check) = &outcome.restore {
        return crate::restore_alert::compose(outcome, check, severity);
    }
    if let Some(check) = &outcome.backup_job {
        return crate::backup_job_alert::compose(outcome, check, severity);
    }
    if let Some(check) = &outcome.change {
        return crate::change_alert::compose(outcome, check, severity);
    }
    let subject = subject(outcome, severity);
    let text = text(outcome, severity);
    let (json, attributes) = envelope(outcome, severity, &subject, human_todo(outcome), None);
    let card = card(outcome, severity, &subject);
    AlertMessage {
        subject,
        text,
        json,
        attributes,
        chat: Some(card),
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
    #[test]
    fn the_card_says_what_the_email_says_with_the_required_fields() {
        let mut o = outcome("orders");
        o.actions.push(Action::TagFailed {
            key: "backup-policy".into(),
            value: "v".into(),
            error: "AccessDenied".into(),
        });
        let m = compose(&o, Severity::Critical);
        let card = m.chat.clone().expect("a table alert has a card");
        let j = card.to_json();
        assert_eq!(j["version"], "1.0");
        assert_eq!(j["source"], "custom");
        assert_eq!(j["id"], "e1");
        assert_eq!(j["content"]["textType"], "client-markdown");
        assert_eq!(
            j["content"]["title"],
            ":rotating_light: CRITICAL `orders`: not protected, tagging failed"
        );
        let d = j["content"]["description"].as_str().unwrap();
        for part in [
            "*Table* `orders` in account `123456789012` / `eu-west-1` · mode `enforce`",
            "*Event* `CreateTable` by `an unknown caller`",
            "*What was found*\n• `NOT_COVERED` (critical) not covered",
            "*What was done*\n• tried to add tag backup-policy=v and failed: AccessDenied",
        ] {
            assert!(d.contains(part), "missing {part:?} in\n{d}");
        }
        let steps: Vec<String> = human_todo(&o).iter().map(|t| escape(t)).collect();
        assert_eq!(j["content"]["nextSteps"], serde_json::json!(steps));
        assert_eq!(
            j["content"]["keywords"],
            serde_json::json!(["critical", "NOT_COVERED", "enforce"])
        );
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
        assert_eq!(j["metadata"]["threadId"], arn);
        assert_eq!(j["metadata"]["relatedResources"], serde_json::json!([arn]));
        assert_eq!(j["metadata"]["summary"], m.subject);
        assert_eq!(j["metadata"]["eventType"], CARD_EVENT_TYPE);
        assert_eq!(
            j["metadata"]["additionalContext"]["account"],
            "123456789012"
        );
        // The https variant is the card; sqs is still the JSON document.
        let body: serde_json::Value =
            serde_json::from_str(&awsio::publisher::structured_body(&m).unwrap()).unwrap();
        let https: serde_json::Value =
            serde_json::from_str(body["https"].as_str().unwrap()).unwrap();
        assert_eq!(https, j);
        assert_eq!(body["sqs"], serde_json::to_string(&m.json).unwrap());
        assert_eq!(body["email"], m.text);
    }

    #[test]
    fn the_card_escapes_what_it_did_not_write() {
        let mut o = outcome("orders");
        o.initial_findings[0].message = "<!channel> @here see *this* <https://evil|link>".into();
        o.findings[0].remedy = Some("ping <@U123> and `rm -rf`".into());
        o.notes.push("note with _underscores_ & <b>".into());
        let card = card(&o, Severity::High, "s");
        let j = card.to_json();
        let all = serde_json::to_string(&j).unwrap();
        for bad in [
            "<!channel>",
            "@here",
            "*this*",
            "<https://",
            "<@U123>",
            "`rm",
            "_underscores_",
            "<b>",
        ] {
            assert!(!all.contains(bad), "{bad:?} reached the card: {all}");
        }
        assert!(all.contains("&lt;!channel&gt;"), "{all}");
    }

    #[test]
    fn a_card_with_very_many_findings_stays_within_chatbots_limits() {
        let mut o = outcome("orders");
        let f = o.initial_findings[0].clone();
        o.initial_findings = (0..2000)
            .map(|i| {
                let mut g = f.clone();
                g.message = format!("finding {i}: {}", "m".repeat(60));
                g.remedy = Some(format!("remedy {i} {}", "r".repeat(800)));
                g
            })
            .collect();
        o.findings = o.initial_findings.clone();
        let long = "t".repeat(255);
        o.table = Some(
            crate::event::TableRef::parse_arn(
                &format!("arn:aws:dynamodb:eu-west-1:123456789012:table/{long}"),
                "t",
            )
            .unwrap(),
        );
        let j = compose(&o, Severity::Critical).chat.unwrap().to_json();
        let chars = |v: &serde_json::Value| v.as_str().unwrap().chars().count();
        assert!(chars(&j["content"]["title"]) <= chat::MAX_TITLE_CHARS);
        let d = j["content"]["description"].as_str().unwrap();
        assert!(
            d.chars().count() <= MAX_DESCRIPTION_CHARS,
            "{}",
            d.chars().count()
        );
        // Whole lines only, the rest counted rather than cut, and what was done still shown.
        let lines: Vec<&str> = d.lines().collect();
        let done = lines.iter().position(|l| *l == "*What was done*").unwrap();
        assert!(
            lines[done - 1].starts_with("• … and ")
                && lines[done - 1].ends_with(" more (see the email or the JSON)"),
            "{}",
            lines[done - 1]
        );
        let listed = lines
            .iter()
            .filter(|l| l.starts_with("• `NOT_COVERED`"))
            .count();
        assert!(listed > 50, "{listed} listed");
        assert!(lines[done - 1].contains(&format!("and {} more", 2000 - listed)));
        assert_eq!(lines[done + 1], "• nothing was changed");
        let steps = j["content"]["nextSteps"].as_array().unwrap();
        assert!(steps.len() <= chat::MAX_NEXT_STEPS);
        assert!(steps.iter().all(|s| chars(s) <= chat::MAX_NEXT_STEP_CHARS));
    }

    /// The guard alert of docs/CHAT.md (docs/chat-card-guard.json) is what this code builds;
    /// `BLESS_CHAT_EXAMPLES=1` writes it again.
    #[test]
    fn the_documented_guard_card_is_current() {
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders_prod";
        let table = TableRef::parse_arn(arn, "t").unwrap();
        let actor = Actor {
            arn: Some("arn:aws:sts::123456789012:assumed-role/deployer/ci-1234".into()),
            ..Actor::default()
        };
        let mut o = GuardOutcome::new(
            "5d3e0c8a-1f2b-4c6d-9e8f-0a1b2c3d4e5f",
            "CreateTable",
            actor,
            Some(table),
            "report-only",
        );
        o.initial_verdict = Some(policy::Verdict::NonCompliant);
        o.verdict = Some(policy::Verdict::NonCompliant);
        o.initial_findings = vec![Finding::new(
            FindingCode::NotCovered,
            arn,
            "orders_prod",
            None,
            "Table orders_prod is not selected by any conforming backup plan; plan dynamodb-15-25 selects tag backup-policy=dynamodb-15-25.",
            Some("Tag the table backup-policy=dynamodb-15-25, or exempt it with a reason.".into()),
        )];
        o.findings = o.initial_findings.clone();
        o.actions.push(Action::WouldAddTag {
            key: "backup-policy".into(),
            value: "dynamodb-15-25".into(),
        });
        let card = compose(&o, Severity::Critical).chat.unwrap().to_json();
        let got = format!("{}\n", serde_json::to_string_pretty(&card).unwrap());
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/chat-card-guard.json"
        );
        if std::env::var_os("BLESS_CHAT_EXAMPLES").is_some() {
            std::fs::write(path, &got).unwrap();
        }
        let want = std::fs::read_to_string(path).unwrap_or_default();
        assert!(got == want, "{path} differs from:\n{got}");
    }
}
