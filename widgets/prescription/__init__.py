"""The e-prescription widget (seed 004): patient, diagnoses, medications, consent, review, issue."""

from flask import Blueprint

from widgets.session import protect

bp = Blueprint("prescription", __name__, url_prefix="/widgets/prescription", template_folder="templates")
protect(bp, "prescription")


def init_prescription(app):
    """Register the widget's steps and tell the shell where it starts."""
    from bff import retention
    from widgets import install

    from . import diagnoses, favourite_lines, issue, medications, order, patient, repeat  # noqa: F401  (they add their routes to bp)
    from .consents import CONSENT_VALID_DAYS, PatientConsent
    from .draft import PrescriptionDraft

    install(app, bp, PrescriptionDraft)
    # A consent past its year asks again anyway: kept no longer than it counts (Osigu has each prescription's).
    retention.register_expiring(app, "consents", PatientConsent, "given_at", CONSENT_VALID_DAYS)
