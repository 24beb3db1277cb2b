#!/usr/bin/env bash
# make demo: backup-guard end to end on a laptop, in a few minutes, with no AWS account.
#
# 1. the project venv (pinned moto, cargo-lambda) via `make venv`;
# 2. builds the local account, the CLI and both Lambda functions;
# 3. starts the local account (moto + the AWS Backup stand-in) seeded with the
#    tests/scenarios/audit-finding.json scenario (25 tables, a handful of policy violations);
# 4. runs both functions the way users run them locally: `cargo lambda watch` on a free
#    loopback port, then `cargo lambda invoke`:
#      - table-guard with the CreateTable event of a new, untagged table (created in moto first),
#      - recovery-verifier with an on-demand payload at the scenario's "now";
# 5. prints the alerts exactly as the SQS subscriber of the alert topic received them;
# 6. runs `backup-guard audit` against the same account;
# 7. prints where the verifier stored its evidence bundle in the local account's S3 (the
#    evidence bucket, Object Lock on, made from the template's properties), lists it with
#    `backup-guard history` and renders it again with `backup-guard report --run` into
#    target/demo-report/ (its report.html path is printed);
# 8. shuts everything down (also on Ctrl-C or failure). Safe to run again.
#
# Environment: DEMO_KEEP_LOGS=1 keeps the work directory (logs of every process).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SCENARIO=tests/scenarios/audit-finding.json
GUARD_EVENT=scripts/demo/create-table-untagged.json
VERIFIER_PAYLOAD=scripts/demo/verifier-on-demand.json
NEW_TABLE=invoices-2027
STEPS=9
step=0

say() { printf '\n\033[1m==> [%s/%s] %s\033[0m \033[2m(t+%ss)\033[0m\n' "$((++step))" "$STEPS" "$*" "$SECONDS"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
# Plain output when not on a terminal (CI logs, tests).
if [ ! -t 1 ]; then
    say() { printf '\n==> [%s/%s] %s (t+%ss)\n' "$((++step))" "$STEPS" "$*" "$SECONDS"; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/backup-guard-demo.XXXXXX")
PGIDS=()
FG_PID=

cleanup() {
    local rc=$?
    [ -z "$FG_PID" ] || kill -TERM "$FG_PID" 2>/dev/null || true
    # Each background service was started with setsid: stop its whole process group (the
    # function processes cargo lambda watch spawned, moto under the local account).
    for pg in "${PGIDS[@]}"; do
        kill -TERM -- "-$pg" 2>/dev/null || true
    done
    for pg in "${PGIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 -- "-$pg" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pg" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        echo "demo: failed (exit $rc); logs:" >&2
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "----- $f (last 30 lines)" >&2
            tail -n 30 "$f" >&2
        done
    fi
    if [ "${DEMO_KEEP_LOGS:-0}" = 1 ]; then
        echo "demo: logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    [ "${#PGIDS[@]}" -eq 0 ] || echo "==> stopped the local account and cargo lambda watch"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in its own session (process group = its pid) with output to $1.log.
start_bg() {
    local name=$1
    shift
    setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    PGIDS+=("$!")
}

# Runs "$@" in the background and waits for it, so a signal reaches the traps at once
# (bash defers traps while a foreground command runs); at most $FG_TIMEOUT seconds.
FG_TIMEOUT=${DEMO_STEP_TIMEOUT:-900}
run_fg() {
    timeout "$FG_TIMEOUT" "$@" &
    FG_PID=$!
    local rc=0
    wait "$FG_PID" || rc=$?
    FG_PID=
    return "$rc"
}

wait_for() { # description timeout-seconds command...
    local what=$1 secs=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
        sleep 0.5
    done
}

say "Python tools: make venv (pinned moto, boto3, cargo-lambda)"
run_fg make --no-print-directory venv
export PATH="$ROOT/.venv/bin:$PATH"
command -v cargo-lambda >/dev/null ||
    die "cargo-lambda is not in .venv: it must be pinned in requirements-dev.txt (PyPI cargo-lambda)"
PY="$ROOT/.venv/bin/python"
info "$(cargo lambda --version)"

say "Build: local account, backup-guard CLI, table-guard, recovery-verifier (debug)"
run_fg cargo build --locked --quiet -p local-account --bin local-account -p backup-guard-cli \
    -p table-guard --bin table-guard -p recovery-verifier --bin recovery-verifier
info "built in target/debug"

say "Local AWS account: moto + AWS Backup stand-in, scenario $(basename "$SCENARIO")"
start_bg local-account target/debug/local-account up --scenario "$SCENARIO" --env-file "$WORK/account.env"
wait_for "the local account" 120 test -s "$WORK/account.env"
# shellcheck disable=SC1091
. "$WORK/account.env"
# cargo lambda reads KEY=VALUE lines (no `export`, no quotes).
sed -e 's/^export //' -e "s/='\(.*\)'\$/=\1/" "$WORK/account.env" >"$WORK/lambda.env"
NOW=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["now"])' "$SCENARIO")
grep -q "\"$NOW\"" "$VERIFIER_PAYLOAD" || die "$VERIFIER_PAYLOAD must carry the scenario's now ($NOW)"
info "$(tail -n 1 "$WORK/local-account.log")"

say "cargo lambda watch: both functions behind the Lambda runtime emulator"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_bg lambda-watch cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 \
    --invoke-port "$PORT" --env-file "$WORK/lambda.env"
# invoke FUNCTION DATA_FILE: one invocation through `cargo lambda watch`; the response goes to
# $WORK/FUNCTION.out, the client's log to $WORK/FUNCTION.log.
invoke() {
    info "cargo lambda invoke $1 --data-file $2"
    run_fg cargo lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$PORT" \
        --data-file "$2" --output-format json >"$WORK/$1.out" 2>"$WORK/$1.log" ||
        die "$1 invocation failed: $(cat "$WORK/$1.out" "$WORK/$1.log")"
}
port_open() { "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$PORT"; }
wait_for "cargo lambda watch on port $PORT" 120 port_open
info "emulator on 127.0.0.1:$PORT"

say "A new table without tags: create $NEW_TABLE in the account, invoke table-guard with its CreateTable event"
"$PY" - "$NEW_TABLE" <<'EOF'
import os, sys
import boto3
region = os.environ["AWS_REGION"]
ddb = boto3.client("dynamodb", region_name=region)
name = sys.argv[1]
ddb.create_table(
    TableName=name,
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    BillingMode="PAY_PER_REQUEST",
)
print(f"    created table {name} (no tags) in moto, region {region}")
EOF
invoke table-guard "$GUARD_EVENT"
"$PY" - "$WORK/table-guard.out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
codes = ", ".join(f["code"] for f in o.get("findings", [])) or "none"
actions = ", ".join(a.get("action", "?") for a in o.get("actions", [])) or "none"
alert = o.get("alert", {})
print(f"    table-guard: {o.get('event_name')} {((o.get('table') or {}).get('name'))}: "
      f"verdict {o.get('verdict')}, findings {codes}, actions {actions}, alert {alert.get('alert')}")
EOF

say "recovery-verifier: the nightly run, as of the scenario's now ($NOW)"
invoke recovery-verifier "$VERIFIER_PAYLOAD"
"$PY" - "$WORK/recovery-verifier.out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
print("    recovery-verifier returned: " + json.dumps(o, separators=(", ", ": "))[:400])
EOF

say "Alerts, exactly as the SQS subscriber of the alert topic received them"
run_fg "$PY" scripts/read_alerts.py --expect 2 --wait 10

say "backup-guard audit (the verifier's evaluation, read-only, from the CLI)"
set +e
run_fg target/debug/backup-guard audit --now "$NOW"
audit_rc=$?
set -e
case $audit_rc in
    1) info "exit 1: findings at or above --fail-on warning (this scenario is built to have them)" ;;
    0) info "exit 0: compliant" ;;
    *) die "backup-guard audit failed (exit $audit_rc)" ;;
esac

say "Evidence: the verifier's bundle in the local account's S3 (bucket $BG_EVIDENCE_BUCKET, Object Lock on)"
read -r EVIDENCE_AT RUN_ID < <("$PY" - "$WORK/recovery-verifier.out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
written = [e for e in (o.get("evidence") or {}).values() if e.get("status") == "written"]
if not written:
    sys.exit(f"the verifier stored no evidence: {o.get('evidence')}")
print(written[0]["location"], o["run_id"])
EOF
) || die "the verifier stored no evidence bundle (see $WORK/recovery-verifier.out)"
[ -n "${RUN_ID:-}" ] || die "the verifier stored no evidence bundle (see $WORK/recovery-verifier.out)"
info "bundle: $EVIDENCE_AT"
run_fg target/debug/backup-guard history --bucket "$BG_EVIDENCE_BUCKET"
REPORT_DIR="$ROOT/target/demo-report"
run_fg target/debug/backup-guard report --run "$RUN_ID" --bucket "$BG_EVIDENCE_BUCKET" --out "$REPORT_DIR" ||
    die "backup-guard report --run could not verify the stored run"
info "report: $REPORT_DIR/report.html"

echo
echo "==> demo complete in ${SECONDS}s: the guard alerted on the new untagged table, the verifier sent its digest, the audit matches it"
