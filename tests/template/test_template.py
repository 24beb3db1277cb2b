"""template.yaml: least-privilege IAM, wiring, retention of backups, alarms, builds."""

from __future__ import annotations

import tomllib

import pytest

import cfn_template
from conftest import REPO_ROOT

FUNCTIONS = ("TableGuardFunction", "RecoveryVerifierFunction")

# What the functions read from their environment (shared/policy config vars, plus the
# stack's resources). The verifier also reads the regions it checks.
COMMON_ENV = {
    "BG_SCHEDULE",
    "BG_TIMEZONE",
    "BG_START_WINDOW_MINUTES",
    "BG_COMPLETION_WINDOW_MINUTES",
    "BG_RETENTION_DAYS",
    "BG_VAULT_NAME",
    "BG_SELECTION_MODE",
    "BG_BACKUP_TAG",
    "BG_REQUIRED_TAGS",
    "BG_EXEMPT_TAG",
    "BG_EXEMPT_REASON_TAG",
    "BG_MODE",
    "BG_VAULT_LOCK_REQUIRED",
    "BG_EXPECTED_KMS_KEY_ARN",
    "BG_RESTORE_TESTING_PLAN_ARN",
    "BG_RESTORE_TEST_MAX_AGE_DAYS",
    "BG_RESTORE_TIME_TARGET_MINUTES",
    "BG_TOPIC_ARN",
    "BG_STATE_TABLE",
}
EXPECTED_ENV = {
    "TableGuardFunction": COMMON_ENV | {"BG_STACK_NAME"},
    "RecoveryVerifierFunction": COMMON_ENV | {"BG_REGIONS", "BG_EVIDENCE_BUCKET"},
}


def _resources_of_type(template, type_name):
    return {
        name: res for name, res in template["Resources"].items() if res["Type"] == type_name
    }


def _statements(template, function):
    policies = template["Resources"][function]["Properties"]["Policies"]
    return [s for p in policies for s in p["Statement"]]


# --------------------------------------------------------------------------------------
# (b) IAM: granted actions == the actions the code calls (derived from each crate's
#     AWS_OPERATIONS by `backup-guard iam-actions`) + what those calls imply
# --------------------------------------------------------------------------------------


def test_iam_expectations_name_the_template_functions(template, iam_expected):
    assert set(iam_expected["functions"]) == set(FUNCTIONS)
    assert set(_resources_of_type(template, "AWS::Serverless::Function")) == set(FUNCTIONS)
    for function, spec in iam_expected["functions"].items():
        assert "actions" not in spec, (
            f"{function}: the actions the code calls come from the code (iam-actions), "
            "not from a hand-kept list"
        )


def test_derived_actions_name_the_template_functions(iam_actions, iam_expected):
    assert set(iam_actions) == set(FUNCTIONS)
    for function, actions in iam_actions.items():
        assert actions, f"{function}: no actions derived from its AWS_OPERATIONS"
        assert not set(actions) & set(iam_expected["not_permissioned"]), function
        implied = set(iam_expected["functions"][function].get("implied_actions", {}))
        assert not implied & set(actions), (
            f"{function}: {sorted(implied & set(actions))} are called by the code; "
            "drop them from implied_actions"
        )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_grants_exactly_the_actions_its_code_calls(
    template, iam_expected, iam_actions, function
):
    implied = set(iam_expected["functions"][function].get("implied_actions", {}))
    expected = set(iam_actions[function]) | implied
    granted = cfn_template.allowed_actions(
        template["Resources"][function]["Properties"]["Policies"]
    )
    extra = sorted(granted - expected)
    missing = sorted(expected - granted)
    assert not extra, f"{function} is granted actions its code does not call: {extra}"
    assert not missing, f"{function} lacks actions its code calls: {missing}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_use_the_execution_role_sam_creates(template, function):
    # The alert topic's policy names the roles SAM creates (<Function>Role); a function
    # with its own Role would publish as a principal that policy denies.
    assert "Role" not in template["Resources"][function]["Properties"]
    assert f"{function}Role" in cfn_template.sam_implicit_roles(template)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_wildcard_actions_or_unneeded_wildcard_resources(template, iam_expected, function):
    wildcard_ok = set(iam_expected["resource_wildcard_allowed"])
    for statement in _statements(template, function):
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert statement["Effect"] == "Allow"
        for action in actions:
            assert "*" not in action, f"{function} grants a wildcard action {action!r}"
            assert action not in iam_expected["not_permissioned"]
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        if "*" in resources:
            bad = sorted(set(actions) - wildcard_ok)
            assert not bad, (
                f"{function} statement {statement.get('Sid')} grants {bad} on Resource '*', "
                "but they can be scoped to resources"
            )


def test_guard_may_only_add_the_backup_tag_in_this_region(template, resolver):
    for statement in _statements(template, "TableGuardFunction"):
        actions = statement["Action"]
        if "dynamodb:TagResource" in actions:
            resolved = resolver.resolve(statement)
            assert resolved["Action"] == ["dynamodb:TagResource"]
            assert resolved["Resource"] == "arn:aws:dynamodb:us-east-1:123456789012:table/*"
            assert resolved["Condition"] == {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["backup-policy"]}
            }
            break
    else:
        pytest.fail("table-guard has no TagResource statement")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_state_table_and_topic_access_is_scoped_to_this_stack(template, resolver, function):
    for statement in _statements(template, function):
        resolved = resolver.resolve(statement)
        actions = resolved["Action"]
        if any(a.startswith("sns:") for a in actions):
            assert resolved["Resource"] == "<Ref AlertTopic>"
        if any(a in ("kms:GenerateDataKey", "kms:Decrypt") for a in actions):
            # The alerts key via SNS, or (the verifier) the evidence key via S3, nothing else.
            via = {
                "<GetAtt AlertsKey.Arn>": "sns.us-east-1.amazonaws.com",
                "<GetAtt EvidenceKey.Arn>": "s3.us-east-1.amazonaws.com",
            }
            assert resolved["Resource"] in via
            assert resolved["Condition"] == {
                "StringEquals": {"kms:ViaService": via[resolved["Resource"]]}
            }
            if resolved["Resource"] == "<GetAtt EvidenceKey.Arn>":
                assert function == "RecoveryVerifierFunction"
                assert actions == ["kms:GenerateDataKey"]
        if any(a.endswith("Item") for a in actions):
            assert resolved["Resource"] == "<GetAtt StateTable.Arn>"


def test_verifier_is_read_only_outside_its_state_table(template, iam_expected):
    state_table_writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for statement in _statements(template, "RecoveryVerifierFunction"):
        for action in statement["Action"]:
            verb = action.split(":", 1)[1]
            if action in state_table_writes:
                assert statement["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
            elif action == "s3:PutObject":
                # Evidence only: objects under evidence/ of the stack's evidence bucket.
                assert statement["Resource"] == {"Fn::Sub": "${EvidenceBucket.Arn}/evidence/*"}
            elif action not in ("sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"):
                assert verb.startswith(("List", "Get", "Describe")), (
                    f"verifier action {action} is not read-only"
                )


# --------------------------------------------------------------------------------------
# (c) wiring: environment, parameters, alarms, retention
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_environment_is_complete_and_resolvable(template, resolver, function):
    env = cfn_template.function_environment(template, function)
    assert set(env) == EXPECTED_ENV[function]
    names = cfn_template.references(env)
    parameters = template["Parameters"]
    for name in names:
        assert (
            name in parameters
            or name in template["Resources"]
            or name in cfn_template.PSEUDO_PARAMETERS
        ), f"{function} environment references unknown {name!r}"
        if name in parameters:
            assert "Default" in parameters[name], f"parameter {name} used in env has no Default"
    resolved = resolver.resolve(env)
    assert set(resolved) == EXPECTED_ENV[function], "a variable resolved to AWS::NoValue"
    assert resolved["BG_TOPIC_ARN"] == "<Ref AlertTopic>"
    assert resolved["BG_STATE_TABLE"] == "<Ref StateTable>"
    assert resolved["BG_VAULT_NAME"] == "<Ref BackupVault>"
    if function == "RecoveryVerifierFunction":
        assert resolved["BG_EVIDENCE_BUCKET"] == "<Ref EvidenceBucket>"


def test_verifier_reads_vault_protection_read_only_in_this_account(template, resolver):
    """kms:DescribeKey (vault key state) alone, on this account's keys; the access policy read
    with the recovery-point listing on this account's vaults; lock required iff the lock is on."""
    statements = [resolver.resolve(s) for s in _statements(template, "RecoveryVerifierFunction")]
    describe = [s for s in statements if "kms:DescribeKey" in s["Action"]]
    assert len(describe) == 1
    assert describe[0]["Action"] == ["kms:DescribeKey"]
    assert describe[0]["Resource"] == "arn:aws:kms:*:123456789012:key/*"
    policy = [s for s in statements if "backup:GetBackupVaultAccessPolicy" in s["Action"]]
    assert len(policy) == 1
    assert policy[0]["Resource"] == "arn:aws:backup:*:123456789012:backup-vault:*"
    for lock, required in (("false", "false"), ("true", "true")):
        r = cfn_template.Resolver(template, {"EnableVaultLock": lock})
        env = r.resolve(cfn_template.function_environment(template, "RecoveryVerifierFunction"))
        assert env["BG_VAULT_LOCK_REQUIRED"] == required


def test_verifier_regions_default_to_the_stack_region(template):
    default = cfn_template.Resolver(template)
    env = default.resolve(cfn_template.function_environment(template, "RecoveryVerifierFunction"))
    assert env["BG_REGIONS"] == "us-east-1"
    listed = cfn_template.Resolver(template, {"Regions": "eu-west-1,eu-central-1"})
    env = listed.resolve(cfn_template.function_environment(template, "RecoveryVerifierFunction"))
    assert env["BG_REGIONS"] == "eu-west-1,eu-central-1"


def test_every_parameter_is_used_and_has_a_default(template):
    used = cfn_template.references(
        {k: v for k, v in template.items() if k not in ("Parameters", "Metadata")}
    )
    for name, spec in template["Parameters"].items():
        assert name in used, f"parameter {name} is declared but never used"
        assert "Default" in spec, f"parameter {name} has no Default"
        assert spec.get("Description"), f"parameter {name} has no Description"


def test_every_alarm_notifies_the_alarm_topic_only(template):
    alarms = _resources_of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 8
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        for actions in ("OKActions", "InsufficientDataActions"):
            if actions in props:
                assert props[actions] == [{"Ref": "AlarmTopic"}], f"{name} {actions}"
        assert "AlertTopic" not in cfn_template.references(props), (
            f"{name} must not depend on the alert topic (a broken one must still page)"
        )


def test_every_queue_has_a_depth_alarm(template):
    queues = set(_resources_of_type(template, "AWS::SQS::Queue"))
    alarmed = set()
    for alarm in _resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            assert props["Namespace"] == "AWS/SQS"
            assert props["ComparisonOperator"] == "GreaterThanThreshold"
            assert props["Threshold"] == 0
            (dim,) = props["Dimensions"]
            alarmed.add(dim["Value"]["Fn::GetAtt"][0])
    assert alarmed == queues


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_an_errors_alarm(template, function):
    found = [
        a["Properties"]
        for a in _resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
        and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    assert len(found) == 1
    assert found[0]["ComparisonOperator"] == "GreaterThanThreshold" and found[0]["Threshold"] == 0


def test_non_compliant_tables_alarm_matches_the_verifier_metric(template):
    props = template["Resources"]["NonCompliantTablesAlarm"]["Properties"]
    assert props["Namespace"] == "BackupGuard"
    assert props["MetricName"] == "NonCompliantTables"
    assert props["Dimensions"] == [{"Name": "Service", "Value": "backup-guard"}]
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0


def _runs_once_a_day(cron: str) -> bool:
    minute, hour, day, month, weekday, year = cron.removeprefix("cron(").removesuffix(")").split()
    return minute.isdigit() and hour.isdigit() and (day, month, weekday, year) == ("*", "*", "?", "*")


def test_heartbeat_alarm_fires_when_no_run_succeeded(template, resolver):
    props = resolver.resolve(template["Resources"]["RecoveryVerifierHeartbeatAlarm"]["Properties"])
    # Successful runs (digest published), not invocations: a run that fails or cannot
    # publish its digest is silence too.
    assert props["Namespace"] == "BackupGuard"
    assert props["MetricName"] == "VerifierRunsSucceeded"
    assert props["Dimensions"] == [{"Name": "Service", "Value": "backup-guard"}]
    assert props["Statistic"] == "Sum"
    assert props["TreatMissingData"] == "breaching"
    assert props["ComparisonOperator"] == "LessThanThreshold" and props["Threshold"] == 1
    # Every period of the window must lack a success: DatapointsToAlarm == EvaluationPeriods.
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"]
    assert props["Period"] == 3600
    window = props["Period"] * int(props["EvaluationPeriods"])
    schedule = template["Parameters"]["VerifierSchedule"]["Default"]
    assert _runs_once_a_day(schedule), schedule
    assert window > 24 * 3600, "the schedule's daily run must fit inside the window"
    # CloudWatch: period * evaluation periods <= 7 days for periods of an hour or more.
    hours = template["Parameters"]["VerifierHeartbeatHours"]
    assert hours["MaxValue"] * 3600 <= 7 * 24 * 3600 and hours["MinValue"] >= 1
    longest = cfn_template.Resolver(template, {"VerifierHeartbeatHours": "168"}).resolve(
        template["Resources"]["RecoveryVerifierHeartbeatAlarm"]["Properties"]
    )
    assert longest["EvaluationPeriods"] == longest["DatapointsToAlarm"] == "168"


def test_digest_not_published_alarm(template):
    props = template["Resources"]["DigestNotPublishedAlarm"]["Properties"]
    assert props["Namespace"] == "BackupGuard"
    assert props["MetricName"] == "DigestsNotPublished"
    assert props["Dimensions"] == [{"Name": "Service", "Value": "backup-guard"}]
    assert props["Statistic"] in ("Sum", "Maximum")
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["Threshold"] == 1
    assert props["DatapointsToAlarm"] == 1, "one failed publish is enough"
    # No data = no failed publish (a missing run is the heartbeat alarm's job).
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(
    "resource", ["BackupVault", "BackupVaultKey", "BackupPlan", "BackupServiceRole"]
)
def test_backups_survive_stack_delete_and_replacement(template, resource):
    res = template["Resources"][resource]
    assert res.get("DeletionPolicy") == "Retain", resource
    assert res.get("UpdateReplacePolicy") == "Retain", resource


def test_selection_survives_stack_delete_but_not_a_mode_change(template):
    res = template["Resources"]["BackupSelection"]
    assert res["DeletionPolicy"] == "Retain"
    # A replaced selection (new criteria) must not linger next to its successor.
    assert res["UpdateReplacePolicy"] == "Delete"
    assert len(_resources_of_type(template, "AWS::Backup::BackupSelection")) == 1


def test_vault_denies_manual_deletion_except_break_glass(template):
    denied = {
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:PutBackupVaultAccessPolicy",
        "backup:DeleteBackupVaultAccessPolicy",
    }
    role = "arn:aws:iam::123456789012:role/break-glass"
    with_role = cfn_template.Resolver(template, {"BreakGlassRoleArn": role})
    policy = with_role.resolve(template["Resources"]["BackupVault"]["Properties"]["AccessPolicy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert set(statement["Action"]) == denied
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": role}}
    without = cfn_template.Resolver(template)
    policy = without.resolve(template["Resources"]["BackupVault"]["Properties"]["AccessPolicy"])
    (statement,) = policy["Statement"]
    assert "Condition" not in statement, "with no break-glass role the deny has no exception"


def test_vault_lock_is_off_by_default_and_matches_retention_when_on(template):
    vault = template["Resources"]["BackupVault"]["Properties"]
    assert "LockConfiguration" not in cfn_template.Resolver(template).resolve(vault)
    locked = cfn_template.Resolver(template, {"EnableVaultLock": "true"}).resolve(vault)
    lock = locked["LockConfiguration"]
    assert int(lock["MinRetentionDays"]) <= 90 <= int(lock["MaxRetentionDays"])
    assert int(lock["ChangeableForDays"]) >= 3
    assert "IRREVERSIBLE" in template["Parameters"]["EnableVaultLock"]["Description"]


KEY_DESTRUCTION = {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"}


def _key_denies(resolver):
    policy = resolver.resolve(
        resolver.template["Resources"]["BackupVaultKey"]["Properties"]["KeyPolicy"]
    )
    return [s for s in policy["Statement"] if s["Effect"] == "Deny"]


def test_vault_key_cannot_be_destroyed_or_repolicied_without_break_glass(template):
    (deny,) = _key_denies(cfn_template.Resolver(template))
    assert deny["Principal"] == "*" and deny["Resource"] == "*"
    assert set(deny["Action"]) == KEY_DESTRUCTION
    assert "Condition" not in deny, "with no break-glass role the deny has no exception"
    role = "arn:aws:iam::123456789012:role/key-break-glass"
    (deny,) = _key_denies(cfn_template.Resolver(template, {"VaultKeyBreakGlassRoleArn": role}))
    assert set(deny["Action"]) == KEY_DESTRUCTION
    assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": role}}
    # The vault's own break-glass role is a different decision: it gets no key exception.
    other = cfn_template.Resolver(template, {"BreakGlassRoleArn": role})
    assert "Condition" not in _key_denies(other)[0]


def test_vault_key_deny_is_deployable_and_survives_stack_delete(template):
    key = template["Resources"]["BackupVaultKey"]
    # Stack delete would call ScheduleKeyDeletion, which the policy denies: Retain only.
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    props = key["Properties"]
    # The deployer is denied a later PutKeyPolicy on purpose: KMS refuses such a policy
    # unless its lockout safety check is bypassed.
    assert props["BypassPolicyLockoutSafetyCheck"] is True
    # CloudFormation calls DisableKey when Enabled changes; leave it unset.
    assert "Enabled" not in props
    description = template["Parameters"]["VaultKeyBreakGlassRoleArn"]["Description"]
    assert template["Parameters"]["VaultKeyBreakGlassRoleArn"]["Default"] == ""
    assert "NEVER" in description and "update" in description


def test_vault_is_encrypted_with_a_rotated_customer_key(template):
    vault = template["Resources"]["BackupVault"]["Properties"]
    assert vault["EncryptionKeyArn"] == {"Fn::GetAtt": ["BackupVaultKey", "Arn"]}
    assert template["Resources"]["BackupVaultKey"]["Properties"]["EnableKeyRotation"] is True


def _tls_only(topic):
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": {"Ref": topic},
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_alert_topic_is_encrypted_and_tls_only(template):
    topic = template["Resources"]["AlertTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    policy = template["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    assert _tls_only("AlertTopic") in policy["Statement"]
    # Only the function roles use the alerts key (through IAM): no service principal.
    key_statements = template["Resources"]["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert all("Service" not in s["Principal"] for s in key_statements)


def test_only_the_two_function_roles_may_publish_to_the_alert_topic(template, resolver):
    policy = resolver.resolve(
        template["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    )
    assert [s for s in policy["Statement"] if s["Effect"] != "Deny"] == [], (
        "the topic policy grants nothing: the roles publish through their IAM policies"
    )
    others = [s for s in policy["Statement"] if s["Sid"] != "DenyInsecureTransport"]
    (deny,) = others
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sns:Publish"
    assert deny["Resource"] == "<Ref AlertTopic>"
    # ArnNotEquals with several values holds when the caller is none of them, so the deny
    # hits every principal but these two (and every service: it has no aws:PrincipalArn).
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [
                "<GetAtt TableGuardFunctionRole.Arn>",
                "<GetAtt RecoveryVerifierFunctionRole.Arn>",
            ]
        }
    }
    roles = cfn_template.sam_implicit_roles(template)
    assert {roles["TableGuardFunctionRole"], roles["RecoveryVerifierFunctionRole"]} == set(FUNCTIONS)


def test_nothing_but_the_functions_is_wired_to_the_alert_topic(template):
    # Denying every other principal is safe only if no alarm, rule target or other AWS
    # service is meant to publish there.
    users = {
        name
        for name, res in template["Resources"].items()
        if "AlertTopic" in cfn_template.references(res)
    }
    assert users == {"AlertTopicPolicy", "AlertEmailSubscription", *FUNCTIONS}
    # (Globals only give both functions BG_TOPIC_ARN; outputs publish nothing.)
    for rule in _resources_of_type(template, "AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            assert "AlertTopic" not in cfn_template.references(target)


def test_alarm_topic_has_its_own_key_cloudwatch_may_use(template, resolver):
    topic = template["Resources"]["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmsKey"}
    assert template["Resources"]["AlarmsKey"]["Properties"]["EnableKeyRotation"] is True
    (cloudwatch,) = [
        s
        for s in template["Resources"]["AlarmsKey"]["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert cloudwatch["Effect"] == "Allow"
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    policy = resolver.resolve(
        template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    )
    assert resolver.resolve(_tls_only("AlarmTopic")) in policy["Statement"]
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish" and allow["Resource"] == "<Ref AlarmTopic>"
    assert allow["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert template["Resources"]["AlarmTopicPolicy"]["Properties"]["Topics"] == [
        {"Ref": "AlarmTopic"}
    ]


def test_email_subscription_only_when_an_address_is_given(template):
    assert not cfn_template.Resolver(template).resource_included("AlertEmailSubscription")
    with_email = cfn_template.Resolver(template, {"AlertEmail": "ops@example.com"})
    assert with_email.resource_included("AlertEmailSubscription")


def test_alarm_email_defaults_to_the_alert_email(template):
    subscription = template["Resources"]["AlarmEmailSubscription"]["Properties"]
    assert not cfn_template.Resolver(template).resource_included("AlarmEmailSubscription")
    alert_only = cfn_template.Resolver(template, {"AlertEmail": "ops@example.com"})
    assert alert_only.resource_included("AlarmEmailSubscription")
    assert alert_only.resolve(subscription) == {
        "TopicArn": "<Ref AlarmTopic>",
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }
    both = cfn_template.Resolver(
        template, {"AlertEmail": "ops@example.com", "AlarmEmail": "oncall@example.com"}
    )
    assert both.resolve(subscription)["Endpoint"] == "oncall@example.com"
    alarm_only = cfn_template.Resolver(template, {"AlarmEmail": "oncall@example.com"})
    assert alarm_only.resource_included("AlarmEmailSubscription")
    assert not alarm_only.resource_included("AlertEmailSubscription")


def test_trail_only_when_asked(template):
    trail_resources = ["Trail", "TrailBucket", "TrailBucketPolicy", "TrailKey"]
    default = cfn_template.Resolver(template)
    assert not any(default.resource_included(r) for r in trail_resources)
    with_trail = cfn_template.Resolver(template, {"CreateTrail": "true"})
    assert all(with_trail.resource_included(r) for r in trail_resources)


def test_state_table_shape(template):
    props = template["Resources"]["StateTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    # It is covered by the all-tables selection like any table; it must carry the
    # required tag so the product does not alert about its own table.
    required = template["Parameters"]["RequiredTags"]["Default"].split(",")
    tag_keys = {t["Key"] for t in props["Tags"]}
    assert set(required) <= tag_keys


def test_table_events_rule_matches_the_events_the_guard_handles(template):
    rule = template["Resources"]["TableEventsRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.dynamodb"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["dynamodb.amazonaws.com"],
            "eventName": [
                "CreateTable",
                "RestoreTableFromBackup",
                "RestoreTableToPointInTime",
                "ImportTable",
                "TagResource",
                "UntagResource",
            ],
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["TableGuardFunction", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": ["EventRuleDeadLetterQueue", "Arn"]
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_rules_may_invoke_their_function_and_write_their_dlq(template):
    rules = {
        "TableEventsRule": "TableGuardFunction",
        "ReplicaEventsRule": "TableGuardFunction",
        "RestoreJobEventsRule": "TableGuardFunction",
        "BackupJobEventsRule": "TableGuardFunction",
        "ChangeEventsRule": "TableGuardFunction",
        "KeyEventsRule": "TableGuardFunction",
        "VerifierScheduleRule": "RecoveryVerifierFunction",
    }
    permissions = _resources_of_type(template, "AWS::Lambda::Permission").values()
    for rule, function in rules.items():
        assert any(
            p["Properties"]["FunctionName"] == {"Ref": function}
            and p["Properties"]["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}
            and p["Properties"]["Principal"] == "events.amazonaws.com"
            for p in permissions
        ), f"{rule} cannot invoke {function}"
    dlq_policy = template["Resources"]["EventRuleDeadLetterQueuePolicy"]["Properties"]
    allow = next(s for s in dlq_policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(a["Fn::GetAtt"][0] for a in allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(rules)


def test_verifier_runs_nightly(template, resolver):
    rule = resolver.resolve(template["Resources"]["VerifierScheduleRule"]["Properties"])
    assert rule["ScheduleExpression"].startswith("cron(")
    assert rule["Targets"][0]["Arn"] == "<GetAtt RecoveryVerifierFunction.Arn>"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_async_failures_are_retried_then_kept(template, function):
    config = template["Resources"][function]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    queue = on_failure["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_logs_json_to_a_retained_log_group(template, function):
    logging = template["Resources"][function]["Properties"]["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    group = template["Resources"][logging["LogGroup"]["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_builds_an_arm64_bootstrap_from_a_workspace_binary(template, iam_expected, function):
    resource = template["Resources"][function]
    assert cfn_template.function_property(template, function, "Runtime") == "provided.al2023"
    assert cfn_template.function_property(template, function, "Architectures") == ["arm64"]
    assert cfn_template.function_property(template, function, "Handler") == "bootstrap"
    assert resource["Metadata"]["BuildMethod"] == "rust-cargolambda"
    # The builder runs `cargo lambda build --bin <Binary>` in CodeUri and copies
    # <CodeUri>/target/lambda/<Binary>/bootstrap: CodeUri must be the workspace root and
    # Binary a [[bin]] of the function's crate.
    code_uri = cfn_template.function_property(template, function, "CodeUri")
    workspace = tomllib.loads((REPO_ROOT / code_uri / "Cargo.toml").read_text(encoding="utf-8"))
    crate = iam_expected["functions"][function]["crate"]
    assert crate in workspace["workspace"]["members"]
    manifest = tomllib.loads((REPO_ROOT / crate / "Cargo.toml").read_text(encoding="utf-8"))
    binaries = {b["name"] for b in manifest.get("bin", [])} or {manifest["package"]["name"]}
    assert resource["Metadata"]["BuildProperties"]["Binary"] in binaries


def test_outputs(template):
    assert set(template["Outputs"]) >= {
        "AlertTopicArn",
        "BackupVaultName",
        "BackupPlanId",
        "TableGuardFunctionName",
        "RecoveryVerifierFunctionName",
        "StateTableName",
        "AlarmTopicArn",
    }
    assert template["Outputs"]["BackupPlanId"]["Value"] == {
        "Fn::GetAtt": ["BackupPlan", "BackupPlanId"]
    }


# --------------------------------------------------------------------------------------
# (d) restore testing: plan, selection, role, the restore-job rule and its events
# --------------------------------------------------------------------------------------

import json as _json  # noqa: E402

import event_pattern  # noqa: E402

EVENTS_DIR = REPO_ROOT / "events"


def _sample(name):
    return _json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


def test_restore_testing_plan_restores_the_vaults_latest_point_after_the_25th(template, resolver):
    plan = resolver.resolve(template["Resources"]["RestoreTestingPlan"]["Properties"])
    assert plan["ScheduleExpression"] == "cron(0 6 25 * ? *)"
    # The policy's zone: the same parameter the backup rule uses.
    assert template["Resources"]["RestoreTestingPlan"]["Properties"]["ScheduleExpressionTimezone"] == {
        "Ref": "ScheduleTimezone"
    }
    selection = plan["RecoveryPointSelection"]
    assert selection["Algorithm"] == "LATEST_WITHIN_WINDOW"
    assert selection["IncludeVaults"] == ["<GetAtt BackupVault.BackupVaultArn>"]
    assert selection["RecoveryPointTypes"] == ["SNAPSHOT"]
    assert int(selection["SelectionWindowDays"]) >= 1
    # Restore testing names allow only letters, digits and underscores.
    assert "-" not in plan["RestoreTestingPlanName"].replace("<Ref AWS::StackName>", "stack")
    # The restore test starts after the 25th's backup could have completed
    # (00:00 + start window 60 + completion window 180 minutes).
    rule = resolver.resolve(template["Resources"]["BackupPlan"]["Properties"])["BackupPlan"][
        "BackupPlanRule"
    ][0]
    done_by = (int(rule["StartWindowMinutes"]) + int(rule["CompletionWindowMinutes"])) / 60
    assert 6 > done_by


def test_restore_testing_selection_tests_every_dynamodb_table(template, resolver):
    sel = resolver.resolve(template["Resources"]["RestoreTestingSelection"]["Properties"])
    assert sel["ProtectedResourceType"] == "DynamoDB"
    assert sel["ProtectedResourceArns"] == ["*"]
    assert sel["RestoreTestingPlanName"] == "<Ref RestoreTestingPlan>"
    assert sel["IamRoleArn"] == "<GetAtt RestoreTestingRole.Arn>"
    assert int(sel["ValidationWindowHours"]) >= 1
    assert template["Resources"]["RestoreTestingSelection"]["Properties"][
        "ValidationWindowHours"
    ] == {"Ref": "RestoreValidationWindowHours"}


def test_restore_testing_role_may_only_restore_dynamodb_tables(template, resolver):
    role = resolver.resolve(template["Resources"]["RestoreTestingRole"]["Properties"])
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert "ManagedPolicyArns" not in role, "no broad managed policy: only DynamoDB restores"
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in s["Action"]}
    assert {a.split(":")[0] for a in actions} == {"dynamodb", "kms"}
    assert "dynamodb:RestoreTableFromAwsBackup" in actions
    assert not {"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable"} & actions
    for s in statements:
        assert s["Effect"] == "Allow"
        assert s["Resource"] != "*", s["Sid"]
        if any(a.startswith("kms:") for a in s["Action"]):
            assert s["Resource"] == "<GetAtt BackupVaultKey.Arn>"


def test_restore_job_rule_takes_ended_dynamodb_restores_to_the_guard(template):
    rule = template["Resources"]["RestoreJobEventsRule"]["Properties"]
    assert rule["EventPattern"]["source"] == ["aws.backup"]
    assert rule["EventPattern"]["detail-type"] == ["Restore Job State Change"]
    (target,) = rule["Targets"]
    table_target = template["Resources"]["TableEventsRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": ["TableGuardFunction", "Arn"]}
    assert target["DeadLetterConfig"] == table_target["DeadLetterConfig"]
    assert target["RetryPolicy"] == table_target["RetryPolicy"]


def test_backup_job_rule_takes_ended_dynamodb_backup_jobs_to_the_guard(template):
    rule = template["Resources"]["BackupJobEventsRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change"],
        "detail": {
            "resourceType": ["DynamoDB"],
            "state": ["FAILED", "ABORTED", "EXPIRED", "PARTIAL", "COMPLETED"],
        },
    }
    (target,) = rule["Targets"]
    table_target = template["Resources"]["TableEventsRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": ["TableGuardFunction", "Arn"]}
    assert target["DeadLetterConfig"] == table_target["DeadLetterConfig"]
    assert target["RetryPolicy"] == table_target["RetryPolicy"]


def test_replica_rule_takes_only_update_table_calls_creating_a_replica(template):
    rule = template["Resources"]["ReplicaEventsRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.dynamodb"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["dynamodb.amazonaws.com"],
            "eventName": ["UpdateTable"],
            "requestParameters": {"replicaUpdates": {"create": {"regionName": [{"exists": True}]}}},
        },
    }
    (target,) = rule["Targets"]
    table_target = template["Resources"]["TableEventsRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": ["TableGuardFunction", "Arn"]}
    assert target["DeadLetterConfig"] == table_target["DeadLetterConfig"]
    assert target["RetryPolicy"] == table_target["RetryPolicy"]
    pattern = rule["EventPattern"]
    # A create anywhere in replicaUpdates matches; updates or deletes of replicas alone do not.
    for updates, matched in [
        ([{"update": {"regionName": "us-east-1"}}, {"create": {"regionName": "us-west-2"}}], True),
        ([{"delete": {"regionName": "us-east-1"}}], False),
        ([{"update": {"regionName": "us-east-1"}}], False),
        ([], False),
    ]:
        ev = _sample("update-table-replica-create.json")
        ev["detail"]["requestParameters"]["replicaUpdates"] = updates
        assert event_pattern.matches(pattern, ev) is matched, updates
    ev = _sample("update-table-replica-create.json")
    ev["detail"]["eventName"] = "CreateTable"
    assert not event_pattern.matches(pattern, ev)


# Which rule each sample in events/ is meant for (every sample must be listed; None: no rule).
_SAMPLE_RULES = {
    "update-table-replica-create.json": "ReplicaEventsRule",
    "update-table-capacity.json": None,
    "restore-job-completed.json": "RestoreJobEventsRule",
    "backup-job-failed.json": "BackupJobEventsRule",
    "backup-job-completed.json": "BackupJobEventsRule",
    "backup-job-expired.json": "BackupJobEventsRule",
    **{
        f"backup-{n}.json": "ChangeEventsRule"
        for n in [
            "delete-recovery-point",
            "delete-recovery-point-denied",
            "update-recovery-point-lifecycle",
            "disassociate-recovery-point",
            "update-backup-plan",
            "delete-backup-plan",
            "create-backup-selection",
            "delete-backup-selection",
            "put-vault-access-policy",
            "delete-vault-access-policy",
            "delete-vault-lock",
            "delete-backup-vault",
            "stop-backup-job",
        ]
    },
    **{f"kms-{n}.json": "KeyEventsRule" for n in ["schedule-key-deletion", "disable-key", "put-key-policy"]},
}
_ROUTED_RULES = [
    "TableEventsRule",
    "ReplicaEventsRule",
    "RestoreJobEventsRule",
    "BackupJobEventsRule",
    "ChangeEventsRule",
    "KeyEventsRule",
]


def test_event_patterns_route_each_sample_to_its_rule_only(template):
    patterns = {r: template["Resources"][r]["Properties"]["EventPattern"] for r in _ROUTED_RULES}
    samples = sorted(p.name for p in EVENTS_DIR.glob("*.json"))
    assert len(samples) >= 12
    for name in samples:
        meant = _SAMPLE_RULES.get(name, "TableEventsRule")
        ev = _sample(name)
        matched = [r for r, pattern in patterns.items() if event_pattern.matches(pattern, ev)]
        assert matched == ([meant] if meant else []), (name, matched)
    restore_rule = patterns["RestoreJobEventsRule"]
    backup_rule = patterns["BackupJobEventsRule"]
    # The restore rule takes the failures the guard alerts on, not jobs still running or
    # other resource types.
    for status, matched in [("FAILED", True), ("ABORTED", True), ("RUNNING", False), ("PENDING", False)]:
        ev = _sample("restore-job-completed.json")
        ev["detail"]["status"] = status
        assert event_pattern.matches(restore_rule, ev) is matched, status
    ev = _sample("restore-job-completed.json")
    ev["detail"]["resourceType"] = "EC2"
    assert not event_pattern.matches(restore_rule, ev)
    # The backup job rule: every ended state, nothing still running, only DynamoDB.
    for state, matched in [
        ("FAILED", True),
        ("ABORTED", True),
        ("EXPIRED", True),
        ("PARTIAL", True),
        ("COMPLETED", True),
        ("RUNNING", False),
        ("PENDING", False),
        ("CREATED", False),
        ("ABORTING", False),
    ]:
        ev = _sample("backup-job-failed.json")
        ev["detail"]["state"] = state
        assert event_pattern.matches(backup_rule, ev) is matched, state
        assert not event_pattern.matches(restore_rule, ev), state
    ev = _sample("backup-job-failed.json")
    ev["detail"]["resourceType"] = "EBS"
    assert not event_pattern.matches(backup_rule, ev)
    # The change rules: exactly the 12 AWS Backup and 3 KMS calls, CloudTrail records only.
    change_rule = patterns["ChangeEventsRule"]
    key_rule = patterns["KeyEventsRule"]
    for name in ["CreateBackupVault", "ListBackupPlans", "StartBackupJob", "GetBackupPlan"]:
        ev = _sample("backup-delete-backup-plan.json")
        ev["detail"]["eventName"] = name
        assert not event_pattern.matches(change_rule, ev), name
    for name in ["EnableKey", "CancelKeyDeletion", "Decrypt", "CreateKey"]:
        ev = _sample("kms-disable-key.json")
        ev["detail"]["eventName"] = name
        assert not event_pattern.matches(key_rule, ev), name
    ev = _sample("kms-disable-key.json")
    ev["detail"]["eventSource"] = "backup.amazonaws.com"
    assert not event_pattern.matches(key_rule, ev)
    assert len(change_rule["detail"]["eventName"]) == 12
    assert len(key_rule["detail"]["eventName"]) == 3


def test_event_pattern_matcher_refuses_what_it_cannot_judge():
    import pytest as _pytest

    assert event_pattern.matches({"a": [{"prefix": "x"}]}, {"a": "xyz"})
    assert event_pattern.matches({"a": [{"anything-but": ["b"]}]}, {"a": "c"})
    assert not event_pattern.matches({"a": [{"exists": True}]}, {})
    assert event_pattern.matches({"a": ["v"]}, {"a": ["u", "v"]})
    assert not event_pattern.matches({"a": {"b": ["v"]}}, {"a": "v"})
    assert event_pattern.matches({"a": {"b": ["v"]}}, {"a": [{"c": 1}, {"b": "v"}]})
    assert not event_pattern.matches({"a": {"b": [{"exists": True}]}}, {"a": [{"c": 1}]})
    with _pytest.raises(event_pattern.UnsupportedPattern):
        event_pattern.matches({"a": [{"numeric": [">", 1]}]}, {"a": 2})


# --------------------------------------------------------------------------------------
# (e) Evidence bucket: where nobody can quietly change the verifier's nightly bundles


def test_evidence_bucket_is_locked_versioned_and_retained(template, resolver):
    res = template["Resources"]["EvidenceBucket"]
    assert res["DeletionPolicy"] == "Retain" and res["UpdateReplacePolicy"] == "Retain"
    props = resolver.resolve(res["Properties"])
    assert props["ObjectLockEnabled"] is True
    lock = props["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": "400"}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == "400"
    # Current versions never expire by lifecycle (the lock's retention is the floor).
    assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule


def test_evidence_retention_and_mode_are_parameters(template):
    params = template["Parameters"]
    assert params["EvidenceRetentionDays"]["Default"] == 400
    assert params["EvidenceLockMode"]["Default"] == "GOVERNANCE"
    assert set(params["EvidenceLockMode"]["AllowedValues"]) == {"GOVERNANCE", "COMPLIANCE"}
    compliance = cfn_template.Resolver(
        template, {"EvidenceLockMode": "COMPLIANCE", "EvidenceRetentionDays": "730"}
    )
    props = compliance.resolve(template["Resources"]["EvidenceBucket"]["Properties"])
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": "COMPLIANCE",
        "Days": "730",
    }


def test_evidence_bucket_is_kms_encrypted_with_its_rotated_key_and_tls_only(template, resolver):
    props = resolver.resolve(template["Resources"]["EvidenceBucket"]["Properties"])
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "<GetAtt EvidenceKey.Arn>",
    }
    key = template["Resources"]["EvidenceKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    policy = resolver.resolve(template["Resources"]["EvidenceBucketPolicy"]["Properties"])
    assert policy["Bucket"] == "<Ref EvidenceBucket>"
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {
        "<GetAtt EvidenceBucket.Arn>",
        "<GetAtt EvidenceBucket.Arn>/*",
    }


def test_only_the_verifier_writes_evidence_and_cannot_read_or_delete_it(template):
    for function in FUNCTIONS:
        s3_actions = {
            a
            for statement in _statements(template, function)
            for a in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
            if a.startswith("s3:")
        }
        expected = {"s3:PutObject"} if function == "RecoveryVerifierFunction" else set()
        assert s3_actions == expected, function


def test_evidence_not_written_alarm_matches_the_verifier_metric(template):
    props = template["Resources"]["EvidenceNotWrittenAlarm"]["Properties"]
    assert props["Namespace"] == "BackupGuard"
    assert props["MetricName"] == "EvidenceNotWritten"
    assert props["Dimensions"] == [{"Name": "Service", "Value": "backup-guard"}]
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
