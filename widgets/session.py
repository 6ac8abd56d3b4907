"""One guard per widget blueprint, and what a guarded view may ask of its session: host app, Osigu client."""

from flask import g, request

from bff import host_apps
from bff.errors import ApiError
from bff.sessions import WIDGETS, seconds_left, session_from_header

from .shell import htmx, shell_page

MAX_FORM_BYTES = 8 * 1024  # the largest step form so far (a new patient) is well under 1 KB


def protect(bp, widget):
    """Guard every route of bp: a plain page load gets the shell, anything else needs the session and its page."""
    if widget not in WIDGETS:
        raise ValueError(f"{widget} is not one of the widgets: {WIDGETS}")

    @bp.before_request
    def require_session():
        # Refused (413) before anything reads it: a form body far larger than any step sends.
        request.max_content_length = MAX_FORM_BYTES
        if request.method == "GET" and not htmx:
            return shell_page(widget, request.path)
        g.widget_session = session_from_header(widget)
        require_page_origin()
        return None

    @bp.after_request
    def tell_expiry(response):
        # widget.js renews ahead of this instead of sending a request the BFF would refuse.
        if "widget_session" in g:
            response.headers["X-Osigu-Session-Expires-In"] = str(seconds_left(g.widget_session))
        return response


def require_page_origin():
    """Refuse a session used from a page on another origin than the one it was issued for."""
    if request.headers.get("X-Osigu-Origin") != g.widget_session.origin:
        raise ApiError(403, "SESSION_ORIGIN", "This session was issued for another page.")


def host_app():
    """The host app whose session this is."""
    return host_apps.by_id(g.widget_session.host_app_id)


class SessionUpstream:
    """The tenant's Osigu client, asking for the session's language: catalogue names, the PDF and the e-mail."""

    def __init__(self, client, locale):
        self.client, self.locale = client, locale

    def request(self, method, path, *, headers=None, **kwargs):
        return self.client.request(method, path, headers={"Accept-Language": self.locale, **(headers or {})},
                                   **kwargs)

    def get_json(self, path, **params):
        return self.request("GET", path, params=params or None).json()


def upstream():
    """The Osigu client for this session's tenant, in the session's language."""
    return SessionUpstream(host_apps.upstream_for(host_app()), g.widget_session.locale)
