"""Render template variants so `make lint` checks every branch of template.yaml.

checkov evaluates a template with its parameter defaults, so resources behind a false
condition (the optional CloudTrail trail, Vault Lock, the e-mail subscriptions, the break-glass
exceptions) are never
scanned, and it does not expand SAM resources, so the functions' IAM roles are not scanned
either. This writes into OUT_DIR:

* all-options.yaml — template.yaml with every optional feature switched on in the
  parameter defaults (same resources and properties otherwise);
* sam-transformed.json — template.yaml after the SAM transform (the plain CloudFormation
  that AWS deploys: function roles with their inline policies, event invoke configs),
  made offline with cfn-lint's bundled SAM translator.

Usage: python tests/template/render_variants.py OUT_DIR
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"

# Parameter defaults that switch every optional branch on.
ALL_OPTIONS = {
    "CreateTrail": '"true"',
    "EnableVaultLock": '"true"',
    "AlertEmail": "alerts@example.com",
    "BreakGlassRoleArn": "arn:aws:iam::123456789012:role/backup-break-glass",
    "VaultKeyBreakGlassRoleArn": "arn:aws:iam::123456789012:role/backup-key-break-glass",
    "AlarmEmail": "oncall@example.com",
    "Regions": "us-east-1,eu-west-1",
    "SelectionMode": "tagged",
}


def with_defaults(text: str, defaults: dict[str, str]) -> str:
    """Replace the `Default:` line of each named top-level parameter."""
    for name, value in defaults.items():
        pattern = re.compile(
            rf"(^  {re.escape(name)}:\n(?:    .*\n)*?    Default: ).*$", re.MULTILINE
        )
        text, count = pattern.subn(lambda m: m.group(1) + value, text, count=1)
        if count != 1:
            raise SystemExit(f"render_variants: parameter {name} has no Default line to replace")
    return text


def sam_transformed(path: Path) -> dict:
    """The SAM transform of `path`, as cfn-lint performs it (offline)."""
    from cfnlint.decode import decode
    from cfnlint.template.transforms._sam import Transform

    template, matches = decode(str(path))
    if matches:
        raise SystemExit(f"render_variants: cannot parse {path}: {matches}")
    transform = Transform(str(path), template, "us-east-1")
    errors = transform.transform_template()
    if errors:
        raise SystemExit(f"render_variants: SAM transform failed: {errors}")
    return transform.template()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    all_options = out_dir / "all-options.yaml"
    all_options.write_text(with_defaults(TEMPLATE.read_text(encoding="utf-8"), ALL_OPTIONS))
    transformed = out_dir / "sam-transformed.json"
    transformed.write_text(json.dumps(sam_transformed(TEMPLATE), indent=1, default=str) + "\n")
    print(f"render_variants: wrote {all_options} and {transformed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
