"""Widget flows against an Osigu that fails, and a BFF killed -9 mid-call: nothing duplicated upstream, nothing lost.

Starts `osigu-widgets simulator --enable-admin` and `osigu-widgets serve` (its own process, its own SQLite
database, its callbacks to a receiver in this script), then:

1. drives N prescriptions and then N dispensations (the codes those prescriptions got) through the widget
   endpoints exactly as static/widget.js sends them, while the simulator answers 5xx to a share of the calls
   on /ehr/ and /dispensing/, drops a share of the connections, and every tenth flow meets a burst of 429s.
   A user who sees a retryable error presses the same button again, in the same session (after the seconds
   the widget says, if it says any);
2. kills the BFF -9 while Osigu is creating a prescription, and while it is completing a dispensation (the
   call slowed down so the kill lands while it is in flight), starts it again on the same database, and the
   user presses again;
3. compares with what the simulator holds (read from its own SQLite file): no flow with two prescriptions,
   no code completed twice, every success the widget announced (and every callback) upstream, every object
   upstream announced and called back.

Run: python benchmarks/fault_runs.py [--flows 100] [--error-rate 0.1] [--drop-rate 0.05] [--burst 5]
"""

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask, request
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from bff_proxy import free_port, start  # noqa: E402  (a sibling script)
from faulty_users import (  # noqa: E402
    BffProcess,
    Tally,
    audit_dispensations,
    audit_prescriptions,
    dispense,
    fault_rules,
    host_apps_json,
    kill_mid_complete,
    kill_mid_issue,
    prescribe,
    set_faults,
    upstream_records,
    wait_for,
)

API_KEY = "his-fault-api-key-0123456789"
CALLBACK_SECRET = "whsec_" + "ZmF1bHQtcnVucy1jYWxsYmFjay1zZWNyZXQtMTIzNDU="
KINDS = ("5xx", "429", "drop")


class Callbacks:
    """The host app's back end: verifies each callback and keeps it by webhook-id (a redelivery counts once)."""

    def __init__(self):
        self.received, self.deliveries = {}, 0
        self.app = Flask("fault-run-callbacks")
        self.app.add_url_rule("/callbacks", "callbacks", self.receive, methods=["POST"])

    def receive(self):
        payload = Webhook(CALLBACK_SECRET).verify(request.get_data(), dict(request.headers))
        self.deliveries += 1
        self.received[request.headers["webhook-id"]] = (payload["type"], payload["data"])
        return "", 204

    def serve(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per callback would bury the table
        server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_port}/callbacks"

    def at_least(self, count, timeout=60):
        wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received.values())


def run(label, tally, drive, simulator, arguments):
    """Drive flows one after another, a 429 burst armed before every tenth."""
    started = time.perf_counter()
    for flow in range(arguments.flows):
        if flow % 10 == 0:
            set_faults(simulator, fault_rules(arguments.error_rate, arguments.drop_rate, arguments.burst))
        drive(flow)
    tally.seconds = time.perf_counter() - started
    print(f"{label}: {tally.runs} flows in {tally.seconds:.0f} s", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=100, help="prescriptions, then as many dispensations")
    parser.add_argument("--error-rate", type=float, default=0.1)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    parser.add_argument("--burst", type=int, default=5, help="429s in a row on each API, before every tenth flow")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fault-runs-"))
    simulator_database = folder / "simulator.sqlite3"
    callbacks = Callbacks()
    simulator_port = free_port()
    simulator = f"http://127.0.0.1:{simulator_port}"
    simulator_process = start(["simulator", "--port", str(simulator_port), "--db", str(simulator_database),
                               "--enable-admin"], f"{simulator}/healthz")
    bff = BffProcess(free_port(), {
        "OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator, "BFF_SECRET_KEY": "fault-runs",
        "BFF_DATABASE_URL": f"sqlite:///{folder / 'bff.sqlite3'}",
        "BFF_HOST_APPS": host_apps_json(API_KEY, callbacks.serve(), CALLBACK_SECRET),
    }, folder / "bff.log")
    try:
        bff.start()
        prescriptions, dispensations = Tally(), Tally()
        run("prescriptions", prescriptions, lambda flow: prescribe(bff.url, API_KEY, flow, prescriptions),
            simulator, arguments)
        codes = [outcome["prescription_code"] for outcome in prescriptions.reported.values()]
        run("dispensations", dispensations,
            lambda flow: flow < len(codes) and dispense(bff.url, API_KEY, flow, codes[flow], dispensations),
            simulator, arguments)
        set_faults(simulator, [])
        received = callbacks.at_least(len(prescriptions.reported) + len(dispensations.reported))
        held_prescriptions, held_dispensations = upstream_records(simulator_database)
        audits = {"prescriptions": audit_prescriptions(prescriptions.reported, held_prescriptions, received),
                  "dispensations": audit_dispensations(dispensations.reported, held_dispensations, codes, received)}
        kills = kill_runs(bff, simulator, simulator_database, callbacks, arguments.flows)
        report(arguments, {"prescriptions": prescriptions, "dispensations": dispensations}, audits, kills,
               held_prescriptions, callbacks)
    finally:
        bff.stop()
        simulator_process.terminate()
        simulator_process.wait(timeout=30)
    print(f"\n(logs and databases in {folder})", file=sys.stderr)


def kill_runs(bff, simulator, simulator_database, callbacks, flow):
    """The two kill -9 cases, on a quiet Osigu; each row: exit, objects upstream after the retry, outcome, callbacks."""
    tally, rows = Tally(), []
    before = len(callbacks.received)
    killed, outcome, held = kill_mid_issue(bff, simulator, simulator_database, API_KEY, flow, tally)
    called_back = {data.get("prescription_id") for _, data in callbacks.at_least(before + 1)}
    rows.append(("mid-issue (POST /ehr/v1/prescriptions in flight)", killed, len(held),
                 held == [outcome["prescription_id"]], outcome["prescription_id"] in called_back))
    killed, outcome, held = kill_mid_complete(bff, simulator, simulator_database, API_KEY, flow,
                                              outcome["prescription_code"], tally)
    called_back = {data.get("dispensation_id") for _, data in callbacks.at_least(before + 2)}
    completed = [dispensation for dispensation, status in held if status == "DISPENSED"]
    rows.append(("mid-complete (POST …/complete in flight)", killed, len(completed),
                 completed == [outcome["dispensation_id"]], outcome["dispensation_id"] in called_back))
    return rows


def report(arguments, tallies, audits, kills, held_prescriptions, callbacks):
    print(f"# Fault runs: {arguments.flows} prescriptions, then {arguments.flows} dispensations of their codes\n")
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{value:.1f}' for value in os.getloadavg())}, Python {platform.python_version()}")
    print(f"Faults on /ehr/ and /dispensing/: {arguments.error_rate:.0%} 503, {arguments.drop_rate:.0%} dropped "
          f"connections, {arguments.burst} × 429 (Retry-After: 1) in a row before every tenth flow\n")
    print("| run | flows | widget requests | retries: 5xx | 429 | drop | other | successes | stuck | BFF 5xx "
          "| duplicates upstream | lost | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, tally in tallies.items():
        other = sum(count for kind, count in tally.retries.items() if kind not in KINDS)
        duplicates, lost = audits[label]
        print(f"| {label} | {tally.runs} | {tally.attempts} | {tally.retries['5xx']} | {tally.retries['429']} "
              f"| {tally.retries['drop']} | {other} | {len(tally.reported)} | {len(tally.stuck)} | {tally.bff_errors} "
              f"| **{duplicates}** | **{lost}** | {tally.seconds:.0f} |")
    for label, tally in tallies.items():
        for stuck in tally.stuck:
            print(f"\nstuck ({label}): {stuck}")
    print(f"\nUpstream: {sum(map(len, held_prescriptions.values()))} prescriptions by the runs' doctors; callbacks "
          f"received: {len(callbacks.received)} distinct ({callbacks.deliveries} deliveries)\n")
    print("| kill -9 of the BFF | BFF exit | objects upstream after the user's retry | the outcome shown is that "
          "object | called back |")
    print("|---|---|---|---|---|")
    for label, killed, count, same, called_back in kills:
        print(f"| {label} | {killed} | **{count}** | {'yes' if same else 'NO'} | {'yes' if called_back else 'NO'} |")
    print(json.dumps({"audits": audits, "kills": [list(row) for row in kills]}), file=sys.stderr)


if __name__ == "__main__":
    main()
