//! `awsio::finding_state` against the state table of the local account: a large set is saved
//! in several items (each under DynamoDB's 400 KB), read back exactly, and replacing it removes
//! the previous generation's chunks.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use awsio::finding_state::{self, OpenFinding};
use local_account::Scenario;
use local_account::scenario::STATE_TABLE;

use crate::common::*;

fn findings(n: usize, tag: &str) -> BTreeMap<String, OpenFinding> {
    (0..n)
        .map(|i| {
            let f = OpenFinding {
                id: format!("bg-{tag}{i:015x}"),
                code: policy::FindingCode::MissedSlot,
                severity: policy::Severity::High,
                table: format!("table-{i:05}-with-a-rather-long-name-{}", "x".repeat(40)),
                subject: Some(format!(
                    "arn:aws:backup:us-east-1:123456789012:recovery-point:{i:08}-0000-4000-8000-000000000000"
                )),
            };
            (f.id.clone(), f)
        })
        .collect()
}

/// Every item of the state table (a scan page holds at most 1 MB: paginate).
async fn items(ctx: &awsio::AwsContext) -> Vec<HashMap<String, AttributeValue>> {
    ctx.dynamodb()
        .scan()
        .table_name(STATE_TABLE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
}

async fn item_count(ctx: &awsio::AwsContext) -> usize {
    items(ctx)
        .await
        .iter()
        .filter(|i| {
            i.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.starts_with("findings#us-east-1"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_finding_set_round_trips_in_chunks_and_replacing_it_cleans_up() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let ctx = account.context().await;
    let db = ctx.dynamodb();
    assert!(
        finding_state::load(db, STATE_TABLE, "us-east-1")
            .await
            .unwrap()
            .is_none()
    );

    let big = findings(5000, "a");
    let saved = finding_state::save(db, STATE_TABLE, "us-east-1", &big, account.now(), None)
        .await
        .unwrap();
    assert!(saved.extra_chunks >= 2, "5000 findings need several items");
    assert_eq!(item_count(&ctx).await, 1 + saved.extra_chunks as usize);
    let loaded = finding_state::load(db, STATE_TABLE, "us-east-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.findings, big);
    assert_eq!(loaded.generation, saved.generation);

    // Every item carries the TTL attribute and stays under the item size limit.
    for item in items(&ctx).await {
        assert!(matches!(item.get("expires_at"), Some(AttributeValue::N(_))));
        let size: usize = item
            .iter()
            .map(|(k, v)| k.len() + v.as_s().map_or(16, String::len))
            .sum();
        assert!(size < 400 * 1024, "item of {size} bytes");
    }

    // Replace with a small set: the old generation's chunks are deleted.
    let small = findings(3, "b");
    finding_state::save(
        db,
        STATE_TABLE,
        "us-east-1",
        &small,
        account.now(),
        Some(&loaded),
    )
    .await
    .unwrap();
    assert_eq!(item_count(&ctx).await, 1);
    let again = finding_state::load(db, STATE_TABLE, "us-east-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.findings, small);
    assert!(
        finding_state::load(db, STATE_TABLE, "eu-west-1")
            .await
            .unwrap()
            .is_none(),
        "regions are kept apart"
    );
}
