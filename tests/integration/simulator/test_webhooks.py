"""Webhooks out: Standard Webhooks signatures, unique ids, retries with backoff until a 2xx."""

import queue
import threading

import pytest
import requests
from flask import Flask, request
from openapi_core.contrib.requests import RequestsOpenAPIWebhookRequest
from openapi_core.validation.request.validators import V31WebhookRequestBodyValidator
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + "c2FuZGJveC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA=="


class Receiver:
    """A real HTTP endpoint that fails the first `failures` deliveries, then accepts."""

    def __init__(self, failures=0):
        self.failures = failures
        self.accepted = queue.Queue()
        self.attempts = []
        self.lock = threading.Lock()
        app = Flask("receiver")
        app.add_url_rule("/hooks", "hooks", self.receive, methods=["POST"])
        self.app = app

    def receive(self):
        with self.lock:
            self.attempts.append(request.headers["webhook-id"])
            if len(self.attempts) <= self.failures:
                return "not now", 503
        payload = Webhook(SECRET).verify(request.get_data(), dict(request.headers))
        self.accepted.put((request.headers["webhook-id"], payload))
        return "", 204

    def next_event(self, event_type):
        """Wait for the next accepted event of event_type (other types are skipped)."""
        while True:
            webhook_id, payload = self.accepted.get(timeout=10)
            if payload["type"] == event_type:
                return webhook_id, payload


@pytest.fixture
def receiver_factory(serve_wsgi):
    def make(failures=0):
        receiver = Receiver(failures)
        receiver.url = serve_wsgi(receiver.app)
        return receiver

    return make


@pytest.fixture
def receiver(receiver_factory):
    return receiver_factory()


@pytest.fixture
def simulator_config(receiver):
    return {"WEBHOOK_URL": receiver.url + "/hooks", "WEBHOOK_SECRET": SECRET, "BACKGROUND_WORKER": True}


def url(dispensation, action=""):
    return f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}{action}"


def test_completed_dispensation_is_signed_and_delivered(receiver, pharmacy, prescribe, start):
    code = prescribe()
    dispensation = start(code)
    pharmacy.post(url(dispensation, "/complete"))
    webhook_id, payload = receiver.next_event("dispensing.completed")
    assert webhook_id.startswith("msg_")
    assert payload["data"]["dispensation_id"] == dispensation["dispensation_id"]
    assert payload["data"]["code"] == code and payload["data"]["status"] == "DISPENSED"
    assert payload["data"]["provider_slug"] == "farmacia-demo"


def test_void_sends_cancelled_and_ids_are_unique(receiver, pharmacy, prescribe, start):
    first = start(prescribe())
    pharmacy.post(url(first, "/void"))
    second = start(prescribe())
    pharmacy.post(url(second, "/void"))
    ids = [receiver.next_event("dispensing.cancelled")[0] for _ in range(2)]
    assert len(set(ids)) == 2


def test_prescription_events_reach_the_prescriber(receiver, prescribe):
    code = prescribe()
    _, payload = receiver.next_event("prescription.issued")
    assert payload["data"]["prescription_code"] == code
    assert payload["data"]["provider_slug"] == "hospital-demo"
    assert payload["data"]["status"] == "PRESCRIPTION_ISSUED"


def assert_documented(openapi, payload):
    """Check a delivered event's body against the webhook of that name in the OpenAPI document."""
    delivered = requests.Request("POST", "http://receiver/hooks", json=payload)
    V31WebhookRequestBodyValidator(openapi.spec).validate(RequestsOpenAPIWebhookRequest(delivered, payload["type"]))


def test_a_cancellation_reaches_the_prescriber(receiver, hospital, prescribe, simulator_openapi):
    code = prescribe()
    prescription_id = receiver.next_event("prescription.issued")[1]["data"]["prescription_id"]
    hospital.post(f"/ehr/v1/prescriptions/{prescription_id}/cancel", json={"reason": "Patient allergic"})
    _, payload = receiver.next_event("prescription.cancelled")
    assert payload["data"] == {"prescription_id": prescription_id, "prescription_code": code,
                               "status": "PRESCRIPTION_CANCELLED", "reason": "Patient allergic",
                               "provider_slug": "hospital-demo"}
    assert_documented(simulator_openapi, payload)


@pytest.fixture
def flaky_receiver(receiver_factory):
    return receiver_factory(failures=2)


@pytest.mark.parametrize("simulator_config", [{"BACKGROUND_WORKER": True}])
def test_failed_deliveries_are_retried_until_a_2xx(flaky_receiver, pharmacy, api, prescribe, start, eventually):
    # The pharmacy points its own webhooks at the flaky receiver through the sandbox API.
    settings = pharmacy.put("/sandbox/v1/webhook-endpoint", json={"url": flaky_receiver.url + "/hooks",
                                                                  "secret": SECRET})
    assert settings.status_code == 200 and settings.json()["secret"] == SECRET
    dispensation = start(prescribe())
    pharmacy.post(url(dispensation, "/void"))
    webhook_id, _ = flaky_receiver.next_event("dispensing.cancelled")
    assert flaky_receiver.attempts == [webhook_id] * 3  # two 503s, then accepted: same id each time
    # The receiver answers before the simulator records the outcome: wait for the log to catch up.
    entry = eventually(lambda: (e := delivery_log(api, webhook_id))["status"] != "PENDING" and e)
    assert entry["status"] == "DELIVERED" and entry["attempts"] == 3


def delivery_log(api, webhook_id):
    log = api().get("/sandbox/v1/webhook-deliveries", params={"type": "dispensing.cancelled"}).json()["data"]
    return next(entry for entry in log if entry["webhook_id"] == webhook_id)


def test_arc_events_are_delivered(receiver, hospital, api, preauthorize):
    body = preauthorize("seguros-andinos", ("LAB-001", 1), ("IMG-020", 1)).json()
    approved, pending = body["authorizations"]
    _, decided_now = receiver.next_event("authorization.decided")
    assert decided_now["data"]["authorization_code"] == approved["authorization_code"]
    api().post(f"/sandbox/v1/authorizations/{pending['authorization_code']}/decision", json={"status": "APPROVED"})
    _, decided_later = receiver.next_event("authorization.decided")
    assert decided_later["data"] == decided_later["data"] | {
        "authorization_code": pending["authorization_code"], "status": "APPROVED", "provider_slug": "hospital-demo"}
    hospital.post(f"/arc/v1/authorizations/{pending['authorization_code']}/void")
    _, voided = receiver.next_event("authorization.voided")
    assert voided["data"]["authorization_code"] == pending["authorization_code"]

    dispensation = hospital.post("/dispensing/v1/dispensations",
                                 json={"code": approved["authorization_code"]}).json()
    base = f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}"
    hospital.post(f"{base}/complete")
    otp = api().get("/sandbox/v1/messages", params={"reference": dispensation["dispensation_id"]}).json()
    hospital.post(f"{base}/otp", json={"otp": otp["data"][0]["otp_code"]})
    claim_id = hospital.post(f"{base}/complete").json()["claim_id"]
    _, claim = receiver.next_event("claim.created")
    assert claim["data"]["claim_id"] == claim_id and claim["data"]["source"] == "DISPENSING"
