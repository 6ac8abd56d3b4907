"""Callback delivery under hostile or slow host endpoints, races and two BFF processes on one database."""

import collections
import concurrent.futures
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import waitress
from flask import Flask, redirect, request
from widget_client import Widget, fill_in_ana_with_paracetamol, trigger_of

from bff import outbox
from bff.db import OutboxMessage, db

CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="  # what callback_receiver verifies with
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class DrippingEndpoint:
    """A host's callback endpoint that reads the request, then answers one byte every `interval` seconds."""

    def __init__(self, interval=2):
        self.interval = interval
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/callbacks"
        self.requests = threading.Semaphore(0)  # released when a callback has arrived
        self.cut = threading.Event()  # set when the BFF hung up before the answer was complete
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection):
        with connection:
            if not self._read_request(connection):
                return
            self.requests.release()
            for byte in ANSWER:
                readable, _, _ = select.select([connection], [], [], self.interval)
                if self.stopping.is_set():
                    return
                if readable and not connection.recv(1):
                    self.cut.set()  # the BFF closed its side: it gave up on this answer
                    return
                connection.sendall(bytes([byte]))

    @staticmethod
    def _read_request(connection):
        """Read the whole request, body included (it may come in a later packet); False if the peer left."""
        received = b""
        while True:
            head, separator, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
            if separator and len(body) >= (int(length.group(1)) if length else 0):
                return True
            chunk = connection.recv(65536)
            if not chunk:
                return False
            received += chunk

    def close(self):
        self.stopping.set()
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would not
        self.listener.close()


@pytest.fixture
def dripping():
    endpoint = DrippingEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def host_apps(callback_receiver, dripping):
    """his-a has a healthy callback endpoint; slow-his's endpoint drips its answer."""
    return [
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": ["http://127.0.0.1:9001"],
         "callback_url": callback_receiver.url, "callback_secret": CALLBACK_SECRET},
        {"id": "slow-his", "api_key": "slow-his-api-key-0123456789", "origins": ["http://127.0.0.1:9003"],
         "callback_url": dripping.url, "callback_secret": CALLBACK_SECRET},
    ]


def owe(app, host_app_id, key, event_type="osigu.dispensing.completed"):
    """Queue a callback, as a widget or a webhook does; return its webhook-id."""
    with app.app_context():
        webhook_id = outbox.enqueue(host_app_id, event_type, {"dispensation_id": key}, key=key)
        db.session.commit()
        return webhook_id


def stored(app, webhook_id):
    with app.app_context():
        message = db.session.get(OutboxMessage, webhook_id)
        db.session.remove()
        return message


def test_a_dripping_endpoint_does_not_delay_another_host_apps_callback(make_bff, dripping, callback_receiver):
    app = make_bff(OUTBOX_DEADLINE_SECONDS=10)
    owe(app, "slow-his", "dsp_slow")  # owed first: a single in-order worker would be stuck on it
    fast = owe(app, "his-a", "dsp_fast")
    started = time.monotonic()
    outbox.start_worker(app)
    assert dripping.requests.acquire(timeout=5)  # slow-his's endpoint has its callback and is dripping
    webhook_id, _ = callback_receiver.received.get(timeout=5)
    assert webhook_id == fast and time.monotonic() - started < 5
    assert not dripping.cut.is_set()  # his-a's callback did not wait for slow-his's to be given up
    dripping.stopping.set()  # end the slow delivery now rather than at its deadline


def test_a_delivery_is_cut_off_at_its_deadline_and_retried_later(make_bff, dripping):
    app = make_bff(OUTBOX_DEADLINE_SECONDS=3)
    webhook_id = owe(app, "slow-his", "dsp_slow")
    started = time.monotonic()
    with app.app_context():
        assert outbox.deliver_due(0.05) == 1
    assert time.monotonic() - started < 8  # without a deadline: 38 bytes at one every 2 s, 76 s
    assert dripping.cut.wait(5)
    message = stored(app, webhook_id)
    assert (message.status, message.attempts) == ("PENDING", 1)
    assert message.last_error == "no complete answer within 3 s"


@pytest.fixture
def redirecting(serve_wsgi, callback_receiver):
    """A host endpoint that answers with a redirect to another (internal) service that accepts callbacks."""
    app = Flask("redirecting")
    app.add_url_rule("/callbacks/<int:status>", "callbacks", methods=["POST"],
                     view_func=lambda status: redirect(callback_receiver.url, status))
    return serve_wsgi(app)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_attempt_and_is_never_followed(make_bff, host_apps, redirecting, callback_receiver,
                                                            status):
    host_apps[0]["callback_url"] = f"{redirecting}/callbacks/{status}"
    app = make_bff()
    webhook_id = owe(app, "his-a", "dsp_1")
    with app.app_context():
        outbox.deliver_due(0.05)
    message = stored(app, webhook_id)
    assert (message.status, message.attempts) == ("PENDING", 1)
    assert message.last_error == f"callback answered {status}; redirects are never followed"
    assert callback_receiver.attempts == 0  # the signed body never reached the redirect's target


def test_outside_local_a_callback_never_reaches_a_private_address_whatever_dns_says(make_bff, callback_receiver):
    # The configuration refuses literal private addresses; a name that resolves to one (DNS rebinding)
    # is caught at delivery: here the receiver's loopback address stands for it.
    app = make_bff(CALLBACKS_PUBLIC_ONLY=True)
    webhook_id = owe(app, "his-a", "dsp_1")
    with app.app_context():
        outbox.deliver_due(0.05)
    message = stored(app, webhook_id)
    assert message.attempts == 1 and message.last_error.endswith("resolves to 127.0.0.1, which is not a public address")
    assert callback_receiver.attempts == 0


@pytest.fixture
def keep_alive_receiver():
    """A callback endpoint on waitress, which keeps connections open (the test server closes each one);
    returns its URL and the client port of every callback it got."""
    ports = []
    app = Flask("keep-alive")
    app.add_url_rule("/callbacks", "callbacks", methods=["POST"],
                     view_func=lambda: ports.append(request.environ["REMOTE_PORT"]) or "ok")
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}/callbacks", ports
    server.close()


def test_a_host_apps_callbacks_share_one_pooled_connection(make_bff, host_apps, keep_alive_receiver):
    url, ports = keep_alive_receiver
    host_apps[0]["callback_url"] = url
    app = make_bff()
    for n in range(5):
        owe(app, "his-a", f"dsp_{n}")
    with app.app_context():
        assert outbox.deliver_due(0.05) == 5
    assert len(ports) == 5 and len(set(ports)) == 1


def test_owing_the_same_event_twice_is_one_callback(bff_app):
    first = owe(bff_app, "his-a", "rx_1", "widget.prescription.issued")
    again = owe(bff_app, "his-a", "rx_1", "widget.prescription.issued")
    other = owe(bff_app, "his-a", "rx_2", "widget.prescription.issued")
    assert first == again != other
    with bff_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 2


@pytest.fixture
def widget(bff_url, host):
    """A prescription widget session for his-a, which wants callbacks."""

    def open_widget():
        response = host.post("/v1/widget-sessions", json={
            "widget": "prescription", "origin": "http://127.0.0.1:9001", "locale": "es",
            "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}})
        assert response.status_code == 201, response.text
        return Widget(bff_url, response.json()["token"])

    return open_widget


def test_ten_concurrent_issues_make_one_prescription_and_one_callback(widget, bff_app, callback_receiver):
    w = widget()
    fill_in_ana_with_paracetamol(w)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: w.post("/issue"), range(10)))
    outcomes = {json.dumps(trigger_of(answer)["osigu:success"]["outcome"]) for answer in answers}
    assert len(outcomes) == 1
    with bff_app.app_context():
        assert outbox.deliver_due(0.05) == 1
    _, payload = callback_receiver.received.get(timeout=10)
    assert payload["type"] == "widget.prescription.issued"
    assert payload["data"]["prescription_id"] == json.loads(outcomes.pop())["prescription_id"]
    assert callback_receiver.received.empty()


class CountingReceiver:
    """A host's callback endpoint that counts every delivery of every webhook-id, taking a moment to answer."""

    def __init__(self):
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.app = Flask("counting")
        self.app.add_url_rule("/callbacks", "callbacks", self.receive, methods=["POST"])

    def receive(self):
        with self.lock:
            self.counts[request.headers["webhook-id"]] += 1
        time.sleep(0.02)  # a real endpoint does some work: both BFFs have deliveries in flight at once
        return "", 204


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_bffs(request, make_bff, tmp_path, serve_wsgi, eventually):
    """Two `osigu-widgets serve` processes on one database (SQLite, then PostgreSQL), with two host apps whose
    callbacks a CountingReceiver counts; yields an app on that database, the receiver and the processes' logs."""
    receiver = CountingReceiver()
    url = serve_wsgi(receiver.app) + "/callbacks"
    apps = [{"id": name, "api_key": f"{name}-api-key-0123456789", "origins": ["http://127.0.0.1:9001"],
             "callback_url": url, "callback_secret": CALLBACK_SECRET} for name in ("his-1", "his-2")]
    database = (f"sqlite:///{tmp_path / 'bff.sqlite3'}" if request.param == "sqlite"
                else request.getfixturevalue("postgres_database"))
    app = make_bff(environ={"OSIGU_ENV": "local", "BFF_HOST_APPS": json.dumps(apps)},
                   SQLALCHEMY_DATABASE_URI=database)  # creates the tables before both processes start
    environ = {"OSIGU_ENV": "local", "BFF_HOST_APPS": json.dumps(apps), "BFF_SECRET_KEY": "two-bffs",
               "BFF_DATABASE_URL": database}
    processes, logs = [], [tmp_path / "bff-1.log", tmp_path / "bff-2.log"]
    for log in logs:
        with open(log, "w") as output:
            processes.append(subprocess.Popen([sys.executable, "-m", "bff.cli", "serve", "--port", str(free_port())],
                                              stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                              env=os.environ | environ))
    for log in logs:
        eventually(lambda log=log: "BFF listening" in log.read_text(), timeout=30)
    yield app, receiver, logs
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_two_bff_processes_on_one_database_deliver_each_callback_once(two_bffs, eventually):
    app, receiver, logs = two_bffs
    with app.app_context():
        owed = [outbox.enqueue(host_app, "osigu.dispensing.completed", {"n": n}, key=str(n))
                for n in range(60) for host_app in ("his-1", "his-2")]
        db.session.commit()

    def all_delivered():
        with app.app_context():
            statuses = db.session.scalars(db.select(OutboxMessage.status)).all()
            db.session.remove()
            return statuses == ["DELIVERED"] * len(owed)

    eventually(all_delivered, timeout=60)
    assert sorted(receiver.counts) == sorted(owed)
    assert set(receiver.counts.values()) == {1}
    # Both processes took part: the race for each callback was real.
    delivered_by = [log.read_text().count('delivered"') for log in logs]
    assert sum(delivered_by) == len(owed) and min(delivered_by) > 0, delivered_by
