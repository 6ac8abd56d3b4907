"""Fixtures for every integration test: a BFF on a real socket, pointed at a live simulator, with two host
apps (for bff/ and widgets/ tests); codes to redeem, issued through the simulator's own API."""

import json
import queue
import shutil
import socket
import subprocess
import threading
from datetime import UTC, datetime

import pytest
import redis
import requests
from ehr_client import Ehr
from flask import Flask, request
from standardwebhooks.webhooks import Webhook
from waitress import wasyncore

import bff
from bff import outbox, retention
from bff.cli import make_server
from bff.db import db
from simulator import background

ANA = "pat_01HXE0000000000000000ANA01"


@pytest.fixture
def prescribe(hospital):
    """Issue a v1 prescription as the hospital and return its code."""

    def issue(*medications, patient_id=ANA):
        lines = medications or ({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"},)
        response = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": patient_id, "diagnoses": [{"diagnosis_code": "R51"}], "medications": list(lines),
        })
        assert response.status_code == 201, response.text
        return response.json()["prescription_code"]

    return issue


@pytest.fixture
def read_otp(api):
    """Read the newest OTP the sandbox sent about a dispensation or request, as the beneficiary would."""

    def read(reference):
        messages = api().get("/sandbox/v1/messages", params={"reference": reference}).json()["data"]
        return messages[0]["otp_code"]

    return read


# The seeded sponsors' beneficiaries, found through each sponsor's own search form.
SEARCHES = {
    "seguros-andinos": {"policy_number": "SA-10000001"},
    "eps-vital": {"document_type": "CC", "document_number": "1000000002"},
    "ars-caribe": {"card_number": "00100000041", "date_of_birth": "2012-06-30"},
    "acme-salud": {"employee_number": "EMP-00042", "date_of_birth": "1980-01-01"},
}
PDF = ("order.pdf", b"%PDF-1.4\n% a medical order\n", "application/pdf")


@pytest.fixture
def sponsor_searches():
    """Each seeded sponsor's search fields for its first beneficiary."""
    return SEARCHES


@pytest.fixture
def find_beneficiary(hospital):
    """Search a sponsor's beneficiary with its own form, as a front desk would."""

    def find(sponsor, **fields):
        response = hospital.post(f"/arc/v1/sponsors/{sponsor}/beneficiaries/search",
                                 json=fields or SEARCHES[sponsor])
        assert response.status_code == 200, response.text
        return response.json()

    return find


@pytest.fixture
def preauthorize(hospital, find_beneficiary):
    """Initiate a request as the hospital, attach a diagnosis and the documents the sponsor asks for."""

    def request(sponsor, *products, documents=None, complete=True):
        beneficiary = find_beneficiary(sponsor)
        lines = [{"product_code": code, "quantity": quantity} for code, quantity in products]
        created = hospital.post("/arc/v1/preauthorizations",
                                json={"beneficiary_id": beneficiary["beneficiary_id"], "products": lines})
        assert created.status_code == 201, created.text
        base = f"/arc/v1/preauthorizations/{created.json()['preauthorization_id']}"
        hospital.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}], "notes": "3 weeks"})
        needed = created.json()["required_documents"] if documents is None else documents
        for document in needed:
            kind = document["document_type"] if isinstance(document, dict) else document
            attached = hospital.post(f"{base}/documents", data={"document_type": kind}, files={"file": PDF})
            assert attached.status_code == 201, attached.text
        if not complete:
            return base
        return hospital.post(f"{base}/complete")

    return request


CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="
OSIGU_WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="


class CallbackReceiver:
    """A host app's callback endpoint: answers `fail_first` times with 500, then verifies and accepts."""

    def __init__(self, fail_first=0):
        self.fail_first = fail_first
        self.received = queue.Queue()
        self.attempts = 0
        self.app = Flask("host-callbacks")
        self.app.add_url_rule("/callbacks", "callbacks", self.receive, methods=["POST"])

    def receive(self):
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return "not now", 500
        payload = Webhook(CALLBACK_SECRET).verify(request.get_data(), dict(request.headers))
        self.received.put((request.headers["webhook-id"], payload))
        return "", 204

    def take(self, event_type):
        """Empty what was received so far; return the data of the callbacks of event_type, in order."""
        received = []
        while True:
            try:
                received.append(self.received.get_nowait()[1])
            except queue.Empty:
                return [payload["data"] for payload in received if payload["type"] == event_type]


@pytest.fixture
def callback_receiver(serve_wsgi):
    receiver = CallbackReceiver()
    receiver.url = serve_wsgi(receiver.app) + "/callbacks"
    return receiver


@pytest.fixture
def host_apps(callback_receiver):
    """his-a uses the BFF's own Osigu credentials and wants callbacks; pms-b brings its own credentials."""
    return [
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": ["http://127.0.0.1:9001"],
         "callback_url": callback_receiver.url, "callback_secret": CALLBACK_SECRET},
        {"id": "pms-b", "api_key": "pms-b-api-key-0123456789", "origins": ["http://localhost:9002"],
         "osigu_client_id": "demo-pharmacy", "osigu_client_secret": "demo-pharmacy-secret"},
    ]


@pytest.fixture
def bff_config():
    """Override in a test module to change the BFF's settings."""
    return {}


@pytest.fixture
def make_bff(simulator_url, host_apps, tmp_path, bff_config):
    """Build BFF apps on one database (so a test can restart the BFF); all are stopped at the end."""
    apps = []

    def make(**overrides):
        app = bff.create_app({
            "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "test-key",
                        "OSIGU_WEBHOOK_SECRET": OSIGU_WEBHOOK_SECRET, "BFF_HOST_APPS": json.dumps(host_apps)},
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
            "OUTBOX_WORKER": False,
            "RETENTION_WORKER": False,
            "OUTBOX_INTERVAL_SECONDS": 0.05,
            "OUTBOX_BACKOFF_SECONDS": 0.05,
        } | bff_config | overrides)
        apps.append(app)
        return app

    yield make
    for app in apps:
        outbox.stop_worker(app)
        retention.stop_purger(app)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def bff_app(make_bff):
    return make_bff()


@pytest.fixture
def bff_url(bff_app, serve_wsgi):
    return serve_wsgi(bff_app)


@pytest.fixture
def serve_waitress():
    """Serve BFF apps as `osigu-widgets serve` does (waitress, its thread pool and limits); each call returns a URL."""
    running = []

    def start(app, **options):
        server = make_server(app, "127.0.0.1", 0, **options)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.effective_port}"

    yield start
    for server, thread in running:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)  # an empty map ends run()'s loop
        thread.join()


@pytest.fixture
def host(bff_url):
    """A host app's back end: a session against the BFF that sends his-a's API key."""
    import requests

    class HostSession(requests.Session):
        def request(self, method, url, *args, **kwargs):
            return super().request(method, bff_url + url, *args, **kwargs)

    session = HostSession()
    session.headers["Authorization"] = "Bearer his-a-api-key-0123456789"
    return session


@pytest.fixture
def new_session(host):
    """Create a widget session for his-a and return its token."""

    def create(widget="prescription", **body):
        payload = {"widget": widget, "origin": "http://127.0.0.1:9001", "locale": "es",
                   "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}} | body
        response = host.post("/v1/widget-sessions", json=payload)
        assert response.status_code == 201, response.text
        return response.json()["token"]

    return create


@pytest.fixture
def send_webhook(bff_url):
    """Post a webhook to the BFF as Osigu does (Standard Webhooks, signed with OSIGU_WEBHOOK_SECRET)."""

    def send(webhook_id, event_type, data):
        body = json.dumps({"type": event_type, "timestamp": "2026-11-22T10:00:00Z", "data": data})
        now = datetime.now(UTC)
        headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(OSIGU_WEBHOOK_SECRET).sign(webhook_id, now, body),
                   "Content-Type": "application/json"}
        response = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    return send


@pytest.fixture
def webhooks_to_bff(api, bff_url, simulator_app):
    """Point a demo client's Osigu webhooks at the BFF; return a function that has the simulator send the due ones.

    Sending is the simulator's own clock tick (timeouts and pending decisions first, then deliveries),
    run here rather than in its thread so a test knows when the BFF has them.
    """

    def point(client_id):
        response = api(client_id).put("/sandbox/v1/webhook-endpoint", json={
            "url": f"{bff_url}/v1/webhooks/osigu", "secret": OSIGU_WEBHOOK_SECRET})
        assert response.status_code == 200, response.text
        return lambda: background.tick(simulator_app)

    return point


@pytest.fixture
def ehr(serve_wsgi):
    """An EHR that signs CDS Hooks calls, its JWKS served on a free loopback port (as `jwks_url`)."""
    found = Ehr()
    found.jwks_url = serve_wsgi(found.app) + "/jwks"
    return found


@pytest.fixture
def redis_server(tmp_path, eventually):
    """A throwaway redis-server on a free loopback port, keeping nothing on disk (scripts/test installs it); the
    process, with its URL as `url` (a test may stop it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run ./scripts/test, or apt-get install redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    server.url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(server.url)

    def answers():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    eventually(answers)
    yield server
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url
