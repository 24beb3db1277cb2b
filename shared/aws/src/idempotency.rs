//! At-most-once handling of delivered events: a ledger in the DynamoDB state table.
//!
//! EventBridge delivers CloudTrail events at least once and Lambda may retry async
//! invocations, so the guard *claims* each event id with a conditional put before acting
//! (`pk = event#<id>`, `attribute_not_exists(pk)`), records the outcome when done, and
//! *releases* the claim if it failed, so the retry redoes the work instead of being skipped.
//! Items expire through the table's TTL attribute `expires_at`.
//!
//! A claim still `in-progress` after [`STALE_CLAIM`] belongs to an invocation that crashed or
//! timed out between claiming and finishing (the guard's timeout is far shorter), so a
//! redelivery may take it over instead of being skipped as a duplicate.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use crate::error::{AwsCallError, OperationContext};

/// Name of the TTL attribute of the state table.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// How long an unfinished claim blocks redeliveries (well above the guard's 30 s timeout).
pub const STALE_CLAIM: Duration = Duration::from_secs(300);

/// The result of claiming an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First delivery: act on it.
    New,
    /// Seen before: do nothing. `outcome` is what the first delivery recorded (None while it
    /// is still in progress).
    Duplicate {
        /// The recorded outcome (JSON), if the first handling finished.
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

impl EventLedger {
    /// A ledger in `table` (key `pk`, String).
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            dynamodb,
            table: table.into(),
        }
    }

    /// Claims `event_id` for `ttl`. Exactly one of concurrent claimers gets [`Claim::New`]; an
    /// `in-progress` claim older than [`STALE_CLAIM`] is taken over.
    pub async fn claim(
        &self,
        event_id: &str,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Claim, AwsCallError> {
        const OP: &str = "DynamoDB.PutItem";
        let expires = now.as_second().saturating_add(ttl.as_secs() as i64);
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
            .item(TTL_ATTRIBUTE, AttributeValue::N(expires.to_string()))
            .condition_expression(
                "attribute_not_exists(pk) OR (#s = :inprog AND claimed_epoch < :stale)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":inprog", AttributeValue::S("in-progress".into()))
            .expression_attribute_values(
                ":stale",
                AttributeValue::N(
                    now.as_second()
                        .saturating_sub(STALE_CLAIM.as_secs() as i64)
                        .to_string(),
                ),
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(Claim::New),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let outcome = self.outcome(event_id).await?;
                Ok(Claim::Duplicate { outcome })
            }
            Err(e) => Err(AwsCallError::new(OP, e)),
        }
    }

    async fn outcome(&self, event_id: &str) -> Result<Option<String>, AwsCallError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", key(event_id))
            .consistent_read(true)
            .send()
            .await
            .op("DynamoDB.GetItem")?;
        Ok(out
            .item()
            .and_then(|i| i.get("outcome"))
            .and_then(|v| v.as_s().ok())
            .cloned())
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
