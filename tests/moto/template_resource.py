"""Print one resource's Properties from template.yaml as JSON, intrinsic functions resolved
with the template's parameter defaults (tests/template/cfn_template.py's Resolver).

Used by the local account (tests/src/account.rs) to create its resources from the
template's own properties, e.g. the evidence bucket's Object Lock and versioning:

    python tests/moto/template_resource.py EvidenceBucket
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "template"))

import cfn_template  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: template_resource.py LOGICAL_ID", file=sys.stderr)
        return 2
    template = cfn_template.load(ROOT / "template.yaml")
    resource = template["Resources"].get(argv[1])
    if resource is None:
        print(f"template.yaml has no resource {argv[1]}", file=sys.stderr)
        return 1
    resolved = cfn_template.Resolver(template).resolve(resource.get("Properties", {}))
    json.dump(resolved, sys.stdout, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
