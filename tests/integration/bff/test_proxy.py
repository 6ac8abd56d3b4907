"""The API proxy: host API key in, tenant token out, allow-listed paths only."""

import pytest

ANA = "pat_01HXE0000000000000000ANA01"


def test_a_catalogue_search_goes_through(host):
    response = host.get("/v1/osigu/medical-catalogs/v1/diagnoses", params={"query": "cephalgia"})
    assert response.status_code == 200
    assert response.json()["data"][0]["diagnosis_code"] == "R51"
    assert response.headers["Content-Type"] == "application/json"


def test_state_changing_calls_go_through_with_the_hosts_idempotency_key(host):
    body = {"patient_id": ANA, "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]}
    first = host.post("/v1/osigu/ehr/v1/prescriptions", json=body, headers={"Idempotency-Key": "host-key-1"})
    again = host.post("/v1/osigu/ehr/v1/prescriptions", json=body, headers={"Idempotency-Key": "host-key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_each_host_app_acts_as_its_own_tenant(host):
    # pms-b brings the pharmacy's credentials: the pharmacy may dispense but not prescribe.
    headers = {"Authorization": "Bearer pms-b-api-key-0123456789"}
    response = host.get("/v1/osigu/ehr/v1/patients", params={"document_number": "1000000001"}, headers=headers)
    assert response.status_code == 502  # Osigu refused the tenant's scope: the BFF's problem, not the caller's
    assert response.json()["error_code"] == "000-403"
    assert host.get("/v1/osigu/ehr/v1/patients", params={"document_number": "1000000001"}).status_code == 200


@pytest.mark.parametrize("path", ["v1/oauth/token", "sandbox/v1/reset", "openapi.json", "ehr/../sandbox/v1/reset",
                                  "arc//v1/products", "healthz", "v3/settlements-admin", "arcade"])
def test_paths_outside_the_allow_list_are_refused(host, path):
    response = host.post(f"/v1/osigu/{path}")
    assert response.status_code in (403, 404)
    if response.status_code == 403:
        assert response.json()["error_code"] == "BFF-PROXY-PATH"


def test_the_proxy_needs_a_host_api_key(host):
    host.headers.pop("Authorization")
    assert host.get("/v1/osigu/medical-catalogs/v1/medications").status_code == 401


def test_upstream_errors_come_back_in_the_one_shape(host):
    response = host.get("/v1/osigu/ehr/v1/prescriptions/rx_nothing")
    assert response.status_code == 404
    assert response.json() == {"error_code": "081-120", "message": "Prescription not found.", "retryable": False}


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [{"path_prefix": "/ehr/", "rate_limit_rate": 1,
                                                           "retry_after": 1, "times": 1}]}])
def test_a_post_answered_429_is_passed_back_with_retry_after(host):
    response = host.post("/v1/osigu/ehr/v1/patients", json={})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1" and response.json()["retryable"] is True


def test_the_upstream_token_and_the_hosts_key_stay_out_of_responses(host, bff_app):
    response = host.get("/v1/osigu/arc/v1/products", params={"product_type": "LAB"})
    from bff import host_apps

    with bff_app.app_context():
        token = host_apps.upstream_for(host_apps.by_id("his-a")).access_token()
    exposed = response.text + str(dict(response.headers))
    assert token not in exposed and "his-a-api-key" not in exposed and "Authorization" not in response.headers


def test_a_body_over_the_limit_is_413(host, bff_app):
    response = host.post("/v1/osigu/ehr/v1/patients", data=b"x" * (bff_app.config["MAX_CONTENT_LENGTH"] + 1),
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error_code"] == "BFF-413"


def test_settlements_are_reachable_at_the_exact_prefix(host):
    response = host.get("/v1/osigu/v3/settlements")
    assert response.status_code == 200 and response.json()["data"] == []


def test_a_page_beyond_the_simulators_bounds_comes_back_as_its_422_not_a_500(host):
    response = host.get("/v1/osigu/medical-catalogs/v1/medications", params={"page": 2**64})
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"
