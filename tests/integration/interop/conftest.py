"""Host apps that speak FHIR: outcomes as R4 Bundles, and an EHR calling the CDS Hooks coverage service."""

import pytest
import requests
from ehr_client import EHR_ISSUER
from widget_client import ORIGIN, Widgets

CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="  # what callback_receiver verifies with


@pytest.fixture
def host_apps(callback_receiver, ehr):
    """ehr-a wants FHIR outcomes and callbacks, and answers its EHR's CDS Hooks calls; his-a keeps Osigu's
    outcomes."""
    return [
        {"id": "ehr-a", "api_key": "ehr-a-api-key-0123456789", "origins": [ORIGIN], "outcome_format": "fhir",
         "callback_url": callback_receiver.url, "callback_secret": CALLBACK_SECRET,
         "cds": {"issuers": {EHR_ISSUER: ehr.jwks_url}}},
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": [ORIGIN]},
    ]


@pytest.fixture
def widget(bff_url):
    """Open widget sessions: widget(host_app=..., locale=..., context=..., widget=...) -> Widget."""
    return Widgets(bff_url)


@pytest.fixture
def call_hook(bff_url, ehr):
    """Call a coverage service as the EHR does: call_hook(service, hook_body, token=None) -> response."""

    def call(service, body, token=None, headers=None):
        url = f"{bff_url}/cds-services/{service}"
        auth = {"Authorization": f"Bearer {token or ehr.token(url)}"}
        return requests.post(url, json=body, headers=headers or auth, timeout=15)

    return call


@pytest.fixture
def sponsor_rules(simulator_app):
    """Change a sponsor's rules in the simulator (what its configuration then says): sponsor_rules(slug, **config)."""

    def change(slug, **config):
        from simulator.db import db
        from simulator.models import Sponsor

        with simulator_app.app_context():
            sponsor = db.session.scalar(db.select(Sponsor).filter_by(slug=slug))
            sponsor.config = sponsor.config | config
            db.session.commit()

    return change
