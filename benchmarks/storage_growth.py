"""Measure whether the BFF slows down as its database fills up, and what the purge takes back.

The BFF runs as `osigu-widgets serve` (waitress) on an SQLite file. The script bulk-inserts
finished prescription flows straight into that file (a widget session, its draft, the binding,
the webhook Osigu sent and the two callbacks, as a real flow leaves them), then at each size:
- posts signed Osigu webhooks about bound prescriptions (the binding lookup, the forward, the
  outbox row), with the upstream_id index and, side by side, with it dropped (the old schema);
- loads a widget step of a live session (session and draft read, step saved, page rendered).
At the end it ages every stored flow past the retention and times `osigu-widgets purge`.

Run: python benchmarks/storage_growth.py [--flows 0,30000,300000] [--requests 200]
"""

import argparse
import json
import logging
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import create_engine, insert
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

from bff.db import OutboxMessage, SessionObject, WebhookEvent, WebhookObject, WidgetSession
from widgets.prescription.draft import PrescriptionDraft

sys.path.insert(0, os.path.dirname(__file__))
from bff_proxy import free_port, percentile, start  # noqa: E402  (the harness's own helpers)

API_KEY = "bench-his-api-key-0123456789"
ORIGIN = "http://127.0.0.1:9001"
CALLBACK_SECRET = "whsec_" + "YmVuY2gtY2FsbGJhY2stc2VjcmV0LTAxMjM0NTY3ODk="
WEBHOOK_SECRET = "whsec_" + "YmVuY2gtb3NpZ3Utd2ViaG9vay1zZWNyZXQtMDEyMzQ="
INDEX = "ix_bff_session_object_upstream_id"
BATCH = 5000
ROUNDS = 4
WARM_UP = 5  # untimed requests after each schema change: its first statements are prepared again


def callback_receiver():
    """A host app's callback endpoint that accepts everything (the outbox delivers while we measure)."""

    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("204 No Content", [])
        return [b""]

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/callbacks"


def flow_rows(number, when):
    """The rows one finished prescription flow leaves in the BFF's database, by table."""
    session_id, rx = f"bench-session-{number}", f"rx_bench{number:012d}"
    stamp = when.isoformat().replace("+00:00", "Z")
    outcome = {"prescription_id": rx, "prescription_code": f"RX-2026-{number:08d}", "status": "PRESCRIPTION_ISSUED",
               "created_at": stamp}
    line = {"product_code": "MED-042", "name": "Paracetamol 500 mg tablet", "quantity": 30, "dose": 1,
            "unit": "tablet", "every_hours": 8, "duration_days": 10, "substitution_allowed": True}
    event = {"type": "prescription.issued", "timestamp": stamp, "data": {**outcome, "provider_slug": "hospital-demo"}}
    webhook_id = f"msg_bench{number:012d}"
    return {
        WidgetSession: {"id": session_id, "host_app_id": "bench-his", "widget": "prescription", "origin": ORIGIN,
                        "locale": "es", "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"},
                        "context": {}, "theme": {}, "created_at": when, "expires_at": when + timedelta(minutes=30),
                        "flow_id": f"bench-flow-{number}"},
        PrescriptionDraft: {"flow_id": f"bench-flow-{number}", "step": "review", "consent": False, "updated_at": when,
                            "patient": {"patient_id": "pat_01HXE0000000000000000ANA01", "first_name": "Ana",
                                        "last_name": "López", "document_type": "CC", "document_number": "1000000001",
                                        "date_of_birth": "1990-04-11"},
                            "diagnoses": [{"diagnosis_code": "R51", "description": "Headache"}],
                            "lines": [line], "outcome": outcome},
        SessionObject: {"session_id": session_id, "host_app_id": "bench-his", "kind": "prescription",
                        "upstream_id": rx, "created_at": when},
        WebhookEvent: {"id": webhook_id, "event_type": "prescription.issued", "payload": event, "received_at": when},
        WebhookObject: {"upstream_id": rx, "webhook_id": webhook_id},
        OutboxMessage: [
            {"id": f"cb_{uuid.uuid4().hex}", "host_app_id": "bench-his", "event_type": event_type,
             "status": "DELIVERED", "attempts": 1,
             "payload": {"type": event_type, "timestamp": stamp, "data": outcome | {"user_id": "dr-7"}},
             "next_attempt_at": when, "created_at": when, "delivered_at": when}
            for event_type in ("widget.prescription.issued", "osigu.prescription.issued")],
    }


def fill(engine, start_number, end_number, when):
    """Insert the flows numbered [start_number, end_number) with SQLAlchemy core, in batches."""
    for first in range(start_number, end_number, BATCH):
        by_table = {}
        for number in range(first, min(first + BATCH, end_number)):
            for model, row in flow_rows(number, when).items():
                by_table.setdefault(model, []).extend(row if isinstance(row, list) else [row])
        with engine.begin() as connection:
            for model, rows in by_table.items():
                connection.execute(insert(model.__table__), rows)


def post_webhooks(bff_url, count, flows, label):
    """Post count signed prescription webhooks about stored (bound) prescriptions; latencies in ms."""
    latencies = []
    for number in range(count):
        rx = f"rx_bench{(number * 7919) % max(flows, 1):012d}" if flows else f"rx_none{number}"
        webhook_id = f"msg_{label}_{number}_{uuid.uuid4().hex[:8]}"
        body = json.dumps({"type": "prescription.dispensed", "data": {"prescription_id": rx}})
        now = datetime.now(UTC)
        headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(WEBHOOK_SECRET).sign(webhook_id, now, body),
                   "Content-Type": "application/json"}
        began = time.perf_counter()
        response = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=30)
        latencies.append((time.perf_counter() - began) * 1000)
        assert response.json() == {"status": "accepted"}, response.text
    return latencies


def load_steps(bff_url, count):
    """Load a widget step of one live session count times; latencies in ms."""
    token = requests.post(f"{bff_url}/v1/widget-sessions", headers={"Authorization": f"Bearer {API_KEY}"},
                          json={"widget": "prescription", "origin": ORIGIN, "user": {"id": "dr-7", "name": "Dra. Ruiz",
                                                                                     "role": "doctor"}},
                          timeout=10).json()["token"]
    headers = {"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": ORIGIN}
    latencies = []
    for _ in range(count):
        began = time.perf_counter()
        response = requests.get(f"{bff_url}/widgets/prescription/resume", headers=headers, timeout=30)
        latencies.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text
    return latencies


def summary(samples):
    return statistics.median(samples), percentile(samples, 0.99)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", default="0,30000,300000", help="stored flows at each measurement, ascending")
    parser.add_argument("--requests", type=int, default=200, help="webhooks and steps per cell")
    args = parser.parse_args()
    sizes = [int(size) for size in args.flows.split(",")]
    workdir = tempfile.mkdtemp(prefix="osigu-growth-")
    database = os.path.join(workdir, "bff.sqlite3")
    host_apps = [{"id": "bench-his", "api_key": API_KEY, "origins": [ORIGIN], "callback_url": callback_receiver(),
                  "callback_secret": CALLBACK_SECRET}]
    environ = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": "http://127.0.0.1:9", "BFF_SECRET_KEY": "bench-" * 6,
               "OSIGU_WEBHOOK_SECRET": WEBHOOK_SECRET, "BFF_HOST_APPS": json.dumps(host_apps),
               "BFF_DATABASE_URL": f"sqlite:///{database}"}
    port = free_port()
    bff_url = f"http://127.0.0.1:{port}"
    bff = start(["serve", "--port", str(port)], f"{bff_url}/healthz", environ)
    engine = create_engine(f"sqlite:///{database}")
    history = datetime.now(UTC) - timedelta(days=60)  # stored flows are old: the purge at the end takes them
    results, stored = [], 0
    try:
        for size in sizes:
            began = time.perf_counter()
            fill(engine, stored, size, history)
            fill_seconds, stored = time.perf_counter() - began, size
            with_index, without_index, steps = [], [], []
            for round_number in range(ROUNDS):  # interleaved, so the machine's drift hits every column alike
                post_webhooks(bff_url, WARM_UP, size, f"w{size}.{round_number}")  # after the index came back
                with_index += post_webhooks(bff_url, args.requests // ROUNDS, size, f"i{size}.{round_number}")
                steps += load_steps(bff_url, args.requests // ROUNDS)
                with sqlite3.connect(database) as connection:
                    connection.execute(f"DROP INDEX {INDEX}")
                post_webhooks(bff_url, WARM_UP, size, f"v{size}.{round_number}")
                without_index += post_webhooks(bff_url, args.requests // ROUNDS, size, f"n{size}.{round_number}")
                with sqlite3.connect(database) as connection:
                    connection.execute(f"CREATE INDEX {INDEX} ON bff_session_object (upstream_id)")
            with_index, without_index, step = summary(with_index), summary(without_index), summary(steps)
            results.append((size, _size(database), fill_seconds, with_index, without_index, step))
        began = time.perf_counter()
        purged = subprocess.run([sys.executable, "-m", "bff.cli", "purge"], env=os.environ | environ,
                                capture_output=True, text=True, check=True).stdout.strip()
        purge_seconds = time.perf_counter() - began
        after_purge = summary(post_webhooks(bff_url, args.requests, sizes[-1], "after"))
    finally:
        bff.terminate()
        bff.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args.requests, purged, purge_seconds, after_purge)


def _size(database):
    """The database's size in bytes, its write-ahead log folded in."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(database)


def report(results, requests_per_cell, purged, purge_seconds, after_purge):
    print(f"# Latency as stored flows grow — {os.cpu_count()} cores, {requests_per_cell} requests per cell, "
          "SQLite, waitress\n")
    print("| stored flows | database MB | webhook p50 ms | webhook p99 ms | webhook p50 ms, no upstream_id index | "
          "ratio | step p50 ms | step p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for size, size_bytes, _fill, (w50, w99), (n50, _n99), (s50, s99) in results:
        print(f"| {size} | {size_bytes / 1e6:.1f} | {w50:.1f} | {w99:.1f} | {n50:.1f} | {n50 / w50:.2f}x | "
              f"{s50:.1f} | {s99:.1f} |")
    (first, first_bytes, *_), (last, last_bytes, *_) = results[0], results[-1]
    if last > first:
        print(f"\nAbout {(last_bytes - first_bytes) / (last - first) / 1000:.1f} KB per stored flow, indexes included.")
    print(f"\n# Purge (everything aged past the retention)\n\n{purged}\nTook {purge_seconds:.1f} s; "
          f"then a webhook p50 {after_purge[0]:.1f} ms, p99 {after_purge[1]:.1f} ms.")


if __name__ == "__main__":
    main()
