"""Callbacks to host apps: written to an outbox with the change they report, delivered until acknowledged.

Delivery is at least once: a crash after the host's 2xx but before it is recorded means one more
delivery with the same webhook-id, which the host uses to ignore it. Each host app has its own
delivery stream (oldest first, one at a time, on its own pooled connection), and the streams run in
parallel, so a slow host app delays only its own callbacks. A delivery is cut off at a deadline well
inside the lease that keeps other workers (other processes too) from sending the same callback.
"""

import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from standardwebhooks.webhooks import Webhook

from . import delivery, host_apps
from .db import OutboxMessage, db, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 15
MAX_BACKOFF_SECONDS = 3600
LEASE_SECONDS = 60  # a worker that claimed a message and died releases it after this
BATCH = 50  # callbacks one stream takes per round


def message_id(host_app_id, event_type, key):
    """The webhook-id of an event: the same event about the same object is one callback, however often it is owed."""
    digest = hashlib.sha256(json.dumps([host_app_id, event_type, key]).encode()).hexdigest()
    return f"cb_{digest[:32]}"


def enqueue(host_app_id, event_type, data, key):
    """Owe the host app a callback, once per event; the caller commits it with the change it reports."""
    # key names the event: the object it is about, or Osigu's webhook-id. Owing it again (a race, a
    # replay) inserts nothing.
    insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)
    identifier = message_id(host_app_id, event_type, key)
    db.session.execute(insert(OutboxMessage).values(
        id=identifier, host_app_id=host_app_id, event_type=event_type,
        payload={"type": event_type, "timestamp": utcnow().isoformat().replace("+00:00", "Z"), "data": data},
    ).on_conflict_do_nothing(index_elements=["id"]))
    return identifier


def _due_host_apps():
    return db.session.scalars(db.select(OutboxMessage.host_app_id).distinct().where(
        OutboxMessage.status == "PENDING", OutboxMessage.next_attempt_at <= utcnow())).all()


def _claim(message):
    """Take a lease on a due message so no other worker sends it meanwhile; return the lease, or None."""
    lease = utcnow() + timedelta(seconds=LEASE_SECONDS)
    claimed = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == "PENDING",
               OutboxMessage.next_attempt_at == message.next_attempt_at)
        .values(next_attempt_at=lease)
    ).rowcount
    db.session.commit()
    return lease if claimed == 1 else None


def _send(message, host_app):
    """Sign and POST one callback; raise delivery.DeliveryError unless the host acknowledged it."""
    body = json.dumps(message.payload, separators=(",", ":"))
    sent_at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "osigu-widgets-bff",
        "webhook-id": message.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(host_app.callback_secret).sign(message.id, sent_at, body),
    }
    sessions = current_app.extensions.setdefault("bff.callback_sessions", {})  # one per host app: its stream's
    if host_app.id not in sessions:
        sessions[host_app.id] = delivery.new_session()
    config = current_app.config
    delivery.post(sessions[host_app.id], host_app.callback_url, body, headers, config["OUTBOX_DEADLINE_SECONDS"],
                  config["CALLBACKS_PUBLIC_ONLY"])


def _record(message, lease, error, backoff_seconds, gone=False):
    """Write down one attempt's result, unless the lease was lost meanwhile (then its new holder does)."""
    attempts = message.attempts + 1
    if error is None:
        values = {"status": "DELIVERED", "delivered_at": utcnow(), "last_error": None}
        log.info("callback %s delivered", message.id, extra={"host_app": message.host_app_id})
    elif gone or attempts >= MAX_ATTEMPTS:
        values = {"status": "FAILED", "last_error": error[:500]}
        log.warning("callback %s failed for good", message.id, extra={"host_app": message.host_app_id})
    else:
        delay = min(backoff_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        values = {"next_attempt_at": utcnow() + timedelta(seconds=delay), "last_error": error[:500]}
        # The error stays in the outbox row: it may quote the callback URL, whose query string is not for logs.
        log.info("callback %s attempt %d failed; next in %g s", message.id, attempts, delay,
                 extra={"host_app": message.host_app_id})
    recorded = db.session.execute(db.update(OutboxMessage).where(
        OutboxMessage.id == message.id, OutboxMessage.next_attempt_at == lease,
    ).values(attempts=attempts, **values)).rowcount
    db.session.commit()
    if not recorded:
        log.warning("callback %s: the lease ran out before its attempt was recorded", message.id)


def deliver_host_app(host_app_id, backoff_seconds, stopping=None):
    """Deliver a host app's due callbacks, oldest first, one at a time, until stopping; return how many were tried."""
    # Plain rows, not ORM objects: nothing is lazily reloaded (holding a database connection) while the
    # host answers.
    due = db.session.execute(db.select(
        OutboxMessage.id, OutboxMessage.host_app_id, OutboxMessage.payload, OutboxMessage.attempts,
        OutboxMessage.next_attempt_at,
    ).where(OutboxMessage.host_app_id == host_app_id, OutboxMessage.status == "PENDING",
            OutboxMessage.next_attempt_at <= utcnow()).order_by(OutboxMessage.created_at).limit(BATCH)).all()
    db.session.commit()
    attempted = 0
    host_app = host_apps.by_id(host_app_id)
    for message in due:
        if stopping is not None and stopping.is_set():
            break  # the rest stay owed, for the next worker
        lease = _claim(message)
        if lease is None:
            continue  # another worker has it
        attempted += 1
        if host_app is None or not host_app.callback_url:
            _record(message, lease, "the host app has no callback_url any more", backoff_seconds, gone=True)
            continue
        try:
            _send(message, host_app)
        except delivery.DeliveryError as error:
            _record(message, lease, str(error), backoff_seconds)
        else:
            _record(message, lease, None, backoff_seconds)
    return attempted


def _stream(app, host_app_id, backoff_seconds, stopping=None):
    """Run one host app's delivery stream in its own thread and app context; return how many were attempted."""
    with app.app_context():
        try:
            return deliver_host_app(host_app_id, backoff_seconds, stopping)
        except Exception:
            log.exception("delivering %s's callbacks failed; retrying on the next round", host_app_id)
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def _pool(app):
    """Threads for the streams: one per host app with a callback URL, so none waits behind another."""
    streams = sum(1 for host_app in app.config["HOST_APPS"] if host_app.callback_url) + 1  # +1: removed host apps
    return ThreadPoolExecutor(min(streams, 32), thread_name_prefix="bff-outbox")


def deliver_due(backoff_seconds):
    """Deliver every due callback once, host apps in parallel; return how many were attempted."""
    app = current_app._get_current_object()
    due = _due_host_apps()
    with _pool(app) as pool:
        return sum(pool.map(lambda host_app_id: _stream(app, host_app_id, backoff_seconds), due))


def start_worker(app):
    """Deliver callbacks in background threads until stop_worker(app)."""
    if app.config["OUTBOX_DEADLINE_SECONDS"] * 2 > LEASE_SECONDS:
        raise ValueError(f"OUTBOX_DEADLINE_SECONDS must be at most {LEASE_SECONDS // 2}: a delivery must end well "
                         "inside its lease, or another worker sends the same callback meanwhile.")
    stopping = threading.Event()
    pool = _pool(app)
    running = set()  # host apps whose stream is under way: one stream each keeps their callbacks in order

    def run():
        while not stopping.wait(app.config["OUTBOX_INTERVAL_SECONDS"]):
            with app.app_context():
                try:
                    due = _due_host_apps()
                except Exception:
                    log.exception("outbox round failed; retrying on the next one")
                    continue
                finally:
                    db.session.remove()
            for host_app_id in set(due) - running:
                running.add(host_app_id)
                future = pool.submit(_stream, app, host_app_id, app.config["OUTBOX_BACKOFF_SECONDS"], stopping)
                future.add_done_callback(lambda _, host_app_id=host_app_id: running.discard(host_app_id))

    thread = threading.Thread(target=run, name="bff-outbox", daemon=True)
    app.extensions["bff.outbox"] = (stopping, thread, pool)
    thread.start()


def stop_worker(app):
    """Stop the delivery threads and wait for the deliveries under way (each ends by its deadline)."""
    stopping, thread, pool = app.extensions.pop("bff.outbox", (None, None, None))
    if stopping:
        stopping.set()
        thread.join()
        pool.shutdown(cancel_futures=True)
