"""The provider-product registry (seed 003)."""

import pytest


def test_register_then_list_then_remove(clinic):
    response = clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"})
    assert response.status_code == 201
    body = response.json()
    assert body["product_code"] == "MED-042" and body["registered_at"].endswith("Z")

    listed = clinic.get("/arc/v1/providers/products", params={"query": "paracetamol"}).json()["data"]
    assert "MED-042" in {p["product_code"] for p in listed}

    assert clinic.delete("/arc/v1/providers/products/MED-042").status_code == 204
    listed = clinic.get("/arc/v1/providers/products", params={"query": "paracetamol"}).json()["data"]
    assert "MED-042" not in {p["product_code"] for p in listed}


def test_registering_twice_is_409_071_102(clinic):
    clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"})
    response = clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"})
    assert response.status_code == 409
    assert response.json()["error_code"] == "071-102"
    assert "Retry-After" not in response.headers


def test_unknown_code_is_404(clinic):
    response = clinic.post("/arc/v1/providers/products", json={"product_code": "MED-99999"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "071-101"


@pytest.mark.parametrize("body", [{}, {"code": "MED-042"}, {"product_code": ""}])
def test_missing_product_code_is_422(clinic, body):
    response = clinic.post("/arc/v1/providers/products", json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"


def test_list_filters_by_type(hospital):
    body = hospital.get("/arc/v1/providers/products", params={"product_type": "IMAGING", "page_size": 100}).json()
    assert body["data"] and {p["product_type"] for p in body["data"]} == {"IMAGING"}
    assert all("registered_at" in p for p in body["data"])


def test_removing_an_unregistered_product_is_404(clinic):
    response = clinic.delete("/arc/v1/providers/products/MED-042")
    assert response.status_code == 404
    assert response.json()["error_code"] == "071-103"


def test_removal_keeps_history_and_allows_registering_again(clinic):
    prescription = clinic.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01",
        "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-001", "quantity": 21, "posology": "1 capsule every 8 h"}],
    }).json()
    assert clinic.delete("/arc/v1/providers/products/MED-001").status_code == 204
    kept = clinic.get(f"/ehr/v1/prescriptions/{prescription['prescription_id']}").json()
    assert kept["medications"][0]["product_code"] == "MED-001"
    assert clinic.post("/arc/v1/providers/products", json={"product_code": "MED-001"}).status_code == 201


def test_fifty_requests_a_minute_then_429_with_retry_after(clinic, pharmacy):
    statuses = [clinic.get("/arc/v1/providers/products", params={"page_size": 1}).status_code for _ in range(50)]
    assert set(statuses) == {200}
    limited = clinic.get("/arc/v1/providers/products")
    assert limited.status_code == 429
    assert limited.json()["error_code"] == "000-429"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # The limit is per client: another provider is not throttled.
    assert pharmacy.get("/arc/v1/providers/products").status_code == 200
