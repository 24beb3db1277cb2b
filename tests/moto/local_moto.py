"""Test infrastructure: moto server for backup-guard's local account.

Runs moto's own server application (exactly what `moto_server` runs) with two additions
that moto 5.2.5 lacks and the local account needs:

* `POST /_local/dynamodb/table-created` with JSON
  `{"account": "...", "region": "...", "table": "...", "created": <epoch seconds>}` sets a
  table's creation time, so `DescribeTable.CreationDateTime` says what the scenario says
  (moto stamps the wall-clock time at CreateTable and has no time-travel endpoint).
* `POST /_local/organizations/account-ids` with JSON `{"<account name>": "<12-digit id>", ...}`
  pins the id the next `organizations:CreateAccount` of that account name gets (moto 5.2.5
  draws a random id; scenarios name their accounts' ids). Unpinned names keep moto's random
  ids.
* `sts:AssumeRole` as AWS answers it: moto 5.2.5 lets anyone assume any role ARN, existing or
  not ("the role does not need to exist"); here the role must exist in the IAM of the ARN's
  account and its trust policy must allow the caller's account (`"*"`, the account id,
  `arn:aws:iam::<id>:root`, or a principal ARN in that account) for `sts:AssumeRole`, else
  `AccessDenied` (403), as AWS does.
* `BACKUP_POLICY` policies (moto 5.2.5 lists the type but raises NotImplementedError on
  CreatePolicy): created like a tag policy, with AWS's backup-policy ARN
  (`arn:aws:organizations::<management>:policy/<org>/backup_policy/<id>`).
* `organizations:DescribeEffectivePolicy`, which moto 5.2.5 lacks: the content of the policy
  of the asked type attached nearest to the account (the account itself, then its OUs up to
  the root). AWS merges inherited policies by their operators (`@@assign` …); here the
  nearest one wins, so tests attach the whole policy where they want it. No policy of the
  type → `EffectivePolicyNotFoundException`, as AWS answers.
* `--parent-pid PID`: exit when that process is gone, so a test process killed without
  unwinding does not leave a server behind.

Usage: python local_moto.py -H 127.0.0.1 -p PORT [--parent-pid PID]
"""

import argparse
import datetime
import json
import os
import sys
import threading
import time

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from moto.dynamodb.models import dynamodb_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

from moto.iam.models import iam_backends
from moto.organizations import models as org_models
from moto.organizations import utils as org_utils
from moto.core.exceptions import JsonRESTError
from moto.organizations.responses import OrganizationsResponse
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse

ADMIN_PATH = "/_local/dynamodb/table-created"
ORG_IDS_PATH = "/_local/organizations/account-ids"

# Account name -> the id its next CreateAccount gets.
PINNED_ACCOUNT_IDS = {}
_creating = threading.local()
_original_account_init = org_models.FakeAccount.__init__
_original_random_account_id = org_utils.make_random_account_id


def _account_init(self, organization, **kwargs):
    _creating.name = kwargs.get("AccountName")
    try:
        _original_account_init(self, organization, **kwargs)
    finally:
        _creating.name = None


def _random_account_id():
    name = getattr(_creating, "name", None)
    if name is not None and name in PINNED_ACCOUNT_IDS:
        return PINNED_ACCOUNT_IDS.pop(name)
    return _original_random_account_id()


org_models.FakeAccount.__init__ = _account_init
org_utils.make_random_account_id = _random_account_id


class AccessDenied(STSClientError):
    code = "AccessDenied"

    def __init__(self, message):
        super().__init__("AccessDenied", message)


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _trusts(document, caller):
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    for st in _as_list(policy.get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        actions = _as_list(st.get("Action"))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = st.get("Principal")
        aws = ["*"] if principal == "*" else _as_list((principal or {}).get("AWS"))
        for p in aws:
            if p in ("*", caller, "arn:aws:iam::%s:root" % caller):
                return True
            if p.startswith("arn:aws:iam::%s:" % caller) or p.startswith(
                "arn:aws:sts::%s:" % caller
            ):
                return True
    return False


_original_assume_role = TokenResponse.assume_role


def _assume_role(self):
    role_arn = self._get_param("RoleArn") or ""
    caller = self.get_current_account()
    parts = role_arn.split(":")
    denied = AccessDenied(
        "User: arn:aws:iam::%s:user/moto is not authorized to perform: sts:AssumeRole on "
        "resource: %s" % (caller, role_arn)
    )
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise denied
    role = None
    for partition in ("global", "aws"):
        try:
            role = iam_backends[parts[4]][partition].get_role_by_arn(role_arn)
            break
        except Exception:
            continue
    if role is None or not _trusts(role.assume_role_policy_document, caller):
        raise denied
    return _original_assume_role(self)


TokenResponse.assume_role = _assume_role


_original_policy_init = org_models.FakePolicy.__init__


def _policy_init(self, organization, **kwargs):
    if kwargs.get("Type") != "BACKUP_POLICY":
        return _original_policy_init(self, organization, **kwargs)
    _original_policy_init(self, organization, **{**kwargs, "Type": "TAG_POLICY"})
    self.type = "BACKUP_POLICY"
    self._arn_format = "arn:{0}:organizations::{1}:policy/{2}/backup_policy/{3}"


org_models.FakePolicy.__init__ = _policy_init


def _describe_effective_policy(self):
    params = self.request_params
    policy_type = params.get("PolicyType")
    target = params.get("TargetId")
    backend = self.organizations_backend
    node = next((a for a in backend.accounts if a.id == target), None)
    if node is None:
        raise JsonRESTError(
            "TargetNotFoundException", "You specified a target that doesn't exist."
        )
    while node is not None:
        for policy in getattr(node, "attached_policies", []):
            if policy.type == policy_type:
                return json.dumps(
                    {
                        "EffectivePolicy": {
                            "PolicyContent": policy.content,
                            "LastUpdatedTimestamp": time.time(),
                            "TargetId": target,
                            "PolicyType": policy_type,
                        }
                    }
                )
        parent = getattr(node, "parent_id", None)
        node = next((ou for ou in backend.ou if ou.id == parent), None) if parent else None
    raise JsonRESTError(
        "EffectivePolicyNotFoundException",
        "There is no effective policy of type %s for the target." % policy_type,
    )


OrganizationsResponse.describe_effective_policy = _describe_effective_policy


def pin_account_ids(body):
    if not isinstance(body, dict) or not all(
        isinstance(v, str) and len(v) == 12 and v.isdigit() for v in body.values()
    ):
        raise ValueError("expected {name: 12-digit id}")
    PINNED_ACCOUNT_IDS.update(body)
    return Response(status=204)


def set_table_created(body):
    backend = dynamodb_backends[body["account"]][body["region"]]
    table = backend.tables.get(body["table"])
    if table is None:
        return Response(
            json.dumps({"message": "no table %r" % body["table"]}),
            status=404,
            content_type="application/json",
        )
    created = datetime.datetime.fromtimestamp(float(body["created"]), datetime.timezone.utc)
    # moto keeps naive UTC datetimes.
    table.created_at = created.replace(tzinfo=None)
    return Response(status=204)


def with_admin(app):
    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO")
        if path in (ADMIN_PATH, ORG_IDS_PATH):
            request = Request(environ)
            handler = set_table_created if path == ADMIN_PATH else pin_account_ids
            if request.method != "POST":
                response = Response(status=405)
            else:
                try:
                    response = handler(json.loads(request.get_data()))
                except (KeyError, TypeError, ValueError) as e:
                    response = Response(
                        json.dumps({"message": "bad request: %r" % (e,)}),
                        status=400,
                        content_type="application/json",
                    )
            return response(environ, start_response)
        return app(environ, start_response)

    return wrapped


def watch_parent(pid):
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        if os.getppid() != pid:
            os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        with_admin(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    sys.exit(main())
