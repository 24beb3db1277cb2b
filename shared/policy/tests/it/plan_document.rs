//! The plan-document parser on bad input: every error names the JSON path of the field, values
//! AWS Backup rejects are invalid documents, and a plan without rules is a valid document that
//! does not conform.

use policy::Policy;
use policy::conformance::{Deviation, check_plan, check_plan_document, parse_plan_document};
use serde_json::{Value, json};

fn plan() -> Value {
    json!({
        "BackupPlanName": "DynamoDBMonthlyBackup",
        "Rules": [{
            "RuleName": "TwiceMonthly",
            "TargetBackupVaultName": "Default",
            "ScheduleExpression": "cron(0 0 15,25 * ? *)",
            "StartWindowMinutes": 60,
            "CompletionWindowMinutes": 180,
            "Lifecycle": {"DeleteAfterDays": 90}
        }]
    })
}

fn path_of_error(doc: &Value) -> (String, String) {
    let e = parse_plan_document(&doc.to_string()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&e.path), "{msg}");
    (e.path, msg)
}

#[test]
fn the_unchanged_example_conforms() {
    let c = check_plan_document(&plan().to_string(), &Policy::default()).unwrap();
    assert!(c.clean(), "{c:?}");
    assert_eq!(c.deviation_count(), 0);
}

#[test]
fn a_negative_start_window_is_an_invalid_document_naming_the_field() {
    let mut doc = plan();
    doc["Rules"][0]["StartWindowMinutes"] = json!(-5);
    let (path, msg) = path_of_error(&doc);
    assert_eq!(path, "Rules[0].StartWindowMinutes");
    assert!(
        msg.contains("-5") && msg.contains("from 60 to 52560000"),
        "{msg}"
    );
}

#[test]
fn windows_and_retention_outside_aws_bounds_are_invalid() {
    for (field, value, path) in [
        (
            "StartWindowMinutes",
            json!(59),
            "Rules[0].StartWindowMinutes",
        ),
        (
            "StartWindowMinutes",
            json!(0),
            "Rules[0].StartWindowMinutes",
        ),
        (
            "StartWindowMinutes",
            json!(52_560_001),
            "Rules[0].StartWindowMinutes",
        ),
        (
            "CompletionWindowMinutes",
            json!(-180),
            "Rules[0].CompletionWindowMinutes",
        ),
        (
            "CompletionWindowMinutes",
            json!(i64::MAX),
            "Rules[0].CompletionWindowMinutes",
        ),
    ] {
        let mut doc = plan();
        doc["Rules"][0][field] = value.clone();
        assert_eq!(path_of_error(&doc).0, path, "{field}={value}");
    }
    for (days, ok) in [
        (0, false),
        (-90, false),
        (1, true),
        (36_500, true),
        (36_501, false),
    ] {
        let mut doc = plan();
        doc["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = json!(days);
        match parse_plan_document(&doc.to_string()) {
            Ok(_) => assert!(ok, "DeleteAfterDays {days} accepted"),
            Err(e) => {
                assert!(!ok, "DeleteAfterDays {days} rejected: {e}");
                assert_eq!(e.path, "Rules[0].Lifecycle.DeleteAfterDays");
            }
        }
    }
    let mut doc = plan();
    doc["Rules"][0]["Lifecycle"]["MoveToColdStorageAfterDays"] = json!(-1);
    assert_eq!(
        path_of_error(&doc).0,
        "Rules[0].Lifecycle.MoveToColdStorageAfterDays"
    );
}

#[test]
fn the_bounds_are_inclusive() {
    let mut doc = plan();
    doc["Rules"][0]["StartWindowMinutes"] = json!(60);
    doc["Rules"][0]["CompletionWindowMinutes"] = json!(52_560_000);
    let p = parse_plan_document(&doc.to_string()).unwrap();
    assert_eq!(p.rules[0].completion_window_minutes, Some(52_560_000));
}

#[test]
fn type_errors_name_the_json_path() {
    for (mutate, path) in [
        (
            Box::new(|d: &mut Value| d["Rules"][0]["StartWindowMinutes"] = json!(60.5))
                as Box<dyn Fn(&mut Value)>,
            "Rules[0].StartWindowMinutes",
        ),
        (
            Box::new(|d: &mut Value| d["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = json!("90")),
            "Rules[0].Lifecycle.DeleteAfterDays",
        ),
        (
            Box::new(|d: &mut Value| d["Rules"][0]["ScheduleExpression"] = json!(7)),
            "Rules[0].ScheduleExpression",
        ),
        (Box::new(|d: &mut Value| d["Rules"] = json!({})), "Rules"),
        (
            Box::new(|d: &mut Value| d["BackupPlanName"] = json!(null)),
            "BackupPlanName",
        ),
        (
            Box::new(|d: &mut Value| {
                d["Rules"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("TargetBackupVaultName");
            }),
            "Rules[0].TargetBackupVaultName",
        ),
        (
            Box::new(|d: &mut Value| {
                d.as_object_mut().unwrap().remove("Rules");
            }),
            "Rules",
        ),
        (
            Box::new(|d: &mut Value| d["Rules"][0]["RuleName"] = json!("  ")),
            "Rules[0].RuleName",
        ),
        (
            // Above i64::MAX: serde_json reads it as a float.
            Box::new(|d: &mut Value| d["Rules"][0]["StartWindowMinutes"] = json!(1e20)),
            "Rules[0].StartWindowMinutes",
        ),
    ] {
        let mut doc = plan();
        mutate(&mut doc);
        let (got, msg) = path_of_error(&doc);
        assert_eq!(got, path, "{msg}");
    }
    // The float case keeps serde's own words, now with the field.
    let mut doc = plan();
    doc["Rules"][0]["StartWindowMinutes"] = json!(60.5);
    let msg = path_of_error(&doc).1;
    assert!(msg.contains("floating point `60.5`"), "{msg}");
}

#[test]
fn get_backup_plan_output_errors_are_under_backup_plan() {
    let mut inner = plan();
    inner["Rules"][0]["CompletionWindowMinutes"] = json!(-1);
    let doc = json!({"BackupPlan": inner, "BackupPlanId": "abc", "VersionId": "v1"});
    assert_eq!(
        path_of_error(&doc).0,
        "BackupPlan.Rules[0].CompletionWindowMinutes"
    );
    let doc = json!({"BackupPlan": plan(), "BackupPlanId": 17});
    assert_eq!(path_of_error(&doc).0, "BackupPlanId");
}

#[test]
fn non_json_and_non_objects_are_errors_on_the_whole_document() {
    for text in ["{not json", "", "[1, 2]", "\"plan\"", "null", "1e400"] {
        let e = parse_plan_document(text).unwrap_err();
        assert_eq!(e.path, "$", "{text:?}: {e}");
    }
}

#[test]
fn a_plan_without_rules_is_valid_but_does_not_conform() {
    let doc = json!({"BackupPlanName": "empty", "Rules": []});
    let p = parse_plan_document(&doc.to_string()).unwrap();
    assert!(p.rules.is_empty());
    let c = check_plan(&p, &Policy::default());
    assert_eq!(c.deviations, vec![Deviation::NoRules]);
    assert!(!c.conforms());
    assert!(!c.clean());
    assert_eq!(c.deviation_count(), 1);
    assert!(Deviation::NoRules.describe().contains("no rules"));
}

#[test]
fn impossible_windows_in_facts_are_deviations_not_conformance() {
    // Facts read from somewhere other than a document (an account, a stand-in) with a window
    // AWS would not accept never conform.
    let mut p = parse_plan_document(&plan().to_string()).unwrap();
    p.rules[0].start_window_minutes = Some(-5);
    p.rules[0].completion_window_minutes = Some(0);
    let c = check_plan(&p, &Policy::default());
    assert_eq!(
        c.rules[0].deviations,
        vec![
            Deviation::StartWindowInvalid { actual: -5 },
            Deviation::CompletionWindowInvalid { actual: 0 }
        ]
    );
    assert!(!c.conforms());
}
