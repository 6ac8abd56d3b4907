"""The backend-for-frontend: holds Osigu credentials, proxies the API and serves the widgets."""

import os

from flask import Flask

from . import config as settings
from . import outbox, pharmacy, preauth_decisions, redemption, retention
from .cds_hooks import bp as cds_hooks_bp
from .db import db, init_db
from .errors import register_error_handlers
from .health import bp as health_bp
from .i18n import init_i18n
from .logs import init_request_logging
from .openapi import bp as openapi_bp
from .origins import bp as origins_bp
from .proxies import init_proxies
from .proxy import bp as proxy_bp
from .rate_limits import init_rate_limits
from .security import init_security
from .sessions import bp as sessions_bp
from .smart import bp as smart_bp
from .webhooks import bp as webhooks_bp

DEFAULTS = {
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "UPSTREAM_TIMEOUT": (3.05, 15),
    "UPSTREAM_RETRY_BUDGET_SECONDS": 2.0,
    # Calls to Osigu in flight at once (all tenants, then one tenant), kept below the server's threads
    # (serve sets them from --threads); while slots turn over, a call waits this long for one at most.
    "UPSTREAM_CONCURRENCY": 6,
    "UPSTREAM_CONCURRENCY_PER_TENANT": 4,
    "UPSTREAM_QUEUE_SECONDS": 0.5,
    "OUTBOX_WORKER": True,
    "OUTBOX_INTERVAL_SECONDS": 0.5,
    "OUTBOX_BACKOFF_SECONDS": 2.0,
    "OUTBOX_DEADLINE_SECONDS": 20,  # a callback's whole exchange, however the host drips its answer
    "RETENTION_WORKER": True,
    "RETENTION_INTERVAL_SECONDS": 3600,
    "JSON_SORT_KEYS": False,
    "REDEMPTION_RESUME_ON_START": True,
    # A seam for crash tests: called with (step, redemption) after Osigu answered, before the answer is recorded.
    "REDEMPTION_AFTER_UPSTREAM_CALL": None,
}


def create_app(test_config=None):
    """Build the BFF from the environment; tests pass {"environ": {...}} and any config overrides."""
    # The widgets serve embed.js and static/ themselves; Flask's own static route would shadow them.
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "bff.sqlite3")
    test_config = dict(test_config or {})
    app.config.update(settings.from_environment(test_config.pop("environ", None)))
    app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    init_db(app)
    register_error_handlers(app)
    init_security(app)
    init_i18n(app)
    init_request_logging(app)
    init_rate_limits(app, sessions_bp, proxy_bp, cds_hooks_bp)
    init_proxies(app)
    for blueprint in (health_bp, sessions_bp, proxy_bp, webhooks_bp, origins_bp, cds_hooks_bp, smart_bp, openapi_bp):
        app.register_blueprint(blueprint)
    # Imported here, as Flask's tutorial does: the widgets build on the bff modules above.
    from widgets import init_widgets

    init_widgets(app)
    with app.app_context():
        db.create_all()
    redemption.init_app(app)
    preauth_decisions.init_app(app)
    pharmacy.init_app(app)
    if app.config["OUTBOX_WORKER"]:
        outbox.start_worker(app)
    if app.config["RETENTION_WORKER"]:
        retention.start_purger(app)
    return app
