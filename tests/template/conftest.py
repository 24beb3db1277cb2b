"""Fixtures for the template tests: the parsed template and the IAM expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cfn_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
IAM_EXPECTED_PATH = Path(__file__).resolve().parent / "iam_expected.json"


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
