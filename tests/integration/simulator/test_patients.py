"""ePrescription patients: look up and create."""

import pytest

NEW_PATIENT = {
    "first_name": "Valentina",
    "last_name": "Gómez",
    "document_type": "CC",
    "document_number": "1000000099",
    "date_of_birth": "2001-07-15",
    "email": "valentina@example.org",
}


def test_look_up_ana_lopez_by_document(clinic):
    body = clinic.get("/ehr/v1/patients", params={"document_number": "1000000001"}).json()
    assert [(p["first_name"], p["last_name"]) for p in body["data"]] == [("Ana", "López")]


def test_look_up_unknown_document_is_an_empty_page(clinic):
    body = clinic.get("/ehr/v1/patients", params={"document_number": "999999"}).json()
    assert body["data"] == [] and body["pagination"]["total_items"] == 0


def test_look_up_needs_a_document_number(clinic):
    response = clinic.get("/ehr/v1/patients")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "document_number"


def test_create_then_get(clinic):
    response = clinic.post("/ehr/v1/patients", json=NEW_PATIENT)
    assert response.status_code == 201
    patient = response.json()
    assert patient["patient_id"].startswith("pat_")
    fetched = clinic.get(f"/ehr/v1/patients/{patient['patient_id']}").json()
    assert fetched["document_number"] == "1000000099" and fetched["last_name"] == "Gómez"


def test_creating_the_same_person_again_returns_them(clinic):
    first = clinic.post("/ehr/v1/patients", json=NEW_PATIENT).json()
    again = clinic.post("/ehr/v1/patients", json=NEW_PATIENT)
    assert again.status_code == 200
    assert again.json()["patient_id"] == first["patient_id"]


def test_a_different_person_with_the_same_document_is_409(clinic):
    first = clinic.post("/ehr/v1/patients", json=NEW_PATIENT).json()
    response = clinic.post("/ehr/v1/patients", json=NEW_PATIENT | {"first_name": "Valeria"})
    assert response.status_code == 409
    assert response.json()["error_code"] == "081-102"
    assert response.json()["details"]["patient_id"] == first["patient_id"]


@pytest.mark.parametrize("change, field", [
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"document_type": "SSN"}, "document_type"),
    ({"document_number": "12 34"}, "document_number"),
    ({"first_name": ""}, "first_name"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "3001234567"}, "phone"),
    ({"favourite_colour": "blue"}, "favourite_colour"),
])
def test_invalid_patient_is_422_naming_the_field(clinic, change, field):
    response = clinic.post("/ehr/v1/patients", json=NEW_PATIENT | change)
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "000-422"
    assert [d["field"] for d in body["details"]] == [field]


def test_unknown_patient_is_404(clinic):
    response = clinic.get("/ehr/v1/patients/pat_nobody")
    assert response.status_code == 404
    assert response.json()["error_code"] == "081-101"
