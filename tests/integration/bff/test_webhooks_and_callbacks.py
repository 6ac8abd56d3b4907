"""Osigu's webhooks in (verified, stored once) and host-app callbacks out (signed, retried, durable)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import g
from standardwebhooks.webhooks import Webhook

from bff import outbox, ownership, sessions, webhooks
from bff.db import OutboxMessage, WebhookEvent, WidgetSession, db

# The secret the test BFF is configured with (tests/integration/bff/conftest.py).
OSIGU_WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="


def signed(payload, webhook_id="msg_1", secret=OSIGU_WEBHOOK_SECRET, when=None):
    body = json.dumps(payload)
    when = when or datetime.now(UTC)
    return body, {"webhook-id": webhook_id, "webhook-timestamp": str(int(when.timestamp())),
                  "webhook-signature": Webhook(secret).sign(webhook_id, when, body),
                  "Content-Type": "application/json"}


EVENT = {"type": "dispensing.completed", "timestamp": "2026-11-22T10:00:00Z",
         "data": {"dispensation_id": "dsp_1", "status": "DISPENSED", "provider_slug": "farmacia-demo"}}


def own(bff_app, token, kind, upstream_id):
    """Bind an upstream object to a widget session, as a widget does when it creates one."""
    with bff_app.test_request_context():
        g.widget_session = sessions.load_session(token, "dispensing")
        ownership.bind(kind, upstream_id)
        db.session.commit()


def count(bff_app, model):
    with bff_app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_verified_webhook_is_stored_once(bff_url, bff_app):
    body, headers = signed(EVENT)
    first = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    again = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    assert first.json() == {"status": "accepted"} and again.json() == {"status": "duplicate"}
    assert count(bff_app, WebhookEvent) == 1


@pytest.mark.parametrize("tamper, status", [
    (lambda body, headers: (body.replace("DISPENSED", "VOIDED"), headers), 401),
    (lambda body, headers: signed(EVENT, secret="whsec_" + "d3Jvbmctc2VjcmV0LWZvci10ZXN0cy0wMDAwMDAwMA=="), 401),
    (lambda body, headers: signed(EVENT, when=datetime.now(UTC) - timedelta(hours=1)), 401),
    (lambda body, headers: (body, {k: v for k, v in headers.items() if k != "webhook-signature"}), 400),
    (lambda body, headers: (body, headers | {"webhook-signature": "v1,not base64!"}), 400),
])
def test_bad_or_stale_signatures_are_refused_and_nothing_is_stored(bff_url, bff_app, tamper, status):
    body, headers = tamper(*signed(EVENT))
    response = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    assert response.status_code == status
    assert count(bff_app, WebhookEvent) == 0


def test_an_event_about_a_sessions_object_becomes_a_signed_callback(bff_app, bff_url, new_session,
                                                                   callback_receiver):
    own(bff_app, new_session("dispensing"), "dispensation", "dsp_1")
    body, headers = signed(EVENT)
    requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    with bff_app.app_context():
        assert outbox.deliver_due(0.05) == 1
    webhook_id, payload = callback_receiver.received.get(timeout=10)
    assert webhook_id.startswith("cb_")
    assert payload["type"] == "osigu.dispensing.completed" and payload["data"]["dispensation_id"] == "dsp_1"


def test_an_event_about_nobodys_object_is_stored_but_not_forwarded(bff_app, bff_url):
    body, headers = signed(EVENT)
    requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    assert count(bff_app, OutboxMessage) == 0


def test_a_webhook_that_arrives_before_the_binding_is_forwarded_when_the_binding_is_written(
        bff_app, bff_url, new_session, callback_receiver):
    # Osigu can tell us about a dispensation before the request that created it has bound it.
    body, headers = signed(EVENT)
    assert requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10).ok
    assert count(bff_app, OutboxMessage) == 0
    own(bff_app, new_session("dispensing"), "dispensation", "dsp_1")
    with bff_app.app_context():
        assert outbox.deliver_due(0.05) == 1
    _, payload = callback_receiver.received.get(timeout=10)
    assert payload["type"] == "osigu.dispensing.completed" and payload["data"]["dispensation_id"] == "dsp_1"


def test_a_host_app_hears_of_a_webhook_once_however_many_of_its_objects_it_names(bff_app, bff_url, new_session):
    token = new_session("dispensing")
    own(bff_app, token, "prescription", "rx_1")
    event = {"type": "prescription.dispensed", "data": {"prescription_id": "rx_1", "dispensation_id": "dsp_1"}}
    body, headers = signed(event)
    assert requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10).ok
    assert count(bff_app, OutboxMessage) == 1
    own(bff_app, token, "dispensation", "dsp_1")  # the re-match finds the event already owed to his-a
    assert count(bff_app, OutboxMessage) == 1


def test_a_callback_owed_before_a_restart_is_delivered_after_it(make_bff, serve_wsgi, new_session, bff_app,
                                                              callback_receiver, eventually):
    callback_receiver.fail_first = 10**6  # the host is down
    own(bff_app, new_session("dispensing"), "dispensation", "dsp_1")
    url = serve_wsgi(bff_app)
    body, headers = signed(EVENT)
    requests.post(f"{url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    with bff_app.app_context():
        outbox.deliver_due(0.05)
        message = db.session.scalars(db.select(OutboxMessage)).one()
        assert (message.status, message.attempts) == ("PENDING", 1)
        db.session.remove()

    # The BFF goes away with the callback still owed; the host comes back; a new BFF process starts.
    callback_receiver.fail_first = 0
    restarted = make_bff(OUTBOX_WORKER=True)
    webhook_id, payload = callback_receiver.received.get(timeout=20)
    assert webhook_id == message.id and payload["data"]["dispensation_id"] == "dsp_1"

    def recorded():  # the host answers before the worker records the delivery
        with restarted.app_context():
            delivered = db.session.get(OutboxMessage, message.id)
            return delivered if delivered.status == "DELIVERED" else None

    assert eventually(recorded).attempts == 2
    assert callback_receiver.received.empty()


def test_a_removed_host_app_fails_its_callbacks_without_retrying_forever(bff_app):
    with bff_app.app_context():
        outbox.enqueue("gone-app", "osigu.dispensing.completed", {"dispensation_id": "dsp_1"}, key="msg_1")
        db.session.commit()
        outbox.deliver_due(0.05)
        assert db.session.scalars(db.select(OutboxMessage)).one().status == "FAILED"


def test_sessions_are_stored_server_side(bff_app, new_session):
    new_session()
    with bff_app.app_context():
        assert db.session.scalars(db.select(WidgetSession)).one().user["name"] == "Dra. Ruiz"


def test_a_subscribed_handler_acts_on_each_new_event_once_and_a_failing_one_has_osigu_send_it_again(
        bff_app, bff_url):
    heard, failing = [], {"now": True}

    def handler(data):
        if failing["now"]:
            raise RuntimeError("the queue is unreachable")
        heard.append(data["dispensation_id"])

    webhooks.subscribe(bff_app, "dispensing.completed", handler)
    body, headers = signed(EVENT)
    refused = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    assert refused.status_code == 500 and count(bff_app, WebhookEvent) == 0  # rolled back: Osigu retries
    failing["now"] = False
    for _ in range(2):
        requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10).raise_for_status()
    other_type, other_headers = signed(EVENT | {"type": "dispensing.cancelled"}, webhook_id="msg_2")
    requests.post(f"{bff_url}/v1/webhooks/osigu", data=other_type, headers=other_headers, timeout=10)
    assert heard == ["dsp_1"] and count(bff_app, WebhookEvent) == 2
