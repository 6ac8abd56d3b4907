"""Sponsors' decisions on a host app's pre-authorizations: Osigu's `authorization.decided` webhook becomes
the `widget.preauth.decided` callback to the host app that made the request, once per decision.

The request's owner is whoever bound its preauthorization id (bff/ownership.py: a preauth widget
session, or the host app through the proxy); Osigu's event names it, so no call to Osigu is needed.
Every decision is passed on, those made at completion too: the event does not say whether the
authorization was pended first, and a host is better served by one callback that carries every
decision than by guessing which ones `widget.preauth.completed` already told it. A host app with
`outcome_format: "fhir"` gets the decision as a Bundle with the authorization's ClaimResponse.
"""

import logging
import re

from . import coverage, fhir_outcomes, host_apps, outbox, webhooks
from .db import SessionObject, WebhookEvent, WebhookObject, WidgetSession, db
from .upstream import path

log = logging.getLogger(__name__)

EVENT = "authorization.decided"
CALLBACK = "widget.preauth.decided"
ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
CODE = re.compile(r"AUT-[A-Z0-9-]{1,26}")
STATUS = re.compile(r"[A-Z][A-Z_]{0,39}")  # APPROVED, REJECTED
MAX_REASON = 40  # the sponsor's reason code: NOT_COVERED_BY_PLAN, MEDICAL_REVIEW_DENIED...


def init_app(app):
    """Pass each decision on as Osigu reports it."""
    webhooks.subscribe(app, EVENT, _decided)


def decision(data):
    """The callback's data for an authorization.decided event (ids and codes only), or None if malformed."""
    shapes = {"preauthorization_id": ID, "authorization_code": CODE, "status": STATUS}
    found = {field: data.get(field) for field in shapes}
    if not all(isinstance(found[field], str) and shape.fullmatch(found[field]) for field, shape in shapes.items()):
        return None
    reason = data.get("reason")
    if isinstance(reason, str) and 0 < len(reason) <= MAX_REASON and reason.isprintable():
        found["reason"] = reason
    return found


def decisions(preauthorization_id):
    """The decisions Osigu has reported on a pre-authorization, oldest first, the latest per authorization.

    Read from the stored webhooks, so a widget showing its request learns of them without asking Osigu.
    """
    payloads = db.session.scalars(
        db.select(WebhookEvent.payload).join(WebhookObject, WebhookObject.webhook_id == WebhookEvent.id)
        .where(WebhookObject.upstream_id == preauthorization_id, WebhookEvent.event_type == EVENT)
        .order_by(WebhookEvent.received_at)).all()
    latest = {}
    for payload in payloads:
        found = decision(payload.get("data") or {})
        if found and found["preauthorization_id"] == preauthorization_id:
            latest.pop(found["authorization_code"], None)  # re-inserted: ordered by its latest decision
            latest[found["authorization_code"]] = found
    return list(latest.values())


def _decided(data):
    """Owe the request's host app the callback, keyed by authorization and status: a re-sent event is owed once."""
    found = decision(data)
    if found is None:
        log.warning("authorization.decided without a usable preauthorization, code or status; ignored")
        return
    owner = db.session.scalar(db.select(SessionObject.host_app_id).filter_by(
        kind="preauthorization", upstream_id=found["preauthorization_id"]))
    host_app = owner and host_apps.by_id(owner)
    if not (host_app and host_app.callback_url):
        return
    data = found
    if host_app.outcome_format == "fhir":
        if found["status"] not in fhir_outcomes.REVIEW_ACTIONS:
            log.warning("authorization.decided with status %s has no FHIR review action; ignored", found["status"])
            return
        data = {"bundle": _as_fhir(host_app, found)}
    outbox.enqueue(owner, CALLBACK, data, key=f"{found['authorization_code']}:{found['status']}")


def _as_fhir(host_app, found):
    """The decision as a ClaimResponse: Osigu's authorization gives its products (the event names none), the
    session that made the request its FHIR references and coverage assertion (while the retention keeps it).

    Raises UpstreamError when Osigu cannot be read: the webhook is answered 500 and Osigu sends it again.
    """
    authorization = host_apps.upstream_for(host_app).get_json(
        path("/arc/v1/authorizations/{}", found["authorization_code"]))
    context = db.session.scalar(db.select(WidgetSession.context).join(
        SessionObject, SessionObject.session_id == WidgetSession.id).where(
        SessionObject.kind == "preauthorization", SessionObject.upstream_id == found["preauthorization_id"])) or {}
    orders = coverage.kept_orders(host_app.id, context.get("coverage_assertion_id"))
    return fhir_outcomes.decided(found, authorization, context, orders)
