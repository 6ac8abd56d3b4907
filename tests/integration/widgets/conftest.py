"""Widget sessions opened as a host app's back end opens them, spoken to as static/widget.js speaks."""

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
