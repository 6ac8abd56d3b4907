"""Per-host-app rate limits on minting widget sessions and on the proxy: one host app cannot take the BFF.

Counted in this process's memory (Flask-Limiter), keyed by the host app the API key names; a
limited request is a 429 in the one error shape, with Retry-After.
"""

import math
import time

from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many

from . import host_apps
from .config import ConfigError
from .errors import error_response

SETTINGS = {"RATE_LIMIT_SESSIONS": "BFF_RATE_LIMIT_SESSIONS", "RATE_LIMIT_PROXY": "BFF_RATE_LIMIT_PROXY"}


def _host_app_key():
    """The calling host app (an unknown key is answered 401 before it counts against anyone)."""
    return f"host-app:{host_apps.authenticate().id}"


def init_rate_limits(app, sessions_bp, proxy_bp):
    """Limit session minting and the proxy per host app, as configured; one limiter per app, never shared."""
    for name, variable in SETTINGS.items():
        try:
            parse_many(app.config[name])
        except ValueError:
            raise ConfigError(f"{variable} must be a rate limit such as '600/minute' or '20/second;600/minute'; "
                              f"got {app.config[name]!r}.") from None
    limiter = Limiter(key_func=_host_app_key, app=app, storage_uri="memory://", strategy="moving-window")
    limiter.limit(lambda: app.config["RATE_LIMIT_SESSIONS"])(sessions_bp)
    limiter.limit(lambda: app.config["RATE_LIMIT_PROXY"])(proxy_bp)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error):
        reset_at = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
        retry_after = max(1, math.ceil(reset_at - time.time()))
        message = f"Too many requests from this host app ({error.description}); try again in {retry_after} s."
        response = error_response(429, "BFF-RATE-LIMITED", message, retryable=True)
        response.headers["Retry-After"] = str(retry_after)
        return response

    return limiter
