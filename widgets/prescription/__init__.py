"""The e-prescription widget (seed 004): patient, diagnoses, medications, consent, review, issue."""

from flask import Blueprint, request

bp = Blueprint("prescription", __name__, url_prefix="/widgets/prescription", template_folder="templates")
MAX_FORM_BYTES = 8 * 1024  # the largest step form (a new patient) is well under 1 KB


@bp.before_request
def small_forms():
    """Refuse (413) a form body far larger than any step sends, before anything reads it."""
    request.max_content_length = MAX_FORM_BYTES


def init_prescription(app):
    """Register the widget's steps and tell the shell where it starts."""
    from bff import retention
    from widgets import register_start

    from . import diagnoses, issue, medications, patient  # noqa: F401  (they add their routes to bp)
    from .flow import PrescriptionDraft

    app.register_blueprint(bp)
    retention.register(app, PrescriptionDraft, "flow_id")
    register_start(app, "prescription", "prescription.resume")
