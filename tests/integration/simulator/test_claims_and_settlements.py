"""Claims filed directly, and Dominican Republic settlement batches."""

import base64
from datetime import date, timedelta

import pytest


def code_of(response, index=0):
    return response.json()["authorizations"][index]["authorization_code"]


def redeemed_ars_code(hospital, preauthorize):
    """An ARS Caribe authorization the hospital has dispensed (OTP for the dispensation, biometric before)."""
    response = preauthorize("ars-caribe", ("LAB-001", 1))
    base = f"/arc/v1/preauthorizations/{response.json()['preauthorization_id']}"
    hospital.post(f"{base}/biometric", json={"modality": "FINGERPRINT", "reading": base64.b64encode(b"f").decode()})
    hospital.get(f"{base}/verification-status")
    code = code_of(hospital.post(f"{base}/complete"))
    dispensation = hospital.post("/dispensing/v1/dispensations", json={"code": code}).json()
    complete = f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete"
    hospital.post(complete)
    hospital.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/biometric",
                  json={"modality": "FINGERPRINT", "reading": base64.b64encode(b"f").decode()})
    hospital.get(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/verification-status")
    assert hospital.post(complete).json()["status"] == "DISPENSED"
    return code


OUTPATIENT = {
    "beneficiary_id": "ben_SA0001",
    "claim_type": "OUTPATIENT",
    "service_date": date.today().isoformat(),
    "diagnoses": [{"diagnosis_code": "J06.9"}],
    "lines": [{"product_code": "PRC-001", "quantity": 1, "unit_price": 85000}],
}


class TestDirectClaims:
    def test_file_an_outpatient_encounter(self, hospital):
        response = hospital.post("/arc/v1/claims", json=OUTPATIENT)
        assert response.status_code == 201
        claim = response.json()
        assert claim["source"] == "DIRECT" and claim["sponsor_slug"] == "seguros-andinos"
        assert claim["total"] == 85000
        assert hospital.get(f"/arc/v1/claims/{claim['claim_id']}").json() == claim

    def test_list_with_filters(self, hospital):
        hospital.post("/arc/v1/claims", json=OUTPATIENT)
        hospital.post("/arc/v1/claims", json=OUTPATIENT | {"claim_type": "PROCEDURE"})
        procedures = hospital.get("/arc/v1/claims", params={"claim_type": "PROCEDURE"}).json()["data"]
        assert [c["claim_type"] for c in procedures] == ["PROCEDURE"]
        future = (date.today() + timedelta(days=1)).isoformat()
        assert hospital.get("/arc/v1/claims", params={"service_date_from": future}).json()["data"] == []
        bad = hospital.get("/arc/v1/claims", params={"service_date_to": "yesterday"})
        assert bad.status_code == 422

    def test_lines_must_be_registered_products(self, clinic):
        response = clinic.post("/arc/v1/claims", json=OUTPATIENT | {
            "lines": [{"product_code": "MED-042", "quantity": 1}]})
        assert response.status_code == 422 and response.json()["error_code"] == "061-131"

    def test_a_suspended_beneficiary_cannot_claim(self, hospital):
        response = hospital.post("/arc/v1/claims", json=OUTPATIENT | {"beneficiary_id": "ben_SA0003"})
        assert response.status_code == 422 and response.json()["error_code"] == "061-102"

    def test_a_claim_redeems_the_authorization_it_names(self, hospital, preauthorize):
        code = code_of(preauthorize("seguros-andinos", ("PRC-001", 1)))
        claim = hospital.post("/arc/v1/claims", json=OUTPATIENT | {"authorization_code": code}).json()
        assert claim["authorization_code"] == code
        assert hospital.get(f"/arc/v1/authorizations/{code}").json()["status"] == "REDEEMED"
        again = hospital.post("/arc/v1/claims", json=OUTPATIENT | {"authorization_code": code})
        assert again.status_code == 422 and again.json()["error_code"] == "061-132"

    def test_a_future_service_date_is_422(self, hospital):
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        response = hospital.post("/arc/v1/claims", json=OUTPATIENT | {"service_date": tomorrow})
        assert response.status_code == 422 and response.json()["details"][0]["field"] == "service_date"

    def test_the_pharmacy_has_no_claims_scope(self, pharmacy):
        assert pharmacy.get("/arc/v1/claims").status_code == 403


class TestSettlements:
    def test_batch_submit_and_follow_to_paid(self, hospital, api, preauthorize):
        code = redeemed_ars_code(hospital, preauthorize)
        created = hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe", "authorization_codes": [code]})
        assert created.status_code == 201
        batch = created.json()
        assert batch["status"] == "DRAFT" and batch["authorization_codes"] == [code]
        base = f"/v3/settlements/{batch['settlement_id']}"
        assert hospital.post(f"{base}/submit").json()["status"] == "SUBMITTED"
        for expected in ("IN_REVIEW", "APPROVED", "PAID"):
            assert api().post(f"/sandbox/v1/settlements/{batch['settlement_id']}/advance").json()["status"] == expected
        followed = hospital.get(base).json()
        assert [step["status"] for step in followed["history"]] == [
            "DRAFT", "SUBMITTED", "IN_REVIEW", "APPROVED", "PAID"]
        assert followed["next_step_at"] is None

    def test_a_batch_can_be_rejected_in_review_and_its_codes_batched_again(self, hospital, api, preauthorize):
        code = redeemed_ars_code(hospital, preauthorize)
        batch = hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe",
                                                       "authorization_codes": [code]}).json()
        hospital.post(f"/v3/settlements/{batch['settlement_id']}/submit")
        rejected = api().post(f"/sandbox/v1/settlements/{batch['settlement_id']}/advance", json={"status": "REJECTED"})
        assert rejected.json()["status"] == "REJECTED"
        again = hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe", "authorization_codes": [code]})
        assert again.status_code == 201

    def test_only_redeemed_own_unbatched_codes_of_that_sponsor(self, hospital, preauthorize):
        code = redeemed_ars_code(hospital, preauthorize)
        hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe", "authorization_codes": [code]})
        unredeemed = code_of(preauthorize("acme-salud", ("LAB-001", 1)))
        response = hospital.post("/v3/settlements", json={
            "sponsor_slug": "ars-caribe", "authorization_codes": [code, unredeemed, "AUT-2026-00000000"]})
        assert response.status_code == 422 and response.json()["error_code"] == "061-141"
        issues = {item["authorization_code"]: item["issue"] for item in response.json()["details"]}
        assert issues[code] == "already in another batch"
        assert "Plan de Salud Acme" in issues[unredeemed]
        assert issues["AUT-2026-00000000"] == "not one of your authorizations"

    def test_a_sponsor_without_batches_refuses(self, hospital):
        response = hospital.post("/v3/settlements", json={"sponsor_slug": "eps-vital",
                                                          "authorization_codes": ["AUT-2026-00000000"]})
        assert response.status_code == 422 and response.json()["error_code"] == "061-143"

    def test_a_submitted_batch_cannot_be_submitted_again(self, hospital, preauthorize):
        code = redeemed_ars_code(hospital, preauthorize)
        batch = hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe",
                                                       "authorization_codes": [code]}).json()
        hospital.post(f"/v3/settlements/{batch['settlement_id']}/submit")
        again = hospital.post(f"/v3/settlements/{batch['settlement_id']}/submit")
        assert again.status_code == 409 and again.json()["error_code"] == "061-142"

    @pytest.mark.parametrize("simulator_config", [{"SETTLEMENT_STEP_SECONDS": 0}])
    def test_the_sponsor_moves_a_batch_along_on_its_own(self, hospital, preauthorize):
        code = redeemed_ars_code(hospital, preauthorize)
        batch = hospital.post("/v3/settlements", json={"sponsor_slug": "ars-caribe",
                                                       "authorization_codes": [code]}).json()
        hospital.post(f"/v3/settlements/{batch['settlement_id']}/submit")
        assert hospital.get(f"/v3/settlements/{batch['settlement_id']}").json()["status"] == "IN_REVIEW"


def test_unknown_claim_and_settlement_are_404(hospital):
    claim = hospital.get("/arc/v1/claims/clm_nothing")
    assert claim.status_code == 404 and claim.json()["error_code"] == "061-130"
    settlement = hospital.get("/v3/settlements/stl_nothing")
    assert settlement.status_code == 404 and settlement.json()["error_code"] == "061-140"
