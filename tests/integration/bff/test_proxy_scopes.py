"""A proxied call the host app's own Osigu credentials may not make: a 403 that names the missing scope."""

import pytest

from bff import osigu_scopes

PHARMACY = {"Authorization": "Bearer pms-b-api-key-0123456789"}  # demo-pharmacy: catalogues, providers, dispensing


@pytest.mark.parametrize("method, path, body, scope", [
    ("GET", "ehr/v1/patients?document_number=1000000001", None, "ehr:read"),
    ("POST", "ehr/v1/prescriptions", {"patient_id": "pat_01HXE0000000000000000ANA01"}, "ehr:write"),
    ("POST", "arc/v1/sponsors/seguros-andinos/beneficiaries/search", {"policy_number": "SA-10000001"}, "arc:read"),
    ("POST", "arc/v1/claims", {}, "claims:write"),
])
def test_a_missing_scope_is_a_403_that_names_it(host, method, path, body, scope):
    response = host.request(method, f"/v1/osigu/{path}", json=body, headers=PHARMACY)
    assert response.status_code == 403
    error = response.json()
    assert error["error_code"] == "000-403" and error["details"] == {"required_scope": scope}
    assert f"lack the scope {scope}" in error["message"]


def test_a_call_within_the_tenants_scopes_goes_through(host):
    response = host.get("/v1/osigu/arc/v1/products", params={"query": "paracetamol"}, headers=PHARMACY)
    assert response.status_code == 200  # the products catalogue is catalogs:read, which the pharmacy holds


@pytest.mark.parametrize("method, path, scope", [
    ("GET", "medical-catalogs/v1/medications", "catalogs:read"),
    ("GET", "arc/v1/products", "catalogs:read"),
    ("DELETE", "arc/v1/providers/products/MED-042", "providers:write"),
    ("GET", "arc/v1/claims/clm_1", "claims:read"),
    ("POST", "v3/settlements/stl_1/submit", "claims:write"),
    ("POST", "arc/v1/preauthorizations/par_1/complete", "arc:write"),
    ("GET", "arc/v1/authorizations/AUT-2026-12345678", "arc:read"),
    ("PUT", "dispensing/v1/dispensations/dsp_1/products", "dispensing:write"),
    ("GET", "ehr/v1/prescriptions/rx_1/pdf", "ehr:read"),
    ("GET", "sandbox/v1/messages", None),
])
def test_each_proxied_family_needs_the_scope_osigu_documents(method, path, scope):
    assert osigu_scopes.required(method, path) == scope
