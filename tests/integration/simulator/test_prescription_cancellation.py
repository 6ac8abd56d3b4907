"""Cancelling a prescription: only its prescriber, only before a pharmacy dispenses it, and then never dispensed."""

import io

import pytest
import requests
from pypdf import PdfReader

ANA = "pat_01HXE0000000000000000ANA01"
V1 = {
    "patient_id": ANA,
    "diagnoses": [{"diagnosis_code": "R51"}],
    "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}],
}


@pytest.fixture
def issued(hospital):
    """A prescription the hospital has just issued, as its create call answered."""
    response = hospital.post("/ehr/v1/prescriptions", json=V1)
    assert response.status_code == 201, response.text
    return response.json()


def cancel_url(prescription):
    return f"/ehr/v1/prescriptions/{prescription['prescription_id']}/cancel"


def test_the_prescriber_cancels_with_a_reason(hospital, issued):
    response = hospital.post(cancel_url(issued), json={"reason": "Wrong dose"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "PRESCRIPTION_CANCELLED"
    assert body["cancellation_reason"] == "Wrong dose"
    assert body["cancelled_at"] >= body["created_at"]
    again = hospital.get(f"/ehr/v1/prescriptions/{issued['prescription_id']}").json()
    assert again["status"] == "PRESCRIPTION_CANCELLED" and again["cancellation_reason"] == "Wrong dose"


def test_the_body_is_optional(hospital, issued):
    response = hospital.post(cancel_url(issued))
    assert response.status_code == 200, response.text
    assert response.json()["cancellation_reason"] is None


@pytest.mark.parametrize("body", [{"reason": "x" * 201}, {"reason": "ok", "why": "unknown field"}])
def test_a_malformed_body_is_422_and_changes_nothing(hospital, issued, body):
    response = hospital.post(cancel_url(issued), json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"
    assert hospital.get(f"/ehr/v1/prescriptions/{issued['prescription_id']}").json()["status"] == "PRESCRIPTION_ISSUED"


def test_only_the_issuing_provider_may_cancel(clinic, hospital, issued):
    response = clinic.post(cancel_url(issued))
    assert response.status_code == 404
    assert response.json()["error_code"] == "081-120"
    assert hospital.get(f"/ehr/v1/prescriptions/{issued['prescription_id']}").json()["status"] == "PRESCRIPTION_ISSUED"


def test_cancelling_needs_the_write_scope(api, issued):
    reader = api("demo-hospital", scope="ehr:read")
    response = reader.post(cancel_url(issued))
    assert response.status_code == 403


def test_cancelling_twice_is_409(hospital, issued):
    assert hospital.post(cancel_url(issued)).status_code == 200
    response = hospital.post(cancel_url(issued))
    assert response.status_code == 409
    assert response.json()["error_code"] == "081-124"


def test_the_same_idempotency_key_replays_the_cancellation(hospital, issued):
    headers = {"Idempotency-Key": "cancel-once-1"}
    first = hospital.post(cancel_url(issued), json={"reason": "Duplicate"}, headers=headers)
    replay = hospital.post(cancel_url(issued), json={"reason": "Duplicate"}, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["cancelled_at"] == first.json()["cancelled_at"]


def test_a_dispensed_prescription_cannot_be_cancelled(hospital, pharmacy, issued, start):
    dispensation = start(issued["prescription_code"])
    completed = pharmacy.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete")
    assert completed.status_code == 200, completed.text
    response = hospital.post(cancel_url(issued))
    assert response.status_code == 409
    assert response.json()["error_code"] == "081-122"


def test_a_prescription_being_dispensed_cannot_be_cancelled_until_the_pharmacy_voids(hospital, pharmacy, issued,
                                                                                      start):
    dispensation = start(issued["prescription_code"])
    refused = hospital.post(cancel_url(issued))
    assert refused.status_code == 409
    assert refused.json()["error_code"] == "081-123"
    assert "details" not in refused.json()  # the prescriber is not told which pharmacy holds it
    pharmacy.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/void")
    assert hospital.post(cancel_url(issued)).status_code == 200


@pytest.mark.parametrize("code_case", [str.upper, str.lower])
def test_a_cancelled_code_cannot_be_dispensed(hospital, pharmacy, issued, code_case):
    hospital.post(cancel_url(issued))
    response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code_case(issued["prescription_code"])})
    assert response.status_code == 409
    assert response.json()["error_code"] == "081-124"


def test_a_cancelled_prescription_is_not_resent(hospital, issued, api):
    hospital.post(cancel_url(issued))
    response = hospital.post(f"/ehr/v1/prescriptions/{issued['prescription_id']}/resend", json={"channel": "EMAIL"})
    assert response.status_code == 409
    assert response.json()["error_code"] == "081-124"
    sent = api().get("/sandbox/v1/messages", params={"reference": issued["prescription_id"]}).json()["data"]
    assert sent == []


def test_the_pdf_of_a_cancelled_prescription_says_so(hospital, issued):
    cancelled = hospital.post(cancel_url(issued)).json()
    pdf = requests.get(cancelled["download_url"], params={"lang": "es"}, timeout=10)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Anulada por el prescriptor: no dispensar" in text
