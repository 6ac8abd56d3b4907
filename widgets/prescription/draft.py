"""The doctor's draft and the order of the steps: reloading the iframe resumes where the doctor was."""

from flask_babel import get_timezone
from sqlalchemy import JSON, Boolean
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import db
from widgets.drafts import DraftMixin
from widgets.flow import Flow
from widgets.session import host_app

from . import bp, consents
from .messages import known_errors


class PrescriptionDraft(DraftMixin, db.Model):
    """What the doctor has chosen so far, and the prescription once issued: one per flow, whatever its sessions."""

    __tablename__ = "bff_prescription_draft"
    patient: Mapped[dict | None] = mapped_column(JSON)
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)

    def __init__(self, **values):
        super().__init__(**{"diagnoses": [], "lines": []} | values)  # read before the first flush


def version():
    """The prescription version the host app's market requires: v1, v1.1 (consent) or v2 (Spain)."""
    return host_app().prescription_version


def steps():
    """The steps of this session's flow, in order."""
    middle = ["consent"] if version() == "v1.1" else []
    return ["patient", "diagnoses", "medications", *middle, "review"]


def first_unfinished(current):
    """The first step whose input is still missing (the review, when nothing is)."""
    if not current.patient:
        return "patient"
    if not current.diagnoses:
        return "diagnoses"
    if not current.lines:
        return "medications"
    if version() == "v1.1" and not (current.consent or consents.on_file(current.patient)):
        return "consent"
    return "review"


def consent_on_file():
    """When the v1.1 consent on file for this draft's patient was given (None elsewhere, or when it is due)."""
    given = consents.on_file(flow.draft().patient) if version() == "v1.1" else None
    return given.astimezone(get_timezone()).date() if given else None


flow = Flow(bp, PrescriptionDraft, steps, first_unfinished, messages=known_errors,
            subject=lambda context: context.get("patient"),
            worth_resuming=lambda found: found.diagnoses or found.lines,
            template_context=lambda: {"version": version(), "consent_on_file": consent_on_file()})
