"""Osigu's webhooks in: verified first, stored once, passed on to the host apps they concern."""

import binascii
import logging

from flask import Blueprint, current_app, request
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from . import outbox
from .bodies import request_json
from .db import SessionObject, WebhookEvent, db
from .errors import ApiError

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

# Which fields of an event name an upstream object a widget session may own.
OBJECT_FIELDS = ("dispensation_id", "prescription_id", "preauthorization_id", "authorization_id")
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _verified_payload():
    secret = current_app.config["OSIGU_WEBHOOK_SECRET"]
    if not secret:
        raise ApiError(503, "BFF-WEBHOOKS-OFF", "Webhooks are not configured: set OSIGU_WEBHOOK_SECRET.")
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    if not all(headers.values()):
        raise ApiError(400, "BFF-WEBHOOK-HEADERS", "Missing Standard Webhooks headers.")
    try:
        Webhook(secret).verify(request.get_data(), headers, json_parse=False)
    except WebhookVerificationError:
        raise ApiError(401, "BFF-WEBHOOK-SIGNATURE", "The webhook signature is invalid or too old.") from None
    except (ValueError, binascii.Error):  # a malformed signature header raises these, not the above
        raise ApiError(400, "BFF-WEBHOOK-HEADERS", "Malformed Standard Webhooks headers.") from None
    return request_json()


def concerned_host_apps(data):
    """The host apps whose widget sessions own an object the event is about."""
    ids = [data[field] for field in OBJECT_FIELDS if isinstance(data.get(field), str)]
    if not ids:
        return []
    return sorted(set(db.session.scalars(
        db.select(SessionObject.host_app_id).where(SessionObject.upstream_id.in_(ids)))))


@bp.post("/v1/webhooks/osigu")
def receive():
    """Accept a webhook from Osigu: verify, store once (by webhook-id), queue the host callbacks, answer."""
    payload = _verified_payload()
    webhook_id = request.headers["webhook-id"]
    event_type = payload.get("type", "") if isinstance(payload, dict) else ""
    data = payload.get("data") if isinstance(payload, dict) and isinstance(payload.get("data"), dict) else {}
    concerned = concerned_host_apps(data)  # before adding: a duplicate must fail at commit, not in this query
    try:
        db.session.add(WebhookEvent(id=webhook_id, event_type=event_type, payload=payload))
        for host_app_id in concerned:  # enqueue flushes: a duplicate may fail here already
            outbox.enqueue(host_app_id, f"osigu.{event_type}", data, key=webhook_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("duplicate webhook %s ignored", webhook_id)
        return {"status": "duplicate"}, 200
    return {"status": "accepted"}, 200
