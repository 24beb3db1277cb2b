//! The three fuzz targets: each checks one input against the parser's contract and says
//! whether it was accepted, rejected properly, or broke the contract ([`Violation`]). Panics
//! are caught by the driver ([`crate::run`]).
//!
//! | target | parser | a rejection must | an accepted input must |
//! |---|---|---|---|
//! | `event` | `table_guard::parse_event_str` | name a field (`EventError.field` non-empty, first in the message; `other_field` non-empty when set) and stay short | keep its table ARN re-parsable to the same parts, its account and region the table's, its id within the ledger bounds, and round-trip through its JSON form |
//! | `plan` | `policy::conformance::parse_plan_document` | name a JSON path (in the message) and stay short | re-parse to the same facts from a document rebuilt from them; `check_plan` must not panic |
//! | `cron` | `policy::cron::CronExpr::parse` | name the expression as given (trimmed), a position within it and a reason | re-parse from its normalised text to an equal expression; its next fire in a zone must be a fire instant (`Schedule::fires_at`) after the start |

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use policy::Policy;
use policy::conformance::{check_plan, parse_plan_document};
use policy::cron::CronExpr;
use policy::facts::PlanFacts;
use policy::schedule::Schedule;
use serde_json::{Value, json};
use table_guard::{ParsedEvent, TableRef, parse_event_str};

use crate::mutate::{CRON_TOKENS, mutate_bytes, mutate_cron_field, mutate_json, random_value};
use crate::rng::Rng;

/// Longest accepted error text of the event and plan parsers (characters).
pub const MAX_ERROR_CHARS: usize = 1024;

/// A parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The CloudTrail event parser of table-guard.
    Event,
    /// The AWS Backup plan-document parser.
    Plan,
    /// The AWS cron parser.
    Cron,
}

impl Target {
    /// Every target, in report order.
    pub const ALL: [Target; 3] = [Target::Event, Target::Plan, Target::Cron];

    /// The target's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Target::Event => "event",
            Target::Plan => "plan",
            Target::Cron => "cron",
        }
    }

    /// The function under test.
    pub fn parser(self) -> &'static str {
        match self {
            Target::Event => "table_guard::parse_event_str",
            Target::Plan => "policy::conformance::parse_plan_document (+ check_plan)",
            Target::Cron => "policy::cron::CronExpr::parse (+ Schedule::next_after)",
        }
    }

    /// Parses a target name.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// How the parser treated an input that kept the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Parsed.
    Accepted,
    /// Rejected with a proper error.
    Rejected,
}

/// A broken contract (not a panic: those are caught separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// The seed corpus of a target: the repository's own samples.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Seeds as bytes.
    pub bytes: Vec<Vec<u8>>,
    /// The JSON seeds, parsed (empty for cron).
    pub json: Vec<Value>,
}

/// The repository root (the fuzz crate sits in `fuzz/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn read_json(path: &Path) -> Option<Value> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Cron expressions beyond the repository's schedules: every feature of the dialect.
const CRON_SAMPLES: &[&str] = &[
    "cron(0 0 15,25 * ? *)",
    "0 0 15,25 * ? *",
    "cron(0 5 ? * 1 *)",
    "cron(0 0 ? * 6L *)",
    "cron(0 0 ? * FRIL *)",
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 9 ? * TUE#3 *)",
    "cron(0/15 * * * ? *)",
    "cron(10-50/10 * * * ? *)",
    "cron(0 0 1 JAN-MAR ? *)",
    "cron(0 0 ? * MON-FRI *)",
    "cron(0 0 1 1 ? 2027-2028)",
    "cron(0 0 1 1 ? 2026/2)",
    "cron(* * * * ? *)",
    "cron(0 0 30 2 ? *)",
    "cron(30 2 29 2 ? 2028,2032)",
    "cron(0 12 ? * SUN,SAT 2199)",
];

/// The seeds of `target`: `events/*.json` and the demo event; the policy document's plan, the
/// scenarios' plans (as AWS plan documents) and a `get-backup-plan` wrapping; the cron samples
/// and every schedule in the scenarios.
pub fn corpus(target: Target) -> Corpus {
    let root = repo_root();
    let json: Vec<Value> = match target {
        Target::Event => json_files(&root.join("events"))
            .into_iter()
            .chain([root.join("scripts/demo/create-table-untagged.json")])
            .filter_map(|p| read_json(&p))
            .collect(),
        Target::Plan => {
            let mut plans: Vec<Value> = json_files(&root.join("cli/tests/fixtures"))
                .into_iter()
                .filter_map(|p| read_json(&p))
                .collect();
            for s in json_files(&root.join("tests/scenarios")) {
                if let Some(Value::Array(ps)) = read_json(&s).map(|v| v["plans"].clone()) {
                    plans.extend(ps.iter().map(scenario_plan_as_document));
                }
            }
            if let Some(first) = plans.first().cloned() {
                plans.push(json!({
                    "BackupPlan": first,
                    "BackupPlanId": "8a1f0c2e-0000-4000-8000-000000000001",
                    "BackupPlanArn": "arn:aws:backup:eu-west-1:123456789012:backup-plan:8a1f0c2e",
                    "VersionId": "v1"
                }));
            }
            plans
        }
        Target::Cron => Vec::new(),
    };
    let bytes = match target {
        Target::Cron => {
            let mut exprs: Vec<String> = CRON_SAMPLES.iter().map(|s| s.to_string()).collect();
            for s in json_files(&root.join("tests/scenarios")) {
                collect_schedules(&read_json(&s).unwrap_or(Value::Null), &mut exprs);
            }
            exprs.sort();
            exprs.dedup();
            exprs.into_iter().map(String::into_bytes).collect()
        }
        _ => json
            .iter()
            .filter_map(|v| serde_json::to_vec_pretty(v).ok())
            .collect(),
    };
    Corpus { bytes, json }
}

/// A scenario plan (`{"name", "rules": [{"name", "vault", "schedule", ...}]}`) as the AWS plan
/// document it stands for.
fn scenario_plan_as_document(p: &Value) -> Value {
    let rules: Vec<Value> = p["rules"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let mut rule = json!({
                        "RuleName": r["name"],
                        "TargetBackupVaultName": r["vault"],
                        "ScheduleExpression": r["schedule"],
                        "ScheduleExpressionTimezone": r["timezone"],
                        "StartWindowMinutes": r["start_window_minutes"],
                        "CompletionWindowMinutes": r["completion_window_minutes"],
                        "Lifecycle": {
                            "DeleteAfterDays": r["delete_after_days"],
                            "MoveToColdStorageAfterDays": r["move_to_cold_storage_after_days"],
                        },
                    });
                    // Drop what the scenario leaves out instead of sending nulls.
                    if let Some(m) = rule.as_object_mut() {
                        m.retain(|_, v| !v.is_null());
                        if let Some(Value::Object(lc)) = m.get_mut("Lifecycle") {
                            lc.retain(|_, v| !v.is_null());
                        }
                    }
                    rule
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"BackupPlanName": p["name"], "Rules": rules})
}

fn collect_schedules(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                match child {
                    Value::String(s) if k.contains("schedule") && !s.is_empty() => {
                        out.push(s.clone())
                    }
                    _ => collect_schedules(child, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_schedules(c, out)),
        _ => {}
    }
}

/// The next input of `target`: a mutated seed (structure and/or bytes), or, less often, a
/// generated one.
pub fn generate(target: Target, corpus: &Corpus, rng: &mut Rng) -> Vec<u8> {
    let seed = rng.pick(&corpus.bytes);
    let donor = rng.pick(&corpus.bytes);
    match target {
        Target::Cron => {
            if rng.one_in(2) {
                let text = mutate_cron_field(rng, &String::from_utf8_lossy(seed));
                let mut bytes = text.into_bytes();
                if rng.one_in(8) {
                    mutate_bytes(rng, &mut bytes, donor);
                }
                bytes
            } else if rng.one_in(2) {
                let n = if rng.one_in(8) { rng.below(9) } else { 6 };
                let fields: Vec<&str> = (0..n).map(|_| *rng.pick(CRON_TOKENS)).collect();
                let body = fields.join(if rng.one_in(10) { "\t" } else { " " });
                let text = if rng.one_in(2) {
                    format!("cron({body})")
                } else {
                    body
                };
                let mut bytes = text.into_bytes();
                if rng.one_in(4) {
                    mutate_bytes(rng, &mut bytes, donor);
                }
                bytes
            } else {
                let mut bytes = seed.clone();
                mutate_bytes(rng, &mut bytes, donor);
                bytes
            }
        }
        Target::Event | Target::Plan => match rng.below(10) {
            0 => serde_json::to_vec(&random_value(rng, 4)).unwrap_or_default(),
            1..=2 => {
                let mut bytes = seed.clone();
                mutate_bytes(rng, &mut bytes, donor);
                bytes
            }
            _ => {
                let mut doc = rng.pick(&corpus.json).clone();
                mutate_json(rng, &mut doc);
                let mut bytes = if rng.one_in(2) {
                    serde_json::to_vec(&doc)
                } else {
                    serde_json::to_vec_pretty(&doc)
                }
                .unwrap_or_default();
                if rng.one_in(4) {
                    mutate_bytes(rng, &mut bytes, donor);
                }
                bytes
            }
        },
    }
}

/// Checks one input of `target` against the parser's contract.
pub fn check(target: Target, input: &[u8], rng: &mut Rng) -> Result<Verdict, Violation> {
    // The parsers take text; Lambda and the CLI hand them UTF-8 (invalid bytes become U+FFFD).
    let text = String::from_utf8_lossy(input);
    match target {
        Target::Event => check_event(&text),
        Target::Plan => check_plan_doc(&text),
        Target::Cron => check_cron(&text, rng),
    }
}

fn violation(msg: impl Into<String>) -> Violation {
    Violation(msg.into())
}

fn check_event(text: &str) -> Result<Verdict, Violation> {
    match parse_event_str(text) {
        Err(e) => {
            let msg = e.to_string();
            if e.field.is_empty() {
                return Err(violation(format!("rejection names no field: {msg}")));
            }
            if !msg.starts_with(&e.field) {
                return Err(violation(format!(
                    "message does not start with the field: {msg}"
                )));
            }
            if e.other_field.as_deref().is_some_and(str::is_empty) {
                return Err(violation(format!("empty other_field: {msg}")));
            }
            if msg.chars().count() > MAX_ERROR_CHARS {
                return Err(violation(format!(
                    "{}-character error on {}",
                    msg.chars().count(),
                    e.field
                )));
            }
            Ok(Verdict::Rejected)
        }
        Ok(p) => {
            check_parsed_event(&p)?;
            Ok(Verdict::Accepted)
        }
    }
}

fn check_parsed_event(p: &ParsedEvent) -> Result<(), Violation> {
    let id_ok = !p.event_id.trim().is_empty()
        && p.event_id.chars().count() <= table_guard::event::MAX_EVENT_ID_LEN;
    if !id_ok {
        return Err(violation(format!("accepted event id {:?}", p.event_id)));
    }
    if let Some(t) = p.table() {
        let again = TableRef::parse_arn(&t.arn, "arn")
            .map_err(|e| violation(format!("accepted ARN does not re-parse: {e}")))?;
        if &again != t {
            return Err(violation(format!(
                "ARN re-parses differently: {t:?} vs {again:?}"
            )));
        }
        if p.account.as_deref().is_some_and(|a| a != t.account)
            || p.region.as_deref().is_some_and(|r| r != t.region)
        {
            return Err(violation(format!(
                "accepted table {} of account {:?} region {:?}",
                t.arn, p.account, p.region
            )));
        }
    }
    let json = serde_json::to_string(p).map_err(|e| violation(format!("serialise: {e}")))?;
    let back: ParsedEvent =
        serde_json::from_str(&json).map_err(|e| violation(format!("read back: {e}")))?;
    if &back != p {
        return Err(violation("parsed event does not round-trip through JSON"));
    }
    Ok(())
}

fn check_plan_doc(text: &str) -> Result<Verdict, Violation> {
    match parse_plan_document(text) {
        Err(e) => {
            let msg = e.to_string();
            let path_ok = e.path == "$"
                || e.path
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic());
            if !path_ok || !msg.contains(&e.path) {
                return Err(violation(format!("rejection names no JSON path: {msg}")));
            }
            if msg.chars().count() > MAX_ERROR_CHARS {
                return Err(violation(format!(
                    "{}-character error on {}",
                    msg.chars().count(),
                    e.path
                )));
            }
            Ok(Verdict::Rejected)
        }
        Ok(facts) => {
            let rebuilt = plan_document_of(&facts);
            let again = parse_plan_document(&rebuilt.to_string())
                .map_err(|e| violation(format!("rebuilt document rejected: {e}")))?;
            if again != facts {
                return Err(violation(format!(
                    "plan does not round-trip: {facts:?} vs {again:?}"
                )));
            }
            let c = check_plan(&facts, &Policy::default());
            if c.rules.len() != facts.rules.len() || c.clean() != (c.deviation_count() == 0) {
                return Err(violation(format!("inconsistent conformance: {c:?}")));
            }
            Ok(Verdict::Accepted)
        }
    }
}

/// The plan document that describes `facts` (get-backup-plan shape when it has an ARN).
fn plan_document_of(facts: &PlanFacts) -> Value {
    let rules: Vec<Value> = facts
        .rules
        .iter()
        .map(|r| {
            let mut lifecycle = serde_json::Map::new();
            if let Some(d) = r.delete_after_days {
                lifecycle.insert("DeleteAfterDays".into(), json!(d));
            }
            if let Some(d) = r.move_to_cold_storage_after_days {
                lifecycle.insert("MoveToColdStorageAfterDays".into(), json!(d));
            }
            json!({
                "RuleName": r.name,
                "RuleId": r.rule_id,
                "TargetBackupVaultName": r.target_vault,
                "ScheduleExpression": r.schedule_expression,
                "ScheduleExpressionTimezone": r.schedule_timezone,
                "StartWindowMinutes": r.start_window_minutes,
                "CompletionWindowMinutes": r.completion_window_minutes,
                "Lifecycle": lifecycle,
            })
        })
        .collect();
    let plan = json!({"BackupPlanName": facts.name, "Rules": rules});
    if facts.plan_arn.is_empty() && facts.version_id.is_empty() && facts.plan_id == facts.name {
        plan
    } else {
        json!({
            "BackupPlan": plan,
            "BackupPlanId": facts.plan_id,
            "BackupPlanArn": facts.plan_arn,
            "VersionId": facts.version_id,
        })
    }
}

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
];

fn check_cron(text: &str, rng: &mut Rng) -> Result<Verdict, Violation> {
    match CronExpr::parse(text) {
        Err(e) => {
            if e.expr != text.trim() {
                return Err(violation(format!(
                    "error quotes {:?}, not the input {:?}",
                    e.expr,
                    text.trim()
                )));
            }
            if e.position > e.expr.len() {
                return Err(violation(format!(
                    "position {} beyond the expression ({} bytes): {e}",
                    e.position,
                    e.expr.len()
                )));
            }
            if e.reason.trim().is_empty() {
                return Err(violation(format!("no reason: {e}")));
            }
            Ok(Verdict::Rejected)
        }
        Ok(expr) => {
            let again = CronExpr::parse(expr.as_str())
                .map_err(|e| violation(format!("normalised form rejected: {e}")))?;
            if again != expr {
                return Err(violation(format!(
                    "{text:?} and its normalised form {} differ",
                    expr.as_str()
                )));
            }
            let zone = *rng.pick(ZONES);
            let schedule = Schedule::new(text, zone)
                .map_err(|e| violation(format!("parsed but no schedule in {zone}: {e}")))?;
            let start = Timestamp::constant(1_790_000_000, 0); // 2026-09-21
            if let Some(next) = schedule.next_after(start)
                && (next <= start || !schedule.fires_at(next))
            {
                return Err(violation(format!(
                    "{} in {zone}: next fire after {start} is {next}, not a fire instant after it",
                    expr.as_str()
                )));
            }
            Ok(Verdict::Accepted)
        }
    }
}
