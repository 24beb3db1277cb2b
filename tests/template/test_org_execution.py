"""Run org/state-machine.asl.json in moto's Step Functions interpreter (moto.stepfunctions.parser,
enabled by the `execute_state_machine` setting), in-process, no docker.

What runs for real (moto's interpreter, against moto's S3):
* Configure (Pass with States.StringSplit / States.StringToJson on the substituted values),
* the Plan/VerifyItem/Aggregate Task states' lambda:invoke integration: moto's interpreter
  calls moto's Lambda `Invoke` (the LambdaSimpleBackend, `use_docker: False`), with the
  Parameters/ResultSelector/OutputPath/ResultPath the ASL gives,
* Verify's Distributed Map: ItemReader s3:getObject of the items file (moto S3), ItemSelector
  from $$.Map.Item.Value, MaxConcurrencyPath, one child per item, the Catch to the
  Unverifiable Pass state, ResultWriter s3:putObject (moto writes manifest.json only, with
  empty ResultFiles lists: it does not write the SUCCEEDED_n.json result files AWS writes).

What is canned: the verifier itself. LambdaSimpleBackend.invoke is replaced by
`fake_verifier` (a few lines of Python following org/schemas/*.json), because the real Rust
function cannot run in moto without docker. The Retry backoff of the Lambda errors is not
exercised (it would sleep).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import boto3
import pytest

moto = pytest.importorskip("moto")
from moto import mock_aws  # noqa: E402
from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
ASL = (REPO_ROOT / "org" / "state-machine.asl.json").read_text(encoding="utf-8")
REGION = "us-east-1"
WORK_BUCKET = "bg-work"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:backup-guard-recovery-verifier"
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
BROKEN = "222222222222"  # its member role is missing: the verifier raises for it


def substituted(**values: str) -> str:
    text = ASL
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    assert "${" not in text
    # moto's ASL grammar (5.2.5) takes ToleratedFailurePercentage only as a NUMBER token with
    # a fraction ("100" is an INT token and fails to parse); AWS takes 100. Same value.
    assert text.count('"ToleratedFailurePercentage": 100,') == 1
    return text.replace('"ToleratedFailurePercentage": 100,', '"ToleratedFailurePercentage": 100.0,')


class FakeVerifier:
    """The verifier's three org modes as the schemas describe them (canned, in Python)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, body: bytes | str, response_headers: dict) -> bytes:
        event = json.loads(body)
        with self.lock:
            self.calls.append(event)
        s3 = boto3.client("s3", region_name=REGION)
        mode = event["mode"]
        if mode == "org-plan":
            regions = [r for r in event["regions"] if r]
            items = [
                {"account": a, "region": r, "run_id": event["run_id"],
                 "role_arn": f"arn:aws:iam::{a}:role/{event['member_role_name']}"}
                for a in ACCOUNTS if a not in event["exclude_accounts"] for r in regions
            ]
            key = f"org-items/{event['run_id']}.json"
            s3.put_object(Bucket=event["items_bucket"], Key=key, Body=json.dumps(items).encode())
            return json.dumps({"run_id": event["run_id"], "items_bucket": event["items_bucket"],
                               "items_key": key, "count": len(items)}).encode()
        if mode == "org-item":
            if event["account"] == BROKEN:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": "AssumeRoleDenied",
                                   "errorMessage": f"cannot assume {event['role_arn']}"}).encode()
            return json.dumps({"account": event["account"], "region": event["region"], "status": "verified",
                               "counts": {"compliant": 2}, "worst": [],
                               "evidence_prefix": f"evidence/{event['account']}/{event['region']}/"}).encode()
        if mode == "org-aggregate":
            manifest = json.loads(s3.get_object(**event["results"])["Body"].read())
            return json.dumps({"run_id": event["run_id"], "items": 0, "verified": 0, "unverifiable": 0,
                               "counts": {}, "digest_published": True, "manifest": manifest}).encode()
        raise AssertionError(f"unknown mode {mode}")


@pytest.fixture
def run(monkeypatch):
    fake = FakeVerifier()

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        assert function_name in (FUNCTION_ARN, FUNCTION_ARN.rsplit(":", 1)[-1])
        return fake(body, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=WORK_BUCKET)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        definition = substituted(
            VerifierFunctionArn=FUNCTION_ARN, WorkBucket=WORK_BUCKET, Regions="us-east-1,eu-west-1",
            IncludeOus="", ExcludeOus="", ExcludeAccounts="333333333333", MemberRoleName="backup-guard-member", MaxConcurrency="40",
        )
        arn = sfn.create_state_machine(
            name="backup-guard-org-verify", definition=definition, type="STANDARD",
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, name="run-1", input="{}")["executionArn"]
        deadline = time.monotonic() + 60
        while True:
            desc = sfn.describe_execution(executionArn=execution)
            if desc["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        objects = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=WORK_BUCKET).get("Contents", [])
        yield {"desc": desc, "history": history, "calls": fake.calls, "keys": [o["Key"] for o in objects]}


def test_the_run_succeeds_with_one_unverifiable_account(run):
    desc = run["desc"]
    assert desc["status"] == "SUCCEEDED", json.dumps(run["history"], default=str)[:4000]
    calls = run["calls"]
    modes = [c["mode"] for c in calls]
    assert modes[0] == "org-plan" and modes[-1] == "org-aggregate"
    assert modes.count("org-item") == 4  # 2 accounts (333.. excluded) x 2 regions

    plan = calls[0]
    assert plan == {"mode": "org-plan", "run_id": "run-1", "regions": ["us-east-1", "eu-west-1"],
                    "include_ous": [], "exclude_ous": [], "exclude_accounts": ["333333333333"],
                    "member_role_name": "backup-guard-member", "items_bucket": WORK_BUCKET}
    items = [c for c in calls if c["mode"] == "org-item"]
    assert all(set(c) == {"mode", "account", "region", "role_arn", "run_id"} for c in items)
    assert {(c["account"], c["region"]) for c in items} == {
        (a, r) for a in ("111111111111", "222222222222") for r in ("us-east-1", "eu-west-1")}
    aggregate = calls[-1]
    assert set(aggregate) == {"mode", "run_id", "results"}
    assert aggregate["results"]["Bucket"] == WORK_BUCKET
    assert aggregate["results"]["Key"].startswith("org-runs/") and aggregate["results"]["Key"].endswith("/manifest.json")
    assert "org-items/run-1.json" in run["keys"] and aggregate["results"]["Key"] in run["keys"]
    output = json.loads(desc["output"])
    assert output["run_id"] == "run-1" and output["digest_published"] is True


def test_the_map_ran_as_a_map_run_between_plan_and_aggregate(run):
    # moto records the children in the map run, not in this history, and writes no result
    # files: the Catch's Unverifiable output cannot be observed here, only that the two
    # failing invocations did not fail the run.
    entered = [e["stateEnteredEventDetails"]["name"] for e in run["history"] if "stateEnteredEventDetails" in e]
    assert entered[:3] == ["Configure", "Plan", "Verify"] and entered[-1] == "Aggregate"
    assert any(e["type"] == "MapRunStarted" for e in run["history"]), [e["type"] for e in run["history"]]

