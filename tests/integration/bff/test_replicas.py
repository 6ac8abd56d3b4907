"""Three `osigu-widgets serve` processes on one PostgreSQL and one Redis, every request on another replica."""

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from flask import Flask, request
from widget_client import (
    ORIGIN,
    Widget,
    fill_in_ana_with_paracetamol,
    open_a_prescription,
    products_form,
    step_of,
    trigger_of,
)

from bff import outbox
from bff.db import OutboxMessage, utcnow
from bff.db import db as bff_db
from bff.shared_tokens import SharedTokens
from bff.upstream import UpstreamClient
from simulator.db import db
from simulator.models import Dispensation, OAuthToken, Prescription

SEARCH = "/v1/osigu/medical-catalogs/v1/diagnoses"
HIS_A = {"Authorization": "Bearer his-a-api-key-0123456789"}
CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="


class HoldingReceiver:
    """his-a's callback endpoint; while `holding`, it keeps each callback's request open without answering.

    It notes the port each request came from, so the test can tell which replica is sending.
    """

    def __init__(self):
        self.holding, self.released = threading.Event(), threading.Event()
        self.arrived = []  # (webhook-id, the sender's port)
        self.acknowledged = []  # webhook-ids answered 204
        self.app = Flask("holding")
        self.app.add_url_rule("/callbacks", "callbacks", self.receive, methods=["POST"])

    def receive(self):
        self.arrived.append((request.headers["webhook-id"], int(request.environ["REMOTE_PORT"])))
        if self.holding.is_set():
            self.released.wait(60)
            return "", 503
        self.acknowledged.append(request.headers["webhook-id"])
        return "", 204


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def receiver(serve_wsgi):
    receiver = HoldingReceiver()
    receiver.url = serve_wsgi(receiver.app) + "/callbacks"
    yield receiver
    receiver.released.set()


@pytest.fixture
def host_apps(receiver):
    """his-a (the BFF's own Osigu credentials) wants its callbacks at the holding receiver."""
    return [{"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": [ORIGIN],
             "callback_url": receiver.url, "callback_secret": CALLBACK_SECRET}]


@pytest.fixture
def replicas(make_bff, host_apps, postgres_database, simulator_url, redis_url, tmp_path, eventually):
    """Three BFF processes on one PostgreSQL and one Redis; yields their URLs, their processes, Redis and an app
    on their database."""
    app = make_bff(SQLALCHEMY_DATABASE_URI=postgres_database)  # creates the tables before the processes start
    environ = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_HOST_APPS": json.dumps(host_apps),
               "BFF_SECRET_KEY": "shared-by-every-replica", "BFF_DATABASE_URL": postgres_database,
               "BFF_REDIS_URL": redis_url}
    urls, processes, logs = [], [], []
    for n in range(3):
        port, log = free_port(), tmp_path / f"bff-{n}.log"
        with open(log, "w") as output:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "bff.cli", "serve", "--port", str(port), "--threads", "24"],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ | environ))
        urls.append(f"http://127.0.0.1:{port}")
        logs.append(log)
    for log in logs:
        eventually(lambda log=log: "BFF listening" in log.read_text(), timeout=30)
    yield urls, processes, redis.Redis.from_url(redis_url), app
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


class RoundRobinWidget(Widget):
    """A widget whose every request goes to the next replica, as a load balancer without affinity may send it."""

    def __init__(self, urls, token, widget):
        super().__init__(urls[0], token, widget)
        self.bases = itertools.cycle(f"{url}/widgets/{widget}" for url in urls)
        self.replicas_used = set()

    def request(self, method, url, *args, **kwargs):
        self.base = next(self.bases)
        self.replicas_used.add(self.base)
        return super().request(method, url, *args, **kwargs)


def open_session(url, widget):
    """A widget session opened by his-a's back end at one replica; returns its token."""
    session = requests.post(f"{url}/v1/widget-sessions", headers=HIS_A, timeout=10, json={
        "widget": widget, "origin": ORIGIN, "locale": "es", "context": {},
        "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}})
    assert session.status_code == 201, session.text
    return session.json()["token"]


def tokens_issued(simulator_app, client_id="demo-hospital"):
    with simulator_app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(OAuthToken).filter_by(client_id=client_id))
        db.session.remove()
        return count


def prescription_ids(simulator_app):
    with simulator_app.app_context():
        ids = set(db.session.scalars(db.select(Prescription.id)))
        db.session.remove()
        return ids


def test_a_prescription_flow_spread_over_three_replicas_issues_one_prescription(replicas, simulator_app):
    urls, _, _, _ = replicas
    before = prescription_ids(simulator_app)
    w = RoundRobinWidget(urls, open_session(urls[2], "prescription"), "prescription")

    fill_in_ana_with_paracetamol(w)  # each step reads the draft the previous replica stored
    review = w.get("/review")
    assert step_of(review) == "review" and "1 comprimido cada 8 horas durante 10 días" in review.text
    issued = w.post("/issue")
    replayed = w.post("/issue")  # a double click landing on yet another replica

    outcome = trigger_of(issued)["osigu:success"]["outcome"]
    assert step_of(issued) == "done" and trigger_of(replayed)["osigu:success"]["outcome"] == outcome
    assert step_of(w.get("/resume")) == "done"
    assert len(w.replicas_used) == 3
    assert prescription_ids(simulator_app) - before == {outcome["prescription_id"]}


@pytest.mark.parametrize("simulator_config", [{"OAUTH2_TOKEN_EXPIRES_IN": {"client_credentials": 6}}])
def test_fifty_callers_at_token_expiry_across_replicas_make_one_token_request(replicas, simulator_app, eventually):
    urls, _, shared, _ = replicas
    for url in urls:  # every replica holds the token one of them fetched
        assert requests.get(url + SEARCH, params={"query": "R51"}, headers=HIS_A, timeout=10).status_code == 200
    assert tokens_issued(simulator_app) == 1
    key = next(iter(shared.scan_iter("bff:osigu-token:*")))
    eventually(lambda: not shared.exists(key), timeout=10)  # the shared token is due for refresh (after 5 s)

    barrier = threading.Barrier(50)

    def search(n):
        barrier.wait()
        return requests.get(urls[n % 3] + SEARCH, params={"query": "R51"}, headers=HIS_A, timeout=30)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(search, range(50)))
    assert [answer.status_code for answer in answers] == [200] * 50
    assert tokens_issued(simulator_app) == 2


def test_a_dispensing_flow_spread_over_three_replicas_dispenses_once(replicas, simulator_app):
    urls, _, _, _ = replicas
    w = RoundRobinWidget(urls, open_session(urls[1], "dispensing"), "dispensing")
    products = open_a_prescription(w)  # the code typed on one replica, its products read on the next
    code = re.search(r"RX-\d{4}-\d{6}", products.text).group(0)
    form = products_form(products)
    completed, replayed = w.post("/complete", data=form), w.post("/complete", data=form)

    outcome = trigger_of(completed)["osigu:success"]["outcome"]
    assert step_of(completed) == "done" and outcome["code"] == code and outcome["status"] == "DISPENSED"
    assert trigger_of(replayed)["osigu:success"]["outcome"] == outcome
    assert len(w.replicas_used) == 3
    with simulator_app.app_context():
        dispensed = db.session.scalars(db.select(Dispensation.status).filter_by(code=code)).all()
        db.session.remove()
    assert dispensed == ["DISPENSED"]


def process_with_connection_from(port, processes):
    """The process holding the client end of a loopback TCP connection from `port` (read from /proc)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
    for process in processes:
        for fd in os.listdir(f"/proc/{process.pid}/fd"):
            try:
                if os.readlink(f"/proc/{process.pid}/fd/{fd}") in sockets:
                    return process
            except OSError:
                continue  # closed meanwhile
    return None


def test_a_callback_whose_sender_is_killed_is_delivered_once_by_another_replica(replicas, receiver, eventually):
    _, processes, _, app = replicas
    receiver.holding.set()
    with app.app_context():
        owed = outbox.enqueue("his-a", "osigu.dispensing.completed", {"dispensation_id": "dsp_killed"},
                              key="dsp_killed")
        bff_db.session.commit()
    eventually(lambda: receiver.arrived, timeout=15)
    webhook_id, port = receiver.arrived[0]
    sender = process_with_connection_from(port, processes)
    assert webhook_id == owed and sender is not None
    os.killpg(sender.pid, signal.SIGKILL)  # mid-delivery: the lease it took stays in the database
    assert sender.wait(timeout=10) == -signal.SIGKILL
    receiver.holding.clear()
    with app.app_context():  # the 60 s lease runs out now rather than after a minute of waiting
        assert bff_db.session.execute(bff_db.update(OutboxMessage).where(OutboxMessage.id == owed)
                                      .values(next_attempt_at=utcnow())).rowcount == 1
        bff_db.session.commit()

    def delivered():
        with app.app_context():
            status = bff_db.session.get(OutboxMessage, owed).status
            bff_db.session.remove()
            return status == "DELIVERED"

    eventually(delivered, timeout=20)
    assert receiver.acknowledged == [owed]
    assert [webhook for webhook, _ in receiver.arrived] == [owed, owed]  # the killed replica's try, then one more


def test_without_redis_a_client_fetches_its_own_token(simulator_url):
    unreachable = SharedTokens(f"redis://127.0.0.1:{free_port()}/0", lock_seconds=5)
    client = UpstreamClient(simulator_url, "demo-hospital", "demo-hospital-secret", shared_tokens=unreachable)
    assert client.get_json("/medical-catalogs/v1/diagnoses", query="R51")["data"]
    assert client.token_fetches == 1 and client.provider_slug == "hospital-demo"


def test_a_token_osigu_refused_is_dropped_for_every_replica(simulator_url, simulator_app, redis_url):
    shared = SharedTokens(redis_url, lock_seconds=5)
    first, second = (UpstreamClient(simulator_url, "demo-hospital", "demo-hospital-secret", shared_tokens=shared)
                     for _ in range(2))
    first.get_json("/medical-catalogs/v1/diagnoses", query="R51")
    second.get_json("/medical-catalogs/v1/diagnoses", query="R51")
    assert (first.token_fetches, second.token_fetches) == (1, 0)  # the second replica read the first one's
    with simulator_app.app_context():
        db.session.execute(db.update(OAuthToken).values(access_token_revoked_at=1))  # Osigu revokes every token
        db.session.commit()
    first.get_json("/medical-catalogs/v1/diagnoses", query="R51")
    second.get_json("/medical-catalogs/v1/diagnoses", query="R51")
    assert (first.token_fetches, second.token_fetches) == (2, 0)
    assert tokens_issued(simulator_app) == 2


def test_a_rate_limit_holds_across_replicas_sharing_redis(make_bff, host_apps, simulator_url, redis_url,
                                                          serve_wsgi):
    environ = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_HOST_APPS": json.dumps(host_apps),
               "BFF_SECRET_KEY": "test-key", "BFF_REDIS_URL": redis_url, "BFF_RATE_LIMIT_SESSIONS": "3/minute"}
    urls = [serve_wsgi(make_bff(environ=environ)) for _ in range(2)]
    body = {"widget": "prescription", "origin": ORIGIN, "locale": "es", "context": {},
            "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}}
    statuses = [requests.post(f"{urls[n % 2]}/v1/widget-sessions", json=body, headers=HIS_A, timeout=10).status_code
                for n in range(4)]
    assert statuses == [201, 201, 201, 429]  # each replica alone saw at most two
