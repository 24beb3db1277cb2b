#!/usr/bin/env python3
"""Runs the workspace's compiled test binaries two at a time, longest first.

`make test` compiles every test binary once (`cargo test --no-run --message-format=json`,
whose output is this script's input) and then runs them here instead of through `cargo test`,
which runs one binary after the other: the two fault-matrix binaries alone take most of the
suite's time, mostly waiting on timeouts, so running them beside the rest halves the wall
time on 2 cores. Each binary runs as `cargo test` would run it: in its package's directory,
with CARGO_MANIFEST_DIR and the CARGO_PKG_* variables set. The doc tests run last, through
`cargo test --doc` (they are compiled then).

Usage: run-tests.py ARTIFACTS.json [--jobs N] [--first NAME ...]
  ARTIFACTS.json  cargo's JSON messages of `cargo test --workspace --no-run`
  --jobs N        binaries at once (default 2)
  --first NAME    run the test binaries of package NAME first (repeatable, in order): the
                  long ones, so the others fill the second slot beside them

Each binary's output is printed when it ends, whole (never interleaved), with its time; the
exit status is 1 if any binary failed, and the failures are listed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Job:
    """One thing to run: a test binary, or the doc tests."""

    label: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    package: str


def read_binaries(path: Path) -> list[Job]:
    """The test executables cargo built, from its JSON messages, in cargo's order."""
    jobs: list[Job] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("reason") != "compiler-artifact":
                continue
            exe = msg.get("executable")
            if not exe or not msg.get("profile", {}).get("test") or exe in seen:
                continue
            seen.add(exe)
            manifest = Path(msg["manifest_path"])
            target = msg.get("target", {})
            package = package_name(msg.get("package_id", ""), manifest)
            env = dict(os.environ)
            env["CARGO_MANIFEST_DIR"] = str(manifest.parent)
            env["CARGO_PKG_NAME"] = package
            env["CARGO_CRATE_NAME"] = target.get("name", "").replace("-", "_")
            kind = ",".join(target.get("kind", []))
            jobs.append(
                Job(
                    label=f"{package} {kind} {target.get('name', '?')} ({Path(exe).name})",
                    argv=[exe],
                    cwd=manifest.parent,
                    env=env,
                    package=package,
                )
            )
    if not jobs:
        sys.exit(f"run-tests: no test executables in {path} (was it written by `cargo test --no-run --message-format=json`?)")
    return jobs


def package_name(package_id: str, manifest: Path) -> str:
    """The package's name from its id (`path+file:///…/dir#name@0.1.0` or `name 0.1.0 (…)`)."""
    if "#" in package_id:
        tail = package_id.rsplit("#", 1)[1]
        return tail.split("@", 1)[0] if "@" in tail else manifest.parent.name
    if " " in package_id:
        return package_id.split(" ", 1)[0]
    return manifest.parent.name


def ordered(jobs: list[Job], first: list[str]) -> list[Job]:
    """The jobs of the `first` packages in that order, then the rest in cargo's order."""
    rank = {name: i for i, name in enumerate(first)}
    return sorted(jobs, key=lambda j: rank.get(j.package, len(first)))


def run_all(jobs: list[Job], parallel: int) -> list[str]:
    """Runs the jobs, `parallel` at a time; returns the labels of the failed ones."""
    queue = list(jobs)
    lock = threading.Lock()
    failed: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop(0)
            started = time.monotonic()
            proc = subprocess.run(
                job.argv,
                cwd=job.cwd,
                env=job.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
            took = time.monotonic() - started
            status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            with lock:
                sys.stdout.write(f"\n==> {job.label}: {status} in {took:.1f} s\n")
                sys.stdout.write(proc.stdout.decode("utf-8", errors="replace"))
                sys.stdout.flush()
                if proc.returncode != 0:
                    failed.append(job.label)

    threads = [threading.Thread(target=worker) for _ in range(max(1, parallel))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("artifacts", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--first", action="append", default=[])
    args = ap.parse_args()
    jobs = ordered(read_binaries(args.artifacts), args.first)
    root = Path(__file__).resolve().parent.parent
    cargo = os.environ.get("CARGO", "cargo")
    jobs.append(
        Job(
            label="doc tests (cargo test --workspace --doc)",
            argv=[cargo, "test", "--workspace", "--locked", "--doc"],
            cwd=root,
            env=dict(os.environ),
            package="(doc)",
        )
    )
    started = time.monotonic()
    failed = run_all(jobs, args.jobs)
    took = time.monotonic() - started
    if failed:
        print(f"\nrun-tests: {len(failed)} of {len(jobs)} test binaries FAILED in {took:.0f} s:")
        for label in failed:
            print(f"  {label}")
        return 1
    print(f"\nrun-tests: all {len(jobs)} test binaries passed in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
