//! The organization fan-out's fault matrix: every operation of `ORG_OPERATIONS` × every fault
//! (see `local_account::matrix`), against a small local organization (`org-small`: 3 accounts ×
//! 1 region × 5 tables) with the fault proxy in front of moto for the management account.
//! Each cell runs the org step its operation belongs to — the Plan step for the listings, one
//! item for `AssumeRole` and `DescribeEffectivePolicy`, the Aggregate step for `GetObject` —
//! every violation is collected, and the test fails once at the end with the table of all of
//! them; the cells render the `recovery-verifier org` section of `docs/FAULT_MATRIX.md`.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use awsio::Budget;
use awsio::config::ClientSettings;
use futures::FutureExt;
use local_account::LocalAccount;
use local_account::matrix::{self, Cell, FaultKind, Matrix};
use local_account::org::{OrgAccount, OrgScenario};
use local_account::scenario::STATE_TABLE;
use policy::Policy;
use recovery_verifier::org::{
    AggregateRequest, BackupPolicyCheck, ItemRequest, ItemStatus, ItemSummary, MODE_AGGREGATE,
    MODE_ITEM, MODE_PLAN, OrgRequest, PlanRequest, ResultsLocation,
};
use recovery_verifier::org_run::{run_org, verify_item};
use recovery_verifier::{AWS_OPERATIONS, Deps, ORG_OPERATIONS, VerifierError};
use serde_json::{Value, json};

/// The invocation's deadline (Lambda's timeout, scaled down).
const DEADLINE: Duration = Duration::from_secs(5);
/// The safety margin: an item's region work stops at 2.5 s, calls are cut at 3.75 s, the
/// digest gets until 4.5 s.
const SAFETY_MARGIN: Duration = Duration::from_millis(2500);
/// How long a hung call is held (longer than the deadline).
const HANG: Duration = Duration::from_secs(7);
const RUN_ID: &str = "org-fault-matrix";
/// The member whose item the `AssumeRole` and `DescribeEffectivePolicy` cells verify.
const MEMBER: &str = "100000000002";

const INVARIANTS: &[&str] = &[
    "Plan step (ListAccounts; ListAccountsForParent and ListOrganizationalUnitsForParent with include_ous = the root): `Err(VerifierError::Org)` naming the failed operation (the state machine fails the run, its alarm fires), never Ok with fewer items than the organization has (a dropped account is never compliant)",
    "item (AssumeRole): an unverifiable summary naming the member role and the error, never a panic or a verified item",
    "item (DescribeEffectivePolicy): the item is still verified and its backup_policy is `unverifiable` with the reason, never `none` or `conforms`",
    "Aggregate step (GetObject of the manifest and the result files): Err naming the read, never a digest that silently lacks items",
    "every step returns within the invocation's deadline (a hung call is cut before it; being killed at the deadline is a violation)",
    "the faulted operation was called (the fault fired), and the SDK classified the fault as intended (throttling and 5xx retried, AccessDenied not)",
];

fn settings() -> ClientSettings {
    ClientSettings {
        initial_backoff: Duration::from_millis(5),
        retry_partition: Some(matrix::fresh_retry_partition()),
        ..ClientSettings::default()
    }
}

async fn deps(mgmt: &LocalAccount) -> Deps {
    Deps {
        policy: Policy::default(),
        topic_arn: mgmt.topic_arn().to_string(),
        state_table: STATE_TABLE.to_string(),
        evidence_bucket: Some(mgmt.evidence_bucket().to_string()),
        home: mgmt.context_with(&settings()).await,
        regions: Vec::new(),
        safety_margin: SAFETY_MARGIN,
        concurrency: 4,
    }
}

/// The org step an operation's cells run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The Plan step over every account (`ListAccounts`).
    Plan,
    /// The Plan step with `include_ous` = the root (`ListAccountsForParent`,
    /// `ListOrganizationalUnitsForParent`).
    PlanUnderRoot,
    /// One item of [`MEMBER`].
    Item,
    /// The Aggregate step.
    Aggregate,
}

fn step_of(operation: &str) -> Step {
    match operation {
        "Organizations.ListAccounts" => Step::Plan,
        "Organizations.ListAccountsForParent"
        | "Organizations.ListOrganizationalUnitsForParent" => Step::PlanUnderRoot,
        "STS.AssumeRole" | "Organizations.DescribeEffectivePolicy" => Step::Item,
        _ => Step::Aggregate,
    }
}

/// The operation part of `Service.Operation` (what an error message names).
fn op_name(operation: &str) -> &str {
    operation.split_once('.').map_or(operation, |(_, o)| o)
}

/// `failed (Code)` of an `AwsCallError`'s text, else `no error code` (a cut call): the
/// rendered outcome holds no timings or request ids.
fn code_of(text: &str) -> String {
    text.split("failed (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .map_or("no error code".to_string(), |c| c.to_string())
}

struct Fixture {
    org: OrgAccount,
    region: String,
    /// The manifest's key in the work bucket (the Aggregate step's input).
    manifest_key: String,
    expected_items: usize,
}

impl Fixture {
    fn mgmt(&self) -> &LocalAccount {
        self.org.management(&self.region).unwrap()
    }

    fn plan(&self, under_root: bool) -> OrgRequest {
        OrgRequest::Plan(PlanRequest {
            mode: MODE_PLAN.to_string(),
            run_id: RUN_ID.to_string(),
            regions: vec![self.region.clone()],
            include_ous: if under_root {
                vec![self.org.root_id().to_string()]
            } else {
                Vec::new()
            },
            exclude_ous: Vec::new(),
            exclude_accounts: Vec::new(),
            member_role_name: self.org.org().member_role_name.clone(),
            items_bucket: self.mgmt().evidence_bucket().to_string(),
        })
    }

    fn item(&self) -> ItemRequest {
        ItemRequest {
            mode: MODE_ITEM.to_string(),
            account: MEMBER.to_string(),
            region: self.region.clone(),
            role_arn: self.org.member_role_arn(MEMBER),
            run_id: RUN_ID.to_string(),
        }
    }

    fn aggregate(&self) -> OrgRequest {
        OrgRequest::Aggregate(AggregateRequest {
            mode: MODE_AGGREGATE.to_string(),
            run_id: RUN_ID.to_string(),
            results: ResultsLocation {
                bucket: self.mgmt().evidence_bucket().to_string(),
                key: self.manifest_key.clone(),
            },
        })
    }
}

/// Writes (past the proxy) a `ResultWriter` manifest naming one result file that holds
/// `summary` as Step Functions writes a succeeded item; returns the manifest's key.
async fn write_results(mgmt: &LocalAccount, summary: &ItemSummary) -> String {
    let ctx = mgmt.direct_context().await;
    let prefix = format!("org-results/{RUN_ID}/run");
    let result_key = format!("{prefix}/SUCCEEDED_0.json");
    let manifest_key = format!("{prefix}/manifest.json");
    let input = json!({"account": summary.account, "region": summary.region}).to_string();
    let file = json!([{
        "Status": "SUCCEEDED",
        "Input": input,
        "Output": serde_json::to_string(summary).unwrap(),
    }]);
    let manifest = json!({"ResultFiles": {
        "SUCCEEDED": [{"Key": result_key, "Size": 1}], "FAILED": [], "PENDING": []}});
    for (key, body) in [(&result_key, file), (&manifest_key, manifest)] {
        ctx.s3()
            .put_object()
            .bucket(mgmt.evidence_bucket())
            .key(key)
            .body(body.to_string().into_bytes().into())
            .send()
            .await
            .unwrap();
    }
    manifest_key
}

/// What a step did, for the invariants.
enum Ran {
    Plan(Result<Value, VerifierError>),
    Item(ItemSummary),
    Aggregate(Result<Value, VerifierError>),
    Panicked(String),
    Killed,
}

struct Run {
    cell: Cell,
    counted: BTreeSet<String>,
}

async fn run_step(fx: &Fixture, step: Step, deps: &Deps) -> Ran {
    let budget = Budget::from_now(DEADLINE);
    let now = fx.org.org().now;
    let fut = async {
        match step {
            Step::Plan | Step::PlanUnderRoot => {
                Ran::Plan(run_org(fx.plan(step == Step::PlanUnderRoot), deps, budget).await)
            }
            Step::Item => Ran::Item(verify_item(&fx.item(), deps, &budget, now).await.0),
            Step::Aggregate => Ran::Aggregate(run_org(fx.aggregate(), deps, budget).await),
        }
    };
    match tokio::time::timeout(DEADLINE, AssertUnwindSafe(fut).catch_unwind()).await {
        Ok(Ok(r)) => r,
        Ok(Err(p)) => Ran::Panicked(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
        Err(_) => Ran::Killed,
    }
}

async fn run_cell(
    fx: &Fixture,
    step: Step,
    operation: Option<&str>,
    kind: Option<FaultKind>,
) -> Run {
    let mgmt = fx.mgmt();
    matrix::clear(mgmt);
    let mut violations = Vec::new();
    if let (Some(op), Some(k)) = (operation, kind)
        && let Err(e) = matrix::inject(mgmt, op, k, HANG)
    {
        violations.push(e);
    }
    let deps = deps(mgmt).await;
    let ran = run_step(fx, step, &deps).await;
    let fired = operation.map(|op| matrix::injected(mgmt, op));
    matrix::clear(mgmt);
    let counted = deps.home.calls.snapshot();
    if let (Some(op), Some(k), Some(fired)) = (operation, kind, fired) {
        violations.extend(matrix::fault_violations(op, k, fired, &counted));
    }
    let faulted = operation.is_some();
    let names = |text: &str| operation.is_none_or(|op| text.contains(op_name(op)));

    let outcome = match &ran {
        Ran::Plan(Ok(v)) | Ran::Aggregate(Ok(v)) => {
            let n = v
                .get("count")
                .or_else(|| v.get("items"))
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            if faulted {
                violations.push(format!(
                    "Ok ({n} item(s)) although every {} call failed",
                    operation.unwrap_or("?")
                ));
            } else if n != fx.expected_items && matches!(ran, Ran::Plan(_)) {
                violations.push(format!(
                    "{n} item(s), the organization has {}",
                    fx.expected_items
                ));
            }
            match ran {
                Ran::Plan(_) => format!("Ok: {n} item(s) written"),
                _ => format!("Ok: digest of {n} item(s) sent"),
            }
        }
        Ran::Plan(Err(e)) | Ran::Aggregate(Err(e)) => {
            let text = e.to_string();
            if !matches!(e, VerifierError::Org(_)) {
                violations.push(format!("Err, but not an org-step error: {text}"));
            }
            if !names(&text) {
                violations.push(format!(
                    "the error does not name {}: {text}",
                    operation.unwrap_or("?")
                ));
            }
            let what = text
                .trim_start_matches("org fan-out: ")
                .split(": ")
                .next()
                .unwrap_or_default()
                .to_string();
            format!("Err (run fails, alarm): {what}: {}", code_of(&text))
        }
        Ran::Item(s) => {
            let reason = s.reason.clone().unwrap_or_default();
            match operation {
                Some("STS.AssumeRole") => {
                    if s.status != ItemStatus::Unverifiable {
                        violations
                            .push(format!("AssumeRole failed but the item is {:?}", s.status));
                    }
                    let role = fx.org.member_role_arn(MEMBER);
                    if !reason.contains(&role) || !names(&reason) {
                        violations.push(format!(
                            "the reason does not name the role and the error: {reason:?}"
                        ));
                    }
                }
                Some(_) => {
                    if s.status != ItemStatus::Verified {
                        violations.push(format!("the item is {:?}: {reason}", s.status));
                    }
                    match &s.backup_policy {
                        Some(BackupPolicyCheck::Unverifiable { reason }) if names(reason) => {}
                        other => violations.push(format!(
                            "DescribeEffectivePolicy failed but backup_policy is {other:?}"
                        )),
                    }
                }
                None => {
                    if s.status != ItemStatus::Verified {
                        violations
                            .push(format!("fault-free, the item is {:?}: {reason}", s.status));
                    }
                }
            }
            let policy = match &s.backup_policy {
                None => "not judged".to_string(),
                Some(BackupPolicyCheck::Unverifiable { reason }) => {
                    format!("unverifiable ({})", code_of(reason))
                }
                Some(p) => serde_json::to_value(p)
                    .ok()
                    .and_then(|v| {
                        v.get("backup_policy")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| format!("{p:?}")),
            };
            match s.status {
                ItemStatus::Verified => format!("item verified; backup policy {policy}"),
                _ => format!("item unverifiable: {}", code_of(&reason)),
            }
        }
        Ran::Panicked(p) => {
            violations.push(format!("panicked: {p}"));
            "panicked".to_string()
        }
        Ran::Killed => {
            violations.push("killed at the deadline: the step did not return in time".into());
            "killed at the deadline".to_string()
        }
    };
    let label = match (operation, step) {
        (Some(op), _) => op.to_string(),
        (None, Step::Plan) => "(baseline: Plan)".into(),
        (None, Step::PlanUnderRoot) => "(baseline: Plan under the root)".into(),
        (None, Step::Item) => "(baseline: item)".into(),
        (None, Step::Aggregate) => "(baseline: Aggregate)".into(),
    };
    Run {
        cell: Cell {
            operation: label,
            fault: kind,
            outcome,
            violations,
        },
        counted: counted.into_keys().collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_org_operation_times_every_fault() {
    let started = std::time::Instant::now();
    let spec = OrgScenario::shipped("org-small").unwrap();
    let org = LocalAccount::start_org_with_proxy(&spec).await.unwrap();
    let region = spec.regions[0].clone();
    let mgmt = org.management(&region).unwrap();
    assert!(
        mgmt.proxy().is_some(),
        "the management account has the proxy"
    );
    let seeded = started.elapsed();

    // A fault-free item gives the Aggregate step's result file.
    let base_deps = deps(mgmt).await;
    let mut fx = Fixture {
        expected_items: spec.accounts.len() * spec.regions.len(),
        org,
        region,
        manifest_key: String::new(),
    };
    let (summary, _) = verify_item(
        &fx.item(),
        &base_deps,
        &Budget::from_now(DEADLINE),
        spec.now,
    )
    .await;
    fx.manifest_key = write_results(fx.mgmt(), &summary).await;

    let mut m = Matrix::new("recovery-verifier org", INVARIANTS);
    let mut called: BTreeSet<String> = BTreeSet::new();
    for step in [Step::Plan, Step::PlanUnderRoot, Step::Item, Step::Aggregate] {
        let run = run_cell(&fx, step, None, None).await;
        called.extend(run.counted);
        m.cells.push(run.cell);
    }
    for op in ORG_OPERATIONS {
        for kind in matrix::kinds_for(op) {
            let run = run_cell(&fx, step_of(op), Some(op), Some(kind)).await;
            called.extend(run.counted);
            m.cells.push(run.cell);
        }
    }
    // Every ORG_OPERATIONS name was counted in some cell; nothing counted is in neither list.
    let nightly: BTreeSet<String> = AWS_OPERATIONS.iter().map(|s| s.to_string()).collect();
    m.check_operations(ORG_OPERATIONS, &nightly, &called);

    let problems = m.finish();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "org fault matrix: seeded in {seeded:?}, {} cells in {:?}\n",
            m.cells.len(),
            started.elapsed() - seeded
        )
        .as_bytes(),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
