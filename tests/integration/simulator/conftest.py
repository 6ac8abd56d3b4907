"""Fixtures for dispensing: prescriptions issued by the hospital, for the pharmacy to redeem."""

import pytest

ANA = "pat_01HXE0000000000000000ANA01"


@pytest.fixture
def prescribe(hospital):
    """Issue a v1 prescription as the hospital and return its code."""

    def issue(*medications, patient_id=ANA):
        lines = medications or ({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"},)
        response = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": patient_id, "diagnoses": [{"diagnosis_code": "R51"}], "medications": list(lines),
        })
        assert response.status_code == 201, response.text
        return response.json()["prescription_code"]

    return issue


@pytest.fixture
def start(pharmacy):
    """Start a dispensation as the pharmacy and return its body."""

    def begin(code):
        response = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
        assert response.status_code == 201, response.text
        return response.json()

    return begin


@pytest.fixture
def controlled_dispensation(prescribe, start):
    """A started dispensation of tramadol, which needs the beneficiary verified."""
    return start(prescribe({"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"}))
