"""Schemathesis, every check, against a BFF on a real socket: its OpenAPI document and every widget form endpoint.

Requests carry real credentials: the host app's API key, a pharmacist's session for the hospital-pharmacy API,
for each widget a session walked into the middle of its flow, the EHR's signed JWT for CDS Hooks and Osigu's
signature on webhooks, so that generated requests reach the code behind authentication.
Bounded (fixed seed, few examples per operation); the long run is benchmarks/schemathesis_bff.py.
"""

import pytest
import requests
from bff_schemathesis import ORIGIN, Credentials, authenticate, configured, run, walked_sessions, widget_forms_document
from ehr_client import EHR_ISSUER

from tests.integration.conftest import OSIGU_WEBHOOK_SECRET

API_KEY = "his-a-api-key-0123456789"
SEED = 15
EXAMPLES = 15


@pytest.fixture
def host_apps(ehr):
    """his-a, with the origin of the document's examples too, answering its EHR's CDS Hooks calls."""
    return [{"id": "his-a", "api_key": API_KEY, "origins": [ORIGIN, "http://localhost:8090"],
             "cds": {"issuers": {EHR_ISSUER: ehr.jwks_url}}}]


@pytest.fixture
def bff_config():
    """Limits high enough that every generated request reaches the code under test rather than a 429."""
    return {"RATE_LIMIT_SESSIONS": "100000/minute", "RATE_LIMIT_PROXY": "100000/minute"}


@pytest.fixture
def simulator_config():
    return {"PROVIDER_PRODUCTS_RATE_LIMIT": "100000/minute"}


@pytest.fixture
def credentials(bff_url, ehr):
    return Credentials(bff_url, API_KEY, walked_sessions(bff_url), ehr, OSIGU_WEBHOOK_SECRET)


def assert_no_failure(failures, errors, requests_sent):
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
    assert sum(requests_sent.values()) > 2 * len(requests_sent)  # something was generated for each


def test_schemathesis_finds_no_failure_in_the_bffs_document(bff_url, credentials):
    schema = configured(requests.get(f"{bff_url}/v1/openapi.json", timeout=10).json(), bff_url, SEED, EXAMPLES,
                        ("examples", "coverage", "fuzzing", "stateful"))
    authenticate(schema, credentials)
    assert_no_failure(*run(schema))


def test_schemathesis_finds_no_failure_in_any_widget_form(bff_app, bff_url, credentials):
    schema = configured(widget_forms_document(bff_app), bff_url, SEED, EXAMPLES, ("examples", "fuzzing"),
                        widgets=True)
    authenticate(schema, credentials)
    assert_no_failure(*run(schema))
