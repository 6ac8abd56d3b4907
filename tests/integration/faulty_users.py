"""Users who press the button again: whole widget flows against an Osigu that fails, a BFF process that can be
killed -9, and what Osigu holds compared with what the BFF reported (for tests and benchmarks/fault_runs.py)."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from widget_client import ORIGIN, Widget, products_form, step_of, trigger_of

PRESCRIBING, DISPENSING = "/ehr/", "/dispensing/"
# What the widget's error event names for each injected fault (simulator/errors.py; BFF-502: the connection
# dropped under the BFF's read).
RETRY_KINDS = {"000-503": "5xx", "000-429": "429", "BFF-502": "drop"}
LINE = {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet", "every_hours": "8",
        "duration_days": "10"}
TRIES_PER_STEP = 30  # a user gives up after this many presses; the flow then counts as stuck


def fault_rules(error_rate=0.1, drop_rate=0.05, burst=0):
    """The faults on both APIs: error_rate 5xx and drop_rate dropped connections on every call, and first, when
    burst, that many 429s in a row on each (spent as they are answered)."""
    rules = []
    if burst:
        rules += [{"path_prefix": prefix, "rate_limit_rate": 1, "retry_after": 1, "times": burst}
                  for prefix in (PRESCRIBING, DISPENSING)]
    return rules + [{"path_prefix": prefix, "error_rate": error_rate, "error_status": 503, "drop_rate": drop_rate}
                    for prefix in (PRESCRIBING, DISPENSING)]


def set_faults(simulator_url, rules):
    """Replace the simulator's fault rules (its admin API, never faulted)."""
    answer = requests.put(f"{simulator_url}/sandbox/v1/faults", json={"rules": rules}, timeout=10)
    answer.raise_for_status()
    return answer.json()["rules"]


class Stuck(Exception):
    """A step that did not reach its next step however often the user pressed again."""


@dataclass
class Tally:
    """What the users did and what the BFF told them."""

    runs: int = 0
    attempts: int = 0  # widget requests sent, retries included
    retries: Counter = field(default_factory=Counter)  # by kind: 5xx, 429, drop, other
    bff_errors: int = 0  # answers >= 500 from the BFF itself (each one a defect)
    stuck: list = field(default_factory=list)  # (flow, step, what the user last saw)
    reported: dict = field(default_factory=dict)  # flow -> the success outcome the widget announced


class User:
    """One user's widget session: every press sent again, as often as it takes, after a retryable error."""

    def __init__(self, widget, tally, name):
        self.widget, self.tally, self.name = widget, tally, name

    def press(self, method, path, form=None, until=None, shows=None):
        """Send one widget action until it answers `until` (a step) or `shows` (a text) without an error, pressing
        again after each retryable error, as the widget invites the user to."""
        last = None
        for _ in range(TRIES_PER_STEP):
            self.tally.attempts += 1
            try:
                answer = self.widget.request(method, path, timeout=60,  # longer than the BFF's own upstream timeout
                                             **{"params" if method == "GET" else "data": form})
            except requests.ConnectionError:  # the BFF is down (killed): the user presses again
                self.tally.retries["BFF down"] += 1
                time.sleep(0.5)
                continue
            if answer.status_code >= 500:
                self.tally.bff_errors += 1
                last = f"HTTP {answer.status_code}"
                continue
            error = alert_of(answer)
            arrived = (until is None or step_of(answer) == until) and (shows is None or shows in answer.text)
            if error is None and arrived:
                return answer
            if error is None or not error["retryable"]:
                raise Stuck(self.name, path, error or step_of(answer))
            last = error
            self.tally.retries[RETRY_KINDS.get(error["code"], error["code"])] += 1
            waited = re.search(r"in (\d+) s", error["message"])  # "Osigu is busy, try again in 1 s"
            time.sleep(int(waited.group(1)) if waited else 0.05)  # a user reads the message, then presses
        raise Stuck(self.name, path, last)


def alert_of(answer):
    """The error a widget answer shows: its event to the host page, or else (search results) the alert in place."""
    event = trigger_of(answer).get("osigu:error")
    if event:
        return event["problem"]
    shown = re.search(r'class="osigu-alert".*?<p>(.*?)</p>.*?class="osigu-code">[^:<]*: ([^<]+)<', answer.text, re.S)
    if shown is None:
        return None
    message, code = shown.groups()
    code = code.strip()  # Osigu's injected failures, and the BFF's own (BFF-BUSY, BFF-504), invite a retry
    return {"code": code, "message": message, "retryable": code in RETRY_KINDS or code.startswith("BFF-")}


def open_widget(bff_url, api_key, widget, user_id, tally, name):
    """The host's back end opens a widget session (not faulted: it is the BFF's own) for a user."""
    session = requests.post(f"{bff_url}/v1/widget-sessions", headers={"Authorization": f"Bearer {api_key}"},
                            timeout=30, json={"widget": widget, "origin": ORIGIN, "locale": "en", "context": {},
                                              "user": {"id": user_id, "name": "Fault Tester", "role": "doctor"}})
    session.raise_for_status()
    return User(Widget(bff_url, session.json()["token"], widget), tally, name)


def doctor_of(flow):
    return f"dr-fault-{flow}"


def up_to_review(user):
    """A prescription for Ana López (paracetamol) up to its review, every step pressed again on errors."""
    user.press("GET", "/resume", until="patient")
    found = user.press("GET", "/patient/search", {"document_type": "CC", "document_number": "1000000001"},
                       shows='name="patient_id"')
    patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
    user.press("POST", "/patient/select", {"patient_id": patient_id}, until="diagnoses")
    user.press("POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"}, until="diagnoses")
    user.press("POST", "/medications/add", LINE, until="medications")
    user.press("GET", "/review", until="review")


def prescribe(bff_url, api_key, flow, tally):
    """One doctor's whole prescription; the outcome the widget announced is kept in tally.reported."""
    tally.runs += 1
    user = open_widget(bff_url, api_key, "prescription", doctor_of(flow), tally, flow)
    try:
        up_to_review(user)
        issued = user.press("POST", "/issue", until="done")
    except Stuck as stuck:
        tally.stuck.append(stuck.args)
        return None
    tally.reported[flow] = trigger_of(issued)["osigu:success"]["outcome"]
    return tally.reported[flow]


def dispense(bff_url, api_key, flow, code, tally):
    """One pharmacist's whole dispensation of code; the outcome the widget announced is kept in tally.reported."""
    tally.runs += 1
    user = open_widget(bff_url, api_key, "dispensing", f"ph-fault-{flow}", tally, flow)
    try:
        user.press("GET", "/resume", until="code")
        products = user.press("POST", "/code", {"code": code}, until="products")
        completed = user.press("POST", "/complete", products_form(products), until="done")
    except Stuck as stuck:
        tally.stuck.append(stuck.args)
        return None
    tally.reported[flow] = trigger_of(completed)["osigu:success"]["outcome"]
    return tally.reported[flow]


def upstream_records(simulator_database):
    """What Osigu holds, read from the simulator's own SQLite file: {doctor: [prescription ids]} for the fault
    runs' doctors, and {code: [dispensation statuses]}."""
    with sqlite3.connect(f"file:{simulator_database}?mode=ro", uri=True) as connection:
        prescriptions, dispensations = {}, {}
        for prescription_id, doctor in connection.execute(
                "SELECT id, doctor_id FROM prescription WHERE doctor_id LIKE 'dr-fault-%' ORDER BY created_at"):
            prescriptions.setdefault(doctor, []).append(prescription_id)
        for dispensation_id, code, status in connection.execute(
                "SELECT id, code, status FROM dispensation ORDER BY created_at"):
            dispensations.setdefault(code, []).append((dispensation_id, status))
    connection.close()
    return prescriptions, dispensations


def audit_prescriptions(reported, prescriptions, callbacks):
    """Duplicates (a flow with two prescriptions upstream) and lost outcomes (reported, not upstream; upstream,
    not reported; reported to the page but never called back), for {flow: outcome} and {doctor: [ids]}."""
    upstream = {prescription_id for ids in prescriptions.values() for prescription_id in ids}
    shown = {outcome["prescription_id"] for outcome in reported.values()}
    called_back = {data["prescription_id"] for event, data in callbacks if event == "widget.prescription.issued"}
    duplicates = sum(len(ids) - 1 for ids in prescriptions.values())
    return duplicates, len(shown - upstream) + len(upstream - shown) + len(shown ^ called_back)


def audit_dispensations(reported, dispensations, codes, callbacks):
    """Duplicates (a code completed twice) and lost outcomes, as audit_prescriptions, for the codes dispensed."""
    completed = {dispensation_id for code in codes for dispensation_id, status in dispensations.get(code, [])
                 if status == "DISPENSED"}
    shown = {outcome["dispensation_id"] for outcome in reported.values()}
    called_back = {data["dispensation_id"] for event, data in callbacks if event == "widget.dispensing.completed"}
    duplicates = sum(max(0, [status for _, status in dispensations.get(code, [])].count("DISPENSED") - 1)
                     for code in codes)
    return duplicates, len(shown - completed) + len(completed - shown) + len(shown ^ called_back)


class BffProcess:
    """`osigu-widgets serve` in its own process on a fixed port and database, to kill -9 and start again."""

    def __init__(self, port, environ, log_path):
        self.url, self.port, self.environ, self.log_path = f"http://127.0.0.1:{port}", port, environ, log_path
        self.process = None

    def start(self, timeout=60):
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bff.cli", "serve", "--port", str(self.port), "--threads", "16"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ | self.environ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the BFF exited ({self.process.returncode}): see {self.log_path}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"the BFF did not start in {timeout} s: see {self.log_path}")

    def kill9(self):
        """SIGKILL: no clean-up, whatever it was doing."""
        os.kill(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=30)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def host_apps_json(api_key, callback_url, callback_secret):
    """One host app on the BFF's own Osigu credentials, with its callbacks at callback_url."""
    return json.dumps([{"id": "his-fault", "api_key": api_key, "origins": [ORIGIN], "callback_url": callback_url,
                        "callback_secret": callback_secret}])


def wait_for(check, timeout=30):
    """Poll check() until it is truthy (bounded): state another process records."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(0.02)
    return result


def kill_while_in_flight(bff, simulator_url, user, path, form, rule, acted):
    """Press path with Osigu slowed by rule (one request), kill -9 the BFF once Osigu has the request, wait until
    Osigu acted (acted() is truthy) with nobody to answer, start the BFF again; the user presses again."""
    set_faults(simulator_url, [rule | {"times": 1}])

    def press_once():
        try:
            user.widget.request("POST", path, data=form)
        except requests.RequestException:
            pass  # the BFF died under this press: the user sees the widget fail

    pressing = threading.Thread(target=press_once)
    pressing.start()
    wait_for(lambda: not requests.get(f"{simulator_url}/sandbox/v1/faults", timeout=5).json()["rules"])
    killed = bff.kill9()  # the call is in flight: Osigu holds it (spent its rule) and has not answered
    pressing.join(timeout=30)
    wait_for(acted)
    bff.start()
    return killed, user.press("POST", path, form, until="done")


def kill_mid_issue(bff, simulator_url, simulator_database, api_key, flow, tally):
    """A BFF killed -9 while Osigu creates a prescription; after its restart the doctor presses Issue again.
    Returns how it died, the outcome announced, and the prescriptions Osigu holds for the flow."""
    user = open_widget(bff.url, api_key, "prescription", doctor_of(flow), tally, flow)
    up_to_review(user)
    doctor = doctor_of(flow)
    killed, issued = kill_while_in_flight(
        bff, simulator_url, user, "/issue", None,
        {"path_prefix": "/ehr/v1/prescriptions", "methods": ["POST"], "latency_ms": 1500},
        lambda: upstream_records(simulator_database)[0].get(doctor))
    tally.runs += 1
    tally.reported[flow] = trigger_of(issued)["osigu:success"]["outcome"]
    return killed, tally.reported[flow], upstream_records(simulator_database)[0][doctor]


def kill_mid_complete(bff, simulator_url, simulator_database, api_key, flow, code, tally):
    """A BFF killed -9 while Osigu completes a dispensation; after its restart the pharmacist presses Complete
    again. Returns how it died, the outcome announced, and the dispensations Osigu holds for the code."""
    user = open_widget(bff.url, api_key, "dispensing", f"ph-fault-{flow}", tally, flow)
    user.press("GET", "/resume", until="code")
    products = user.press("POST", "/code", {"code": code}, until="products")
    dispensation_id = upstream_records(simulator_database)[1][code][-1][0]
    killed, completed = kill_while_in_flight(
        bff, simulator_url, user, "/complete", products_form(products),
        {"path_prefix": f"/dispensing/v1/dispensations/{dispensation_id}/complete", "latency_ms": 1500},
        lambda: ("DISPENSED" in [status for _, status in upstream_records(simulator_database)[1][code]]))
    tally.runs += 1
    tally.reported[flow] = trigger_of(completed)["osigu:success"]["outcome"]
    return killed, tally.reported[flow], upstream_records(simulator_database)[1][code]
