"""Widget sessions opened as a host app's back end opens them, spoken to as static/widget.js speaks."""

import pytest
import requests
from widget_client import ORIGIN, Widget


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


class Widgets:
    """Opens a widget session for a host app (its API key, the test page's origin) and returns a Widget for it."""

    def __init__(self, bff_url):
        self.bff_url = bff_url

    def __call__(self, host_app="his-a", locale="es", context=None, widget="prescription", **body):
        payload = {"widget": widget, "origin": ORIGIN, "locale": locale, "context": context or {},
                   "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}} | body
        response = requests.post(f"{self.bff_url}/v1/widget-sessions", json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {host_app}-api-key-0123456789"})
        assert response.status_code == 201, response.text
        return Widget(self.bff_url, response.json()["token"], widget)


@pytest.fixture
def widget(bff_url):
    """Open widget sessions: widget(host_app=..., locale=..., context=..., widget=...) -> Widget."""
    return Widgets(bff_url)
