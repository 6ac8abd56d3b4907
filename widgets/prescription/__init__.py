"""The e-prescription widget (seed 004): patient, diagnoses, medications, consent, review, issue."""

from flask import Blueprint

from widgets.session import protect

bp = Blueprint("prescription", __name__, url_prefix="/widgets/prescription", template_folder="templates")
protect(bp, "prescription")


def init_prescription(app):
    """Register the widget's steps and tell the shell where it starts."""
    from bff import retention
    from widgets import register_start

    from . import diagnoses, issue, medications, patient  # noqa: F401  (they add their routes to bp)
    from .draft import PrescriptionDraft

    app.register_blueprint(bp)
    retention.register(app, PrescriptionDraft, "flow_id")
    register_start(app, "prescription", "prescription.resume")
