"""The widgets: a shared shell (the page inside the iframe) and one package per widget.

A widget package registers the endpoint of its first step with register_start(); the shell
loads it once embed.js has handed over the session token.
"""

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, send_from_directory, url_for

from bff import host_apps
from bff.errors import ApiError
from bff.security import widget_page_policy
from bff.sessions import WIDGETS

ROOT = Path(__file__).resolve().parents[1]  # embed.js and static/ live at the repository root
bp = Blueprint("widgets", __name__, template_folder="templates")
CHANNEL = re.compile(r"^[0-9a-f]{32}$")


def registered_origins():
    """Every origin some host app registered: the only pages a widget may be framed by."""
    return {origin for app in host_apps.all_host_apps() for origin in app.origins}


@bp.get("/embed.js")
def embed_js():
    """Serve the host-side SDK; cacheable briefly, loadable from any host page."""
    response = send_from_directory(ROOT, "embed.js", mimetype="text/javascript", max_age=300)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/static/<path:filename>")
def static_file(filename):
    """Serve the widgets' own scripts, styles and the vendored htmx."""
    return send_from_directory(ROOT / "static", filename, max_age=3600)


@bp.get("/widgets/<widget>/")
def shell(widget):
    """The page inside the iframe: framed only by the host origin it names, and only if registered."""
    if widget not in WIDGETS:
        abort(404)
    origin, channel = request.args.get("origin", ""), request.args.get("channel", "")
    locale = request.args.get("locale") if request.args.get("locale") in ("es", "en") else "es"
    g.locale = locale
    if origin not in registered_origins() or not CHANNEL.match(channel):
        # Nobody may frame this refusal; the host sees LOAD_TIMEOUT and its console says why.
        return render_template("widgets/refused.html", locale=locale), 400
    start_endpoint = current_app.extensions["widgets.start"].get(widget)
    if start_endpoint is None:
        abort(404)
    html = render_template("widgets/shell.html", widget=widget, origin=origin, channel=channel, locale=locale,
                           start_url=url_for(start_endpoint))
    return html, 200, {"Content-Security-Policy": widget_page_policy((origin,))}


def require_page_origin():
    """Refuse a session used from a page on another origin than the one it was issued for."""
    if request.headers.get("X-Osigu-Origin") != g.widget_session.origin:
        raise ApiError(403, "SESSION_ORIGIN", "This session was issued for another page.")


def register_start(app, widget, endpoint):
    """Declare the endpoint that renders a widget's first step."""
    app.extensions["widgets.start"][widget] = endpoint


def init_widgets(app):
    """Register the shell (and, as they land, the widget packages)."""
    app.extensions["widgets.start"] = {}
    app.register_blueprint(bp)
