"""org/: the organization stack, the member-role StackSet template, the fan-out state machine
and the payload contracts (org/schemas/*.json) the state machine and the verifier share."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cfn_template

REPO_ROOT = Path(__file__).resolve().parents[2]
ORG = REPO_ROOT / "org"
ASL_PATH = ORG / "state-machine.asl.json"
SCHEMAS = ORG / "schemas"
LIB_RS = REPO_ROOT / "functions" / "recovery-verifier" / "src" / "lib.rs"
IAM_ACTIONS_JSON = REPO_ROOT / "target" / "iam-actions.json"

# cli/src/iam_cmd.rs SERVICE_PREFIXES and NOT_PERMISSIONED.
SERVICE_PREFIXES = {
    "Backup": "backup",
    "DynamoDB": "dynamodb",
    "KMS": "kms",
    "Organizations": "organizations",
    "Resource Groups Tagging API": "tag",
    "S3": "s3",
    "SNS": "sns",
    "STS": "sts",
}
NOT_PERMISSIONED = {"STS.GetCallerIdentity"}
# What the verifier writes stays central (org/template.yaml's VerifierRole): its state table,
# the alert topic, the evidence bucket (and the KMS calls those imply, which it does not call).
CENTRAL_WRITES = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "sns:Publish", "s3:PutObject"}

ORG_PARAMS = {"OrganizationId": "o-abcdefghij"}
MEMBER_PARAMS = {"CentralAccountId": "111111111111", "OrganizationId": "o-abcdefghij"}


@pytest.fixture(scope="module")
def org_template() -> dict:
    return cfn_template.load(ORG / "template.yaml")


@pytest.fixture(scope="module")
def member_template() -> dict:
    return cfn_template.load(ORG / "member-role.yaml")


@pytest.fixture(scope="module")
def asl() -> dict:
    return json.loads(ASL_PATH.read_text(encoding="utf-8"))


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


def verifier_operations(name: str = "AWS_OPERATIONS") -> list[str]:
    """AWS_OPERATIONS (or ORG_OPERATIONS) of the recovery-verifier crate, parsed from its lib.rs."""
    text = LIB_RS.read_text(encoding="utf-8")
    match = re.search(r"pub const " + name + r": &\[&str\] = &\[(.*?)\];", text, re.S)
    assert match, f"{LIB_RS}: no {name}"
    return re.findall(r'"([^"]+)"', match.group(1))


def iam_action(operation: str) -> str | None:
    service, _, name = operation.rpartition(".")
    assert service in SERVICE_PREFIXES, f"{operation}: unknown service (cli/src/iam_cmd.rs)"
    return None if operation in NOT_PERMISSIONED else f"{SERVICE_PREFIXES[service]}:{name}"


def verifier_actions() -> set[str]:
    """The verifier's IAM actions: target/iam-actions.json when make lint wrote it, else
    derived from lib.rs the way `backup-guard iam-actions` derives them."""
    derived = {a for a in map(iam_action, verifier_operations()) if a}
    if IAM_ACTIONS_JSON.is_file():
        from_cli = set(json.loads(IAM_ACTIONS_JSON.read_text())["RecoveryVerifierFunction"])
        assert from_cli == derived, "the lib.rs parse here disagrees with backup-guard iam-actions"
    return derived


def statements(policy_document: dict) -> list[dict]:
    return policy_document["Statement"]


def actions_of(statement: dict) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def payload_keys(payload: dict) -> set[str]:
    return {k[:-2] if k.endswith(".$") else k for k in payload}


def constants(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if not k.endswith(".$")}


def assert_matches_schema(payload: dict, name: str) -> None:
    """The ASL payload's keys are exactly the schema's properties (all required), and its
    constant values are the schema's consts."""
    s = schema(name)
    assert payload_keys(payload) == set(s["properties"]) == set(s["required"]), name
    for key, value in constants(payload).items():
        spec = s["properties"][key]
        if "const" in spec:
            assert value == spec["const"], (name, key)
    for key, spec in s["properties"].items():
        if "const" in spec:
            assert constants(payload).get(key) == spec["const"], f"{name}: {key} must be the constant {spec['const']!r}"


# -- cfn-lint ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["org/template.yaml", "org/member-role.yaml"])
def test_cfn_lint_is_clean(path):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint is not installed next to this python")
    result = subprocess.run([str(cfn_lint), str(REPO_ROOT / path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- member role ------------------------------------------------------------------------
def test_member_role_grants_exactly_the_verifiers_reads(member_template):
    expected = verifier_actions() - CENTRAL_WRITES
    assert expected, "no read actions derived"
    assert not expected & {"sts:GetCallerIdentity", "organizations:DescribeEffectivePolicy"}
    role = member_template["Resources"]["MemberRole"]["Properties"]
    granted: set[str] = set()
    for policy in role["Policies"]:
        for st in statements(policy["PolicyDocument"]):
            assert st["Effect"] == "Allow"
            granted |= actions_of(st)
    assert granted == expected
    assert "ManagedPolicyArns" not in role


def test_member_role_scopes_resources_to_its_own_account(member_template):
    r = cfn_template.Resolver(member_template, MEMBER_PARAMS)
    role = r.resolve(member_template["Resources"]["MemberRole"]["Properties"])
    for policy in role["Policies"]:
        for st in statements(policy["PolicyDocument"]):
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for res in resources:
                assert res == "*" and st["Sid"] == "Inventory" or ":123456789012:" in res, (st["Sid"], res)


def test_member_role_trusts_only_the_central_role_of_the_organization(member_template):
    r = cfn_template.Resolver(member_template, MEMBER_PARAMS)
    role = r.resolve(member_template["Resources"]["MemberRole"]["Properties"])
    assert role["MaxSessionDuration"] == 3600
    assert role["RoleName"] == "backup-guard-member"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "CentralVerifierOfThisOrganization",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:role/backup-guard-org-verifier"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        }
    ]


def test_member_role_parameters_and_the_central_stack_agree(member_template, org_template):
    params = member_template["Parameters"]
    assert set(params) == {"CentralAccountId", "CentralRoleName", "OrganizationId", "MemberRoleName"}
    assert params["MemberRoleName"]["Default"] == org_template["Parameters"]["MemberRoleName"]["Default"]
    assert params["CentralRoleName"]["Default"] == org_template["Parameters"]["VerifierRoleName"]["Default"]
    header = (ORG / "member-role.yaml").read_text()
    for words in ("--permission-model SERVICE_MANAGED", "--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false",
                  "create-stack-instances", "--deployment-targets OrganizationalUnitIds="):
        assert words in header
        assert words in (REPO_ROOT / "docs" / "ORG.md").read_text()


# -- the state machine ------------------------------------------------------------------
def test_asl_has_the_fan_out_states(asl):
    states = asl["States"]
    assert asl["StartAt"] == "Configure"
    assert set(states) == {"Configure", "Plan", "Verify", "Aggregate"}
    assert [states["Configure"]["Next"], states["Plan"]["Next"], states["Verify"]["Next"]] == ["Plan", "Verify", "Aggregate"]
    assert states["Aggregate"]["End"] is True
    for name in ("Plan", "Aggregate"):
        assert states[name]["Type"] == "Task"
        assert states[name]["Resource"] == "arn:aws:states:::lambda:invoke"
        assert states[name]["Parameters"]["FunctionName"] == "${VerifierFunctionArn}"


def test_plan_payload_and_result_follow_the_contract(asl):
    plan = asl["States"]["Plan"]
    payload = plan["Parameters"]["Payload"]
    assert_matches_schema(payload, "plan-input")
    assert payload["run_id.$"] == "$$.Execution.Name"
    out = schema("plan-output")
    assert payload_keys(plan["ResultSelector"]) == set(out["required"]) == set(out["properties"])
    assert all(v == f"$.Payload.{k[:-2]}" for k, v in plan["ResultSelector"].items())
    configure = asl["States"]["Configure"]["Parameters"]
    # Every $.config.<x> the Plan reads is set by Configure from a substitution.
    for key, path in payload.items():
        if path.startswith("$.config."):
            assert path[len("$.config."):] in payload_keys(configure), key


def test_verify_is_a_distributed_map_reading_and_writing_s3(asl):
    verify = asl["States"]["Verify"]
    assert verify["Type"] == "Map"
    processor = verify["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert verify["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket.$": "$.plan.items_bucket", "Key.$": "$.plan.items_key"},
    }
    assert verify["ResultWriter"] == {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "${WorkBucket}", "Prefix": "org-runs/"},
    }
    assert verify["ToleratedFailurePercentage"] == 100
    assert verify["MaxConcurrencyPath"] == "$.config.max_concurrency"
    assert "MaxConcurrency" not in verify
    assert asl["States"]["Configure"]["Parameters"]["max_concurrency.$"] == "States.StringToJson('${MaxConcurrency}')"


def test_item_payload_follows_the_contract(asl):
    selector = asl["States"]["Verify"]["ItemSelector"]
    assert payload_keys(selector) == {"mode", "account", "region", "role_arn", "run_id"}
    assert_matches_schema(selector, "item-input")
    item = schema("item")
    for key, path in selector.items():
        if key.endswith(".$"):
            assert path == f"$$.Map.Item.Value.{key[:-2]}"
            assert key[:-2] in item["required"]
    assert set(item["required"]) == payload_keys(selector) - {"mode"}


def test_a_failing_item_is_an_unverifiable_result(asl):
    processor = asl["States"]["Verify"]["ItemProcessor"]
    task = processor["States"][processor["StartAt"]]
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"] == {"FunctionName": "${VerifierFunctionArn}", "Payload.$": "$"}
    retry_errors = {e for r in task["Retry"] for e in r["ErrorEquals"]}
    assert retry_errors == {"Lambda.TooManyRequestsException", "Lambda.ServiceException", "States.Timeout"}
    assert all(r["BackoffRate"] > 1 for r in task["Retry"])
    assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Unverifiable"}]
    unverifiable = processor["States"]["Unverifiable"]
    assert unverifiable["Type"] == "Pass" and unverifiable["End"] is True
    params = unverifiable["Parameters"]
    assert params == {"account.$": "$.account", "region.$": "$.region", "status": "unverifiable", "reason.$": "$.error.Cause"}
    out = schema("item-output")
    assert payload_keys(params) <= set(out["properties"])
    assert set(out["required"]) <= payload_keys(params)
    assert params["status"] in out["properties"]["status"]["enum"]


def test_aggregate_payload_follows_the_contract(asl):
    payload = asl["States"]["Aggregate"]["Parameters"]["Payload"]
    assert payload_keys(payload) == {"mode", "run_id", "results"}
    assert_matches_schema(payload, "aggregate-input")
    assert payload["results.$"] == "$.verify.ResultWriterDetails"
    assert asl["States"]["Verify"]["ResultPath"] == "$.verify"


def test_every_substitution_is_defined_by_the_stack(asl, org_template):
    used = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    sm = org_template["Resources"]["OrgVerifyStateMachine"]["Properties"]
    assert used == set(sm["DefinitionSubstitutions"])
    assert sm["DefinitionUri"] == "state-machine.asl.json"
    assert sm["Type"] == "STANDARD"


# -- the central stack ------------------------------------------------------------------
def test_verifier_reuses_the_workspace_binary_in_org_mode(org_template):
    fn = org_template["Resources"]["RecoveryVerifierFunction"]
    single = cfn_template.load(REPO_ROOT / "template.yaml")["Resources"]["RecoveryVerifierFunction"]
    assert fn["Metadata"]["BuildMethod"] == single["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert fn["Metadata"]["BuildProperties"] == single["Metadata"]["BuildProperties"]
    assert (ORG / fn["Properties"]["CodeUri"] / "Cargo.toml").resolve() == REPO_ROOT / "Cargo.toml"
    assert fn["Properties"]["Environment"]["Variables"]["BG_ORG_MODE"] == "true"
    assert fn["Properties"]["Role"] == {"Fn::GetAtt": ["VerifierRole", "Arn"]}


def _policy(org_template, role):
    r = cfn_template.Resolver(org_template, ORG_PARAMS)
    props = r.resolve(org_template["Resources"][role]["Properties"])
    (policy,) = props["Policies"]
    return {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}


def test_verifier_may_assume_only_member_roles_of_the_organization(org_template):
    sts = {sid: st for sid, st in _policy(org_template, "VerifierRole").items() if any(a.startswith("sts:") for a in actions_of(st))}
    assert sts == {
        "AssumeMemberRoles": {
            "Sid": "AssumeMemberRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/backup-guard-member",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}},
        }
    }
    orgs = _policy(org_template, "VerifierRole")["Organization"]
    org_actions = {a for a in map(iam_action, verifier_operations("ORG_OPERATIONS")) if a}
    assert actions_of(orgs) == {a for a in org_actions if a.startswith("organizations:")}


def test_the_central_role_grants_every_org_operation_the_code_calls(org_template):
    granted = set().union(*(actions_of(st) for st in _policy(org_template, "VerifierRole").values()))
    org_actions = {a for a in map(iam_action, verifier_operations("ORG_OPERATIONS")) if a}
    assert org_actions <= granted, org_actions - granted


def test_verifier_reads_nothing_of_members_itself(org_template):
    granted = set().union(*(actions_of(st) for st in _policy(org_template, "VerifierRole").values()))
    member_reads = verifier_actions() - CENTRAL_WRITES
    assert not granted & member_reads


def test_state_machine_role_is_scoped(org_template):
    pol = _policy(org_template, "StateMachineRole")
    assert pol["InvokeVerifier"]["Resource"] == ["<GetAtt RecoveryVerifierFunction.Arn>", "<GetAtt RecoveryVerifierFunction.Arn>:*"]
    s3 = {sid: st for sid, st in pol.items() if any(a.startswith("s3:") for a in actions_of(st))}
    assert {st["Resource"] for st in s3.values()} == {"<GetAtt WorkBucket.Arn>/org-items/*", "<GetAtt WorkBucket.Arn>/org-runs/*"}
    assert actions_of(pol["ReadItems"]) == {"s3:GetObject"}
    name = "backup-guard-org-verify"
    assert pol["DistributedMapChildren"]["Resource"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    assert actions_of(pol["DistributedMapChildExecutions"]) == {"states:DescribeExecution", "states:StopExecution"}
    assert pol["DistributedMapChildExecutions"]["Resource"] == f"arn:aws:states:us-east-1:123456789012:execution:{name}/*"
    r = cfn_template.Resolver(org_template, ORG_PARAMS)
    assert r.resolve(org_template["Resources"]["OrgVerifyStateMachine"]["Properties"]["Name"]) == name
    every = set().union(*(actions_of(st) for st in pol.values()))
    assert every == {"lambda:InvokeFunction", "s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts",
                     "s3:AbortMultipartUpload", "states:StartExecution", "states:DescribeExecution", "states:StopExecution"}


def test_schedule_starts_the_state_machine(org_template):
    rule = org_template["Resources"]["VerifierScheduleRule"]["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "VerifierSchedule"}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "OrgVerifyStateMachine"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ScheduleRole", "Arn"]}
    (st,) = _policy(org_template, "ScheduleRole").values()
    assert st["Action"] == "states:StartExecution"
    assert st["Resource"] == "<Ref OrgVerifyStateMachine>"
    assert not any(
        res.get("Type") == "AWS::Lambda::Permission" for res in org_template["Resources"].values()
    ), "nothing but the state machine invokes the verifier"


@pytest.mark.parametrize(
    "alarm, metric, comparison, threshold, period, missing",
    [
        ("ExecutionsFailedAlarm", "ExecutionsFailed", "GreaterThanThreshold", 0, 300, "notBreaching"),
        ("ExecutionsTimedOutAlarm", "ExecutionsTimedOut", "GreaterThanThreshold", 0, 300, "notBreaching"),
        ("MissingRunAlarm", "ExecutionsSucceeded", "LessThanThreshold", 1, 86400, "breaching"),
    ],
)
def test_state_machine_alarms(org_template, alarm, metric, comparison, threshold, period, missing):
    p = org_template["Resources"][alarm]["Properties"]
    assert (p["Namespace"], p["MetricName"], p["ComparisonOperator"], p["Threshold"], p["Period"], p["TreatMissingData"]) == (
        "AWS/States", metric, comparison, threshold, period, missing)
    assert p["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "OrgVerifyStateMachine"}}]
    assert p["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_alarm_notifies_the_alarm_topic(org_template):
    for name, res in org_template["Resources"].items():
        if res["Type"] == "AWS::CloudWatch::Alarm":
            assert res["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_evidence_bucket_is_template_yamls_and_work_bucket_expires(org_template):
    single = cfn_template.load(REPO_ROOT / "template.yaml")["Resources"]["EvidenceBucket"]
    mine = org_template["Resources"]["EvidenceBucket"]
    assert mine["Properties"] == single["Properties"]
    assert mine["DeletionPolicy"] == "Retain"
    work = org_template["Resources"]["WorkBucket"]["Properties"]
    assert "ObjectLockEnabled" not in work
    (rule,) = work["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "WorkRetentionDays"}


def test_every_parameter_is_used(org_template):
    text = json.dumps(org_template["Resources"]) + json.dumps(org_template["Conditions"])
    for name in org_template["Parameters"]:
        assert f'"Ref": "{name}"' in text or "${" + name + "}" in text, name


def test_schemas_are_json_schemas_with_ids():
    for path in SCHEMAS.glob("*.json"):
        s = json.loads(path.read_text())
        assert s["$schema"].startswith("https://json-schema.org/"), path.name
        assert s["$id"].endswith(path.name)
        assert set(s["required"]) <= set(s["properties"])
