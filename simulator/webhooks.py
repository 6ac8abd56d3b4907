"""Webhooks to providers, signed per Standard Webhooks and retried with backoff until a 2xx."""

import base64
import json
import logging
import secrets
from datetime import timedelta

import requests
from flask import current_app
from standardwebhooks.webhooks import Webhook

from .db import aware, db, isoformat, new_id, utcnow
from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# How long a receiver gets to answer, and how the retries spread out (seconds, doubled each time).
DELIVERY_TIMEOUT = 5
MAX_ATTEMPTS = 12
MAX_BACKOFF = 3600
EVENT_TYPES = ("dispensing.completed", "dispensing.cancelled", "prescription.issued", "prescription.dispensed",
               "prescription.cancelled", "authorization.decided", "authorization.voided", "claim.created",
               "settlement.status_changed")


def new_secret():
    """Make a Standard Webhooks secret (whsec_ + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def endpoint_for(provider_id):
    """Return where provider_id's webhooks go: its own endpoint, else the configured default."""
    own = db.session.scalar(db.select(WebhookEndpoint).filter_by(provider_id=provider_id))
    return own or db.session.scalar(db.select(WebhookEndpoint).filter_by(provider_id=None))


def set_default_endpoint(url, secret):
    """Point every provider without its own endpoint at url, signing with secret.

    The row is updated in place: past deliveries reference it (and keep the URL they went to).
    """
    endpoint = db.session.scalar(db.select(WebhookEndpoint).filter_by(provider_id=None))
    if endpoint is None:
        endpoint = WebhookEndpoint(provider_id=None)
        db.session.add(endpoint)
    endpoint.url, endpoint.secret = url, secret
    db.session.commit()


def emit(event_type, provider, data):
    """Queue an event for the provider's webhook endpoint; the caller commits with its state change."""
    endpoint = endpoint_for(provider.id)
    if endpoint is None:
        return None
    delivery_id = new_id("msg")
    payload = {"type": event_type, "timestamp": isoformat(utcnow()), "data": data | {"provider_slug": provider.slug}}
    delivery = WebhookDelivery(id=delivery_id, event_type=event_type, payload=payload, endpoint=endpoint,
                               url=endpoint.url)
    db.session.add(delivery)
    return delivery


def _backoff(attempts):
    base = current_app.config["WEBHOOK_BACKOFF_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), MAX_BACKOFF))


def _attempt(delivery):
    """POST one signed delivery and record the outcome."""
    body = json.dumps(delivery.payload, separators=(",", ":"))
    sent_at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "osigu-simulator-webhooks",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(delivery.endpoint.secret).sign(delivery.id, sent_at, body),
    }
    delivery.attempts += 1
    delivery.url = delivery.endpoint.url
    try:
        response = requests.post(delivery.url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
        delivery.last_response_status = response.status_code
        delivery.last_error = None if response.ok else response.text[:500]
        succeeded = response.ok
    except requests.RequestException as error:
        delivery.last_error = str(error)[:500]
        succeeded = False
    if succeeded:
        delivery.status, delivery.delivered_at = "DELIVERED", utcnow()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "FAILED"
        log.warning("webhook %s gave up after %s attempts", delivery.id, delivery.attempts)
    else:
        delivery.next_attempt_at = utcnow() + _backoff(delivery.attempts)


def deliver_due():
    """Try every delivery whose time has come; return how many were attempted."""
    due = db.session.scalars(
        db.select(WebhookDelivery)
        .where(WebhookDelivery.status == "PENDING", WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.created_at)
        .limit(50)
    ).all()
    for delivery in due:
        _attempt(delivery)
        db.session.commit()
    return len(due)


def delivery_json(delivery):
    """Serialise a delivery for the sandbox's webhook log."""
    return {
        "webhook_id": delivery.id,
        "type": delivery.event_type,
        "url": delivery.url,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_response_status": delivery.last_response_status,
        "next_attempt_at": isoformat(aware(delivery.next_attempt_at)) if delivery.status == "PENDING" else None,
        "delivered_at": isoformat(delivery.delivered_at),
        "payload": delivery.payload,
    }
