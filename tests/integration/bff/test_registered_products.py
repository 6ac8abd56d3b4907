"""The provider's registered products, cached per tenant, under the simulator's real limit (50 a minute per client).

Ten doctors prescribe at once on a BFF run as `osigu-widgets serve` does (its own process, waitress,
8 threads), with /healthz polled all along.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from widget_client import ORIGIN, Widget, trigger_of

DOCTORS = 10
BUSY = re.compile(r"Osigu is busy, try again in (\d+) s")
LINE = {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet", "every_hours": "8",
        "duration_days": "10"}


HOST_APPS = [{"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": [ORIGIN]}]
# An admin: registering products is provider-wide (README: "The proxy's tenant model").
CLINIC = {"id": "clinic-c", "api_key": "clinic-c-api-key-0123456789", "origins": [ORIGIN], "admin": True,
          "osigu_client_id": "demo-clinic", "osigu_client_secret": "demo-clinic-secret"}


@pytest.fixture
def host_apps():
    """clinic-c is the clinic (its own Osigu client), which has not registered MED-042 yet."""
    return [*HOST_APPS, CLINIC]


@pytest.fixture
def serve_bff(simulator_url, tmp_path, eventually):
    """Start `osigu-widgets serve` processes on the simulator; each call returns its URL (stopped at the end)."""
    processes = []

    def start():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_HOST_APPS": json.dumps(HOST_APPS),
               "BFF_SECRET_KEY": "test-key", "BFF_DATABASE_URL": f"sqlite:///{tmp_path / 'bff.sqlite3'}"}
        processes.append(subprocess.Popen([sys.executable, "-m", "bff.cli", "serve", "--port", str(port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env=os.environ | env))
        url = f"http://127.0.0.1:{port}"
        eventually(lambda: _answers(url), timeout=30)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait()


def _answers(url):
    try:
        return requests.get(f"{url}/healthz", timeout=1).ok
    except requests.ConnectionError:
        return False


class Refused(Exception):
    """Osigu's own limit: the widget told the doctor how many seconds to wait."""


def act(w, method, path, form=None):
    """One step as a doctor takes it: when the BFF's own calls are all in flight, wait as told and try again."""
    while busy := BUSY.search((answer := w.request(method, path, data=form)).text):
        error = trigger_of(answer).get("osigu:error", {}).get("problem")
        assert error is None or error["retryable"] is True  # a search shows it in place; a step also tells the host
        if "BFF-BUSY" not in answer.text:
            raise Refused(busy.group(1))
        time.sleep(int(busy.group(1)))
    assert answer.status_code < 500 and "osigu:error" not in trigger_of(answer), answer.text
    return answer


def prescribe(bff_url, doctor):
    """One doctor's whole prescription: 'issued', or 'busy N' when the widget said to retry in N s."""
    session = requests.post(f"{bff_url}/v1/widget-sessions", timeout=15,
                            headers={"Authorization": "Bearer his-a-api-key-0123456789"},
                            json={"widget": "prescription", "origin": ORIGIN, "locale": "en",
                                  "user": {"id": f"dr-{doctor}", "name": "Dr. Test", "role": "doctor"}})
    assert session.status_code == 201, session.text
    w = Widget(bff_url, session.json()["token"])
    try:
        act(w, "GET", "/resume")
        found = act(w, "GET", "/patient/search?document_type=CC&document_number=1000000001")
        patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
        act(w, "POST", "/patient/select", {"patient_id": patient_id})
        act(w, "POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"})
        act(w, "GET", "/medications/search?q=paracetamol+500")
        act(w, "GET", "/medications/line?product_code=MED-042")
        act(w, "POST", "/medications/add", LINE)
        issued = act(w, "POST", "/issue")
    except Refused as refused:
        return f"busy {refused}"
    assert "osigu:success" in trigger_of(issued), issued.text
    return "issued"


class HealthWatch:
    """Poll /healthz while a block runs; keep every latency."""

    def __init__(self, bff_url):
        self.url, self.latencies, self._stop = f"{bff_url}/healthz", [], threading.Event()
        self._thread = threading.Thread(target=self._poll)

    def _poll(self):
        with requests.Session() as session:
            while not self._stop.wait(0.02):
                started = time.perf_counter()
                assert session.get(self.url, timeout=10).status_code == 200
                self.latencies.append(time.perf_counter() - started)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def run_doctors(bff_url, flows):
    with HealthWatch(bff_url) as health, ThreadPoolExecutor(DOCTORS) as pool:
        outcomes = list(pool.map(lambda n: prescribe(bff_url, n), range(flows)))
    return outcomes, health.latencies


def spend_the_registry_quota(simulator_url):
    """Use up demo-hospital's registry calls this minute, as other software on the same client would.

    Returns how many it could still make: 50 minus what the BFF used.
    """
    session = requests.Session()
    token = session.post(f"{simulator_url}/v1/oauth/token", auth=("demo-hospital", "demo-hospital-secret"),
                         data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    for made in range(51):
        if session.get(f"{simulator_url}/arc/v1/providers/products", timeout=10).status_code == 429:
            return made
    raise AssertionError("the registry never answered 429")


def test_ten_doctors_finish_or_are_told_when_to_retry_and_healthz_stays_fast(serve_bff, simulator_url):
    warm = serve_bff()
    outcomes, latencies = run_doctors(warm, 3 * DOCTORS)
    assert outcomes == ["issued"] * 3 * DOCTORS
    # Thirty prescriptions cost one fetch of the list: demo-hospital's 361 medications, 4 pages of 100.
    assert spend_the_registry_quota(simulator_url) == 50 - 4

    cold = serve_bff()  # a BFF that starts now has no list yet, and Osigu refuses one
    refused, cold_latencies = run_doctors(cold, DOCTORS)
    assert all(outcome.startswith("busy") and 1 <= int(outcome.split()[1]) <= 60 for outcome in refused), refused
    still, warm_latencies = run_doctors(warm, DOCTORS)
    assert still == ["issued"] * DOCTORS  # the cached list keeps the first BFF prescribing

    # The bound the issue asks for, asserted generously: on a shared 2-core CI machine the scheduler alone
    # can hold one probe for a few hundred ms; what this guards against is /healthz waiting out Osigu's
    # Retry-After behind every thread (30 s before). benchmarks/bff_rate_limit.py measures it side by side.
    every = latencies + cold_latencies + warm_latencies
    assert len(every) > 50
    assert statistics.median(every) < 0.1 and max(every) < 2, sorted(every)[-5:]


def offered(w, query):
    """The product codes the medication search offers the doctor."""
    return re.findall(r'name="product_code"\s+value="([^"]+)"', w.get("/medications/search", params={"q": query}).text)


def test_a_registration_through_the_proxy_is_offered_at_once(bff_url, simulator_url):
    clinic = requests.Session()
    clinic.headers["Authorization"] = f"Bearer {CLINIC['api_key']}"
    token = clinic.post(f"{bff_url}/v1/widget-sessions", timeout=10, json={
        "widget": "prescription", "origin": ORIGIN, "locale": "en",
        "user": {"id": "dr-1", "name": "Dr. Test", "role": "doctor"}}).json()["token"]
    w = Widget(bff_url, token)
    assert "MED-042" not in offered(w, "paracetamol 500") and offered(w, "paracetamol")  # the list is cached now

    products = f"{bff_url}/v1/osigu/arc/v1/providers/products"
    assert clinic.post(products, json={"product_code": "MED-042"}, timeout=10).status_code == 201
    assert "MED-042" in offered(w, "paracetamol 500")  # not an hour, nor a minute later
    assert clinic.delete(f"{products}/MED-042", timeout=10).status_code == 204
    assert "MED-042" not in offered(w, "paracetamol")
