"""The beneficiary's verification, OTP or biometric: one component mounted under each widget that needs it.

A widget mounts it on its blueprint with an adapter factory: `mount(bp, verifier, elsewhere)`, where
`verifier()` returns this request's Verifier, or None when nothing waits for verification (then the
component answers `elsewhere()`, the widget's own step, in place of the whole step). A Verifier speaks
Osigu's verification-status shape:

    {"methods": ["OTP", "BIOMETRIC"], "status": "REQUIRED"|"PENDING"|"VERIFIED"|"FAILED"|...,
     "otp": {"status", "sent_to", "expires_at", "attempts_left"} | None,
     "biometric": {"status": "PENDING"|"MATCH"|"NO_MATCH", "modality"} | None}

    status()                      -> that shape, read now
    send_otp()                    -> have Osigu send (again) a code to the beneficiary
    validate_otp(otp)             -> check the six digits the beneficiary read out
    submit_biometric(modality, reading) -> send a Base64 reading for Osigu to match
    poll()                        -> where the match stands (the dispensing adapter completes once verified)
    verified()                    -> the response to show once verified (the widget's next step, its outcome)
    refused(error)                -> the response for a refusal that is not the component's to word
                                     (the dispensation voided meanwhile, say)

Each method raises `Refused(kind, attempts_left=None)` when Osigu says no; the kinds in MESSAGES are worded
here, any other kind goes to `refused()`. The component renders `widgets/_verification.html` into the
widget's step (`context(status)` gives what it needs) and answers its own routes with that fragment, which
replaces itself; while a biometric match is pending it polls itself (`hx-trigger="load delay:…"`) and the
answer that ends the wait is a 286 (htmx stops polling). Once verified its answer retargets `#widget`.
The reading is Base64, at most MAX_READING_BYTES decoded, and never logged nor stored.
"""

import base64
import binascii
from datetime import datetime
from typing import Protocol

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from bff.i18n import local_time

POLL_DELAY = "1s"
STOP_POLLING = 286  # htmx stops a poll on this status (flask-htmx's HTMXResponseStopPolling)
MAX_READING_BYTES = 256 * 1024  # Osigu's own limit (091-130): a fingerprint template or a small photo
MODALITIES = ("FINGERPRINT", "FACE")
OTP_DIGITS = 6


class Refused(Exception):
    """Osigu (or the component) said no: a stable kind, and the OTP attempts left when it says so."""

    def __init__(self, kind, attempts_left=None):
        super().__init__(kind)
        self.kind, self.attempts_left = kind, attempts_left


class Verifier(Protocol):
    """What a widget hands the component: the verification of the one thing it is completing."""

    def status(self) -> dict: ...
    def send_otp(self) -> dict: ...
    def validate_otp(self, otp: str) -> dict: ...
    def submit_biometric(self, modality: str, reading: str) -> dict: ...
    def poll(self) -> dict: ...
    def verified(self): ...
    def refused(self, error: Refused): ...


def messages():
    """{kind: what the user reads and does next}, for the refusals the component words itself."""
    return {
        "OTP_FORMAT": _("Type the six digits of the code the beneficiary received."),
        "OTP_INVALID": _("That code is not right. Ask the beneficiary to read it again."),
        "OTP_EXPIRED": _("The code has expired. Send a new one to the beneficiary."),
        "OTP_ATTEMPTS_EXCEEDED": _("Three wrong codes: this one can no longer be used. Send a new code to the "
                                   "beneficiary."),
        "NO_MATCH": _("The reading did not match the beneficiary. Take it again, or verify with a code if one "
                      "is offered; if it keeps failing, the beneficiary must contact their sponsor."),
        "BIOMETRIC_TOO_LARGE": _("The reading is too large. Take a smaller photo, or use the reader."),
        "BIOMETRIC_INVALID": _("The reading could not be read. Take it again."),
        "METHOD_NOT_OFFERED": _("The sponsor does not accept this kind of verification here. Use the other one."),
        "VERIFICATION_NOT_PENDING": _("Nothing is waiting for verification any more."),
        "ALREADY_VERIFIED": _("The beneficiary is verified already."),
        "UPSTREAM_UNAVAILABLE": _("Osigu is not answering right now. Try again in a moment."),
    }


def mount(bp, verifier, elsewhere):
    """Add the component's routes to a widget's blueprint; verifier() gives this request's Verifier or None."""

    def handled(action):
        def view():
            current = verifier()
            if current is None:
                return whole_step(elsewhere())
            try:
                return action(current)
            except Refused as error:
                if error.kind not in messages():
                    return whole_step(current.refused(error))
                return render(current, current.status(), error.kind, error.attempts_left)

        view.__name__ = action.__name__
        return view

    bp.add_url_rule("/verification", "verification_status", handled(_show))
    bp.add_url_rule("/verification/poll", "verification_poll", handled(_poll))
    bp.add_url_rule("/verification/otp/send", "verification_send_otp", handled(_send_otp), methods=["POST"])
    bp.add_url_rule("/verification/otp", "verification_otp", handled(_validate_otp), methods=["POST"])
    bp.add_url_rule("/verification/biometric", "verification_biometric", handled(_biometric), methods=["POST"])


def _show(current):
    return render(current, current.status())


def _poll(current):
    status = current.poll()
    return _after(current, status, stop=True)


def _send_otp(current):
    current.send_otp()
    return render(current, current.status(), sent=True)


def _validate_otp(current):
    otp = request.form.get("otp", "").strip()
    if len(otp) != OTP_DIGITS or not otp.isdigit() or not otp.isascii():
        raise Refused("OTP_FORMAT")
    return _after(current, current.validate_otp(otp))


def _biometric(current):
    # A reading is far larger than any step's form: this one route allows its size, before the form is read.
    request.max_content_length = _max_form_bytes()
    modality, reading = request.form.get("modality", ""), "".join(request.form.get("reading", "").split())
    if modality not in MODALITIES or not reading:
        raise Refused("BIOMETRIC_INVALID")
    if len(reading) > 4 * (MAX_READING_BYTES // 3 + 1):
        raise Refused("BIOMETRIC_TOO_LARGE")
    try:
        base64.b64decode(reading, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("BIOMETRIC_INVALID") from None
    return render(current, current.submit_biometric(modality, reading))


def _after(current, status, stop=False):
    """The verified widget's next step (in place of the whole step), else the component as it stands."""
    if status.get("status") == "VERIFIED":
        response = whole_step(current.verified())
        if stop:
            response.status_code = STOP_POLLING
        return response
    response = render(current, status)
    if stop and not polling(status):
        response.status_code = STOP_POLLING
    return response


def whole_step(response):
    """Have htmx put a widget's step in place of the whole step, not of the component."""
    response.headers.update({"HX-Retarget": "#widget", "HX-Reswap": "innerHTML"})
    return response


def _max_form_bytes():
    return 4 * (MAX_READING_BYTES // 3 + 1) + 1024


def polling(status):
    """Whether a biometric match is still being decided (the component then polls itself)."""
    return (status.get("biometric") or {}).get("status") == "PENDING" and status.get("status") != "VERIFIED"


def context(status, message_kind=None, attempts_left=None, sent=False):
    """What `widgets/_verification.html` needs to show status, with a refusal's message if there was one."""
    otp = status.get("otp") or {}
    biometric = status.get("biometric") or {}
    no_match = biometric.get("status") == "NO_MATCH" and not polling(status)
    kind = message_kind or ("NO_MATCH" if no_match else None)
    left = attempts_left if attempts_left is not None else otp.get("attempts_left")
    return {
        "methods": status.get("methods") or [],
        "otp": otp,
        "otp_waiting": otp.get("status") == "PENDING",
        "otp_expires": _local(otp.get("expires_at")),
        "attempts_left": left,
        "polling": polling(status),
        "poll_delay": POLL_DELAY,
        "message": messages().get(kind) if kind else None,
        "sent": sent,
        "max_bytes": MAX_READING_BYTES,
        "urls": {name: url_for(f"{request.blueprint}.verification_{name}")
                 for name in ("status", "poll", "send_otp", "otp", "biometric")},
    }


def render(current, status, message_kind=None, attempts_left=None, sent=False):
    """The component alone, as its routes answer (it replaces itself)."""
    html = render_template("widgets/_verification.html",
                           verification=context(status, message_kind, attempts_left, sent))
    return current_app.make_response(html)


def _local(moment):
    if not moment:
        return None
    return local_time(datetime.fromisoformat(moment.replace("Z", "+00:00")), "short", time_only=True)
