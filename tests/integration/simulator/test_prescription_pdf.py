"""The prescription PDF and e-mail: any Latin, Greek or Cyrillic name prints, in the prescription's language."""

import io

import pytest
import requests
from babel.dates import format_date
from pypdf import PdfReader

from simulator import signing
from simulator.db import utcnow
from simulator.seed import demo_signing_key_pem

SEEDED = {
    "pat_01HXE0000000000000000ANA01": "Ana López",
    "pat_01HXE0000000000000000CAR02": "Carlos Pérez Gómez",
    "pat_01HXE0000000000000000LUC03": "Lucía Fernández",
    "pat_01HXE0000000000000000MAT04": "Mateo Rodríguez",
    "pat_01HXE0000000000000000SOF05": "Sofía Martínez",
}
ANA = "pat_01HXE0000000000000000ANA01"
SPANISH = {"Accept-Language": "es-CO,es;q=0.9"}


def prescription(patient_id, posology="1 tablet every 8 hours", duration_days=None):
    line = {"product_code": "MED-042", "quantity": 20, "posology": posology}
    return {"patient_id": patient_id, "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [line | ({"duration_days": duration_days} if duration_days else {})]}


@pytest.fixture
def issue(hospital):
    """Issue a prescription (in the language of headers) and return it as GET describes it."""

    def create(body, headers=None):
        created = hospital.post("/ehr/v1/prescriptions", json=body, headers=headers)
        assert created.status_code == 201, created.text
        return hospital.get(f"/ehr/v1/prescriptions/{created.json()['prescription_id']}").json()

    return create


@pytest.fixture
def new_patient(hospital):
    """Register a patient with the given names; return their id."""
    numbers = iter(range(7000001, 7999999))

    def create(first_name, last_name):
        response = hospital.post("/ehr/v1/patients", json={
            "first_name": first_name, "last_name": last_name, "document_type": "PA",
            "document_number": f"P{next(numbers)}", "date_of_birth": "1980-05-05", "email": "someone@example.org"})
        assert response.status_code in (200, 201), response.text
        return response.json()["patient_id"]

    return create


def pdf_text(url, **params):
    """Download a PDF link as a browser would and return the text a reader extracts from it."""
    response = requests.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize("patient_id, name", SEEDED.items())
def test_every_seeded_patient_prints(issue, patient_id, name):
    assert name in pdf_text(issue(prescription(patient_id))["download_url"])


@pytest.mark.parametrize("first_name, last_name", [("Ștefan", "Țăranu"), ("Γιώργος", "Παπαδόπουλος"),
                                                   ("Дмитрий", "Иванов")])
def test_romanian_greek_and_cyrillic_names_print(issue, new_patient, first_name, last_name):
    text = pdf_text(issue(prescription(new_patient(first_name, last_name)))["download_url"])
    assert f"{first_name} {last_name}" in text


def test_an_emoji_never_breaks_the_pdf(issue, new_patient):
    # DejaVu draws some emoji (😀) in black and white; one it lacks (🦄) prints as the replacement mark.
    text = pdf_text(issue(prescription(new_patient("Ana 😀", "Rosa 🦄")))["download_url"])
    assert "Ana 😀 Rosa \ufffd" in text


def test_the_pdf_speaks_the_language_the_prescription_was_issued_in(issue):
    issued = issue(prescription(ANA, "1 comprimido cada 8 horas"), SPANISH)
    assert issued["locale"] == "es"
    text = pdf_text(issued["download_url"])
    for words in ("Receta", "Paciente", "Diagnósticos", "R51 Cefalea", "Paracetamol 500 mg comprimido, caja de 20",
                  "Emitida, sin dispensar", format_date(utcnow(), "long", locale="es")):
        assert words in text
    assert "Headache" not in text and "tablet" not in text


def test_lang_asks_for_another_language(issue):
    issued = issue(prescription(ANA), SPANISH)
    english = pdf_text(issued["download_url"], lang="en")
    assert "R51 Headache" in english and "Issued, not yet dispensed" in english
    portuguese = pdf_text(issued["download_url"], lang="pt")
    # Portuguese words where there are some; the diagnosis title falls back to Spanish.
    assert "Receita" in portuguese and "caixa de 20" in portuguese and "R51 Cefalea" in portuguese


def test_the_duration_is_said_once(issue):
    said = pdf_text(issue(prescription(ANA, "1 comprimido cada 8 horas durante 5 días", 5), SPANISH)["download_url"])
    assert said.count("5 días") == 1
    unsaid = pdf_text(issue(prescription(ANA, "1 comprimido cada 8 horas", 5), SPANISH)["download_url"])
    assert "Duración: 5 días" in unsaid


def test_a_dispensed_prescription_says_so_in_words(issue, pharmacy):
    issued = issue(prescription(ANA), SPANISH)
    dispensation = pharmacy.post("/dispensing/v1/dispensations", json={"code": issued["prescription_code"]}).json()
    completed = pharmacy.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete")
    assert completed.status_code == 200, completed.text
    assert "Estado Dispensada" in pdf_text(issued["download_url"])


def test_the_resend_email_speaks_the_prescriptions_language(issue, hospital, api):
    issued = issue(prescription(ANA), {"Accept-Language": "pt-PT"})
    assert hospital.post(f"/ehr/v1/prescriptions/{issued['prescription_id']}/resend",
                         json={"channel": "EMAIL"}).status_code == 202
    message = api().get("/sandbox/v1/messages", params={"reference": issued["prescription_id"]}).json()["data"][0]
    assert message["subject"] == f"A sua receita {issued['prescription_code']}"
    assert message["body"].startswith("Olá, Ana:")
    assert format_date(utcnow(), "long", locale="pt") in message["body"]


def test_get_names_the_lines_and_diagnoses_in_accept_language(issue, hospital):
    issued = issue(prescription(ANA))
    assert issued["locale"] == "en"
    spanish = hospital.get(f"/ehr/v1/prescriptions/{issued['prescription_id']}", headers=SPANISH).json()
    assert spanish["diagnoses"] == [{"diagnosis_code": "R51", "description": "Cefalea"}]
    assert spanish["medications"][0]["name"] == "Paracetamol 500 mg comprimido"


def signed(body, version):
    """Make body a valid create body for version (v1.1 consents; v2 is certified and signed)."""
    if version == "v1.1":
        return body | {"patient_data_consent": True}
    if version == "v2":
        body = body | {"national_repository_id": "ES-RNR-0000001"}
        return body | {"signed_hash": signing.sign(demo_signing_key_pem(), body)}
    return body


@pytest.mark.parametrize("version, language, label", [("v1", "en", "Prescriber"), ("v1.1", "pt-PT", "Prescritor"),
                                                     ("v2", "es", "Prescriptor")])
def test_the_pdf_names_the_prescriber_as_sent(hospital, version, language, label):
    body = prescription(ANA) | {"doctor_id": "doc-7", "doctor_name": "  María José Núñez Țăranu  "}
    created = hospital.post(f"/ehr/{version}/prescriptions", json=signed(body, version),
                            headers={"Accept-Language": language})
    assert created.status_code == 201, created.text
    issued = hospital.get(f"/ehr/v1/prescriptions/{created.json()['prescription_id']}").json()
    assert issued["doctor_name"] == "María José Núñez Țăranu" and issued["doctor_id"] == "doc-7"
    text = pdf_text(issued["download_url"])
    assert f"{label} María José Núñez Țăranu" in text
    assert "doc-7" not in text and "Dr." not in text and "Dra." not in text  # no title invented


def test_the_name_is_not_part_of_the_v2_signed_hash(hospital):
    body = signed(prescription(ANA) | {"doctor_id": "doc-7"}, "v2")
    # Signed without a name, sent with one: the hash still matches.
    created = hospital.post("/ehr/v2/prescriptions", json=body | {"doctor_name": "Lucía Sanz"})
    assert created.status_code == 201, created.text


def test_without_a_name_the_pdf_prints_the_doctor_id_or_else_the_provider(issue):
    with_id = issue(prescription(ANA) | {"doctor_id": "doc-7"})
    assert with_id["doctor_name"] is None
    assert "Prescriber doc-7" in pdf_text(with_id["download_url"])
    assert "Prescriber Hospital Demo" in pdf_text(issue(prescription(ANA))["download_url"])


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, 42])
def test_a_blank_overlong_or_non_text_name_is_422(hospital, name):
    response = hospital.post("/ehr/v1/prescriptions", json=prescription(ANA) | {"doctor_name": name})
    assert response.status_code == 422, response.text
    assert "doctor_name" in response.text


def resend_body(hospital, api, issued):
    """Resend the prescription's e-mail and return the body the sandbox outbox shows."""
    assert hospital.post(f"/ehr/v1/prescriptions/{issued['prescription_id']}/resend",
                         json={"channel": "EMAIL"}).status_code == 202
    return api().get("/sandbox/v1/messages", params={"reference": issued["prescription_id"]}).json()["data"][0]["body"]


def test_the_resend_email_names_the_prescriber(issue, hospital, api):
    named = issue(prescription(ANA) | {"doctor_name": "María José Núñez"}, SPANISH)
    assert "está lista. Prescriptor: María José Núñez. Muestre este código" in resend_body(hospital, api, named)
    unnamed = issue(prescription(ANA), SPANISH)
    assert "está lista. Muestre este código" in resend_body(hospital, api, unnamed)
