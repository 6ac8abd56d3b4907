"""Coverage answers are rate limited (BFF_RATE_LIMIT_COVERAGE): POST /v1/coverage-check per host app, CDS Hooks
calls per EHR issuer, counting only calls whose JWT was accepted; over it, 429 with Retry-After."""

import pytest
import requests
from joserfc.jwk import ECKey
from test_cds_hooks import SIGN, hook_body

from bff.config import ConfigError

OTHER_EHR = "https://other-ehr.example.org/cds-client"
LIMIT = {"RATE_LIMIT_COVERAGE": "2/minute"}


@pytest.fixture
def host_apps(host_apps, ehr):
    """his-a answers another EHR's hooks (signed with the same test key, served at the same JWKS URL)."""
    return [app | {"cds": {"issuers": {OTHER_EHR: ehr.jwks_url}}} if app["id"] == "his-a" else app
            for app in host_apps]


def quiet_body():
    return hook_body("LAB-001") | {"prefetch": {}}  # no Osigu sponsor: answered at once, Osigu not asked


def check(bff_url, api_key):
    return requests.post(f"{bff_url}/v1/coverage-check", json={}, timeout=10,
                         headers={"Authorization": f"Bearer {api_key}"})


@pytest.mark.parametrize("bff_config", [LIMIT])
def test_coverage_checks_are_limited_per_host_app(bff_url):
    assert [check(bff_url, "ehr-a-api-key-0123456789").status_code for _ in range(2)] == [422, 422]
    limited = check(bff_url, "ehr-a-api-key-0123456789")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error_code"] == "BFF-RATE-LIMITED" and limited.json()["retryable"] is True
    assert check(bff_url, "his-a-api-key-0123456789").status_code == 422  # another host app's own allowance
    assert check(bff_url, "not-a-key-0123456789").status_code == 401


@pytest.mark.parametrize("bff_config", [LIMIT])
def test_hook_calls_are_limited_per_ehr_and_forged_tokens_use_up_nothing(call_hook, ehr, bff_url):
    url = f"{bff_url}/cds-services/{SIGN}"
    forged = [call_hook(SIGN, quiet_body(), token=ehr.token(url, key=ECKey.generate_key("P-384", private=True)))
              for _ in range(3)]
    assert [response.status_code for response in forged] == [401] * 3
    assert [call_hook(SIGN, quiet_body()).status_code for _ in range(2)] == [200, 200]
    limited = call_hook(SIGN, quiet_body())
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error_code"] == "BFF-RATE-LIMITED"
    assert call_hook(SIGN, quiet_body(), token=ehr.token(url, issuer=OTHER_EHR)).status_code == 200
    assert requests.get(f"{bff_url}/cds-services", timeout=10).status_code == 200  # discovery is never limited


def test_a_malformed_coverage_limit_is_refused_at_start_up(make_bff):
    with pytest.raises(ConfigError, match="BFF_RATE_LIMIT_COVERAGE"):
        make_bff(RATE_LIMIT_COVERAGE="lots")
