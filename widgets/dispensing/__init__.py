"""The dispensing widget (seed 000), counter mode: open a code, hand over its products, verify, complete once."""

from flask import Blueprint

from widgets.session import protect

bp = Blueprint("dispensing", __name__, url_prefix="/widgets/dispensing", template_folder="templates")
protect(bp, "dispensing")


def init_dispensing(app):
    """Register the widget's steps and tell the shell where it starts."""
    from widgets import install

    from . import code, complete, products  # noqa: F401  (they add their routes to bp)
    from .draft import DispensingDraft

    install(app, bp, DispensingDraft)
