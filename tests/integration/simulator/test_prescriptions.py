"""ePrescription: v1, v1.1 with consent, v2 with Spain's signed hash, the PDF and resend."""

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator import signing
from simulator.seed import demo_signing_key_pem

ANA = "pat_01HXE0000000000000000ANA01"
V1 = {
    "patient_id": ANA,
    "diagnoses": [{"diagnosis_code": "R51"}],
    "medications": [{"product_code": "MED-044", "quantity": 4, "posology": "1 tablet once", "duration_days": 1}],
}


def signed_v2(body, key_pem=None):
    """Add the national repository id and a signed hash to a v1 body, as a certified provider would."""
    body = body | {"national_repository_id": "ES-RNR-0000001"}
    return body | {"signed_hash": signing.sign(key_pem or demo_signing_key_pem(), body)}


def test_v1_returns_the_seed_body(clinic):
    response = clinic.post("/ehr/v1/prescriptions", json=V1)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"prescription_id", "prescription_code", "status", "created_at"}
    assert body["prescription_id"].startswith("rx_")
    assert body["prescription_code"].startswith("RX-")
    assert body["status"] == "PRESCRIPTION_ISSUED"


def test_get_returns_lines_diagnoses_and_a_download_url_to_a_real_pdf(clinic):
    created = clinic.post("/ehr/v1/prescriptions", json=V1).json()
    prescription = clinic.get(f"/ehr/v1/prescriptions/{created['prescription_id']}").json()
    assert prescription["prescription_code"] == created["prescription_code"]
    assert prescription["diagnoses"] == [{"diagnosis_code": "R51", "description": "Headache"}]
    assert prescription["medications"][0]["product_code"] == "MED-044"
    assert prescription["version"] == "v1"

    pdf = requests.get(prescription["download_url"], timeout=10)  # no token: the link itself is signed
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert created["prescription_code"].encode() in pdf.content


def test_a_forged_pdf_link_is_refused(clinic):
    created = clinic.post("/ehr/v1/prescriptions", json=V1).json()
    response = clinic.get(f"/ehr/v1/prescriptions/{created['prescription_id']}/pdf", params={"signature": "forged"})
    assert response.status_code == 403


def test_another_provider_cannot_read_the_prescription(clinic, hospital):
    created = clinic.post("/ehr/v1/prescriptions", json=V1).json()
    response = hospital.get(f"/ehr/v1/prescriptions/{created['prescription_id']}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "081-120"


def test_unregistered_medication_is_422(clinic):
    body = V1 | {"medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8h"}]}
    response = clinic.post("/ehr/v1/prescriptions", json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-111"
    assert "MED-042" in response.json()["details"][0]["issue"]


def test_unknown_diagnosis_is_422(clinic):
    response = clinic.post("/ehr/v1/prescriptions", json=V1 | {"diagnoses": [{"diagnosis_code": "R99.9"}]})
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-112"


def test_a_lab_cannot_be_prescribed(clinic):
    body = V1 | {"medications": [{"product_code": "LAB-001", "quantity": 1, "posology": "once"}]}
    response = clinic.post("/ehr/v1/prescriptions", json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"


@pytest.mark.parametrize("change", [
    {"medications": []},
    {"diagnoses": []},
    {"medications": [{"product_code": "MED-044", "quantity": 0, "posology": "x"}]},
    {"medications": [{"product_code": "MED-044", "quantity": 1, "posology": "x"}] * 2},
    {"patient_data_consent": True},
])
def test_malformed_v1_is_422(clinic, change):
    response = clinic.post("/ehr/v1/prescriptions", json=V1 | change)
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"


def test_unknown_patient_is_422(clinic):
    response = clinic.post("/ehr/v1/prescriptions", json=V1 | {"patient_id": "pat_nobody"})
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-101"


@pytest.mark.parametrize("consent", [None, False])
def test_v11_without_consent_is_422(clinic, consent):
    body = V1 if consent is None else V1 | {"patient_data_consent": consent}
    response = clinic.post("/ehr/v1.1/prescriptions", json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-110"


def test_v11_with_consent(clinic):
    response = clinic.post("/ehr/v1.1/prescriptions", json=V1 | {"patient_data_consent": True})
    assert response.status_code == 201
    prescription = clinic.get(f"/ehr/v1/prescriptions/{response.json()['prescription_id']}").json()
    assert prescription["version"] == "v1.1" and prescription["patient_data_consent"] is True


def test_v2_with_a_valid_signature(hospital):
    response = hospital.post("/ehr/v2/prescriptions", json=signed_v2(V1))
    assert response.status_code == 201
    prescription = hospital.get(f"/ehr/v1/prescriptions/{response.json()['prescription_id']}").json()
    assert prescription["version"] == "v2" and prescription["national_repository_id"] == "ES-RNR-0000001"


@pytest.mark.parametrize("tamper", [
    lambda b: b | {"medications": [b["medications"][0] | {"quantity": 40}]},
    lambda b: b | {"patient_id": "pat_01HXE0000000000000000CAR02"},
    lambda b: b | {"diagnoses": [{"diagnosis_code": "G43.9"}]},
])
def test_v2_with_a_tampered_field_is_422(hospital, tamper):
    response = hospital.post("/ehr/v2/prescriptions", json=tamper(signed_v2(V1)))
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-113"


def test_v2_signed_by_another_key_is_422(hospital):
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    response = hospital.post("/ehr/v2/prescriptions", json=signed_v2(V1, other))
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-114"


def test_v2_needs_a_certified_provider(clinic):
    response = clinic.post("/ehr/v2/prescriptions", json=signed_v2(V1))
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-115"


def test_a_provider_can_certify_its_own_key_in_the_sandbox(clinic):
    key = ec.generate_private_key(ec.SECP256R1())
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    certified = clinic.put("/sandbox/v1/certification", json={"public_key_pem": public_pem}).json()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    body = V1 | {"national_repository_id": certified["national_repository_id"]}
    body |= {"signed_hash": signing.sign(private_pem, body)}
    assert clinic.post("/ehr/v2/prescriptions", json=body).status_code == 201


def test_resend_by_email_lands_in_the_sandbox_outbox(clinic, api):
    created = clinic.post("/ehr/v1/prescriptions", json=V1).json()
    response = clinic.post(f"/ehr/v1/prescriptions/{created['prescription_id']}/resend", json={"channel": "EMAIL"})
    assert response.status_code == 202
    assert response.json()["sent_to"] == "a***@example.org"
    messages = api().get("/sandbox/v1/messages", params={"reference": created["prescription_id"]}).json()["data"]
    assert [m["recipient"] for m in messages] == ["ana.lopez@example.org"]
    assert created["prescription_code"] in messages[0]["body"]
    assert "/pdf?signature=" in messages[0]["link"]


def test_resend_without_an_email_on_file_is_422(clinic):
    body = V1 | {"patient_id": "pat_01HXE0000000000000000MAT04"}
    created = clinic.post("/ehr/v1/prescriptions", json=body).json()
    response = clinic.post(f"/ehr/v1/prescriptions/{created['prescription_id']}/resend", json={"channel": "EMAIL"})
    assert response.status_code == 422
    assert response.json()["error_code"] == "081-121"


def test_resend_channel_must_be_email(clinic):
    created = clinic.post("/ehr/v1/prescriptions", json=V1).json()
    response = clinic.post(f"/ehr/v1/prescriptions/{created['prescription_id']}/resend", json={"channel": "FAX"})
    assert response.status_code == 422


def test_idempotency_key_replays_instead_of_issuing_twice(clinic):
    headers = {"Idempotency-Key": "issue-once-123"}
    first = clinic.post("/ehr/v1/prescriptions", json=V1, headers=headers)
    again = clinic.post("/ehr/v1/prescriptions", json=V1, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    reused = clinic.post("/ehr/v1/prescriptions", json=V1 | {"diagnoses": [{"diagnosis_code": "J00"}]}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error_code"] == "000-423"
