"""Repeat a prescription this BFF's widget issued for the same tenant and patient: straight to the review.

The prescriptions are the issued drafts themselves (ids, code, diagnoses, lines, issue date), so they are kept
exactly as long as the retention policy keeps a flow's drafts (bff/retention.py), and no longer.
"""

import re
from datetime import datetime

from flask import g, request
from flask_babel import format_date, get_timezone
from flask_babel import gettext as _

from bff.contexts import UPSTREAM_ID
from bff.db import WidgetSession, db

from . import bp, order  # noqa: F401  (order first: a repeat replaces the host's order set)
from .draft import PrescriptionDraft, first_unfinished, flow

RECENT = 5


def recent(patient):
    """This tenant's issued, not cancelled, prescriptions for patient, newest first (at most RECENT)."""
    if not patient:
        return []
    found = db.session.scalars(
        db.select(PrescriptionDraft).join(WidgetSession, WidgetSession.flow_id == PrescriptionDraft.flow_id)
        .filter(WidgetSession.host_app_id == g.widget_session.host_app_id, PrescriptionDraft.outcome.is_not(None),
                PrescriptionDraft.patient["patient_id"].as_string() == patient["patient_id"],
                PrescriptionDraft.flow_id != g.widget_session.flow_id)
        .order_by(PrescriptionDraft.updated_at.desc()).limit(RECENT * 10)).unique()  # a flow has a few sessions
    issued = [draft for draft in found if draft.outcome.get("status") != "CANCELLED"]
    return [{"prescription_id": draft.outcome["prescription_id"], "code": draft.outcome["prescription_code"],
             "issued": issued_on(draft.outcome["created_at"]),
             "diagnoses": draft.diagnoses, "lines": draft.lines} for draft in issued[:RECENT]]


def issued_on(created_at):
    """The day a prescription was issued, in the user's time zone and language."""
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(get_timezone())
    return format_date(moment.date(), "medium")


def copy(current, prescription_id):
    """Put the lines of the patient's earlier prescription on this draft; False when it is not one of theirs here."""
    if not re.fullmatch(UPSTREAM_ID, prescription_id or ""):
        return False
    earlier = next((item for item in recent(current.patient) if item["prescription_id"] == prescription_id), None)
    if earlier is None:
        return False
    current.diagnoses, current.lines, current.step = earlier["diagnoses"], earlier["lines"], "review"
    return True


def refused():
    """Why a prescription named to repeat is not repeated (another tenant's or patient's, or unknown)."""
    return _("That prescription cannot be repeated for this patient.")


def refused_from_host(current, offered):
    """The refusal to show when the context's repeat_of named a prescription that is not among offered."""
    wanted = g.widget_session.context.get("repeat_of")
    if wanted and current.patient and wanted not in {item["prescription_id"] for item in offered}:
        return refused()
    return None


@flow.on_start
def repeat_from_host(current):
    """The context's repeat_of opens the review at once, for the host's patient only."""
    wanted = g.widget_session.context.get("repeat_of")
    if wanted and current.patient and not current.outcome and copy(current, wanted):
        current.step = first_unfinished(current)


@bp.post("/repeat")
def repeat():
    """Repeat one of the patient's recent prescriptions: its lines, editable, then the review."""
    current = flow.draft()
    if not current.patient or not copy(current, request.form.get("prescription_id", "")):
        return flow.renderers["diagnoses"](422, error=refused())
    return flow.show(first_unfinished(current))
