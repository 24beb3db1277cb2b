//! awsio's event ledger against the local account's state table (moto DynamoDB): the
//! conditional writes that make redelivered events harmless.

use std::time::Duration;

use awsio::idempotency::{Claim, EventLedger, STALE_CLAIM};
use jiff::{SignedDuration, Timestamp};
use local_account::scenario::STATE_TABLE;
use local_account::{LocalAccount, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_exclusive_recorded_released_and_stale_ones_taken_over() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let ctx = account.context().await;
    let ledger = EventLedger::new(ctx.dynamodb().clone(), STATE_TABLE);
    let ttl = Duration::from_secs(3 * 24 * 3600);
    let t0: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();

    assert_eq!(ledger.claim("e-1", ttl, t0).await.unwrap(), Claim::New);
    // A redelivery while the first is still working: skipped, nothing recorded yet.
    let soon = t0 + SignedDuration::from_secs(30);
    assert_eq!(
        ledger.claim("e-1", ttl, soon).await.unwrap(),
        Claim::Duplicate { outcome: None }
    );
    // Another event is independent.
    assert_eq!(ledger.claim("e-2", ttl, soon).await.unwrap(), Claim::New);

    // The first invocation died: after STALE_CLAIM a redelivery takes the claim over.
    let later = t0 + SignedDuration::try_from(STALE_CLAIM).unwrap() + SignedDuration::from_secs(1);
    assert_eq!(ledger.claim("e-1", ttl, later).await.unwrap(), Claim::New);

    // Finished claims are never taken over, however old, and report their outcome.
    ledger.complete("e-1", r#"{"tagged":true}"#).await.unwrap();
    let much_later = later + SignedDuration::from_hours(2);
    assert_eq!(
        ledger.claim("e-1", ttl, much_later).await.unwrap(),
        Claim::Duplicate {
            outcome: Some(r#"{"tagged":true}"#.to_string())
        }
    );

    // A released claim (the handler failed) lets the retry redo the work.
    ledger.release("e-2").await.unwrap();
    assert_eq!(ledger.claim("e-2", ttl, soon).await.unwrap(), Claim::New);
}
