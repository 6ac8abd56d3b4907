"""OAuth 2.0 client credentials: the token endpoint and the guard on every API."""

from datetime import timedelta

import pytest

from simulator.db import db, utcnow
from simulator.models import OAuthToken

ANA = "pat_01HXE0000000000000000ANA01"


def test_token_with_basic_auth_carries_provider_slug_and_one_hour(api):
    session = api()
    response = session.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                            auth=("demo-clinic", "demo-clinic-secret"))
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["provider_slug"] == "clinica-demo"
    assert "ehr:write" in token["scope"].split()
    assert "dispensing:write" not in token["scope"].split()


def test_token_with_secret_in_body(api):
    response = api().post("/v1/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "demo-pharmacy", "client_secret": "demo-pharmacy-secret",
    })
    assert response.status_code == 200
    assert response.json()["provider_slug"] == "farmacia-demo"


@pytest.mark.parametrize("client_id, secret", [("demo-clinic", "wrong"), ("nobody", "demo-clinic-secret")])
def test_wrong_credentials_are_refused_in_both_shapes(api, client_id, secret):
    response = api().post("/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"  # RFC 6749, for OAuth client libraries
    assert body["error_code"] == "000-401" and body["message"]  # the simulator's one error shape


def test_a_narrower_scope_can_be_requested(api):
    session = api("demo-hospital", scope="catalogs:read")
    assert session.token["scope"] == "catalogs:read"
    response = session.get("/ehr/v1/patients", params={"document_number": "1000000001"})
    assert response.status_code == 403


def test_missing_token_is_401_with_challenge(api):
    response = api().get("/medical-catalogs/v1/medications")
    assert response.status_code == 401
    assert response.json()["error_code"] == "000-401"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")  # schemes are case-insensitive


def test_unknown_token_is_401(api):
    response = api().get("/medical-catalogs/v1/medications", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json()["details"]["oauth_error"] == "invalid_token"


def test_expired_token_is_401(simulator_app, clinic):
    with simulator_app.app_context():
        token = db.session.scalar(db.select(OAuthToken).filter_by(access_token=clinic.token["access_token"]))
        token.issued_at = int((utcnow() - timedelta(seconds=3601)).timestamp())
        db.session.commit()
    response = clinic.get("/medical-catalogs/v1/medications")
    assert response.status_code == 401
    assert response.json()["error_code"] == "000-401"


def test_token_without_the_needed_scope_is_403(pharmacy):
    response = pharmacy.get(f"/ehr/v1/patients/{ANA}")
    assert response.status_code == 403
    assert response.json()["error_code"] == "000-403"


def test_provider_comes_from_the_token_not_the_body(clinic, pharmacy):
    # The pharmacy cannot pass itself off as the clinic: its registrations are its own.
    clinic_codes = {p["product_code"] for p in clinic.get("/arc/v1/providers/products",
                                                        params={"query": "panadol"}).json()["data"]}
    pharmacy_codes = {p["product_code"] for p in pharmacy.get("/arc/v1/providers/products",
                                                            params={"query": "panadol"}).json()["data"]}
    assert not clinic_codes and pharmacy_codes
