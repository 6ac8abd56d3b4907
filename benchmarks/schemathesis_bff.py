"""Run schemathesis, every check, against `osigu-widgets serve`: its OpenAPI document and every widget form.

The same run as tests/integration/bff/test_bff_schemathesis.py (tests/integration/bff_schemathesis.py), with many
more examples per operation: a fresh simulator and BFF, each its own process on loopback, real credentials on
every request (API key, pharmacist's session, widget sessions in mid-flow, the EHR's JWT, Osigu's signature).

Run: python benchmarks/schemathesis_bff.py [--examples 100] [--seed 1]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from bff_proxy import free_port, start
from werkzeug.serving import make_server

import bff
import widgets  # noqa: F401 (imported before tests/integration joins the path: its widgets/ would shadow it)

ROOT = Path(__file__).parents[1]
sys.path.append(str(ROOT / "tests" / "integration"))

from bff_schemathesis import (  # noqa: E402
    ORIGIN,
    Credentials,
    authenticate,
    configured,
    run,
    walked_sessions,
    widget_forms_document,
)
from ehr_client import EHR_ISSUER, Ehr  # noqa: E402

API_KEY = "his-a-api-key-0123456789"
WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="
LIMITS = "100000/minute"  # every generated request reaches the code under test rather than a 429


def serve_jwks(ehr):
    """The EHR's JWKS on a free loopback port, in a thread; returns its URL."""
    server = make_server("127.0.0.1", 0, ehr.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/jwks"


def run_document(name, schema, credentials):
    """Run one document; print its row and return its failures."""
    authenticate(schema, credentials)
    started = time.perf_counter()
    failures, errors, sent = run(schema)
    elapsed = time.perf_counter() - started
    per_operation = sorted(sent.values()) or [0]
    print(f"| {name} | {len(sent)} | {sum(per_operation)} | {min(per_operation)} / "
          f"{statistics.median(per_operation):.0f} / {max(per_operation)} | {len(failures)} | {len(errors)} | "
          f"{elapsed:.0f} |", flush=True)
    return failures + errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        ehr = Ehr()
        host_apps = [{"id": "his-a", "api_key": API_KEY, "origins": [ORIGIN, "http://localhost:8090"],
                      "cds": {"issuers": {EHR_ISSUER: serve_jwks(ehr)}}}]
        simulator_port, bff_port = free_port(), free_port()
        simulator_url, bff_url = f"http://127.0.0.1:{simulator_port}", f"http://127.0.0.1:{bff_port}"
        environ = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "benchmark-key",
                   "OSIGU_WEBHOOK_SECRET": WEBHOOK_SECRET, "BFF_HOST_APPS": json.dumps(host_apps),
                   "BFF_RATE_LIMIT_SESSIONS": LIMITS, "BFF_RATE_LIMIT_PROXY": LIMITS}
        processes = [
            start(["simulator", "--port", str(simulator_port), "--db", os.path.join(workdir, "sim.sqlite3")],
                  f"{simulator_url}/healthz", env={"SIM_PROVIDER_PRODUCTS_RATE_LIMIT": LIMITS}),
            start(["serve", "--port", str(bff_port)], f"{bff_url}/healthz",
                  env=environ | {"BFF_DATABASE_URL": f"sqlite:///{workdir}/bff.sqlite3"}),
        ]
        try:
            # The widget routes, read from an app built with the same settings (it serves nothing).
            app = bff.create_app({"environ": environ, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/routes.sqlite3",
                                  "OUTBOX_WORKER": False, "RETENTION_WORKER": False,
                                  "REDEMPTION_RESUME_ON_START": False})
            credentials = Credentials(bff_url, API_KEY, walked_sessions(bff_url), ehr, WEBHOOK_SECRET)
            print(f"# schemathesis against the BFF, {args.examples} examples per operation, seed {args.seed} — "
                  f"{os.cpu_count()} cores\n")
            print("| document | operations | requests | per operation (min / median / max) | failures | errors | "
                  "seconds |")
            print("|---|---|---|---|---|---|---|")
            document = requests.get(f"{bff_url}/v1/openapi.json", timeout=10).json()
            found = run_document("`/v1/openapi.json` (all phases)", configured(
                document, bff_url, args.seed, args.examples, ("examples", "coverage", "fuzzing", "stateful")),
                credentials)
            found += run_document("widget forms (examples, fuzzing)", configured(
                widget_forms_document(app), bff_url, args.seed, args.examples, ("examples", "fuzzing"), widgets=True),
                credentials)
        finally:
            for process in processes:
                process.kill()
                process.wait()
    for failure in found:
        print(f"\n{failure[:2000]}", file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
