//! The commands that need no account: `schedule`, `check-plan`, `check-event` (offline) and
//! `policy-defaults`. Every exit code and the JSON shapes of the issue.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The binary with no `BG_*` policy variables inherited (the policy document's defaults).
fn bg() -> Command {
    let mut c = Command::cargo_bin("backup-guard").unwrap();
    for v in policy::config::vars::ALL {
        c.env_remove(v);
    }
    c.env_remove("NO_COLOR");
    c
}

fn json_out(c: &mut Command) -> (i32, Value) {
    let out = c.output().unwrap();
    let code = out.status.code().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

// ---------------------------------------------------------------- schedule

#[test]
fn schedule_json_lists_policy_fires_in_utc_with_z() {
    let (code, v) = json_out(bg().args([
        "schedule",
        "cron(0 0 15,25 * ? *)",
        "--from",
        "2026-11-25T09:00:00Z",
        "--count",
        "4",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["expression"], "cron(0 0 15,25 * ? *)");
    assert_eq!(v["timezone"], "UTC");
    assert_eq!(
        v["fires"],
        serde_json::json!([
            "2026-12-15T00:00:00Z",
            "2026-12-25T00:00:00Z",
            "2027-01-15T00:00:00Z",
            "2027-01-25T00:00:00Z"
        ])
    );
    // Deadlines from the policy's windows (60 / 180 minutes).
    assert_eq!(v["windows"][0]["start_deadline"], "2026-12-15T01:00:00Z");
    assert_eq!(
        v["windows"][0]["completion_deadline"],
        "2026-12-15T04:00:00Z"
    );
}

#[test]
fn schedule_bare_expression_zone_and_window_overrides() {
    let (code, v) = json_out(bg().args([
        "schedule",
        "0 0 15 * ? *",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2026-11-25",
        "--count",
        "2",
        "--start-window",
        "120",
        "--completion-window",
        "60",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["timezone"], "Europe/Berlin");
    // Midnight in Berlin (CET, UTC+1) is 23:00 UTC the day before.
    assert_eq!(v["fires"][0], "2026-12-14T23:00:00Z");
    assert_eq!(v["fires"][1], "2027-01-14T23:00:00Z");
    assert_eq!(v["windows"][0]["start_deadline"], "2026-12-15T01:00:00Z");
    assert_eq!(
        v["windows"][0]["completion_deadline"],
        "2026-12-15T02:00:00Z"
    );
}

#[test]
fn schedule_windows_follow_the_policy_variables() {
    let (code, v) = json_out(bg().env("BG_START_WINDOW_MINUTES", "90").args([
        "schedule",
        "cron(0 0 15,25 * ? *)",
        "--from",
        "2026-11-25",
        "--count",
        "1",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["windows"][0]["start_deadline"], "2026-12-15T01:30:00Z");
    assert_eq!(
        v["windows"][0]["completion_deadline"],
        "2026-12-15T04:30:00Z"
    );
}

#[test]
fn schedule_text_shows_fires_and_deadlines() {
    bg().args([
        "schedule",
        "cron(0 0 15,25 * ? *)",
        "--from",
        "2026-11-25",
        "--count",
        "2",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("2026-12-15T00:00:00Z"))
    .stdout(predicate::str::contains("2026-12-15T04:00:00Z"))
    .stdout(predicate::str::contains("2026-12-25T00:00:00Z"))
    .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn schedule_invalid_expression_exits_2_naming_field_and_reason() {
    bg().args(["schedule", "cron(0 0 32 * ? *)"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("day-of-month"))
        .stderr(predicate::str::contains("32"));
    // Both day fields set: AWS requires one of them to be `?`.
    bg().args(["schedule", "cron(0 0 15 * MON *)"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("?"));
}

#[test]
fn schedule_bad_zone_instant_and_count_exit_2() {
    bg().args(["schedule", "cron(0 0 15 * ? *)", "--tz", "Mars/Olympus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Mars/Olympus"));
    bg().args(["schedule", "cron(0 0 15 * ? *)", "--from", "tomorrow-ish"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--from"));
    bg().args(["schedule", "cron(0 0 15 * ? *)", "--count", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--count"));
}

#[test]
fn numeric_flags_out_of_the_policy_bounds_exit_2_naming_flag_and_range() {
    // 153722867280912931 minutes overflowed the duration and aborted (exit 134).
    bg().args([
        "schedule",
        "cron(0 0 15 * ? *)",
        "--start-window",
        "153722867280912931",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--start-window"))
    .stderr(predicate::str::contains("from 60 to 52560000"));
    for (flag, value) in [
        ("--start-window", "153722867280912931"),
        ("--start-window", "59"),
        ("--start-window", "-5"),
        ("--completion-window", "52560001"),
        ("--completion-window", "-9223372036854775808"),
    ] {
        // `--flag=value`: a separate `-5` would be read as a flag.
        bg().args(["schedule", "cron(0 0 15 * ? *)", &format!("{flag}={value}")])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(flag))
            .stderr(predicate::str::contains("from 60 to 52560000"));
    }
    // Beyond i64: still the flag and the range, not a crash.
    bg().args([
        "schedule",
        "cron(0 0 15 * ? *)",
        "--start-window",
        "99999999999999999999999",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--start-window"))
    .stderr(predicate::str::contains("from 60 to 52560000"));
    for value in ["1001", "0", "18446744073709551616"] {
        bg().args(["schedule", "cron(0 0 15 * ? *)", "--count", value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--count"))
            .stderr(predicate::str::contains("from 1 to 1000"));
    }
    // The bounds themselves are accepted.
    let (code, v) = json_out(bg().args([
        "schedule",
        "cron(0 0 15 * ? *)",
        "--from",
        "2026-11-25",
        "--count",
        "1000",
        "--start-window",
        "52560000",
        "--completion-window",
        "60",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["fires"].as_array().unwrap().len(), 1000);
    assert_eq!(v["windows"][0]["start_deadline"], "2126-11-21T00:00:00Z");
}

#[test]
fn usage_errors_exit_2() {
    bg().arg("no-such-command").assert().code(2);
    bg().args(["schedule"]).assert().code(2);
    bg().args(["schedule", "cron(0 0 15 * ? *)", "--format", "yaml"])
        .assert()
        .code(2);
}

// ---------------------------------------------------------------- check-plan

fn example_plan() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("policy-example-plan.json")).unwrap())
        .unwrap()
}

fn check_plan_stdin(plan: &Value) -> (i32, Value) {
    json_out(
        bg().args(["check-plan", "-", "--format", "json"])
            .write_stdin(plan.to_string()),
    )
}

fn deviations(v: &Value) -> Vec<String> {
    v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["deviations"].as_array().unwrap().iter())
        .map(|d| d["deviation"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_policy_documents_own_example_plan_conforms() {
    let (code, v) = json_out(bg().args([
        "check-plan",
        fixture("policy-example-plan.json").to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["plan_name"], "DynamoDBMonthlyBackup");
    assert_eq!(v["conforms"], true);
    assert_eq!(v["rules"][0]["rule_name"], "TwiceMonthly");
    assert!(deviations(&v).is_empty());

    bg().args([
        "check-plan",
        fixture("policy-example-plan.json").to_str().unwrap(),
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("TwiceMonthly: conforms"));
}

#[test]
fn retention_35_is_too_short() {
    let mut plan = example_plan();
    plan["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = 35.into();
    let (code, v) = check_plan_stdin(&plan);
    assert_eq!(code, 1);
    assert_eq!(deviations(&v), ["retention_too_short"]);
    let d = &v["rules"][0]["deviations"][0];
    assert_eq!(d["policy"], 90);
    assert_eq!(d["actual"], 35);
    assert!(d["message"].as_str().unwrap().contains("35"));
}

#[test]
fn only_the_15th_is_not_the_policy_schedule() {
    let mut plan = example_plan();
    plan["Rules"][0]["ScheduleExpression"] = "cron(0 0 15 * ? *)".into();
    let (code, v) = check_plan_stdin(&plan);
    assert_eq!(code, 1);
    assert_eq!(deviations(&v), ["schedule_not_equivalent"]);
    assert!(
        v["rules"][0]["deviations"][0]["actual"]
            .as_str()
            .unwrap()
            .contains("cron(0 0 15 * ? *)")
    );
}

#[test]
fn start_window_480_is_too_long() {
    let mut plan = example_plan();
    plan["Rules"][0]["StartWindowMinutes"] = 480.into();
    let (code, v) = check_plan_stdin(&plan);
    assert_eq!(code, 1);
    assert_eq!(deviations(&v), ["start_window_too_long"]);
    assert_eq!(v["rules"][0]["deviations"][0]["actual"], 480);
    // Text names it too.
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("start window is 480 minutes"));
}

#[test]
fn equivalent_reordered_cron_still_conforms() {
    let mut plan = example_plan();
    plan["Rules"][0]["ScheduleExpression"] = "cron(0 0 25,15 * ? *)".into();
    let (code, v) = check_plan_stdin(&plan);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn the_policy_variables_change_the_verdict() {
    // A vault named by the policy: the example's "Default" vault deviates.
    let (code, v) = json_out(bg().env("BG_VAULT_NAME", "backup-guard-vault").args([
        "check-plan",
        fixture("policy-example-plan.json").to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    assert_eq!(deviations(&v), ["vault_mismatch"]);
}

#[test]
fn bad_plan_inputs_exit_2_naming_the_problem() {
    bg().args(["check-plan", "/nonexistent/plan.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/plan.json"));
    bg().args(["check-plan", "-"])
        .write_stdin("{not json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid"));
    bg().env("BG_RETENTION_DAYS", "ninety")
        .args([
            "check-plan",
            fixture("policy-example-plan.json").to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("BG_RETENTION_DAYS"));
}

#[test]
fn impossible_windows_are_invalid_documents_naming_the_field() {
    let mut plan = example_plan();
    plan["Rules"][0]["StartWindowMinutes"] = (-5).into();
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("Rules[0].StartWindowMinutes"))
        .stderr(predicate::str::contains("-5"))
        .stderr(predicate::str::contains("from 60 to 52560000"));
    let mut plan = example_plan();
    plan["Rules"][0]["CompletionWindowMinutes"] = 30.into();
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Rules[0].CompletionWindowMinutes"));
}

#[test]
fn plan_type_errors_name_the_json_path() {
    let mut plan = example_plan();
    plan["Rules"][0]["StartWindowMinutes"] = serde_json::json!(60.5);
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Rules[0].StartWindowMinutes"))
        .stderr(predicate::str::contains("60.5"));
    let mut plan = example_plan();
    plan["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = "90".into();
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Rules[0].Lifecycle.DeleteAfterDays",
        ));
}

#[test]
fn a_plan_without_rules_is_a_deviation_exit_1() {
    let plan = serde_json::json!({"BackupPlanName": "p", "Rules": []});
    let (code, v) = check_plan_stdin(&plan);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["conforms"], false);
    assert_eq!(v["deviation_count"], 1);
    assert_eq!(v["deviations"][0]["deviation"], "no_rules");
    bg().args(["check-plan", "-"])
        .write_stdin(plan.to_string())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no rules"))
        .stdout(predicate::str::contains("does not conform"));
    // `Rules` itself is required by AWS's model.
    bg().args(["check-plan", "-"])
        .write_stdin(r#"{"BackupPlanName": "p"}"#)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Rules"));
}

// ---------------------------------------------------------------- check-plan: backup policy

/// The policy's plan as an AWS Organizations backup policy, written with operators.
fn org_policy() -> Value {
    serde_json::json!({"plans": {"DynamoDBTwiceMonthly": {
        "regions": {"@@assign": ["eu-west-1"]},
        "rules": {"TwiceMonthly": {
            "schedule_expression": {"@@assign": "cron(0 0 15,25 * ? *)"},
            "start_backup_window_minutes": {"@@assign": "60"},
            "complete_backup_window_minutes": {"@@assign": "180"},
            "target_backup_vault_name": {"@@assign": "Default"},
            "lifecycle": {"delete_after_days": {"@@assign": "90"}}
        }},
        "selections": {"tags": {"policy-tag": {
            "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/BackupRole"},
            "tag_key": {"@@assign": "backup-policy"},
            "tag_value": {"@@assign": ["twice-monthly-90d"]}
        }}}
    }}})
}

fn check_org_stdin(doc: &Value, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check-plan", "-", "--format", "json"];
    args.extend_from_slice(extra);
    json_out(bg().args(args).write_stdin(doc.to_string()))
}

#[test]
fn an_org_backup_policy_is_judged_plan_by_plan() {
    let (code, v) = check_org_stdin(&org_policy(), &["--account", "111122223333"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["kind"], "organizations_backup_policy");
    assert_eq!(v["conforms"], true);
    assert_eq!(v["plans"][0]["plan_name"], "DynamoDBTwiceMonthly");
    assert_eq!(v["plans"][0]["regions"][0], "eu-west-1");
    assert_eq!(
        v["plans"][0]["selections"][0]["iam_role_arn"],
        "arn:aws:iam::111122223333:role/BackupRole"
    );
    bg().args(["check-plan", "-", "--account", "111122223333"])
        .write_stdin(org_policy().to_string())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("TwiceMonthly: conforms"))
        .stdout(predicate::str::contains("every plan conforms"));
}

#[test]
fn a_drifting_org_policy_exits_1_with_the_plan_documents_deviation() {
    let mut doc = org_policy();
    doc["plans"]["DynamoDBTwiceMonthly"]["rules"]["TwiceMonthly"]["lifecycle"] =
        serde_json::json!({"delete_after_days": "35"});
    let (code, v) = check_org_stdin(&doc, &["--account", "111122223333"]);
    assert_eq!(code, 1, "{v:#}");
    let d = &v["plans"][0]["rules"][0]["deviations"][0];
    assert_eq!(d["deviation"], "retention_too_short");
    assert_eq!(d["actual"], 35);
    // The same deviation as the plan document with DeleteAfterDays 35.
    let mut plan = example_plan();
    plan["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = 35.into();
    let (_, p) = check_plan_stdin(&plan);
    assert_eq!(p["rules"][0]["deviations"][0], *d);
}

#[test]
fn org_policy_region_selects_plans_and_a_region_without_plans_exits_1() {
    let (code, v) = check_org_stdin(
        &org_policy(),
        &["--account", "111122223333", "--region", "eu-west-1"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["plans"].as_array().unwrap().len(), 1);
    let (code, v) = check_org_stdin(
        &org_policy(),
        &["--account", "111122223333", "--region", "us-east-1"],
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["plans"].as_array().unwrap().len(), 0);
}

#[test]
fn org_policy_account_placeholder_needs_the_flag() {
    bg().args(["check-plan", "-"])
        .write_stdin(org_policy().to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("$account"))
        .stderr(predicate::str::contains("--account"))
        .stderr(predicate::str::contains(
            "selections.tags.policy-tag.iam_role_arn.@@assign",
        ));
    bg().args(["check-plan", "-", "--account", "42"])
        .write_stdin(org_policy().to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--account"));
    // describe-effective-policy output: the content unwrapped, TargetId as the account.
    let wrapped = serde_json::json!({"EffectivePolicy": {
        "PolicyContent": org_policy().to_string(),
        "TargetId": "111122223333",
        "PolicyType": "BACKUP_POLICY"
    }});
    let (code, v) = check_org_stdin(&wrapped, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["account"], "111122223333");
}

#[test]
fn bad_org_policies_exit_2_naming_the_path() {
    let mut doc = org_policy();
    doc["plans"]["DynamoDBTwiceMonthly"]["rules"]["TwiceMonthly"]["lifecycle"] =
        serde_json::json!({"delete_after_days": {"@@assign": "abc"}});
    bg().args(["check-plan", "-", "--account", "111122223333"])
        .write_stdin(doc.to_string())
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.lifecycle.delete_after_days.@@assign",
        ));
    bg().args(["check-plan", "-"])
        .write_stdin(r#"{"plans": []}"#)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("plans: expected an object"));
    // The flags belong to backup policies only.
    bg().args([
        "check-plan",
        fixture("policy-example-plan.json").to_str().unwrap(),
        "--region",
        "eu-west-1",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--region"));
}

// ---------------------------------------------------------------- check-event

fn event(name: &str) -> String {
    repo().join("events").join(name).display().to_string()
}

#[test]
fn create_table_event_is_evaluated() {
    let (code, v) = json_out(bg().args([
        "check-event",
        &event("create-table.json"),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    for key in [
        "event_name",
        "table_arn",
        "table_name",
        "account",
        "region",
        "outcome",
        "reason",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v:#}");
    }
    assert_eq!(v["event_name"], "CreateTable");
    assert_eq!(
        v["table_arn"],
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    );
    assert_eq!(v["table_name"], "orders");
    assert_eq!(v["account"], "123456789012");
    assert_eq!(v["region"], "eu-west-1");
    assert_eq!(v["outcome"], "evaluate");
}

#[test]
fn aws_backup_and_kms_events_say_what_the_guard_does() {
    for (file, name, outcome) in [
        ("kms-disable-key.json", "DisableKey", "judge-change"),
        (
            "backup-delete-recovery-point.json",
            "DeleteRecoveryPoint",
            "judge-change",
        ),
        (
            "backup-delete-recovery-point-denied.json",
            "DeleteRecoveryPoint",
            "note-failed-call",
        ),
        ("backup-job-failed.json", "BackupJobStateChange", "alert"),
        (
            "restore-job-completed.json",
            "RestoreJobStateChange",
            "validate",
        ),
    ] {
        let (code, v) = json_out(bg().args(["check-event", &event(file), "--format", "json"]));
        assert_eq!(code, 0, "{file}: {v:#}");
        assert_eq!(v["event_name"], name, "{file}");
        assert_eq!(v["outcome"], outcome, "{file}: {v:#}");
        assert_eq!(v["account"], "123456789012", "{file}");
    }
}

#[test]
fn import_table_arn_comes_from_the_import_description() {
    let (code, v) = json_out(bg().args([
        "check-event",
        &event("import-table.json"),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["event_name"], "ImportTable");
    assert_eq!(v["table_name"], "customers-imported");
}

#[test]
fn failed_call_is_ignored_with_the_reason() {
    let (code, v) = json_out(bg().args([
        "check-event",
        &event("create-table-failed.json"),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(v["outcome"], "ignored");
    assert_eq!(v["table_arn"], Value::Null);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("ResourceInUseException"),
        "{v:#}"
    );
    bg().args(["check-event", &event("create-table-failed.json")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ignored"));
}

#[test]
fn malformed_events_exit_2_naming_the_field() {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(event("create-table.json")).unwrap())
            .unwrap();
    v["detail"]["responseElements"]["tableDescription"]
        .as_object_mut()
        .unwrap()
        .remove("tableArn");
    bg().args(["check-event", "-"])
        .write_stdin(v.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tableArn"));
    v["detail"]["eventName"] = "DeleteTable".into();
    bg().args(["check-event", "-"])
        .write_stdin(v.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("detail.eventName"));
    bg().args(["check-event", "/nonexistent/event.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/event.json"));
}

// ---------------------------------------------------------------- policy-defaults

#[test]
fn policy_defaults_prints_the_effective_policy() {
    let (code, v) = json_out(bg().arg("policy-defaults"));
    assert_eq!(code, 0);
    assert_eq!(v["schedule_expression"], "cron(0 0 15,25 * ? *)");
    assert_eq!(v["timezone"], "UTC");
    assert_eq!(v["start_window_minutes"], 60);
    assert_eq!(v["completion_window_minutes"], 180);
    assert_eq!(v["retention_days"], 90);

    let (code, v) = json_out(bg().env("BG_RETENTION_DAYS", "35").arg("policy-defaults"));
    assert_eq!(code, 0);
    assert_eq!(v["retention_days"], 35);

    // As the variables the template sets (what tests/template compares it with).
    let (code, v) = json_out(bg().args(["policy-defaults", "--vars"]));
    assert_eq!(code, 0);
    assert_eq!(v["BG_SCHEDULE"], "cron(0 0 15,25 * ? *)");
    assert_eq!(v["BG_RETENTION_DAYS"], "90");
    assert_eq!(v["BG_BACKUP_TAG"], "backup-policy=twice-monthly-90d");
    assert_eq!(v["BG_SELECTION_MODE"], "all-tables");

    bg().env("BG_SELECTION_MODE", "some")
        .arg("policy-defaults")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("BG_SELECTION_MODE"));
}
