"""How a widget tells its host page and its host app's back end what happened: events, callback, binding."""

import json

from flask import g

from bff import outbox, ownership
from bff.db import db

from .session import host_app


def announce(response, event, detail):
    """Add an htmx event for widget.js to post to the host page, keeping any the response already has."""
    raw = response.headers.get("HX-Trigger", "")
    if not raw:
        events = {}
    elif raw.startswith("{"):
        events = json.loads(raw)
    else:  # htmx's plain form: comma-separated names without detail
        events = {name.strip(): {} for name in raw.split(",")}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def succeed(render, outcome, *, kind, upstream_id, callback):
    """Record what the widget made once: bound to the session, the callback queued, committed before anything
    else calls upstream; then render the result and tell the host page (success)."""
    ownership.bind(kind, upstream_id)
    call_back(callback, outcome, key=upstream_id)  # the server-side twin of the success message
    db.session.commit()
    return succeeded(render(), outcome)


def call_back(event, data, key):
    """Owe the host app's back end a signed callback, if it registered one; the caller commits it with its change."""
    if host_app().callback_url:
        outbox.enqueue(host_app().id, event, data | {"user_id": g.widget_session.user["id"]}, key=key)


def succeeded(response, outcome):
    """Tell the host page the outcome (again, after a replay: it dedupes on the outcome's identifiers)."""
    return announce(response, "osigu:success", {"outcome": outcome})


def exited(response, reason, step):
    """Tell the host page the user left the widget, and from which step."""
    return announce(response, "osigu:exit", {"reason": reason, "step": step})
