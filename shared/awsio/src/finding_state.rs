//! The open findings of the previous verifier run, kept in the state table so each digest can
//! say what is new, what is still open and what was resolved.
//!
//! Layout in the state table: a [`crate::chunked`] list under the head key
//! `findings#<region>` (further chunks `findings#<region>#<generation>#<i>`), each entry an
//! [`OpenFinding`] as JSON.
//!
//! [`diff`] is the pure comparison of the previous and the current open findings.

use std::collections::BTreeMap;

use jiff::Timestamp;
use policy::{FindingCode, Severity};
use serde::{Deserialize, Serialize};

use crate::chunked::{self, Generation, corrupt};
pub use crate::chunked::{CHUNK_BYTES, STATE_TTL, StateError};

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

/// Splits findings into JSON arrays of at most [`CHUNK_BYTES`] each (never splitting a
/// finding). At least one chunk (possibly `[]`) is returned.
pub fn chunk_findings(findings: &BTreeMap<String, OpenFinding>) -> Vec<String> {
    // Serialising a struct of strings cannot fail.
    chunked::pack(
        findings
            .values()
            .map(|f| serde_json::to_string(f).unwrap_or_default()),
    )
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

/// Loads the previous run's open findings of `region`; `Ok(None)` if there is no state (first
/// run, or expired). Calls: 1 `GetItem` + 1 per extra chunk.
pub async fn load(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    region: &str,
) -> Result<Option<FindingState>, StateError> {
    let pk = head_key(region);
    let mut findings = BTreeMap::new();
    let Some((g, count)) = chunked::load(dynamodb, table, &pk, |data, key| {
        parse_chunk(data, table, key, &mut findings)
    })
    .await?
    else {
        return Ok(None);
    };
    if findings.len() as u64 != count {
        return Err(corrupt(
            table,
            &pk,
            format!("head says {count} findings, chunks hold {}", findings.len()),
        ));
    }
    Ok(Some(FindingState {
        generation: g.generation,
        saved_at: g.saved_at,
        extra_chunks: g.extra_chunks,
        findings,
    }))
}

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
    let previous = previous.map(|p| Generation {
        generation: p.generation.clone(),
        saved_at: p.saved_at,
        extra_chunks: p.extra_chunks,
    });
    let g = chunked::save(
        dynamodb,
        table,
        &head_key(region),
        &chunk_findings(findings),
        findings.len(),
        now,
        previous.as_ref(),
    )
    .await?;
    Ok(FindingState {
        generation: g.generation,
        saved_at: g.saved_at,
        extra_chunks: g.extra_chunks,
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
