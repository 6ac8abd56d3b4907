"""Dispensing (seed 000): the six endpoints, the state machine and its refusals."""

from datetime import timedelta

import pytest

from simulator.db import db, utcnow
from simulator.models import Dispensation

ANA = "pat_01HXE0000000000000000ANA01"


def url(dispensation, action=""):
    return f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}{action}"


def test_start_recognises_a_prescription_code_and_loads_its_products(prescribe, start):
    code = prescribe()
    dispensation = start(code)
    assert dispensation["status"] == "STARTED"
    assert dispensation["code"] == code and dispensation["code_type"] == "PRESCRIPTION"
    assert dispensation["patient"]["patient_id"] == ANA
    [line] = dispensation["products"]
    assert (line["product_code"], line["quantity"], line["prescribed_quantity"]) == ("MED-042", 30, 30)
    assert dispensation["verification"] == {"required": False, "methods": [], "status": "NOT_REQUIRED"}
    assert dispensation["expires_at"] > dispensation["created_at"]


def test_get_returns_the_state(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    fetched = pharmacy.get(url(dispensation)).json()
    assert fetched["dispensation_id"] == dispensation["dispensation_id"] and fetched["status"] == "STARTED"


def test_complete_redeems_the_prescription(pharmacy, prescribe, start):
    code = prescribe()
    dispensation = start(code)
    response = pharmacy.post(url(dispensation, "/complete"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "DISPENSED" and body["completed_at"]
    again = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
    assert again.status_code == 409
    assert again.json()["error_code"] == "091-102"


def test_codes_are_recognised_in_any_case(pharmacy, prescribe):
    code = prescribe()
    response = pharmacy.post("/dispensing/v1/dispensations", json={"code": f"  {code.lower()} "})
    assert response.status_code == 201
    assert response.json()["code"] == code


def test_unknown_code_is_404(pharmacy):
    response = pharmacy.post("/dispensing/v1/dispensations", json={"code": "RX-2026-000000"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "091-101"


def test_missing_code_is_422(pharmacy):
    response = pharmacy.post("/dispensing/v1/dispensations", json={})
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"


def test_a_code_being_dispensed_cannot_be_started_again(pharmacy, prescribe, start):
    code = prescribe()
    dispensation = start(code)
    response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
    assert response.status_code == 409
    assert response.json()["error_code"] == "091-103"
    assert response.json()["details"]["dispensation_id"] == dispensation["dispensation_id"]


def test_another_pharmacy_is_not_told_which_dispensation_holds_the_code(hospital, prescribe, start):
    code = prescribe()
    start(code)
    response = hospital.post("/dispensing/v1/dispensations", json={"code": code})
    assert response.status_code == 409
    assert response.json()["error_code"] == "091-103"
    assert "details" not in response.json()


def test_void_frees_the_code(pharmacy, prescribe, start):
    code = prescribe()
    dispensation = start(code)
    voided = pharmacy.post(url(dispensation, "/void"), json={"reason": "patient left"})
    assert voided.status_code == 200
    assert voided.json()["status"] == "VOIDED" and voided.json()["void_reason"] == "PHARMACY"
    assert voided.json()["expires_at"] is None
    assert start(code)["status"] == "STARTED"


def test_voiding_twice_is_harmless(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    pharmacy.post(url(dispensation, "/void"))
    again = pharmacy.post(url(dispensation, "/void"))
    assert again.status_code == 200 and again.json()["status"] == "VOIDED"


def test_complete_is_irreversible(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    pharmacy.post(url(dispensation, "/complete"))
    void = pharmacy.post(url(dispensation, "/void"))
    assert void.status_code == 409 and void.json()["error_code"] == "091-105"
    twice = pharmacy.post(url(dispensation, "/complete"))
    assert twice.status_code == 409 and twice.json()["error_code"] == "091-105"


def test_complete_with_the_same_idempotency_key_replays(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    headers = {"Idempotency-Key": "complete-once"}
    first = pharmacy.post(url(dispensation, "/complete"), headers=headers)
    again = pharmacy.post(url(dispensation, "/complete"), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_a_voided_dispensation_cannot_be_completed(pharmacy, prescribe, start):
    dispensation = start(prescribe())
    pharmacy.post(url(dispensation, "/void"))
    response = pharmacy.post(url(dispensation, "/complete"))
    assert response.status_code == 409
    assert response.json()["error_code"] == "091-104"


def test_another_providers_dispensation_is_404(hospital, prescribe, start):
    dispensation = start(prescribe())
    for response in (hospital.get(url(dispensation)), hospital.post(url(dispensation, "/complete")),
                     hospital.post(url(dispensation, "/void")),
                     hospital.get(url(dispensation, "/verification-status"))):
        assert response.status_code == 404
        assert response.json()["error_code"] == "091-100"


def test_the_clinic_may_not_dispense(clinic, prescribe):
    response = clinic.post("/dispensing/v1/dispensations", json={"code": prescribe()})
    assert response.status_code == 403


def test_a_stale_dispensation_is_voided_on_timeout(simulator_app, pharmacy, prescribe, start):
    code = prescribe()
    dispensation = start(code)
    with simulator_app.app_context():
        row = db.session.get(Dispensation, dispensation["dispensation_id"])
        row.updated_at = utcnow() - timedelta(seconds=simulator_app.config["DISPENSATION_TIMEOUT_SECONDS"] + 1)
        db.session.commit()
    body = pharmacy.get(url(dispensation)).json()
    assert body["status"] == "VOIDED" and body["void_reason"] == "TIMEOUT"
    assert start(code)["status"] == "STARTED"


class TestProducts:
    def test_dispense_less_than_prescribed(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-042", "quantity": 20}]})
        assert response.status_code == 200
        assert response.json()["products"][0]["quantity"] == 20

    def test_no_more_than_prescribed(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-042", "quantity": 31}]})
        assert response.status_code == 422
        assert response.json()["error_code"] == "091-106"
        assert response.json()["details"]["prescribed_quantity"] == 30

    def test_swap_for_an_equivalent_brand(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-046", "quantity": 30}]})
        assert response.status_code == 200
        line = response.json()["products"][0]
        assert line["product_code"] == "MED-046" and line["substituted"] is True
        assert line["prescribed_product_code"] == "MED-042"
        completed = pharmacy.post(url(dispensation, "/complete")).json()
        assert completed["products"][0]["product_code"] == "MED-046"

    @pytest.mark.parametrize("substitute", ["MED-050", "MED-048"])  # ibuprofen; paracetamol of another strength
    def test_no_swap_for_a_product_that_is_not_equivalent(self, pharmacy, prescribe, start, substitute):
        dispensation = start(prescribe())
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": substitute, "quantity": 30}]})
        assert response.status_code == 422
        assert response.json()["error_code"] == "091-107"
        assert response.json()["details"]["reason"] == "NOT_EQUIVALENT"

    def test_no_swap_where_the_prescriber_forbade_it(self, pharmacy, prescribe, start):
        dispensation = start(prescribe({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h",
                                        "substitution_allowed": False}))
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-046", "quantity": 30}]})
        assert response.status_code == 422
        assert response.json()["details"]["reason"] == "NOT_ALLOWED"

    def test_a_substitute_must_be_registered_by_the_pharmacy(self, hospital, prescribe, start):
        # The hospital also dispenses; it removes Panadol from its registry first.
        assert hospital.delete("/arc/v1/providers/products/MED-046").status_code == 204
        code = prescribe()
        dispensation = hospital.post("/dispensing/v1/dispensations", json={"code": code}).json()
        response = hospital.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-046", "quantity": 30}]})
        assert response.status_code == 422
        assert response.json()["error_code"] == "091-109"

    def test_a_product_not_on_the_prescription_is_422(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-001", "product_code": "MED-001", "quantity": 1}]})
        assert response.status_code == 422

    def test_nothing_to_dispense_cannot_complete(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-042", "quantity": 0}]})
        response = pharmacy.post(url(dispensation, "/complete"))
        assert response.status_code == 422
        assert response.json()["error_code"] == "091-110"

    def test_products_are_locked_after_complete(self, pharmacy, prescribe, start):
        dispensation = start(prescribe())
        pharmacy.post(url(dispensation, "/complete"))
        response = pharmacy.put(url(dispensation, "/products"), json={"products": [
            {"prescribed_product_code": "MED-042", "product_code": "MED-042", "quantity": 1}]})
        assert response.status_code == 409
        assert response.json()["error_code"] == "091-108"
