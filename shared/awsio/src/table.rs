//! One DynamoDB table, as the table guard sees it: its current tags (`ListTagsOfResource`, read
//! right after an event, so eventually consistent), its status (`DescribeTable`) and the
//! tagger (`TagResource`, limited by DynamoDB to 5 calls per second per account).
//!
//! A table that does not exist is [`Lookup::Gone`], not an error: events are delivered late
//! and tables are deleted.
//!
//! Retries here are on top of the SDK's (standard mode: throttling and transient errors):
//!
//! * [`read_tags_expecting`] reads again, with backoff, while the read does not yet show the
//!   tags the event says the call set (or does not show the table yet);
//! * [`tag_resource`] retries throttling that outlasted the SDK's attempts and
//!   `ResourceInUseException` (a table that is still being created or updated).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::convert::timestamp;
use crate::error::{AwsCallError, OperationContext};

/// `DynamoDB.ListTagsOfResource`.
pub const OP_LIST_TAGS: &str = "DynamoDB.ListTagsOfResource";
/// `DynamoDB.TagResource`.
pub const OP_TAG: &str = "DynamoDB.TagResource";
/// `DynamoDB.DescribeTable`.
pub const OP_DESCRIBE: &str = "DynamoDB.DescribeTable";

/// A resource that either exists or is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "lookup", content = "value")]
pub enum Lookup<T> {
    /// It exists.
    Found(T),
    /// `ResourceNotFoundException`: it does not (or no longer) exist.
    Gone,
}

/// Bounded retry with exponential backoff (no jitter: a handler makes one such sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in total (first included); at least 1 is made.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub initial: Duration,
    /// Upper bound of one wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait after attempt `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Default for tag reads after an event: 4 reads within about 2 s.
    pub fn tag_read() -> Self {
        Backoff {
            attempts: 4,
            initial: Duration::from_millis(250),
            max: Duration::from_secs(1),
        }
    }

    /// Default for `TagResource`: 5 attempts, 200 ms doubling to 2 s.
    pub fn tag_write() -> Self {
        Backoff {
            attempts: 5,
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
        }
    }

    /// No waiting and a single attempt (tests, CLI dry runs).
    pub fn none() -> Self {
        Backoff {
            attempts: 1,
            initial: Duration::ZERO,
            max: Duration::ZERO,
        }
    }
}

/// Tags as read, with how they were obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagsRead {
    /// The table's tags (key → value) from the last read.
    pub tags: BTreeMap<String, String>,
    /// `ListTagsOfResource` reads made (pages of the last read not counted separately).
    pub reads: u32,
    /// Expected tags (from the event) the last read still did not show: eventual consistency
    /// outlasting the retries, or a later call removed or changed them.
    pub not_yet_visible: BTreeMap<String, String>,
}

/// Reads all the tags of a table (all pages).
pub async fn list_tags(
    dynamodb: &aws_sdk_dynamodb::Client,
    table_arn: &str,
) -> Result<Lookup<BTreeMap<String, String>>, AwsCallError> {
    let mut tags = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let res = dynamodb
            .list_tags_of_resource()
            .resource_arn(table_arn)
            .set_next_token(token.take())
            .send()
            .await
            .op(OP_LIST_TAGS);
        let out = match res {
            Ok(out) => out,
            Err(e) if e.is_not_found() => return Ok(Lookup::Gone),
            Err(e) => return Err(e),
        };
        for t in out.tags() {
            tags.insert(t.key().to_string(), t.value().to_string());
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(Lookup::Found(tags)),
        }
    }
}

fn missing(
    expected: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    expected
        .iter()
        .filter(|(k, v)| tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Reads the table's tags; while the read does not show every `expected` tag (key and value)
/// or does not find the table, waits and reads again, up to `backoff.attempts` reads. The
/// result is the last read, with the expected tags it still lacks; `Gone` only if the last
/// read did not find the table.
pub async fn read_tags_expecting(
    dynamodb: &aws_sdk_dynamodb::Client,
    table_arn: &str,
    expected: &BTreeMap<String, String>,
    backoff: &Backoff,
) -> Result<Lookup<TagsRead>, AwsCallError> {
    let attempts = backoff.attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        let read = list_tags(dynamodb, table_arn).await?;
        let last = n >= attempts;
        match read {
            Lookup::Gone if last => return Ok(Lookup::Gone),
            Lookup::Gone => {}
            Lookup::Found(tags) => {
                let not_yet_visible = missing(expected, &tags);
                if not_yet_visible.is_empty() || last {
                    return Ok(Lookup::Found(TagsRead {
                        tags,
                        reads: n,
                        not_yet_visible,
                    }));
                }
            }
        }
        tracing::debug!(table_arn, read = n, "tags not visible yet; reading again");
        tokio::time::sleep(backoff.delay(n)).await;
    }
}

/// What `DescribeTable` says about a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableState {
    /// `TableStatus` (`CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, …; unknown words kept).
    pub status: String,
    /// `CreationDateTime`.
    pub created: Option<Timestamp>,
}

/// Describes a table (by name or ARN).
pub async fn describe_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Lookup<TableState>, AwsCallError> {
    let res = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .op(OP_DESCRIBE);
    let out = match res {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(Lookup::Gone),
        Err(e) => return Err(e),
    };
    let Some(desc) = out.table() else {
        return Err(AwsCallError::invalid_response(
            OP_DESCRIBE,
            format!("{table}: response has no Table"),
        ));
    };
    Ok(Lookup::Found(TableState {
        status: desc
            .table_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "UNKNOWN".to_string()),
        created: desc.creation_date_time().and_then(timestamp),
    }))
}

/// The result of a successful [`tag_resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TagWrite {
    /// `TagResource` calls made by this function (each may include SDK retries).
    pub calls: u32,
}

fn retryable_write(e: &AwsCallError) -> bool {
    e.is_throttling() || e.code.as_deref() == Some("ResourceInUseException")
}

/// Adds `tags` to a table (`TagResource` never removes tags; it replaces the value of a key
/// the table already has, so callers must not pass keys the table carries). Retries, with
/// backoff, throttling that outlasted the SDK's retries and `ResourceInUseException`.
/// A missing table is an error with [`AwsCallError::is_not_found`].
pub async fn tag_resource(
    dynamodb: &aws_sdk_dynamodb::Client,
    table_arn: &str,
    tags: &[(String, String)],
    backoff: &Backoff,
) -> Result<TagWrite, AwsCallError> {
    let mut sdk_tags = Vec::with_capacity(tags.len());
    for (k, v) in tags {
        sdk_tags.push(
            aws_sdk_dynamodb::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsCallError::invalid_response(OP_TAG, e.to_string()))?,
        );
    }
    let attempts = backoff.attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        let res = dynamodb
            .tag_resource()
            .resource_arn(table_arn)
            .set_tags(Some(sdk_tags.clone()))
            .send()
            .await
            .op(OP_TAG);
        match res {
            Ok(_) => return Ok(TagWrite { calls: n }),
            Err(e) if retryable_write(&e) && n < attempts => {
                tracing::info!(table_arn, attempt = n, error = %e, "TagResource retry");
                tokio::time::sleep(backoff.delay(n)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            attempts: 10,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
        };
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(3), Duration::from_millis(400));
        assert_eq!(b.delay(4), Duration::from_millis(500));
        assert_eq!(b.delay(40), Duration::from_millis(500));
    }

    #[test]
    fn missing_compares_keys_and_values() {
        let expected: BTreeMap<String, String> =
            [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        let tags: BTreeMap<String, String> =
            [("a".into(), "1".into()), ("b".into(), "other".into())].into();
        let m = missing(&expected, &tags);
        assert_eq!(m.len(), 1);
        assert_eq!(m.get("b").map(String::as_str), Some("2"));
        assert!(missing(&expected, &expected).is_empty());
    }

    #[test]
    fn write_retries_only_throttling_and_in_use() {
        let err = |code: &str| AwsCallError {
            operation: OP_TAG.into(),
            code: Some(code.into()),
            message: String::new(),
        };
        assert!(retryable_write(&err("ThrottlingException")));
        assert!(retryable_write(&err("LimitExceededException")));
        assert!(retryable_write(&err("ResourceInUseException")));
        assert!(!retryable_write(&err("AccessDeniedException")));
        assert!(!retryable_write(&err("ResourceNotFoundException")));
    }
}
