"""Callback delivery, side by side in one run: the previous outbox worker against the current one.

Previous (bff/outbox.py before the per-host-app streams): one worker, every callback in creation order,
one requests.post each, so a new connection each. Current: bff.outbox.deliver_due, one stream per host
app in parallel, each on its own pooled keep-alive session. Both deliver the same callbacks, from the
same database, to one host endpoint in its own process (waitress) that takes --work-ms to answer and
counts the connections it was sent on. BFF CPU is this process's CPU time while delivering.

Run: python benchmarks/callback_delivery.py [--callbacks 400] [--host-apps 4] [--work-ms 5]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import requests

import bff
from bff import outbox
from bff.db import OutboxMessage, db, utcnow

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS_COMMIT = "ebd9bf4"  # the last commit with the single in-order worker
CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="
RECEIVER = """
import sys, threading, time
from flask import Flask, request
import waitress
connections, lock, work = set(), threading.Lock(), float(sys.argv[2]) / 1000
app = Flask("host")

@app.post("/callbacks/<host_app>")
def receive(host_app):
    with lock:
        connections.add(request.environ["REMOTE_PORT"])
    time.sleep(work)  # the host's own work before it acknowledges
    return "ok"

@app.route("/connections", methods=["GET", "DELETE"])
def count():
    with lock:
        seen = len(connections)
        if request.method == "DELETE":
            connections.clear()
    return {"connections": seen}

waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=16, _quiet=True)
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_receiver(work_ms):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), str(work_ms)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/connections", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the host endpoint did not start")


def previous_outbox():
    """The previous bff/outbox.py, loaded from git as a module of the bff package."""
    source = subprocess.run(["git", "show", f"{PREVIOUS_COMMIT}:bff/outbox.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("bff.previous_outbox")
    module.__package__ = "bff"
    exec(compile(source, f"{PREVIOUS_COMMIT}:bff/outbox.py", "exec"), module.__dict__)  # noqa: S102
    return module


def owe_again(app):
    """Make every callback due again, undelivered."""
    with app.app_context():
        db.session.execute(db.update(OutboxMessage).values(status="PENDING", attempts=0, next_attempt_at=utcnow(),
                                                           delivered_at=None, last_error=None))
        db.session.commit()


def run(app, deliver_due, receiver_url, total):
    """Deliver every owed callback with deliver_due; return (seconds, BFF CPU seconds, connections)."""
    owe_again(app)
    requests.delete(f"{receiver_url}/connections", timeout=10)
    wall, cpu = time.perf_counter(), time.process_time()
    with app.app_context():
        while True:
            deliver_due(2.0)
            delivered = db.session.scalar(db.select(db.func.count()).where(OutboxMessage.status == "DELIVERED"))
            if delivered == total:
                break
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, requests.get(f"{receiver_url}/connections", timeout=10).json()["connections"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=400)
    parser.add_argument("--host-apps", type=int, default=4)
    parser.add_argument("--work-ms", type=float, default=5)
    args = parser.parse_args()
    receiver, receiver_url = start_receiver(args.work_ms)
    try:
        apps = [{"id": f"his-{n}", "api_key": f"his-{n}-api-key-0123456789", "origins": ["http://127.0.0.1:9001"],
                 "callback_url": f"{receiver_url}/callbacks/his-{n}", "callback_secret": CALLBACK_SECRET}
                for n in range(args.host_apps)]
        database = os.path.join(tempfile.mkdtemp(prefix="callback-bench-"), "bff.sqlite3")
        app = bff.create_app({"environ": {"OSIGU_ENV": "local", "BFF_HOST_APPS": json.dumps(apps)},
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "OUTBOX_WORKER": False})
        with app.app_context():
            for n in range(args.callbacks):
                host_app = apps[n % args.host_apps]["id"]
                outbox.enqueue(host_app, "widget.prescription.issued", {"prescription_id": f"rx_{n}"}, key=f"rx_{n}")
            db.session.commit()
        rows = [("previous: one worker, in order, a new connection each", previous_outbox().deliver_due),
                ("current: a stream per host app, pooled connections", outbox.deliver_due)]
        results = [(name, *run(app, deliver, receiver_url, args.callbacks)) for name, deliver in rows]
    finally:
        receiver.terminate()
        receiver.wait()

    print(f"# Callback delivery — {args.callbacks} callbacks, {args.host_apps} host apps, "
          f"{args.work_ms:g} ms of host work each, {os.cpu_count()} cores\n")
    print("| delivery | seconds | callbacks/s | BFF CPU ms per callback | connections opened |")
    print("|---|---|---|---|---|")
    for name, wall, cpu, connections in results:
        print(f"| {name} | {wall:.2f} | {args.callbacks / wall:.0f} | {cpu * 1000 / args.callbacks:.2f} "
              f"| {connections} |")
    (_, old_wall, old_cpu, _), (_, new_wall, new_cpu, _) = results
    print(f"\nThroughput {old_wall / new_wall:.1f}x; BFF CPU per callback {new_cpu / old_cpu:.2f}x of the previous.")


if __name__ == "__main__":
    main()
