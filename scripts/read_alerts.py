"""Print the alerts backup-guard published, exactly as an SQS subscriber of the alert topic
received them, and remove them from the queue.

Used by `make demo` against the local account (moto): endpoint, region and credentials come
from the standard AWS_* variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, ...).

Each SQS message body is the SNS notification envelope. For every alert this prints the
subject, the message attributes (what subscription filter policies match on) and the
message: with MessageStructure=json the SQS variant is backup-guard's JSON document, shown
here pretty-printed (``--raw`` prints each SQS body verbatim instead).

Usage: python scripts/read_alerts.py [--queue NAME] [--expect N] [--wait SECONDS] [--raw]
Exit status: 0 when at least --expect alerts arrived (default 1), 1 otherwise, 2 on errors.
"""

import argparse
import json
import os
import sys
import time

import boto3

DEFAULT_QUEUE = "backup-guard-alerts-subscriber"


def receive_all(sqs, url, expect, wait):
    """Drain the queue; keep polling up to `wait` seconds until `expect` alerts arrived."""
    bodies = []
    deadline = time.monotonic() + wait
    while True:
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = out.get("Messages", [])
        for m in messages:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not messages and (len(bodies) >= expect or time.monotonic() >= deadline):
            return bodies


def show(index, total, body):
    try:
        env = json.loads(body)
    except ValueError:
        print(f"--- message {index}/{total}: not an SNS envelope, verbatim:")
        print(body)
        return
    print(f"--- alert {index}/{total}  (SNS {env.get('Type')} {env.get('MessageId')}, {env.get('Timestamp')})")
    print(f"Subject: {env.get('Subject')}")
    attrs = env.get("MessageAttributes") or {}
    for name in sorted(attrs):
        a = attrs[name]
        print(f"Attribute {name} ({a.get('Type')}): {a.get('Value')}")
    message = env.get("Message", "")
    print("Message:")
    try:
        print(json.dumps(json.loads(message), indent=2, ensure_ascii=False))
    except ValueError:
        print(message)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queue", default=DEFAULT_QUEUE, help="subscriber queue name")
    p.add_argument("--expect", type=int, default=1, help="alerts to wait for")
    p.add_argument("--wait", type=float, default=10.0, help="seconds to wait for them")
    p.add_argument("--raw", action="store_true", help="print each SQS body verbatim")
    args = p.parse_args()
    try:
        # The SDKs read AWS_REGION; boto3 only AWS_DEFAULT_REGION.
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        sqs = boto3.client("sqs", region_name=region)
        url = sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
        bodies = receive_all(sqs, url, args.expect, args.wait)
    except Exception as e:  # boto3 raises many types; name the problem and stop
        print(f"read_alerts: cannot read queue {args.queue}: {e}", file=sys.stderr)
        return 2
    for i, body in enumerate(bodies, 1):
        if args.raw:
            print(body)
        else:
            show(i, len(bodies), body)
        print()
    print(f"{len(bodies)} alert(s) received on queue {args.queue}")
    return 0 if len(bodies) >= args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
