"""Fixtures for the template tests: the parsed template and the IAM expectations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import cfn_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
IAM_EXPECTED_PATH = Path(__file__).resolve().parent / "iam_expected.json"
IAM_ACTIONS_ENV = "BG_IAM_ACTIONS_JSON"


@pytest.fixture(scope="session")
def template() -> dict:
    """template.yaml, short-form tags expanded to long form."""
    return cfn_template.load(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def resolver(template) -> cfn_template.Resolver:
    """Evaluates the template with its parameter defaults (a deploy with no overrides)."""
    return cfn_template.Resolver(template)


@pytest.fixture(scope="session")
def iam_expected() -> dict:
    """tests/template/iam_expected.json."""
    return json.loads(IAM_EXPECTED_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def iam_actions() -> dict[str, list[str]]:
    """The IAM actions each function's code calls, derived from its crate's AWS_OPERATIONS by
    `backup-guard iam-actions` (make lint writes target/iam-actions.json and names it in
    BG_IAM_ACTIONS_JSON): {"TableGuardFunction": ["backup:GetBackupPlan", ...], ...}."""
    path = os.environ.get(IAM_ACTIONS_ENV)
    if not path:
        pytest.skip(
            f"{IAM_ACTIONS_ENV} is not set: run `cargo run -q -p backup-guard-cli -- "
            "iam-actions > target/iam-actions.json` and set "
            f"{IAM_ACTIONS_ENV}=target/iam-actions.json (make lint does both) to compare the "
            "template's IAM grants with the actions the code calls"
        )
    file = Path(path)
    if not file.is_file():
        pytest.fail(f"{IAM_ACTIONS_ENV}={path} does not name a file")
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(a, str) for a in v) for v in data.values()
    ):
        pytest.fail(f"{path}: expected an object of function logical id -> list of IAM actions")
    return data
