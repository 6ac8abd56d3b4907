"""A signed webhook is still checked by shape and size before it is stored: an id or a type longer than their
columns, or a body that is not an event, is a 4xx on every database (PostgreSQL refused them with a 500)."""

import json
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from bff.db import WebhookEvent, db
from tests.integration.conftest import OSIGU_WEBHOOK_SECRET


@pytest.fixture(params=["sqlite", "postgres"])
def bff_app(request, make_bff):
    if request.param == "sqlite":
        return make_bff()
    return make_bff(SQLALCHEMY_DATABASE_URI=request.getfixturevalue("postgres_database"))


def send(bff_url, payload, webhook_id="msg_1"):
    body, now = json.dumps(payload), datetime.now(UTC)
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(OSIGU_WEBHOOK_SECRET).sign(webhook_id, now, body),
               "Content-Type": "application/json"}
    return requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10)


EVENT = {"type": "dispensing.completed", "data": {"dispensation_id": "dsp_1"}}


@pytest.mark.parametrize("payload, webhook_id, status", [
    (EVENT, "m" * 101, 400),
    (EVENT | {"type": "t" * 81}, "msg_1", 422),
    ({"data": {}}, "msg_1", 422),
    ([None, None], "msg_1", 422),
    (EVENT | {"data": ["dsp_1"]}, "msg_1", 422),
    (EVENT | {"timestamp": {}}, "msg_1", 422),
])
def test_a_signed_webhook_of_the_wrong_shape_is_refused_and_not_stored(bff_app, bff_url, payload, webhook_id,
                                                                      status):
    answer = send(bff_url, payload, webhook_id)
    assert answer.status_code == status, answer.text
    assert answer.json()["error_code"].startswith("BFF-WEBHOOK")
    with bff_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 0
    assert send(bff_url, EVENT, "m" * 100).json() == {"status": "accepted"}
