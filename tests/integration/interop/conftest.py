"""Host apps that speak FHIR: outcomes as R4 Bundles, and an EHR calling the CDS Hooks coverage service."""

import pytest
from widget_client import ORIGIN, Widgets

CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="  # what callback_receiver verifies with


@pytest.fixture
def host_apps(callback_receiver):
    """ehr-a wants FHIR outcomes and callbacks; his-a keeps Osigu's outcomes."""
    return [
        {"id": "ehr-a", "api_key": "ehr-a-api-key-0123456789", "origins": [ORIGIN], "outcome_format": "fhir",
         "callback_url": callback_receiver.url, "callback_secret": CALLBACK_SECRET},
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": [ORIGIN]},
    ]


@pytest.fixture
def widget(bff_url):
    """Open widget sessions: widget(host_app=..., locale=..., context=..., widget=...) -> Widget."""
    return Widgets(bff_url)
