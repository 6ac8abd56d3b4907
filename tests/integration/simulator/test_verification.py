"""Beneficiary verification before a dispensation completes: OTP and biometric."""

import base64
from datetime import timedelta

import pytest

from simulator.db import db, utcnow
from simulator.models import VerificationChallenge


def url(dispensation, action=""):
    return f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}{action}"


def reading(content=b"fingerprint-template"):
    return base64.b64encode(content).decode()


def test_controlled_medicine_needs_verification(controlled_dispensation):
    assert controlled_dispensation["verification"] == {
        "required": True, "methods": ["OTP", "BIOMETRIC"], "status": "REQUIRED"}


def test_verification_status_before_any_challenge(pharmacy, controlled_dispensation):
    status = pharmacy.get(url(controlled_dispensation, "/verification-status")).json()
    assert status["required"] is True and status["status"] == "REQUIRED"
    assert status["otp"] is None and status["biometric"] is None
    assert status["links"]["otp"].endswith(url(controlled_dispensation, "/otp"))


def test_verification_status_when_not_required(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    status = pharmacy.get(url(dispensation, "/verification-status")).json()
    assert status["required"] is False and status["status"] == "NOT_REQUIRED" and "links" not in status


def test_otp_flow_complete_then_validate_then_complete(pharmacy, controlled_dispensation, read_otp):
    challenge = pharmacy.post(url(controlled_dispensation, "/complete"))
    assert challenge.status_code == 202
    body = challenge.json()
    assert body["status"] == "PENDING_VERIFICATION"
    assert body["verification"]["otp"]["status"] == "PENDING"
    assert body["verification"]["otp"]["sent_to"] == "+57*****67"

    otp = read_otp(controlled_dispensation["dispensation_id"])
    validated = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": otp})
    assert validated.status_code == 200
    assert validated.json()["status"] == "VERIFIED" and validated.json()["verified_by"] == "OTP"

    completed = pharmacy.post(url(controlled_dispensation, "/complete"))
    assert completed.status_code == 200 and completed.json()["status"] == "DISPENSED"


def test_products_are_locked_while_pending_verification(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    response = pharmacy.put(url(controlled_dispensation, "/products"), json={"products": [
        {"prescribed_product_code": "MED-069", "product_code": "MED-069", "quantity": 5}]})
    assert response.status_code == 409 and response.json()["error_code"] == "091-108"


def test_a_pending_verification_can_be_voided(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    assert pharmacy.post(url(controlled_dispensation, "/void")).json()["status"] == "VOIDED"


def test_wrong_otp_counts_attempts_then_spends_the_code(pharmacy, controlled_dispensation, read_otp):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    first_code = read_otp(controlled_dispensation["dispensation_id"])
    wrong = f"{(int(first_code) + 1) % 10**6:06d}"
    for attempts_left in (2, 1):
        response = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": wrong})
        assert response.status_code == 422
        assert response.json()["error_code"] == "091-120"
        assert response.json()["details"]["attempts_left"] == attempts_left
    spent = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": wrong})
    assert spent.json()["error_code"] == "091-122"
    # The right code no longer works once spent; complete sends a fresh one.
    assert pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": first_code}).status_code == 409
    assert pharmacy.post(url(controlled_dispensation, "/complete")).status_code == 202
    fresh = read_otp(controlled_dispensation["dispensation_id"])
    assert pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": fresh}).status_code == 200


def test_an_expired_otp_is_refused(simulator_app, pharmacy, controlled_dispensation, read_otp):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    with simulator_app.app_context():
        challenge = db.session.scalar(db.select(VerificationChallenge).filter_by(
            dispensation_id=controlled_dispensation["dispensation_id"]))
        challenge.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    otp = read_otp(controlled_dispensation["dispensation_id"])
    response = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": otp})
    assert response.status_code == 422
    assert response.json()["error_code"] == "091-121"


def test_otp_before_complete_is_409(pharmacy, controlled_dispensation):
    response = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": "123456"})
    assert response.status_code == 409
    assert response.json()["error_code"] == "091-123"


@pytest.mark.parametrize("otp", ["12345", "abcdef", ""])
def test_malformed_otp_is_422(pharmacy, controlled_dispensation, otp):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    response = pharmacy.post(url(controlled_dispensation, "/otp"), json={"otp": otp})
    assert response.status_code == 422 and response.json()["error_code"] == "000-422"


def test_biometric_match_then_complete(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    submitted = pharmacy.post(url(controlled_dispensation, "/biometric"),
                              json={"modality": "FINGERPRINT", "reading": reading()})
    assert submitted.status_code == 202
    status = pharmacy.get(url(controlled_dispensation, "/verification-status")).json()
    assert status["biometric"]["status"] == "MATCH" and status["status"] == "VERIFIED"
    assert pharmacy.post(url(controlled_dispensation, "/complete")).json()["status"] == "DISPENSED"


def test_biometric_no_match_fails_and_blocks_completion(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    pharmacy.post(url(controlled_dispensation, "/biometric"),
                  json={"modality": "FACE", "reading": reading(b"NO-MATCH face")})
    status = pharmacy.get(url(controlled_dispensation, "/verification-status")).json()
    assert status["biometric"]["status"] == "NO_MATCH"
    assert status["verified_at"] is None
    # Nothing has verified the beneficiary, so complete keeps asking instead of dispensing.
    again = pharmacy.post(url(controlled_dispensation, "/complete"))
    assert again.status_code == 202 and again.json()["status"] == "PENDING_VERIFICATION"


@pytest.mark.parametrize("simulator_config", [{"BIOMETRIC_DECISION_SECONDS": 3600}])
def test_biometric_is_polled_until_the_sponsor_answers(simulator_app, pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    pharmacy.post(url(controlled_dispensation, "/biometric"), json={"modality": "FINGERPRINT", "reading": reading()})
    assert pharmacy.get(url(controlled_dispensation, "/verification-status")).json()["biometric"]["status"] == "PENDING"
    with simulator_app.app_context():
        challenge = db.session.scalar(db.select(VerificationChallenge).filter_by(
            dispensation_id=controlled_dispensation["dispensation_id"], method="BIOMETRIC"))
        challenge.decide_at = utcnow()
        db.session.commit()
    assert pharmacy.get(url(controlled_dispensation, "/verification-status")).json()["biometric"]["status"] == "MATCH"


@pytest.mark.parametrize("simulator_config", [{"BIOMETRIC_MAX_BYTES": 1024}])
def test_biometric_reading_size_is_limited(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    response = pharmacy.post(url(controlled_dispensation, "/biometric"),
                             json={"modality": "FINGERPRINT", "reading": reading(b"x" * 1025)})
    assert response.status_code == 413
    assert response.json()["error_code"] == "091-130"


def test_a_body_over_the_request_limit_is_413(simulator_app, pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    too_long = "A" * (simulator_app.config["MAX_CONTENT_LENGTH"] + 8)
    response = pharmacy.post(url(controlled_dispensation, "/biometric"),
                             json={"modality": "FINGERPRINT", "reading": too_long})
    assert response.status_code == 413
    assert response.json()["error_code"] == "000-413"


def test_biometric_reading_must_be_base64(pharmacy, controlled_dispensation):
    pharmacy.post(url(controlled_dispensation, "/complete"))
    response = pharmacy.post(url(controlled_dispensation, "/biometric"),
                             json={"modality": "FINGERPRINT", "reading": "not base64!"})
    assert response.status_code == 422
    assert response.json()["error_code"] == "091-131"


def test_only_biometric_is_offered_when_the_patient_has_no_contact(pharmacy, prescribe, start, hospital):
    created = hospital.post("/ehr/v1/patients", json={
        "first_name": "Iker", "last_name": "Sanz", "document_type": "DNI", "document_number": "87654321X",
        "date_of_birth": "1970-03-03"}).json()
    dispensation = start(prescribe({"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"},
                                   patient_id=created["patient_id"]))
    assert dispensation["verification"]["methods"] == ["BIOMETRIC"]
    pharmacy.post(url(dispensation, "/complete"))
    response = pharmacy.post(url(dispensation, "/otp"), json={"otp": "123456"})
    assert response.status_code == 422 and response.json()["error_code"] == "091-132"
