#!/usr/bin/env python3
"""Install AWS's own AWS Backup API model for the stand-in's model check, offline afterwards.

Usage: botocore-backup-model.py PINS DEST_DIR

Downloads the botocore wheel pinned (with its sha256) in PINS with `pip download --no-deps
--require-hashes` -- it is never installed: the venv's own botocore stays where checkov holds
it -- and writes its `botocore/data/backup/2018-11-15/service-2.json` (gzipped in recent
botocore) to DEST_DIR/service-2.json, plus DEST_DIR/VERSION naming the botocore release.
`make venv` runs it with DEST_DIR .venv/share/botocore-backup; tests/src/model_check.rs reads
the file from there, or from $BG_BOTOCORE_BACKUP_MODEL.
"""

import gzip
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

MEMBER = "botocore/data/backup/2018-11-15/service-2.json"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pins, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--require-hashes", "-r", str(pins), "-d", tmp],
            check=True,
        )
        wheels = sorted(pathlib.Path(tmp).glob("botocore-*.whl"))
        if len(wheels) != 1:
            print(f"expected one botocore wheel from {pins}, got {wheels}", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheels[0]) as z:
            names = set(z.namelist())
            if MEMBER in names:
                text = z.read(MEMBER)
            elif MEMBER + ".gz" in names:
                text = gzip.decompress(z.read(MEMBER + ".gz"))
            else:
                print(f"{wheels[0].name} has no {MEMBER}[.gz]", file=sys.stderr)
                return 1
    model = json.loads(text)
    if model.get("metadata", {}).get("serviceId") != "Backup":
        print(f"{MEMBER} is not the AWS Backup model", file=sys.stderr)
        return 1
    version = wheels[0].name.split("-")[1]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "service-2.json").write_bytes(text)
    (dest / "VERSION").write_text(f"botocore=={version}\n")
    print(f"==> AWS Backup model of botocore {version} -> {dest}/service-2.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
