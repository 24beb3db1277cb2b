"""Test infrastructure: moto server for backup-guard's local account.

Runs moto's own server application (exactly what `moto_server` runs) with two additions
that moto 5.2.5 lacks and the local account needs:

* `POST /_local/dynamodb/table-created` with JSON
  `{"account": "...", "region": "...", "table": "...", "created": <epoch seconds>}` sets a
  table's creation time, so `DescribeTable.CreationDateTime` says what the scenario says
  (moto stamps the wall-clock time at CreateTable and has no time-travel endpoint).
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

ADMIN_PATH = "/_local/dynamodb/table-created"


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
        if environ.get("PATH_INFO") == ADMIN_PATH:
            request = Request(environ)
            if request.method != "POST":
                response = Response(status=405)
            else:
                try:
                    response = set_table_created(json.loads(request.get_data()))
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
