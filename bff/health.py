"""Liveness and readiness for load balancers and orchestrators."""

import time

import redis
from flask import Blueprint, current_app

from . import host_apps
from .db import db

bp = Blueprint("health", __name__)
READY_CACHE_SECONDS = 5  # a readiness probe every second must not become an Osigu call every second
PROBE_TIMEOUT = (1, 2)  # (connect, read) seconds
REDIS_PROBE_SECONDS = 1


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


def _check_redis():
    """A PING with its own short timeouts (the token cache's client waits longer, to serve a request)."""
    client = current_app.extensions.get("bff.redis_probe")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=REDIS_PROBE_SECONDS,
                                      socket_timeout=REDIS_PROBE_SECONDS)
        current_app.extensions["bff.redis_probe"] = client
    client.ping()
    return "ok"


def _checks():
    """The dependencies this deployment has: Redis only when BFF_REDIS_URL is set."""
    checks = [("database", _check_database), ("upstream", _check_upstream)]
    return checks + [("redis", _check_redis)] if current_app.config.get("REDIS_URL") else checks


@bp.get("/readyz")
def readyz():
    """The database, Osigu with our credentials and Redis if configured all answer (cached for a few seconds)."""
    cached = current_app.extensions.get("bff.ready")
    if cached and time.monotonic() - cached[0] < current_app.config.get("READY_CACHE_SECONDS", READY_CACHE_SECONDS):
        return cached[1]
    checks = {}
    for name, check in _checks():
        try:
            checks[name] = check()
        except Exception as error:  # readiness reports any failure as "not ready", naming its kind
            checks[name] = f"failing: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    result = ({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)
    current_app.extensions["bff.ready"] = (time.monotonic(), result)
    return result
