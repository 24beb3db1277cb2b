//! The nightly evidence against the local account's S3 (moto): the bucket made from the
//! template's properties (Object Lock on), a run writes every file of the bundle with a
//! checksum under the lock, a second run appends, a modified object is detected, and a
//! failed write is a finding of the digest that changes no verdict.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ObjectLockMode};
use awsio::evidence_store::{self, RunFilter, RunLocation, StoreError};
use local_account::{EvidenceBucketSpec, Scenario};
use recovery_verifier::{EvidenceStatus, VerifierOutcome, run};
use serde_json::{Value, json};

use crate::common::*;

fn written_location(outcome: &VerifierOutcome, region: &str) -> String {
    match outcome.evidence.get(region) {
        Some(EvidenceStatus::Written { location }) => location.clone(),
        other => panic!("evidence of {region} not written: {other:?}"),
    }
}

fn location_of(bucket: &str, uri: &str) -> RunLocation {
    let key = uri
        .strip_prefix(&format!("s3://{bucket}/"))
        .expect("an s3:// location in the bucket");
    RunLocation::from_key(bucket, &format!("{key}manifest.json"))
        .expect("a run prefix")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_runs_store_locked_bundles_that_append_and_detect_tampering() {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let bucket = account.evidence_bucket().to_string();
    let region = account.scenario().region.clone();
    let s3 = account.direct_context().await.s3().clone();

    // The bucket is what the template declares: Object Lock with its default retention.
    let spec = EvidenceBucketSpec::from_template().unwrap();
    assert!(spec.object_lock && spec.versioned);
    let lock = s3
        .get_object_lock_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let retention = lock
        .object_lock_configuration()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .expect("a default retention");
    assert_eq!(
        retention.mode().map(|m| m.as_str()),
        spec.lock_mode.as_deref()
    );
    assert_eq!(retention.days(), spec.lock_days);
    assert_eq!(spec.lock_days, Some(400));

    let deps = deps(&account).await;
    let first = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let uri = written_location(&first, &region);
    assert!(
        uri.starts_with(&format!(
            "s3://{bucket}/evidence/123456789012/{region}/{}/",
            first.generated_at.strftime("%Y/%m/%d")
        )),
        "{uri}"
    );
    assert!(uri.ends_with(&format!("/{}/", first.run_id)), "{uri}");
    // The digest names the location.
    let alerts = account.receive_alerts().await.unwrap();
    let digest: Value = serde_json::from_str(&alerts[0].message).unwrap();
    assert_eq!(digest["evidence"][&region]["status"], "written");
    assert_eq!(digest["evidence"][&region]["location"], json!(uri));
    assert!(first.digest.text.contains(&uri), "{}", first.digest.text);

    // Every file is there, locked, with the SDK's SHA-256 checksum, and verifies.
    let loc = location_of(&bucket, &uri);
    for name in ["evidence.json", "slots.csv", "report.html", "manifest.json"] {
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(loc.key(name))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(got.checksum_sha256().is_some(), "{name} has no checksum");
        assert_eq!(
            got.object_lock_mode(),
            Some(&ObjectLockMode::Governance),
            "{name} is not locked"
        );
        assert!(got.object_lock_retain_until_date().is_some());
    }
    let stored = evidence_store::read_run(&s3, &loc).await.unwrap();
    let doc = evidence_store::verify_run(&stored).unwrap();
    let report = &first.regions[0].report;
    assert_eq!(doc.run.run_id, first.run_id);
    assert_eq!(doc.tables.len(), report.tables.len());
    for t in &report.tables {
        let d = doc.tables.iter().find(|d| d.name == t.table.name).unwrap();
        assert_eq!(
            d.verdict,
            evidence::verdict_code(t.verdict),
            "{}",
            t.table.name
        );
    }
    let summary = &stored.manifest.summary;
    assert_eq!(summary.tables, report.tables.len() as u64);
    assert_eq!(
        summary.verdicts[policy::Verdict::NonCompliant.as_str()],
        report.verdicts[&policy::Verdict::NonCompliant]
    );
    let diff = &first.diffs[&region];
    assert_eq!(summary.new, Some(diff.new.len() as u64));
    assert_eq!(summary.resolved, Some(diff.resolved.len() as u64));

    // A second run appends; latest.json points at it.
    let second = run(at_now(&account), &deps, no_deadline()).await.unwrap();
    let uri2 = written_location(&second, &region);
    assert_ne!(uri, uri2);
    let runs = evidence_store::list_runs(&s3, &bucket, &RunFilter::default())
        .await
        .unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.location.run_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&first.run_id.as_str()) && ids.contains(&second.run_id.as_str()));
    assert!(runs.iter().all(|r| r.complete()));
    let latest = evidence_store::read_latest(&s3, &bucket, "123456789012", &region)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.run_id, second.run_id);
    // The second run's comparison: nothing new since the first.
    let m2 = evidence_store::read_manifest(&s3, &location_of(&bucket, &uri2))
        .await
        .unwrap();
    assert_eq!(m2.summary.new, Some(0));

    // A new version of report.html (Object Lock keeps the old one; the current one differs):
    // verification names the object.
    s3.put_object()
        .bucket(&bucket)
        .key(loc.key("report.html"))
        .content_type("text/html")
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(b"<p>all compliant</p>".to_vec()))
        .send()
        .await
        .unwrap();
    let stored = evidence_store::read_run(&s3, &loc).await.unwrap();
    match evidence_store::verify_run(&stored).unwrap_err() {
        StoreError::Tampered { key, .. } => assert_eq!(key, loc.key("report.html")),
        other => panic!("expected tampering, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_is_a_digest_finding_and_no_bucket_or_a_dry_run_writes_nothing() {
    let account = start(&Scenario::shipped("healthy").unwrap()).await;
    let region = account.scenario().region.clone();
    let s3 = account.direct_context().await.s3().clone();
    let bucket = account.evidence_bucket().to_string();

    // A bucket that does not exist: the write fails, the digest says so in its subject and
    // body, the verdicts are the same as without evidence.
    let mut d = deps(&account).await;
    d.evidence_bucket = Some("no-such-evidence-bucket".into());
    let failed = run(at_now(&account), &d, no_deadline()).await.unwrap();
    match &failed.evidence[&region] {
        EvidenceStatus::NotWritten { error, .. } => {
            assert!(error.contains("S3.PutObject"), "{error}");
            assert!(error.contains("NoSuchBucket"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        failed.digest.subject.contains("evidence NOT stored"),
        "{}",
        failed.digest.subject
    );
    assert!(failed.digest.subject.contains("HIGH"));
    assert!(failed.digest.text.contains("NOT WRITTEN"));
    assert!(
        failed.regions[0]
            .report
            .tables
            .iter()
            .all(|t| t.verdict == policy::Verdict::Compliant)
    );
    account.receive_alerts().await.unwrap();

    // No bucket configured: nothing written, and the digest says so.
    d.evidence_bucket = None;
    let none = run(at_now(&account), &d, no_deadline()).await.unwrap();
    assert_eq!(none.evidence[&region], EvidenceStatus::NotConfigured);
    assert!(none.digest.text.contains("BG_EVIDENCE_BUCKET"));
    assert!(
        none.digest.subject.contains("OK"),
        "{}",
        none.digest.subject
    );

    // A dry run writes nothing either.
    let d = deps(&account).await;
    let mut payload = at_now(&account);
    payload["dry_run"] = json!(true);
    let dry = run(payload, &d, no_deadline()).await.unwrap();
    assert_eq!(dry.evidence[&region], EvidenceStatus::DryRun);
    let runs = evidence_store::list_runs(&s3, &bucket, &RunFilter::default())
        .await
        .unwrap();
    assert!(runs.is_empty(), "{runs:?}");
}
