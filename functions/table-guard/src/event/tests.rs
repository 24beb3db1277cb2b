//! Unit tests of the event parser on the sample events in `events/` and mutations of them.

use super::*;
use serde_json::{Value, json};

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn evaluate(parsed: &ParsedEvent) -> &TableEvent {
    match &parsed.disposition {
        Disposition::Evaluate(e) => e,
        other => panic!("expected evaluate, got {other:?}"),
    }
}

fn err_of(v: &Value) -> EventError {
    match parse_event(v) {
        Err(e) => e,
        Ok(p) => panic!("expected an error, got {p:?}"),
    }
}

/// Sets `path` (dot-separated object keys) to `new`, or removes it when `new` is None.
fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parents) = keys.split_last().unwrap();
    let mut cur = v;
    for k in parents {
        cur = cur.get_mut(*k).unwrap();
    }
    let obj = cur.as_object_mut().unwrap();
    match new {
        Some(n) => {
            obj.insert(last.to_string(), n);
        }
        None => {
            obj.remove(*last);
        }
    }
}

#[test]
fn create_table_sample_carries_arn_and_request_tags() {
    let p = parse_event(&sample("create-table.json")).unwrap();
    assert_eq!(p.event_name, TableEventName::CreateTable);
    assert_eq!(p.event_id, "7c1e5a2b-3f4d-4e6a-9b8c-0d1e2f3a4b01");
    assert_eq!(p.account.as_deref(), Some("123456789012"));
    assert_eq!(p.region.as_deref(), Some("eu-west-1"));
    assert!(!p.actor.is_cloudformation());
    let e = evaluate(&p);
    assert_eq!(
        e.table.arn,
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    );
    assert_eq!(e.table.name, "orders");
    assert_eq!(e.table.partition, "aws");
    assert_eq!(e.table.account, "123456789012");
    assert_eq!(e.table.region, "eu-west-1");
    assert_eq!(
        e.tags_in_request.get("owner").map(String::as_str),
        Some("team-payments")
    );
    assert_eq!(e.tags_in_request.len(), 2);
    assert_eq!(p.outcome_word(), "evaluate");
}

#[test]
fn cloudformation_sample_is_recognised() {
    let p = parse_event(&sample("create-table-cloudformation.json")).unwrap();
    assert!(p.actor.is_cloudformation());
    assert_eq!(
        evaluate(&p).table.name,
        "inventory-stack-InventoryTable-1A2B3C4D5E6F"
    );
}

#[test]
fn restore_and_import_samples_take_the_arn_from_their_response() {
    for (file, name, table) in [
        (
            "restore-table-from-backup.json",
            TableEventName::RestoreTableFromBackup,
            "orders-restored",
        ),
        (
            "restore-table-to-point-in-time.json",
            TableEventName::RestoreTableToPointInTime,
            "orders-pitr",
        ),
        (
            "import-table.json",
            TableEventName::ImportTable,
            "customers-imported",
        ),
    ] {
        let p = parse_event(&sample(file)).unwrap();
        assert_eq!(p.event_name, name, "{file}");
        assert_eq!(evaluate(&p).table.name, table, "{file}");
        assert!(evaluate(&p).tags_in_request.is_empty(), "{file}");
    }
}

#[test]
fn tag_and_untag_samples_take_the_arn_from_the_request() {
    let p = parse_event(&sample("tag-resource.json")).unwrap();
    let e = evaluate(&p);
    assert_eq!(e.table.name, "orders");
    assert_eq!(
        e.tags_in_request.get("backup-policy").map(String::as_str),
        Some("twice-monthly-90d")
    );
    let p = parse_event(&sample("untag-resource.json")).unwrap();
    let e = evaluate(&p);
    assert_eq!(e.table.name, "orders");
    assert_eq!(e.tag_keys_removed, vec!["backup-policy".to_string()]);
    assert!(e.tags_in_request.is_empty());
}

#[test]
fn failed_call_is_ignored_with_the_error_code() {
    let p = parse_event(&sample("create-table-failed.json")).unwrap();
    assert_eq!(p.outcome_word(), "ignored");
    assert!(p.table().is_none());
    let reason = p.ignore_reason().unwrap();
    assert!(reason.contains("ResourceInUseException"), "{reason}");
    assert!(reason.contains("no table was created"), "{reason}");
}

#[test]
fn every_sample_file_parses() {
    let dir = format!("{}/../../events", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = super::parse_guard_event_str(&text);
        assert!(parsed.is_ok(), "{}: {parsed:?}", path.display());
        n += 1;
    }
    assert!(n >= 9, "only {n} samples");
}

#[test]
fn missing_detail_names_detail() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail", None);
    let e = err_of(&v);
    assert_eq!(e.field, "detail");
    assert_eq!(e.to_string(), "detail: missing");
}

#[test]
fn null_detail_names_detail() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail", Some(Value::Null));
    assert_eq!(err_of(&v).field, "detail");
}

#[test]
fn wrong_source_names_source() {
    let mut v = sample("create-table.json");
    set(&mut v, "source", Some(json!("aws.s3")));
    let e = err_of(&v);
    assert_eq!(e.field, "source");
    assert!(e.problem.contains("aws.s3"), "{e}");
}

#[test]
fn wrong_detail_type_and_event_source_are_named() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail-type", Some(json!("Scheduled Event")));
    assert_eq!(err_of(&v).field, "detail-type");
    let mut v = sample("create-table.json");
    set(
        &mut v,
        "detail.eventSource",
        Some(json!("s3.amazonaws.com")),
    );
    assert_eq!(err_of(&v).field, "detail.eventSource");
}

#[test]
fn unknown_event_names_event_name() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail.eventName", Some(json!("DeleteTable")));
    let e = err_of(&v);
    assert_eq!(e.field, "detail.eventName");
    assert!(e.problem.contains("DeleteTable"), "{e}");
}

#[test]
fn null_response_elements_of_a_successful_create_names_the_arn_path() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail.responseElements", Some(Value::Null));
    let e = err_of(&v);
    assert_eq!(e.field, PATH_TABLE_ARN);
    assert!(e.problem.contains("responseElements is null"), "{e}");
    let mut v = sample("import-table.json");
    set(&mut v, "detail.responseElements", Some(Value::Null));
    assert_eq!(err_of(&v).field, PATH_IMPORT_TABLE_ARN);
}

#[test]
fn null_response_elements_of_tag_resource_is_normal() {
    let v = sample("tag-resource.json");
    assert!(v["detail"]["responseElements"].is_null());
    assert!(parse_event(&v).is_ok());
}

#[test]
fn missing_resource_arn_names_it() {
    let mut v = sample("untag-resource.json");
    set(&mut v, "detail.requestParameters.resourceArn", None);
    assert_eq!(err_of(&v).field, PATH_RESOURCE_ARN);
    let mut v = sample("untag-resource.json");
    set(&mut v, "detail.requestParameters", Some(Value::Null));
    let e = err_of(&v);
    assert_eq!(e.field, PATH_RESOURCE_ARN);
    assert!(e.problem.contains("requestParameters is null"), "{e}");
}

#[test]
fn missing_tag_keys_of_untag_names_it() {
    let mut v = sample("untag-resource.json");
    set(&mut v, "detail.requestParameters.tagKeys", None);
    assert_eq!(err_of(&v).field, "detail.requestParameters.tagKeys");
}

#[test]
fn non_table_arns_are_rejected_naming_the_field() {
    for arn in [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-25T09:00:00.000",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/backup/01732521600000-a1b2c3d4",
        "arn:aws:s3:::my-bucket",
        "arn:aws:dynamodb:eu-west-1:1234:table/orders",
        "arn:aws:dynamodb:eu-west-1:123456789012:global-table/orders",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/o",
        "not-an-arn",
        "",
    ] {
        let mut v = sample("tag-resource.json");
        set(
            &mut v,
            "detail.requestParameters.resourceArn",
            Some(json!(arn)),
        );
        let e = err_of(&v);
        assert_eq!(e.field, PATH_RESOURCE_ARN, "{arn}: {e}");
    }
}

#[test]
fn arn_parts_are_parsed_in_other_partitions() {
    let t = TableRef::parse_arn(
        "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/a.b_c-d",
        "f",
    )
    .unwrap();
    assert_eq!(t.partition, "aws-cn");
    assert_eq!(t.region, "cn-north-1");
    assert_eq!(t.name, "a.b_c-d");
}

#[test]
fn wrong_types_name_the_nested_field() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail.eventID", Some(json!(42)));
    assert_eq!(err_of(&v).field, "detail.eventID");
    let mut v = sample("create-table.json");
    set(
        &mut v,
        "detail.requestParameters.tags",
        Some(json!([{"key": "owner", "value": 7}])),
    );
    assert_eq!(err_of(&v).field, "detail.requestParameters.tags[0].value");
    let mut v = sample("create-table.json");
    set(
        &mut v,
        "detail.responseElements.tableDescription.tableArn",
        Some(json!(true)),
    );
    assert_eq!(err_of(&v).field, PATH_TABLE_ARN);
}

#[test]
fn missing_event_id_names_it() {
    let mut v = sample("create-table.json");
    set(&mut v, "detail.eventID", None);
    assert_eq!(err_of(&v).field, "detail.eventID");
    let mut v = sample("create-table.json");
    set(&mut v, "detail.eventID", Some(json!("  ")));
    assert_eq!(err_of(&v).field, "detail.eventID");
}

#[test]
fn truncated_json_is_an_error_on_the_whole_event() {
    let path = format!(
        "{}/../../events/create-table.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    for cut in [0, 1, text.len() / 3, text.len() / 2, text.len() - 3] {
        let e = parse_event_str(&text[..cut]).unwrap_err();
        assert_eq!(e.field, "$", "cut at {cut}: {e}");
        assert!(e.problem.starts_with("not valid JSON"), "{e}");
    }
}

#[test]
fn non_object_event_is_an_error_on_the_whole_event() {
    for v in [json!(null), json!([1, 2]), json!("x"), json!(3)] {
        assert_eq!(err_of(&v).field, "$", "{v}");
    }
}

#[test]
fn unknown_partition_is_rejected_naming_the_arn_field() {
    for partition in ["awsfoo", "aws-", "AWS", "aws-iso-z"] {
        let mut v = sample("create-table.json");
        set(
            &mut v,
            PATH_TABLE_ARN,
            Some(json!(format!(
                "arn:{partition}:dynamodb:eu-west-1:123456789012:table/orders"
            ))),
        );
        let e = err_of(&v);
        assert_eq!(e.field, PATH_TABLE_ARN, "{partition}: {e}");
        assert!(e.problem.contains("unknown partition"), "{e}");
    }
    // Every known partition parses.
    for partition in policy::names::PARTITIONS {
        let arn = format!("arn:{partition}:dynamodb:eu-west-1:123456789012:table/orders");
        assert!(TableRef::parse_arn(&arn, "f").is_ok(), "{arn}");
    }
}

#[test]
fn malformed_regions_are_rejected_in_the_arn_and_in_aws_region() {
    for region in ["---", "eu", "EU-WEST-1", "eu-west-1a", "eu--west-1"] {
        let mut v = sample("create-table.json");
        set(
            &mut v,
            PATH_TABLE_ARN,
            Some(json!(format!(
                "arn:aws:dynamodb:{region}:123456789012:table/orders"
            ))),
        );
        let e = err_of(&v);
        assert_eq!(e.field, PATH_TABLE_ARN, "{region}: {e}");
        assert!(e.problem.contains("invalid region"), "{e}");

        let mut v = sample("create-table.json");
        set(&mut v, "detail.awsRegion", Some(json!(region)));
        let e = err_of(&v);
        assert_eq!(e.field, PATH_REGION, "{region}: {e}");
    }
    // Without detail.awsRegion the envelope's region is checked, and named.
    let mut v = sample("create-table.json");
    set(&mut v, "detail.awsRegion", None);
    set(&mut v, "region", Some(json!("---")));
    assert_eq!(err_of(&v).field, "region");
}

#[test]
fn arn_account_other_than_recipient_account_names_both_fields() {
    let mut v = sample("create-table.json");
    set(
        &mut v,
        PATH_TABLE_ARN,
        Some(json!(
            "arn:aws:dynamodb:eu-west-1:999999999999:table/orders"
        )),
    );
    let e = err_of(&v);
    assert_eq!(e.field, PATH_TABLE_ARN);
    assert_eq!(e.other_field.as_deref(), Some(PATH_ACCOUNT));
    let msg = e.to_string();
    assert!(
        msg.contains(PATH_TABLE_ARN) && msg.contains(PATH_ACCOUNT),
        "{msg}"
    );
    assert!(
        msg.contains("999999999999") && msg.contains("123456789012"),
        "{msg}"
    );
    assert!(e.names(PATH_ACCOUNT) && e.names(PATH_TABLE_ARN));
    // The same for a TagResource ARN (another field) ...
    let mut v = sample("tag-resource.json");
    set(
        &mut v,
        PATH_RESOURCE_ARN,
        Some(json!(
            "arn:aws:dynamodb:eu-west-1:999999999999:table/orders"
        )),
    );
    let e = err_of(&v);
    assert_eq!(
        (e.field.as_str(), e.other_field.as_deref()),
        (PATH_RESOURCE_ARN, Some(PATH_ACCOUNT))
    );
    // ... and against the envelope's account when recipientAccountId is absent.
    let mut v = sample("create-table.json");
    set(&mut v, "detail.recipientAccountId", None);
    set(&mut v, "account", Some(json!("111122223333")));
    let e = err_of(&v);
    assert_eq!(e.other_field.as_deref(), Some("account"), "{e}");
}

#[test]
fn malformed_recipient_account_is_rejected() {
    for account in ["12345", "12345678901a", ""] {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.recipientAccountId", Some(json!(account)));
        assert_eq!(err_of(&v).field, PATH_ACCOUNT, "{account:?}");
    }
}

#[test]
fn arn_region_other_than_aws_region_names_both_fields() {
    let mut v = sample("import-table.json");
    let arn = v["detail"]["responseElements"]["importTableDescription"]["tableArn"]
        .as_str()
        .unwrap()
        .replace("eu-west-1", "us-east-1");
    set(
        &mut v,
        "detail.responseElements.importTableDescription.tableArn",
        Some(json!(arn)),
    );
    let e = err_of(&v);
    assert_eq!(e.field, PATH_IMPORT_TABLE_ARN);
    assert_eq!(e.other_field.as_deref(), Some(PATH_REGION));
    let msg = e.to_string();
    assert!(
        msg.contains(PATH_REGION) && msg.contains("us-east-1") && msg.contains("eu-west-1"),
        "{msg}"
    );
}

#[test]
fn huge_or_odd_event_ids_are_rejected_with_a_short_message() {
    let huge = "a".repeat(5 * 1024 * 1024);
    let mut v = sample("create-table.json");
    set(&mut v, "detail.eventID", Some(json!(huge)));
    let e = err_of(&v);
    assert_eq!(e.field, PATH_EVENT_ID);
    assert!(
        e.problem.contains("longer than 128"),
        "{}",
        &e.problem[..200]
    );
    assert!(
        e.problem.len() < 400,
        "message is {} bytes",
        e.problem.len()
    );
    for id in [
        "a".repeat(129),
        "id with spaces".to_string(),
        "event#1".to_string(),
        "ünïcode".to_string(),
        "tab\t".to_string(),
    ] {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", Some(json!(id)));
        assert_eq!(err_of(&v).field, PATH_EVENT_ID, "{id:?}");
    }
    // UUIDs, and the longest accepted id, pass.
    for id in [
        "7c1e5a2b-3f4d-4e6a-9b8c-0d1e2f3a4b01".to_string(),
        "a".repeat(128),
        "ev-born-1".to_string(),
    ] {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", Some(json!(id)));
        assert!(parse_event(&v).is_ok(), "{id}");
    }
}

#[test]
fn huge_values_are_quoted_shortly_in_messages() {
    let mut v = sample("create-table.json");
    let arn = format!(
        "arn:aws:dynamodb:eu-west-1:123456789012:table/{}",
        "x".repeat(1_000_000)
    );
    set(&mut v, PATH_TABLE_ARN, Some(json!(arn)));
    let e = err_of(&v);
    assert_eq!(e.field, PATH_TABLE_ARN);
    assert!(
        e.problem.len() < 600,
        "message is {} bytes",
        e.problem.len()
    );
    let mut v = sample("create-table.json");
    set(&mut v, "source", Some(json!("s".repeat(1_000_000))));
    assert!(err_of(&v).problem.len() < 300);
}

#[test]
fn a_huge_error_message_of_a_failed_call_is_cut_in_the_reason() {
    let mut v = sample("create-table-failed.json");
    set(
        &mut v,
        "detail.errorMessage",
        Some(json!("m".repeat(1_000_000))),
    );
    let p = parse_event(&v).unwrap();
    let reason = p.ignore_reason().unwrap();
    assert!(reason.len() < 600, "reason is {} bytes", reason.len());
    assert!(reason.contains("1000000 characters"), "{}", &reason[..100]);
    assert!(reason.contains("no table was created"));
}

#[test]
fn failed_call_without_response_is_ignored_for_every_handled_event() {
    for name in TableEventName::ALL {
        let mut v = sample("create-table-failed.json");
        set(&mut v, "detail.eventName", Some(json!(name.as_str())));
        set(&mut v, "detail.errorCode", Some(json!("AccessDenied")));
        let p = parse_event(&v).unwrap();
        assert_eq!(p.outcome_word(), "ignored", "{name}");
    }
}

fn replicas(parsed: &ParsedEvent) -> &ReplicaEvent {
    match &parsed.disposition {
        Disposition::Replicas(r) => r,
        other => panic!("expected replicas, got {other:?}"),
    }
}

#[test]
fn update_table_creating_a_replica_names_the_replica_in_its_region() {
    let p = parse_event(&sample("update-table-replica-create.json")).unwrap();
    assert_eq!(p.event_name, TableEventName::UpdateTable);
    assert_eq!(p.outcome_word(), "replicas");
    let r = replicas(&p);
    assert_eq!(
        r.source.arn,
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    );
    assert_eq!(r.replicas.len(), 1);
    let replica = &r.replicas[0];
    assert_eq!(
        replica.arn,
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    );
    assert_eq!(replica.region, "us-east-1");
    assert_eq!(replica.name, "orders");
    assert_eq!(
        p.actor.arn.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/Developer/alice")
    );
}

#[test]
fn several_replicas_keep_the_partition_and_drop_repeats_and_updates() {
    let mut v = sample("update-table-replica-create.json");
    set(
        &mut v,
        "detail.requestParameters.replicaUpdates",
        Some(json!([
            {"create": {"regionName": "us-east-1", "kMSMasterKeyId": "alias/k"}},
            {"update": {"regionName": "eu-central-1"}},
            {"delete": {"regionName": "ap-south-1"}},
            {"create": {"regionName": "us-west-2"}},
            {"create": {"regionName": "us-east-1"}}
        ])),
    );
    let p = parse_event(&v).unwrap();
    let regions: Vec<&str> = replicas(&p)
        .replicas
        .iter()
        .map(|t| t.region.as_str())
        .collect();
    assert_eq!(regions, ["us-east-1", "us-west-2"]);
}

#[test]
fn update_table_without_a_replica_created_is_ignored() {
    let p = parse_event(&sample("update-table-capacity.json")).unwrap();
    assert_eq!(p.event_name, TableEventName::UpdateTable);
    assert_eq!(p.outcome_word(), "ignored");
    assert!(
        p.ignore_reason().unwrap().contains("created no replica"),
        "{p:?}"
    );
    // Only updates or deletes of replicas: no new table either, even without a response.
    let mut v = sample("update-table-replica-create.json");
    set(
        &mut v,
        "detail.requestParameters.replicaUpdates",
        Some(json!([{"delete": {"regionName": "us-east-1"}}])),
    );
    set(&mut v, "detail.responseElements", Some(Value::Null));
    assert_eq!(parse_event(&v).unwrap().outcome_word(), "ignored");
}

#[test]
fn malformed_replica_updates_name_their_path() {
    let cases = [
        (
            json!("us-east-1"),
            "detail.requestParameters.replicaUpdates",
        ),
        (
            json!([{"create": {"regionName": 7}}]),
            "detail.requestParameters.replicaUpdates[0].create.regionName",
        ),
        (
            json!([{"create": {}}]),
            "detail.requestParameters.replicaUpdates[0].create.regionName",
        ),
        (
            json!([{"update": {}}, {"create": {"regionName": "Mars 1"}}]),
            "detail.requestParameters.replicaUpdates[1].create.regionName",
        ),
    ];
    for (updates, path) in cases {
        let mut v = sample("update-table-replica-create.json");
        set(
            &mut v,
            "detail.requestParameters.replicaUpdates",
            Some(updates.clone()),
        );
        let e = err_of(&v);
        assert_eq!(e.field, path, "{updates}: {e}");
    }
}

#[test]
fn a_replica_create_without_the_updated_tables_arn_names_the_arn_path() {
    let mut v = sample("update-table-replica-create.json");
    set(&mut v, "detail.responseElements", Some(Value::Null));
    assert_eq!(err_of(&v).field, PATH_TABLE_ARN);
}
