"""Fixtures for dispensing: prescriptions issued by the hospital, for the pharmacy to redeem."""

import pytest


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
