//! A list kept in the state table across several items, switched atomically: the generic part
//! of [`crate::finding_state`] and [`crate::creation_cache`].
//!
//! Layout (partition key `pk`, TTL attribute `expires_at`), for a head key `H`:
//!
//! * head item `pk = H`: `generation`, `saved_at`, `count`, `chunks` and the first chunk in
//!   `data`;
//! * further chunks `pk = H#<generation>#<i>` (i ≥ 1), each holding a `data` attribute of at
//!   most [`CHUNK_BYTES`] (DynamoDB items are limited to 400 KB).
//!
//! Saving writes the new generation's extra chunks first, then the head (the switch), then
//! deletes the previous generation's extra chunks, so a reader never mixes generations. Every
//! item carries `expires_at`, so chunks orphaned by an interrupted save expire on their own.
//! What a chunk's `data` holds (a JSON array of entries, see [`pack`]) is the caller's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::{SignedDuration, Timestamp};

use crate::error::{AwsCallError, OperationContext};

/// Maximum bytes of serialised entries per item (well under DynamoDB's 400 KB item limit).
pub const CHUNK_BYTES: usize = 300_000;
/// How long saved state lives without being rewritten (TTL).
pub const STATE_TTL: SignedDuration = SignedDuration::from_hours(24 * 35);

/// Errors reading or writing chunked state.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StateError {
    /// A DynamoDB call on the state table failed.
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    /// An item did not have the expected shape.
    #[error("state item {pk} in table {table} is malformed: {reason}")]
    Corrupt {
        /// Name of the state table.
        table: String,
        /// Partition key (`pk`) of the malformed item.
        pk: String,
        /// What is wrong with it (attribute missing, unknown word, count mismatch, ...).
        reason: String,
    },
}

/// Where a saved list is: its generation and how many items it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Generation id of the saved list; its extra chunks' keys contain it.
    pub generation: String,
    /// The run instant the list was saved for (the run's `now`).
    pub saved_at: Timestamp,
    /// Number of extra chunk items (besides the head).
    pub extra_chunks: u32,
}

/// A [`StateError::Corrupt`].
pub fn corrupt(table: &str, pk: &str, reason: impl Into<String>) -> StateError {
    StateError::Corrupt {
        table: table.to_string(),
        pk: pk.to_string(),
        reason: reason.into(),
    }
}

/// The key of extra chunk `i` of `generation` under head key `head`: `<head>#<generation>#<i>`.
pub fn chunk_key(head: &str, generation: &str, i: u32) -> String {
    format!("{head}#{generation}#{i}")
}

/// Packs serialised entries (each a JSON value) into JSON arrays of at most [`CHUNK_BYTES`]
/// each, never splitting an entry. At least one chunk (possibly `[]`) is returned.
pub fn pack(entries: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut cur = String::from("[");
    for s in entries {
        if cur.len() > 1 && cur.len() + s.len() + 2 > CHUNK_BYTES {
            cur.push(']');
            chunks.push(std::mem::replace(&mut cur, String::from("[")));
        }
        if cur.len() > 1 {
            cur.push(',');
        }
        cur.push_str(&s);
    }
    cur.push(']');
    chunks.push(cur);
    chunks
}

fn attr_s<'a>(
    item: &'a HashMap<String, AttributeValue>,
    name: &str,
    table: &str,
    pk: &str,
) -> Result<&'a str, StateError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| {
            corrupt(
                table,
                pk,
                format!("attribute {name} missing or not a string"),
            )
        })
}

fn attr_n(
    item: &HashMap<String, AttributeValue>,
    name: &str,
    table: &str,
    pk: &str,
) -> Result<u64, StateError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            corrupt(
                table,
                pk,
                format!("attribute {name} missing or not a number"),
            )
        })
}

async fn get_item(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Result<Option<HashMap<String, AttributeValue>>, AwsCallError> {
    let out = dynamodb
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_string()))
        .consistent_read(true)
        .send()
        .await
        .op("DynamoDB.GetItem")?;
    Ok(out.item().cloned())
}

/// Loads the list under `head`: each chunk's `data` is given to `parse` (with its item's key),
/// head first. Returns where it is and the head's `count` (for the caller to check against
/// what it parsed); `Ok(None)` if there is no head item. Calls: 1 `GetItem` + 1 per extra
/// chunk.
pub async fn load(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    head: &str,
    mut parse: impl FnMut(&str, &str) -> Result<(), StateError>,
) -> Result<Option<(Generation, u64)>, StateError> {
    let Some(item) = get_item(dynamodb, table, head).await? else {
        return Ok(None);
    };
    let generation = attr_s(&item, "generation", table, head)?.to_string();
    let saved_at: Timestamp = attr_s(&item, "saved_at", table, head)?
        .parse()
        .map_err(|e| corrupt(table, head, format!("saved_at is not a timestamp: {e}")))?;
    let chunks = attr_n(&item, "chunks", table, head)?;
    let count = attr_n(&item, "count", table, head)?;
    let extra_chunks = u32::try_from(chunks.saturating_sub(1))
        .map_err(|_| corrupt(table, head, "chunk count out of range"))?;
    parse(attr_s(&item, "data", table, head)?, head)?;
    for i in 1..=extra_chunks {
        let key = chunk_key(head, &generation, i);
        let chunk = get_item(dynamodb, table, &key)
            .await?
            .ok_or_else(|| corrupt(table, &key, "chunk item missing"))?;
        parse(attr_s(&chunk, "data", table, &key)?, &key)?;
    }
    Ok(Some((
        Generation {
            generation,
            saved_at,
            extra_chunks,
        },
        count,
    )))
}

static GENERATION_SEQ: AtomicU64 = AtomicU64::new(0);

/// Saves `chunks` (from [`pack`], `count` entries in all) under `head` at `now`, replacing
/// `previous` (whose extra chunks are deleted after the switch). Calls: 1 `PutItem` per chunk,
/// 1 `DeleteItem` per previous extra chunk.
pub async fn save(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    head: &str,
    chunks: &[String],
    count: usize,
    now: Timestamp,
    previous: Option<&Generation>,
) -> Result<Generation, StateError> {
    let generation = format!(
        "{}-{}-{}",
        Timestamp::now().as_millisecond(),
        std::process::id(),
        GENERATION_SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let expires_at = now
        .checked_add(STATE_TTL)
        .unwrap_or(now)
        .as_second()
        .to_string();
    let extra_chunks = u32::try_from(chunks.len().saturating_sub(1))
        .map_err(|_| corrupt(table, head, "too many chunks"))?;
    for (i, data) in chunks.iter().enumerate().skip(1) {
        let key = chunk_key(head, &generation, i as u32);
        dynamodb
            .put_item()
            .table_name(table)
            .item("pk", AttributeValue::S(key))
            .item("data", AttributeValue::S(data.clone()))
            .item("expires_at", AttributeValue::N(expires_at.clone()))
            .send()
            .await
            .op("DynamoDB.PutItem")?;
    }
    let first = chunks.first().cloned().unwrap_or_else(|| "[]".to_string());
    dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(head.to_string()))
        .item("generation", AttributeValue::S(generation.clone()))
        .item("saved_at", AttributeValue::S(now.to_string()))
        .item("count", AttributeValue::N(count.to_string()))
        .item("chunks", AttributeValue::N(chunks.len().max(1).to_string()))
        .item("data", AttributeValue::S(first))
        .item("expires_at", AttributeValue::N(expires_at))
        .send()
        .await
        .op("DynamoDB.PutItem")?;
    if let Some(prev) = previous {
        for i in 1..=prev.extra_chunks {
            // Best effort: a chunk left behind expires through the TTL.
            let _ = dynamodb
                .delete_item()
                .table_name(table)
                .key(
                    "pk",
                    AttributeValue::S(chunk_key(head, &prev.generation, i)),
                )
                .send()
                .await;
        }
    }
    Ok(Generation {
        generation,
        saved_at: now,
        extra_chunks,
    })
}

/// Deletes the list under `head` saved as `saved` (head first, so no reader sees a head whose
/// chunks are gone). Calls: 1 + extra chunks `DeleteItem`.
pub async fn delete(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    head: &str,
    saved: &Generation,
) -> Result<(), StateError> {
    let keys = std::iter::once(head.to_string())
        .chain((1..=saved.extra_chunks).map(|i| chunk_key(head, &saved.generation, i)));
    for key in keys {
        dynamodb
            .delete_item()
            .table_name(table)
            .key("pk", AttributeValue::S(key))
            .send()
            .await
            .op("DynamoDB.DeleteItem")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_respects_the_limit_never_splits_an_entry_and_keeps_the_order() {
        let entries: Vec<String> = (0..20_000)
            .map(|i| format!("\"entry-{i:06}-{}\"", "y".repeat(30)))
            .collect();
        let chunks = pack(entries.clone());
        assert!(chunks.len() > 1);
        let mut back = Vec::new();
        for c in &chunks {
            assert!(c.len() <= CHUNK_BYTES, "chunk of {} bytes", c.len());
            let list: Vec<String> = serde_json::from_str(c).unwrap();
            back.extend(list.into_iter().map(|s| format!("\"{s}\"")));
        }
        assert_eq!(back, entries);
        assert_eq!(pack(Vec::<String>::new()), vec!["[]".to_string()]);
    }

    #[test]
    fn chunk_keys_extend_the_head_key() {
        assert_eq!(
            chunk_key("findings#eu-west-1", "g1", 2),
            "findings#eu-west-1#g1#2"
        );
    }
}
