//! Restore testing in the Backup stand-in, driven by the real `aws-sdk-backup` client:
//! restore testing plans and selections, `ListRestoreJobs` (filters, pagination),
//! `DescribeRestoreJob` and `PutRestoreValidationResult` with AWS's error shapes.

use aws_sdk_backup::Client;
use aws_sdk_backup::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_backup::error::ProvideErrorMetadata;
use aws_sdk_backup::primitives::DateTime;
use aws_sdk_backup::types::{RestoreJobStatus, RestoreValidationStatus};
use jiff::{SignedDuration, Timestamp};
use local_account::standin::StandIn;
use local_account::standin::restore::{
    RecoveryPointSelection, RestoreJob, RestoreJobCreator, RestoreTestingPlan, RestoreTestingSeed,
    RestoreTestingSelection,
};

fn client(standin: &StandIn) -> Client {
    let config = aws_sdk_backup::Config::builder()
        .http_client(awsio::config::https_client())
        .endpoint_url(standin.endpoint())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .build();
    Client::from_conf(config)
}

fn arn(t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:123456789012:table/{t}")
}

fn seed(s: &StandIn) -> (String, Timestamp) {
    s.add_restore_testing(RestoreTestingSeed {
        plans: vec![RestoreTestingPlan {
            creation_time: None,
            creator_request_id: None,
            last_execution_time: None,
            last_update_time: None,
            recovery_point_selection: RecoveryPointSelection {
                algorithm: Some("LATEST_WITHIN_WINDOW".into()),
                include_vaults: Some(vec!["*".into()]),
                recovery_point_types: Some(vec!["SNAPSHOT".into()]),
                selection_window_days: Some(7),
                exclude_vaults: None,
            },
            restore_testing_plan_arn: None,
            restore_testing_plan_name: "bg_restore_test".into(),
            schedule_expression: "cron(0 6 25 * ? *)".into(),
            schedule_expression_timezone: Some("UTC".into()),
            start_window_hours: Some(1),
        }],
        selections: vec![RestoreTestingSelection {
            creation_time: None,
            creator_request_id: None,
            iam_role_arn: "arn:aws:iam::123456789012:role/restore".into(),
            protected_resource_arns: Some(vec!["*".into()]),
            protected_resource_conditions: None,
            protected_resource_type: "DynamoDB".into(),
            restore_metadata_overrides: None,
            restore_testing_plan_name: "bg_restore_test".into(),
            restore_testing_selection_name: "dynamodb_tables".into(),
            validation_window_hours: Some(4),
        }],
    })
    .unwrap();
    let plan = s.restore_testing_plan_arn("bg_restore_test");
    let base: Timestamp = "2026-11-25T06:00:00Z".parse().unwrap();
    let job = |i: i64, table: &str, status: &str, plan: Option<&str>| RestoreJob {
        restore_job_id: Some(format!("JOB-{i}")),
        source_resource_arn: Some(arn(table)),
        created_resource_arn: Some(arn(&format!("{table}-restored-{i}"))),
        creation_date: base + SignedDuration::from_mins(i),
        completion_date: Some(base + SignedDuration::from_mins(i + 20)),
        status: status.into(),
        created_by: plan.map(|p| RestoreJobCreator {
            restore_testing_plan_arn: Some(p.into()),
        }),
        ..Default::default()
    };
    s.add_restore_jobs(vec![
        job(1, "orders", "COMPLETED", Some(&plan)),
        job(2, "customers", "COMPLETED", Some(&plan)),
        job(3, "payments", "FAILED", Some(&plan)),
        job(4, "orders", "COMPLETED", None),
    ])
    .unwrap();
    (plan, base)
}

#[tokio::test]
async fn restore_testing_plans_and_selections_read_back() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    let (plan_arn, _) = seed(&s);
    let got = c
        .get_restore_testing_plan()
        .restore_testing_plan_name("bg_restore_test")
        .send()
        .await
        .unwrap();
    let p = got.restore_testing_plan().unwrap();
    assert_eq!(p.restore_testing_plan_arn(), plan_arn);
    assert_eq!(p.schedule_expression(), "cron(0 6 25 * ? *)");
    let sel = p.recovery_point_selection().unwrap();
    assert_eq!(sel.selection_window_days(), 7);
    assert_eq!(
        sel.algorithm().map(|a| a.as_str()),
        Some("LATEST_WITHIN_WINDOW")
    );
    let list = c.list_restore_testing_plans().send().await.unwrap();
    assert_eq!(list.restore_testing_plans().len(), 1);
    let sels = c
        .list_restore_testing_selections()
        .restore_testing_plan_name("bg_restore_test")
        .send()
        .await
        .unwrap();
    assert_eq!(sels.restore_testing_selections().len(), 1);
    let one = c
        .get_restore_testing_selection()
        .restore_testing_plan_name("bg_restore_test")
        .restore_testing_selection_name("dynamodb_tables")
        .send()
        .await
        .unwrap();
    let one = one.restore_testing_selection().unwrap();
    assert_eq!(one.protected_resource_type(), "DynamoDB");
    assert_eq!(one.validation_window_hours(), 4);
    let e = c
        .get_restore_testing_plan()
        .restore_testing_plan_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn restore_jobs_filter_paginate_and_record_validations() {
    let s = StandIn::start().await.unwrap();
    let c = client(&s);
    let (plan_arn, base) = seed(&s);
    // By plan, DynamoDB, created after: pages of one, newest first.
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_restore_jobs()
            .by_restore_testing_plan_arn(&plan_arn)
            .by_resource_type("DynamoDB")
            .by_created_after(DateTime::from_secs(base.as_second() + 60))
            .max_results(1)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        for j in out.restore_jobs() {
            ids.push(j.restore_job_id().unwrap().to_string());
            assert_eq!(
                j.created_by().and_then(|c| c.restore_testing_plan_arn()),
                Some(plan_arn.as_str())
            );
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // JOB-1 was created exactly at createdAfter, which is strict. JOB-4 is no plan's.
    assert_eq!(ids, vec!["JOB-3", "JOB-2"]);
    assert_eq!(pages, 2);
    let failed = c
        .list_restore_jobs()
        .by_status(RestoreJobStatus::Failed)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.restore_jobs().len(), 1);

    c.put_restore_validation_result()
        .restore_job_id("JOB-2")
        .validation_status(RestoreValidationStatus::Failed)
        .validation_status_message("global secondary index g is missing")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_restore_job()
        .restore_job_id("JOB-2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.validation_status(),
        Some(&RestoreValidationStatus::Failed)
    );
    assert_eq!(
        d.validation_status_message(),
        Some("global secondary index g is missing")
    );
    assert_eq!(d.source_resource_arn(), Some(arn("customers").as_str()));
    assert_eq!(d.resource_type(), Some("DynamoDB"));
    let admin = s
        .restore_jobs()
        .into_iter()
        .find(|j| j.restore_job_id.as_deref() == Some("JOB-2"))
        .unwrap();
    assert_eq!(admin.validation_status.as_deref(), Some("FAILED"));

    // AWS's errors: unknown job, a failed job, a job no restore testing plan made.
    for (id, code) in [
        ("JOB-404", "ResourceNotFoundException"),
        ("JOB-3", "InvalidRequestException"),
        ("JOB-4", "InvalidRequestException"),
    ] {
        let e = c
            .put_restore_validation_result()
            .restore_job_id(id)
            .validation_status(RestoreValidationStatus::Successful)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(code), "{id}");
    }
    let e = c
        .describe_restore_job()
        .restore_job_id("JOB-404")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_resource_not_found_exception());
}
