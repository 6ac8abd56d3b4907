"""The last steps: complete exactly once, the beneficiary's verification, the receipt, and void."""

from datetime import datetime

from flask import current_app, render_template

from bff import redemption as redemptions
from bff.db import db
from bff.i18n import local_time
from bff.redemption import RedemptionError
from widgets import verification
from widgets.flow import INVALID
from widgets.outcome import call_back, exited, succeed, succeeded

from . import bp
from .code import render_code
from .draft import OPEN, current_redemption, first_unfinished, flow
from .messages import refusal_alert
from .products import product_name, render_products, typed_lines

# Refusals after which the code step is where to go on (the dispensation is gone, or was never opened).
GONE = {"TIMEOUT_VOIDED", "DISPENSATION_VOIDED", "DISPENSATION_NOT_FOUND"}


@flow.renders("verify")
def render_verify(status=200, alert=None):
    """Render the verification step: the component, reading Osigu's verification status."""
    try:
        state = redemptions.verification(current_redemption())
    except RedemptionError as error:
        if error.kind != "UPSTREAM_UNAVAILABLE":
            return refused(error, render_products)
        return flow.render_step("verify", INVALID, refusal_alert(error), verification=None)
    return flow.render_step("verify", status, alert, verification=verification.context(state))


@flow.renders("done")
def render_done(status=200, alert=None):
    """Render the receipt of the dispensation, to print."""
    outcome = flow.draft().outcome
    completed = local_time(datetime.fromisoformat(outcome["completed_at"].replace("Z", "+00:00")))
    lines = [line | {"name": product_name(line["product_code"])} for line in outcome["lines"]]
    return flow.render_step("done", status, alert, outcome=outcome, completed=completed, lines=lines)


@bp.post("/complete")
def complete():
    """Hand over what the form says and complete once: a double click, a retry or a second tab dispense once."""
    current = flow.draft()
    if current.outcome:
        return succeeded(render_done(), current.outcome)
    found = current_redemption()
    if found is not None and found.status == redemptions.DISPENSED:
        return finish(found)  # completed by another tab, or after a lost answer
    if found is None or found.status not in OPEN:
        return flow.show(first_unfinished(current))
    lines, errors = typed_lines(found)
    if errors:
        db.session.commit()  # what was typed stays, beside what to fix
        return render_products(INVALID, errors=errors)
    try:
        redemptions.set_products(found, lines)
        redemptions.complete(found)
    except RedemptionError as error:
        return refused(error, render_products)
    return finish(found) if found.status == redemptions.DISPENSED else flow.show("verify")


def finish(found):
    """Record the outcome once, tell the host page and its back end, and show the receipt."""
    current = flow.draft()
    current.outcome = redemptions.outcome(found)
    return succeed(render_done, current.outcome, kind="dispensation", upstream_id=found.dispensation_id,
                   callback="widget.dispensing.completed")


def refused(error, render):
    """Show a refusal in place; where the dispensation is gone (voided, timed out), on the code step."""
    if error.kind == "ALREADY_DISPENSED" and current_redemption().status == redemptions.DISPENSED:
        return finish(current_redemption())
    db.session.commit()
    if error.kind in GONE:
        flow.draft().step = "code"
        db.session.commit()
        return render_code(INVALID, refusal_alert(error))
    return render(INVALID, refusal_alert(error))


class DispensationVerifier:
    """The verification component's adapter for this flow's dispensation (widgets/verification.py)."""

    def __init__(self, found):
        self.found = found

    def status(self):
        return self._asked(redemptions.verification)

    def send_otp(self):
        self._asked(redemptions.send_otp)
        return self.status()

    def validate_otp(self, otp):
        return self._asked(redemptions.validate_otp, otp)

    def submit_biometric(self, modality, reading):
        return self._asked(redemptions.submit_biometric, modality, reading)

    def poll(self):
        return self._asked(redemptions.poll)

    def verified(self):
        """Once verified the redemption has completed: the receipt, and the outcome to the host."""
        return finish(self.found)

    def refused(self, error):
        return refused(error.__cause__, render_verify)

    def _asked(self, call, *args):
        try:
            return call(self.found, *args)
        except RedemptionError as error:
            left = error.details.get("attempts_left") if isinstance(error.details, dict) else None
            raise verification.Refused(error.kind, left) from error


def verifier():
    """The adapter for this flow's dispensation while it waits for verification, else None."""
    found = current_redemption()
    if found is None or found.status != redemptions.PENDING_VERIFICATION or flow.draft().outcome:
        return None
    return DispensationVerifier(found)


verification.mount(bp, verifier, lambda: flow.show(first_unfinished(flow.draft())))


@bp.get("/void")
def confirm_void():
    """Ask before voiding: nothing is handed over, and the code is freed."""
    found = current_redemption()
    if found is None or found.status not in (*OPEN, redemptions.PENDING_VERIFICATION):
        return flow.show(first_unfinished(flow.draft()))
    return render_template("dispensing/void.html", step="void", code=found.code)


@bp.post("/void")
def void():
    """Void the dispensation at Osigu, freeing the code; the host page hears `exit` and its back end a callback."""
    current = flow.draft()
    if current.outcome:
        return flow.show("done")
    found = current_redemption()
    step = current.step
    if found is not None and found.status in (*OPEN, redemptions.PENDING_VERIFICATION):
        try:
            redemptions.void(found, "PHARMACIST")
        except RedemptionError as error:
            return refused(error, render_products)
        call_back("widget.dispensing.voided", {"dispensation_id": found.dispensation_id, "code": found.code},
                  key=found.dispensation_id)
    code = current.code
    current.code, current.entries, current.step = None, {}, "code"
    db.session.commit()
    response = current_app.make_response(render_template("dispensing/voided.html", step="voided", code=code))
    return exited(response, "voided", step)
