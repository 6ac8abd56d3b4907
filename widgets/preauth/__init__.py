"""The pre-authorization widget (seed 001, ARC): sponsor, beneficiary, products, indications and documents,
complete once, then the sponsor's decision per group, followed until the pended ones are decided."""

from flask import Blueprint

from widgets.session import protect

bp = Blueprint("preauth", __name__, url_prefix="/widgets/preauth", template_folder="templates")
protect(bp, "preauth")


def init_preauth(app):
    """Register the widget's steps and tell the shell where it starts."""
    from bff import retention
    from widgets import register_start

    from . import complete, indications, request, verify  # noqa: F401  (they add their routes to bp)
    from .draft import PreauthDraft

    app.register_blueprint(bp)
    retention.register(app, PreauthDraft, "flow_id")
    register_start(app, "preauth", "preauth.start")
