//! Restore tests in the local account: tables of a chosen shape in moto (a source and what a
//! restore made of it), a restore job of the restore testing plan in the stand-in, and the
//! `Restore Job State Change` event AWS Backup would deliver for it.

use aws_sdk_dynamodb::types as ddb;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::LocalAccount;
use crate::standin::restore::{
    RestoreJob, RestoreJobCreator, RestoreTestingPlan, RestoreTestingSeed,
};

/// The restore testing plan the fixtures seed (its ARN is the stand-in's for this name).
pub const PLAN_NAME: &str = "backup_guard_restore_test";

/// A table for a restore test: key `pk` (S), optionally a global secondary index on
/// `customer` (S, `KEYS_ONLY`), optionally one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape<'a> {
    /// The GSI's name, if the table has one.
    pub gsi: Option<&'a str>,
    /// Whether the table holds an item.
    pub item: bool,
}

fn err(what: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Creates `name` in moto (past the fault proxy) with `shape`.
pub async fn create_shaped_table(
    acct: &LocalAccount,
    name: &str,
    shape: Shape<'_>,
) -> Result<(), String> {
    let ctx = acct.direct_context().await;
    let db = ctx.dynamodb();
    let what = format!("CreateTable {name}");
    let e = err(&what);
    let attr = |n: &str| {
        ddb::AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ddb::ScalarAttributeType::S)
            .build()
    };
    let key = |n: &str| {
        ddb::KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(ddb::KeyType::Hash)
            .build()
    };
    let mut req = db
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk").map_err(|x| e(&x))?)
        .key_schema(key("pk").map_err(|x| e(&x))?)
        .billing_mode(ddb::BillingMode::PayPerRequest);
    if let Some(g) = shape.gsi {
        req = req
            .attribute_definitions(attr("customer").map_err(|x| e(&x))?)
            .global_secondary_indexes(
                ddb::GlobalSecondaryIndex::builder()
                    .index_name(g)
                    .key_schema(key("customer").map_err(|x| e(&x))?)
                    .projection(
                        ddb::Projection::builder()
                            .projection_type(ddb::ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .map_err(|x| e(&x))?,
            );
    }
    req.send()
        .await
        .map_err(|x| e(&aws_sdk_dynamodb::error::DisplayErrorContext(x)))?;
    if shape.item {
        db.put_item()
            .table_name(name)
            .item("pk", ddb::AttributeValue::S("order-1".into()))
            .item("customer", ddb::AttributeValue::S("c-1".into()))
            .send()
            .await
            .map_err(|x| e(&aws_sdk_dynamodb::error::DisplayErrorContext(x)))?;
    }
    Ok(())
}

/// Seeds the restore testing plan [`PLAN_NAME`] (once per account; a second call is a
/// no-op) and returns its ARN.
pub fn seed_plan(acct: &LocalAccount) -> String {
    let standin = acct.standin();
    let arn = standin.restore_testing_plan_arn(PLAN_NAME);
    let _ = standin.add_restore_testing(RestoreTestingSeed {
        plans: vec![RestoreTestingPlan {
            creation_time: None,
            creator_request_id: None,
            last_execution_time: None,
            last_update_time: None,
            recovery_point_selection: Default::default(),
            restore_testing_plan_arn: None,
            restore_testing_plan_name: PLAN_NAME.to_string(),
            schedule_expression: "cron(0 6 25 * ? *)".to_string(),
            schedule_expression_timezone: Some("UTC".to_string()),
            start_window_hours: Some(1),
        }],
        selections: vec![],
    });
    arn
}

/// A restore job of `plan_arn` (or of no plan) restoring `source` into `restored`, created
/// an hour before the account's "now" and `minutes` long.
pub fn restore_job(
    acct: &LocalAccount,
    job_id: &str,
    source: &str,
    restored: &str,
    status: &str,
    plan_arn: Option<&str>,
) -> RestoreJob {
    let s = acct.scenario();
    let created = acct.now() - SignedDuration::from_hours(1);
    RestoreJob {
        restore_job_id: Some(job_id.to_string()),
        recovery_point_arn: Some(format!(
            "arn:aws:backup:{}:{}:recovery-point:{job_id}",
            s.region, s.account
        )),
        source_resource_arn: Some(s.table_arn(source)),
        creation_date: created,
        completion_date: Some(created + SignedDuration::from_mins(20)),
        status: status.to_string(),
        status_message: (status != "COMPLETED").then(|| "Access denied to the KMS key".to_string()),
        created_resource_arn: (status == "COMPLETED").then(|| s.table_arn(restored)),
        resource_type: Some("DynamoDB".to_string()),
        created_by: plan_arn.map(|p| RestoreJobCreator {
            restore_testing_plan_arn: Some(p.to_string()),
        }),
        ..Default::default()
    }
}

/// The `Restore Job State Change` event (`events/restore-job-completed.json`) for `job`,
/// with EventBridge event id `event_id`.
pub fn restore_event(acct: &LocalAccount, event_id: &str, job: &RestoreJob) -> Value {
    let path = format!(
        "{}/../events/restore-job-completed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|_| json!({"detail": {}}));
    let s = acct.scenario();
    v["id"] = json!(event_id);
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    let d = &mut v["detail"];
    d["restoreJobId"] = json!(job.restore_job_id);
    d["status"] = json!(job.status);
    d["creationDate"] = json!(job.creation_date.to_string());
    d["completionDate"] = json!(job.completion_date.map(|t: Timestamp| t.to_string()));
    match &job.created_resource_arn {
        Some(a) => d["createdResourceArn"] = json!(a),
        None => {
            if let Some(o) = d.as_object_mut() {
                o.remove("createdResourceArn");
            }
        }
    }
    if let Some(m) = &job.status_message {
        d["statusMessage"] = json!(m);
    }
    v
}
