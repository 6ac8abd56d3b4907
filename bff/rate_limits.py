"""Per-host-app rate limits on minting widget sessions, the proxy and coverage checks, and per-EHR limits on CDS
Hooks calls: one host app cannot take the BFF.

Flask-Limiter, keyed by the host app the API key names, with fixed windows counted in this process's
memory, or in Redis when BFF_REDIS_URL is set, so the limits hold across replicas; a limited request
is a 429 in the one error shape, with Retry-After.
"""

import threading
import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from limits.storage import Storage

from . import cds_hooks, host_apps
from .config import ConfigError
from .errors import ApiError, error_response

SETTINGS = {"RATE_LIMIT_SESSIONS": "BFF_RATE_LIMIT_SESSIONS", "RATE_LIMIT_PROXY": "BFF_RATE_LIMIT_PROXY",
            "RATE_LIMIT_COVERAGE": "BFF_RATE_LIMIT_COVERAGE"}


class ProcessCounters(Storage):
    """Fixed-window counters in this process's memory, each dropped when read after its window.

    limits' own memory storage starts a thread to sweep expired entries on every hit after a quiet
    10 ms: about 0.35 ms of CPU per request at an ordinary pace. One counter per host app and limit
    needs no sweeping.
    """

    STORAGE_SCHEME = ["bff-process"]

    def __init__(self, uri=None, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._counters = {}  # key -> [count, window end (epoch seconds)]

    @property
    def base_exceptions(self):
        return ValueError

    def _counter(self, key):
        counter = self._counters.get(key)
        if counter and counter[1] <= time.time():
            del self._counters[key]
            counter = None
        return counter

    def incr(self, key, expiry, amount=1):
        with self._lock:
            counter = self._counter(key) or self._counters.setdefault(key, [0, time.time() + expiry])
            counter[0] += amount
            return counter[0]

    def get(self, key):
        with self._lock:
            return (self._counter(key) or [0])[0]

    def get_expiry(self, key):
        with self._lock:
            return (self._counter(key) or [0, time.time()])[1]

    def check(self):
        return True

    def reset(self):
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
            return cleared

    def clear(self, key):
        with self._lock:
            self._counters.pop(key, None)


def _host_app_key():
    """The calling host app (an unknown key is answered 401 before it counts against anyone)."""
    return f"host-app:{host_apps.authenticate().id}"


def _coverage_key():
    """Who asks for a coverage answer: the host app (its API key), or the EHR issuer a CDS Hooks JWT names."""
    if request.endpoint != "cds_hooks.call":
        return _host_app_key()
    try:
        return f"cds-issuer:{cds_hooks.claimed_issuer()[1]}"
    except ApiError:
        return "cds-issuer:none"  # refused with 401 by the view, which never counts


def _accepted(response):
    """Count a call its caller was recognised for: a forged CDS Hooks JWT naming an EHR uses up nothing of its
    allowance (an unknown API key is refused before anything counts)."""
    return response.status_code != 401


def init_rate_limits(app, sessions_bp, proxy_bp, cds_hooks_bp):
    """Limit session minting, the proxy and coverage checks per host app, and CDS Hooks calls per EHR issuer, as
    configured; one limiter per app, never shared."""
    for name, variable in SETTINGS.items():
        try:
            parse_many(app.config[name])
        except ValueError:
            raise ConfigError(f"{variable} must be a rate limit such as '600/minute' or '20/second;600/minute'; "
                              f"got {app.config[name]!r}.") from None
    storage = app.config.get("REDIS_URL") or "bff-process://"
    # swallow_errors: when Redis cannot be reached, requests go through unlimited rather than failing.
    limiter = Limiter(key_func=_host_app_key, app=app, storage_uri=storage, strategy="fixed-window",
                      key_prefix="bff-rate", swallow_errors=True)

    @limiter.request_filter
    def unauthenticated():
        """A request without a known API key counts against no one: its view answers 401 (else the key function
        would raise inside the limiter, which logs it as an error with its traceback). CDS Hooks calls carry no API
        key: they count against the EHR issuer their JWT names (_coverage_key)."""
        if request.endpoint == "cds_hooks.call":
            return False
        try:
            host_apps.authenticate()
        except ApiError:
            return True
        return False

    limiter.limit(lambda: app.config["RATE_LIMIT_SESSIONS"])(sessions_bp)
    limiter.limit(lambda: app.config["RATE_LIMIT_PROXY"])(proxy_bp)
    # Each answer costs Osigu a call per product: POST /v1/coverage-check per host app, hooks per EHR issuer.
    limiter.limit(lambda: app.config["RATE_LIMIT_COVERAGE"], key_func=_coverage_key, deduct_when=_accepted,
                  exempt_when=lambda: request.endpoint == "cds_hooks.discovery")(cds_hooks_bp)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error):
        reset_at = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
        retry_after = max(1, int(reset_at - time.time()))
        message = f"Too many requests from this host app ({error.description}); try again in {retry_after} s."
        response = error_response(429, "BFF-RATE-LIMITED", message, retryable=True)
        response.headers["Retry-After"] = str(retry_after)
        return response

    return limiter
