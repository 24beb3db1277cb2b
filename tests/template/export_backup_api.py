"""Write the template's backup plan and selection as AWS Backup API inputs (JSON).

So a Rust test can create exactly what `sam deploy` would create in the local account
(`CreateBackupPlan`, `CreateBackupSelection`) and check that the verifier judges it
conformant, without a second copy of the values. The template is evaluated with its
parameter defaults, plus any NAME=VALUE overrides given after the output directory.

Writes into OUT_DIR:
* backup-plan.json      — CreateBackupPlan's `BackupPlan` member;
* backup-selection.json — CreateBackupSelection's `BackupSelection` member.

Names the template gives by reference are filled with the values a stack named
`backup-guard` in account 123456789012, us-east-1 would have: the vault
`backup-guard-vault`; the role `arn:aws:iam::123456789012:role/backup-guard-backup`
stands in for the generated service-role ARN.

Usage: python tests/template/export_backup_api.py OUT_DIR [Param=Value ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cfn_template

REPO_ROOT = Path(__file__).resolve().parents[2]
STAND_INS = {
    "<Ref BackupVault>": "backup-guard-vault",
    "<GetAtt BackupServiceRole.Arn>": "arn:aws:iam::123456789012:role/backup-guard-backup",
}


def _concrete(value):
    if isinstance(value, str):
        if value in STAND_INS:
            return STAND_INS[value]
        if value.startswith("<"):
            raise SystemExit(f"export_backup_api: no stand-in for {value}")
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    if isinstance(value, dict):
        return {k: _concrete(v) for k, v in value.items()}
    return value


def backup_api_inputs(template: dict, overrides: dict[str, str] | None = None) -> tuple[dict, dict]:
    """(CreateBackupPlan.BackupPlan, CreateBackupSelection.BackupSelection) for these parameters."""
    resolver = cfn_template.Resolver(template, overrides)
    plan = resolver.resolve(resolver.resources["BackupPlan"]["Properties"]["BackupPlan"])
    rules = []
    for rule in plan["BackupPlanRule"]:
        api_rule = {
            "RuleName": rule["RuleName"],
            "TargetBackupVaultName": rule["TargetBackupVault"],
            "ScheduleExpression": rule["ScheduleExpression"],
            "ScheduleExpressionTimezone": rule["ScheduleExpressionTimezone"],
            "StartWindowMinutes": int(rule["StartWindowMinutes"]),
            "CompletionWindowMinutes": int(rule["CompletionWindowMinutes"]),
            "Lifecycle": {k: int(v) for k, v in rule["Lifecycle"].items()},
        }
        if "RecoveryPointTags" in rule:
            api_rule["RecoveryPointTags"] = rule["RecoveryPointTags"]
        rules.append(api_rule)
    api_plan = {"BackupPlanName": plan["BackupPlanName"], "Rules": rules}
    selection = resolver.resolve(
        resolver.resources["BackupSelection"]["Properties"]["BackupSelection"]
    )
    return _concrete(api_plan), _concrete(selection)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(argv[1])
    overrides = {}
    for arg in argv[2:]:
        name, sep, value = arg.partition("=")
        if not sep:
            print(f"export_backup_api: expected Param=Value, got {arg!r}", file=sys.stderr)
            return 2
        overrides[name] = value
    template = cfn_template.load(REPO_ROOT / "template.yaml")
    plan, selection = backup_api_inputs(template, overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "backup-plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    (out_dir / "backup-selection.json").write_text(json.dumps(selection, indent=2) + "\n")
    print(f"export_backup_api: wrote {out_dir}/backup-plan.json and backup-selection.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
