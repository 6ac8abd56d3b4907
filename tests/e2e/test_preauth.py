"""The pre-authorization widget in a real Chromium, host page and BFF on different origins, by keyboard alone."""

import base64
import json
import re
from pathlib import Path

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, render_template_string

pytestmark = pytest.mark.e2e

HEADINGS = {
    "es": {"sponsor": "Pagador", "beneficiary": "Beneficiario", "products": "Productos",
           "indications": "Indicaciones y documentos", "review": "Revisar y solicitar", "done": "Autorizado en parte",
           "verify": "Confirmación del beneficiario", "approved": "Autorizado"},
    "en": {"sponsor": "Sponsor", "beneficiary": "Beneficiary", "products": "Products",
           "indications": "Indications and documents", "review": "Review and request", "done": "Partly authorized",
           "verify": "The beneficiary's sign-off", "approved": "Authorized"},
}
ANA_AT_SEGUROS_ANDINOS = {"sponsor": "seguros-andinos", "beneficiary": {"policy_number": "SA-10000001"},
                          "products": [{"product_code": "MED-001", "quantity": 2},
                                       {"product_code": "LAB-001", "quantity": 1},
                                       {"product_code": "IMG-020", "quantity": 1}],  # a CT: the sponsor reviews it
                          "diagnoses": ["R51"]}


@pytest.fixture
def clinic(simulator_url, serve_wsgi, tmp_path):
    """A clinic's admission page on http://localhost whose back end opens preauth sessions, the BFF on 127.0.0.1."""
    import bff
    from bff import outbox

    pages = Path(__file__).parent / "pages"
    host = Flask("clinic-under-test")
    host_url = serve_wsgi(host).replace("127.0.0.1", "localhost")
    api_key = "e2e-clinic-api-key-0123456789"
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps([{"id": "clinic", "api_key": api_key, "origins": [host_url]}])},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
        "OUTBOX_WORKER": False,
    })
    bff_url = serve_wsgi(app)
    session = {"locale": "es", "context": {}}

    @host.get("/page/<name>")
    def page(name):
        return render_template_string((pages / f"{name}.html").read_text(), bff=bff_url)

    @host.post("/token")
    def token():
        response = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10,
                                 headers={"Authorization": f"Bearer {api_key}"},
                                 json={"widget": "preauth", "origin": host_url, "locale": session["locale"],
                                       "context": session["context"],
                                       "user": {"id": "adm-1", "name": "Admisión", "role": "admission"}})
        return response.json(), response.status_code

    class Clinic:
        url = host_url

    Clinic.session = session
    yield Clinic
    outbox.stop_worker(app)


def widget_frame(page):
    return page.locator("#first iframe").element_handle().content_frame()


def assert_accessible(page, step):
    """axe-core inside the widget's (cross-origin) frame: nothing serious or critical."""
    results = Axe().run(widget_frame(page))
    bad = [(v["id"], v["impact"], v["help"]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"accessibility violations on the {step} step: {bad}"


def expect_step(page, locale, step):
    page.frame_locator("#first iframe").get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()


def tab_to(page, selector):
    """Tab until the element matching selector has the focus, as a keyboard user does."""
    frame = widget_frame(page)
    for _ in range(60):
        if frame.evaluate("selector => !!document.activeElement && document.activeElement.matches(selector)",
                          selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def press_the_primary_action(page):
    """Tab to the step's one forward action (data-osigu-primary) and press Enter."""
    tab_to(page, "[data-osigu-primary]")
    page.keyboard.press("Enter")


def walk_to_review(page, locale):
    """From the context: the sponsor, its beneficiary, the products, then the document the sponsor requires."""
    for step in ("sponsor", "beneficiary", "products"):
        expect_step(page, locale, step)
        assert_accessible(page, step)
        press_the_primary_action(page)
    expect_step(page, locale, "indications")
    assert_accessible(page, "indications")
    frame = page.frame_locator("#first iframe")
    frame.locator("#document-file").set_input_files(
        {"name": "order.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% a medical order\n"})
    press_the_primary_action(page)  # upload the document the sponsor requires
    frame.locator('[data-osigu-required][data-provided="no"]').wait_for(state="detached")
    press_the_primary_action(page)
    expect_step(page, locale, "review")
    assert_accessible(page, "review")


def mount(page, clinic, locale, context):
    clinic.session.update(locale=locale, context=context)
    page.goto(f"{clinic.url}/page/host")
    page.evaluate("locale => window.mountWidget('first', '#first', {widget: 'preauth', locale})", locale)


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_partial_approval_with_a_ct_decided_while_the_widget_is_open(page, clinic, api, locale):
    mount(page, clinic, locale, ANA_AT_SEGUROS_ANDINOS)
    walk_to_review(page, locale)
    frame = page.frame_locator("#first iframe")
    press_the_primary_action(page)
    expect_step(page, locale, "done")
    assert_accessible(page, "done")
    assert frame.locator('[data-osigu-authorization="APPROVED"]').count() == 2
    success = [entry["data"] for entry in page.evaluate("() => window.seen.first") if entry["kind"] == "success"]
    assert len(success) == 1 and success[0]["status"] == "PARTIALLY_APPROVED"
    pended = next(item for item in success[0]["authorizations"] if item["status"] == "PENDING")
    assert pended["product_codes"] == ["IMG-020"] and re.match(r"AUT-\d{4}-\d{8}", pended["authorization_code"])
    decided = api().post(f"/sandbox/v1/authorizations/{pended['authorization_code']}/decision",
                         json={"status": "APPROVED"})
    assert decided.status_code == 200
    expect_step(page, locale, "approved")  # the poll brought the decision in
    frame.locator(f'[data-osigu-copy="{pended["authorization_code"]}"]').wait_for()
    assert frame.locator('[data-osigu-authorization="APPROVED"]').count() == 3
    # The host page's onEvent hears the decision too, once, with the code and nothing more.
    page.wait_for_function("() => window.seen.first.some(entry => entry.kind === 'event:authorization_decided')")
    heard = [entry["data"] for entry in page.evaluate("() => window.seen.first")
             if entry["kind"] == "event:authorization_decided"]
    assert heard == [{"authorization_code": pended["authorization_code"], "status": "APPROVED"}]
    assert_accessible(page, "decided")


@pytest.mark.parametrize("locale", ["es", "en"])
def test_eps_vital_asks_for_the_beneficiarys_code(page, clinic, api, locale):
    mount(page, clinic, locale, {"sponsor": "eps-vital",
                                 "beneficiary": {"document_type": "CC", "document_number": "1000000002"},
                                 "products": [{"product_code": "MED-001", "quantity": 1}], "diagnoses": ["R51"]})
    walk_to_review(page, locale)
    press_the_primary_action(page)
    expect_step(page, locale, "verify")
    assert_accessible(page, "verify")
    code = api().get("/sandbox/v1/messages").json()["data"][0]["otp_code"]  # what the beneficiary reads out
    tab_to(page, "#osigu-otp")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect_step(page, locale, "approved")
    assert_accessible(page, "approved")
    success = [entry["data"] for entry in page.evaluate("() => window.seen.first") if entry["kind"] == "success"]
    assert len(success) == 1 and success[0]["status"] == "APPROVED"


HOST_READER = """locale => window.mountWidget('first', '#first', {widget: 'preauth', locale,
  onBiometricRequest: request => {
    window.asked = (window.asked || []).concat([request]);
    return {modality: request.modality, reading: btoa('fingerprint minutiae')};
  }})"""


@pytest.mark.parametrize("locale", ["es", "en"])
def test_ars_caribe_signs_off_with_the_hosts_fingerprint_reader(page, clinic, locale):
    clinic.session.update(locale=locale, context={
        "sponsor": "ars-caribe", "beneficiary": {"card_number": "00100000041", "date_of_birth": "2012-06-30"},
        "products": [{"product_code": "MED-001", "quantity": 1}, {"product_code": "LAB-001", "quantity": 1}],
        "diagnoses": ["R51"]})
    page.goto(f"{clinic.url}/page/host")
    page.evaluate(HOST_READER, locale)
    walk_to_review(page, locale)
    press_the_primary_action(page)
    expect_step(page, locale, "verify")
    reader = page.frame_locator("#first iframe").locator("[data-osigu-biometric-host]")
    reader.wait_for()  # offered because the host gave mount() a reader
    assert_accessible(page, "verify")
    tab_to(page, "[data-osigu-biometric-host]")
    page.keyboard.press("Enter")
    expect_step(page, locale, "approved")  # the reading matched, and the request was completed
    assert_accessible(page, "approved")
    assert page.evaluate("() => window.asked") == [{"modality": "FINGERPRINT"}]
    seen = page.evaluate("() => window.seen.first")
    assert [entry["data"] for entry in seen if entry["kind"] == "event:biometric_requested"] == [
        {"modality": "FINGERPRINT"}]
    success = [entry["data"] for entry in seen if entry["kind"] == "success"]
    assert len(success) == 1 and success[0]["status"] == "APPROVED"
    (group,) = success[0]["authorizations"]  # ARS Caribe groups everything in one authorization
    assert sorted(group["product_codes"]) == ["LAB-001", "MED-001"]
    assert re.match(r"AUT-\d{4}-\d{8}", group["authorization_code"])
    assert base64.b64encode(b"fingerprint minutiae").decode() not in json.dumps(seen)  # to the widget only
