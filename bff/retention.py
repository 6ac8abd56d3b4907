"""Storage that does not only grow: what the BFF deletes after BFF_RETENTION_DAYS, and what it keeps.

Deleted once older than the retention: widget sessions that expired (with the rows widget packages
registered as theirs, such as drafts), callbacks delivered or failed for good, received webhooks
(with the objects they named), and coverage assertions (bff/coverage.py) that no unexpired widget
session names in its context: a preauth opened from one still reads the EHR's orders kept with it.
The CDS Hooks tokens spent (bff/cds_replay.py) go as soon as they expire, whatever the retention.
Records with a lifetime of their own (a patient's consent) are deleted when it ends, whatever
BFF_RETENTION_DAYS says (register_expiring). Kept for good: the bindings
in bff_session_object, the proof of which host app owns which upstream object, which the proxy and
the webhook routing read for as long as the object exists at Osigu (about 150 bytes each).
"""

import logging
import threading
from datetime import timedelta

from flask import current_app

from .cds_replay import SpentToken
from .coverage import CoverageAssertion
from .db import OutboxMessage, WebhookEvent, WebhookObject, WidgetSession, db, utcnow

log = logging.getLogger(__name__)

BATCH = 1000  # rows per transaction: a purge never holds the database for long
FINISHED_CALLBACKS = ("DELIVERED", "FAILED")


def register(app, model, column):
    """Delete model's rows whose column names a flow (a draft's sessions) when the flow's last session is purged."""
    app.extensions.setdefault("bff.retention", []).append((model, column))


def register_expiring(app, name, model, column, days):
    """Delete model's rows once their column (a moment) is more than days old: a lifetime of their own."""
    app.extensions.setdefault("bff.retention.expiring", []).append((name, model, column, days))


def purge(days=None, now=None):
    """Delete everything older than the retention (BFF_RETENTION_DAYS); return how many rows, by table."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days or current_app.config["RETENTION_DAYS"])
    owned_by_flow = current_app.extensions.get("bff.retention", [])
    deleted = {"sessions": 0, "callbacks": 0, "webhooks": 0, "coverage_assertions": 0, "spent_cds_tokens": 0}
    while ids := _batch(WidgetSession.id, WidgetSession.expires_at < cutoff):
        flows = set(db.session.scalars(db.select(WidgetSession.flow_id).where(WidgetSession.id.in_(ids))))
        db.session.execute(db.delete(WidgetSession).where(WidgetSession.id.in_(ids)))
        # A renewed session carries its flow on: its draft goes only with the flow's last session.
        still_open = db.session.scalars(db.select(WidgetSession.flow_id).where(WidgetSession.flow_id.in_(flows)))
        ended = flows - set(still_open)
        for model, column in owned_by_flow:
            db.session.execute(db.delete(model).where(getattr(model, column).in_(ended)))
        deleted["sessions"] += _delete(WidgetSession, WidgetSession.id, ids)
    while ids := _batch(OutboxMessage.id, OutboxMessage.status.in_(FINISHED_CALLBACKS),
                        OutboxMessage.created_at < cutoff):
        deleted["callbacks"] += _delete(OutboxMessage, OutboxMessage.id, ids)
    while ids := _batch(WebhookEvent.id, WebhookEvent.received_at < cutoff):
        db.session.execute(db.delete(WebhookObject).where(WebhookObject.webhook_id.in_(ids)))
        deleted["webhooks"] += _delete(WebhookEvent, WebhookEvent.id, ids)
    named = WidgetSession.context["coverage_assertion_id"].as_string()
    in_use = db.select(named).where(WidgetSession.expires_at >= now, named.is_not(None))
    while ids := _batch(CoverageAssertion.id, CoverageAssertion.created_at < cutoff,
                        CoverageAssertion.id.not_in(in_use)):
        deleted["coverage_assertions"] += _delete(CoverageAssertion, CoverageAssertion.id, ids)
    while ids := _batch(SpentToken.id, SpentToken.expires_at < now):  # an expired token is refused anyway
        deleted["spent_cds_tokens"] += _delete(SpentToken, SpentToken.id, ids)
    for name, model, column, lifetime in current_app.extensions.get("bff.retention.expiring", []):
        ended = getattr(model, column) < now - timedelta(days=lifetime)
        deleted[name] = 0
        while ids := _batch(model.id, ended):
            deleted[name] += _delete(model, model.id, ids)
    return deleted


def _batch(key, *conditions):
    return db.session.scalars(db.select(key).where(*conditions).limit(BATCH)).all()


def _delete(model, key, ids):
    db.session.execute(db.delete(model).where(key.in_(ids)))
    db.session.commit()
    return len(ids)


def start_purger(app):
    """Purge every RETENTION_INTERVAL_SECONDS in a background thread until stop_purger(app)."""
    stopping = threading.Event()

    def run():
        while not stopping.wait(app.config["RETENTION_INTERVAL_SECONDS"]):
            with app.app_context():
                try:
                    deleted = purge()
                    if any(deleted.values()):
                        log.info("purged %s", deleted)
                except Exception:
                    log.exception("purge failed; retrying on the next round")
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=run, name="bff-retention", daemon=True)
    app.extensions["bff.retention.purger"] = (stopping, thread)
    thread.start()


def stop_purger(app):
    """Stop the purge thread and wait for its current round."""
    stopping, thread = app.extensions.pop("bff.retention.purger", (None, None))
    if stopping:
        stopping.set()
        thread.join()
