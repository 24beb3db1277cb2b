"""Single source of truth: the template's plan and selection equal the policy's defaults.

Two sources of the policy are checked:

* the Rust policy crate's defaults, from a JSON file written by
  `cargo run -q -p backup-guard-cli -- policy-defaults > target/policy-defaults.json`
  and named by the environment variable BG_POLICY_DEFAULTS_JSON. The file is an object of
  the functions' configuration variables with their default values (the encoding the
  functions read from their environment), e.g.
  {"BG_SCHEDULE": "cron(0 0 15,25 * ? *)", "BG_TIMEZONE": "UTC",
   "BG_START_WINDOW_MINUTES": 60, "BG_COMPLETION_WINDOW_MINUTES": 180,
   "BG_RETENTION_DAYS": 90, "BG_SELECTION_MODE": "all-tables",
   "BG_BACKUP_TAG": "backup-policy=twice-monthly-90d", "BG_REQUIRED_TAGS": "owner",
   "BG_EXEMPT_TAG": "backup-policy=exempt", "BG_EXEMPT_REASON_TAG": "exempt-reason",
   "BG_MODE": "enforce", "BG_VAULT_NAME": ""}
  Without the variable those tests are skipped, saying so.
* the policy document's own numbers (its example plan definition), always.

What is compared is what AWS would receive from a deploy with no parameter overrides:
the template is evaluated with its parameter defaults (Fn::If, Fn::Sub, Ref resolved).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import cfn_template

POLICY_DEFAULTS_ENV = "BG_POLICY_DEFAULTS_JSON"

# The policy document ("Backups at midnight on the 15th and 25th of each month, each kept
# 3 months"), in its own example plan: these are its values, not the template's.
POLICY_DOCUMENT = {
    "ScheduleExpression": "cron(0 0 15,25 * ? *)",
    "StartWindowMinutes": 60,
    "CompletionWindowMinutes": 180,
    "DeleteAfterDays": 90,
}


def _policy_defaults() -> dict:
    path = os.environ.get(POLICY_DEFAULTS_ENV)
    if not path:
        pytest.skip(
            f"{POLICY_DEFAULTS_ENV} is not set: run `cargo run -q -p backup-guard-cli -- "
            f"policy-defaults > target/policy-defaults.json` and set "
            f"{POLICY_DEFAULTS_ENV}=target/policy-defaults.json to compare the template "
            "with the Rust policy defaults"
        )
    file = Path(path)
    if not file.is_file():
        pytest.fail(f"{POLICY_DEFAULTS_ENV}={path} does not name a file")
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        pytest.fail(f"{path}: expected a JSON object of BG_* variables, got {type(data).__name__}")
    return data


def _key_value(text: str, what: str) -> tuple[str, str]:
    key, sep, value = str(text).partition("=")
    assert sep and key and value, f"{what} must be key=value, got {text!r}"
    return key, value


def _plan_rule(resolver: cfn_template.Resolver) -> dict:
    plan = resolver.resolve(resolver.resources["BackupPlan"]["Properties"])["BackupPlan"]
    rules = plan["BackupPlanRule"]
    assert len(rules) == 1, f"the plan must have exactly one rule, has {len(rules)}"
    return rules[0]


def _selection(resolver: cfn_template.Resolver) -> dict:
    return resolver.resolve(resolver.resources["BackupSelection"]["Properties"])[
        "BackupSelection"
    ]


def _expected_selection(selection_mode: str, backup_tag: str, exempt_tag: str) -> dict:
    """The selection criteria the policy means by each selection mode."""
    if selection_mode == "all-tables":
        exempt_key, exempt_value = _key_value(exempt_tag, "exempt tag")
        return {
            "Resources": [
                "arn:aws:dynamodb:us-east-1:123456789012:table/*",
            ],
            "Conditions": {
                "StringNotEquals": [
                    {
                        "ConditionKey": f"aws:ResourceTag/{exempt_key}",
                        "ConditionValue": exempt_value,
                    }
                ]
            },
        }
    assert selection_mode == "tagged", f"unknown selection mode {selection_mode!r}"
    key, value = _key_value(backup_tag, "backup tag")
    return {
        "ListOfTags": [
            {"ConditionType": "STRINGEQUALS", "ConditionKey": key, "ConditionValue": value}
        ]
    }


def _criteria(selection: dict) -> dict:
    return {
        k: v
        for k, v in selection.items()
        if k in ("Resources", "ListOfTags", "Conditions", "NotResources")
    }


# --------------------------------------------------------------------------------------
# Against the Rust policy crate's defaults
# --------------------------------------------------------------------------------------


def test_plan_rule_equals_rust_policy_defaults(resolver):
    defaults = _policy_defaults()
    rule = _plan_rule(resolver)
    assert rule["ScheduleExpression"] == defaults["BG_SCHEDULE"]
    assert rule["ScheduleExpressionTimezone"] == defaults["BG_TIMEZONE"]
    assert int(rule["StartWindowMinutes"]) == int(defaults["BG_START_WINDOW_MINUTES"])
    assert int(rule["CompletionWindowMinutes"]) == int(defaults["BG_COMPLETION_WINDOW_MINUTES"])
    assert rule["Lifecycle"] == {"DeleteAfterDays": str(defaults["BG_RETENTION_DAYS"])}, (
        "lifecycle must be exactly DeleteAfterDays = retention (no cold storage)"
    )


def test_selection_equals_rust_policy_defaults(resolver):
    defaults = _policy_defaults()
    assert resolver.params["SelectionMode"] == defaults["BG_SELECTION_MODE"]
    expected = _expected_selection(
        defaults["BG_SELECTION_MODE"], defaults["BG_BACKUP_TAG"], defaults["BG_EXEMPT_TAG"]
    )
    assert _criteria(_selection(resolver)) == expected


@pytest.mark.parametrize("mode", ["all-tables", "tagged"])
def test_selection_in_each_mode_matches_rust_tag_defaults(template, mode):
    defaults = _policy_defaults()
    resolver = cfn_template.Resolver(template, {"SelectionMode": mode})
    expected = _expected_selection(mode, defaults["BG_BACKUP_TAG"], defaults["BG_EXEMPT_TAG"])
    assert _criteria(_selection(resolver)) == expected


def test_function_environment_defaults_equal_rust_policy_defaults(template, resolver):
    """Every policy variable the Rust side knows is set on both functions, to its default."""
    defaults = _policy_defaults()
    for function in ("TableGuardFunction", "RecoveryVerifierFunction"):
        env = resolver.resolve(cfn_template.function_environment(template, function))
        for var, default in defaults.items():
            assert var in env, f"{function} does not set {var}"
            if var == "BG_VAULT_NAME":
                # The policy's default is "any vault"; the stack names the vault it creates.
                assert env[var] == "<Ref BackupVault>"
                continue
            if var == "BG_RESTORE_TESTING_PLAN_ARN":
                # The policy's default is "not configured"; the stack configures its plan.
                assert env[var] == "<GetAtt RestoreTestingPlan.RestoreTestingPlanArn>"
                continue
            assert str(env[var]) == str(default), f"{function} {var}"


# --------------------------------------------------------------------------------------
# Against the policy document
# --------------------------------------------------------------------------------------


def test_plan_rule_is_the_policy_documents(resolver):
    rule = _plan_rule(resolver)
    assert rule["ScheduleExpression"] == POLICY_DOCUMENT["ScheduleExpression"]
    assert int(rule["StartWindowMinutes"]) == POLICY_DOCUMENT["StartWindowMinutes"]
    assert int(rule["CompletionWindowMinutes"]) == POLICY_DOCUMENT["CompletionWindowMinutes"]
    assert rule["Lifecycle"] == {"DeleteAfterDays": str(POLICY_DOCUMENT["DeleteAfterDays"])}
    assert rule["TargetBackupVault"] == "<Ref BackupVault>"
    assert "EnableContinuousBackup" not in rule, "the policy asks for scheduled snapshots"


def test_default_selection_covers_every_table_of_the_account(resolver):
    """The policy document: "Assign all DynamoDB tables to the backup plan"."""
    selection = _selection(resolver)
    assert selection["Resources"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]
    assert "ListOfTags" not in selection and "NotResources" not in selection
    assert selection["IamRoleArn"] == "<GetAtt BackupServiceRole.Arn>"


# --------------------------------------------------------------------------------------
# Inside the template: one parameter feeds the plan and the functions
# --------------------------------------------------------------------------------------

PLAN_PARAMETERS = {
    "ScheduleExpression": ("BackupSchedule", "BG_SCHEDULE"),
    "ScheduleExpressionTimezone": ("ScheduleTimezone", "BG_TIMEZONE"),
    "StartWindowMinutes": ("StartWindowMinutes", "BG_START_WINDOW_MINUTES"),
    "CompletionWindowMinutes": ("CompletionWindowMinutes", "BG_COMPLETION_WINDOW_MINUTES"),
}


@pytest.mark.parametrize("field", sorted(PLAN_PARAMETERS))
def test_plan_and_functions_read_the_same_parameter(template, field):
    """Overriding a parameter changes the plan and what the functions check, together."""
    parameter, var = PLAN_PARAMETERS[field]
    raw_rule = template["Resources"]["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0]
    assert raw_rule[field] == {"Ref": parameter}
    for function in ("TableGuardFunction", "RecoveryVerifierFunction"):
        assert cfn_template.function_environment(template, function)[var] == {"Ref": parameter}


def test_retention_parameter_feeds_lifecycle_and_functions(template):
    overridden = cfn_template.Resolver(template, {"RetentionDays": "35"})
    assert _plan_rule(overridden)["Lifecycle"] == {"DeleteAfterDays": "35"}
    for function in ("TableGuardFunction", "RecoveryVerifierFunction"):
        env = overridden.resolve(cfn_template.function_environment(template, function))
        assert env["BG_RETENTION_DAYS"] == "35"


def test_tag_parameters_feed_selection_and_functions(template):
    overridden = cfn_template.Resolver(
        template,
        {"SelectionMode": "tagged", "BackupTagKey": "bk", "BackupTagValue": "gold",
         "ExemptTagValue": "none"},
    )
    assert _criteria(_selection(overridden)) == _expected_selection("tagged", "bk=gold", "bk=none")
    env = overridden.resolve(cfn_template.function_environment(template, "TableGuardFunction"))
    assert env["BG_BACKUP_TAG"] == "bk=gold"
    assert env["BG_EXEMPT_TAG"] == "bk=none"
    assert env["BG_SELECTION_MODE"] == "tagged"
    all_tables = cfn_template.Resolver(template, {"BackupTagKey": "bk", "ExemptTagValue": "none"})
    assert _criteria(_selection(all_tables)) == _expected_selection("all-tables", "", "bk=none")


# --------------------------------------------------------------------------------------
# The API inputs exported for the Rust conformance test are the template's values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["all-tables", "tagged"])
def test_exported_backup_api_inputs_are_the_templates(template, mode):
    from export_backup_api import backup_api_inputs

    plan, selection = backup_api_inputs(template, {"SelectionMode": mode})
    resolver = cfn_template.Resolver(template, {"SelectionMode": mode})
    rule = _plan_rule(resolver)
    (api_rule,) = plan["Rules"]
    assert api_rule["ScheduleExpression"] == rule["ScheduleExpression"]
    assert api_rule["ScheduleExpressionTimezone"] == rule["ScheduleExpressionTimezone"]
    # The API takes numbers where CloudFormation passes parameter strings.
    assert api_rule["StartWindowMinutes"] == int(rule["StartWindowMinutes"])
    assert api_rule["CompletionWindowMinutes"] == int(rule["CompletionWindowMinutes"])
    assert api_rule["Lifecycle"] == {"DeleteAfterDays": int(rule["Lifecycle"]["DeleteAfterDays"])}
    assert api_rule["TargetBackupVaultName"] == "backup-guard-vault"
    assert _criteria(selection) == _criteria(_selection(resolver))
    assert selection["IamRoleArn"].startswith("arn:aws:iam::123456789012:role/")
