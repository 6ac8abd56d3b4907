"""The verification component (widgets/verification.py) for a worklist entry whose completion Osigu holds until the
beneficiary is verified; once verified, bff/pharmacy/completion.py finishes the entry (DISPENSED, stock, callback).

Mounted on a blueprint of its own under the worklist's URLs (`/verification` is the counter's), with the entry in
every URL the component renders, so that each of its requests names the entry it verifies.
"""

from flask import Blueprint

from bff.pharmacy import completion, queue
from widgets import verification
from widgets.flow import INVALID

from . import bp
from .complete import DispensationVerifier
from .queue import me, refusal_alert, worklist
from .queue_entry import completed, found, render_entry, requested_entry, waiting_redemption

queue_bp = Blueprint("queue_verification", __name__, url_prefix="/queue")


@queue_bp.url_defaults
def name_the_entry(endpoint, values):
    values.setdefault("entry", requested_entry())


class EntryVerifier(DispensationVerifier):
    """The adapter over a worklist entry's redemption: once verified, the queue's completion finishes the entry."""

    def __init__(self, entry_id, redemption):
        super().__init__(redemption)
        self.entry_id = entry_id

    def verified(self):
        """The entry completed, with the `success` outcome, as completing it without verification shows it."""
        try:
            return completed(completion.finish_verified(self.entry_id))
        except queue.QueueError as error:
            return render_entry(found(self.entry_id), INVALID, refusal_alert(error))

    def refused(self, error):
        """A refusal the component does not word (the dispensation voided meanwhile): on the entry, to complete
        again."""
        refusal = queue.QueueError(409, "REDEMPTION_REFUSED", error.kind, {"reason": error.kind})
        return render_entry(found(self.entry_id), INVALID, refusal_alert(refusal))


def verifier():
    """The adapter for the entry the request names while it waits for this pharmacist's verification, else None."""
    try:
        entry = found(requested_entry())
    except queue.QueueError:
        return None
    redemption = waiting_redemption(entry) if (entry.assigned_to or {}).get("id") == me() else None
    return EntryVerifier(entry.id, redemption) if redemption is not None else None


def elsewhere():
    """Nothing waits for verification: the entry as it stands (or the worklist, if there is no such entry)."""
    try:
        return render_entry(found(requested_entry()))
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))


verification.mount(queue_bp, verifier, elsewhere)
bp.register_blueprint(queue_bp)
