"""SMART on FHIR EHR launch over real HTTP: the example EHR's authorization server, the BFF and the simulator."""

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from widget_client import step_of

from bff.config import DEMO_EHR_CDS_ISSUER, DEMO_EHR_IDENTIFIER_SYSTEM
from bff.db import WidgetSession, db, utcnow
from bff.smart import SmartLaunch
from examples.ehr import create_app as create_ehr


@pytest.fixture
def smart_ehr(serve_wsgi):
    app = create_ehr(client_secret="ehr-client-secret-0123")
    app.url = serve_wsgi(app)
    return app


@pytest.fixture
def odd_ehr(serve_wsgi):
    """An EHR whose SMART configuration would send the browser to a javascript: URL."""
    app = Flask("odd-ehr")
    app.add_url_rule("/fhir/.well-known/smart-configuration", "configuration", lambda: {
        "authorization_endpoint": "javascript:alert(1)", "token_endpoint": "http://127.0.0.1:9/token"})
    return serve_wsgi(app)


@pytest.fixture
def host_apps(smart_ehr, odd_ehr):
    """ehr-s: the example EHR, registered with its FHIR base URL as its SMART issuer; his-a has no SMART."""
    return [
        {"id": "ehr-s", "api_key": "ehr-s-api-key-0123456789", "origins": [smart_ehr.url], "outcome_format": "fhir",
         "smart": {"issuers": [f"{smart_ehr.url}/fhir", f"{odd_ehr}/fhir"], "client_id": "osigu-widgets",
                   "client_secret": "ehr-client-secret-0123", "identifier_system": DEMO_EHR_IDENTIFIER_SYSTEM},
         "cds": {"issuers": {DEMO_EHR_CDS_ISSUER: f"{smart_ehr.url}/jwks"}}},
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": ["http://127.0.0.1:9001"]},
    ]


@pytest.fixture
def ehr(smart_ehr, bff_url):
    smart_ehr.config["BFF_URL"] = bff_url
    return smart_ehr.url


def hop(session, url):
    """One request of the browser's walk through the launch, redirects not followed."""
    return session.get(url, allow_redirects=False, timeout=15)


def launch(ehr, widget="prescription", patient="ana", **params):
    """Walk EHR launch -> BFF -> EHR authorize -> BFF callback; return (the hops' responses, the last one)."""
    browser = requests.Session()
    hops = [browser.get(f"{ehr}/launch/{widget}", params={"patient": patient, **params}, allow_redirects=False,
                        timeout=15)]
    while hops[-1].is_redirect and len(hops) < 6:
        hops.append(hop(browser, hops[-1].headers["Location"]))
    return hops, hops[-1]


def session_token(page):
    return re.search(r'data-session-token="([^"]+)"', page.text).group(1)


def first_step(page, bff_url, origin):
    """The widget's first step, asked for as static/widget.js does with the session the page carries."""
    widget = requests.Session()
    widget.headers.update({"HX-Request": "true", "X-Osigu-Session": session_token(page), "X-Osigu-Origin": origin})
    start = re.search(r'data-start-url="([^"]+)"', page.text).group(1)
    return widget.get(f"{bff_url}{start}", timeout=15)


def test_the_ehr_launches_the_prescription_widget_for_its_patient_in_its_frame(ehr, bff_url):
    hops, page = launch(ehr)

    authorize = urlsplit(hops[1].headers["Location"])
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{ehr}/auth/authorize"
    assert query["aud"] == [f"{ehr}/fhir"] and query["code_challenge_method"] == ["S256"]
    assert "code_verifier" not in query and len(query["state"][0]) >= 32
    assert page.status_code == 200
    assert f"frame-ancestors {ehr}" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in page.headers
    assert re.search(r'data-smart-handle="[^"]+"', page.text)
    first = first_step(page, bff_url, ehr)
    assert first.status_code == 200, first.text
    assert step_of(first) == "diagnoses" and "López" in first.text  # Osigu's Ana, found by her cédula


def test_a_launch_from_an_unregistered_issuer_is_refused(ehr, bff_url):
    page = requests.get(f"{bff_url}/smart/prescription/launch", params={
        "iss": "https://evil.example.org/fhir", "launch": "x"}, headers={"Accept-Language": "en"}, timeout=15)
    assert page.status_code == 400
    assert "not registered to launch" in page.text
    # Shown in the EHR's app frame: framed by registered host pages only, and nothing else allowed.
    policy = page.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none';") and "script-src" not in policy
    assert set(policy.split("frame-ancestors ")[1].split()) == {ehr, "http://127.0.0.1:9001"}


def test_a_denied_authorization_says_so(ehr, smart_ehr):
    smart_ehr.config["DENY"] = True
    _hops, page = launch(ehr)
    assert page.status_code == 403
    assert "no autorizó" in page.text  # the launch's language: the browser sent none, so Spanish


def test_a_callback_with_a_state_the_bff_did_not_issue_or_already_used_is_refused(ehr, bff_url):
    hops, page = launch(ehr)
    assert page.status_code == 200
    replayed = requests.get(hops[-2].headers["Location"], allow_redirects=False, timeout=15)
    forged = requests.get(f"{bff_url}/smart/callback", params={"state": "made-up", "code": "x"}, timeout=15)
    assert replayed.status_code == forged.status_code == 400
    assert "data-session-token" not in replayed.text + forged.text
    assert "ya se usó" in forged.text


def test_a_replayed_code_is_refused_by_the_ehr_and_so_by_the_bff(ehr, bff_url):
    browser = requests.Session()
    first = hop(browser, hop(browser, f"{ehr}/launch/prescription").headers["Location"])
    callback = hop(browser, first.headers["Location"]).headers["Location"]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert hop(browser, callback).status_code == 200
    # A new launch's own state, with the code already exchanged.
    second = hop(browser, hop(browser, f"{ehr}/launch/prescription").headers["Location"])
    state = parse_qs(urlsplit(second.headers["Location"]).query)["state"][0]
    replay = requests.get(f"{bff_url}/smart/callback", params={"state": state, "code": code}, timeout=15)
    assert replay.status_code == 400
    assert "rechazó" in replay.text and "data-session-token" not in replay.text


def test_a_patient_without_an_identifier_osigu_finds_them_by_is_refused(ehr):
    _hops, page = launch(ehr, patient="nadie")
    assert page.status_code == 404
    assert "documento" in page.text and "data-session-token" not in page.text


def test_a_patient_osigu_does_not_know_yet_is_offered_for_registration_by_the_prescription_widget(ehr, bff_url):
    _hops, page = launch(ehr, patient="marta")
    first = first_step(page, bff_url, ehr)
    assert step_of(first) == "patient"
    assert "1000000777" in first.text and 'name="first_name"' in first.text  # the registration form, prefilled


def test_a_preauth_launch_takes_the_coverage_cards_app_context_and_the_ehrs_references(ehr, bff_url, bff_app):
    app_context = {"sponsor": "seguros-andinos", "products": [{"product_code": "LAB-001", "quantity": 1}],
                   "diagnoses": ["R51"], "coverage_assertion_id": "cov_01TEST"}
    _hops, page = launch(ehr, widget="preauth", appContext=json.dumps(app_context))
    assert page.status_code == 200, page.text
    assert step_of(first_step(page, bff_url, ehr)) in ("sponsor", "beneficiary")
    with bff_app.app_context():
        session = db.session.scalars(db.select(WidgetSession).filter_by(widget="preauth")).one()
    assert session.context == app_context | {"fhir": {"patient": "Patient/ana", "encounter": "Encounter/enc-1"}}
    assert session.host_app_id == "ehr-s" and session.origin == ehr


def test_a_launch_context_the_widget_cannot_take_is_refused(ehr):
    _hops, page = launch(ehr, widget="preauth", appContext=json.dumps({"sponsor": "Not A Slug!"}))
    assert page.status_code == 400 and "data-session-token" not in page.text


def test_a_selected_draft_order_shows_the_coverage_card_whose_link_launches_the_preauth_widget_prefilled(
        ehr, bff_url, bff_app):
    chart = requests.post(f"{ehr}/orders/select", data={"patient": "ana", "product_code": "IMG-020"}, timeout=30)
    assert chart.status_code == 200
    assert "Seguros Andinos needs a pre-authorization for" in chart.text  # the CT is reviewed by the sponsor
    link = re.search(r'<a href="([^"]+)" target="app" data-card-launch>', chart.text).group(1).replace("&amp;", "&")
    browser = requests.Session()
    hops = [hop(browser, f"{ehr}{link}")]
    while hops[-1].is_redirect:
        hops.append(hop(browser, hops[-1].headers["Location"]))
    assert hops[-1].status_code == 200, hops[-1].text
    with bff_app.app_context():
        session = db.session.scalars(db.select(WidgetSession).filter_by(widget="preauth")).one()
    context = session.context
    assert context["sponsor"] == "seguros-andinos" and context["coverage_assertion_id"].startswith("cov_")
    assert context["products"] == [{"product_code": "IMG-020", "quantity": 1}] and context["diagnoses"] == ["R51"]


def test_an_authorize_endpoint_that_is_not_a_web_url_is_never_redirected_to(ehr, odd_ehr, bff_url):
    page = requests.get(f"{bff_url}/smart/prescription/launch", params={"iss": f"{odd_ehr}/fhir", "launch": "x"},
                        allow_redirects=False, timeout=15)
    assert page.status_code == 502 and "Location" not in page.headers


def test_a_launch_older_than_ten_minutes_is_refused_at_the_callback(ehr, bff_app):
    browser = requests.Session()
    to_ehr = hop(browser, hop(browser, f"{ehr}/launch/prescription").headers["Location"])
    callback = hop(browser, to_ehr.headers["Location"]).headers["Location"]
    with bff_app.app_context():
        for launch_row in db.session.scalars(db.select(SmartLaunch)):
            launch_row.created_at = utcnow() - timedelta(minutes=11)
        db.session.commit()
    late = hop(browser, callback)
    assert late.status_code == 400 and "data-session-token" not in late.text
