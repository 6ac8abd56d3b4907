"""Request bodies are parsed in one place: absurdly nested JSON is a 400 in the one error shape, never a 500."""

from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from bff.bodies import MAX_DEPTH
from bff.db import WebhookEvent, db

# The secret the test BFF is configured with (tests/integration/bff/conftest.py).
OSIGU_WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="

SESSION = {"widget": "prescription", "origin": "http://127.0.0.1:9001",
           "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}}


def nested(depth):
    """A JSON text whose arrays nest depth levels."""
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH, 100_000])  # just over the limit; past Python's recursion limit
def test_a_deeply_nested_session_request_is_400(host, depth):
    body = '{"widget": "prescription", "context": {"notes": ' + nested(depth) + "}}"
    response = host.post("/v1/widget-sessions", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error_code": "BFF-JSON-DEPTH",
                               "message": f"The JSON body nests deeper than {MAX_DEPTH} levels."}


def test_nesting_within_the_limit_is_read_as_usual(host):
    context = {"medications": [{"product_code": "MED-042",
                                "posology": {"dose": 1, "unit": "tablet", "every_hours": 8, "duration_days": 3}}]}
    response = host.post("/v1/widget-sessions", json=SESSION | {"context": context})
    assert response.status_code == 201


@pytest.mark.parametrize("depth", [MAX_DEPTH, 100_000])
def test_a_deeply_nested_signed_webhook_is_400_and_not_stored(bff_url, bff_app, depth):
    body = '{"type": "dispensing.completed", "data": {"items": ' + nested(depth) + "}}"
    when = datetime.now(UTC)
    headers = {"webhook-id": "msg_deep", "webhook-timestamp": str(int(when.timestamp())),
               "webhook-signature": Webhook(OSIGU_WEBHOOK_SECRET).sign("msg_deep", when, body)}
    response = requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["error_code"] == "BFF-JSON-DEPTH"
    with bff_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 0
