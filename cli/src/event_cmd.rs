//! `backup-guard check-event FILE [--live]`: what table-guard would do with an event file.
//! Offline it runs only the guard's own parser (`table_guard::parse_event`); `--live` runs the
//! guard's handler in report-only mode against the account.

use std::path::Path;

use serde_json::{Value, json};
use table_guard::ParsedEvent;

use crate::error::{CliError, Verdict, read_input};
use crate::output::{Format, Paint, print_json};

/// Parses the event file with the guard's parser; errors name the file and the JSON field.
pub fn parse(file: &Path, text: &str) -> Result<ParsedEvent, CliError> {
    table_guard::parse_event_str(text)
        .map_err(|e| CliError::usage(format!("event {}: {e}", file.display())))
}

/// The sentence explaining an `evaluate` outcome.
pub fn evaluate_reason(p: &ParsedEvent) -> String {
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
pub fn offline_json(p: &ParsedEvent) -> Value {
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

/// Runs the command offline.
pub fn run_offline(file: &Path, format: Format, paint: Paint) -> Result<Verdict, CliError> {
    let text = read_input("event", file)?;
    let parsed = parse(file, &text)?;
    let doc = offline_json(&parsed);
    match format {
        Format::Json => print_json(&doc)?,
        Format::Text => print_text(&doc, paint),
    }
    Ok(Verdict::Ok)
}

/// Text rendering of the offline document.
pub fn print_text(doc: &Value, paint: Paint) {
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
