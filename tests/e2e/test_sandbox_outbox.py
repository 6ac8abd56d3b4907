"""A pharmacist's colleague reads the beneficiary's OTP from the sandbox outbox page to finish a dispensation."""

import pytest

pytestmark = pytest.mark.e2e


def test_read_the_otp_from_the_outbox_page_and_finish_dispensing(page, simulator_url, hospital, pharmacy):
    code = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01",
        "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"}],
    }).json()["prescription_code"]
    dispensation = pharmacy.post("/dispensing/v1/dispensations", json={"code": code}).json()
    base = f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}"
    assert pharmacy.post(f"{base}/complete").status_code == 202

    page.goto(f"{simulator_url}/sandbox/outbox")
    row = page.locator("tbody tr").first
    assert "+573001234567" in row.inner_text()
    otp = row.locator(".otp").inner_text()
    assert len(otp) == 6 and otp.isdigit()

    assert pharmacy.post(f"{base}/otp", json={"otp": otp}).json()["status"] == "VERIFIED"
    assert pharmacy.post(f"{base}/complete").json()["status"] == "DISPENSED"


def test_the_prescription_email_links_to_its_pdf(page, simulator_url, clinic):
    created = clinic.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01",
        "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-044", "quantity": 4, "posology": "1 tablet once"}],
    }).json()
    clinic.post(f"/ehr/v1/prescriptions/{created['prescription_id']}/resend", json={"channel": "EMAIL"})

    page.goto(f"{simulator_url}/sandbox/outbox")
    link = page.get_by_role("link", name="Download the prescription (PDF)")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
