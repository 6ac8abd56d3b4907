"""Pages, filters and bodies outside what the OpenAPI document allows are 422s naming the field."""

import pytest

LISTS = ["/medical-catalogs/v1/medications", "/medical-catalogs/v1/diagnoses", "/arc/v1/products",
         "/arc/v1/providers/products", "/arc/v1/authorizations", "/arc/v1/claims", "/v3/settlements",
         "/sandbox/v1/messages", "/sandbox/v1/webhook-deliveries"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["18446744073709551616", "10001", "0", "1.5", "١", " 1"])
def test_a_page_outside_1_to_10000_is_refused_on_every_list(hospital, path, page):
    response = hospital.get(path, params={"page": page})
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == "page"


def test_the_last_allowed_page_is_an_empty_page_not_an_error(hospital):
    body = hospital.get("/ehr/v1/patients", params={"document_number": "1000000001", "page": 10000}).json()
    assert body["data"] == [] and body["pagination"]["page"] == 10000 and body["pagination"]["total_items"] == 1


@pytest.mark.parametrize("path, params", [
    ("/arc/v1/authorizations", {"status": "null"}),
    ("/arc/v1/claims", {"source": "HOSPITAL"}),
    ("/arc/v1/claims", {"status": "PAID"}),
    ("/arc/v1/claims", {"service_date_from": "2026-02-30"}),
    ("/v3/settlements", {"status": "draft"}),
    ("/sandbox/v1/messages", {"kind": "SMS"}),
    ("/sandbox/v1/webhook-deliveries", {"type": "claim.filed"}),
    ("/ehr/v1/patients", {"document_number": "1000000001", "document_type": "SSN"}),
    ("/ehr/v1/patients", {"document_number": " 1000000001"}),
])
def test_a_filter_value_outside_the_documented_ones_is_refused(hospital, path, params):
    response = hospital.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] in params


def test_a_filter_given_twice_is_refused_not_half_read(hospital):
    response = hospital.get("/arc/v1/authorizations", params=[("status", "APPROVED"), ("status", "APPROVED")])
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "status"


def test_a_valid_filter_still_filters(hospital):
    body = hospital.get("/sandbox/v1/messages", params={"kind": "OTP", "page_size": 100}).json()
    assert all(message["kind"] == "OTP" for message in body["data"])


PATIENT = {"first_name": "Eva", "last_name": "Ruiz", "document_type": "CC", "document_number": "55501",
           "date_of_birth": "1990-04-01"}


@pytest.mark.parametrize("change, field", [({"date_of_birth": 19900401}, "date_of_birth"),
                                           ({"first_name": 7}, "first_name"),
                                           ({"phone": "+57 300"}, "phone"),
                                           ({"nickname": "Evi"}, "nickname")])
def test_bodies_are_read_as_strictly_as_the_schema_types_them(hospital, change, field):
    response = hospital.post("/ehr/v1/patients", json=PATIENT | change)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == field


def test_a_whole_number_written_with_a_fraction_is_an_integer_as_in_json_schema(hospital):
    response = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 30.0, "posology": "1 tablet every 8 h"}]})
    assert response.status_code == 201, response.text
    assert hospital.get(f"/ehr/v1/prescriptions/{response.json()['prescription_id']}").json()[
        "medications"][0]["quantity"] == 30


def test_a_string_is_not_a_number(hospital):
    response = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": "30", "posology": "1 tablet every 8 h"}]})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "medications.0.quantity"
