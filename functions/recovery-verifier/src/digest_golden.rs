//! Snapshot tests of the digest: subject, text, JSON, attributes and the chat card for
//! representative runs, compared byte for byte with files under `testdata/digest/`. Written on the code before the
//! digest was built from typed sections, so they prove the output did not change.
//!
//! Blessed again when the chat card became the `https` variant: the card was added to every
//! snapshot, and `WIRE SIZE` changed because `https` no longer carries a fourth copy of the
//! JSON document but the card (about 1-3 KB). Below the limit the text and the JSON did not
//! change by a byte; the digests that overflow list more whole problems than before (e.g.
//! `overflow_new` 258 new problems instead of 201), since the card costs less than that copy.
//!
//! A snapshot larger than [`INLINE_LIMIT`] is stored as its first bytes plus its length and
//! FNV-1a-64 hash (the whole output is still compared, through the hash). To write the files
//! again after an intended change: `BLESS_DIGEST=1 cargo test -p recovery-verifier --lib golden`.

use std::collections::BTreeMap;

use awsio::finding_state::{FindingDiff, diff};
use awsio::publisher::{AlertMessage, MAX_MESSAGE_BYTES};
use jiff::Timestamp;
use policy::evaluate::{Coverage, TableEvaluation};
use policy::facts::{Fact, TableFacts};
use policy::report::{RunReport, Unreachable};
use policy::{Finding, FindingCode, Policy, Verdict};

use crate::digest::{DigestContext, RegionDigest, build_digest, open_problems, wire_size};
use crate::inventory::{Source, SourceRead};
use crate::verify::RegionReport;

const INLINE_LIMIT: usize = 24_000;
const HEAD_BYTES: usize = 6_000;

fn code_of(k: usize) -> FindingCode {
    match k % 4 {
        0 => FindingCode::MissedSlot,
        1 => FindingCode::RetentionTooLong,
        2 => FindingCode::NotCovered,
        _ => FindingCode::Exempt,
    }
}

fn evaluation(region: &str, i: usize, findings: usize, first_code: usize) -> TableEvaluation {
    let name = format!("table-{i:05}");
    let arn = format!("arn:aws:dynamodb:{region}:123456789012:table/{name}");
    let findings: Vec<Finding> = (0..findings)
        .map(|k| {
            Finding::new(
                code_of(first_code + k),
                &arn,
                &name,
                (k % 3 != 2).then(|| format!("slot-{k}")),
                format!("Table {name} missed something important number {k}."),
                None,
            )
        })
        .collect();
    let verdict = if findings.iter().any(|f| f.code.breaks_compliance()) {
        Verdict::NonCompliant
    } else if findings.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::Exempt
    };
    TableEvaluation {
        table: TableFacts {
            arn,
            name,
            account: "123456789012".into(),
            region: region.into(),
            created: None,
            tags: Fact::Known(Default::default()),
        },
        verdict,
        coverage: Coverage::Unknown {
            reason: "test".into(),
        },
        slots: Vec::new(),
        findings,
        notes: Vec::new(),
    }
}

/// A region whose tables `range` have `per_table` findings each (codes rotating from
/// `first_code`), plus `clean` compliant tables.
fn region(
    region: &str,
    range: std::ops::Range<usize>,
    per_table: usize,
    first_code: usize,
    clean: usize,
) -> RegionReport {
    let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
    let mut evals: Vec<TableEvaluation> = range
        .map(|i| evaluation(region, i, per_table, first_code))
        .collect();
    evals.extend((0..clean).map(|i| evaluation(region, 90_000 + i, 0, 0)));
    RegionReport {
        region: region.into(),
        account: Some("123456789012".into()),
        report: RunReport::new(
            now,
            Policy::default(),
            evals,
            BTreeMap::new(),
            Vec::new(),
            Vec::new(),
        ),
        failure: None,
        sources: Vec::new(),
        described_tables: Vec::new(),
        unreached_tables: Vec::new(),
        creation_cache: None,
        shape: None,
        minimal_calls: Some(17),
        counted_calls: 19,
        retries: 2,
        facts: evidence::InventoryFacts::unread("not read in this test"),
        duration_ms: 345,
    }
}

fn ctx() -> DigestContext {
    DigestContext {
        evidence: BTreeMap::new(),
        generated_at: "2026-11-25T12:00:00Z".parse().unwrap(),
        account: Some("123456789012".into()),
        mode: "enforce".into(),
    }
}

fn first_run(report: &RegionReport) -> FindingDiff {
    diff(None, &open_problems(report))
}

fn since(before: &RegionReport, after: &RegionReport) -> FindingDiff {
    diff(Some(&open_problems(before)), &open_problems(after))
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn snapshot(msg: &AlertMessage) -> String {
    let mut s = format!("SUBJECT: {}\nATTRIBUTES:\n", msg.subject);
    for (k, v) in &msg.attributes {
        s.push_str(&format!("  {k} = {v:?}\n"));
    }
    s.push_str(&format!("WIRE SIZE: {}\nTEXT:\n", wire_size(msg)));
    s.push_str(&msg.text);
    s.push_str("\nJSON:\n");
    s.push_str(&serde_json::to_string_pretty(&msg.json).unwrap());
    s.push('\n');
    // The chat card (the `https` variant) is part of the snapshot too.
    if let Some(card) = &msg.chat {
        s.push_str("CHAT CARD:\n");
        s.push_str(&serde_json::to_string_pretty(&card.to_json()).unwrap());
        s.push('\n');
    }
    if s.len() <= INLINE_LIMIT {
        return s;
    }
    let mut cut = HEAD_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n[... {} bytes in all, fnv1a64 {:016x}]\n",
        &s[..cut],
        s.len(),
        fnv(s.as_bytes())
    )
}

fn check(name: &str, regions: &[RegionDigest<'_>]) -> AlertMessage {
    let msg = build_digest(regions, &ctx());
    let got = snapshot(&msg);
    let path = format!("{}/testdata/digest/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("BLESS_DIGEST").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(got == want, "digest {name} differs from {path}:\n{got}");
    msg
}

fn one<'a>(report: &'a RegionReport, diff: FindingDiff, note: Option<&str>) -> RegionDigest<'a> {
    RegionDigest {
        report,
        diff,
        state_note: note.map(str::to_string),
    }
}

#[test]
fn golden_healthy_region() {
    let r = region("eu-west-1", 0..0, 0, 0, 12);
    check("healthy", &[one(&r, first_run(&r), None)]);
}

#[test]
fn golden_few_problems_in_every_list() {
    let before = region("eu-west-1", 0..4, 3, 0, 2);
    let after = region("eu-west-1", 2..6, 3, 0, 2);
    let msg = check("few_problems", &[one(&after, since(&before, &after), None)]);
    assert!(msg.text.contains("NEW PROBLEMS"));
}

#[test]
fn golden_new_problems_overflow_into_a_summary() {
    let r = region("eu-west-1", 0..2500, 3, 0, 5);
    let msg = check("overflow_new", &[one(&r, first_run(&r), None)]);
    assert!(wire_size(&msg) <= MAX_MESSAGE_BYTES);
    assert!(msg.json.get("new_not_listed").is_some());
}

#[test]
fn golden_every_list_overflows() {
    let before = region("eu-west-1", 0..3000, 3, 0, 0);
    let after = region("eu-west-1", 1000..4000, 3, 0, 0);
    let msg = check("overflow_all", &[one(&after, since(&before, &after), None)]);
    assert!(wire_size(&msg) <= MAX_MESSAGE_BYTES);
    assert!(msg.json.get("resolved_not_listed").is_some());
    assert!(msg.json.get("still_open_not_listed").is_some());
}

#[test]
fn golden_only_still_open_overflows() {
    let r = region("eu-west-1", 0..3000, 3, 1, 0);
    let msg = check("overflow_still_open", &[one(&r, since(&r, &r), None)]);
    assert!(wire_size(&msg) <= MAX_MESSAGE_BYTES);
    assert!(msg.json.get("still_open_not_listed").is_some());
}

#[test]
fn golden_unreadable_sources_and_unreachable_parts() {
    let mut r = region("eu-west-1", 0..3, 2, 0, 4);
    r.sources = vec![
        SourceRead {
            source: Source::Tags,
            unread: Some("ResourceGroupsTaggingAPI.GetResources: ThrottlingException".into()),
        },
        SourceRead {
            source: Source::Vault("Default".into()),
            unread: Some("deadline reached".into()),
        },
        SourceRead {
            source: Source::Plans,
            unread: None,
        },
    ];
    r.report.unreachable = (0..12)
        .map(|i| Unreachable {
            what: format!("backup:ListRecoveryPointsByBackupVault vault=v{i}"),
            reason: "AccessDeniedException: not allowed".into(),
        })
        .collect();
    r.minimal_calls = None;
    let d = first_run(&r);
    check(
        "unreadable_sources",
        &[one(
            &r,
            d,
            Some(
                "previous run's findings could not be read: every open problem is listed as new and none as resolved",
            ),
        )],
    );
}

#[test]
fn golden_failed_region_next_to_a_healthy_one() {
    let healthy = region("eu-west-1", 0..0, 0, 0, 3);
    let mut failed = region("us-east-1", 0..0, 0, 0, 0);
    failed.failure = Some("DynamoDB.ListTables: AccessDeniedException".into());
    failed.sources = vec![SourceRead {
        source: Source::Tables,
        unread: Some("DynamoDB.ListTables: AccessDeniedException".into()),
    }];
    check(
        "failed_region",
        &[
            one(&healthy, first_run(&healthy), None),
            one(&failed, FindingDiff::default(), None),
        ],
    );
}

#[test]
fn golden_problems_in_several_regions() {
    let eu_before = region("eu-west-1", 0..3, 2, 0, 1);
    let eu = region("eu-west-1", 1..4, 2, 0, 1);
    let us = region("us-east-1", 0..2, 3, 1, 2);
    check(
        "multi_region",
        &[
            one(
                &eu,
                since(&eu_before, &eu),
                Some(
                    "1 problem(s) from the last run concern tables not verified this time; they stay open",
                ),
            ),
            one(&us, first_run(&us), None),
        ],
    );
}

/// Regions whose headers alone exceed SNS's limit: only the counts are sent.
fn huge_headers(n: usize, per_table: usize) -> Vec<RegionReport> {
    (0..n)
        .map(|i| {
            let mut r = region(&format!("eu-west-{}", i + 1), 0..2, per_table, 0, 1);
            r.report.unreachable = (0..10)
                .map(|k| Unreachable {
                    what: format!("backup:ListBackupJobs page={k}"),
                    reason: "x".repeat(2000),
                })
                .collect();
            r
        })
        .collect()
}

#[test]
fn golden_counts_only_when_even_the_header_is_too_large() {
    let regions = huge_headers(3, 2);
    let digests: Vec<RegionDigest<'_>> =
        regions.iter().map(|r| one(r, first_run(r), None)).collect();
    let msg = check("counts_only_new", &digests);
    assert_eq!(msg.json["details_omitted"], serde_json::Value::Bool(true));
}

#[test]
fn golden_counts_only_without_new_problems() {
    let regions = huge_headers(3, 2);
    let digests: Vec<RegionDigest<'_>> =
        regions.iter().map(|r| one(r, since(r, r), None)).collect();
    let msg = check("counts_only_still_open", &digests);
    assert_eq!(msg.json["details_omitted"], serde_json::Value::Bool(true));
}
