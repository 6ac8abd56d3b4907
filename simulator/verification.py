"""Beneficiary verification for dispensations: OTP sent to the patient, or a biometric reading."""

import base64
import binascii
import secrets
from datetime import timedelta

from flask import current_app, url_for

from . import errors, messages
from .db import aware, isoformat, new_id, utcnow
from .models import VerificationChallenge
from .models.dispensing import PENDING_VERIFICATION

OTP_MAX_ATTEMPTS = 3
# Sandbox rule: a reading whose bytes start with this never matches; any other reading matches.
NO_MATCH_MARKER = b"NO-MATCH"


def required_methods(prescription):
    """Decide how a prescription's dispensation must be verified: controlled medicines need it."""
    if not any(line.product.controlled for line in prescription.lines):
        return []
    patient = prescription.patient
    return ["OTP", "BIOMETRIC"] if (patient.phone or patient.email) else ["BIOMETRIC"]


def _pending(dispensation, method):
    return next((c for c in reversed(dispensation.challenges) if c.method == method and c.status == "PENDING"), None)


def _latest(dispensation, method):
    return next((c for c in reversed(dispensation.challenges) if c.method == method), None)


def refresh(dispensation):
    """Settle what time has decided: expired OTPs, biometric results that have come back."""
    now = utcnow()
    for challenge in dispensation.challenges:
        if challenge.status != "PENDING":
            continue
        if challenge.method == "OTP" and aware(challenge.expires_at) <= now:
            challenge.status = "EXPIRED"
        elif challenge.method == "BIOMETRIC" and aware(challenge.decide_at) <= now:
            challenge.status = "VERIFIED" if challenge.outcome == "MATCH" else "FAILED"
            if challenge.outcome == "MATCH":
                _mark_verified(dispensation, "BIOMETRIC")


def _mark_verified(dispensation, method):
    dispensation.verified_at = utcnow()
    dispensation.verified_by = method
    dispensation.updated_at = utcnow()


def send_otp_if_needed(dispensation):
    """Send the patient a fresh OTP unless one is still waiting to be used."""
    if "OTP" not in dispensation.methods or _pending(dispensation, "OTP"):
        return
    patient = dispensation.prescription.patient
    channel, recipient = ("SMS", patient.phone) if patient.phone else ("EMAIL", patient.email)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = current_app.config["OTP_TTL_SECONDS"]
    challenge = VerificationChallenge(
        id=new_id("chl"), method="OTP", otp_code=code, sent_to=recipient,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    dispensation.challenges.append(challenge)
    messages.send(
        channel, recipient, "Your Osigu verification code",
        f"Your code to collect your medicines is {code}. It expires in {ttl // 60} minutes. Never share it.",
        kind="OTP", reference=dispensation.id, otp_code=code,
    )


def _require_pending_verification(dispensation, method):
    if dispensation.status != PENDING_VERIFICATION or dispensation.verified_at:
        raise errors.ApiError(409, errors.VERIFICATION_NOT_PENDING,
                              "This dispensation is not waiting for verification; call complete first.")
    if method not in dispensation.methods:
        raise errors.ApiError(422, errors.METHOD_NOT_OFFERED, f"{method} verification is not offered for this code.")


def validate_otp(dispensation, otp):
    """Check the code the beneficiary read out; three wrong tries spend it."""
    _require_pending_verification(dispensation, "OTP")
    challenge = _pending(dispensation, "OTP")
    if challenge is None:
        latest = _latest(dispensation, "OTP")
        if latest and latest.status == "EXPIRED":
            raise errors.ApiError(422, errors.OTP_EXPIRED,
                                  "The code has expired; call complete again to send a new one.")
        raise errors.ApiError(409, errors.VERIFICATION_NOT_PENDING, "No code is waiting; call complete to send one.")
    if secrets.compare_digest(challenge.otp_code, otp):
        challenge.status = "VERIFIED"
        _mark_verified(dispensation, "OTP")
        return
    challenge.attempts += 1
    left = OTP_MAX_ATTEMPTS - challenge.attempts
    if left <= 0:
        challenge.status = "FAILED"
        raise errors.ApiError(422, errors.OTP_ATTEMPTS_EXCEEDED,
                              "Too many wrong codes; call complete again to send a new one.", {"attempts_left": 0})
    raise errors.ApiError(422, errors.OTP_INVALID, "That code is not right.", {"attempts_left": left})


def submit_biometric(dispensation, modality, reading):
    """Accept a Base64 reading and start the (simulated) match with the sponsor."""
    _require_pending_verification(dispensation, "BIOMETRIC")
    try:
        raw = base64.b64decode(reading, validate=True)
    except (binascii.Error, ValueError):
        raise errors.ApiError(422, errors.BIOMETRIC_INVALID, "reading must be standard Base64.") from None
    if not raw:
        raise errors.ApiError(422, errors.BIOMETRIC_INVALID, "reading is empty.")
    limit = current_app.config["BIOMETRIC_MAX_BYTES"]
    if len(raw) > limit:
        raise errors.ApiError(413, errors.BIOMETRIC_TOO_LARGE, f"A reading may be at most {limit} bytes.")
    dispensation.challenges.append(VerificationChallenge(
        id=new_id("chl"), method="BIOMETRIC", modality=modality,
        outcome="NO_MATCH" if raw.startswith(NO_MATCH_MARKER) else "MATCH",
        decide_at=utcnow() + timedelta(seconds=current_app.config["BIOMETRIC_DECISION_SECONDS"]),
    ))


def _otp_json(challenge):
    if challenge is None:
        return None
    return {
        "status": challenge.status,
        "sent_to": messages.mask(challenge.sent_to),
        "expires_at": isoformat(aware(challenge.expires_at)),
        "attempts_left": max(OTP_MAX_ATTEMPTS - challenge.attempts, 0),
    }


def _biometric_json(challenge):
    if challenge is None:
        return None
    result = {"VERIFIED": "MATCH", "FAILED": "NO_MATCH"}.get(challenge.status, "PENDING")
    return {"status": result, "modality": challenge.modality, "submitted_at": isoformat(challenge.created_at)}


def overall_status(dispensation):
    """Summarise verification as NOT_REQUIRED, REQUIRED, PENDING, VERIFIED or FAILED."""
    if not dispensation.methods:
        return "NOT_REQUIRED"
    if dispensation.verified_at:
        return "VERIFIED"
    challenges = dispensation.challenges
    if any(c.status == "PENDING" for c in challenges):
        return "PENDING"
    if challenges and all(c.status in ("FAILED", "EXPIRED") for c in challenges):
        return "FAILED"
    return "REQUIRED"


def status_json(dispensation):
    """Serialise the verification state the way verification-status returns it."""
    body = {
        "dispensation_id": dispensation.id,
        "required": bool(dispensation.methods),
        "methods": dispensation.methods,
        "status": overall_status(dispensation),
        "verified_by": dispensation.verified_by,
        "verified_at": isoformat(dispensation.verified_at),
        "otp": _otp_json(_latest(dispensation, "OTP")),
        "biometric": _biometric_json(_latest(dispensation, "BIOMETRIC")),
    }
    if dispensation.methods:
        body["links"] = {
            method.lower(): url_for(f"dispensing.{method.lower()}", dispensation_id=dispensation.id, _external=True)
            for method in dispensation.methods
        }
    return body
