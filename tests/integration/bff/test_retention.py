"""Retention: what is older than BFF_RETENTION_DAYS is purged on a schedule; who owns what is kept."""

import os
import subprocess
import sys
from datetime import timedelta

import requests
from flask import g

from bff import outbox, ownership, sessions
from bff.db import (
    OutboxMessage,
    SessionObject,
    WebhookEvent,
    WebhookObject,
    WidgetSession,
    db,
    utcnow,
)
from widgets.prescription.draft import PrescriptionDraft

CLI = [sys.executable, "-m", "bff.cli", "purge"]
OLD = timedelta(days=31)  # just past the default retention of 30 days


def open_draft(bff_url, token):
    """Open the prescription widget once, which gives the session its draft."""
    response = requests.get(f"{bff_url}/widgets/prescription/resume", timeout=10, headers={
        "HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": "http://127.0.0.1:9001"})
    assert response.status_code == 200


def rows(app, *columns):
    with app.app_context():
        return sorted(tuple(row) for row in db.session.execute(db.select(*columns)))


def test_the_purger_deletes_what_the_retention_no_longer_keeps_and_keeps_ownership(
        bff_app, bff_url, make_bff, new_session, send_webhook, eventually):
    old, recent = new_session(), new_session()
    for token in (old, recent):
        open_draft(bff_url, token)
    with bff_app.test_request_context():
        old_id, old_flow = (lambda session: (session.id, session.flow_id))(sessions.load_session(old, "prescription"))
        for token, dispensation in ((old, "dsp_old"), (recent, "dsp_new")):
            g.widget_session = sessions.load_session(token, "prescription")
            ownership.bind("dispensation", dispensation)
            db.session.commit()
    send_webhook("msg_old", "dispensing.completed", {"dispensation_id": "dsp_old"})
    send_webhook("msg_new", "dispensing.completed", {"dispensation_id": "dsp_new"})
    with bff_app.app_context():
        assert outbox.deliver_due(0.05) == 2
        owed_id = outbox.enqueue("his-a", "widget.prescription.issued", {"prescription_id": "rx_owed"}, key="rx_owed")
        db.session.commit()
        # A month passes for the first of everything.
        db.session.execute(db.update(WidgetSession).where(WidgetSession.id == old_id)
                           .values(expires_at=utcnow() - OLD))
        db.session.execute(db.update(WebhookEvent).where(WebhookEvent.id == "msg_old")
                           .values(received_at=utcnow() - OLD))
        db.session.execute(db.update(OutboxMessage).where(OutboxMessage.payload["data"]["dispensation_id"]
                                                          .as_string() == "dsp_old").values(created_at=utcnow() - OLD))
        db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == owed_id)
                           .values(created_at=utcnow() - OLD))
        db.session.commit()
    owned_before = rows(bff_app, SessionObject.upstream_id, SessionObject.host_app_id)
    assert len(rows(bff_app, PrescriptionDraft.flow_id)) == 2

    make_bff(RETENTION_WORKER=True, RETENTION_INTERVAL_SECONDS=0.05)  # another BFF process, purging on schedule

    eventually(lambda: rows(bff_app, WebhookEvent.id) == [("msg_new",)])
    eventually(lambda: len(rows(bff_app, WidgetSession.id)) == 1)
    assert (old_id,) not in rows(bff_app, WidgetSession.id)
    assert len(rows(bff_app, PrescriptionDraft.flow_id)) == 1
    assert (old_flow,) not in rows(bff_app, PrescriptionDraft.flow_id)
    assert {webhook_id for (webhook_id, _) in rows(bff_app, WebhookObject.webhook_id, WebhookObject.upstream_id)} \
        == {"msg_new"}
    callbacks = rows(bff_app, OutboxMessage.id, OutboxMessage.status)
    assert len(callbacks) == 2 and (owed_id, "PENDING") in callbacks  # an owed callback is never dropped
    kept = outbox.message_id("his-a", "osigu.dispensing.completed", "msg_new")
    assert (kept, "DELIVERED") in callbacks  # the recent webhook's callback stays with it
    assert rows(bff_app, SessionObject.upstream_id, SessionObject.host_app_id) == owned_before  # ownership stays


def test_the_purge_command_purges_now_and_says_how_much(tmp_path, bff_app, new_session):
    new_session()
    with bff_app.app_context():
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    environ = {"OSIGU_ENV": "local", "BFF_DATABASE_URL": bff_app.config["SQLALCHEMY_DATABASE_URI"],
               "BFF_RETENTION_DAYS": "10"}
    kept = subprocess.run(CLI, env=os.environ | environ, capture_output=True, text=True, timeout=60, check=True)
    assert "older than 10 days: 0 widget sessions" in kept.stdout
    purged = subprocess.run([*CLI, "--days", "7"], env=os.environ | environ, capture_output=True, text=True,
                            timeout=60, check=True)
    assert ("older than 7 days: 1 widget sessions, 0 callbacks, 0 webhooks, 0 coverage assertions, "
            "0 expired consents") in purged.stdout
    assert rows(bff_app, WidgetSession.id) == []
