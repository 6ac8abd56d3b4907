"""Host apps (tenants): who is calling, by API key, compared in constant time."""

import hmac
import threading

from flask import current_app, g, request

from .errors import ApiError
from .shared_tokens import shared_tokens
from .upstream import Bulkhead, UpstreamClient

_clients_lock = threading.Lock()


def all_host_apps():
    return current_app.config["HOST_APPS"]


def by_id(host_app_id):
    """Return the configured host app with this id, or None (it may have been removed since)."""
    return next((app for app in all_host_apps() if app.id == host_app_id), None)


def authenticate():
    """Return the host app whose API key is in 'Authorization: Bearer', or answer 401 (checked once a request)."""
    if "host_app" not in g:
        g.host_app = _by_api_key()
    return g.host_app


def _by_api_key():
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "BFF-401", "Send your host app API key: 'Authorization: Bearer <api_key>'.")
    key = key.strip().encode()
    found = None
    # Compare against every key, whatever matches, so timing tells nothing about which key is close.
    for app in all_host_apps():
        if hmac.compare_digest(app.api_key.encode(), key):
            found = app
    if found is None:
        raise ApiError(401, "BFF-401", "Unknown API key.")
    return found


def osigu_credentials(host_app, config):
    """(client_id, client_secret) a host app acts with in Osigu: its own, or else the BFF's."""
    if host_app and host_app.osigu_client_id:
        return host_app.osigu_client_id, host_app.osigu_client_secret
    return config["OSIGU_CLIENT_ID"], config["OSIGU_CLIENT_SECRET"]


def upstream_for(host_app):
    """The Osigu client for a host app's credentials (its own, or the BFF's), one per tenant per process.

    Each tenant's calls in flight are capped by its own bulkhead, and all tenants' together by one
    shared bulkhead smaller than the server's thread pool, so threads stay free whatever Osigu does.
    With BFF_REDIS_URL, the tenant's token is shared with (and fetched once for) every replica.
    """
    config = current_app.config
    client_id, secret = osigu_credentials(host_app, config)
    clients = current_app.extensions.setdefault("bff.upstream", {})
    if client_id in clients:
        return clients[client_id]
    with _clients_lock:
        if client_id not in clients:
            wait = config["UPSTREAM_QUEUE_SECONDS"]
            shared = current_app.extensions.setdefault("bff.upstream_bulkhead",
                                                       Bulkhead(config["UPSTREAM_CONCURRENCY"], wait))
            clients[client_id] = UpstreamClient(
                config["OSIGU_BASE_URL"], client_id, secret,
                timeout=config["UPSTREAM_TIMEOUT"], retry_budget=config["UPSTREAM_RETRY_BUDGET_SECONDS"],
                bulkhead=Bulkhead(config["UPSTREAM_CONCURRENCY_PER_TENANT"], wait, parent=shared),
                shared_tokens=shared_tokens(current_app))
    return clients[client_id]


def registered_origins():
    """Every origin some host app registered: the only pages a widget may be framed by."""
    return {origin for app in all_host_apps() for origin in app.origins}
