"""A faithful local stand-in for Osigu's API: the demo's and the tests' upstream."""

import functools
import os
import secrets

import yaml
from flask import Flask, request

from . import background, storage
from .authorizations import bp as authorizations_bp
from .catalogs import bp as catalogs_bp
from .claims import bp as claims_bp
from .db import init_db
from .dispensing import bp as dispensing_bp
from .errors import register_error_handlers
from .faults import bp as faults_bp
from .faults import init_faults
from .limits import init_limits
from .oauth import init_oauth
from .patients import bp as patients_bp
from .preauthorizations import bp as preauthorizations_bp
from .prescriptions import bp as prescriptions_bp
from .provider_products import bp as provider_products_bp
from .sandbox import bp as sandbox_bp
from .settlements import bp as settlements_bp
from .sponsors import bp as sponsors_bp

DEFAULTS = {
    # Signs the PDF download links; set SIM_SECRET_KEY to keep links valid across restarts.
    "SECRET_KEY": None,
    # Support documents go up to 5 MiB; multipart adds a little on top.
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "SUPPORT_DOCUMENT_MAX_BYTES": 5 * 1024 * 1024,
    "DISPENSATION_TIMEOUT_SECONDS": 30 * 60,
    "OTP_TTL_SECONDS": 5 * 60,
    "BIOMETRIC_DECISION_SECONDS": 2.0,
    "BIOMETRIC_MAX_BYTES": 256 * 1024,
    "PDF_LINK_TTL_SECONDS": 60 * 60,
    "PROVIDER_PRODUCTS_RATE_LIMIT": "50/minute",
    "PREAUTH_REVIEW_SECONDS": 60.0,
    "AUTHORIZATION_VALIDITY_DAYS": 30,
    "SETTLEMENT_STEP_SECONDS": 30.0,
    "FAULTS": [],
    "ADMIN_ENABLED": False,
    "WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    "WEBHOOK_BACKOFF_SECONDS": 2.0,
    "BACKGROUND_WORKER": True,
    "BACKGROUND_INTERVAL_SECONDS": 0.5,
}


def create_app(test_config=None):
    """Build the simulator: defaults, then SIM_* environment variables, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "simulator.sqlite3")
    app.config.from_prefixed_env("SIM")
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or secrets.token_hex(32)
    if app.config["WEBHOOK_URL"] and not app.config["WEBHOOK_SECRET"]:
        raise ValueError("SIM_WEBHOOK_URL is set without SIM_WEBHOOK_SECRET (a Standard Webhooks whsec_... secret).")
    os.makedirs(app.instance_path, exist_ok=True)

    init_db(app)
    init_oauth(app)
    init_limits(app)
    init_faults(app)
    register_error_handlers(app)
    for blueprint in (catalogs_bp, provider_products_bp, patients_bp, prescriptions_bp, dispensing_bp, sponsors_bp,
                      preauthorizations_bp, authorizations_bp, claims_bp, settlements_bp, sandbox_bp, faults_bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    app.add_url_rule("/openapi.json", "openapi", openapi_document)

    storage.prepare(app)
    if app.config["BACKGROUND_WORKER"]:
        background.start(app)
    return app


@functools.cache
def load_openapi():
    """Read (once) the OpenAPI document that describes this simulator."""
    with open(os.path.join(os.path.dirname(__file__), "openapi.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def openapi_document():
    """Serve the OpenAPI document with this server as its server URL."""
    return load_openapi() | {"servers": [{"url": request.host_url.rstrip("/"), "description": "this simulator"}]}
