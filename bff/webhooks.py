"""Osigu's webhooks in: verified first, stored once, passed on to the host apps they concern."""

import binascii
import logging

from flask import Blueprint, current_app, request
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from . import host_apps, outbox
from .bodies import request_json
from .db import SessionObject, WebhookEvent, WebhookObject, db
from .errors import ApiError

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

# Which fields of an event name an upstream object a host app may own (see bff/ownership.py).
OBJECT_FIELDS = ("dispensation_id", "prescription_id", "preauthorization_id", "authorization_id",
                 "authorization_code", "claim_id", "settlement_id")
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_ID_LENGTH = 100  # bff_session_object.upstream_id, and bff_webhook_event.id
MAX_TYPE_LENGTH = 80  # bff_webhook_event.event_type
MAX_TIMESTAMP_LENGTH = 40  # an ISO 8601 date-time, with room for fractions and an offset


def _verified_payload():
    secret = current_app.config["OSIGU_WEBHOOK_SECRET"]
    if not secret:
        raise ApiError(503, "BFF-WEBHOOKS-OFF", "Webhooks are not configured: set OSIGU_WEBHOOK_SECRET.")
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    if not all(headers.values()):
        raise ApiError(400, "BFF-WEBHOOK-HEADERS", "Missing Standard Webhooks headers.")
    if len(headers["webhook-id"]) > MAX_ID_LENGTH or not headers["webhook-id"].isprintable():
        raise ApiError(400, "BFF-WEBHOOK-HEADERS", f"webhook-id must be at most {MAX_ID_LENGTH} printable characters.")
    try:
        Webhook(secret).verify(request.get_data(), headers, json_parse=False)
    except WebhookVerificationError:
        raise ApiError(401, "BFF-WEBHOOK-SIGNATURE", "The webhook signature is invalid or too old.") from None
    except (ValueError, binascii.Error):  # a malformed signature header raises these, not the above
        raise ApiError(400, "BFF-WEBHOOK-HEADERS", "Malformed Standard Webhooks headers.") from None
    return _event(request_json())


def _event(payload):
    """An Osigu event: an object with its type (it fits the column) and, if any, its data an object and its
    timestamp a string."""
    timestamp = payload.get("timestamp", "") if isinstance(payload, dict) else None
    if not (isinstance(payload, dict) and isinstance(payload.get("type"), str)
            and 0 < len(payload["type"]) <= MAX_TYPE_LENGTH and isinstance(payload.get("data", {}), dict)
            and isinstance(timestamp, str) and len(timestamp) <= MAX_TIMESTAMP_LENGTH):
        raise ApiError(422, "BFF-WEBHOOK-BODY", f'Not an Osigu event: {{"type": "<at most {MAX_TYPE_LENGTH} '
                                                'characters>", "data": {...}}.')
    return payload


def object_ids(data):
    """The upstream objects an event's data names (ids of a sane size: nothing longer was ever bound)."""
    return sorted({data[field] for field in OBJECT_FIELDS
                   if isinstance(data.get(field), str) and 0 < len(data[field]) <= MAX_ID_LENGTH})


def concerned_host_apps(upstream_ids):
    """The host apps that own (through a widget session or the proxy) an object the event is about."""
    if not upstream_ids:
        return []
    return sorted(set(db.session.scalars(
        db.select(SessionObject.host_app_id).where(SessionObject.upstream_id.in_(upstream_ids)))))


def lock_objects(upstream_ids):
    """Order binding an object and receiving a webhook about it, so whichever commits second sees the other.

    Both write first and read second. SQLite has one writer at a time, which already orders them;
    PostgreSQL needs a lock per object, held until the transaction ends.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        for upstream_id in sorted(set(upstream_ids)):
            db.session.execute(db.text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": upstream_id})


def forward_missed(host_app_id, upstream_id):
    """Queue what a new binding is owed: the stored webhooks about its object (one may have come first)."""
    events = db.session.scalars(db.select(WebhookEvent).join(WebhookObject, WebhookObject.webhook_id == WebhookEvent.id)
                                .where(WebhookObject.upstream_id == upstream_id)).all()
    for event in events:
        forward(event, host_app_id)


def forward(event, host_app_id):
    """Owe a host app the callback for a stored webhook, once; the caller commits (the one place this happens)."""
    host_app = host_apps.by_id(host_app_id)
    if host_app is None or not host_app.callback_url:
        return  # nowhere to deliver it
    # Keyed by Osigu's webhook-id, the callback is owed once per host app however often it is re-matched.
    outbox.enqueue(host_app_id, f"osigu.{event.event_type}", _data(event.payload), key=event.id)


def subscribe(app, event_type, handler):
    """Run handler(data) for each new webhook of event_type, in the transaction that stores it.

    A handler that raises rolls the webhook back and answers 500, so Osigu sends it again: an event
    a part of the BFF must act on (a cancelled prescription, a decided authorization) is never dropped.
    """
    app.extensions.setdefault("webhooks.handlers", {}).setdefault(event_type, []).append(handler)


def _data(payload):
    return payload.get("data") if isinstance(payload, dict) and isinstance(payload.get("data"), dict) else {}


@bp.post("/v1/webhooks/osigu")
def receive():
    """Accept a webhook from Osigu: verify, store once (by webhook-id), queue the host callbacks, answer."""
    payload = _verified_payload()
    webhook_id = request.headers["webhook-id"]
    event_type = payload["type"]
    upstream_ids = object_ids(_data(payload))
    lock_objects(upstream_ids)
    event = WebhookEvent(id=webhook_id, event_type=event_type, payload=payload)
    db.session.add(event)
    db.session.add_all(WebhookObject(upstream_id=upstream_id, webhook_id=webhook_id) for upstream_id in upstream_ids)
    try:
        db.session.flush()  # written before the bindings are read: see lock_objects
    except IntegrityError:
        db.session.rollback()
        log.info("duplicate webhook %s ignored", webhook_id)
        return {"status": "duplicate"}, 200
    for host_app_id in concerned_host_apps(upstream_ids):
        forward(event, host_app_id)
    for handler in current_app.extensions.get("webhooks.handlers", {}).get(event_type, ()):
        handler(_data(payload))
    db.session.commit()
    return {"status": "accepted"}, 200
