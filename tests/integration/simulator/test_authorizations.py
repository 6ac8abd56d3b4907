"""Authorization codes: looked up, voided, expired, and dispensed under the sponsor's rules."""

import base64
from datetime import timedelta

import pytest

from simulator.db import db, utcnow
from simulator.models import Authorization


def code_of(response, index=0):
    return response.json()["authorizations"][index]["authorization_code"]


def dispense(pharmacy, code):
    response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
    assert response.status_code == 201, response.text
    return response.json()


def swap(pharmacy, dispensation, prescribed, substitute, quantity):
    return pharmacy.put(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/products", json={
        "products": [{"prescribed_product_code": prescribed, "product_code": substitute, "quantity": quantity}]})


def test_lookup_by_code_and_list(hospital, preauthorize):
    code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
    found = hospital.get(f"/arc/v1/authorizations/{code.lower()}").json()
    assert found["authorization_code"] == code and found["status"] == "APPROVED"
    assert found["products"] == [{"product_code": "MED-001", "product_type": "MEDICATION", "quantity": 21,
                                  "name": "Amoxicillin 500 mg capsule"}]
    listed = hospital.get("/arc/v1/authorizations", params={"status": "APPROVED"}).json()["data"]
    assert code in {a["authorization_code"] for a in listed}


def test_unknown_code_is_404(hospital):
    response = hospital.get("/arc/v1/authorizations/AUT-2026-00000000")
    assert response.status_code == 404 and response.json()["error_code"] == "061-120"


class TestDispensingAnAuthorization:
    def test_seguros_andinos_same_brand_swap_otp_and_claim(self, pharmacy, api, preauthorize, read_otp):
        code = code_of(preauthorize("seguros-andinos", ("MED-001", 21)))
        dispensation = dispense(pharmacy, code)
        assert dispensation["code_type"] == "AUTHORIZATION"
        assert dispensation["beneficiary"]["first_name"] == "Ana" and dispensation["patient"] is None
        assert dispensation["verification"]["methods"] == ["OTP"]
        swapped = swap(pharmacy, dispensation, "MED-001", "MED-002", 21)  # Amoxil for generic amoxicillin
        assert swapped.status_code == 200 and swapped.json()["products"][0]["substituted"] is True
        base = f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}"
        assert pharmacy.post(f"{base}/complete").status_code == 202
        pharmacy.post(f"{base}/otp", json={"otp": read_otp(dispensation["dispensation_id"])})
        completed = pharmacy.post(f"{base}/complete").json()
        assert completed["status"] == "DISPENSED" and completed["claim_id"].startswith("clm_")

        claim = pharmacy.login("demo-hospital").get(f"/arc/v1/claims/{completed['claim_id']}")
        assert claim.status_code == 404  # the claim belongs to the pharmacy that dispensed
        assert api("demo-hospital").get(f"/arc/v1/authorizations/{code}").json()["status"] == "REDEEMED"

    def test_the_auto_created_claim_is_the_pharmacys(self, hospital, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        dispensation = dispense(hospital, code)  # the hospital also dispenses, and has claims scopes
        completed = hospital.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete").json()
        claim = hospital.get(f"/arc/v1/claims/{completed['claim_id']}").json()
        assert claim["source"] == "DISPENSING" and claim["claim_type"] == "PHARMACY"
        assert claim["authorization_code"] == code and claim["dispensation_id"] == dispensation["dispensation_id"]
        assert claim["lines"] == [{"product_code": "MED-001", "quantity": 21, "unit_price": None}]
        assert claim["diagnoses"][0]["diagnosis_code"] == "R51"

    def test_seguros_andinos_refuses_another_strength(self, pharmacy, preauthorize):
        dispensation = dispense(pharmacy, code_of(preauthorize("seguros-andinos", ("MED-001", 21))))
        refused = swap(pharmacy, dispensation, "MED-001", "MED-357", 21)  # amoxicillin 500 mg tablet, not capsule
        assert refused.status_code == 422 and refused.json()["details"]["reason"] == "NOT_EQUIVALENT"

    def test_eps_vital_allows_another_presentation_and_needs_biometrics(self, hospital, pharmacy, preauthorize,
                                                                        read_otp):
        response = preauthorize("eps-vital", ("MED-001", 21))
        base = f"/arc/v1/preauthorizations/{response.json()['preauthorization_id']}"
        hospital.post(f"{base}/otp", json={"otp": read_otp(response.json()["preauthorization_id"])})
        code = code_of(hospital.post(f"{base}/complete"))
        dispensation = dispense(pharmacy, code)
        assert dispensation["verification"]["methods"] == ["BIOMETRIC"]
        allowed = swap(pharmacy, dispensation, "MED-001", "MED-357", 21)  # tablets for capsules
        assert allowed.status_code == 200
        refused = swap(pharmacy, dispensation, "MED-001", "MED-004", 21)  # 875 mg: another strength
        assert refused.status_code == 422 and refused.json()["error_code"] == "091-107"

    def test_ars_caribe_allows_no_substitution(self, hospital, pharmacy, preauthorize):
        response = preauthorize("ars-caribe", ("MED-001", 21))
        base = f"/arc/v1/preauthorizations/{response.json()['preauthorization_id']}"
        hospital.post(f"{base}/biometric", json={"modality": "FINGERPRINT",
                                                 "reading": base64.b64encode(b"finger").decode()})
        hospital.get(f"{base}/verification-status")
        dispensation = dispense(pharmacy, code_of(hospital.post(f"{base}/complete")))
        assert dispensation["verification"]["methods"] == ["OTP", "BIOMETRIC"]
        refused = swap(pharmacy, dispensation, "MED-001", "MED-002", 21)
        assert refused.status_code == 422 and refused.json()["details"]["reason"] == "NOT_ALLOWED"

    def test_a_lab_dispenses_a_lab_authorization(self, hospital, preauthorize):
        code = code_of(preauthorize("acme-salud", ("LAB-001", 1)))
        dispensation = dispense(hospital, code)
        completed = hospital.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete").json()
        assert hospital.get(f"/arc/v1/claims/{completed['claim_id']}").json()["claim_type"] == "LAB"

    def test_voiding_the_dispensation_frees_the_authorization(self, pharmacy, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        first = dispense(pharmacy, code)
        pharmacy.post(f"/dispensing/v1/dispensations/{first['dispensation_id']}/void")
        assert dispense(pharmacy, code)["status"] == "STARTED"

    def test_a_redeemed_code_cannot_be_dispensed_again(self, hospital, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        dispensation = dispense(hospital, code)
        hospital.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete")
        again = hospital.post("/dispensing/v1/dispensations", json={"code": code})
        assert again.status_code == 409 and again.json()["error_code"] == "091-102"

    @pytest.mark.parametrize("sponsor, product, error_code", [
        ("seguros-andinos", ("IMG-020", 1), "061-121"),  # pending review
        ("acme-salud", ("IMG-001", 1), "061-121"),  # rejected
    ])
    def test_only_approved_authorizations_dispense(self, hospital, preauthorize, sponsor, product, error_code):
        code = code_of(preauthorize(sponsor, product))
        response = hospital.post("/dispensing/v1/dispensations", json={"code": code})
        assert response.status_code == 409 and response.json()["error_code"] == error_code


class TestVoidAndExpiry:
    def test_void_then_dispensing_is_refused(self, hospital, pharmacy, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        voided = hospital.post(f"/arc/v1/authorizations/{code}/void")
        assert voided.status_code == 200 and voided.json()["status"] == "VOIDED"
        response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
        assert response.status_code == 409 and response.json()["error_code"] == "061-122"

    def test_voiding_during_a_dispensation_stops_its_completion(self, hospital, pharmacy, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        dispensation = dispense(pharmacy, code)
        hospital.post(f"/arc/v1/authorizations/{code}/void")
        response = pharmacy.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete")
        assert response.status_code == 409 and response.json()["error_code"] == "061-122"

    def test_only_the_requesting_provider_may_void(self, clinic, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        assert clinic.post(f"/arc/v1/authorizations/{code}/void").status_code == 404

    def test_a_redeemed_authorization_cannot_be_voided(self, hospital, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        dispensation = dispense(hospital, code)
        hospital.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete")
        response = hospital.post(f"/arc/v1/authorizations/{code}/void")
        assert response.status_code == 409 and response.json()["error_code"] == "061-124"

    def test_an_unused_approval_expires(self, simulator_app, hospital, pharmacy, preauthorize):
        code = code_of(preauthorize("acme-salud", ("MED-001", 21)))
        with simulator_app.app_context():
            row = db.session.scalar(db.select(Authorization).filter_by(code=code))
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        assert hospital.get(f"/arc/v1/authorizations/{code}").json()["status"] == "EXPIRED"
        response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
        assert response.status_code == 409 and response.json()["error_code"] == "061-123"
