//! `backup-guard check-plan FILE`: judges an AWS Backup plan document (the console/CLI JSON:
//! `{"BackupPlanName", "Rules"}` or `get-backup-plan` output) against the policy with
//! `policy::conformance` — the same rule check the verifier applies to the account's plans.
//!
//! A document with a top-level `plans` key is an AWS Organizations backup policy (as written,
//! with `@@assign`…, or the effective policy; `aws organizations describe-effective-policy`
//! output is unwrapped): each of its plans is judged with the same check
//! (`policy::org_policy::check_org_policy`); `--account` replaces `$account`, `--region`
//! picks the plans created there and replaces `$region`.

use std::path::Path;

use policy::Policy;
use policy::conformance::{PlanConformance, check_plan_document};
use policy::org_policy::{
    ACCOUNT_PLACEHOLDER, OrgPlanConformance, OrgPolicyError, check_org_policy, is_org_policy,
};
use serde_json::{Value, json};

use crate::error::{CliError, ExitStatus, read_input};
use crate::output::{Format, Paint, print_json};

/// `--account` / `--region`: only for a backup policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgArgs {
    /// The member account id replacing `$account`.
    pub(crate) account: Option<String>,
    /// The region whose plans are judged (and that replaces `$region`).
    pub(crate) region: Option<String>,
}

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

/// A judged plan as JSON (without file and policy).
fn plan_json(pc: &PlanConformance) -> serde_json::Map<String, Value> {
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
    let mut m = serde_json::Map::new();
    m.insert("plan_name".into(), json!(pc.plan_name));
    m.insert("conforms".into(), json!(clean(pc)));
    m.insert("has_conforming_rule".into(), json!(pc.conforms()));
    m.insert("deviation_count".into(), json!(pc.deviation_count()));
    m.insert(
        "deviations".into(),
        json!(pc.deviations.iter().map(deviation_json).collect::<Vec<_>>()),
    );
    m.insert("rules".into(), json!(rules));
    m
}

/// The JSON report of a plan document judged against the policy.
pub(crate) fn to_json(file: &str, pc: &PlanConformance, policy: &Policy) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("file".into(), json!(file));
    m.extend(plan_json(pc));
    m.insert("policy".into(), json!(policy));
    Value::Object(m)
}

/// The verdict of a backup policy: at least one plan applies and every one is clean.
fn org_clean(plans: &[OrgPlanConformance]) -> bool {
    !plans.is_empty() && plans.iter().all(|p| clean(&p.conformance))
}

/// The JSON report of a backup policy: each applicable plan as `check-plan` reports a plan,
/// with its regions and selections.
fn org_to_json(
    file: &str,
    args: &OrgArgs,
    plans: &[OrgPlanConformance],
    policy: &Policy,
) -> serde_json::Value {
    let plans_json: Vec<_> = plans
        .iter()
        .map(|p| {
            let mut m = plan_json(&p.conformance);
            m.insert("regions".into(), json!(p.plan.regions));
            let selections: Vec<_> = p
                .plan
                .selections
                .iter()
                .map(|s| {
                    json!({
                        "name": s.selection.name,
                        "kind": s.kind,
                        "iam_role_arn": s.iam_role_arn,
                        "resources": s.selection.resources,
                        "not_resources": s.selection.not_resources,
                        "list_of_tags": s.selection.list_of_tags,
                        "conditions": s.selection.conditions,
                    })
                })
                .collect();
            m.insert("selections".into(), json!(selections));
            Value::Object(m)
        })
        .collect();
    json!({
        "file": file,
        "kind": "organizations_backup_policy",
        "account": args.account,
        "region": args.region,
        "conforms": org_clean(plans),
        "plans": plans_json,
        "policy": policy,
    })
}

/// `describe-effective-policy` output (`{"EffectivePolicy": {"PolicyContent": "<json>",
/// "TargetId": ...}}`): the policy text and the target account, if it is that shape.
fn unwrap_effective_policy(value: &Value) -> Option<(String, Option<String>)> {
    let ep = value.get("EffectivePolicy")?;
    let content = ep.get("PolicyContent")?.as_str()?.to_string();
    let target = ep
        .get("TargetId")
        .and_then(Value::as_str)
        .filter(|t| policy::names::is_account_id(t))
        .map(str::to_string);
    Some((content, target))
}

/// A backup policy error as a CLI error naming the flag that would fix it.
fn org_error(file: &Path, e: OrgPolicyError) -> CliError {
    let file = file.display();
    match &e {
        OrgPolicyError::PlaceholderWithoutValue { placeholder, .. } => {
            let flag = if *placeholder == ACCOUNT_PLACEHOLDER {
                "--account ID (the member account's id)"
            } else {
                "--region R"
            };
            CliError::usage(format!("{file}: {e}; pass {flag}"))
        }
        OrgPolicyError::BadArgument { what, .. } => {
            let flag = if *what == "region" {
                "--region"
            } else {
                "--account"
            };
            CliError::usage(format!("{flag}: {e}"))
        }
        OrgPolicyError::Invalid { .. } => CliError::usage(format!("{file}: {e}")),
    }
}

/// The policy's settings in one line, for the text heading.
fn policy_summary(policy: &Policy) -> String {
    format!(
        "{} {}, windows {}/{} min, {} days{}",
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
    )
}

/// The plan's deviations and each rule's verdict, indented by `indent`.
fn print_rules(pc: &PlanConformance, indent: &str, paint: Paint) {
    for d in &pc.deviations {
        println!("{indent}  {} {}", paint.red("plan:"), d.describe());
    }
    for r in &pc.rules {
        if r.conforms() {
            println!(
                "{indent}  rule {}: {}",
                paint.bold(&r.rule_name),
                paint.green("conforms")
            );
        } else {
            println!(
                "{indent}  rule {}: {}",
                paint.bold(&r.rule_name),
                paint.red(&format!("{} deviation(s)", r.deviations.len()))
            );
            for d in &r.deviations {
                println!("{indent}    - {}", d.describe());
            }
        }
    }
}

/// Judges a plan document (or a backup policy) against the policy and prints each rule's
/// deviations; exits 1 if the plan (or a plan of the policy) does not conform.
pub(crate) fn run(
    file: &Path,
    args: &OrgArgs,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let policy = crate::error::policy_from_env()?;
    let text = read_input("plan document", file)?;
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        if let Some((content, target)) = unwrap_effective_policy(&value) {
            let args = OrgArgs {
                account: args.account.clone().or(target),
                region: args.region.clone(),
            };
            return run_org(file, &content, &args, &policy, format, paint);
        }
        if is_org_policy(&value) {
            return run_org(file, &text, args, &policy, format, paint);
        }
    }
    if args.account.is_some() || args.region.is_some() {
        return Err(CliError::usage(format!(
            "{}: --account and --region apply only to an AWS Organizations backup policy (a document with a top-level \"plans\" key); this is a plan document",
            file.display()
        )));
    }
    let pc =
        check(&text, &policy).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    match format {
        Format::Json => print_json(&to_json(&file.display().to_string(), &pc, &policy))?,
        Format::Text => {
            println!(
                "plan {} ({}) against the policy {}",
                paint.bold(&pc.plan_name),
                file.display(),
                policy_summary(&policy)
            );
            print_rules(&pc, "", paint);
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

/// Judges each plan of a backup policy that applies to `--region` (every plan without it).
fn run_org(
    file: &Path,
    text: &str,
    args: &OrgArgs,
    policy: &Policy,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let plans = check_org_policy(
        text,
        args.account.as_deref(),
        args.region.as_deref(),
        policy,
    )
    .map_err(|e| org_error(file, e))?;
    let ok = org_clean(&plans);
    match format {
        Format::Json => print_json(&org_to_json(
            &file.display().to_string(),
            args,
            &plans,
            policy,
        ))?,
        Format::Text => {
            println!(
                "backup policy {}{}{} against the policy {}",
                file.display(),
                args.account
                    .as_deref()
                    .map(|a| format!(", account {a}"))
                    .unwrap_or_default(),
                args.region
                    .as_deref()
                    .map(|r| format!(", region {r}"))
                    .unwrap_or_default(),
                policy_summary(policy)
            );
            for p in &plans {
                println!(
                    "  plan {} (regions {}): {}",
                    paint.bold(&p.conformance.plan_name),
                    p.plan.regions.join(", "),
                    if clean(&p.conformance) {
                        paint.green("conforms")
                    } else {
                        paint.red("does not conform")
                    }
                );
                print_rules(&p.conformance, "  ", paint);
            }
            if plans.is_empty() {
                println!(
                    "{}",
                    paint.red(&format!(
                        "no plan of the backup policy is created in {}",
                        args.region.as_deref().unwrap_or("any region")
                    ))
                );
            } else if ok {
                println!("{}", paint.green("every plan conforms to the policy"));
            } else {
                println!(
                    "{}",
                    paint.red("the backup policy does not conform to the policy")
                );
            }
        }
    }
    Ok(if ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
