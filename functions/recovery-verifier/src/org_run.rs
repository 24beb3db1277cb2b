//! The organization fan-out's three steps with their I/O ([`crate::org`] holds the contracts
//! and decisions): the Plan step lists the accounts and writes the items, each item assumes
//! its member role and verifies one account × region with the same [`verify_region`] as the
//! nightly run, the Aggregate step reads the Distributed Map's results and sends one digest.
//! `backup-guard audit --org` runs [`run_item`] for each item itself, with bounded
//! concurrency: the same per-item code, not a second engine.
//!
//! Invariant: an item never fails the run. A member role that cannot be assumed, a region
//! that cannot be read, an item that timed out: each becomes an unverifiable summary with its
//! reason; the Aggregate step fails the invocation only when it cannot read the results or
//! publish the digest (then the state machine's run fails and its alarm fires).

use awsio::Budget;
use awsio::evidence_store::{self, StoreError};
use awsio::publisher;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::evidence_step::{self, EvidenceRun, EvidenceStatus};
use crate::org::{
    AggregateRequest, ItemRequest, ItemSummary, OrgRequest, PlanRequest, judge_backup_policy,
    org_digest, org_index, plan_items, summaries_from_results, totals,
};
use crate::verify::{VerifyOptions, verify_region};
use crate::{Deps, VerifierError, work_deadline};

/// The step's result as the state machine receives it.
pub async fn run_org(req: OrgRequest, deps: &Deps, budget: Budget) -> Result<Value, VerifierError> {
    match req {
        OrgRequest::Plan(p) => run_plan(&p, deps, &budget).await,
        OrgRequest::Item(i) => {
            let s = run_item(&i, deps, &budget, Timestamp::now()).await;
            serde_json::to_value(&s).map_err(|e| VerifierError::Org(e.to_string()))
        }
        OrgRequest::Aggregate(a) => run_aggregate(&a, deps, &budget, Timestamp::now()).await,
    }
}

/// The key of a run's items file in the work bucket.
pub fn items_key(run_id: &str) -> String {
    format!("org-items/{run_id}/items.json")
}

/// The items of a run: the accounts (all ACTIVE ones, or those under `include_ous`) × the
/// regions, from the organization as `home` sees it (the Plan step and `audit --org`).
pub async fn list_items(
    req: &PlanRequest,
    home: &awsio::AwsContext,
) -> Result<Vec<crate::org::Item>, VerifierError> {
    let ous: Vec<String> = req
        .include_ous
        .iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    let accounts = if ous.is_empty() {
        awsio::org::active_accounts(home).await
    } else {
        awsio::org::accounts_under(home, &ous).await
    }
    .map_err(|e| VerifierError::Org(format!("listing the organization's accounts: {e}")))?;
    let excluded_ous: Vec<String> = req
        .exclude_ous
        .iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    let accounts = if excluded_ous.is_empty() {
        accounts
    } else {
        let out = awsio::org::accounts_under(home, &excluded_ous)
            .await
            .map_err(|e| {
                VerifierError::Org(format!("listing the accounts of the excluded OUs: {e}"))
            })?;
        accounts
            .into_iter()
            .filter(|a| !out.iter().any(|x| x.id == a.id))
            .collect()
    };
    let identity = awsio::inventory::caller_identity(home.sts())
        .await
        .map_err(|e| VerifierError::Org(format!("reading the caller identity: {e}")))?;
    Ok(plan_items(
        &accounts,
        req,
        &identity.partition,
        home.region().unwrap_or("us-east-1"),
    ))
}

/// The central clients with every call cut at `reserve` before the invocation's deadline: the
/// clients keep the production timeouts (attempt 30 s, operation 120 s), so without this a
/// hung call (AssumeRole, DescribeEffectivePolicy, the listing, a result file) would run past
/// the Lambda timeout and the step would be killed instead of returning its error.
fn capped(deps: &Deps, budget: &Budget, reserve: std::time::Duration) -> awsio::AwsContext {
    deps.home.with_deadline(budget.before_deadline(reserve))
}

/// The Plan step: [`list_items`], written to the work bucket for the Map's `ItemReader`.
async fn run_plan(req: &PlanRequest, deps: &Deps, budget: &Budget) -> Result<Value, VerifierError> {
    let home = &capped(deps, budget, deps.safety_margin / 2);
    let items = list_items(req, home).await?;
    let key = items_key(&req.run_id);
    evidence_store::put_json(home.s3(), &req.items_bucket, &key, &items)
        .await
        .map_err(|e| VerifierError::Org(format!("writing the items: {e}")))?;
    Ok(json!({
        "run_id": req.run_id,
        "items_bucket": req.items_bucket,
        "items_key": key,
        "count": items.len(),
    }))
}

/// One item: assume the member role (1 hour at most, role chaining), verify the account in
/// the region, judge its effective backup policy (with the central clients: the management
/// or delegated administrator account answers `DescribeEffectivePolicy`), write its
/// evidence to the central bucket. Never fails: what could not be done is the summary's
/// reason.
pub async fn run_item(
    req: &ItemRequest,
    deps: &Deps,
    budget: &Budget,
    now: Timestamp,
) -> ItemSummary {
    verify_item(req, deps, budget, now).await.0
}

/// [`run_item`], also returning the account-region's full report when it was verified (what
/// the tests compare with a scenario's expected findings).
pub async fn verify_item(
    req: &ItemRequest,
    deps: &Deps,
    budget: &Budget,
    now: Timestamp,
) -> (ItemSummary, Option<crate::RegionReport>) {
    let session = format!("backup-guard-{}", crate::org::session_suffix(&req.run_id));
    // The central calls (AssumeRole, DescribeEffectivePolicy) end before the deadline, as the
    // region's own calls do (`call_deadline`).
    let home = capped(deps, budget, deps.safety_margin / 2);
    let member = match awsio::org::assume_member(&home, &req.role_arn, &session, &req.region).await
    {
        Ok(ctx) => ctx,
        Err(e) => {
            let why = format!("the member role {} could not be assumed: {e}", req.role_arn);
            return (
                ItemSummary::unverifiable(&req.account, &req.region, why),
                None,
            );
        }
    };
    // The member's creation times cached in the central state table, as the nightly run's
    // (`created#<member account>#<region>`); none without a state table (`audit --org`).
    let creation_cache = (!deps.state_table.is_empty()).then(|| crate::verify::CacheSource {
        home: home.clone(),
        table: deps.state_table.clone(),
        timeout: crate::cache_load_timeout(budget),
    });
    let opts = VerifyOptions {
        deadline: Some(work_deadline(budget, deps.safety_margin)),
        call_deadline: Some(budget.before_deadline(deps.safety_margin / 2)),
        concurrency: deps.concurrency,
        creation_cache,
        ..VerifyOptions::default()
    };
    let mut report = verify_region(&member, &deps.policy, now, &opts).await;
    if report.account.as_deref().is_some_and(|a| a != req.account) {
        let summary = ItemSummary::unverifiable(
            &req.account,
            &req.region,
            format!(
                "the member role {} acts in account {}, not {}: nothing of it is reported under {}",
                req.role_arn,
                report.account.as_deref().unwrap_or("?"),
                req.account,
                req.account
            ),
        );
        return (summary, None);
    }
    report.account = Some(req.account.clone());
    let evidence = write_item_evidence(deps, budget, &report, &req.run_id, now).await;
    let evidence = match &evidence {
        EvidenceStatus::Written { location } => location.clone(),
        other => other.line(&req.region),
    };
    save_item_cache(&home, deps, &report, &req.account, now).await;
    let mut summary = crate::org::item_summary(&report, &req.account, Some(evidence));
    summary.backup_policy = Some(
        match awsio::org::effective_backup_policy(&home, &req.account).await {
            Ok(text) => {
                judge_backup_policy(text.as_deref(), &req.account, &req.region, &deps.policy)
            }
            Err(e) => crate::org::BackupPolicyCheck::Unverifiable {
                reason: format!("the effective backup policy could not be read: {e}"),
            },
        },
    );
    (summary, Some(report))
}

/// Saves the item's creation-time cache when it changed (a failure only costs the next
/// night its `DescribeTable` calls again).
async fn save_item_cache(
    home: &awsio::AwsContext,
    deps: &Deps,
    report: &crate::RegionReport,
    account: &str,
    now: Timestamp,
) {
    let Some(cache) = &report.creation_cache else {
        return;
    };
    if !cache.changed || !cache.saveable {
        return;
    }
    if let Err(e) = awsio::creation_cache::save(
        home.dynamodb(),
        &deps.state_table,
        account,
        &report.region,
        &cache.times,
        now,
        cache.previous.as_ref(),
    )
    .await
    {
        tracing::warn!(account, region = %report.region, error = %e, "creation-time cache not saved; the next night reads those creation times again");
    }
}

async fn write_item_evidence(
    deps: &Deps,
    budget: &Budget,
    report: &crate::RegionReport,
    run_id: &str,
    now: Timestamp,
) -> EvidenceStatus {
    let home = deps
        .home
        .with_deadline(budget.before_deadline(deps.safety_margin / 2));
    let run = EvidenceRun {
        bucket: deps.evidence_bucket.as_deref(),
        dry_run: false,
        run_id,
        generated_at: now,
    };
    let mut written = evidence_step::write_evidence(
        &home,
        &run,
        std::slice::from_ref(report),
        &Default::default(),
    )
    .await;
    written
        .remove(&report.region)
        .unwrap_or(EvidenceStatus::NotConfigured)
}

/// The key of a run's org index in the evidence bucket.
pub fn index_key(run_id: &str) -> String {
    format!("evidence/org/{run_id}/index.json")
}

/// The Aggregate step: read the `ResultWriter` manifest and its result files, publish one
/// digest, write the org index.
async fn run_aggregate(
    req: &AggregateRequest,
    deps: &Deps,
    budget: &Budget,
    now: Timestamp,
) -> Result<Value, VerifierError> {
    let reads = capped(deps, budget, deps.safety_margin / 2);
    let s3 = reads.s3();
    let read = |key: String| async move {
        evidence_store::get_object(s3, &req.results.bucket, &key)
            .await
            .map(|b| (key, String::from_utf8_lossy(&b).into_owned()))
    };
    let (_, manifest) = read(req.results.key.clone())
        .await
        .map_err(|e| VerifierError::Org(format!("reading the results manifest: {e}")))?;
    let keys = result_keys(&manifest)
        .map_err(|e| VerifierError::Org(format!("results manifest {}: {e}", req.results.key)))?;
    let mut files = Vec::new();
    for key in keys {
        files.push(
            read(key).await.map_err(|e: StoreError| {
                VerifierError::Org(format!("reading a result file: {e}"))
            })?,
        );
    }
    let summaries = summaries_from_results(&files);
    // The digest and the index get until just before the deadline, as the nightly digest does.
    let deps = Deps {
        home: capped(deps, budget, crate::PUBLISH_RESERVE),
        ..deps.clone()
    };
    aggregate(&req.run_id, &summaries, &deps, now).await
}

/// The result files a `ResultWriter` manifest names (`ResultFiles.SUCCEEDED`, `FAILED`,
/// `PENDING`, each a list of `{Key, Size}`).
pub fn result_keys(manifest: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(manifest).map_err(|e| format!("not JSON: {e}"))?;
    let files = v
        .get("ResultFiles")
        .and_then(Value::as_object)
        .ok_or("no ResultFiles object")?;
    let mut out = Vec::new();
    for (kind, list) in files {
        let list = list
            .as_array()
            .ok_or_else(|| format!("ResultFiles.{kind} is not a list"))?;
        for f in list {
            out.push(
                f.get("Key")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("an entry of ResultFiles.{kind} has no Key"))?
                    .to_string(),
            );
        }
    }
    Ok(out)
}

/// The org digest (published) and index (written to the evidence bucket) of `summaries`:
/// what the Aggregate step and `audit --org` end with.
pub async fn aggregate(
    run_id: &str,
    summaries: &[ItemSummary],
    deps: &Deps,
    now: Timestamp,
) -> Result<Value, VerifierError> {
    let message = org_digest(run_id, summaries, now);
    let index = org_index(run_id, summaries, now);
    let index_status = match &deps.evidence_bucket {
        Some(bucket) => {
            match evidence_store::put_json(deps.home.s3(), bucket, &index_key(run_id), &index).await
            {
                Ok(()) => format!("s3://{bucket}/{}", index_key(run_id)),
                Err(e) => format!("NOT WRITTEN: {e}"),
            }
        }
        None => "not stored (no evidence bucket configured)".to_string(),
    };
    let id = publisher::publish(deps.home.sns(), &deps.topic_arn, &message)
        .await
        .map_err(|e| VerifierError::DigestNotSent(e.to_string()))?;
    let t = totals(summaries);
    Ok(json!({
        "run_id": run_id,
        "items": t.items,
        "verified": t.verified,
        "unverifiable": t.unverifiable,
        "counts": t.counts,
        "digest_published": true,
        "message_id": id,
        "index": index_status,
    }))
}
