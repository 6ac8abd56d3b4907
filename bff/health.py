"""Liveness and readiness for load balancers and orchestrators."""

import time

from flask import Blueprint, current_app

from . import host_apps
from .db import db

bp = Blueprint("health", __name__)
READY_CACHE_SECONDS = 5  # a readiness probe every second must not become an Osigu call every second
PROBE_TIMEOUT = (1, 2)  # (connect, read) seconds


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


def _check_database():
    db.session.execute(db.text("SELECT 1"))
    return "ok"


def _check_upstream():
    """One quick call, never retried: a probe must answer fast whatever Osigu does."""
    client = host_apps.upstream_for(host_apps.all_host_apps()[0])
    client.request("GET", "/medical-catalogs/v1/diagnoses", params={"query": "R51", "page_size": 1},
                   timeout=PROBE_TIMEOUT, retry_budget=0)
    return "ok"


@bp.get("/readyz")
def readyz():
    """The database answers and Osigu answers with our credentials (cached for a few seconds)."""
    cached = current_app.extensions.get("bff.ready")
    if cached and time.monotonic() - cached[0] < READY_CACHE_SECONDS:
        return cached[1]
    checks = {}
    for name, check in (("database", _check_database), ("upstream", _check_upstream)):
        try:
            checks[name] = check()
        except Exception as error:  # readiness reports any failure as "not ready", naming its kind
            checks[name] = f"failing: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    result = ({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)
    current_app.extensions["bff.ready"] = (time.monotonic(), result)
    return result
