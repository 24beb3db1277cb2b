//! The open findings of the previous verifier run, kept in the state table so each digest can
//! say what is new, what is still open and what was resolved.
//!
//! Layout in the state table (partition key `pk`, TTL attribute `expires_at`):
//!
//! * head item `pk = findings#<region>`: `generation`, `saved_at`, `count`, `chunks` and the
//!   first chunk of findings in `data`;
//! * further chunks `pk = findings#<region>#<generation>#<i>` (i ≥ 1), each holding a `data`
//!   attribute of at most [`CHUNK_BYTES`] (DynamoDB items are limited to 400 KB).
//!
//! Saving writes the new generation's extra chunks first, then the head (the switch), then
//! deletes the previous generation's extra chunks, so a reader never mixes generations. Every
//! item carries `expires_at`, so chunks orphaned by an interrupted save expire on their own.
//! [`diff`] is the pure comparison of the previous and the current open findings.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::{SignedDuration, Timestamp};
use policy::{FindingCode, Severity};
use serde::{Deserialize, Serialize};

use crate::error::{AwsCallError, OperationContext};

/// Maximum bytes of serialised findings per item (well under DynamoDB's 400 KB item limit).
pub const CHUNK_BYTES: usize = 300_000;
/// How long saved state lives without being rewritten (TTL).
pub const STATE_TTL: SignedDuration = SignedDuration::from_hours(24 * 35);

/// What is remembered of an open finding between runs.
///
/// Stored as a JSON object with one-letter keys; the code and the severity are stored as their
/// API words (`"MISSED_SLOT"`, `"high"`: the serde form of [`FindingCode`] and [`Severity`]),
/// so a stored word this version does not know makes [`load`] fail with
/// [`StateError::Corrupt`] naming it, instead of being read as something else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpenFinding {
    /// The finding's stable id (`bg-` + 16 hex digits), the key the runs are compared by.
    #[serde(rename = "i")]
    pub id: String,
    /// The finding code, stored as its API word (`MISSED_SLOT`, ...).
    #[serde(rename = "c")]
    pub code: FindingCode,
    /// The finding's severity, stored as its API word (`high`, ...).
    #[serde(rename = "s")]
    pub severity: Severity,
    /// Name of the table the finding is about.
    #[serde(rename = "t")]
    pub table: String,
    /// Subject (slot, point ARN, tag key, ...), if any.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The stored state of one region: the last saved set of open findings and where its chunks are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingState {
    /// Generation id of the saved set; its extra chunks' keys contain it.
    pub generation: String,
    /// The run instant the set was saved for (the run's `now`).
    pub saved_at: Timestamp,
    /// Number of extra chunk items (besides the head).
    pub extra_chunks: u32,
    /// The open findings, by id.
    pub findings: BTreeMap<String, OpenFinding>,
}

/// Errors reading or writing the state.
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

/// New / still-open / resolved findings between two runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FindingDiff {
    /// Open now, not open before (or no previous state).
    pub new: Vec<OpenFinding>,
    /// Open in the previous state and now.
    pub still_open: Vec<OpenFinding>,
    /// Open in the previous state, not now.
    pub resolved: Vec<OpenFinding>,
}

/// Compares the previous open findings (none if there was no previous run) with the current
/// ones, by id. Each list is sorted by table, code, subject.
pub fn diff(
    previous: Option<&BTreeMap<String, OpenFinding>>,
    current: &BTreeMap<String, OpenFinding>,
) -> FindingDiff {
    let empty = BTreeMap::new();
    let previous = previous.unwrap_or(&empty);
    let mut d = FindingDiff::default();
    for (id, f) in current {
        if previous.contains_key(id) {
            d.still_open.push(f.clone());
        } else {
            d.new.push(f.clone());
        }
    }
    d.resolved = previous
        .iter()
        .filter(|(id, _)| !current.contains_key(*id))
        .map(|(_, f)| f.clone())
        .collect();
    // By the code's word, not the enum's declaration order.
    for list in [&mut d.new, &mut d.still_open, &mut d.resolved] {
        list.sort_by(|a, b| {
            (&a.table, a.code.as_str(), &a.subject, &a.id).cmp(&(
                &b.table,
                b.code.as_str(),
                &b.subject,
                &b.id,
            ))
        });
    }
    d
}

/// The key (`pk`) of `region`'s head item: `findings#<region>`.
pub fn head_key(region: &str) -> String {
    format!("findings#{region}")
}

fn chunk_key(region: &str, generation: &str, i: u32) -> String {
    format!("findings#{region}#{generation}#{i}")
}

/// Splits findings into JSON arrays of at most [`CHUNK_BYTES`] each (never splitting a
/// finding). At least one chunk (possibly `[]`) is returned.
pub fn chunk_findings(findings: &BTreeMap<String, OpenFinding>) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut cur = String::from("[");
    for f in findings.values() {
        // Serialising a struct of strings cannot fail.
        let s = serde_json::to_string(f).unwrap_or_default();
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

fn corrupt(table: &str, pk: &str, reason: impl Into<String>) -> StateError {
    StateError::Corrupt {
        table: table.to_string(),
        pk: pk.to_string(),
        reason: reason.into(),
    }
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

fn parse_chunk(
    data: &str,
    table: &str,
    pk: &str,
    into: &mut BTreeMap<String, OpenFinding>,
) -> Result<(), StateError> {
    let list: Vec<OpenFinding> = serde_json::from_str(data)
        .map_err(|e| corrupt(table, pk, format!("data is not a findings list: {e}")))?;
    for f in list {
        into.insert(f.id.clone(), f);
    }
    Ok(())
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

/// Loads the previous run's open findings of `region`; `Ok(None)` if there is no state (first
/// run, or expired). Calls: 1 `GetItem` + 1 per extra chunk.
pub async fn load(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    region: &str,
) -> Result<Option<FindingState>, StateError> {
    let pk = head_key(region);
    let Some(head) = get_item(dynamodb, table, &pk).await? else {
        return Ok(None);
    };
    let generation = attr_s(&head, "generation", table, &pk)?.to_string();
    let saved_at: Timestamp = attr_s(&head, "saved_at", table, &pk)?
        .parse()
        .map_err(|e| corrupt(table, &pk, format!("saved_at is not a timestamp: {e}")))?;
    let chunks = attr_n(&head, "chunks", table, &pk)?;
    let count = attr_n(&head, "count", table, &pk)?;
    let extra_chunks = u32::try_from(chunks.saturating_sub(1))
        .map_err(|_| corrupt(table, &pk, "chunk count out of range"))?;
    let mut findings = BTreeMap::new();
    parse_chunk(
        attr_s(&head, "data", table, &pk)?,
        table,
        &pk,
        &mut findings,
    )?;
    for i in 1..=extra_chunks {
        let key = chunk_key(region, &generation, i);
        let item = get_item(dynamodb, table, &key)
            .await?
            .ok_or_else(|| corrupt(table, &key, "chunk item missing"))?;
        parse_chunk(
            attr_s(&item, "data", table, &key)?,
            table,
            &key,
            &mut findings,
        )?;
    }
    if findings.len() as u64 != count {
        return Err(corrupt(
            table,
            &pk,
            format!("head says {count} findings, chunks hold {}", findings.len()),
        ));
    }
    Ok(Some(FindingState {
        generation,
        saved_at,
        extra_chunks,
        findings,
    }))
}

static GENERATION_SEQ: AtomicU64 = AtomicU64::new(0);

/// Saves `findings` as the open findings of `region` at `now`, replacing `previous` (whose
/// extra chunks are deleted after the switch). Calls: 1 `PutItem` per chunk, 1 `DeleteItem`
/// per previous extra chunk.
pub async fn save(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    region: &str,
    findings: &BTreeMap<String, OpenFinding>,
    now: Timestamp,
    previous: Option<&FindingState>,
) -> Result<FindingState, StateError> {
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
    let chunks = chunk_findings(findings);
    let extra_chunks = u32::try_from(chunks.len().saturating_sub(1))
        .map_err(|_| corrupt(table, &head_key(region), "too many chunks"))?;
    for (i, data) in chunks.iter().enumerate().skip(1) {
        let key = chunk_key(region, &generation, i as u32);
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
        .item("pk", AttributeValue::S(head_key(region)))
        .item("generation", AttributeValue::S(generation.clone()))
        .item("saved_at", AttributeValue::S(now.to_string()))
        .item("count", AttributeValue::N(findings.len().to_string()))
        .item("chunks", AttributeValue::N(chunks.len().to_string()))
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
                    AttributeValue::S(chunk_key(region, &prev.generation, i)),
                )
                .send()
                .await;
        }
    }
    Ok(FindingState {
        generation,
        saved_at: now,
        extra_chunks,
        findings: findings.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, table: &str) -> OpenFinding {
        OpenFinding {
            id: id.into(),
            code: FindingCode::MissedSlot,
            severity: Severity::High,
            table: table.into(),
            subject: Some("2026-11-15T00:00:00Z".into()),
        }
    }

    fn set(items: &[OpenFinding]) -> BTreeMap<String, OpenFinding> {
        items.iter().map(|f| (f.id.clone(), f.clone())).collect()
    }

    #[test]
    fn diff_splits_new_still_open_and_resolved() {
        let prev = set(&[f("a", "t1"), f("b", "t2")]);
        let cur = set(&[f("b", "t2"), f("c", "t3")]);
        let d = diff(Some(&prev), &cur);
        assert_eq!(d.new, vec![f("c", "t3")]);
        assert_eq!(d.still_open, vec![f("b", "t2")]);
        assert_eq!(d.resolved, vec![f("a", "t1")]);
        let first = diff(None, &cur);
        assert_eq!(first.new.len(), 2);
        assert!(first.still_open.is_empty() && first.resolved.is_empty());
    }

    #[test]
    fn chunks_respect_the_size_limit_and_keep_every_finding() {
        let many: BTreeMap<String, OpenFinding> = (0..5000)
            .map(|i| {
                let mut x = f(
                    &format!("bg-{i:016x}"),
                    &format!("table-{i:05}-{}", "x".repeat(60)),
                );
                x.subject = Some(format!(
                    "arn:aws:backup:eu-west-1:123456789012:recovery-point:{i}"
                ));
                (x.id.clone(), x)
            })
            .collect();
        let chunks = chunk_findings(&many);
        assert!(chunks.len() > 1, "5000 findings need more than one item");
        let mut back = BTreeMap::new();
        for c in &chunks {
            assert!(c.len() <= CHUNK_BYTES, "chunk of {} bytes", c.len());
            parse_chunk(c, "t", "k", &mut back).unwrap();
        }
        assert_eq!(back, many);
        assert_eq!(chunk_findings(&BTreeMap::new()), vec!["[]".to_string()]);
    }

    #[test]
    fn stored_findings_keep_their_json_shape_with_api_words() {
        let mut x = f("bg-0000000000000001", "orders");
        x.code = FindingCode::TagValueNotAllowed;
        x.severity = Severity::Warning;
        let stored = r#"[{"i":"bg-0000000000000001","c":"TAG_VALUE_NOT_ALLOWED","s":"warning","t":"orders","u":"2026-11-15T00:00:00Z"}]"#;
        assert_eq!(chunk_findings(&set(&[x.clone()])), vec![stored.to_string()]);
        let mut back = BTreeMap::new();
        parse_chunk(stored, "t", "k", &mut back).unwrap();
        assert_eq!(back, set(&[x]));
        // Without a subject the `u` key is absent, and an absent `u` reads as none.
        let bare = r#"[{"i":"a","c":"NOT_COVERED","s":"critical","t":"t1"}]"#;
        let mut back = BTreeMap::new();
        parse_chunk(bare, "t", "k", &mut back).unwrap();
        assert_eq!(back["a"].code, FindingCode::NotCovered);
        assert_eq!(back["a"].severity, Severity::Critical);
        assert_eq!(back["a"].subject, None);
        assert_eq!(chunk_findings(&back), vec![bare.to_string()]);
    }

    #[test]
    fn a_stored_unknown_code_or_severity_is_a_state_error_naming_it() {
        for (data, word) in [
            (
                r#"[{"i":"a","c":"MISSED_SLOT","s":"urgent","t":"t1"}]"#,
                "urgent",
            ),
            (
                r#"[{"i":"a","c":"MISSED_BACKUP","s":"high","t":"t1"}]"#,
                "MISSED_BACKUP",
            ),
            // Case matters: the words are the API's.
            (
                r#"[{"i":"a","c":"MISSED_SLOT","s":"High","t":"t1"}]"#,
                "High",
            ),
        ] {
            let mut back = BTreeMap::new();
            let err = parse_chunk(data, "state", "findings#eu-west-1", &mut back).unwrap_err();
            match &err {
                StateError::Corrupt { table, pk, reason } => {
                    assert_eq!(table, "state");
                    assert_eq!(pk, "findings#eu-west-1");
                    assert!(reason.contains(word), "{reason}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
            assert!(back.is_empty());
        }
    }

    #[test]
    fn diff_lists_are_sorted_by_the_code_word_not_the_declaration_order() {
        // NOT_COVERED is declared before MISSED_SLOT but sorts after it as a word.
        let mut a = f("a", "t1");
        a.code = FindingCode::NotCovered;
        let b = f("b", "t1");
        let d = diff(None, &set(&[a.clone(), b.clone()]));
        assert_eq!(d.new, vec![b, a]);
    }
}
