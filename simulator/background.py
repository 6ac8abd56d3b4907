"""The simulator's clock: timeouts, pending decisions, settlement steps and webhook deliveries, in one thread."""

import logging
import threading

from .authorizations import settle_due
from .db import db
from .dispensing import expire_stale
from .settlements import advance_due
from .webhooks import deliver_due

log = logging.getLogger(__name__)


def tick(app):
    """Do one round of time-driven work."""
    with app.app_context():
        try:
            expire_stale()
            settle_due()
            advance_due()
            deliver_due()
        except Exception:
            log.exception("background tick failed; retrying on the next one")
            db.session.rollback()
        finally:
            db.session.remove()


def start(app):
    """Run tick every BACKGROUND_INTERVAL_SECONDS until stop(app)."""
    stopping = threading.Event()
    interval = app.config["BACKGROUND_INTERVAL_SECONDS"]

    def run():
        while not stopping.wait(interval):
            tick(app)

    thread = threading.Thread(target=run, name="simulator-background", daemon=True)
    app.extensions["simulator.background"] = (stopping, thread)
    thread.start()


def stop(app):
    """Stop the background thread and wait for its current round to finish."""
    stopping, thread = app.extensions.pop("simulator.background", (None, None))
    if stopping:
        stopping.set()
        thread.join()
