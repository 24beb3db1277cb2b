//! Tables' creation times, kept in the state table so a later run reads `DescribeTable` only
//! for the tables it has not seen before (a table's creation time never changes).
//!
//! Layout: a [`crate::chunked`] list under the head key `created#<account>#<region>` (further
//! chunks `created#<account>#<region>#<generation>#<i>`), the account being what the region's
//! `STS.GetCallerIdentity` says (an organization run's accounts do not collide). Each entry is
//! `["<table name>","<creation time, RFC 3339>"]`; at most [`chunked::CHUNK_BYTES`] per item,
//! so a 400 KB item holds well over 1,000 names of DynamoDB's maximum length (255) and about
//! 5,000 of 20-character names (10,000 names take two or more items).
//!
//! A table deleted and re-created under the same name keeps its first creation time here
//! (`ListTables` names tables, it does not identify them). That can only make a verdict
//! stricter: an older creation time puts more slots inside the table's life, never fewer.
//! Deleting the head item makes the next run read every creation time again.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::chunked::{self, Generation, StateError, corrupt};

/// The key (`pk`) of the head item of `account`'s creation times in `region`:
/// `created#<account>#<region>`.
pub fn head_key(account: &str, region: &str) -> String {
    format!("created#{account}#{region}")
}

/// The saved creation times of one account and region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreationCache {
    /// Where the saved list is (`None`: nothing is saved yet).
    pub saved: Option<Generation>,
    /// Creation time per table name.
    pub times: BTreeMap<String, Timestamp>,
}

impl CreationCache {
    /// Items a [`load`] of this cache read (1 `GetItem` + 1 per extra chunk).
    pub fn items_read(&self) -> u64 {
        1 + self.saved.as_ref().map_or(0, |g| u64::from(g.extra_chunks))
    }
}

/// Splits the creation times into JSON arrays of at most [`chunked::CHUNK_BYTES`] each. At
/// least one chunk (possibly `[]`).
pub fn chunk_times(times: &BTreeMap<String, Timestamp>) -> Vec<String> {
    chunked::pack(times.iter().map(|(name, at)| {
        // A pair of strings always serialises.
        serde_json::to_string(&(name, at.to_string())).unwrap_or_default()
    }))
}

fn parse_chunk(
    data: &str,
    table: &str,
    pk: &str,
    into: &mut BTreeMap<String, Timestamp>,
) -> Result<(), StateError> {
    let list: Vec<(String, String)> = serde_json::from_str(data).map_err(|e| {
        corrupt(
            table,
            pk,
            format!("data is not a list of [name, time]: {e}"),
        )
    })?;
    for (name, at) in list {
        let at: Timestamp = at.parse().map_err(|e| {
            corrupt(
                table,
                pk,
                format!("creation time {at:?} of {name} is not a timestamp: {e}"),
            )
        })?;
        into.insert(name, at);
    }
    Ok(())
}

/// Loads `account`'s creation times in `region` (empty if none are saved). Calls: 1 `GetItem`
/// + 1 per extra chunk.
pub async fn load(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &str,
    region: &str,
) -> Result<CreationCache, StateError> {
    let pk = head_key(account, region);
    let mut times = BTreeMap::new();
    let Some((g, count)) = chunked::load(dynamodb, table, &pk, |data, key| {
        parse_chunk(data, table, key, &mut times)
    })
    .await?
    else {
        return Ok(CreationCache::default());
    };
    if times.len() as u64 != count {
        return Err(corrupt(
            table,
            &pk,
            format!("head says {count} tables, chunks hold {}", times.len()),
        ));
    }
    Ok(CreationCache {
        saved: Some(g),
        times,
    })
}

/// Saves `times` as `account`'s creation times in `region` at `now`, replacing `previous`'s
/// items. Calls: 1 `PutItem` per chunk ([`chunk_times`]), 1 `DeleteItem` per previous extra
/// chunk.
pub async fn save(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &str,
    region: &str,
    times: &BTreeMap<String, Timestamp>,
    now: Timestamp,
    previous: Option<&Generation>,
) -> Result<CreationCache, StateError> {
    let g = chunked::save(
        dynamodb,
        table,
        &head_key(account, region),
        &chunk_times(times),
        times.len(),
        now,
        previous,
    )
    .await?;
    Ok(CreationCache {
        saved: Some(g),
        times: times.clone(),
    })
}

/// Deletes `account`'s saved creation times in `region`, if any (the next run reads them
/// again). Calls: 1 `GetItem` (+ chunks) and 1 `DeleteItem` per item.
pub async fn clear(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &str,
    region: &str,
) -> Result<(), StateError> {
    let cache = load(dynamodb, table, account, region).await?;
    match &cache.saved {
        Some(g) => chunked::delete(dynamodb, table, &head_key(account, region), g).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_account_and_region() {
        assert_eq!(
            head_key("123456789012", "eu-west-1"),
            "created#123456789012#eu-west-1"
        );
    }

    #[test]
    fn ten_thousand_long_names_chunk_under_the_limit_and_round_trip_exactly() {
        let base: Timestamp = "2026-08-01T10:11:12.345678901Z".parse().unwrap();
        let times: BTreeMap<String, Timestamp> = (0..10_000)
            .map(|i| {
                (
                    format!("table-{i:05}-{}", "n".repeat(240)),
                    base + jiff::SignedDuration::from_secs(i),
                )
            })
            .collect();
        let chunks = chunk_times(&times);
        assert!(chunks.len() > 1, "10,000 long names need several items");
        let mut back = BTreeMap::new();
        for c in &chunks {
            assert!(
                c.len() <= chunked::CHUNK_BYTES,
                "chunk of {} bytes",
                c.len()
            );
            parse_chunk(c, "state", "k", &mut back).unwrap();
        }
        assert_eq!(back, times, "nanoseconds are kept");
        assert_eq!(chunk_times(&BTreeMap::new()), vec!["[]".to_string()]);
    }

    #[test]
    fn stored_entries_are_name_time_pairs_and_a_bad_time_is_corrupt() {
        let mut one = BTreeMap::new();
        one.insert(
            "orders".to_string(),
            "2026-01-02T03:04:05Z".parse::<Timestamp>().unwrap(),
        );
        assert_eq!(
            chunk_times(&one),
            vec![r#"[["orders","2026-01-02T03:04:05Z"]]"#.to_string()]
        );
        let mut back = BTreeMap::new();
        let err =
            parse_chunk(r#"[["orders","yesterday"]]"#, "state", "pk1", &mut back).unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { pk, reason, .. } if pk == "pk1" && reason.contains("orders")),
            "{err:?}"
        );
    }

    #[test]
    fn items_read_counts_the_head_and_the_extra_chunks() {
        assert_eq!(CreationCache::default().items_read(), 1);
        let c = CreationCache {
            saved: Some(Generation {
                generation: "g".into(),
                saved_at: Timestamp::UNIX_EPOCH,
                extra_chunks: 2,
            }),
            times: BTreeMap::new(),
        };
        assert_eq!(c.items_read(), 3);
    }
}
