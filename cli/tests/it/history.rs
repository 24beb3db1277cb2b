//! `history` and `report --run` against the local account's S3 (moto, the evidence bucket made
//! from the template's properties, Object Lock on): two nightly verifier runs, both listed with
//! their trend, one rendered again, and a modified object named with exit 2.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use local_account::scenario::STATE_TABLE;
use local_account::{LocalAccount, Scenario};
use policy::Policy;
use recovery_verifier::{Deps, EvidenceStatus};
use serde_json::json;

use crate::common::{bg, json, run};

async fn nightly(account: &LocalAccount) -> recovery_verifier::VerifierOutcome {
    let region = account.scenario().region.clone();
    let deps = Deps {
        policy: Policy::default(),
        topic_arn: account.topic_arn().to_string(),
        state_table: STATE_TABLE.to_string(),
        evidence_bucket: Some(account.evidence_bucket().to_string()),
        home: account.context().await,
        regions: vec![(region, account.context().await)],
        safety_margin: Duration::ZERO,
        concurrency: 8,
    };
    let budget = awsio::Budget::from_now(recovery_verifier::DEFAULT_BUDGET);
    recovery_verifier::run(json!({"now": account.now().to_string()}), &deps, budget)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_both_runs_and_report_run_rerenders_and_detects_tampering() {
    let account = LocalAccount::start(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let env = account.env();
    let bucket = account.evidence_bucket().to_string();
    let first = nightly(&account).await;
    let second = nightly(&account).await;
    for o in [&first, &second] {
        assert!(matches!(
            o.evidence.values().next(),
            Some(EvidenceStatus::Written { .. })
        ));
    }

    // history (JSON): both runs, oldest first, with their summaries and the trend per table.
    let out = run(bg(&env).args(["history", "--bucket", &bucket, "--format", "json"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{v}");
    let ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&first.run_id.as_str()) && ids.contains(&second.run_id.as_str()));
    let report = &first.regions[0].report;
    for r in runs {
        assert_eq!(r["problem"], serde_json::Value::Null, "{r}");
        assert_eq!(r["summary"]["tables"], json!(report.tables.len()));
        assert_eq!(
            r["summary"]["verdicts"]["non-compliant"],
            json!(report.verdicts[&policy::Verdict::NonCompliant])
        );
    }
    let new: Vec<u64> = runs
        .iter()
        .map(|r| r["summary"]["new"].as_u64().unwrap())
        .collect();
    assert!(new.contains(&0) && new.iter().any(|n| *n > 0), "{new:?}");
    let trend = v["trend"].as_array().unwrap();
    assert_eq!(trend.len(), report.tables.len());
    let ledger = trend
        .iter()
        .find(|t| t["table"] == "billing-ledger")
        .unwrap();
    assert_eq!(
        ledger["verdicts"],
        json!(["non-compliant", "non-compliant"])
    );

    // Text: a line per run, the trend with a letter per run.
    let out = run(bg(&env).args(["history", "--bucket", &bucket]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&first.run_id) && text.contains(&second.run_id),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("billing-ledger") && l.trim_end().ends_with("N N")),
        "{text}"
    );
    // --since after the runs' date: nothing.
    let out = run(bg(&env).args([
        "history",
        "--bucket",
        &bucket,
        "--since",
        "2027-01-01",
        "--format",
        "json",
    ]));
    assert_eq!(json(&out)["runs"].as_array().unwrap().len(), 0);
    let out = run(bg(&env).args(["history", "--bucket", &bucket, "--since", "yesterday"]));
    assert_eq!(out.status.code(), Some(2));

    // report --run: verified, rendered again to the same bytes.
    let dir = std::env::temp_dir().join(format!("bg-report-run-{}", first.run_id));
    let out = run(bg(&env).args([
        "report",
        "--run",
        &first.run_id,
        "--bucket",
        &bucket,
        "--out",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["verified"], true);
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["same_as_stored"], true, "{f}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("billing-ledger"));

    // A new version of evidence.json (one verdict changed): exit 2, naming the object.
    let s3 = account.direct_context().await.s3().clone();
    let uri = match first.evidence.values().next() {
        Some(EvidenceStatus::Written { location }) => location.clone(),
        other => panic!("{other:?}"),
    };
    let prefix = uri.strip_prefix(&format!("s3://{bucket}/")).unwrap();
    let key = format!("{prefix}evidence.json");
    let stored = s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let body = stored.body.collect().await.unwrap().into_bytes();
    let forged =
        String::from_utf8(body.to_vec())
            .unwrap()
            .replacen("NON_COMPLIANT", "COMPLIANT", 1);
    assert_ne!(
        forged.as_bytes(),
        &body[..],
        "the forgery changes the object"
    );
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(forged.into_bytes()))
        .send()
        .await
        .unwrap();
    let out = run(bg(&env).args([
        "report",
        "--run",
        &first.run_id,
        "--bucket",
        &bucket,
        "--out",
        dir.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("s3://{bucket}/{key} was modified")),
        "{err}"
    );
    // history marks it and leaves it out of the trend.
    let out = run(bg(&env).args(["history", "--bucket", &bucket, "--format", "json"]));
    let v = json(&out);
    let modified = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == json!(first.run_id))
        .unwrap();
    assert!(
        modified["problem"].as_str().unwrap().contains("MODIFIED"),
        "{modified}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
