//! The verifier's fault matrix: every operation of `AWS_OPERATIONS` × every fault (see
//! `local_account::matrix`), against one local account with the fault proxy in front of moto.
//! Every cell runs, every violation is collected, and the test fails once at the end with the
//! table of all of them; the cells render the verifier's section of `docs/FAULT_MATRIX.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use awsio::Budget;
use awsio::config::ClientSettings;
use awsio::finding_state::{self, OpenFinding};
use jiff::Timestamp;
use local_account::matrix::{self, Cell, FaultKind, Matrix};
use local_account::scenario::STATE_TABLE;
use local_account::{LocalAccount, Scenario};
use policy::{Policy, Verdict};
use recovery_verifier::{AWS_OPERATIONS, Deps, VerifierError, VerifierOutcome};
use serde_json::{Value, json};

/// The invocation's deadline (Lambda's timeout, scaled down).
const DEADLINE: Duration = Duration::from_secs(8);
/// The verifier's safety margin before the deadline: new work stops at 3 s, calls in flight
/// are cut at 5.5 s, the digest and state get until 7.5 s. A hang cell's side phase (state
/// load, digest, saving 1,560 findings) thus has 2 s: with 1 s, a loaded machine (the suite
/// runs two test binaries at once) sometimes left the state unsaved, which is safe but made
/// the rendered row depend on the load.
const SAFETY_MARGIN: Duration = Duration::from_secs(5);
/// How long a hung call is held (longer than the deadline).
const HANG: Duration = Duration::from_secs(10);
/// Local accounts beside the main one that run the hang cells (see `matrix::plan_lanes`):
/// none. A verifier cell reads a whole account (26 tables, 1,560 seeded findings) from moto,
/// and with two lanes side by side on 2 cores the digest and the state no longer fit in the
/// second the cells leave them (measured: runs ending 0.5 s after the deadline), so the cells
/// run one after the other.
const HANG_LANES: usize = 0;
/// Seeded open findings per table: enough for the saved state to need a second chunk item, so
/// a save deletes the previous generation's chunk (`DeleteItem`).
const SEEDED_PER_TABLE: usize = 60;

const INVARIANTS: &[&str] = &[
    "no table is `compliant` whose judgement needed the faulted fact (STS, ListTables, tags: every table; plans, selections, vaults, recovery points, jobs: every table but the exempt ones, which are judged on their tags alone; a vault's access policy and key: every non-exempt table with points in a vault; DescribeTable: the tables whose creation time the fault-free run read; state table and SNS: none)",
    "no open finding of the seeded previous state (every table has some) is resolved, or dropped from the saved state, for a table whose verdict needed the faulted fact, is unverifiable, or is missing from the report",
    "the run published its digest (the SQS subscriber received it) or returned Err; being killed at the deadline is neither",
    "the EMF lines count the unverifiable tables as the report does (and a failed region as failed)",
    "the faulted operation was called (the fault fired), and the SDK classified the fault as intended (throttling and 5xx retried, AccessDenied not)",
    "the evidence bundle is stored (S3.PutObject), or its failed write (always, when S3 is faulted) is a finding of the digest (subject and body say evidence NOT stored) and of the EvidenceNotWritten metric; no verdict depends on it",
];

/// audit-finding, plus a second selection and a second failed job so that every paginated
/// Backup read has a second page at one item per page.
fn scenario() -> Scenario {
    let path = format!(
        "{}/../../tests/scenarios/audit-finding.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["name"] = json!("fault-matrix");
    v["expectations"] = json!([]);
    v["selections"].as_array_mut().unwrap().push(json!({
        "plan": "analytics-35d",
        "name": "analytics-extra",
        "resources": ["arn:aws:dynamodb:us-east-1:123456789012:table/analytics-none"]
    }));
    let mut job = v["backup_jobs"][0].clone();
    job["id"] = json!("5A2F3E4D-6C7B-4A89-9FAE-1B2C3D4E5F60");
    job["table"] = json!("orders");
    v["backup_jobs"].as_array_mut().unwrap().push(job);
    // Restore testing configured: every table passed a restore test on the 25th (so the
    // fault-free verdicts are audit-finding's), one job per table (second pages at one per
    // page).
    let jobs: Vec<Value> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": format!("RT-FM-{i:02}"), "table": t["name"], "validation": "SUCCESSFUL",
                   "created": "2026-11-25T06:00:00Z"})
        })
        .collect();
    v["restore_testing"] = json!({ "jobs": jobs });
    Scenario::from_json(&v.to_string(), "fault-matrix").unwrap()
}

fn settings() -> ClientSettings {
    ClientSettings {
        initial_backoff: Duration::from_millis(5),
        retry_partition: Some(matrix::fresh_retry_partition()),
        ..ClientSettings::default()
    }
}

async fn deps(acct: &LocalAccount) -> Deps {
    let region = acct.scenario().region.clone();
    let mut policy = Policy::default();
    policy.restore_testing = acct.restore_testing().unwrap();
    Deps {
        policy,
        topic_arn: acct.topic_arn().to_string(),
        state_table: STATE_TABLE.to_string(),
        evidence_bucket: Some(acct.evidence_bucket().to_string()),
        home: acct.context_with(&settings()).await,
        regions: vec![(region, acct.context_with(&settings()).await)],
        safety_margin: SAFETY_MARGIN,
        concurrency: 8,
    }
}

fn seeded_findings(acct: &LocalAccount) -> BTreeMap<String, OpenFinding> {
    let filler = "x".repeat(150);
    acct.scenario()
        .tables
        .iter()
        .flat_map(|t| {
            let filler = filler.clone();
            (0..SEEDED_PER_TABLE).map(move |i| {
                let id = format!("seed-{}-{i}", t.name);
                (
                    id.clone(),
                    OpenFinding {
                        id,
                        code: policy::FindingCode::MissedSlot,
                        severity: policy::Severity::High,
                        table: t.name.clone(),
                        subject: Some(format!("2026-0{}-15T00:00:00Z {filler}", 1 + i % 9)),
                    },
                )
            })
        })
        .collect()
}

/// Saves the previous state (every table with open findings), past the proxy, and deletes
/// the creation-time cache, so every cell is a first night (its DescribeTable cells read the
/// creation times the baseline read).
async fn seed_state(acct: &LocalAccount, findings: &BTreeMap<String, OpenFinding>) {
    let ctx = acct.direct_context().await;
    let region = &acct.scenario().region;
    awsio::creation_cache::clear(
        ctx.dynamodb(),
        STATE_TABLE,
        &acct.scenario().account,
        region,
    )
    .await
    .unwrap();
    let prev = finding_state::load(ctx.dynamodb(), STATE_TABLE, region)
        .await
        .unwrap();
    let saved = finding_state::save(
        ctx.dynamodb(),
        STATE_TABLE,
        region,
        findings,
        acct.now(),
        prev.as_ref(),
    )
    .await
    .unwrap();
    assert!(saved.extra_chunks >= 1, "the seeded state needs two items");
}

enum Ran {
    Ok(Box<VerifierOutcome>),
    Err(VerifierError),
    Killed,
}

/// The tables whose verdict needs the fact `operation` reads.
/// The tables whose verdict needs what `operation` reads. An exempt table (in the fault-free
/// run) is judged on its tags alone: it needs the identity, the table list and the tags only.
///
/// A vault's access policy and key state matter only to the tables with points in a vault
/// (`with_points`: points inside the verifier's look-back).
fn dependents(
    operation: &str,
    all: &BTreeSet<String>,
    baseline: &Baseline,
    with_points: &BTreeSet<String>,
) -> BTreeSet<String> {
    match operation {
        "DynamoDB.DescribeTable" => baseline.described.clone(),
        "Backup.GetBackupVaultAccessPolicy" | "KMS.DescribeKey" => {
            with_points.difference(&baseline.exempt).cloned().collect()
        }
        "DynamoDB.GetItem"
        | "DynamoDB.PutItem"
        | "DynamoDB.DeleteItem"
        | "SNS.Publish"
        | "S3.PutObject" => BTreeSet::new(),
        "STS.GetCallerIdentity"
        | "DynamoDB.ListTables"
        | "Resource Groups Tagging API.GetResources" => all.clone(),
        _ => all.difference(&baseline.exempt).cloned().collect(),
    }
}

/// What the fault-free run found that the cells' invariants depend on.
#[derive(Debug, Clone, Default)]
struct Baseline {
    /// Tables whose creation time was read.
    described: BTreeSet<String>,
    /// Exempt tables.
    exempt: BTreeSet<String>,
}

fn verdict_word(v: Verdict) -> &'static str {
    v.as_str()
}

fn sample(items: &BTreeSet<String>) -> String {
    let v: Vec<&str> = items.iter().map(String::as_str).take(3).collect();
    let more = items.len().saturating_sub(3);
    if more > 0 {
        format!("{} (+{more})", v.join(", "))
    } else {
        v.join(", ")
    }
}

struct Run {
    cell: Cell,
    counted: BTreeMap<String, awsio::counter::OperationCalls>,
    baseline: Baseline,
}

async fn run_cell(
    acct: &LocalAccount,
    operation: Option<&str>,
    kind: Option<FaultKind>,
    seeded: &BTreeMap<String, OpenFinding>,
    baseline: &Baseline,
) -> Run {
    matrix::clear(acct);
    seed_state(acct, seeded).await;
    acct.receive_alerts().await.unwrap();
    let mut violations = Vec::new();
    if let (Some(op), Some(k)) = (operation, kind)
        && let Err(e) = matrix::inject(acct, op, k, HANG)
    {
        violations.push(e);
    }
    let deps = deps(acct).await;
    let payload = json!({"now": acct.now().to_string()});
    let budget = Budget::from_now(DEADLINE);
    let ran = match tokio::time::timeout(DEADLINE, recovery_verifier::run(payload, &deps, budget))
        .await
    {
        Ok(Ok(o)) => Ran::Ok(Box::new(o)),
        Ok(Err(e)) => Ran::Err(e),
        Err(_) => Ran::Killed,
    };
    let fired = operation.map(|op| matrix::injected(acct, op));
    matrix::clear(acct);

    let mut counted = deps.home.calls.snapshot();
    for (k, v) in deps.regions[0].1.calls.snapshot() {
        let e = counted.entry(k).or_default();
        e.attempts += v.attempts;
        e.retries += v.retries;
        e.failed_attempts += v.failed_attempts;
    }
    if let (Some(op), Some(k), Some(fired)) = (operation, kind, fired) {
        violations.extend(matrix::fault_violations(op, k, fired, &counted));
    }

    let all: BTreeSet<String> = acct
        .scenario()
        .tables
        .iter()
        .map(|t| t.name.clone())
        .collect();
    // The verifier lists points from now − 90 days − 7 days (its look-back).
    let points_after = acct.now() - jiff::SignedDuration::from_hours(24 * (90 + 7));
    let with_points: BTreeSet<String> = acct
        .scenario()
        .recovery_points
        .iter()
        .filter(|p| p.created > points_after)
        .map(|p| p.table.clone())
        .collect();
    let needs = operation.map_or_else(BTreeSet::new, |op| {
        dependents(op, &all, baseline, &with_points)
    });
    let alerts = acct.receive_alerts().await.unwrap();
    let region = acct.scenario().region.clone();
    let mut run_baseline = Baseline::default();

    let outcome = match &ran {
        Ran::Ok(o) => {
            let r = &o.regions[0];
            run_baseline.described = r.described_tables.iter().cloned().collect();
            run_baseline.exempt = r
                .report
                .tables
                .iter()
                .filter(|t| t.verdict == Verdict::Exempt)
                .map(|t| t.table.name.clone())
                .collect();
            let verdicts: BTreeMap<&str, Verdict> = r
                .report
                .tables
                .iter()
                .map(|t| (t.table.name.as_str(), t.verdict))
                .collect();
            let wrongly_compliant: BTreeSet<String> = verdicts
                .iter()
                .filter(|(t, v)| **v == Verdict::Compliant && needs.contains(**t))
                .map(|(t, _)| t.to_string())
                .collect();
            if !wrongly_compliant.is_empty() {
                violations.push(format!(
                    "{} table(s) compliant although their verdict needed {}: {}",
                    wrongly_compliant.len(),
                    operation.unwrap_or("?"),
                    sample(&wrongly_compliant)
                ));
            }
            let resolved = o
                .diffs
                .get(&region)
                .map(|d| d.resolved.clone())
                .unwrap_or_default();
            let wrongly_resolved: BTreeSet<String> = resolved
                .iter()
                .filter(|f| {
                    needs.contains(&f.table)
                        || verdicts
                            .get(f.table.as_str())
                            .is_none_or(|v| *v == Verdict::Unverifiable)
                })
                .map(|f| f.table.clone())
                .collect();
            if !wrongly_resolved.is_empty() {
                violations.push(format!(
                    "findings of {} table(s) resolved from an unread fact: {}",
                    wrongly_resolved.len(),
                    sample(&wrongly_resolved)
                ));
            }
            let digest_received = o
                .digest_message_id
                .as_ref()
                .is_some_and(|id| alerts.iter().any(|a| &a.message_id == id));
            if !digest_received {
                violations.push("Ok, but the subscriber received no digest".into());
            }
            // EMF: the region's line counts unverifiable tables as the report does.
            let lines = recovery_verifier::metrics::emf_lines(&o.regions, Timestamp::now(), 0);
            let unverifiable = r
                .report
                .tables
                .iter()
                .filter(|t| t.verdict == Verdict::Unverifiable)
                .count() as u64;
            let region_line = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l.get("Region").and_then(Value::as_str) == Some(region.as_str()));
            let global_line = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l.get("RegionsFailed").is_some());
            match region_line.and_then(|l| l.get("TablesUnverifiable").and_then(Value::as_u64)) {
                Some(n) if n == unverifiable => {}
                other => violations.push(format!(
                    "EMF TablesUnverifiable {other:?}, the report has {unverifiable} unverifiable table(s)"
                )),
            }
            let failed = global_line
                .and_then(|l| l.get("RegionsFailed").and_then(Value::as_u64))
                .unwrap_or(0);
            if r.failure.is_some() && failed == 0 {
                violations.push("the region failed but EMF RegionsFailed is 0".into());
            }
            let evidence = o.evidence.get(&region);
            let faults_s3 = operation.is_some_and(|op| op.starts_with("S3."));
            let evidence_failed = evidence.is_some_and(|e| e.failed());
            let stored = matches!(
                evidence,
                Some(recovery_verifier::EvidenceStatus::Written { .. })
            );
            if faults_s3 && !evidence_failed {
                violations.push(format!(
                    "S3 faulted but the evidence is reported as {evidence:?}"
                ));
            }
            if !stored && !evidence_failed {
                violations.push(format!("evidence neither stored nor failed: {evidence:?}"));
            }
            if evidence_failed {
                if !o.digest.subject.contains("evidence NOT stored")
                    || !o.digest.text.contains("NOT WRITTEN")
                {
                    violations.push("the failed evidence write is not in the digest".into());
                }
                let metric =
                    recovery_verifier::metrics::evidence_line(Timestamp::now(), &o.evidence)
                        .and_then(|l| serde_json::from_str::<Value>(&l).ok())
                        .and_then(|l| l.get("EvidenceNotWritten").and_then(Value::as_u64));
                if metric != Some(1) {
                    violations.push(format!("EMF EvidenceNotWritten is {metric:?}, not 1"));
                }
            }
            let count = |v: Verdict| verdicts.values().filter(|x| **x == v).count();
            let mut parts = vec![format!("{} tables", verdicts.len())];
            for v in Verdict::ALL {
                let n = count(v);
                if n > 0 {
                    parts.push(format!("{} {n}", verdict_word(v)));
                }
            }
            let mut s = parts.join(", ");
            if r.failure.is_some() {
                s.push_str("; region failed");
            }
            s.push_str(if digest_received {
                "; digest sent"
            } else {
                "; no digest"
            });
            s.push_str(&format!("; {} resolved", resolved.len()));
            s.push_str(if evidence_failed {
                "; evidence not stored (in the digest)"
            } else {
                "; evidence stored"
            });
            if o.state_errors
                .iter()
                .any(|e| e.contains("could not be loaded"))
            {
                s.push_str("; previous state unreadable");
            }
            if o.state_errors
                .iter()
                .any(|e| e.contains("could not be saved"))
            {
                s.push_str("; state not saved");
            }
            s
        }
        Ran::Err(e) => {
            let what = match e {
                VerifierError::NothingVerifiable(_) => "nothing verifiable",
                VerifierError::DigestNotSent(_) => "digest not sent",
                VerifierError::Payload(_) => "payload",
                VerifierError::UnknownRegion { .. } => "unknown region",
                VerifierError::Org(_) => "org step",
            };
            // A publish cut at the deadline may still have reached SNS (the request went out,
            // the answer came too late): whether the subscriber got it then depends on the
            // machine's load, not on the code, so that case is rendered the same either way.
            // The invariant (published or Err) holds in both.
            let digest = if alerts.is_empty() || matches!(e, VerifierError::DigestNotSent(_)) {
                ""
            } else {
                ", digest sent"
            };
            format!("invocation failed ({what}{digest})")
        }
        Ran::Killed => {
            violations.push(
                "killed at the deadline: no digest, no error returned (the safety margin did not hold)".into(),
            );
            "killed at the deadline".to_string()
        }
    };

    // A run that did not return Ok (no diff to look at) must not have dropped, from the saved
    // state, the open findings of tables whose verdict needed the faulted fact.
    let ctx = acct.direct_context().await;
    let saved = match &ran {
        Ran::Ok(_) => None,
        _ => finding_state::load(ctx.dynamodb(), STATE_TABLE, &region)
            .await
            .ok()
            .flatten(),
    };
    if let Some(state) = saved {
        let dropped: BTreeSet<String> = seeded
            .values()
            .filter(|f| !state.findings.contains_key(&f.id) && needs.contains(&f.table))
            .map(|f| f.table.clone())
            .collect();
        if !dropped.is_empty() {
            violations.push(format!(
                "the saved state dropped open findings of {} unverified table(s): {}",
                dropped.len(),
                sample(&dropped)
            ));
        }
    }

    Run {
        cell: Cell {
            operation: operation.unwrap_or("(baseline)").to_string(),
            fault: kind,
            outcome,
            violations,
        },
        counted,
        baseline: run_baseline,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_times_every_fault() {
    let lanes = matrix::plan_lanes(AWS_OPERATIONS, HANG_LANES);
    // The hang lanes' accounts start while the baseline runs.
    let (acct, extra) = tokio::join!(
        async { LocalAccount::start_with_proxy(&scenario()).await.unwrap() },
        futures::future::join_all(
            (1..lanes.len())
                .map(|_| async { LocalAccount::start_with_proxy(&scenario()).await.unwrap() })
        )
    );
    let seeded = seeded_findings(&acct);
    let mut m = Matrix::new("recovery-verifier", INVARIANTS);
    let listed: BTreeSet<&str> = AWS_OPERATIONS.iter().copied().collect();

    // Fault-free baseline: every counted operation is in the list; it also says which tables
    // need their creation time.
    let base = run_cell(&acct, None, None, &seeded, &Baseline::default()).await;
    let baseline = base.baseline.clone();
    let described = &baseline.described;
    let mut base_cell = base.cell;
    let unlisted: Vec<&String> = base
        .counted
        .keys()
        .filter(|k| !listed.contains(k.as_str()))
        .collect();
    if !unlisted.is_empty() {
        base_cell.violations.push(format!(
            "counted but not in AWS_OPERATIONS (names as the call counter spells them): {unlisted:?}"
        ));
    }
    base_cell.outcome.push_str(&format!(
        "; {} of {} listed operations called; DescribeTable for {} table(s)",
        base.counted
            .keys()
            .filter(|k| listed.contains(k.as_str()))
            .count(),
        listed.len(),
        described.len()
    ));
    m.cells.push(base_cell);

    let accounts = std::iter::once(&acct).chain(extra.iter());
    let (seeded, baseline) = (&seeded, &baseline);
    let mut runs: Vec<(usize, Run)> =
        futures::future::join_all(lanes.iter().zip(accounts).map(|(lane, acct)| async move {
            let mut out = Vec::new();
            for c in lane {
                let run = run_cell(acct, Some(c.operation), Some(c.kind), seeded, baseline).await;
                out.push((c.number, run));
            }
            out
        }))
        .await
        .into_iter()
        .flatten()
        .collect();
    runs.sort_by_key(|(number, _)| *number);

    let mut called: BTreeSet<String> = base.counted.keys().cloned().collect();
    for (_, run) in runs {
        called.extend(run.counted.keys().cloned());
        m.cells.push(run.cell);
    }
    let baseline_ops: BTreeSet<String> = base.counted.keys().cloned().collect();
    m.check_operations(AWS_OPERATIONS, &baseline_ops, &called);

    let problems = m.finish();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
