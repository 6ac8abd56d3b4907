"""The shell: the page inside the iframe, /embed.js and the widgets' static files."""

import json
import re

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_htmx import HTMX

from bff import host_apps
from bff.i18n import LOCALES
from bff.security import cacheable, widget_page_policy
from bff.sessions import WIDGETS

bp = Blueprint("widgets", __name__, template_folder="templates")
htmx = HTMX()
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


def theme_json():
    """The session's validated theme, for widget.js to apply as CSS variables (no inline style needed)."""
    return json.dumps(g.widget_session.theme, separators=(",", ":"))
