"""Completing a queue entry: redeem its code at Osigu (bff/redemption.py) with what was really dispensed, once.

The order makes it crash-safe: the pharmacist's request is written on the entry first
(queue.request_completion); the redemption writes each call to Osigu ahead (bff/redemption.py); the
entry becomes DISPENSED only once Osigu says DISPENSED. A process killed anywhere in between is
finished at start-up (`resume`), or by the pharmacist's retry: the same calls, the same keys, one
dispensation at Osigu.
"""

import logging

from .. import host_apps
from .. import redemption as redemptions
from ..db import db
from ..upstream import UpstreamError, path
from . import queue
from .models import DISPENSING, QueueEntry

log = logging.getLogger(__name__)

VOID_REASON = "Read for the hospital-pharmacy queue"
# Osigu will not redeem the code as it stands: no use resuming; the entry stays DISPENSING.
FINAL_REFUSALS = ("REDEMPTION_REFUSED", "PRESCRIPTION_CANCELLED")


def complete(actor, entry_id, notes=None, counseled=None):
    """Complete the entry: DISPENSED once Osigu redeemed its code. Raises queue.QueueError."""
    entry = queue.request_completion(actor, entry_id, notes, counseled)
    return _redeem_and_finish(entry)


def finish_verified(entry_id):
    """Finish the completion Osigu held for the beneficiary's verification, once it redeemed the code meanwhile."""
    return _redeem_and_finish(db.session.get(QueueEntry, entry_id))


def resume(app):
    """Finish, at start-up, the completions a previous process left after the pharmacist asked for them."""
    with app.app_context():
        waiting = db.session.scalars(db.select(QueueEntry.id).where(
            QueueEntry.status == DISPENSING, QueueEntry.completion.is_not(None))).all()
        for entry_id in waiting:
            try:
                entry = _redeem_and_finish(db.session.get(QueueEntry, entry_id))
                log.info("pharmacy entry %s: completion resumed, now %s", entry_id, entry.status)
            except queue.QueueError as error:
                log.warning("pharmacy entry %s: completion resumed, stopped at %s", entry_id, error.code)
                if error.code == "OSIGU_UNAVAILABLE":
                    break


def _redeem_and_finish(entry):
    lines = handed_over(entry)
    outcome = {"dispensation_id": None, "code": entry.code, "code_type": entry.code_type, "status": "DISPENSED",
               "claim_id": None, "completed_at": None, "lines": []}  # nothing handed over: nothing to redeem
    if lines:
        try:
            outcome = redemptions.outcome(_redeem(entry, lines))
        except queue.QueueError as error:
            if error.code in FINAL_REFUSALS:
                _abandon(entry)
            raise
    return queue.finish_completion(entry.id, outcome)


def _abandon(entry):
    """Void the dispensation Osigu refused to complete (freeing the code now, not after its timeout) and forget
    the completion, so that it is not resumed and the pharmacist may change the lines."""
    redemption = redemptions.for_owner(entry.completion["hostAppId"], ("pharmacy", entry.id))
    if redemption is not None and redemption.status in redemptions.OPEN_STATUSES and redemption.dispensation_id:
        try:
            redemptions.void(redemption, "Refused at completion")
        except redemptions.RedemptionError as error:
            log.warning("pharmacy entry %s: the refused dispensation stays open (%s)", entry.id, error.kind)
    queue.withdraw_completion(entry.id)


def redemption_of(entry):
    """Where the entry's redemption at Osigu stands, for its record; None before completion was asked."""
    if entry.completion is None:
        return None
    redemption = redemptions.for_owner(entry.completion["hostAppId"], ("pharmacy", entry.id))
    if redemption is None:
        return None
    return {"status": redemption.status, "dispensationId": redemption.dispensation_id,
            "claimId": redemption.claim_id, "error": redemption.last_error}


def handed_over(entry):
    """The redemption's lines: what was really dispensed of each medicine (unavailable ones left out)."""
    lines = []
    for medicine in entry.medicines:
        if not medicine["dispensedQuantity"]:
            continue
        line = {"product_code": medicine["dispensedProductCode"], "quantity": medicine["dispensedQuantity"]}
        if medicine["batches"]:
            line["lot"], line["expiry"] = medicine["batches"][0]["batchNumber"], medicine["batches"][0]["expiryDate"]
        if medicine["dispensedProductCode"] != medicine["productCode"]:
            line["substituted_for"] = medicine["productCode"]
        lines.append(line)
    return lines


def _redeem(entry, lines):
    host_app_id, owner = entry.completion["hostAppId"], ("pharmacy", entry.id)
    try:
        redemption = redemptions.for_owner(host_app_id, owner)
        if redemption is not None:
            redemptions.refresh(redemption)  # Osigu may have voided it for idleness meanwhile
        if redemption is None or redemption.status in (redemptions.VOIDED, redemptions.FAILED):
            redemption = redemptions.start(host_app_id, owner, entry.code)
        if redemption.status in (redemptions.STARTED, redemptions.PRODUCTS_SET):
            redemptions.set_products(redemption, lines)
        if redemption.status != redemptions.DISPENSED:
            redemptions.complete(redemption)
    except redemptions.RedemptionError as error:
        raise _refusal(error) from error
    if redemption.status == redemptions.PENDING_VERIFICATION:
        raise queue.QueueError(409, "VERIFICATION_REQUIRED", "The sponsor asks to verify the beneficiary before "
                               "Osigu redeems this code; verify, then complete again.", {
                                   "dispensationId": redemption.dispensation_id,
                                   "methods": (redemption.verification or {}).get("methods", [])})
    return redemption


def _refusal(error):
    if error.kind == "UPSTREAM_UNAVAILABLE":
        return queue.QueueError(503, "OSIGU_UNAVAILABLE", "Osigu could not be reached; the redemption is kept and "
                                "finished by completing again (or by the BFF's next start).")
    if error.upstream_code == "081-124":
        return queue.QueueError(400, "PRESCRIPTION_CANCELLED", "The prescription was cancelled by its prescriber.")
    return queue.QueueError(409, "REDEMPTION_REFUSED", "Osigu refused to redeem this code.",
                            {"reason": error.kind, "osiguErrorCode": error.upstream_code})


def read_code(host_app_id, owner, code):
    """Read a code issued elsewhere from Osigu: open a dispensation (the only read by code), read it, void it.

    Voiding at once leaves the code free (its prescriber may still cancel it) while it waits in the queue;
    completing opens a new dispensation. Returns Osigu's dispensation.
    """
    try:
        redemption = redemptions.start(host_app_id, owner, code)
        upstream = host_apps.upstream_for(host_apps.by_id(host_app_id))
        dispensation = upstream.get_json(path(redemptions.DISPENSATIONS + "/{}", redemption.dispensation_id))
        redemptions.void(redemption, VOID_REASON)
    except redemptions.RedemptionError as error:
        if error.kind == "INVALID_CODE":
            raise queue.QueueError(400, "INVALID_REQUEST", "code must be an RX- or AUT- code.") from error
        if error.kind == "CODE_UNKNOWN":
            raise queue.QueueError(404, "NOT_FOUND", "Osigu knows no such code.") from error
        raise _refusal(error) from error
    except UpstreamError as error:
        raise queue.QueueError(503, "OSIGU_UNAVAILABLE", "Osigu could not be reached; try again.") from error
    return dispensation
