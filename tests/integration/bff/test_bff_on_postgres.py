"""The BFF's storage on PostgreSQL: sessions, ownership, webhooks stored once, the callback outbox."""

import json
from datetime import UTC, datetime

import pytest
import requests
from flask import g
from standardwebhooks.webhooks import Webhook

from bff import outbox, ownership, sessions
from bff.db import OutboxMessage, SessionObject, WebhookEvent, db

OSIGU_WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="


@pytest.fixture
def bff_app(make_bff, postgres_database):
    app = make_bff(SQLALCHEMY_DATABASE_URI=postgres_database)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    return app


def test_the_bff_runs_on_postgres(bff_app, bff_url, new_session, callback_receiver):
    token, other_token = new_session("dispensing"), new_session("dispensing")
    with bff_app.test_request_context():
        g.widget_session = sessions.load_session(token, "dispensing")
        ownership.bind("dispensation", "dsp_pg")
        db.session.commit()
        ownership.bind("dispensation", "dsp_pg")  # a replayed request: already this session's
        g.widget_session = sessions.load_session(other_token, "dispensing")
        with pytest.raises(Exception, match="already belongs"):
            ownership.bind("dispensation", "dsp_pg")

    body = json.dumps({"type": "dispensing.completed", "data": {"dispensation_id": "dsp_pg"}})
    now = datetime.now(UTC)
    headers = {"webhook-id": "msg_pg", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(OSIGU_WEBHOOK_SECRET).sign("msg_pg", now, body)}
    statuses = [requests.post(f"{bff_url}/v1/webhooks/osigu", data=body, headers=headers, timeout=10).json()
                for _ in range(2)]
    assert statuses == [{"status": "accepted"}, {"status": "duplicate"}]

    with bff_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 1
        assert outbox.deliver_due(0.05) == 1
        assert db.session.scalars(db.select(OutboxMessage)).one().status == "DELIVERED"
    _, payload = callback_receiver.received.get(timeout=10)
    assert payload["data"]["dispensation_id"] == "dsp_pg"


def test_an_object_created_through_the_proxy_is_bound_on_postgres(bff_app, host):
    created = host.post("/v1/osigu/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]})
    assert created.status_code == 201, created.text
    assert host.get(f"/v1/osigu/ehr/v1/prescriptions/{created.json()['prescription_id']}").status_code == 200
    with bff_app.app_context():
        binding = db.session.scalars(db.select(SessionObject)).one()
    assert (binding.host_app_id, binding.session_id) == ("his-a", None)  # no widget session: the host app's own


def test_a_webhook_naming_an_oversized_id_is_stored_not_a_500(bff_app, send_webhook):
    assert send_webhook("msg_long", "dispensing.completed", {"dispensation_id": "d" * 500}) == {"status": "accepted"}
    with bff_app.app_context():
        assert db.session.get(WebhookEvent, "msg_long") is not None
