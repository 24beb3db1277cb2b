//! `backup-guard check-plan FILE`: judges an AWS Backup plan document (the console/CLI JSON:
//! `{"BackupPlanName", "Rules"}` or `get-backup-plan` output) against the policy with
//! `policy::conformance` — the same rule check the verifier applies to the account's plans.

use std::path::Path;

use policy::Policy;
use policy::conformance::{PlanConformance, check_plan_document};
use serde_json::json;

use crate::error::{CliError, ExitStatus, read_input};
use crate::output::{Format, Paint, print_json};

/// Checks the plan document text.
pub(crate) fn check(text: &str, policy: &Policy) -> Result<PlanConformance, CliError> {
    check_plan_document(text, policy).map_err(|e| CliError::usage(e.to_string()))
}

/// True if nothing deviates (the plan has rules and every one conforms).
pub(crate) fn clean(pc: &PlanConformance) -> bool {
    pc.clean()
}

/// One deviation as JSON: its fields plus the human `message`.
fn deviation_json(d: &policy::conformance::Deviation) -> serde_json::Value {
    let mut v = serde_json::to_value(d).unwrap_or_else(|_| json!({}));
    if let Some(obj) = v.as_object_mut() {
        obj.insert("message".into(), json!(d.describe()));
    }
    v
}

/// The JSON report of a plan document judged against the policy.
pub(crate) fn to_json(file: &str, pc: &PlanConformance, policy: &Policy) -> serde_json::Value {
    let rules: Vec<_> = pc
        .rules
        .iter()
        .map(|r| {
            let deviations: Vec<_> = r.deviations.iter().map(deviation_json).collect();
            json!({
                "rule_name": r.rule_name,
                "rule_id": r.rule_id,
                "conforms": r.conforms(),
                "deviations": deviations,
            })
        })
        .collect();
    json!({
        "file": file,
        "plan_name": pc.plan_name,
        "conforms": clean(pc),
        "has_conforming_rule": pc.conforms(),
        "deviation_count": pc.deviation_count(),
        "deviations": pc.deviations.iter().map(deviation_json).collect::<Vec<_>>(),
        "rules": rules,
        "policy": policy,
    })
}

/// Judges a plan document against the policy and prints each rule's deviations; exits 1 if the plan
/// does not conform.
pub(crate) fn run(file: &Path, format: Format, paint: Paint) -> Result<ExitStatus, CliError> {
    let policy = crate::error::policy_from_env()?;
    let text = read_input("plan document", file)?;
    let pc =
        check(&text, &policy).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    match format {
        Format::Json => print_json(&to_json(&file.display().to_string(), &pc, &policy))?,
        Format::Text => {
            println!(
                "plan {} ({}) against the policy {} {}, windows {}/{} min, {} days{}",
                paint.bold(&pc.plan_name),
                file.display(),
                policy.schedule_expression(),
                policy.timezone(),
                policy.start_window_minutes,
                policy.completion_window_minutes,
                policy.retention_days,
                policy
                    .vault_name
                    .as_deref()
                    .map(|v| format!(", vault {v}"))
                    .unwrap_or_default()
            );
            for d in &pc.deviations {
                println!("  {} {}", paint.red("plan:"), d.describe());
            }
            for r in &pc.rules {
                if r.conforms() {
                    println!(
                        "  rule {}: {}",
                        paint.bold(&r.rule_name),
                        paint.green("conforms")
                    );
                } else {
                    println!(
                        "  rule {}: {}",
                        paint.bold(&r.rule_name),
                        paint.red(&format!("{} deviation(s)", r.deviations.len()))
                    );
                    for d in &r.deviations {
                        println!("    - {}", d.describe());
                    }
                }
            }
            if clean(&pc) {
                println!("{}", paint.green("the plan conforms to the policy"));
            } else if pc.conforms() {
                println!(
                    "{}",
                    paint.yellow(
                        "some rules deviate (the plan still protects tables through its conforming rule)"
                    )
                );
            } else {
                println!("{}", paint.red("the plan does not conform to the policy"));
            }
        }
    }
    Ok(if clean(&pc) {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
