//! awsio's event ledger against the local account's state table (moto DynamoDB): the
//! conditional writes that make redelivered events harmless, and the claim's lease.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use awsio::idempotency::{Claim, EventLedger, LEASE_ATTRIBUTE, STALE_CLAIM};
use jiff::{SignedDuration, Timestamp};
use local_account::scenario::STATE_TABLE;
use local_account::{LocalAccount, Scenario};

const TTL: Duration = Duration::from_secs(3 * 24 * 3600);

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_exclusive_leased_recorded_released_and_ended_leases_taken_over() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let ctx = account.context().await;
    let ledger = EventLedger::new(ctx.dynamodb().clone(), STATE_TABLE);
    let t0: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
    // The first delivery's invocation ends 30 s from now; its lease 5 s later.
    let lease = t0 + secs(35);

    assert_eq!(
        ledger.claim("e-1", TTL, t0, lease).await.unwrap(),
        Claim::New
    );
    // A redelivery while the lease runs: in progress (the caller fails), never a duplicate.
    let soon = t0 + secs(20);
    assert_eq!(
        ledger
            .claim("e-1", TTL, soon, soon + secs(35))
            .await
            .unwrap(),
        Claim::InProgress {
            lease_until: Some(lease)
        }
    );
    // Another event is independent.
    assert_eq!(
        ledger
            .claim("e-2", TTL, soon, soon + secs(35))
            .await
            .unwrap(),
        Claim::New
    );

    // Lambda's retry a minute later: the first invocation is gone, its claim is taken over
    // (and says when it was made), with a new lease.
    let retry = t0 + secs(60);
    assert_eq!(
        ledger
            .claim("e-1", TTL, retry, retry + secs(35))
            .await
            .unwrap(),
        Claim::TakenOver {
            claimed_at: Some(t0.to_string())
        }
    );
    // The new lease holds off the next redelivery.
    let next = retry + secs(10);
    assert_eq!(
        ledger
            .claim("e-1", TTL, next, next + secs(35))
            .await
            .unwrap(),
        Claim::InProgress {
            lease_until: Some(retry + secs(35))
        }
    );

    // Finished claims are never taken over, however old, and report their outcome.
    ledger.complete("e-1", r#"{"tagged":true}"#).await.unwrap();
    let much_later = retry + SignedDuration::from_hours(2);
    assert_eq!(
        ledger
            .claim("e-1", TTL, much_later, much_later + secs(35))
            .await
            .unwrap(),
        Claim::Duplicate {
            outcome: Some(r#"{"tagged":true}"#.to_string())
        }
    );

    // A released claim (the handler failed) lets the retry redo the work, as a new claim.
    ledger.release("e-2").await.unwrap();
    assert_eq!(
        ledger
            .claim("e-2", TTL, soon, soon + secs(35))
            .await
            .unwrap(),
        Claim::New
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_written_before_leases_blocks_for_the_old_300_seconds() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let ctx = account.context().await;
    let ledger = EventLedger::new(ctx.dynamodb().clone(), STATE_TABLE);
    let t0: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
    // The item the previous version of the guard wrote: no lease attribute.
    ctx.dynamodb()
        .put_item()
        .table_name(STATE_TABLE)
        .item("pk", AttributeValue::S("event#old-1".into()))
        .item("status", AttributeValue::S("in-progress".into()))
        .item("claimed_at", AttributeValue::S(t0.to_string()))
        .item(
            "claimed_epoch",
            AttributeValue::N(t0.as_second().to_string()),
        )
        .item(
            "expires_at",
            AttributeValue::N((t0.as_second() + 3600).to_string()),
        )
        .send()
        .await
        .unwrap();

    // A minute later (past any lease the new code would have set), it still blocks: the old
    // rule ends it 300 s after the claim.
    let minute = t0 + secs(60);
    assert_eq!(
        ledger
            .claim("old-1", TTL, minute, minute + secs(35))
            .await
            .unwrap(),
        Claim::InProgress {
            lease_until: Some(t0 + SignedDuration::try_from(STALE_CLAIM).unwrap())
        }
    );
    let after = t0 + SignedDuration::try_from(STALE_CLAIM).unwrap() + secs(1);
    assert_eq!(
        ledger
            .claim("old-1", TTL, after, after + secs(35))
            .await
            .unwrap(),
        Claim::TakenOver {
            claimed_at: Some(t0.to_string())
        }
    );
    // The takeover wrote a lease.
    let item = ctx
        .dynamodb()
        .get_item()
        .table_name(STATE_TABLE)
        .key("pk", AttributeValue::S("event#old-1".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item.get(LEASE_ATTRIBUTE).unwrap().as_n().unwrap(),
        &(after + secs(35)).as_millisecond().to_string()
    );
}
