//! `backup-guard audit --org`: every member account × region of the organization verified
//! from a laptop, with the same per-item code the state machine's items run
//! (`recovery_verifier::org_run::{list_items, run_item}`) and bounded concurrency, then the
//! same org digest the Aggregate step publishes (printed here, not published). For small
//! organizations and for tests; the deployed fan-out is Step Functions' Distributed Map.

use std::time::Duration;

use futures::{StreamExt, stream};
use jiff::Timestamp;
use recovery_verifier::org::{ItemRequest, ItemStatus, MODE_ITEM, MODE_PLAN, PlanRequest};
use recovery_verifier::org_run::{list_items, run_item};

use crate::error::{CliError, ExitStatus};
use crate::output::{FailOn, Format};

/// How long one item may take (the org template's function timeout).
const ITEM_BUDGET: Duration = Duration::from_secs(900);

/// Arguments of `audit --org`.
#[derive(Debug, Clone)]
pub(crate) struct OrgArgs {
    /// Regions to verify in every account (default: the configured region).
    pub regions: Vec<String>,
    /// OUs whose accounts are verified (default: every ACTIVE account).
    pub include_ous: Vec<String>,
    /// OUs whose accounts are left out.
    pub exclude_ous: Vec<String>,
    /// Accounts left out.
    pub exclude_accounts: Vec<String>,
    /// The member role's name.
    pub member_role_name: String,
    /// Items verified at once.
    pub concurrency: usize,
    /// Evidence bucket for each item's bundle (none: not stored).
    pub bucket: Option<String>,
    /// Evaluate as of this instant.
    pub now: Timestamp,
}

/// Runs the org audit (see the module docs).
pub(crate) async fn run(
    args: &OrgArgs,
    format: Format,
    fail_on: FailOn,
) -> Result<ExitStatus, CliError> {
    let policy = crate::error::policy_from_env()?;
    let home = awsio::AwsContext::from_env(None).await;
    let run_id = format!("audit-org-{}", args.now.strftime("%Y%m%dT%H%M%SZ"));
    let plan = PlanRequest {
        mode: MODE_PLAN.to_string(),
        run_id: run_id.clone(),
        regions: args.regions.clone(),
        include_ous: args.include_ous.clone(),
        exclude_ous: args.exclude_ous.clone(),
        exclude_accounts: args.exclude_accounts.clone(),
        member_role_name: args.member_role_name.clone(),
        items_bucket: String::new(),
    };
    let items = list_items(&plan, &home)
        .await
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let deps = recovery_verifier::Deps {
        policy,
        topic_arn: String::new(),
        state_table: String::new(),
        evidence_bucket: args.bucket.clone(),
        home,
        regions: Vec::new(),
        safety_margin: Duration::from_secs(30),
        concurrency: 8,
    };
    let deps = &deps;
    let now = args.now;
    let mut summaries: Vec<_> = stream::iter(items)
        .map(|i| async move {
            let req = ItemRequest {
                mode: MODE_ITEM.to_string(),
                account: i.account,
                region: i.region,
                role_arn: i.role_arn,
                run_id: i.run_id,
            };
            run_item(&req, deps, &awsio::Budget::from_now(ITEM_BUDGET), now).await
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    summaries.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    let digest = recovery_verifier::org::org_digest(&run_id, &summaries, now);
    match format {
        Format::Json => crate::output::print_json(&digest.json)?,
        Format::Text => {
            println!("{}", digest.subject);
            println!();
            print!("{}", digest.text);
        }
    }
    let worst = summaries
        .iter()
        .flat_map(|s| s.worst.iter().filter_map(|w| w.severity))
        .any(|s| fail_on.fails(s));
    let unverifiable = summaries
        .iter()
        .any(|s| s.status == ItemStatus::Unverifiable);
    Ok(
        if worst || (unverifiable && fail_on.fails(policy::Severity::Warning)) {
            ExitStatus::Findings
        } else {
            ExitStatus::Ok
        },
    )
}
