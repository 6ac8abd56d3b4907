"""The example HIS's ward and hospital pharmacy over real HTTP: the sessions its back end asks for."""

import pytest
import requests
from markupsafe import escape

from examples.his import TEXTS, WARDS
from tests.integration.examples.conftest import session_made


def test_the_hospital_pharmacy_asks_for_the_worklist_for_its_pharmacist(his, bff_app):
    answer = requests.post(f"{his}/widget-session", json={"widget": "dispensing", "mode": "queue", "locale": "pt"},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    session = session_made(bff_app)
    assert (session.widget, session.locale, session.context) == ("dispensing", "pt", {"mode": "queue"})
    assert session.user["role"] == "PHARMACIST"


@pytest.mark.parametrize(("priority", "sent"), [("URGENT", "URGENT"), ("LOW", "ROUTINE")])
def test_a_ward_prescription_carries_its_ward_and_priority(his, bff_app, priority, sent):
    answer = requests.post(f"{his}/widget-session", timeout=10, json={
        "widget": "prescription", "market": "v1", "patient": "ana", "ward": "icu", "priority": priority})
    assert answer.status_code == 201, answer.text
    assert session_made(bff_app).context == {"patient": {"document_type": "CC", "document_number": "1000000001"},
                                             "department": WARDS["icu"], "priority": sent}


@pytest.mark.parametrize("lang", list(TEXTS))
def test_the_ward_and_hospital_pharmacy_pages_in_each_language(his, lang):
    ward = requests.get(f"{his}/ward", params={"lang": lang}, timeout=10)
    pharmacy = requests.get(f"{his}/hospital-pharmacy", params={"lang": lang}, timeout=10)
    assert ward.status_code == pharmacy.status_code == 200
    assert escape(TEXTS[lang]["ward_title"]) in ward.text and 'value="URGENT"' in ward.text
    assert TEXTS[lang]["worklist"] in pharmacy.text and "hospital_pharmacy.js" in pharmacy.text
