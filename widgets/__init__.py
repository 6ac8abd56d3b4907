"""The widgets: a shared shell (the page inside the iframe) and one package per widget.

A widget package registers the endpoint of its first step with register_start(); the shell
loads it once embed.js has handed over the session token. Every step URL answers a plain page
load with the shell and an htmx request with the step's fragment (see widget_view).
"""

import functools
import json
import re
from datetime import date

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_compress import Compress
from flask_htmx import HTMX

from bff import host_apps
from bff.errors import ApiError
from bff.i18n import LOCALES
from bff.security import cacheable, widget_page_policy
from bff.sessions import WIDGETS, seconds_left, session_from_header

from .assets import load_assets, source_root

bp = Blueprint("widgets", __name__, template_folder="templates")
htmx = HTMX()
compress = Compress()
CHANNEL = re.compile(r"^[0-9a-f]{32}$")


@bp.get("/embed.js")
@cacheable
def embed_js():
    """Serve the host-side SDK; cacheable briefly, loadable from any host page."""
    response = current_app.extensions["widgets.assets"].embed_response()
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/static/<path:filename>")
@cacheable
def static_file(filename):
    """Serve the widgets' own scripts, styles and the vendored htmx."""
    return current_app.extensions["widgets.assets"].static_response(filename)


def asset_url(name):
    """The content-hashed URL of a file in static/, for templates: browsers may keep it forever."""
    return url_for("widgets.static_file", filename=current_app.extensions["widgets.assets"].urls[name])


@bp.get("/widgets/<widget>/")
def shell(widget):
    """The page inside the iframe, starting at the widget's first step (or wherever its session was)."""
    if widget not in WIDGETS:
        abort(404)
    start_endpoint = current_app.extensions["widgets.start"].get(widget)
    if start_endpoint is None:
        abort(404)
    return shell_page(widget, url_for(start_endpoint))


def shell_page(widget, start_url):
    """Render the shell: framed only by the host origin it names, and only if that origin is registered."""
    origin, channel = request.args.get("origin", ""), request.args.get("channel", "")
    locale = request.args.get("locale") if request.args.get("locale") in LOCALES else "es"
    g.locale = locale
    if origin not in host_apps.registered_origins() or not CHANNEL.match(channel):
        # Nobody may frame this refusal; embed.js has told the host why (ORIGIN_NOT_REGISTERED).
        return render_template("widgets/refused.html", locale=locale), 400
    html = render_template("widgets/shell.html", widget=widget, origin=origin, channel=channel, locale=locale,
                           start_url=start_url)
    return html, 200, {"Content-Security-Policy": widget_page_policy((origin,))}


def widget_view(widget):
    """Decorate a step view: a plain page load gets the shell, an htmx request needs the session and its page."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method == "GET" and not htmx:
                return shell_page(widget, request.path)
            g.widget_session = session_from_header(widget)
            require_page_origin()
            response = current_app.make_response(view(*args, **kwargs))
            # widget.js renews ahead of this instead of sending a request the BFF would refuse.
            response.headers["X-Osigu-Session-Expires-In"] = str(seconds_left(g.widget_session))
            return response

        return wrapper

    return decorator


def theme_json():
    """The session's validated theme, for widget.js to apply as CSS variables (no inline style needed)."""
    return json.dumps(g.widget_session.theme, separators=(",", ":"))


def require_page_origin():
    """Refuse a session used from a page on another origin than the one it was issued for."""
    if request.headers.get("X-Osigu-Origin") != g.widget_session.origin:
        raise ApiError(403, "SESSION_ORIGIN", "This session was issued for another page.")


def register_start(app, widget, endpoint):
    """Declare the endpoint that renders a widget's first step."""
    app.extensions["widgets.start"][widget] = endpoint


def init_widgets(app):
    """Register the shell and the widget packages."""
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
