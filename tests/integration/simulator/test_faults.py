"""Fault injection for reliability tests: 5xx, 429 bursts, dropped connections, latency; per path prefix."""

import pytest
import requests


def rules(*items):
    return {"FAULTS": list(items)}


@pytest.mark.parametrize("simulator_config", [rules({"path_prefix": "/medical-catalogs/", "error_rate": 1,
                                                      "times": 2})])
def test_errors_for_a_prefix_then_recovery(clinic):
    failures = [clinic.get("/medical-catalogs/v1/medications") for _ in range(2)]
    assert [r.status_code for r in failures] == [503, 503]
    assert failures[0].json()["error_code"] == "000-503"
    assert clinic.get("/arc/v1/products").status_code == 200  # another prefix is untouched
    assert clinic.get("/medical-catalogs/v1/medications").status_code == 200  # the rule is spent


@pytest.mark.parametrize("simulator_config", [rules({"path_prefix": "/ehr/", "rate_limit_rate": 1,
                                                      "retry_after": 7, "times": 3})])
def test_a_429_burst_with_retry_after(clinic):
    burst = [clinic.get("/ehr/v1/patients", params={"document_number": "1000000001"}) for _ in range(3)]
    assert {r.status_code for r in burst} == {429}
    assert burst[0].headers["Retry-After"] == "7"
    assert clinic.get("/ehr/v1/patients", params={"document_number": "1000000001"}).status_code == 200


@pytest.mark.parametrize("simulator_config", [rules({"path_prefix": "/dispensing/", "drop_rate": 1,
                                                      "methods": ["GET"], "times": 1})])
def test_a_dropped_connection(pharmacy):
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        pharmacy.get("/dispensing/v1/dispensations/dsp_any")
    assert pharmacy.get("/dispensing/v1/dispensations/dsp_any").status_code == 404


@pytest.mark.parametrize("simulator_config", [rules({"path_prefix": "/arc/v1/sponsors", "latency_ms": 300})])
def test_latency_is_added(hospital):
    response = hospital.get("/arc/v1/sponsors")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


@pytest.mark.parametrize("simulator_config", [rules({"path_prefix": "/", "error_rate": 1})])
def test_sandbox_and_health_are_never_faulted(api):
    assert api().get("/healthz").status_code == 200
    assert api().get("/sandbox/v1/messages").status_code == 200


def test_the_admin_api_is_off_unless_enabled(api):
    response = api().put("/sandbox/v1/faults", json={"rules": []})
    assert response.status_code == 404 and "--enable-admin" in response.json()["message"]


@pytest.mark.parametrize("simulator_config", [{"ADMIN_ENABLED": True}])
def test_rules_change_at_runtime(api, clinic):
    rule = {"path_prefix": "/medical-catalogs/", "error_rate": 1, "error_status": 502}
    response = api().put("/sandbox/v1/faults", json={"rules": [rule]})
    assert response.status_code == 200 and response.json()["rules"][0]["error_status"] == 502
    assert clinic.get("/medical-catalogs/v1/diagnoses").status_code == 502
    api().put("/sandbox/v1/faults", json={"rules": []})
    assert clinic.get("/medical-catalogs/v1/diagnoses").status_code == 200
    invalid = api().put("/sandbox/v1/faults", json={"rules": [{"path_prefix": "arc", "error_rate": 2}]})
    assert invalid.status_code == 422
