"""The hospital pharmacy (seed 002): its queue, stock by lot and JSON API, served by the BFF for each tenant."""

from .. import webhooks
from . import api, completion, queue
from .models import AuditEvent, Lot, QueueEntry

__all__ = ["AuditEvent", "Lot", "QueueEntry", "init_app"]


def init_app(app):
    """Serve the API, follow Osigu's cancellations, and finish the completions a crash left behind."""
    app.url_map.converters["any_path"] = api.AnyPathConverter
    app.register_blueprint(api.bp)
    webhooks.subscribe(app, "prescription.cancelled", queue.cancel_by_prescriber)
    if app.config["REDEMPTION_RESUME_ON_START"]:
        completion.resume(app)
