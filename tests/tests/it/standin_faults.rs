//! Fault injection, call counts, the HTTP admin API and the `backup-standin` binary.

use aws_sdk_backup::Client;
use aws_sdk_backup::config::retry::RetryConfig;
use aws_sdk_backup::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_backup::error::ProvideErrorMetadata;
use aws_sdk_backup::operation::list_backup_plans::ListBackupPlansError;
use local_account::standin::admin::{AdminClient, AdminError};
use local_account::standin::{FailKind, Fault, StandIn};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

fn config(endpoint: &str) -> aws_sdk_backup::config::Builder {
    aws_sdk_backup::Config::builder()
        .http_client(awsio::config::https_client())
        .endpoint_url(endpoint)
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
}

fn client(endpoint: &str) -> Client {
    Client::from_conf(config(endpoint).build())
}

fn fast_retry_client(endpoint: &str, attempts: u32) -> Client {
    Client::from_conf(
        config(endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .build(),
    )
}

#[tokio::test]
async fn throttling_once_is_retried_by_the_default_retry_config() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s.endpoint());
    s.set_fault(Fault {
        throttle_first: 1,
        ..Fault::new("ListBackupPlans")
    })
    .unwrap();
    let out = c.list_backup_plans().send().await.unwrap();
    assert!(out.backup_plans_list().is_empty());
    // One throttled call plus the successful retry; other operations untouched.
    assert_eq!(s.calls().get("ListBackupPlans"), Some(&2));
    c.list_backup_vaults().send().await.unwrap();
    assert_eq!(s.calls().get("ListBackupVaults"), Some(&1));
}

#[tokio::test]
async fn exhausted_throttling_surfaces_as_a_throttling_error() {
    let s = StandIn::start().await.unwrap();
    let c = fast_retry_client(&s.endpoint(), 3);
    s.set_fault(Fault {
        fail_always: Some(FailKind::ThrottlingException),
        ..Fault::new("*")
    })
    .unwrap();
    let e = c.list_backup_plans().send().await.unwrap_err();
    assert_eq!(e.code(), Some("ThrottlingException"));
    assert_eq!(e.message(), Some("Rate exceeded"));
    // Backup models no ThrottlingException: it arrives as an unmodelled error with the code.
    assert!(
        !e.as_service_error()
            .unwrap()
            .is_service_unavailable_exception()
    );
    assert_eq!(
        s.calls().get("ListBackupPlans"),
        Some(&3),
        "every attempt is counted"
    );

    // A non-retryable error is not retried.
    s.set_fault(Fault {
        fail_always: Some(FailKind::AccessDeniedException),
        ..Fault::new("*")
    })
    .unwrap();
    s.reset_calls();
    let e = c.list_backup_vaults().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert_eq!(s.calls().get("ListBackupVaults"), Some(&1));

    // 503s are the modelled ServiceUnavailableException and are retried.
    s.clear_faults();
    s.set_fault(Fault {
        fail_always: Some(FailKind::ServiceUnavailableException),
        ..Fault::new("ListBackupPlans")
    })
    .unwrap();
    s.reset_calls();
    let e = c.list_backup_plans().send().await.unwrap_err();
    assert!(matches!(
        e.as_service_error(),
        Some(ListBackupPlansError::ServiceUnavailableException(_))
    ));
    assert_eq!(s.calls().get("ListBackupPlans"), Some(&3));
    // Plain 500s are retried too.
    s.set_fault(Fault {
        fail_always: Some(FailKind::InternalServerError),
        ..Fault::new("ListBackupPlans")
    })
    .unwrap();
    s.reset_calls();
    let e = c.list_backup_plans().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InternalFailure"));
    assert_eq!(s.calls().get("ListBackupPlans"), Some(&3));
}

#[tokio::test]
async fn every_nth_throttle_and_5xx_are_absorbed_by_retries_and_counted() {
    let s = StandIn::start().await.unwrap();
    let c = fast_retry_client(&s.endpoint(), 5);
    c.create_backup_vault()
        .backup_vault_name("vv")
        .send()
        .await
        .unwrap();
    s.set_fault(Fault {
        throttle_every: 3,
        error_5xx_every: 4,
        ..Fault::new("DescribeBackupVault")
    })
    .unwrap();
    for _ in 0..10 {
        c.describe_backup_vault()
            .backup_vault_name("vv")
            .send()
            .await
            .unwrap();
    }
    // Calls n with n % 3 == 0 or n % 4 == 0 fail and are retried; count the calls that
    // 10 successes take.
    let mut ok = 0;
    let mut n = 0;
    while ok < 10 {
        n += 1;
        if n % 3 != 0 && n % 4 != 0 {
            ok += 1;
        }
    }
    assert_eq!(s.calls().get("DescribeBackupVault"), Some(&n));
}

#[tokio::test]
async fn vault_scoped_faults_and_latency() {
    let s = StandIn::start().await.unwrap();
    let c = fast_retry_client(&s.endpoint(), 1);
    for v in ["slow", "fast"] {
        c.create_backup_vault()
            .backup_vault_name(v)
            .send()
            .await
            .unwrap();
    }
    s.set_fault(Fault {
        fail_always: Some(FailKind::ServiceUnavailableException),
        vault: Some("slow".into()),
        ..Fault::new("ListRecoveryPointsByBackupVault")
    })
    .unwrap();
    let lrp = |v: &'static str| {
        c.list_recovery_points_by_backup_vault()
            .backup_vault_name(v)
            .send()
    };
    assert!(lrp("fast").await.is_ok());
    assert_eq!(
        lrp("slow").await.unwrap_err().code(),
        Some("ServiceUnavailableException")
    );
    // Latency is applied (no timing assertion: only that the call still succeeds).
    s.clear_faults();
    s.set_fault(Fault {
        latency_ms: 20,
        ..Fault::new("*")
    })
    .unwrap();
    assert!(lrp("slow").await.is_ok());
    assert_eq!(s.faults().len(), 1);
}

#[tokio::test]
async fn admin_http_api_seeds_steers_and_counts() {
    let s = StandIn::start().await.unwrap();
    let admin = AdminClient::new(&s.endpoint()).unwrap();
    let c = fast_retry_client(&s.endpoint(), 2);
    c.create_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();

    // Recovery points in the AWS member shape, epoch-second and RFC 3339 timestamps.
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";
    let added = admin
        .add_recovery_points(&json!([
            {
                "RecoveryPointArn": "arn:aws:backup:us-east-1:123456789012:recovery-point:rp-1",
                "BackupVaultName": "main",
                "ResourceArn": table,
                "ResourceType": "DynamoDB",
                "Status": "COMPLETED",
                "CreationDate": 1760486400.5,
                "CompletionDate": "2025-10-15T01:00:00Z",
                "Lifecycle": {"DeleteAfterDays": 90},
                "CreatedBy": {"BackupPlanId": "p1", "BackupRuleCron": "cron(0 0 15,25 * ? *)"}
            },
            {
                "BackupVaultName": "main",
                "ResourceArn": table,
                "CreationDate": 1761350400,
                "CalculatedLifecycle": {"DeleteAt": 1764000000}
            }
        ]))
        .await
        .unwrap();
    assert_eq!(added, 2);
    let points = c
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    let rp = points.recovery_points();
    assert_eq!(rp.len(), 2);
    assert_eq!(rp[1].creation_date().unwrap().as_secs_f64(), 1760486400.5);
    assert_eq!(rp[1].completion_date().unwrap().secs(), 1760490000);
    assert_eq!(
        rp[1]
            .calculated_lifecycle()
            .unwrap()
            .delete_at()
            .unwrap()
            .secs(),
        1760486400 + 90 * 86400
    );
    // A given CalculatedLifecycle is kept as seeded (inconsistent data can be modelled).
    assert_eq!(
        rp[0]
            .calculated_lifecycle()
            .unwrap()
            .delete_at()
            .unwrap()
            .secs(),
        1764000000
    );
    assert!(rp[0].lifecycle().is_none());

    // Errors name what was wrong.
    let e = admin
        .add_recovery_points(
            &json!([{"BackupVaultName": "nope", "ResourceArn": table, "CreationDate": 1}]),
        )
        .await
        .unwrap_err();
    match &e {
        AdminError::Refused {
            status, message, ..
        } => {
            assert_eq!(*status, 404);
            assert!(message.contains("\"nope\""), "{message}");
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    let e = admin
        .add_recovery_points(
            &json!([{"BackupVaultName": "main", "ResourceArn": table, "CreationDat": 1}]),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("CreationDat"), "{e}");

    // Jobs.
    let added = admin
        .add_backup_jobs(&json!([
            {"BackupVaultName": "main", "ResourceArn": table, "CreationDate": 1760486400, "State": "FAILED",
             "StatusMessage": "access denied"}
        ]))
        .await
        .unwrap();
    assert_eq!(added, 1);
    let jobs = c.list_backup_jobs().send().await.unwrap();
    assert_eq!(
        jobs.backup_jobs()[0].status_message(),
        Some("access denied")
    );

    // Faults over HTTP, then counts.
    admin.reset_calls().await.unwrap();
    admin
        .set_fault(&Fault {
            throttle_first: 1,
            ..Fault::new("ListBackupJobs")
        })
        .await
        .unwrap();
    let listed = admin
        .request("GET", "/_standin/faults", None)
        .await
        .unwrap();
    assert_eq!(listed["faults"][0]["operation"], "ListBackupJobs");
    c.list_backup_jobs().send().await.unwrap();
    let calls = admin.calls().await.unwrap();
    assert_eq!(calls.get("ListBackupJobs"), Some(&2));
    assert_eq!(calls.len(), 1);
    let e = admin
        .request(
            "POST",
            "/_standin/faults",
            Some(&json!({"operation": "ListBackupJob"})),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown operation"), "{e}");
    admin.clear_faults().await.unwrap();
    assert!(s.faults().is_empty());

    // Reset forgets everything.
    admin.reset().await.unwrap();
    assert!(admin.calls().await.unwrap().is_empty());
    let e = c
        .describe_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn raw_paths_trailing_slashes_and_encoded_arns_route() {
    let s = StandIn::start().await.unwrap();
    let admin = AdminClient::new(&s.endpoint()).unwrap();
    s.set_fault(Fault::new("*")).unwrap(); // a no-op fault changes nothing
    let c = client(&s.endpoint());
    c.create_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();
    admin
        .add_recovery_points(&json!([{
            "BackupVaultName": "main",
            "ResourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "CreationDate": 1760486400,
            "BackupSizeInBytes": 77,
            "Lifecycle": {"DeleteAfterDays": 90}
        }]))
        .await
        .unwrap();
    // The API reference's spelling with a trailing slash.
    let v = admin.request("GET", "/backup/plans/", None).await.unwrap();
    assert_eq!(v, json!({"BackupPlansList": []}));
    // By-resource items carry no lifecycle members, and the size is BackupSizeBytes.
    let path = "/resources/arn%3Aaws%3Adynamodb%3Aus-east-1%3A123456789012%3Atable%2Forders/recovery-points/";
    let v = admin.request("GET", path, None).await.unwrap();
    let item = &v["RecoveryPoints"][0];
    assert_eq!(item["BackupSizeBytes"], 77);
    assert!(item.get("Lifecycle").is_none() && item.get("CalculatedLifecycle").is_none());
    // Unsupported query parameters and unknown paths are errors, not silently ignored.
    let e = admin
        .request(
            "GET",
            "/backup-vaults/main/recovery-points?byColor=red",
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("byColor"), "{e}");
    let e = admin
        .request("GET", "/backup/nothing-here", None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no operation"), "{e}");
}

#[tokio::test]
async fn binary_prints_its_endpoint_serves_and_stops_on_sigterm() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_backup-standin"))
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let endpoint = first.strip_prefix("listening on ").unwrap().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let c = client(&endpoint);
    c.create_backup_vault()
        .backup_vault_name("demo")
        .send()
        .await
        .unwrap();
    let vaults = c.list_backup_vaults().send().await.unwrap();
    assert_eq!(
        vaults.backup_vault_list()[0].backup_vault_name(),
        Some("demo")
    );
    let calls = AdminClient::new(&endpoint).unwrap().calls().await.unwrap();
    assert_eq!(calls.get("CreateBackupVault"), Some(&1));

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");

    // Non-loopback addresses are refused.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_backup-standin"))
        .args(["--addr", "0.0.0.0"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[tokio::test]
async fn dropping_the_stand_in_stops_serving_even_pooled_connections() {
    let s = StandIn::start().await.unwrap();
    let endpoint = s.endpoint();
    let c = fast_retry_client(&endpoint, 1);
    c.list_backup_plans().send().await.unwrap();
    drop(s);
    // The server stops asynchronously: poll until calls fail (bounded, not a timing assertion).
    let mut stopped = false;
    for _ in 0..100 {
        if c.list_backup_plans().send().await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stopped, "the pooled client still got answers after drop");
    assert!(AdminClient::new(&endpoint).unwrap().calls().await.is_err());
}
