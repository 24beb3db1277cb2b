//! `backup-guard check-event FILE [--live]`: what table-guard would do with an event file.
//! Offline it runs only the guard's own parser (`table_guard::parse_event`); `--live` runs the
//! guard's handler in report-only mode against the account.

use std::path::Path;

use serde_json::{Value, json};
use table_guard::ParsedEvent;

use crate::error::{CliError, ExitStatus, read_input};
use crate::output::{Format, Paint, print_json};

/// Parses the event file with the guard's parser; errors name the file and the JSON field.
pub(crate) fn parse(file: &Path, text: &str) -> Result<ParsedEvent, CliError> {
    table_guard::parse_event_str(text)
        .map_err(|e| CliError::usage(format!("event {}: {e}", file.display())))
}

/// The sentence explaining an `evaluate` (or `replicas`) outcome.
pub(crate) fn evaluate_reason(p: &ParsedEvent) -> String {
    if let table_guard::Disposition::Replicas(r) = &p.disposition {
        let regions: Vec<&str> = r.replicas.iter().map(|t| t.region.as_str()).collect();
        return format!(
            "UpdateTable on table {} created replicas in {}: a replica in the function's own \
             region is checked like a new table; one in another region gets a WARNING alert \
             (that region is not watched by the stack)",
            r.source.name,
            regions.join(", ")
        );
    }
    match p.table() {
        Some(t) => format!(
            "{} on table {}: the guard checks the table's coverage by a conforming backup \
             plan, its required tags and its exemption",
            p.event_name.as_str(),
            t.name
        ),
        None => String::new(),
    }
}

/// The offline JSON document (keys fixed by the issue).
pub(crate) fn offline_json(p: &ParsedEvent) -> Value {
    let table = p.table();
    let reason = match p.ignore_reason() {
        Some(r) => r.to_string(),
        None => evaluate_reason(p),
    };
    json!({
        "event_id": p.event_id,
        "event_name": p.event_name.as_str(),
        "table_arn": table.map(|t| t.arn.clone()),
        "table_name": table.map(|t| t.name.clone()),
        "account": table.map(|t| t.account.clone()).or_else(|| p.account.clone()),
        "region": table.map(|t| t.region.clone()).or_else(|| p.region.clone()),
        "outcome": p.outcome_word(),
        "reason": reason,
    })
}

/// The offline document of an AWS Backup or KMS event (the same keys; `outcome` names what
/// the guard does: `validate`, `alert`, `judge-change`, `note-failed-call`, `ignore`).
pub(crate) fn other_json(e: &table_guard::event::GuardEvent) -> Value {
    use table_guard::event::{BackupJobAction, GuardEvent, RestoreAction};
    let (id, name, account, region, table, outcome, reason) = match e {
        GuardEvent::Table(p) => return offline_json(p),
        GuardEvent::RestoreJob(r) => (
            r.event_id.clone(),
            "RestoreJobStateChange".to_string(),
            r.account.clone(),
            r.region.clone(),
            r.created_resource_arn.clone(),
            match &r.action {
                RestoreAction::Validate => "validate",
                RestoreAction::ReportFailure => "alert",
                RestoreAction::Ignored { .. } => "ignore",
            },
            format!("restore job {} is {}", r.restore_job_id, r.status),
        ),
        GuardEvent::BackupJob(b) => (
            b.event_id.clone(),
            "BackupJobStateChange".to_string(),
            b.account.clone(),
            b.region.clone(),
            match &b.action {
                BackupJobAction::Ended(j) => Some(j.table.arn.clone()),
                BackupJobAction::Ignored { .. } => None,
            },
            match &b.action {
                BackupJobAction::Ended(_) => "alert",
                BackupJobAction::Ignored { .. } => "ignore",
            },
            format!("backup job {}", b.backup_job_id),
        ),
        GuardEvent::Change(c) => (
            c.event_id.clone(),
            c.name.as_str().to_string(),
            c.account.clone(),
            c.region.clone(),
            None,
            if c.failed.is_some() {
                "note-failed-call"
            } else {
                "judge-change"
            },
            match &c.failed {
                Some(f) => format!(
                    "the call by {} failed ({}): nothing changed; noted, not alerted",
                    c.caller.describe(),
                    f.code
                ),
                None => format!(
                    "{} by {}: the guard re-reads what changed and alerts with what it means for which tables and the way back",
                    c.name,
                    c.caller.describe()
                ),
            },
        ),
    };
    json!({
        "event_id": id,
        "event_name": name,
        "table_arn": table,
        "table_name": table.as_deref().and_then(|a| a.rsplit('/').next()),
        "account": account,
        "region": region,
        "outcome": outcome,
        "reason": reason,
    })
}

/// Parses the event file offline and prints what the table guard would make of it.
pub(crate) fn run_offline(
    file: &Path,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let text = read_input("event", file)?;
    let doc = match table_guard::event::parse_guard_event_str(&text) {
        Ok(table_guard::event::GuardEvent::Table(parsed)) => offline_json(&parsed),
        Ok(other) => other_json(&other),
        Err(_) => offline_json(&parse(file, &text)?),
    };
    match format {
        Format::Json => print_json(&doc)?,
        Format::Text => print_text(&doc, paint),
    }
    Ok(ExitStatus::Ok)
}

/// Text rendering of the offline document.
pub(crate) fn print_text(doc: &Value, paint: Paint) {
    let s = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let outcome = s("outcome");
    let outcome_painted = if outcome == "evaluate" {
        paint.green(&outcome)
    } else {
        paint.yellow(&outcome)
    };
    println!(
        "event    {} ({})",
        paint.bold(&s("event_name")),
        s("event_id")
    );
    println!("table    {}", s("table_name"));
    println!("arn      {}", s("table_arn"));
    println!("account  {}   region {}", s("account"), s("region"));
    println!("outcome  {outcome_painted}");
    println!("reason   {}", s("reason"));
}

/// Runs the guard's handler (`table_guard::run_parsed`) in report-only mode against the
/// account: the table's current tags and the account's plans and selections are read, the
/// policy evaluates them, and the alert the guard sends in report-only mode goes to
/// `BG_TOPIC_ARN`. Nothing is tagged. The event id is namespaced (`backup-guard-cli/…`) so
/// the ledger entry this run writes in `BG_STATE_TABLE` never makes the deployed guard treat
/// the real event as a duplicate.
pub(crate) async fn run_live(
    file: &Path,
    format: Format,
    fail_on: crate::output::FailOn,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let text = read_input("event", file)?;
    let mut parsed = parse(file, &text)?;
    let mut policy = crate::error::policy_from_env()?;
    policy.mode = policy::Mode::ReportOnly;
    let vars: Vec<(String, String)> = ["BG_TOPIC_ARN", "BG_STATE_TABLE", "BG_NOTIFY_COMPLIANT"]
        .iter()
        .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
        .collect();
    let settings = table_guard::Settings::from_vars(&vars).map_err(|e| {
        CliError::usage(format!(
            "check-event --live needs the guard's settings: {e} (the stack's alert topic and state table)"
        ))
    })?;
    let region = parsed.table().map(|t| t.region.clone());
    let ctx = awsio::AwsContext::from_env(region.as_deref()).await;
    parsed.event_id = format!(
        "backup-guard-cli/{}/{}",
        jiff::Timestamp::now().as_nanosecond(),
        parsed.event_id
    );
    let deps = table_guard::Deps::new(ctx, policy, settings);
    // No Lambda deadline here: the guard's default budget (its function timeout) bounds it.
    let budget = awsio::Budget::from_now(deps.settings.default_budget);
    let outcome = table_guard::run_parsed(parsed.clone(), &deps, budget)
        .await
        .map_err(|e| CliError::runtime(format!("table-guard handler: {e}")))?;
    let mut doc = offline_json(&parsed);
    let findings = &outcome.findings;
    let failing = findings.iter().any(|f| fail_on.fails(f.severity));
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "verdict".into(),
            json!(outcome.verdict.map(|v| v.as_str().to_string())),
        );
        obj.insert(
            "findings".into(),
            serde_json::to_value(findings).unwrap_or(Value::Null),
        );
        obj.insert(
            "guard_outcome".into(),
            serde_json::to_value(&outcome).unwrap_or(Value::Null),
        );
    }
    match format {
        Format::Json => print_json(&doc)?,
        Format::Text => {
            print_text(&doc, paint);
            if let Some(v) = outcome.verdict {
                println!("verdict  {}", paint.bold(v.as_str()));
            }
            for a in &outcome.actions {
                println!("action   {}", serde_json::to_string(a).unwrap_or_default());
            }
            for f in findings {
                println!(
                    "  {:<8} {}: {}",
                    paint.severity(f.severity),
                    paint.bold(f.code.as_str()),
                    f.message
                );
            }
            if let Some(id) = outcome.alert_message_id() {
                println!("alert    sent (report-only), SNS message id {id}");
            }
        }
    }
    Ok(if failing {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
