//! At-most-once handling of delivered events: a ledger in the DynamoDB state table.
//!
//! EventBridge delivers CloudTrail events at least once and Lambda may retry async
//! invocations, so the guard *claims* each event id with a conditional put before acting
//! (`pk = event#<id>`), records the outcome when done, and *releases* the claim if it failed,
//! so the retry redoes the work instead of being skipped. Items expire through the table's TTL
//! attribute `expires_at`.
//!
//! A claim is a *lease*: it records when it ends (`lease_until_ms`, epoch milliseconds), which
//! the claimer sets just past its invocation's deadline. After that the claimer is gone
//! (Lambda stopped it), so a claim still `in-progress` belongs to an invocation that crashed,
//! timed out or could not record its outcome, and a redelivery takes it over
//! ([`Claim::TakenOver`]). Lambda's first retry comes about a minute after the first attempt,
//! so with a 30 s function the lease has ended by then. While the lease runs, a redelivery
//! gets [`Claim::InProgress`]: neither act (that could repeat the holder's actions) nor drop
//! the event (the holder may still fail) — the caller fails the invocation so it is retried.
//!
//! Claims written before leases existed have only `claimed_epoch`: they end [`STALE_CLAIM`]
//! after it, as they did then, so a deploy strands none.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use jiff::Timestamp;

use crate::error::{AwsCallError, OperationContext};

/// Name of the TTL attribute of the state table.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Attribute of a claim: when its lease ends (epoch milliseconds).
pub const LEASE_ATTRIBUTE: &str = "lease_until_ms";

/// How long a claim without a lease end (written before leases) blocks redeliveries, counted
/// from its `claimed_epoch` (well above the guard's 30 s timeout).
pub const STALE_CLAIM: Duration = Duration::from_secs(300);

/// How often [`EventLedger::claim`] retries when the claim it lost to has disappeared
/// (released) before it could be read.
const CLAIM_ROUNDS: usize = 3;

/// The result of claiming an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First delivery: act on it.
    New,
    /// An earlier delivery claimed the event and never finished (its lease ended): act on it.
    /// That delivery may have acted before it stopped.
    TakenOver {
        /// When the earlier delivery claimed the event (RFC 3339), if recorded.
        claimed_at: Option<String>,
    },
    /// Another delivery holds the claim and its lease has not ended. Acting could repeat its
    /// actions and skipping could lose the event: the caller must fail so it is retried.
    InProgress {
        /// When the holder's lease ends (None if the item disappeared while being read).
        lease_until: Option<Timestamp>,
    },
    /// Handled before: do nothing again.
    Duplicate {
        /// The outcome (JSON) the first handling recorded (None only for an item finished
        /// without one, which this code never writes).
        outcome: Option<String>,
    },
}

/// The event ledger.
#[derive(Debug, Clone)]
pub struct EventLedger {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

fn key(event_id: &str) -> AttributeValue {
    AttributeValue::S(format!("event#{event_id}"))
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl EventLedger {
    /// A ledger in `table` (key `pk`, String).
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            dynamodb,
            table: table.into(),
        }
    }

    /// Claims `event_id` at `now` with a lease ending at `lease_until`; the item lives for
    /// `ttl`. Exactly one of concurrent claimers gets [`Claim::New`] or [`Claim::TakenOver`];
    /// an `in-progress` claim whose lease has ended (without a lease: older than
    /// [`STALE_CLAIM`]) is taken over, one still running gives [`Claim::InProgress`], a
    /// finished one [`Claim::Duplicate`].
    pub async fn claim(
        &self,
        event_id: &str,
        ttl: Duration,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, AwsCallError> {
        const OP: &str = "DynamoDB.PutItem";
        let expires = now
            .as_second()
            .saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        let stale = now
            .as_second()
            .saturating_sub(i64::try_from(STALE_CLAIM.as_secs()).unwrap_or(i64::MAX));
        for _ in 0..CLAIM_ROUNDS {
            let res = self
                .dynamodb
                .put_item()
                .table_name(&self.table)
                .item("pk", key(event_id))
                .item("status", AttributeValue::S("in-progress".into()))
                .item("claimed_at", AttributeValue::S(now.to_string()))
                .item(
                    "claimed_epoch",
                    AttributeValue::N(now.as_second().to_string()),
                )
                .item(
                    LEASE_ATTRIBUTE,
                    AttributeValue::N(lease_until.as_millisecond().to_string()),
                )
                .item(TTL_ATTRIBUTE, AttributeValue::N(expires.to_string()))
                .condition_expression(
                    "attribute_not_exists(pk) OR (#s = :inprog AND (#lease < :now_ms OR \
                     (attribute_not_exists(#lease) AND claimed_epoch < :stale)))",
                )
                .expression_attribute_names("#s", "status")
                .expression_attribute_names("#lease", LEASE_ATTRIBUTE)
                .expression_attribute_values(":inprog", AttributeValue::S("in-progress".into()))
                .expression_attribute_values(
                    ":now_ms",
                    AttributeValue::N(now.as_millisecond().to_string()),
                )
                .expression_attribute_values(":stale", AttributeValue::N(stale.to_string()))
                .return_values(ReturnValue::AllOld)
                .send()
                .await;
            match res {
                Ok(out) => {
                    return Ok(match out.attributes() {
                        Some(old) if !old.is_empty() => Claim::TakenOver {
                            claimed_at: string(old, "claimed_at"),
                        },
                        _ => Claim::New,
                    });
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    let Some(item) = self.item(event_id).await? else {
                        // Released between our put and the read: claim again.
                        continue;
                    };
                    let status = string(&item, "status");
                    if status.as_deref() == Some("done") {
                        return Ok(Claim::Duplicate {
                            outcome: string(&item, "outcome"),
                        });
                    }
                    let lease_ms = number(&item, LEASE_ATTRIBUTE).or_else(|| {
                        number(&item, "claimed_epoch").map(|s| {
                            s.saturating_add(
                                i64::try_from(STALE_CLAIM.as_secs()).unwrap_or(i64::MAX),
                            )
                            .saturating_mul(1000)
                        })
                    });
                    return Ok(Claim::InProgress {
                        lease_until: lease_ms.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
                    });
                }
                Err(e) => return Err(AwsCallError::new(OP, e)),
            }
        }
        Ok(Claim::InProgress { lease_until: None })
    }

    async fn item(
        &self,
        event_id: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, AwsCallError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", key(event_id))
            .consistent_read(true)
            .send()
            .await
            .op("DynamoDB.GetItem")?;
        Ok(out.item)
    }

    /// Records the outcome of a claimed event.
    pub async fn complete(&self, event_id: &str, outcome_json: &str) -> Result<(), AwsCallError> {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("pk", key(event_id))
            .update_expression("SET #s = :done, outcome = :o")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":done", AttributeValue::S("done".into()))
            .expression_attribute_values(":o", AttributeValue::S(outcome_json.to_string()))
            .send()
            .await
            .op("DynamoDB.UpdateItem")?;
        Ok(())
    }

    /// Releases a claim after a failure, so a redelivery handles the event again.
    pub async fn release(&self, event_id: &str) -> Result<(), AwsCallError> {
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .key("pk", key(event_id))
            .send()
            .await
            .op("DynamoDB.DeleteItem")?;
        Ok(())
    }
}
