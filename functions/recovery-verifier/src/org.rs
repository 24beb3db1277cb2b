//! The organization fan-out's contracts and decisions (pure): the three payloads the state
//! machine sends (`org/schemas/*.json` are the same contracts as JSON Schema, and the tests
//! check these types against them), the items of a run (accounts × regions), one item's
//! summary, the result files the Distributed Map's `ResultWriter` writes, the org digest and
//! the org evidence index. The I/O is in [`crate::org_run`].
//!
//! | step | payload `mode` | does | returns |
//! |---|---|---|---|
//! | Plan | `org-plan` | lists the ACTIVE accounts (or those under `include_ous`), drops `exclude_accounts`, crosses with `regions`, writes the items to S3 | `{run_id, items_bucket, items_key, count}` |
//! | Verify (per item) | `org-item` | assumes `role_arn`, verifies the account in `region`, judges its effective backup policy, writes its evidence | [`ItemSummary`] |
//! | Aggregate | `org-aggregate` | reads the `ResultWriter` manifest and result files, publishes one digest, writes the org index | `{run_id, items, verified, unverifiable, counts, digest_published}` |

use std::collections::BTreeMap;

use awsio::org::OrgAccount;
use awsio::publisher::{AlertMessage, AttributeValue};
use jiff::Timestamp;
use policy::{Severity, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::payload::PayloadError;
use crate::verify::RegionReport;

/// `mode` of the Plan step's payload.
pub const MODE_PLAN: &str = "org-plan";
/// `mode` of one item's payload.
pub const MODE_ITEM: &str = "org-item";
/// `mode` of the Aggregate step's payload.
pub const MODE_AGGREGATE: &str = "org-aggregate";
/// How many of an item's worst tables its summary carries (the state's results stay small:
/// 256 KB per result at most).
pub const WORST_PER_ITEM: usize = 5;

/// What the Plan step asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Always [`MODE_PLAN`].
    pub mode: String,
    /// The execution's name: the run's id.
    pub run_id: String,
    /// Regions to verify in every account (empty entries ignored).
    pub regions: Vec<String>,
    /// OU (or root) ids whose accounts are verified; none: the whole organization.
    pub include_ous: Vec<String>,
    /// OU ids whose accounts (nested OUs included) are left out.
    pub exclude_ous: Vec<String>,
    /// Account ids left out.
    pub exclude_accounts: Vec<String>,
    /// The member role's name in every account.
    pub member_role_name: String,
    /// The bucket the items file is written to.
    pub items_bucket: String,
}

/// One account × region to verify (an entry of the items file, and the item payload without
/// its `mode`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Item {
    /// The member account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The member role to assume.
    pub role_arn: String,
    /// The run's id.
    pub run_id: String,
}

/// One item's payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    /// Always [`MODE_ITEM`].
    pub mode: String,
    /// The member account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The member role to assume.
    pub role_arn: String,
    /// The run's id.
    pub run_id: String,
}

/// Where the Distributed Map wrote its results (`ResultWriterDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultsLocation {
    /// `Bucket`.
    #[serde(rename = "Bucket")]
    pub bucket: String,
    /// `Key` of the run's `manifest.json`.
    #[serde(rename = "Key")]
    pub key: String,
}

/// The Aggregate step's payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateRequest {
    /// Always [`MODE_AGGREGATE`].
    pub mode: String,
    /// The run's id.
    pub run_id: String,
    /// The `ResultWriter`'s manifest.
    pub results: ResultsLocation,
}

/// An org payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRequest {
    /// The Plan step.
    Plan(PlanRequest),
    /// One item.
    Item(ItemRequest),
    /// The Aggregate step.
    Aggregate(AggregateRequest),
}

/// The org payload `payload` is, if its `mode` is one of the three (`None`: not an org
/// payload, the nightly forms apply); an error names the field that is wrong.
pub fn parse_org_request(payload: &Value) -> Option<Result<OrgRequest, PayloadError>> {
    let mode = payload.get("mode")?.as_str()?;
    let parse = |what: &str| PayloadError {
        field: "(payload)".to_string(),
        expected: format!("the {what} payload of org/schemas"),
        got: String::new(),
    };
    let err = |e: serde_json::Error, what: &str| PayloadError {
        got: e.to_string(),
        ..parse(what)
    };
    Some(match mode {
        MODE_PLAN => serde_json::from_value(payload.clone())
            .map(OrgRequest::Plan)
            .map_err(|e| err(e, "plan-input")),
        MODE_ITEM => serde_json::from_value::<ItemRequest>(payload.clone())
            .map_err(|e| err(e, "item-input"))
            .and_then(|r| check_item(&r).map(|()| OrgRequest::Item(r))),
        MODE_AGGREGATE => serde_json::from_value(payload.clone())
            .map(OrgRequest::Aggregate)
            .map_err(|e| err(e, "aggregate-input")),
        _ => return None,
    })
}

fn check_item(r: &ItemRequest) -> Result<(), PayloadError> {
    let bad = |field: &str, expected: &str, got: &str| PayloadError {
        field: field.to_string(),
        expected: expected.to_string(),
        got: got.to_string(),
    };
    if !policy::names::is_account_id(&r.account) {
        return Err(bad("account", "a 12-digit account id", &r.account));
    }
    if !policy::names::is_region_name(&r.region) {
        return Err(bad("region", "a region name", &r.region));
    }
    if !r.role_arn.starts_with("arn:")
        || !r.role_arn.contains(&format!(":iam::{}:role/", r.account))
    {
        return Err(bad(
            "role_arn",
            "the ARN of a role in the item's account",
            &r.role_arn,
        ));
    }
    Ok(())
}

/// A role session name's tail from the run id (`RoleSessionName`: at most 64 characters of
/// `[A-Za-z0-9+=,.@-]`; the `backup-guard-` prefix takes 13).
pub fn session_suffix(run_id: &str) -> String {
    let clean: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(50)
        .collect();
    if clean.is_empty() {
        "run".to_string()
    } else {
        clean
    }
}

/// The items of a run: every account (minus `exclude`) × every region (empty entries
/// ignored; none left: `home_region`), each with its member role ARN, sorted.
pub fn plan_items(
    accounts: &[OrgAccount],
    req: &PlanRequest,
    partition: &str,
    home_region: &str,
) -> Vec<Item> {
    let mut regions: Vec<&str> = req
        .regions
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    if regions.is_empty() {
        regions.push(home_region);
    }
    regions.sort();
    regions.dedup();
    let excluded = |id: &str| req.exclude_accounts.iter().any(|e| e.trim() == id);
    let mut out: Vec<Item> = accounts
        .iter()
        .filter(|a| !excluded(&a.id))
        .flat_map(|a| {
            regions.iter().map(move |r| Item {
                account: a.id.clone(),
                region: r.to_string(),
                role_arn: format!(
                    "arn:{partition}:iam::{}:role/{}",
                    a.id, req.member_role_name
                ),
                run_id: req.run_id.clone(),
            })
        })
        .collect();
    out.sort();
    out
}

/// Whether an item was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// The verifier ran for the account and region.
    Verified,
    /// It could not (the reason says why): never compliant.
    Unverifiable,
}

/// One of an item's worst tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorstTable {
    /// The table's name.
    pub table: String,
    /// Its verdict.
    pub verdict: String,
    /// Its worst finding's code.
    pub code: Option<String>,
    /// That finding's severity.
    pub severity: Option<Severity>,
}

/// The member's effective backup policy, judged by the plan-conformance code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "backup_policy")]
pub enum BackupPolicyCheck {
    /// No backup policy applies to the account.
    None,
    /// Every plan of the policy for the region conforms.
    Conforms {
        /// The conforming plans' names.
        plans: Vec<String>,
    },
    /// A plan deviates (or none applies to the region).
    Drifts {
        /// What deviates, per plan.
        deviations: Vec<String>,
    },
    /// The policy could not be read or parsed.
    Unverifiable {
        /// Why.
        reason: String,
    },
}

/// Judges a member's effective backup policy text (`None`: no policy applies) for `account`
/// and `region` with [`policy::org_policy::check_org_policy`].
pub fn judge_backup_policy(
    text: Option<&str>,
    account: &str,
    region: &str,
    policy: &policy::Policy,
) -> BackupPolicyCheck {
    let Some(text) = text else {
        return BackupPolicyCheck::None;
    };
    match policy::org_policy::check_org_policy(text, Some(account), Some(region), policy) {
        Err(e) => BackupPolicyCheck::Unverifiable {
            reason: e.to_string(),
        },
        Ok(plans) if plans.is_empty() => BackupPolicyCheck::Drifts {
            deviations: vec![format!("no plan of the backup policy applies to {region}")],
        },
        Ok(plans) => {
            let deviations: Vec<String> = plans
                .iter()
                .filter(|p| !p.conformance.conforms())
                .flat_map(|p| {
                    p.conformance.rules.iter().flat_map(move |r| {
                        r.deviations
                            .iter()
                            .map(move |d| format!("plan {}: {}", p.plan.plan.name, d.describe()))
                    })
                })
                .collect();
            if deviations.is_empty() && plans.iter().all(|p| p.conformance.conforms()) {
                BackupPolicyCheck::Conforms {
                    plans: plans.iter().map(|p| p.plan.plan.name.clone()).collect(),
                }
            } else {
                BackupPolicyCheck::Drifts { deviations }
            }
        }
    }
}

/// One item's result (`org/schemas/item-output.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSummary {
    /// The member account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Verified or not.
    pub status: ItemStatus,
    /// Why not (unverifiable), or what was only partly verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Tables per verdict.
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    /// The worst tables, worst first (at most [`WORST_PER_ITEM`]).
    #[serde(default)]
    pub worst: Vec<WorstTable>,
    /// Where the item's evidence went (`s3://…/`), or why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_prefix: Option<String>,
    /// The account's effective backup policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_policy: Option<BackupPolicyCheck>,
}

impl ItemSummary {
    /// An item that could not be verified.
    pub fn unverifiable(account: &str, region: &str, reason: impl Into<String>) -> Self {
        ItemSummary {
            account: account.to_string(),
            region: region.to_string(),
            status: ItemStatus::Unverifiable,
            reason: Some(reason.into()),
            counts: BTreeMap::new(),
            worst: Vec::new(),
            evidence_prefix: None,
            backup_policy: None,
        }
    }
}

fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::NonCompliant => 0,
        Verdict::Unverifiable => 1,
        Verdict::Pending => 2,
        _ => 3,
    }
}

/// The summary of a verified item from its region report.
pub fn item_summary(report: &RegionReport, account: &str, evidence: Option<String>) -> ItemSummary {
    let counts = report
        .report
        .verdicts
        .iter()
        .map(|(v, n)| (v.as_str().to_string(), *n))
        .collect();
    let mut tables: Vec<&policy::TableEvaluation> = report
        .report
        .tables
        .iter()
        .filter(|t| verdict_rank(t.verdict) < 2)
        .collect();
    tables.sort_by_key(|t| {
        let worst = t.findings.iter().map(|f| f.severity).max();
        (
            verdict_rank(t.verdict),
            std::cmp::Reverse(worst),
            t.table.name.clone(),
        )
    });
    let worst = tables
        .into_iter()
        .take(WORST_PER_ITEM)
        .map(|t| {
            let f = t.findings.iter().max_by_key(|f| f.severity);
            WorstTable {
                table: t.table.name.clone(),
                verdict: t.verdict.as_str().to_string(),
                code: f.map(|f| f.code.as_str().to_string()),
                severity: f.map(|f| f.severity),
            }
        })
        .collect();
    let (status, reason) = match &report.failure {
        Some(why) => (ItemStatus::Unverifiable, Some(why.clone())),
        None => (ItemStatus::Verified, None),
    };
    ItemSummary {
        account: account.to_string(),
        region: report.region.clone(),
        status,
        reason,
        counts,
        worst,
        evidence_prefix: evidence,
        backup_policy: None,
    }
}

/// The items' summaries from the `ResultWriter`'s files: each SUCCEEDED result's `Output` is
/// a summary (a JSON string); a FAILED one (the Catch did not turn it into a summary) becomes
/// unverifiable with its `Error` and `Cause`, its account and region from its `Input`. A
/// result that cannot be read is unverifiable too, never dropped.
pub fn summaries_from_results(files: &[(String, String)]) -> Vec<ItemSummary> {
    let mut out = Vec::new();
    for (key, text) in files {
        let results: Vec<Value> = match serde_json::from_str(text) {
            Ok(Value::Array(a)) => a,
            _ => {
                out.push(ItemSummary::unverifiable(
                    "?",
                    "?",
                    format!("result file {key} is not a JSON array of results"),
                ));
                continue;
            }
        };
        for r in results {
            out.push(summary_of_result(&r, key));
        }
    }
    out.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    out
}

fn summary_of_result(r: &Value, key: &str) -> ItemSummary {
    let field_json = |name: &str| {
        r.get(name)
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let input = field_json("Input").unwrap_or(Value::Null);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    let (account, region) = (s(&input, "account"), s(&input, "region"));
    let status = r.get("Status").and_then(Value::as_str).unwrap_or("");
    if status == "SUCCEEDED"
        && let Some(out) = field_json("Output")
    {
        return serde_json::from_value::<ItemSummary>(out).unwrap_or_else(|e| {
            ItemSummary::unverifiable(
                &account,
                &region,
                format!("its result in {key} is not an item summary: {e}"),
            )
        });
    }
    let why = format!(
        "the item's execution ended {} ({}: {})",
        if status.is_empty() {
            "without a status"
        } else {
            status
        },
        r.get("Error").and_then(Value::as_str).unwrap_or("no error"),
        r.get("Cause").and_then(Value::as_str).unwrap_or("no cause")
    );
    ItemSummary::unverifiable(&account, &region, why)
}

/// The org-wide totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgTotals {
    /// Items (account × region).
    pub items: usize,
    /// Items verified.
    pub verified: usize,
    /// Items not verified.
    pub unverifiable: usize,
    /// Tables per verdict, over every verified item.
    pub counts: BTreeMap<String, u64>,
    /// Accounts whose backup policy drifts or could not be judged.
    pub policy_problems: usize,
}

/// Sums the summaries.
pub fn totals(summaries: &[ItemSummary]) -> OrgTotals {
    let mut t = OrgTotals {
        items: summaries.len(),
        ..OrgTotals::default()
    };
    for s in summaries {
        match s.status {
            ItemStatus::Verified => t.verified += 1,
            ItemStatus::Unverifiable => t.unverifiable += 1,
        }
        for (v, n) in &s.counts {
            *t.counts.entry(v.clone()).or_default() += n;
        }
        if matches!(
            s.backup_policy,
            Some(BackupPolicyCheck::Drifts { .. } | BackupPolicyCheck::Unverifiable { .. })
        ) {
            t.policy_problems += 1;
        }
    }
    t
}

fn count(s: &ItemSummary, v: Verdict) -> u64 {
    s.counts.get(v.as_str()).copied().unwrap_or(0)
}

/// The one org digest: per account/region verdict counts, the worst tables, the
/// account-regions not verified and why, the backup policies that drift.
pub fn org_digest(run_id: &str, summaries: &[ItemSummary], now: Timestamp) -> AlertMessage {
    let t = totals(summaries);
    let non = t
        .counts
        .get(Verdict::NonCompliant.as_str())
        .copied()
        .unwrap_or(0);
    let unv = t
        .counts
        .get(Verdict::Unverifiable.as_str())
        .copied()
        .unwrap_or(0);
    let severity = if t.unverifiable > 0 || non > 0 || unv > 0 || t.policy_problems > 0 {
        Severity::High
    } else {
        Severity::Info
    };
    let accounts: std::collections::BTreeSet<&str> =
        summaries.iter().map(|s| s.account.as_str()).collect();
    let subject = format!(
        "{} backup-guard org: {} accounts, {} non-compliant tables, {} account-regions not verified",
        severity.as_str().to_ascii_uppercase(),
        accounts.len(),
        non,
        t.unverifiable
    );
    let text = digest_text(run_id, summaries, &t, accounts.len(), now);
    let json = serde_json::json!({
        "kind": "backup-guard.org-digest",
        "run_id": run_id,
        "generated_at": now.to_string(),
        "totals": t,
        "items": summaries,
    });
    let json_subject = awsio::chat::cut(&subject, awsio::publisher::MAX_SUBJECT_CHARS);
    AlertMessage {
        subject: json_subject.clone(),
        text,
        json,
        attributes: vec![
            (
                "severity".to_string(),
                AttributeValue::String(severity.as_str().to_string()),
            ),
            (
                "kind".to_string(),
                AttributeValue::String("org-digest".to_string()),
            ),
        ],
        chat: Some(org_card(run_id, summaries, &t, severity, &json_subject)),
    }
}

/// The org digest's chat card (AWS Chatbot's custom notification): the totals, the
/// account-regions not verified, the worst tables; next steps per problem kind.
fn org_card(
    run_id: &str,
    summaries: &[ItemSummary],
    t: &OrgTotals,
    severity: Severity,
    subject: &str,
) -> awsio::chat::ChatCard {
    use awsio::chat::{MAX_DESCRIPTION_CHARS, escape, push_line};
    let mut d = String::new();
    push_line(
        &mut d,
        &format!(
            "*Account-regions* {} verified, {} *NOT VERIFIED*",
            t.verified, t.unverifiable
        ),
        MAX_DESCRIPTION_CHARS,
    );
    push_line(
        &mut d,
        &escape(&format!(
            "Tables: {}",
            t.counts
                .iter()
                .map(|(v, n)| format!("{v} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        MAX_DESCRIPTION_CHARS,
    );
    for s in summaries
        .iter()
        .filter(|s| s.status == ItemStatus::Unverifiable)
    {
        if !push_line(
            &mut d,
            &escape(&format!(
                "• NOT VERIFIED {}/{}: {}",
                s.account,
                s.region,
                s.reason.as_deref().unwrap_or("")
            )),
            MAX_DESCRIPTION_CHARS,
        ) {
            break;
        }
    }
    let mut next_steps = Vec::new();
    if t.unverifiable > 0 {
        next_steps.push("Deploy or repair the member role (org/member-role.yaml StackSet) in the accounts NOT VERIFIED; their tables count as unverifiable, never compliant.".to_string());
    }
    if t.counts
        .get(Verdict::NonCompliant.as_str())
        .copied()
        .unwrap_or(0)
        > 0
    {
        next_steps.push("Open the evidence of each account-region with non-compliant tables (its report.html) and fix the worst tables first.".to_string());
    }
    if t.policy_problems > 0 {
        next_steps.push("Fix the Organizations backup policies that drift from the policy (check-plan judges a policy document).".to_string());
    }
    awsio::chat::ChatCard {
        id: format!("org-digest-{run_id}"),
        title: format!(
            "{} {}",
            awsio::chat::severity_emoji(if severity == Severity::Info {
                "ok"
            } else {
                severity.as_str()
            }),
            escape(subject)
        ),
        description: d.trim_end().to_string(),
        next_steps,
        keywords: vec![severity.as_str().to_string(), "org-digest".to_string()],
        thread_id: None,
        summary: subject.to_string(),
        event_type: "backup-guard.org-digest".to_string(),
        related_resources: Vec::new(),
        additional_context: [("run_id".to_string(), run_id.to_string())]
            .into_iter()
            .collect(),
    }
}

/// The digest's text: totals, the account-regions not verified, one line per verified one.
fn digest_text(
    run_id: &str,
    summaries: &[ItemSummary],
    t: &OrgTotals,
    accounts: usize,
    now: Timestamp,
) -> String {
    let mut text = format!(
        "backup-guard verified {} account-regions of {} accounts (run {run_id}, {now}).\n\n",
        t.items, accounts
    );
    text.push_str(&format!(
        "Tables: {}\n",
        t.counts
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let not_verified: Vec<&ItemSummary> = summaries
        .iter()
        .filter(|s| s.status == ItemStatus::Unverifiable)
        .collect();
    text.push_str(&format!("\nNOT VERIFIED ({}):\n", not_verified.len()));
    for s in &not_verified {
        text.push_str(&format!(
            "  - {}/{}: {}\n",
            s.account,
            s.region,
            s.reason.as_deref().unwrap_or("no reason given")
        ));
    }
    text.push_str("\nPer account and region (non-compliant / unverifiable / compliant):\n");
    for s in summaries
        .iter()
        .filter(|s| s.status == ItemStatus::Verified)
    {
        text.push_str(&format!(
            "  - {}/{}: {} / {} / {}{}\n",
            s.account,
            s.region,
            count(s, Verdict::NonCompliant),
            count(s, Verdict::Unverifiable),
            count(s, Verdict::Compliant),
            s.evidence_prefix
                .as_deref()
                .map(|e| format!(" — evidence {e}"))
                .unwrap_or_default()
        ));
    }
    push_worst_and_policies(&mut text, summaries);
    text
}

/// The worst tables of the whole organization and the backup policies that drift.
fn push_worst_and_policies(text: &mut String, summaries: &[ItemSummary]) {
    let mut worst: Vec<(&ItemSummary, &WorstTable)> = summaries
        .iter()
        .flat_map(|s| s.worst.iter().map(move |w| (s, w)))
        .collect();
    worst.sort_by_key(|(s, w)| {
        (
            std::cmp::Reverse(w.severity),
            s.account.clone(),
            w.table.clone(),
        )
    });
    text.push_str("\nWorst tables:\n");
    for (s, w) in worst.iter().take(20) {
        text.push_str(&format!(
            "  - {}/{} {}: {} {}\n",
            s.account,
            s.region,
            w.table,
            w.verdict,
            w.code.as_deref().unwrap_or("")
        ));
    }
    let drifting: Vec<&ItemSummary> = summaries
        .iter()
        .filter(|s| {
            matches!(
                s.backup_policy,
                Some(BackupPolicyCheck::Drifts { .. } | BackupPolicyCheck::Unverifiable { .. })
            )
        })
        .collect();
    if !drifting.is_empty() {
        text.push_str("\nOrganizations backup policies that do not meet the policy:\n");
        for s in drifting {
            text.push_str(&format!(
                "  - {}/{}: {}\n",
                s.account,
                s.region,
                serde_json::to_string(&s.backup_policy).unwrap_or_default()
            ));
        }
    }
}

/// The org evidence index: the run, its totals and where each item's evidence is.
pub fn org_index(run_id: &str, summaries: &[ItemSummary], now: Timestamp) -> Value {
    serde_json::json!({
        "schema": "backup-guard.org-index/v1",
        "run_id": run_id,
        "generated_at": now.to_string(),
        "totals": totals(summaries),
        "items": summaries.iter().map(|s| serde_json::json!({
            "account": s.account,
            "region": s.region,
            "status": s.status,
            "reason": s.reason,
            "evidence_prefix": s.evidence_prefix,
            "counts": s.counts,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repo_file(path: &str) -> Value {
        let p = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
    }

    /// Resolves a state machine's `Parameters` against a state input and a context object
    /// (`x.$` keys take a `$.…` or `$$.…` path), as Step Functions does.
    fn resolve(params: &Value, input: &Value, context: &Value) -> Value {
        let path = |p: &str| {
            let (root, rest) = match p.strip_prefix("$$") {
                Some(r) => (context, r),
                None => (input, p.strip_prefix('$').unwrap()),
            };
            let mut v = root;
            for part in rest.split('.').filter(|s| !s.is_empty()) {
                v = &v[part];
            }
            v.clone()
        };
        match params {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| match (k.strip_suffix(".$"), v.as_str()) {
                        (Some(k), Some(p)) => (k.to_string(), path(p)),
                        _ => (k.clone(), resolve(v, input, context)),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn schema_props(name: &str) -> (Vec<String>, Vec<String>) {
        let s = repo_file(&format!("org/schemas/{name}.json"));
        let props = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let required = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        (props, required)
    }

    #[test]
    fn the_state_machines_payloads_are_what_the_verifier_accepts() {
        let asl = repo_file("org/state-machine.asl.json");
        let states = &asl["States"];
        let context = json!({"Execution": {"Name": "run-2026-12-01"}});
        let input = json!({"config": {
            "regions": ["eu-west-1", ""], "include_ous": [], "exclude_ous": [""], "exclude_accounts": ["111111111111"],
            "member_role_name": "backup-guard-member", "items_bucket": "work", "max_concurrency": 40
        }});
        let plan = resolve(&states["Plan"]["Parameters"]["Payload"], &input, &context);
        let Some(Ok(OrgRequest::Plan(p))) = parse_org_request(&plan) else {
            panic!("plan payload refused: {plan}")
        };
        assert_eq!(p.run_id, "run-2026-12-01");
        // The items the Plan step writes, as the Map's ItemSelector reads them.
        let accounts = [
            OrgAccount {
                id: "111111111111".into(),
                name: "a".into(),
            },
            OrgAccount {
                id: "222222222222".into(),
                name: "b".into(),
            },
        ];
        let items = plan_items(&accounts, &p, "aws", "us-east-1");
        assert_eq!(
            items.len(),
            1,
            "one account excluded, the empty region ignored: {items:?}"
        );
        let (item_props, item_required) = schema_props("item");
        let item_json = serde_json::to_value(&items[0]).unwrap();
        let keys: Vec<String> = item_json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(sorted(keys.clone()), sorted(item_props));
        assert!(item_required.iter().all(|r| keys.contains(r)));
        let map_ctx =
            json!({"Map": {"Item": {"Value": item_json}}, "Execution": context["Execution"]});
        let payload = resolve(&states["Verify"]["ItemSelector"], &json!({}), &map_ctx);
        let Some(Ok(OrgRequest::Item(i))) = parse_org_request(&payload) else {
            panic!("item payload refused: {payload}")
        };
        assert_eq!(
            i.role_arn,
            "arn:aws:iam::222222222222:role/backup-guard-member"
        );
        // The aggregate's input from the Map's ResultWriterDetails.
        let after_map = json!({"verify": {"ResultWriterDetails": {
            "Bucket": "work", "Key": "org-runs/abc/manifest.json"}}});
        let agg = resolve(
            &states["Aggregate"]["Parameters"]["Payload"],
            &after_map,
            &context,
        );
        assert!(
            matches!(parse_org_request(&agg), Some(Ok(OrgRequest::Aggregate(_)))),
            "{agg}"
        );
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn summaries_and_the_catchs_result_fit_the_item_output_schema() {
        let (props, _) = schema_props("item-output");
        let s = ItemSummary::unverifiable("222222222222", "eu-west-1", "AccessDenied");
        let v = serde_json::to_value(&s).unwrap();
        for k in v.as_object().unwrap().keys() {
            assert!(
                props.contains(k) || k == "backup_policy",
                "{k} not in item-output"
            );
        }
        // The Unverifiable Pass state's result reads back as an unverifiable summary.
        let pass = json!({"account": "222222222222", "region": "eu-west-1", "status": "unverifiable", "reason": "States.Timeout"});
        let back: ItemSummary = serde_json::from_value(pass).unwrap();
        assert_eq!(back.status, ItemStatus::Unverifiable);
    }

    #[test]
    fn bad_org_payloads_name_what_is_wrong_and_others_are_not_org_payloads() {
        assert!(parse_org_request(&json!({"now": "2026-11-25T12:00:00Z"})).is_none());
        assert!(parse_org_request(&json!({"mode": "nightly"})).is_none());
        let e = parse_org_request(
            &json!({"mode": "org-item", "account": "12", "region": "eu-west-1",
            "role_arn": "arn:aws:iam::12:role/x", "run_id": "r"}),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.field, "account");
        let e = parse_org_request(
            &json!({"mode": "org-item", "account": "222222222222", "region": "eu-west-1",
            "role_arn": "arn:aws:iam::333333333333:role/x", "run_id": "r"}),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.field, "role_arn");
        assert!(
            parse_org_request(&json!({"mode": "org-plan"}))
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn result_files_become_summaries_and_a_failed_execution_is_unverifiable() {
        let ok = ItemSummary {
            counts: [("compliant".to_string(), 3)].into_iter().collect(),
            status: ItemStatus::Verified,
            reason: None,
            ..ItemSummary::unverifiable("111111111111", "eu-west-1", "")
        };
        let file = json!([
            {"Status": "SUCCEEDED", "Input": "{\"account\":\"111111111111\",\"region\":\"eu-west-1\"}",
             "Output": serde_json::to_string(&ok).unwrap()},
            {"Status": "FAILED", "Input": "{\"account\":\"222222222222\",\"region\":\"eu-west-1\"}",
             "Error": "Lambda.Unknown", "Cause": "out of memory"}
        ]);
        let s = summaries_from_results(&[
            ("SUCCEEDED_0.json".into(), file.to_string()),
            ("bad".into(), "{".into()),
        ]);
        assert_eq!(s.len(), 3);
        let failed = s.iter().find(|x| x.account == "222222222222").unwrap();
        assert_eq!(failed.status, ItemStatus::Unverifiable);
        assert!(failed.reason.as_deref().unwrap().contains("out of memory"));
        let t = totals(&s);
        assert_eq!((t.verified, t.unverifiable), (1, 2));
        assert_eq!(t.counts.get("compliant"), Some(&3));
        let d = org_digest("r", &s, "2026-12-01T03:00:00Z".parse().unwrap());
        assert!(
            d.subject.starts_with("HIGH backup-guard org: 3 accounts"),
            "{}",
            d.subject
        );
        assert!(
            d.text.contains("NOT VERIFIED (2)")
                && d.text
                    .contains("222222222222/eu-west-1: the item's execution ended FAILED"),
            "{}",
            d.text
        );
    }

    #[test]
    fn an_effective_backup_policy_is_judged_by_plan_conformance() {
        let p = policy::Policy::default();
        let doc = |days: &str| {
            format!(
                r#"{{"plans":{{"daily":{{"regions":{{"@@assign":["eu-west-1"]}},
            "rules":{{"r":{{"schedule_expression":{{"@@assign":"cron(0 0 15,25 * ? *)"}},
            "start_backup_window_minutes":{{"@@assign":"60"}},"complete_backup_window_minutes":{{"@@assign":"180"}},
            "target_backup_vault_name":{{"@@assign":"v"}},"lifecycle":{{"delete_after_days":{{"@@assign":"{days}"}}}}}}}},
            "selections":{{"tags":{{"s":{{"iam_role_arn":{{"@@assign":"arn:aws:iam::$account:role/b"}},
            "tag_key":{{"@@assign":"backup"}},"tag_value":{{"@@assign":["yes"]}}}}}}}}}}}}}}"#
            )
        };
        assert!(matches!(
            judge_backup_policy(Some(&doc("90")), "111111111111", "eu-west-1", &p),
            BackupPolicyCheck::Conforms { .. }
        ));
        let BackupPolicyCheck::Drifts { deviations } =
            judge_backup_policy(Some(&doc("35")), "111111111111", "eu-west-1", &p)
        else {
            panic!("35 days must drift")
        };
        assert!(deviations[0].contains("35"), "{deviations:?}");
        assert!(matches!(
            judge_backup_policy(Some("{\"plans\": []}"), "111111111111", "eu-west-1", &p),
            BackupPolicyCheck::Unverifiable { .. }
        ));
        assert_eq!(
            judge_backup_policy(None, "111111111111", "eu-west-1", &p),
            BackupPolicyCheck::None
        );
    }
}
