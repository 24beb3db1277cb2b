//! The replica path of the handler: an `UpdateTable` that created global-table replicas
//! ([`Disposition::Replicas`](crate::event::Disposition::Replicas)). Each replica is a new
//! table in its own region.
//!
//! - Only replicas in this function's region ([`split`] → [`Replicas::Here`]): the replica
//!   is checked like a `CreateTable` (the same path, [`super::run_parsed`]).
//! - Any replica in another region ([`Replicas::Unwatched`]): this stack cannot see it (one
//!   stack per region; no cross-region clients), so one `WARNING` alert names the table,
//!   every unwatched region, who created the replicas and how to cover them (deploy
//!   backup-guard in that region). It takes the claim and the recording of the table path
//!   ([`super::claim`], [`super::record`]): a duplicate sends nothing more, an unpublished
//!   alert fails the invocation. A replica in this region created by the same call is left to
//!   the nightly run (the alert says so).
//!
//! Calls: ledger `PutItem`, `SNS.Publish`, ledger `UpdateItem` = 3; a duplicate: ledger
//! `PutItem` + `GetItem` = 2.

use awsio::Budget;
use awsio::publisher::{self, PublishError};
use policy::findings::{Finding, FindingCode, Severity};

use super::{Claimed, Deps, GuardError, Invocation, claim, record};
use crate::event::{ParsedEvent, ReplicaEvent, TableRef};
use crate::outcome::{AlertStatus, GuardOutcome};

/// Where the replicas of an event are, seen from the function's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replicas {
    /// Every replica is in this function's region: check it like a new table.
    Here(TableRef),
    /// Some replicas are in regions this stack does not watch.
    Unwatched {
        /// The replicas in other regions.
        elsewhere: Vec<TableRef>,
        /// A replica in this region, if the same call created one.
        here: Option<TableRef>,
    },
}

/// Splits the replicas by region: `mine` is the function's region (`None`: the region of the
/// table the call updated, where CloudTrail recorded the event).
pub fn split(event: &ReplicaEvent, mine: Option<&str>) -> Replicas {
    let mine = mine.unwrap_or(&event.source.region);
    let (here, elsewhere): (Vec<TableRef>, Vec<TableRef>) = event
        .replicas
        .iter()
        .cloned()
        .partition(|r| r.region == mine);
    match (here.into_iter().next(), elsewhere.is_empty()) {
        (Some(table), true) => Replicas::Here(table),
        (here, _) => Replicas::Unwatched { elsewhere, here },
    }
}

/// The command that covers `region`: a backup-guard stack of its own.
pub fn deploy_command(region: &str) -> String {
    format!("sam build && sam deploy --guided --region {region} (docs/DEPLOY.md)")
}

/// The finding about one replica in a region this stack does not watch: `UNVERIFIABLE`
/// (`WARNING`), its subject the replica's region.
pub fn unwatched_finding(
    replica: &TableRef,
    source: &TableRef,
    mine: &str,
    created_by: &str,
) -> Finding {
    Finding::new(
        FindingCode::Unverifiable,
        &replica.arn,
        &replica.name,
        Some(replica.region.clone()),
        format!(
            "a global-table replica of {} was created in region {} by {created_by} (UpdateTable on {}); region {} is not watched by this backup-guard stack (it serves {mine}), so the new table's backups are not checked",
            replica.name, replica.region, source.arn, replica.region
        ),
        Some(format!(
            "deploy backup-guard in {}: {}",
            replica.region,
            deploy_command(&replica.region)
        )),
    )
}

/// Handles replicas created in regions this stack does not watch (see the module docs).
pub async fn run_unwatched(
    parsed: &ParsedEvent,
    event: &ReplicaEvent,
    elsewhere: Vec<TableRef>,
    here: Option<TableRef>,
    deps: &Deps,
    budget: Budget,
) -> Result<GuardOutcome, GuardError> {
    let calls_before = deps.ctx.calls.snapshot();
    let mine = deps
        .ctx
        .region()
        .map(str::to_string)
        .unwrap_or_else(|| event.source.region.clone());
    let mut outcome = GuardOutcome::new(
        &parsed.event_id,
        parsed.event_name.as_str(),
        parsed.actor.clone(),
        elsewhere.first().cloned(),
        deps.policy.mode.as_str(),
    );
    let created_by = parsed
        .actor
        .arn
        .clone()
        .unwrap_or_else(|| "an unknown caller".to_string());
    let findings: Vec<Finding> = elsewhere
        .iter()
        .map(|r| unwatched_finding(r, &event.source, &mine, &created_by))
        .collect();
    outcome.initial_findings = findings.clone();
    outcome.findings = findings;
    outcome.unwatched_replicas = elsewhere;
    outcome.notes.push(
        "no cross-region check: this stack reads and tags only tables of its own region"
            .to_string(),
    );
    if let Some(h) = &here {
        outcome.notes.push(format!(
            "the same call created a replica in this region ({}): the nightly run checks it",
            h.arn
        ));
    }
    let inv = Invocation::new(deps, budget, calls_before);
    let mut outcome = match claim(&inv, outcome).await {
        Claimed::Proceed { outcome, .. } => outcome,
        Claimed::Done(result) => return result,
    };
    let result = inv.phases.work(publish(deps, &inv, &mut outcome)).await;
    record(&inv, result, None, outcome).await
}

async fn publish(
    deps: &Deps,
    inv: &Invocation<'_>,
    outcome: &mut GuardOutcome,
) -> Result<(), PublishError> {
    let message = crate::alert::compose(outcome, Severity::Warning);
    let id = publisher::publish(inv.ctx.sns(), &deps.settings.topic_arn, &message).await?;
    outcome.alert = AlertStatus::Sent { message_id: id };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(region: &str) -> TableRef {
        let arn = format!("arn:aws:dynamodb:{region}:123456789012:table/orders");
        match TableRef::parse_arn(&arn, "t") {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    fn event(regions: &[&str]) -> ReplicaEvent {
        ReplicaEvent {
            source: table("us-east-1"),
            replicas: regions.iter().map(|r| table(r)).collect(),
        }
    }

    #[test]
    fn a_replica_in_the_functions_region_is_checked_here() {
        assert_eq!(
            split(&event(&["eu-west-1"]), Some("eu-west-1")),
            Replicas::Here(table("eu-west-1"))
        );
    }

    #[test]
    fn replicas_elsewhere_are_unwatched_with_any_replica_here_named() {
        assert_eq!(
            split(&event(&["eu-west-1", "us-east-1"]), Some("us-east-1")),
            Replicas::Unwatched {
                elsewhere: vec![table("eu-west-1")],
                here: Some(table("us-east-1")),
            }
        );
        assert_eq!(
            split(&event(&["eu-west-1"]), None),
            Replicas::Unwatched {
                elsewhere: vec![table("eu-west-1")],
                here: None,
            }
        );
    }

    #[test]
    fn the_finding_names_region_creator_and_deploy_command() {
        let f = unwatched_finding(
            &table("eu-west-1"),
            &table("us-east-1"),
            "us-east-1",
            "arn:aws:iam::123456789012:user/alice",
        );
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("region eu-west-1 is not watched"));
        assert!(f.message.contains("user/alice"));
        let remedy = f.remedy.unwrap_or_default();
        assert!(remedy.contains("deploy backup-guard in eu-west-1"));
        assert!(remedy.contains("sam deploy --guided --region eu-west-1"));
    }
}
