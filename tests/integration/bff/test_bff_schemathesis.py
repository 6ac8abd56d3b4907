"""Schemathesis, every check, against a BFF on a real socket: its OpenAPI document and every widget form endpoint.

With a real host app API key, a real pharmacist's session for the hospital-pharmacy API and, for each widget,
a real session walked into the middle of its flow, so generated requests reach the code behind authentication.
Bounded (fixed seed, few examples per operation); the long run is benchmarks/schemathesis_bff.py.
"""

import pytest
import requests
from bff_schemathesis import ORIGIN, authenticate, configured, run, widget_forms_document
from widget_client import Widgets, fill_in_ana_at_seguros_andinos, fill_in_ana_with_paracetamol, open_a_prescription

API_KEY = "his-a-api-key-0123456789"
PHARMACIST = {"id": "ph-1", "name": "Marta Gil", "role": "PHARMACIST"}
SEED = 15
EXAMPLES = 3


@pytest.fixture
def host_apps():
    return [{"id": "his-a", "api_key": API_KEY, "origins": [ORIGIN]}]


@pytest.fixture
def bff_config():
    """Limits high enough that every generated request reaches the code under test rather than a 429."""
    return {"RATE_LIMIT_SESSIONS": "100000/minute", "RATE_LIMIT_PROXY": "100000/minute"}


@pytest.fixture
def simulator_config():
    return {"PROVIDER_PRODUCTS_RATE_LIMIT": "100000/minute"}


def credentials_for(bff_url):
    """Headers per path: the API key, the pharmacist's session, or a widget's session in mid-flow."""
    widgets = Widgets(bff_url)
    prescription, preauth = widgets("his-a", locale="en"), widgets("his-a", locale="en", widget="preauth")
    fill_in_ana_with_paracetamol(prescription)
    fill_in_ana_at_seguros_andinos(preauth)
    counter = widgets("his-a", locale="en", widget="dispensing")
    open_a_prescription(counter)
    queue = widgets("his-a", locale="en", widget="dispensing", context={"mode": "queue"}, user=PHARMACIST)
    sessions = {"prescription": prescription, "preauth": preauth, "dispensing": counter, "queue": queue}

    def credentials(path):
        if path.startswith("/api/"):
            return {"Authorization": f"Bearer {queue.token}"}
        if path.startswith("/widgets/"):
            widget = "queue" if path.startswith("/widgets/dispensing/queue") else path.split("/")[2]
            found = sessions.get(widget, prescription)
            return {"X-Osigu-Session": found.token, "HX-Request": "true", "X-Osigu-Origin": ORIGIN}
        if path.startswith("/cds-services"):
            return {}  # an EHR's JWT: tests/integration/interop
        return {"Authorization": f"Bearer {API_KEY}"}

    return credentials


def assert_no_failure(failures, errors, requests_sent):
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
    assert sum(requests_sent.values()) > len(requests_sent)  # something was generated for each


def test_schemathesis_finds_no_failure_in_the_bffs_document(bff_url):
    schema = configured(requests.get(f"{bff_url}/v1/openapi.json", timeout=10).json(), bff_url, SEED, EXAMPLES,
                        ("examples", "coverage", "fuzzing", "stateful"))
    authenticate(schema, credentials_for(bff_url))
    assert_no_failure(*run(schema))


def test_schemathesis_finds_no_failure_in_any_widget_form(bff_app, bff_url):
    schema = configured(widget_forms_document(bff_app), bff_url, SEED, EXAMPLES, ("examples", "fuzzing"),
                        widgets=True)
    authenticate(schema, credentials_for(bff_url))
    assert_no_failure(*run(schema))
