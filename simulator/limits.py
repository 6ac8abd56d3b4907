"""Rate limits, keyed by OAuth client, with one limiter per app so apps never share counters."""

from flask_limiter import Limiter

from . import provider_products
from .oauth import rate_limit_key


def init_limits(app):
    """Apply the documented limits: seed 003 allows 50 provider-product requests a minute per client."""

    # Registered before the limiter so it runs after it: Flask-Limiter sets Retry-After on every
    # response, which would tell clients to back off from a plain 409 or 200.
    @app.after_request
    def _retry_after_only_when_limited(response):
        if response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(key_func=rate_limit_key, app=app, headers_enabled=True, storage_uri="memory://")
    limiter.limit(app.config["PROVIDER_PRODUCTS_RATE_LIMIT"])(provider_products.bp)
    return limiter
