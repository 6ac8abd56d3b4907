"""The widgets: a kit every widget shares (the modules here) and one package per widget above it.

A widget package guards its blueprint with session.protect(), builds a flow.Flow of its steps and
registers the endpoint of its first step with register_start(); the shell loads it once embed.js
has handed over the session token. Every step URL answers a plain page load with the shell and an
htmx request with the step's fragment.
"""

from datetime import date

from flask_babel import format_date, format_decimal
from flask_compress import Compress

from .assets import load_assets, source_root
from .shell import asset_url, bp, htmx, theme_json

compress = Compress()


def register_start(app, widget, endpoint):
    """Declare the endpoint that renders a widget's first step; a widget has one (a second is a mistake)."""
    starts = app.extensions["widgets.start"]
    if widget in starts:
        raise ValueError(f"The {widget} widget already starts at {starts[widget]}.")
    starts[widget] = endpoint


def install(app, bp, draft_model):
    """Register a widget's blueprint, have its drafts purged like every widget's, and start it at its resume."""
    from bff import retention

    app.register_blueprint(bp)
    retention.register(app, draft_model, "flow_id")
    register_start(app, bp.name, f"{bp.name}.resume")


def init_widgets(app):
    """Register the shell and the widget packages."""
    from .dispensing import init_dispensing
    from .preauth import init_preauth
    from .prescription import init_prescription

    app.extensions["widgets.start"] = {}
    app.extensions["widgets.assets"] = load_assets(source_root())
    # Pages and fragments are rendered per request, so compressed per response (a whole prescription's
    # fragments: 18 KB → 6 KB); streams (the proxy) pass untouched, and assets come precompressed.
    app.config.update(COMPRESS_MIMETYPES=["text/html"], COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_STREAMS=False)
    compress.init_app(app)
    htmx.init_app(app)
    # Dates and numbers in templates follow the session's locale (Flask-Babel picks it).
    app.jinja_env.globals.update(theme_json=theme_json, format_date=format_date, format_decimal=format_decimal)
    app.jinja_env.globals["asset_url"] = asset_url
    app.jinja_env.filters["todate"] = date.fromisoformat
    app.register_blueprint(bp)
    init_prescription(app)
    init_dispensing(app)
    init_preauth(app)
