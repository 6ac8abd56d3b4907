"""Two-phase pre-authorizations, adjudicated per the sponsor's rules."""

import base64
from datetime import timedelta

import pytest

from simulator.db import db, utcnow
from simulator.models import Authorization

PDF = ("order.pdf", b"%PDF-1.4\n% a medical order\n", "application/pdf")


def statuses(body):
    return [(tuple(p["product_code"] for p in a["products"]), a["status"]) for a in body["authorizations"]]


def test_seguros_andinos_groups_by_type_with_partial_approval(preauthorize):
    response = preauthorize("seguros-andinos", ("MED-001", 21), ("LAB-001", 1), ("IMG-020", 1))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETED"
    assert statuses(body) == [(("MED-001",), "APPROVED"), (("LAB-001",), "APPROVED"), (("IMG-020",), "PENDING")]
    pending = body["authorizations"][2]
    assert pending["reason"] == "MEDICAL_REVIEW" and pending["expires_at"] is None
    approved = body["authorizations"][0]
    assert approved["authorization_code"].startswith("AUT-") and approved["expires_at"]


def test_eps_vital_needs_an_otp_and_issues_one_authorization_per_product(hospital, preauthorize, read_otp):
    response = preauthorize("eps-vital", ("MED-001", 21), ("LAB-001", 1))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING_VERIFICATION" and body["verification"]["otp"]["status"] == "PENDING"
    base = f"/arc/v1/preauthorizations/{body['preauthorization_id']}"
    assert hospital.post(f"{base}/otp", json={"otp": read_otp(body["preauthorization_id"])}).status_code == 200
    completed = hospital.post(f"{base}/complete").json()
    assert statuses(completed) == [(("MED-001",), "APPROVED"), (("LAB-001",), "APPROVED")]


def test_ars_caribe_needs_a_biometric_match_and_issues_one_authorization(hospital, preauthorize):
    response = preauthorize("ars-caribe", ("MED-001", 21), ("LAB-001", 1), ("IMG-001", 1))
    assert response.status_code == 202
    base = f"/arc/v1/preauthorizations/{response.json()['preauthorization_id']}"
    assert response.json()["verification"]["methods"] == ["BIOMETRIC"]
    reading = base64.b64encode(b"fingerprint").decode()
    assert hospital.post(f"{base}/biometric", json={"modality": "FINGERPRINT", "reading": reading}).status_code == 202
    assert hospital.get(f"{base}/verification-status").json()["biometric"]["status"] == "MATCH"
    completed = hospital.post(f"{base}/complete").json()
    assert statuses(completed) == [(("MED-001", "LAB-001", "IMG-001"), "APPROVED")]


def test_ars_caribe_biometric_no_match_blocks_the_request(hospital, preauthorize):
    base = f"/arc/v1/preauthorizations/{preauthorize('ars-caribe', ('MED-001', 21)).json()['preauthorization_id']}"
    reading = base64.b64encode(b"NO-MATCH").decode()
    hospital.post(f"{base}/biometric", json={"modality": "FACE", "reading": reading})
    assert hospital.get(f"{base}/verification-status").json()["status"] == "FAILED"
    again = hospital.post(f"{base}/complete")
    assert again.status_code == 202 and again.json()["authorizations"] == []


def test_acme_approves_without_verification_and_rejects_what_it_does_not_cover(preauthorize):
    body = preauthorize("acme-salud", ("MED-001", 21), ("IMG-001", 1)).json()
    assert statuses(body) == [(("MED-001",), "APPROVED"), (("IMG-001",), "REJECTED")]
    assert body["authorizations"][1]["reason"] == "NOT_COVERED"


def test_a_plan_exclusion_rejects_that_group(hospital, find_beneficiary):
    jorge = find_beneficiary("seguros-andinos", policy_number="SA-10000002")
    created = hospital.post("/arc/v1/preauthorizations", json={
        "beneficiary_id": jorge["beneficiary_id"],
        "products": [{"product_code": "LAB-001", "quantity": 1}, {"product_code": "IMG-001", "quantity": 1}]}).json()
    base = f"/arc/v1/preauthorizations/{created['preauthorization_id']}"
    hospital.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}]})
    hospital.post(f"{base}/documents", data={"document_type": "MEDICAL_ORDER"}, files={"file": PDF})
    body = hospital.post(f"{base}/complete").json()
    assert statuses(body) == [(("LAB-001",), "APPROVED"), (("IMG-001",), "REJECTED")]
    assert body["authorizations"][1]["reason"] == "NOT_COVERED_BY_PLAN"


def test_an_excluded_product_is_rejected(preauthorize):
    body = preauthorize("seguros-andinos", ("MED-287", 4)).json()
    assert statuses(body) == [(("MED-287",), "REJECTED")]
    assert body["authorizations"][0]["reason"] == "EXCLUDED_PRODUCT"


def test_labs_imaging_and_procedures_all_work(preauthorize):
    body = preauthorize("seguros-andinos", ("LAB-001", 1), ("IMG-001", 1), ("PRC-001", 1)).json()
    assert [a["status"] for a in body["authorizations"]] == ["APPROVED"] * 3


def test_a_suspended_beneficiary_cannot_be_preauthorized(hospital, find_beneficiary):
    camila = find_beneficiary("seguros-andinos", policy_number="SA-10000003")
    response = hospital.post("/arc/v1/preauthorizations", json={
        "beneficiary_id": camila["beneficiary_id"], "products": [{"product_code": "LAB-001", "quantity": 1}]})
    assert response.status_code == 422 and response.json()["error_code"] == "061-102"


def test_products_must_be_registered(clinic, find_beneficiary):
    ana = find_beneficiary("seguros-andinos")
    response = clinic.post("/arc/v1/preauthorizations", json={
        "beneficiary_id": ana["beneficiary_id"], "products": [{"product_code": "MED-042", "quantity": 10}]})
    assert response.status_code == 422 and response.json()["error_code"] == "061-116"


class TestTwoPhase:
    def test_indications_and_documents_in_any_order(self, hospital, preauthorize):
        base = preauthorize("seguros-andinos", ("PRC-001", 1), documents=[], complete=False)
        hospital.post(f"{base}/documents", data={"document_type": "CLINICAL_HISTORY"}, files={"file": PDF})
        hospital.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "J45.9"}], "notes": "asthma"})
        hospital.post(f"{base}/documents", data={"document_type": "MEDICAL_ORDER"},
                      files={"file": ("order.png", b"\x89PNG\r\n", "image/png")})
        body = hospital.get(base).json()
        assert all(item["provided"] for item in body["required_documents"])
        assert body["indications"]["diagnoses"][0]["diagnosis_code"] == "J45.9"
        assert hospital.post(f"{base}/complete").json()["status"] == "COMPLETED"

    def test_complete_without_required_documents_is_422_and_leaves_a_draft(self, hospital, preauthorize):
        base = preauthorize("seguros-andinos", ("PRC-001", 1), documents=["MEDICAL_ORDER"], complete=False)
        response = hospital.post(f"{base}/complete")
        assert response.status_code == 422 and response.json()["error_code"] == "061-113"
        assert response.json()["details"] == [{"product_type": "PROCEDURE", "document_type": "CLINICAL_HISTORY",
                                               "label": {"es": "Historia clínica", "en": "Clinical history"}}]
        body = hospital.get(base).json()
        assert body["status"] == "DRAFT" and body["authorizations"] == []
        hospital.post(f"{base}/documents", data={"document_type": "CLINICAL_HISTORY"}, files={"file": PDF})
        assert hospital.post(f"{base}/complete").status_code == 200

    def test_complete_without_indications_is_422(self, hospital, find_beneficiary):
        ana = find_beneficiary("seguros-andinos")
        created = hospital.post("/arc/v1/preauthorizations", json={
            "beneficiary_id": ana["beneficiary_id"], "products": [{"product_code": "LAB-001", "quantity": 1}]}).json()
        response = hospital.post(f"/arc/v1/preauthorizations/{created['preauthorization_id']}/complete")
        assert response.status_code == 422 and response.json()["error_code"] == "061-112"

    def test_document_rules(self, hospital, preauthorize, simulator_app):
        base = preauthorize("seguros-andinos", ("IMG-001", 1), documents=[], complete=False)
        wrong_type = hospital.post(f"{base}/documents", data={"document_type": "MEDICAL_ORDER"},
                                   files={"file": ("x.exe", b"MZ", "application/octet-stream")})
        assert wrong_type.status_code == 415 and wrong_type.json()["error_code"] == "061-114"
        unknown_kind = hospital.post(f"{base}/documents", data={"document_type": "SELFIE"}, files={"file": PDF})
        assert unknown_kind.status_code == 422 and unknown_kind.json()["error_code"] == "061-114"
        big = b"%PDF" + b"0" * simulator_app.config["SUPPORT_DOCUMENT_MAX_BYTES"]
        too_big = hospital.post(f"{base}/documents", data={"document_type": "MEDICAL_ORDER"},
                                files={"file": ("big.pdf", big, "application/pdf")})
        assert too_big.status_code == 413 and too_big.json()["error_code"] == "061-115"
        no_file = hospital.post(f"{base}/documents", data={"document_type": "MEDICAL_ORDER"})
        assert no_file.status_code == 422

    def test_a_document_can_be_removed_while_a_draft(self, hospital, preauthorize):
        base = preauthorize("seguros-andinos", ("IMG-001", 1), documents=["MEDICAL_ORDER"], complete=False)
        document = hospital.get(base).json()["documents"][0]
        assert document["sha256"] and document["size"] == len(PDF[1])
        assert hospital.delete(f"{base}/documents/{document['document_id']}").status_code == 204
        assert hospital.get(base).json()["documents"] == []

    def test_a_completed_request_is_locked(self, hospital, preauthorize):
        body = preauthorize("seguros-andinos", ("LAB-001", 1)).json()
        base = f"/arc/v1/preauthorizations/{body['preauthorization_id']}"
        locked = hospital.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}]})
        assert locked.status_code == 409 and locked.json()["error_code"] == "061-111"
        assert hospital.post(f"{base}/complete").json()["error_code"] == "061-111"

    def test_another_provider_cannot_see_the_request(self, clinic, preauthorize):
        body = preauthorize("seguros-andinos", ("LAB-001", 1)).json()
        response = clinic.get(f"/arc/v1/preauthorizations/{body['preauthorization_id']}")
        assert response.status_code == 404 and response.json()["error_code"] == "061-110"


class TestRejectThenRetry:
    def test_a_rejected_request_is_reopened_not_orphaned(self, hospital, preauthorize):
        body = preauthorize("acme-salud", ("IMG-001", 1)).json()
        base = f"/arc/v1/preauthorizations/{body['preauthorization_id']}"
        assert statuses(body) == [(("IMG-001",), "REJECTED")]
        reopened = hospital.post(f"{base}/reopen").json()
        assert reopened["status"] == "DRAFT" and reopened["attempt"] == 2 and reopened["authorizations"] == []
        completed = hospital.post(f"{base}/complete").json()
        assert completed["attempt"] == 2 and len(completed["authorizations"]) == 1
        history = hospital.get("/arc/v1/authorizations", params={"preauthorization_id": body["preauthorization_id"]})
        assert sorted(a["attempt"] for a in history.json()["data"]) == [1, 2]

    def test_an_approved_request_cannot_be_reopened(self, hospital, preauthorize):
        body = preauthorize("acme-salud", ("LAB-001", 1)).json()
        response = hospital.post(f"/arc/v1/preauthorizations/{body['preauthorization_id']}/reopen")
        assert response.status_code == 409 and response.json()["error_code"] == "061-118"


class TestPendingDecisions:
    def test_the_sandbox_reviewer_decides(self, hospital, api, preauthorize):
        pending = preauthorize("seguros-andinos", ("IMG-020", 1)).json()["authorizations"][0]
        decided = api().post(f"/sandbox/v1/authorizations/{pending['authorization_code']}/decision",
                             json={"status": "REJECTED"})
        assert decided.json()["status"] == "REJECTED" and decided.json()["reason"] == "MEDICAL_REVIEW_DENIED"
        again = api().post(f"/sandbox/v1/authorizations/{pending['authorization_code']}/decision",
                           json={"status": "APPROVED"})
        assert again.status_code == 409

    def test_an_undecided_review_is_approved_when_its_time_comes(self, simulator_app, hospital, preauthorize):
        pending = preauthorize("seguros-andinos", ("IMG-020", 1)).json()["authorizations"][0]
        with simulator_app.app_context():
            row = db.session.get(Authorization, pending["authorization_id"])
            row.decide_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        decided = hospital.get(f"/arc/v1/authorizations/{pending['authorization_code']}").json()
        assert decided["status"] == "APPROVED" and decided["expires_at"]


@pytest.mark.parametrize("body", [
    {"beneficiary_id": "ben_SA0001", "products": []},
    {"beneficiary_id": "ben_SA0001", "products": [{"product_code": "LAB-001", "quantity": 0}]},
    {"beneficiary_id": "ben_SA0001", "products": [{"product_code": "LAB-001", "quantity": 1}] * 2},
    {"products": [{"product_code": "LAB-001", "quantity": 1}]},
])
def test_malformed_requests_are_422(hospital, body):
    response = hospital.post("/arc/v1/preauthorizations", json=body)
    assert response.status_code == 422 and response.json()["error_code"] == "000-422"


def test_an_unknown_beneficiary_is_422(hospital):
    response = hospital.post("/arc/v1/preauthorizations", json={
        "beneficiary_id": "ben_nobody", "products": [{"product_code": "LAB-001", "quantity": 1}]})
    assert response.status_code == 422 and response.json()["error_code"] == "061-101"
