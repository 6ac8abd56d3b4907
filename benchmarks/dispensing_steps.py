"""Server time of each widget step: the dispensing widget's beside the prescription widget's, in one run.

Starts `osigu-widgets demo` on free ports (simulator, BFF, example HIS as their own processes) and drives
whole flows over HTTP exactly as static/widget.js sends them (htmx's header, the session token, the page's
origin), timing each request from send to answer on loopback: the BFF's work and its calls to the simulator.
Rounds interleave the three flows, so the machine's drift hits them alike:

- prescription: session, resume, patient search and choice, diagnosis search and add, medication search,
  line form, line added, review, issue;
- dispensing a prescription code: session, resume (the code step), open the code (Osigu starts the
  dispensation), a GS1 pack scanned, complete (products sent, then completed at Osigu);
- dispensing an authorization (Seguros Andinos, which asks for the beneficiary's OTP): session, resume, open
  the code, complete (Osigu answers that it needs the OTP, and sends it), the OTP (validated, then completed).

Run: python benchmarks/dispensing_steps.py [--flows 20]
"""

import argparse
import os
import re
import signal
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from widget_ready import prescription_codes, start_demo  # noqa: E402  (a sibling script)

from bff.config import DEMO_API_KEYS  # noqa: E402
from examples.his import authorizations  # noqa: E402
from tests.integration.widget_client import Widget  # noqa: E402

API_KEY = DEMO_API_KEYS["v1"]
LINE = {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet", "every_hours": "8",
        "duration_days": "10"}
SCAN = "0107709990000429" "17301231" "10LOT-BENCH\x1d21SN0001"  # a paracetamol 500 mg pack (MED-042)


class UnexpectedStep(Exception):
    """The BFF answered a widget request with another step than the flow's next one (or an alert)."""

    def __init__(self, message, answer):
        super().__init__(message)
        self.answer = answer


class Timed:
    """A widget flow's requests, each timed and refused if the BFF did not answer with a step."""

    def __init__(self, bff, origin, widget, context, user):
        self.times = {}
        started = time.perf_counter()
        session = requests.post(f"{bff}/v1/widget-sessions", headers={"Authorization": f"Bearer {API_KEY}"},
                                timeout=60, json={"widget": widget, "origin": origin, "locale": "en",
                                                  "context": context, "user": user})
        self.times["session"] = time.perf_counter() - started
        session.raise_for_status()
        self.widget = Widget(bff, session.json()["token"], widget, origin)

    def __call__(self, name, method, path, form=None, step=None):
        started = time.perf_counter()
        answer = self.widget.request(method, path, data=form, timeout=60)
        self.times[name] = time.perf_counter() - started
        answer.raise_for_status()
        shown = re.search(r'data-osigu-step="([^"]+)"', answer.text)
        if step and (shown is None or shown.group(1) != step or "osigu-alert" in answer.text):
            raise UnexpectedStep(f"{name}: expected the {step} step, got {answer.text[:500]}", answer)
        return answer


def doctor(number):
    return {"id": f"dr-bench-{number}", "name": "Dr. Bench", "role": "doctor"}


def prescription(bff, origin, number=1, timed=Timed):
    flow = timed(bff, origin, "prescription", {}, doctor(number))
    flow("resume", "GET", "/resume", step="patient")
    found = flow("patient search", "GET", "/patient/search?document_type=CC&document_number=1000000001")
    patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
    flow("patient chosen", "POST", "/patient/select", {"patient_id": patient_id}, step="diagnoses")
    flow("diagnosis search", "GET", "/diagnoses/search?q=cefalea")
    flow("diagnosis added", "POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"})
    flow("medication search", "GET", "/medications/search?q=paracetamol+500")
    flow("line form", "GET", "/medications/line?product_code=MED-042")
    flow("line added", "POST", "/medications/add", LINE, step="medications")
    flow("review", "GET", "/review", step="review")
    flow("issue (at Osigu)", "POST", "/issue", step="done")
    return flow.times


def pharmacist(number):
    return {"id": f"ph-bench-{number}", "name": "Farm. Bench", "role": "PHARMACIST"}


def dispense_prescription(bff, origin, code, number=1, timed=Timed):
    flow = timed(bff, origin, "dispensing", {}, pharmacist(number))
    flow("resume (code step)", "GET", "/resume", step="code")
    flow("open the code (start at Osigu)", "POST", "/code", {"code": code}, step="products")
    line = {"product_code-0": "MED-042", "quantity-0": "20", "lot-0": "", "expiry-0": ""}
    flow("GS1 pack scanned", "POST", "/products/scan", line | {"scan": SCAN}, step="products")
    line |= {"lot-0": "LOT-BENCH", "expiry-0": "2030-12-31"}
    flow("complete (products, complete at Osigu)", "POST", "/complete", line, step="done")
    return flow.times


def dispense_authorization(bff, origin, simulator, code):
    flow = Timed(bff, origin, "dispensing", {}, pharmacist(2))
    flow("resume (code step)", "GET", "/resume", step="code")
    flow("open the code (start at Osigu)", "POST", "/code", {"code": code}, step="products")
    line = {"product_code-0": "MED-001", "quantity-0": "21", "lot-0": "", "expiry-0": ""}
    flow("complete → verification (OTP sent)", "POST", "/complete", line, step="verify")
    otp = requests.get(f"{simulator}/sandbox/v1/messages", params={"kind": "OTP"}, timeout=10).json()["data"][0]
    flow("OTP (validated, complete at Osigu)", "POST", "/verification/otp", {"otp": otp["otp_code"]}, step="done")
    return flow.times


def report(title, samples):
    """One table row per step, in flow order: median, p90 and the flow's total median."""
    print(f"\n## {title}\n")
    print("| step | median ms | p90 ms |")
    print("|---|---|---|")
    for name in samples[0]:
        values = sorted(1000 * flow[name] for flow in samples)
        print(f"| {name} | {statistics.median(values):.1f} | {values[int(0.9 * (len(values) - 1))]:.1f} |")
    total = statistics.median(1000 * sum(flow.values()) for flow in samples)
    print(f"| **whole flow** | **{total:.0f}** | |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=20)
    arguments = parser.parse_args()
    demo, origin, bff, simulator = start_demo()
    try:
        codes = prescription_codes(simulator)
        results = {"prescription": [], "rx": [], "aut": []}
        for round_number in range(arguments.flows + 1):
            authorization = authorizations.obtain(bff, API_KEY)
            times = (prescription(bff, origin), dispense_prescription(bff, origin, next(codes)),
                     dispense_authorization(bff, origin, simulator, authorization))
            if round_number:  # the first round warms the servers up; not reported
                for key, flow in zip(results, times, strict=True):
                    results[key].append(flow)
        print(f"# Server time per widget step, median of {arguments.flows} flows (request → answer on loopback)")
        report("Prescription widget", results["prescription"])
        report("Dispensing widget: a prescription code, a GS1 pack scanned", results["rx"])
        report("Dispensing widget: an authorization with the sponsor's OTP", results["aut"])
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)


if __name__ == "__main__":
    main()
