"""SMART's asymmetric client authentication (private_key_jwt) and the id_token, over real HTTP: the example EHR's
Authlib authorization server, the BFF and the simulator."""

import json
import time

import pytest
import requests
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from flask import Flask, request
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from test_smart_launch import first_step, launch
from widget_client import step_of

from bff.config import DEMO_EHR_IDENTIFIER_SYSTEM, ConfigError, parse_host_apps
from bff.db import WidgetSession, db
from examples.ehr import create_app as create_ehr

ALGS = {"EC": "ES384", "RSA": "RS384"}
KEYS = {"ES384": lambda: ECKey.generate_key("P-384", parameters={"kid": "bff-ec-1"}, private=True),
        "RS384": lambda: RSAKey.generate_key(2048, parameters={"kid": "bff-rsa-1"}, private=True)}
SMART = {"issuers": ["https://ehr.example.org/fhir"], "client_id": "osigu-widgets",
         "identifier_system": DEMO_EHR_IDENTIFIER_SYSTEM}
APP = {"id": "ehr-k", "api_key": "ehr-k-api-key-0123456789", "origins": ["https://ehr.example.org"]}


@pytest.fixture(params=sorted(KEYS))
def assertion_key(request):
    """The BFF's private key for its client assertions, of each kind SMART allows."""
    return KEYS[request.param]()


@pytest.fixture
def token_requests():
    return []


@pytest.fixture
def smart_ehr(serve_wsgi, token_requests):
    """The example EHR, noting each form its token endpoint receives."""
    app = create_ehr()
    app.before_request(lambda: token_requests.append(request.form.to_dict()) if request.path == "/auth/token"
                       else None)
    app.url = serve_wsgi(app)
    return app


@pytest.fixture
def host_apps(smart_ehr, assertion_key):
    """ehr-k: the example EHR, where the BFF registered with the public half of assertion_key; his-a has no SMART."""
    return [
        APP | {"origins": [smart_ehr.url], "smart": SMART | {
            "issuers": [f"{smart_ehr.url}/fhir"], "jwks_private_key": assertion_key.as_dict(private=True)}},
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": ["http://127.0.0.1:9001"],
         "smart": SMART | {"client_secret": "his-a-client-secret"}},
    ]


@pytest.fixture
def ehr(smart_ehr, bff_url):
    """The EHR's registration of the BFF: its redirect URI and the JWKS URL the BFF publishes for ehr-k."""
    smart_ehr.config.update(BFF_URL=bff_url, CLIENT_JWKS_URL=f"{bff_url}/smart/ehr-k/jwks.json")
    return smart_ehr.url


def assert_launch_refused(ehr, words):
    """The launch ends on the refusal page saying words (in Spanish: the browser sent no language), no session."""
    _hops, page = launch(ehr)
    assert page.status_code == 400
    assert words in page.text and "data-session-token" not in page.text


def launched_user(bff_app):
    with bff_app.app_context():
        return db.session.scalars(db.select(WidgetSession)).one().user


def test_the_bff_publishes_the_public_half_of_each_host_apps_assertion_key(bff_url, assertion_key):
    published = requests.get(f"{bff_url}/smart/ehr-k/jwks.json", timeout=15)
    assert published.status_code == 200 and published.headers["Cache-Control"] == "public, max-age=300"
    [key] = published.json()["keys"]
    assert key == assertion_key.as_dict(private=False) | {"alg": ALGS[key["kty"]], "use": "sig"}  # no "d"
    # A host app with a client secret, or none at all, has no keys to publish.
    assert requests.get(f"{bff_url}/smart/his-a/jwks.json", timeout=15).status_code == 404
    assert requests.get(f"{bff_url}/smart/nobody/jwks.json", timeout=15).status_code == 404


def test_a_launch_authenticated_with_a_signed_client_assertion_reaches_the_widget(
        ehr, bff_url, assertion_key, token_requests):
    _hops, page = launch(ehr)

    assert page.status_code == 200, page.text
    assert step_of(first_step(page, bff_url, ehr)) == "diagnoses"
    [form] = token_requests
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form
    assertion = jwt.decode(form["client_assertion"], assertion_key, algorithms=["ES384", "RS384"])
    claims = assertion.claims
    assert assertion.header == {"alg": ALGS[assertion_key.key_type], "kid": assertion_key.kid, "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == "osigu-widgets" and claims["aud"] == f"{ehr}/auth/token"
    assert len(claims["jti"]) >= 16 and 0 < claims["exp"] - time.time() <= 300


@pytest.fixture
def elsewhere_jwks(serve_wsgi):
    """A JWKS with a key the BFF does not hold, as if the EHR had registered another app's keys."""
    app = Flask("elsewhere")
    other = ECKey.generate_key("P-384", parameters={"kid": "bff-ec-1"}, private=True)
    app.add_url_rule("/jwks", "jwks", lambda: {"keys": [other.as_dict(private=False)]})
    return serve_wsgi(app) + "/jwks"


def test_the_ehr_refuses_an_assertion_its_registered_keys_do_not_verify(ehr, smart_ehr, elsewhere_jwks):
    smart_ehr.config["CLIENT_JWKS_URL"] = elsewhere_jwks
    assert_launch_refused(ehr, "rechazó")


def test_the_ehrs_token_endpoint_takes_an_assertion_once_and_only_if_it_lives_five_minutes_at_most(
        ehr, assertion_key):
    token_url = f"{ehr}/auth/token"

    def exchange(expires_in, jti):
        assertion = private_key_jwt_sign(assertion_key, "osigu-widgets", token_url, alg=ALGS[assertion_key.key_type],
                                         claims={"exp": int(time.time()) + expires_in, "jti": jti},
                                         header={"kid": assertion_key.kid})
        return requests.post(token_url, timeout=15, data={
            "grant_type": "authorization_code", "code": "made-up", "code_verifier": "v" * 43,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}).json()["error"]

    assert exchange(3600, "long-lived") == "invalid_client"
    assert exchange(240, "first") == "invalid_grant"  # the client is authenticated; the code is made up
    assert exchange(240, "first") == "invalid_client"  # the same assertion again


def test_the_user_is_the_fhir_user_of_the_verified_id_token(ehr, bff_app):
    _hops, page = launch(ehr)
    assert page.status_code == 200, page.text
    # The example EHR names its user only in the id_token, not in the token response.
    assert launched_user(bff_app)["id"] == f"{ehr}/fhir/Practitioner/dr-laura-ruiz"


@pytest.mark.parametrize("forged", [
    {"aud": "another-app"},
    {"iss": "https://evil.example.org/fhir"},
    {"exp": int(time.time()) - 600},
])
def test_an_id_token_for_someone_else_or_expired_is_refused(ehr, smart_ehr, forged):
    smart_ehr.config["ID_TOKEN_CLAIMS"] = forged
    assert_launch_refused(ehr, "No se pudo verificar el inicio de sesión")


def test_an_id_token_signed_with_a_key_the_ehrs_jwks_does_not_list_is_refused(ehr, smart_ehr):
    smart_ehr.config["ID_TOKEN_KEY"] = RSAKey.generate_key(2048, parameters={"kid": "ehr-oidc-1"}, private=True)
    assert_launch_refused(ehr, "No se pudo verificar el inicio de sesión")


def parse(smart):
    return parse_host_apps(json.dumps([APP | {"smart": SMART | smart}]), local=False)


@pytest.mark.parametrize("private_key, message", [
    (ECKey.generate_key("P-384", private=True).as_dict(private=False), "is a public key"),
    (OctKey.generate_key(256).as_dict(), "is not an RSA or EC key"),
    (ECKey.generate_key("P-256", private=True).as_dict(private=True), "not P-256"),
    (RSAKey.generate_key(2048, private=True).as_dict(private=True) | {"alg": "RS256"}, "not RS256"),
    ({"keys": [ECKey.generate_key("P-384", private=True).as_dict(private=True)]}, "not a JWKS"),
    (json.dumps(ECKey.generate_key("P-384", private=True).as_dict(private=True)), "as a JSON object"),
    ({"kty": "EC", "crv": "P-384"}, "not a usable JWK"),
])
def test_an_assertion_key_smart_cannot_use_stops_the_start_up(private_key, message):
    with pytest.raises(ConfigError, match=message):
        parse({"jwks_private_key": private_key})


def test_a_client_secret_and_an_assertion_key_together_stop_the_start_up():
    key = ECKey.generate_key("P-384", private=True).as_dict(private=True)
    with pytest.raises(ConfigError, match="client_secret and jwks_private_key exclude each other"):
        parse({"client_secret": "ehr-client-secret-0123", "jwks_private_key": key})


def test_an_assertion_key_without_a_kid_is_published_under_its_thumbprint():
    key = ECKey.generate_key("P-384", private=True)
    [app] = parse({"jwks_private_key": key.as_dict(private=True)})
    stored = json.loads(app.smart.jwks_private_key)
    assert stored["kid"] == key.thumbprint() and stored["alg"] == "ES384"
    assert stored["d"] not in repr(app)
