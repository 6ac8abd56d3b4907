"""Beneficiary verification for subjects and pre-authorizations: an OTP, or a biometric reading.

A subject (Dispensation or Preauthorization) has `id`, `status`, `methods`, `challenges`,
`verified_at`, `verified_by`, `updated_at` and `contact` (the person an OTP goes to).
"""

import base64
import binascii
import secrets
from datetime import timedelta
from typing import Literal

from flask import current_app, url_for
from pydantic import BaseModel, ConfigDict, Field

from . import errors, messages
from .bodies import json_body
from .db import aware, db, isoformat, new_id, utcnow
from .models import VerificationChallenge

OTP_MAX_ATTEMPTS = 3
PENDING_VERIFICATION = "PENDING_VERIFICATION"
# Sandbox rule: a reading whose bytes start with this never matches; any other reading matches.
NO_MATCH_MARKER = b"NO-MATCH"


class OtpAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    otp: str = Field(pattern=r"^\d{6}$")


class BiometricReading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    modality: Literal["FINGERPRINT", "FACE"]
    reading: str = Field(min_length=1)


def offered(methods, person):
    """Keep the methods that can reach person: no OTP for someone with neither phone nor e-mail."""
    return [m for m in methods if m != "OTP" or person.phone or person.email]


def _pending(subject, method):
    return next((c for c in reversed(subject.challenges) if c.method == method and c.status == "PENDING"), None)


def _latest(subject, method):
    return next((c for c in reversed(subject.challenges) if c.method == method), None)


def refresh(subject):
    """Settle what time has decided: expired OTPs, biometric results that have come back."""
    now = utcnow()
    for challenge in subject.challenges:
        if challenge.status != "PENDING":
            continue
        if challenge.method == "OTP" and aware(challenge.expires_at) <= now:
            challenge.status = "EXPIRED"
        elif challenge.method == "BIOMETRIC" and aware(challenge.decide_at) <= now:
            challenge.status = "VERIFIED" if challenge.outcome == "MATCH" else "FAILED"
            if challenge.outcome == "MATCH":
                _mark_verified(subject, "BIOMETRIC")


def _mark_verified(subject, method):
    subject.verified_at = utcnow()
    subject.verified_by = method
    subject.updated_at = utcnow()


def send_otp_if_needed(subject, purpose):
    """Send the subject's contact a fresh OTP (to `purpose`) unless one is still waiting to be used."""
    if "OTP" not in subject.methods or _pending(subject, "OTP"):
        return
    person = subject.contact
    channel, recipient = ("SMS", person.phone) if person.phone else ("EMAIL", person.email)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = current_app.config["OTP_TTL_SECONDS"]
    challenge = VerificationChallenge(
        id=new_id("chl"), method="OTP", otp_code=code, sent_to=recipient,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    subject.challenges.append(challenge)
    messages.send(
        channel, recipient, "Your Osigu verification code",
        f"Your code to {purpose} is {code}. It expires in {ttl // 60} minutes. Never share it.",
        kind="OTP", reference=subject.id, otp_code=code,
    )


def _require_pending_verification(subject, method):
    if subject.status != PENDING_VERIFICATION or subject.verified_at:
        raise errors.ApiError(409, errors.VERIFICATION_NOT_PENDING,
                              "Nothing is waiting for verification; call complete first.")
    if method not in subject.methods:
        raise errors.ApiError(422, errors.METHOD_NOT_OFFERED, f"{method} verification is not offered for this code.")


def validate_otp(subject, otp):
    """Check the code the beneficiary read out; three wrong tries spend it."""
    _require_pending_verification(subject, "OTP")
    challenge = _pending(subject, "OTP")
    if challenge is None:
        latest = _latest(subject, "OTP")
        if latest and latest.status == "EXPIRED":
            raise errors.ApiError(422, errors.OTP_EXPIRED,
                                  "The code has expired; call complete again to send a new one.")
        raise errors.ApiError(409, errors.VERIFICATION_NOT_PENDING, "No code is waiting; call complete to send one.")
    if secrets.compare_digest(challenge.otp_code, otp):
        challenge.status = "VERIFIED"
        _mark_verified(subject, "OTP")
        return
    challenge.attempts += 1
    left = OTP_MAX_ATTEMPTS - challenge.attempts
    if left <= 0:
        challenge.status = "FAILED"
        raise errors.ApiError(422, errors.OTP_ATTEMPTS_EXCEEDED,
                              "Too many wrong codes; call complete again to send a new one.", {"attempts_left": 0})
    raise errors.ApiError(422, errors.OTP_INVALID, "That code is not right.", {"attempts_left": left})


def submit_biometric(subject, modality, reading):
    """Accept a Base64 reading and start the (simulated) match with the sponsor."""
    _require_pending_verification(subject, "BIOMETRIC")
    try:
        raw = base64.b64decode(reading, validate=True)
    except (binascii.Error, ValueError):
        raise errors.ApiError(422, errors.BIOMETRIC_INVALID, "reading must be standard Base64.") from None
    if not raw:
        raise errors.ApiError(422, errors.BIOMETRIC_INVALID, "reading is empty.")
    limit = current_app.config["BIOMETRIC_MAX_BYTES"]
    if len(raw) > limit:
        raise errors.ApiError(413, errors.BIOMETRIC_TOO_LARGE, f"A reading may be at most {limit} bytes.")
    subject.challenges.append(VerificationChallenge(
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


def overall_status(subject):
    """Summarise verification as NOT_REQUIRED, REQUIRED, PENDING, VERIFIED or FAILED."""
    if not subject.methods:
        return "NOT_REQUIRED"
    if subject.verified_at:
        return "VERIFIED"
    challenges = subject.challenges
    if any(c.status == "PENDING" for c in challenges):
        return "PENDING"
    if challenges and all(c.status in ("FAILED", "EXPIRED") for c in challenges):
        return "FAILED"
    return "REQUIRED"


def status_json(subject, blueprint, id_field):
    """Serialise the verification state; links point at blueprint's otp and biometric endpoints."""
    body = {
        id_field: subject.id,
        "required": bool(subject.methods),
        "methods": subject.methods,
        "status": overall_status(subject),
        "verified_by": subject.verified_by,
        "verified_at": isoformat(subject.verified_at),
        "otp": _otp_json(_latest(subject, "OTP")),
        "biometric": _biometric_json(_latest(subject, "BIOMETRIC")),
    }
    if subject.methods:
        body["links"] = {
            method.lower(): url_for(f"{blueprint}.{method.lower()}", **{id_field: subject.id}, _external=True)
            for method in subject.methods
        }
    return body


def answer_otp(subject, blueprint, id_field):
    """Handle POST .../otp for subject: check the code, keep the attempt even when it fails."""
    body = json_body(OtpAnswer)
    try:
        validate_otp(subject, body.otp)
    finally:
        db.session.commit()  # a wrong try counts even though the request fails
    return status_json(subject, blueprint, id_field)


def take_biometric(subject, blueprint, id_field):
    """Handle POST .../biometric for subject: accept the reading; the caller polls for the match."""
    body = json_body(BiometricReading)
    submit_biometric(subject, body.modality, body.reading)
    db.session.commit()
    return status_json(subject, blueprint, id_field), 202
