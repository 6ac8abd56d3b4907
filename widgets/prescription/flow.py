"""The doctor's draft and the order of the steps: reloading the iframe resumes where the doctor was."""

import hashlib
import json
from datetime import datetime, timedelta

from flask import current_app, g, render_template
from flask_babel import gettext as _
from flask_htmx import make_response
from sqlalchemy import JSON, Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bff import host_apps, sessions
from bff.db import WidgetSession, aware, db, utcnow
from bff.i18n import local_time
from widgets import widget_view

from . import bp


class PrescriptionDraft(db.Model):
    """What the doctor has chosen so far, and the prescription once issued: one per flow, whatever its sessions."""

    __tablename__ = "bff_prescription_draft"
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the sessions' flow_id, renewal after renewal
    step: Mapped[str] = mapped_column(String(20), default="patient")
    patient: Mapped[dict | None] = mapped_column(JSON)
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


def host_app():
    """The host app whose session this is."""
    return host_apps.by_id(g.widget_session.host_app_id)


def version():
    """The prescription version the host app's market requires: v1, v1.1 (consent) or v2 (Spain)."""
    return host_app().prescription_version


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


def idempotency_key(action, body):
    """One key per draft, action and body: a retry replays, after a renewal or a reload too; a new body is new."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f"{action}-{g.widget_session.flow_id}-{digest}"


def steps():
    """The steps of this session's flow, in order."""
    middle = ["consent"] if version() == "v1.1" else []
    return ["patient", "diagnoses", "medications", *middle, "review"]


def draft():
    """The draft this session carries on, made on first use."""
    found = db.session.get(PrescriptionDraft, g.widget_session.flow_id)
    if found is None:
        found = PrescriptionDraft(flow_id=g.widget_session.flow_id, diagnoses=[], lines=[])
        db.session.add(found)
    return found


def unfinished_draft():
    """The latest unfinished draft of this user for this host patient, on this host app and page, or None.

    It is what a reload of the host page left behind: found here from the session's own facts,
    never from an id the browser sends.
    """
    session = g.widget_session
    patient = session.context.get("patient")
    if not patient:
        return None
    since = utcnow() - timedelta(seconds=current_app.config["SESSION_MAX_SECONDS"])
    candidates = db.session.execute(
        db.select(PrescriptionDraft, WidgetSession.context)
        .join(WidgetSession, WidgetSession.flow_id == PrescriptionDraft.flow_id)
        .filter(WidgetSession.host_app_id == session.host_app_id, WidgetSession.widget == session.widget,
                WidgetSession.origin == session.origin, WidgetSession.user["id"].as_string() == session.user["id"],
                PrescriptionDraft.flow_id != session.flow_id, PrescriptionDraft.updated_at >= since)
        .order_by(PrescriptionDraft.updated_at.desc()).limit(20)).all()
    return next((found for found, context in candidates
                 if context.get("patient") == patient and not found.outcome and (found.diagnoses or found.lines)),
                None)


def first_unfinished(current):
    """The first step whose input is still missing (the review, when nothing is)."""
    if not current.patient:
        return "patient"
    if not current.diagnoses:
        return "diagnoses"
    if not current.lines:
        return "medications"
    if version() == "v1.1" and not current.consent:
        return "consent"
    return "review"


def allowed_step(current, wanted):
    """The step to show for wanted: itself when everything before it is done, else the first unfinished one."""
    if current.outcome:
        return "done"
    order = steps()
    limit = first_unfinished(current)
    if wanted not in order or order.index(wanted) > order.index(limit):
        return limit
    return wanted


def render_step(step, status=200, alert=None, **context):
    """Render one step's template (saving it as where the doctor is); an alert is also reported to the host."""
    current = draft()
    current.step = step
    db.session.commit()
    order = steps()
    html = render_template(f"prescription/{step}.html", step=step, draft=current, steps=order, alert=alert,
                           position=order.index(step) + 1 if step in order else None, version=version(),
                           **context)
    trigger = {"osigu:error": {"error": error_event(alert)}} if alert else None
    return make_response(html, status, trigger=trigger)


def error_event(alert):
    """What the host app hears of an error shown in the widget: its code, message and whether to retry."""
    return {"code": alert["code"], "message": str(alert["message"]), "retryable": alert["retryable"]}


def step_view(view):
    """A prescription step: session and page checked, rendered as the shell on a plain page load."""
    return widget_view("prescription")(view)


def field_errors(error, messages):
    """Map a form's ValidationError to {field: the doctor's message for it}."""
    return {str(item["loc"][0]): messages.get(str(item["loc"][0]), "") for item in error.errors()}


def upstream_alert(error):
    """Say what went wrong upstream and what to do next, in the doctor's language (shown in place, with a 422)."""
    if error.retryable and str(error.retry_after).isdigit():  # rate limited, or our own bulkhead full
        message = _("Osigu is busy, try again in %(seconds)s s. Nothing you entered is lost.",
                    seconds=error.retry_after)
        return {"message": message, "code": error.error_code, "retryable": True}
    if error.status >= 500 or error.status == 429:
        message = _("Osigu is not answering right now. Nothing you entered is lost: try again in a moment.")
        return {"message": message, "code": error.error_code, "retryable": True}
    known = {
        "081-101": _("This patient no longer exists in Osigu. Look the patient up again."),
        "081-102": _("A patient with this document already exists with other details. Look them up instead."),
        "081-110": _("This prescription needs the patient's consent to process their data."),
        "081-111": _("A medication is not registered by your provider. Remove it, or ask your administrator "
                     "to register it first."),
        "081-112": _("A diagnosis is not a valid ICD-10 code. Remove it and search again."),
        "081-113": _("The signature did not match the prescription. Review it and issue it again."),
        "081-114": _("Osigu did not accept your provider's signature. Ask your administrator to check the "
                     "signing key."),
        "081-115": _("Your provider is not certified with Spain's national repository. Ask your administrator."),
        "081-121": _("The patient has no e-mail address on file. Type one to send the prescription to."),
    }
    message = known.get(error.error_code, _("Osigu could not do this: %(reason)s", reason=error.message))
    return {"message": message, "code": error.error_code, "retryable": False}


STEP_RENDERERS = {}


def renders(step):
    """Register the function that renders a step with everything its template needs."""

    def decorator(function):
        STEP_RENDERERS[step] = function
        return function

    return decorator


def show(step):
    """Render the step the draft allows for step (an earlier one when input is missing); a new session begins first."""
    if db.session.get(PrescriptionDraft, g.widget_session.flow_id) is None:
        return begin()  # e.g. a renewal that could not carry the draft over: offer it, or start as the host said
    return STEP_RENDERERS[allowed_step(draft(), step)]()


@bp.get("/resume")
@step_view
def resume():
    """Show the step the doctor was on; a new session first offers the user's unfinished draft for this patient."""
    current = db.session.get(PrescriptionDraft, g.widget_session.flow_id)
    return show(current.step if current else "patient")


def begin():
    """Offer the user's unfinished draft for this patient, if there is one; else start one with the host's patient."""
    earlier = unfinished_draft()
    if earlier is not None:
        started = local_time(aware(earlier.created_at), "short", time_only=True)
        return render_template("prescription/resume.html", step="resume", started=started)
    return start_draft()


@bp.post("/resume/earlier")
@step_view
def resume_earlier():
    """Carry on the unfinished draft found for this session (found again here: the form names none)."""
    earlier = unfinished_draft()
    if earlier is not None:
        sessions.resume_flow(g.widget_session, earlier.flow_id)
    return start_draft()


@bp.post("/resume/new")
@step_view
def start_new():
    """Start afresh, discarding the unfinished draft that was offered."""
    earlier = unfinished_draft()
    if earlier is not None:
        db.session.delete(earlier)
    return start_draft()


def start_draft():
    """Show the draft's step, applying the host's patient to a new draft."""
    from .patient import patient_from_context  # here: the step modules import this one

    current = draft()
    if current.patient is None and g.widget_session.context.get("patient"):
        current.patient = patient_from_context(g.widget_session.context["patient"])
        if current.patient:
            current.step = "diagnoses"
    return STEP_RENDERERS[allowed_step(current, current.step)]()
