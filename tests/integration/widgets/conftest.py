"""Widget sessions opened as a host app's back end opens them, spoken to as static/widget.js speaks."""

import base64

import pytest
from widget_client import ORIGIN, Widgets


@pytest.fixture
def host_apps():
    """his-a prescribes v1 as demo-hospital; his-eu needs consent (v1.1); his-es is Spain (v2); clinic-c is the
    clinic, which has not registered MED-042."""
    base = {"origins": [ORIGIN]}
    return [
        base | {"id": "his-a", "api_key": "his-a-api-key-0123456789"},
        base | {"id": "his-eu", "api_key": "his-eu-api-key-0123456789", "prescription_version": "v1.1"},
        base | {"id": "his-es", "api_key": "his-es-api-key-0123456789", "prescription_version": "v2"},
        base | {"id": "clinic-c", "api_key": "clinic-c-api-key-0123456789", "osigu_client_id": "demo-clinic",
                "osigu_client_secret": "demo-clinic-secret"},
    ]


@pytest.fixture
def widget(bff_url):
    """Open widget sessions: widget(host_app=..., locale=..., context=..., widget=...) -> Widget."""
    return Widgets(bff_url)


@pytest.fixture
def simulator_rows(simulator_app):
    """The statuses of the simulator's dispensations of a code, oldest first."""

    def rows(code):
        from simulator.db import db
        from simulator.models import Dispensation

        with simulator_app.app_context():
            found = db.session.scalars(db.select(Dispensation).filter_by(code=code)
                                       .order_by(Dispensation.created_at)).all()
            return [dispensation.status for dispensation in found]

    return rows


@pytest.fixture
def authorization_code(preauthorize, hospital, read_otp):
    """Have a sponsor approve a medication for its first beneficiary (verifying them as the sponsor asks at the
    doctor's: EPS Vital by OTP, ARS Caribe by fingerprint) and return the AUT- code."""

    def approve(sponsor="acme-salud", product=("MED-001", 21)):
        response = preauthorize(sponsor, product)
        if response.status_code == 202:
            request_id = response.json()["preauthorization_id"]
            base = f"/arc/v1/preauthorizations/{request_id}"
            if response.json()["verification"]["methods"] == ["OTP"]:
                hospital.post(f"{base}/otp", json={"otp": read_otp(request_id)})
            else:
                hospital.post(f"{base}/biometric", json={"modality": "FINGERPRINT",
                                                         "reading": base64.b64encode(b"finger").decode()})
                hospital.get(f"{base}/verification-status")
            response = hospital.post(f"{base}/complete")
        assert response.status_code == 200, response.text
        return response.json()["authorizations"][0]["authorization_code"]

    return approve
