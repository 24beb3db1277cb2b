//! Restore testing's AWS calls: restore jobs (`DescribeRestoreJob`, `ListRestoreJobs`), the
//! validation result (`PutRestoreValidationResult`), and what table-guard compares of a
//! restored table and its source (`DescribeTable`, `Scan` with `Limit` 1).
//!
//! Translation only: the comparison and the readiness findings are `policy::restore`'s.

use std::collections::BTreeMap;

use aws_sdk_backup::types::{RestoreJobStatus, RestoreValidationStatus};
use jiff::Timestamp;
use policy::restore::{IndexShape, KeyElement, RestoreJobFacts, TableShape, Validation};

use crate::convert::{sdk_datetime, timestamp};
use crate::error::{AwsCallError, OperationContext};
use crate::table::Lookup;

/// `Backup.DescribeRestoreJob`.
pub const OP_DESCRIBE_RESTORE_JOB: &str = "Backup.DescribeRestoreJob";
/// `Backup.ListRestoreJobs`.
pub const OP_LIST_RESTORE_JOBS: &str = "Backup.ListRestoreJobs";
/// `Backup.PutRestoreValidationResult`.
pub const OP_PUT_VALIDATION: &str = "Backup.PutRestoreValidationResult";
/// `DynamoDB.DescribeTable`.
pub const OP_DESCRIBE_TABLE: &str = "DynamoDB.DescribeTable";
/// `DynamoDB.Scan`.
pub const OP_SCAN: &str = "DynamoDB.Scan";

/// `ListRestoreJobs`' largest page (`MaxResults` 1..=1000).
pub const RESTORE_JOBS_PAGE: i32 = 1000;

/// The `ResourceType` of DynamoDB restore jobs.
pub const DYNAMODB: &str = "DynamoDB";

fn job_from_parts(
    op: &str,
    id: Option<&str>,
    status: Option<&RestoreJobStatus>,
    fields: JobFields<'_>,
) -> Result<RestoreJobFacts, AwsCallError> {
    let job_id = id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsCallError::invalid_response(op, "a restore job has no RestoreJobId"))?;
    let status = status.ok_or_else(|| {
        AwsCallError::invalid_response(op, format!("restore job {job_id} has no Status"))
    })?;
    let s = |v: Option<&str>| v.filter(|x| !x.is_empty()).map(str::to_string);
    Ok(RestoreJobFacts {
        job_id: job_id.to_string(),
        source_arn: s(fields.source_arn),
        status: status.as_str().to_string(),
        status_message: s(fields.status_message),
        validation_status: fields.validation.map(|v| v.as_str().to_string()),
        validation_message: s(fields.validation_message),
        created: fields.created.and_then(timestamp),
        completed: fields.completed.and_then(timestamp),
        plan_arn: s(fields.plan_arn),
        created_resource_arn: s(fields.created_resource_arn),
        recovery_point_arn: s(fields.recovery_point_arn),
        resource_type: s(fields.resource_type),
    })
}

/// The members both restore-job shapes (`DescribeRestoreJobOutput`, `RestoreJobsListMember`)
/// share.
struct JobFields<'a> {
    source_arn: Option<&'a str>,
    status_message: Option<&'a str>,
    validation: Option<&'a RestoreValidationStatus>,
    validation_message: Option<&'a str>,
    created: Option<&'a aws_smithy_types::DateTime>,
    completed: Option<&'a aws_smithy_types::DateTime>,
    plan_arn: Option<&'a str>,
    created_resource_arn: Option<&'a str>,
    recovery_point_arn: Option<&'a str>,
    resource_type: Option<&'a str>,
}

/// One restore job (`DescribeRestoreJob`); `Lookup::Gone` if AWS Backup does not know it.
pub async fn describe_restore_job(
    backup: &aws_sdk_backup::Client,
    job_id: &str,
) -> Result<Lookup<RestoreJobFacts>, AwsCallError> {
    let res = backup
        .describe_restore_job()
        .restore_job_id(job_id)
        .send()
        .await
        .op(OP_DESCRIBE_RESTORE_JOB);
    let out = match res {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(Lookup::Gone),
        Err(e) => return Err(e),
    };
    let fields = JobFields {
        source_arn: out.source_resource_arn(),
        status_message: out.status_message(),
        validation: out.validation_status(),
        validation_message: out.validation_status_message(),
        created: out.creation_date(),
        completed: out.completion_date(),
        plan_arn: out.created_by().and_then(|c| c.restore_testing_plan_arn()),
        created_resource_arn: out.created_resource_arn(),
        recovery_point_arn: out.recovery_point_arn(),
        resource_type: out.resource_type(),
    };
    let id = out.restore_job_id().or(Some(job_id));
    job_from_parts(OP_DESCRIBE_RESTORE_JOB, id, out.status(), fields).map(Lookup::Found)
}

/// The DynamoDB restore jobs created after `created_after`, of the restore testing plan
/// `plan_arn` when given (`ListRestoreJobs` with `ByRestoreTestingPlanArn`,
/// `ByResourceType=DynamoDB`, `ByCreatedAfter`, pages of 1000).
///
/// One paginated listing for the whole account rather than `ListRestoreJobsByProtectedResource`
/// per table: a monthly restore test makes about one job per table per month, so 2,000 tables
/// over 35 days are 2–3 pages instead of 2,000 calls. Returns the jobs and the pages read.
pub async fn list_restore_jobs(
    backup: &aws_sdk_backup::Client,
    plan_arn: Option<&str>,
    created_after: Timestamp,
) -> Result<(Vec<RestoreJobFacts>, u64), AwsCallError> {
    let mut req = backup
        .list_restore_jobs()
        .by_resource_type(DYNAMODB)
        .by_created_after(sdk_datetime(created_after))
        .max_results(RESTORE_JOBS_PAGE);
    if let Some(p) = plan_arn {
        req = req.by_restore_testing_plan_arn(p);
    }
    let mut stream = req.into_paginator().send();
    let mut jobs = Vec::new();
    let mut pages = 0;
    while let Some(page) = stream.try_next().await.op(OP_LIST_RESTORE_JOBS)? {
        pages += 1;
        for j in page.restore_jobs() {
            let fields = JobFields {
                source_arn: j.source_resource_arn(),
                status_message: j.status_message(),
                validation: j.validation_status(),
                validation_message: j.validation_status_message(),
                created: j.creation_date(),
                completed: j.completion_date(),
                plan_arn: j.created_by().and_then(|c| c.restore_testing_plan_arn()),
                created_resource_arn: j.created_resource_arn(),
                recovery_point_arn: j.recovery_point_arn(),
                resource_type: j.resource_type(),
            };
            jobs.push(job_from_parts(
                OP_LIST_RESTORE_JOBS,
                j.restore_job_id(),
                j.status(),
                fields,
            )?);
        }
    }
    Ok((jobs, pages))
}

/// Reports a validation (`PutRestoreValidationResult`: `SUCCESSFUL` / `FAILED` with its
/// message).
pub async fn put_validation_result(
    backup: &aws_sdk_backup::Client,
    job_id: &str,
    validation: &Validation,
) -> Result<(), AwsCallError> {
    backup
        .put_restore_validation_result()
        .restore_job_id(job_id)
        .validation_status(RestoreValidationStatus::from(validation.status.as_str()))
        .validation_status_message(&validation.message)
        .send()
        .await
        .op(OP_PUT_VALIDATION)?;
    Ok(())
}

fn keys(schema: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<KeyElement> {
    schema
        .iter()
        .map(|k| KeyElement {
            name: k.attribute_name().to_string(),
            key_type: k.key_type().as_str().to_string(),
        })
        .collect()
}

fn index_shape(
    schema: &[aws_sdk_dynamodb::types::KeySchemaElement],
    projection: Option<&aws_sdk_dynamodb::types::Projection>,
) -> IndexShape {
    let mut non_key: Vec<String> = projection
        .map(|p| p.non_key_attributes().to_vec())
        .unwrap_or_default();
    non_key.sort();
    IndexShape {
        key_schema: keys(schema),
        projection_type: projection
            .and_then(|p| p.projection_type())
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "UNKNOWN".to_string()),
        non_key_attributes: non_key,
    }
}

/// What a restore must reproduce of a table (`DescribeTable`, by name); `Lookup::Gone` if
/// the table does not exist.
pub async fn table_shape(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<Lookup<TableShape>, AwsCallError> {
    let res = dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .op(OP_DESCRIBE_TABLE);
    let out = match res {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(Lookup::Gone),
        Err(e) => return Err(e),
    };
    let Some(t) = out.table() else {
        return Err(AwsCallError::invalid_response(
            OP_DESCRIBE_TABLE,
            format!("{name}: response has no Table"),
        ));
    };
    let attributes: BTreeMap<String, String> = t
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_string(),
                a.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    let global_indexes = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap_or_default().to_string(),
                index_shape(g.key_schema(), g.projection()),
            )
        })
        .collect();
    let local_indexes = t
        .local_secondary_indexes()
        .iter()
        .map(|l| {
            (
                l.index_name().unwrap_or_default().to_string(),
                index_shape(l.key_schema(), l.projection()),
            )
        })
        .collect();
    Ok(Lookup::Found(TableShape {
        key_schema: keys(t.key_schema()),
        attributes,
        global_indexes,
        local_indexes,
        billing_mode: t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| "PROVISIONED".to_string()),
    }))
}

/// Whether a table holds at least one item (`Scan` with `Limit` 1: one read of at most one
/// item, whatever the table's size).
pub async fn has_items(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<bool, AwsCallError> {
    let out = dynamodb
        .scan()
        .table_name(name)
        .limit(1)
        .send()
        .await
        .op(OP_SCAN)?;
    Ok(out.count() > 0 || !out.items().is_empty())
}
