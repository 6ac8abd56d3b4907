"""How a widget tells its host page and its host app's back end what happened: events, callback, binding."""

import json

from flask import g

from bff import coverage, fhir_outcomes, outbox, ownership
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


def succeed(render, draft, *, kind, upstream_id, callback, key=None):
    """Record what the widget made once (draft.outcome): bound to the session, the callback queued, committed
    before anything else calls upstream; then render the result and tell the host page (success).

    key names the callback when one object can have several outcomes (a request sent again after a rejection).
    """
    ownership.bind(kind, upstream_id)
    call_back(callback, for_host(draft.outcome, draft), key=key or upstream_id)  # the success message's twin
    db.session.commit()
    return succeeded(render(), draft.outcome, draft)


def call_back(event, data, key):
    """Owe the host app's back end a signed callback, if it registered one; the caller commits it with its change."""
    if host_app().callback_url:
        if data.get("resourceType") == "Bundle":  # a Bundle takes no foreign field: the user goes beside it
            data = {"bundle": data}
        outbox.enqueue(host_app().id, event, data | {"user_id": g.widget_session.user["id"]}, key=key)


def succeeded(response, outcome, draft=None):
    """Tell the host page the outcome (again, after a replay: it dedupes on the outcome's identifiers)."""
    return announce(response, "osigu:success", {"outcome": for_host(outcome, draft)})


def for_host(outcome, draft=None):
    """The outcome as the host app takes it: Osigu's shape, or a FHIR R4 Bundle (outcome_format "fhir") built
    with what the widget's draft adds; with the coverage assertion the session was opened for (CDS Hooks), and
    the EHR's draft orders kept with it, updated with their authorizations."""
    context = g.widget_session.context
    if context.get("coverage_assertion_id") and "preauthorization_id" in outcome:
        outcome = outcome | {"coverage_assertion_id": context["coverage_assertion_id"]}
    if host_app().outcome_format != "fhir":
        return outcome
    orders = coverage.kept_orders(host_app().id, outcome.get("coverage_assertion_id"))
    return fhir_outcomes.bundle(g.widget_session.widget, outcome, draft, context, orders)


def exited(response, reason, step):
    """Tell the host page the user left the widget, and from which step."""
    return announce(response, "osigu:exit", {"reason": reason, "step": step})
