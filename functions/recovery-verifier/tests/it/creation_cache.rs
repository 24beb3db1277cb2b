//! The creation-time cache through `recovery_verifier::run` against the local account: a
//! second night reads no `DescribeTable` for the tables the first one read and reaches the
//! same verdicts; a cache that cannot be read (fault proxy) is the run without a cache.

use std::collections::BTreeMap;
use std::time::Duration;

use awsio::creation_cache;
use local_account::matrix::{self, FaultKind};
use local_account::scenario::STATE_TABLE;
use local_account::{LocalAccount, Scenario};
use recovery_verifier::{VerifierOutcome, run};

use crate::common::*;

fn verdicts(o: &VerifierOutcome) -> BTreeMap<String, String> {
    o.regions[0]
        .report
        .tables
        .iter()
        .map(|t| (t.table.name.clone(), t.verdict.as_str().to_string()))
        .collect()
}

fn describes(o: &VerifierOutcome) -> u64 {
    o.regions[0]
        .report
        .api_calls
        .get("DynamoDB.DescribeTable")
        .copied()
        .unwrap_or(0)
}

async fn night(account: &LocalAccount) -> VerifierOutcome {
    let deps = deps(account).await;
    let o = run(at_now(account), &deps, no_deadline()).await.unwrap();
    account.receive_alerts().await.unwrap();
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_night_reads_no_creation_time_again_and_judges_the_same() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let first = night(&account).await;
    let r1 = &first.regions[0];
    assert!(
        !r1.described_tables.is_empty(),
        "the scenario needs creation times"
    );
    assert_eq!(describes(&first), r1.described_tables.len() as u64);
    let c1 = r1.creation_cache.as_ref().expect("the run uses the cache");
    assert_eq!(c1.key, "created#123456789012#us-east-1");
    assert!(c1.error.is_none() && c1.hits.is_empty() && c1.changed);
    assert_eq!(c1.items_read, 1);
    assert!(
        first
            .side_calls
            .get("DynamoDB.PutItem")
            .copied()
            .unwrap_or(0)
            >= 2,
        "the findings state and the cache were saved: {:?}",
        first.side_calls
    );

    let ctx = account.direct_context().await;
    let saved = creation_cache::load(ctx.dynamodb(), STATE_TABLE, "123456789012", "us-east-1")
        .await
        .unwrap();
    assert_eq!(
        saved.times.keys().cloned().collect::<Vec<_>>(),
        r1.described_tables
    );

    let second = night(&account).await;
    let r2 = &second.regions[0];
    assert_eq!(describes(&second), 0, "{:?}", r2.report.api_calls);
    assert!(r2.described_tables.is_empty());
    let c2 = r2.creation_cache.as_ref().unwrap();
    assert_eq!(c2.hits, r1.described_tables);
    assert!(!c2.changed, "nothing new: the cache is not written again");
    assert_eq!(verdicts(&second), verdicts(&first));
    assert_eq!(findings(r2), findings(r1));
    assert_eq!(
        r2.shape.as_ref().map(|s| s.cached_creation_times),
        Some(r1.described_tables.len() as u64)
    );
    assert_eq!(
        r2.minimal_calls.unwrap() + r1.described_tables.len() as u64,
        r1.minimal_calls.unwrap()
    );
    assert!(
        !second.side_calls.contains_key("DynamoDB.DeleteItem")
            || second
                .side_calls
                .get("DynamoDB.PutItem")
                .copied()
                .unwrap_or(0)
                >= 1
    );

    // Deleting the cache makes the next night read every creation time again.
    creation_cache::clear(ctx.dynamodb(), STATE_TABLE, "123456789012", "us-east-1")
        .await
        .unwrap();
    let third = night(&account).await;
    assert_eq!(third.regions[0].described_tables, r1.described_tables);
    assert_eq!(verdicts(&third), verdicts(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_cache_is_the_run_without_one() {
    let account = LocalAccount::start_with_proxy(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let first = night(&account).await;
    let described = first.regions[0].described_tables.clone();
    assert!(!described.is_empty());

    for kind in [FaultKind::ServerError, FaultKind::Hang] {
        matrix::inject(&account, "DynamoDB.GetItem", kind, Duration::from_secs(4)).unwrap();
        let o = night(&account).await;
        matrix::clear(&account);
        let r = &o.regions[0];
        let c = r.creation_cache.as_ref().unwrap();
        let error = c.error.as_deref().unwrap_or_default();
        assert!(
            error.contains("creation-time cache unreadable"),
            "{kind:?}: {error}"
        );
        assert!(!c.saveable, "an unread cache is kept as it is");
        if kind == FaultKind::Hang {
            assert!(error.contains("share of the run"), "{error}");
            // The load's share is min(2 s, 5 % of 900 s): the verification waits that long
            // for it, not the 4 s hang (the findings state's own load, in the side phase,
            // waits for its own deadline).
            assert!((2_000..3_500).contains(&c.load_ms), "{} ms", c.load_ms);
        }
        assert!(c.hits.is_empty());
        assert_eq!(r.described_tables, described, "{kind:?}");
        assert_eq!(describes(&o), described.len() as u64);
        assert_eq!(verdicts(&o), verdicts(&first), "{kind:?}");
        assert_eq!(findings(r), findings(&first.regions[0]));
        assert!(o.digest_message_id.is_some());
    }
}
