"""The example HIS's admission desk over real HTTP: its back end makes pre-authorization sessions for Ana López."""

import pytest
import requests

from examples.his import ADMISSION_REQUEST, TEXTS
from tests.integration.examples.conftest import session_made, texts_of_other_languages


def test_the_admission_desk_asks_for_a_preauth_session_for_ana_lopez_at_seguros_andinos(his, bff_app):
    answer = requests.post(f"{his}/widget-session", json={"widget": "preauth", "locale": "pt"}, timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["widget"] == "preauth" and answer.json()["token"]
    session = session_made(bff_app)
    assert (session.widget, session.locale, session.origin) == ("preauth", "pt", his)
    assert session.context == {"sponsor": "seguros-andinos", "beneficiary": {"policy_number": "SA-10000001"},
                               "products": [{"product_code": "LAB-001", "quantity": 1},
                                            {"product_code": "MED-001", "quantity": 1},
                                            {"product_code": "IMG-020", "quantity": 1}],
                               "diagnoses": ["R51"]} == ADMISSION_REQUEST
    assert session.user["role"] == "admission"


@pytest.mark.parametrize("lang", TEXTS)
def test_the_admission_page_speaks_one_language_and_links_codes_to_the_pharmacy(his, lang):
    page = requests.get(f"{his}/admission", params={"lang": lang}, timeout=10).text
    assert f'<html lang="{lang}">' in page and TEXTS[lang]["preauth_title"] in page
    assert f'href="/admission?lang={lang}" aria-current="page"' in page  # the section is in the HIS's menu
    assert f'data-pharmacy="/pharmacy?lang={lang}"' in page  # where an approved code is dispensed
    assert texts_of_other_languages(page, lang) == []
