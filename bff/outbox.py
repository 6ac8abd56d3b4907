"""Callbacks to host apps: written to an outbox with the change they report, delivered until acknowledged.

Delivery is at least once: a crash after the host's 2xx but before it is recorded means one more
delivery with the same webhook-id, which the host uses to ignore it.
"""

import json
import logging
import threading
import uuid
from datetime import timedelta

import requests
from standardwebhooks.webhooks import Webhook

from . import host_apps
from .db import OutboxMessage, db, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 15
MAX_BACKOFF_SECONDS = 3600
LEASE_SECONDS = 60  # a worker that claimed a message and died releases it after this
DELIVERY_TIMEOUT = (3.05, 10)


def enqueue(host_app_id, event_type, data):
    """Owe the host app a callback; the caller commits it with the change it reports."""
    message = OutboxMessage(id=f"cb_{uuid.uuid4().hex}", host_app_id=host_app_id, event_type=event_type,
                            payload={"type": event_type, "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
                                     "data": data})
    db.session.add(message)
    return message


def _claim(message):
    """Take a lease on a due message so no other worker sends it at the same time."""
    claimed = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == "PENDING",
               OutboxMessage.next_attempt_at == message.next_attempt_at)
        .values(next_attempt_at=utcnow() + timedelta(seconds=LEASE_SECONDS))
    ).rowcount
    db.session.commit()
    return claimed == 1


def _send(message, host_app):
    body = json.dumps(message.payload, separators=(",", ":"))
    sent_at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "osigu-widgets-bff",
        "webhook-id": message.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(host_app.callback_secret).sign(message.id, sent_at, body),
    }
    response = requests.post(host_app.callback_url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
    if not response.ok:
        raise requests.HTTPError(f"callback answered {response.status_code}")


def deliver_due(backoff_seconds):
    """Deliver every due callback once; return how many were attempted."""
    due = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.status == "PENDING", OutboxMessage.next_attempt_at <= utcnow()
    ).order_by(OutboxMessage.created_at).limit(50)).all()
    attempted = 0
    for message in due:
        if not _claim(message):
            continue
        attempted += 1
        host_app = host_apps.by_id(message.host_app_id)
        message.attempts += 1
        try:
            if host_app is None or not host_app.callback_url:
                raise LookupError("the host app has no callback_url any more")
            _send(message, host_app)
            message.status, message.delivered_at, message.last_error = "DELIVERED", utcnow(), None
        except (requests.RequestException, LookupError) as error:
            message.last_error = str(error)[:500]
            if message.attempts >= MAX_ATTEMPTS or isinstance(error, LookupError):
                message.status = "FAILED"
                log.warning("callback %s to %s failed for good", message.id, message.host_app_id)
            else:
                delay = min(backoff_seconds * 2 ** (message.attempts - 1), MAX_BACKOFF_SECONDS)
                message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        db.session.commit()
    return attempted


def start_worker(app):
    """Deliver callbacks in a background thread until stop_worker(app)."""
    stopping = threading.Event()

    def run():
        while not stopping.wait(app.config["OUTBOX_INTERVAL_SECONDS"]):
            with app.app_context():
                try:
                    deliver_due(app.config["OUTBOX_BACKOFF_SECONDS"])
                except Exception:
                    log.exception("outbox round failed; retrying on the next one")
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=run, name="bff-outbox", daemon=True)
    app.extensions["bff.outbox"] = (stopping, thread)
    thread.start()


def stop_worker(app):
    """Stop the delivery thread and wait for its current round."""
    stopping, thread = app.extensions.pop("bff.outbox", (None, None))
    if stopping:
        stopping.set()
        thread.join()
