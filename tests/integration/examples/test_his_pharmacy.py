"""The example HIS's pharmacy over real HTTP: its back end makes dispensing sessions and finds a code to try."""

import pytest
import requests

from examples.his import TEXTS
from tests.integration.examples.conftest import session_made, texts_of_other_languages


def test_the_pharmacy_asks_for_a_dispensing_session_for_its_pharmacist_with_the_code(his, bff_app, prescribe):
    code = prescribe()
    answer = requests.post(f"{his}/widget-session", json={"widget": "dispensing", "code": code, "locale": "en"},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["widget"] == "dispensing" and answer.json()["token"]
    session = session_made(bff_app)
    assert (session.widget, session.locale, session.context) == ("dispensing", "en", {"code": code})
    assert session.user["role"] == "PHARMACIST" and session.origin == his


def test_without_a_code_the_widget_will_ask_for_one(his, bff_app):
    answer = requests.post(f"{his}/widget-session", json={"widget": "dispensing", "code": ""}, timeout=10)
    assert answer.status_code == 201, answer.text
    assert session_made(bff_app).context == {}


def test_a_malformed_code_is_the_bffs_422_not_a_session(his, bff_app):
    answer = requests.post(f"{his}/widget-session", json={"widget": "dispensing", "code": "RX-12"}, timeout=10)
    assert answer.status_code == 422
    assert "context.code" in answer.text


def test_the_doctor_still_gets_prescription_sessions(his, bff_app):
    answer = requests.post(f"{his}/widget-session", json={"market": "v1.1", "patient": "ana"}, timeout=10)
    assert answer.status_code == 201, answer.text
    session = session_made(bff_app)
    assert session.widget == "prescription" and session.user["role"] == "doctor"


def test_an_authorization_to_try_is_approved_and_dispensable_with_the_sponsors_otp(his, hospital, pharmacy):
    answer = requests.post(f"{his}/demo-authorization", timeout=30)
    assert answer.status_code == 200, answer.text
    code = answer.json()["authorization_code"]
    assert code.startswith("AUT-") and hospital.get(f"/arc/v1/authorizations/{code}").json()["status"] == "APPROVED"
    started = pharmacy.post("/dispensing/v1/dispensations", json={"code": code})
    assert started.status_code == 201 and started.json()["verification"]["methods"] == ["OTP"]
    # Each press is a fresh code: one already dispensed is never offered again.
    assert requests.post(f"{his}/demo-authorization", timeout=30).json()["authorization_code"] != code


@pytest.mark.parametrize("lang", TEXTS)
def test_the_pharmacy_page_opens_the_code_from_the_clinic_in_one_language(his, lang):
    page = requests.get(f"{his}/pharmacy", params={"lang": lang, "code": "RX-2026-000123"}, timeout=10).text
    assert 'id="code" name="code" value="RX-2026-000123"' in page
    assert f'<html lang="{lang}">' in page and TEXTS[lang]["dispense_title"] in page
    assert texts_of_other_languages(page, lang) == []


def test_every_language_has_every_text():
    assert {lang: sorted(texts) for lang, texts in TEXTS.items()} == {lang: sorted(TEXTS["es"]) for lang in TEXTS}
