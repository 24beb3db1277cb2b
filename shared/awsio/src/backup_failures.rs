//! Backup job failures the guard alerted on, remembered per table and slot in the state table,
//! so that a later `COMPLETED` job of the same table and slot sends a "resolved" notice (and
//! only then).
//!
//! Layout (partition key `pk`, TTL attribute `expires_at`, like the event ledger):
//! `pk = backup-failure#<table ARN>#<slot instant, RFC 3339>` with `table_arn`, `slot`,
//! `job_id`, `state`, `event_id` and `remembered_at`. The caller sets the expiry past the
//! slot's retention horizon (the slot is no longer required after it).
//!
//! Calls: [`FailureMemory::remember`] 1 `PutItem` (a second failure of the slot overwrites
//! the first: one notice follows either way); [`FailureMemory::recall`] 1 `GetItem`
//! (consistent read); [`FailureMemory::forget`] 1 `DeleteItem`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use crate::error::{AwsCallError, OperationContext};
use crate::idempotency::TTL_ATTRIBUTE;

/// A failure the guard alerted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedFailure {
    /// The table's ARN.
    pub table_arn: String,
    /// The slot instant.
    pub slot: Timestamp,
    /// The failed backup job.
    pub job_id: String,
    /// Its state (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`).
    pub state: String,
    /// The EventBridge event the alert was about.
    pub event_id: String,
    /// When it was remembered.
    pub remembered_at: Timestamp,
}

/// The key of a table's slot: `backup-failure#<table ARN>#<slot>`.
pub fn key(table_arn: &str, slot: Timestamp) -> String {
    format!("backup-failure#{table_arn}#{slot}")
}

/// The remembered failures in the state table.
#[derive(Debug, Clone)]
pub struct FailureMemory {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn get_s(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl FailureMemory {
    /// The memory in `table` (key `pk`, String).
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        FailureMemory {
            dynamodb,
            table: table.into(),
        }
    }

    /// Remembers `failure` until `expires_at` (the item's TTL).
    pub async fn remember(
        &self,
        failure: &RememberedFailure,
        expires_at: Timestamp,
    ) -> Result<(), AwsCallError> {
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key(&failure.table_arn, failure.slot)))
            .item("table_arn", s(&failure.table_arn))
            .item("slot", s(&failure.slot.to_string()))
            .item("job_id", s(&failure.job_id))
            .item("state", s(&failure.state))
            .item("event_id", s(&failure.event_id))
            .item("remembered_at", s(&failure.remembered_at.to_string()))
            .item(
                TTL_ATTRIBUTE,
                AttributeValue::N(expires_at.as_second().to_string()),
            )
            .send()
            .await
            .op("DynamoDB.PutItem")?;
        Ok(())
    }

    /// The failure remembered for `table_arn` and `slot`, if any (an item whose TTL has passed
    /// but that DynamoDB has not deleted yet counts as forgotten).
    pub async fn recall(
        &self,
        table_arn: &str,
        slot: Timestamp,
        now: Timestamp,
    ) -> Result<Option<RememberedFailure>, AwsCallError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&key(table_arn, slot)))
            .consistent_read(true)
            .send()
            .await
            .op("DynamoDB.GetItem")?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expired = item
            .get(TTL_ATTRIBUTE)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .is_some_and(|e| e < now.as_second());
        if expired {
            return Ok(None);
        }
        let remembered_at = get_s(&item, "remembered_at")
            .and_then(|t| t.parse().ok())
            .unwrap_or(now);
        Ok(Some(RememberedFailure {
            table_arn: table_arn.to_string(),
            slot,
            job_id: get_s(&item, "job_id").unwrap_or_else(|| "?".to_string()),
            state: get_s(&item, "state").unwrap_or_else(|| "?".to_string()),
            event_id: get_s(&item, "event_id").unwrap_or_default(),
            remembered_at,
        }))
    }

    /// Forgets the failure of `table_arn` and `slot` (after its resolved notice went out).
    pub async fn forget(&self, table_arn: &str, slot: Timestamp) -> Result<(), AwsCallError> {
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&key(table_arn, slot)))
            .send()
            .await
            .op("DynamoDB.DeleteItem")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_table_and_slot() {
        let slot: Timestamp = "2026-11-15T00:00:00Z".parse().unwrap();
        assert_eq!(
            key("arn:aws:dynamodb:eu-west-1:123456789012:table/orders", slot),
            "backup-failure#arn:aws:dynamodb:eu-west-1:123456789012:table/orders#2026-11-15T00:00:00Z"
        );
    }
}
