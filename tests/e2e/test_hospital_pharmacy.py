"""The hospital pharmacy in the example HIS, in a real Chromium: a ward doctor prescribes URGENT, the pharmacy's
worklist (the dispensing widget in queue mode) has it on top and works it by keyboard alone, axe-core at every step."""

import re

import pytest
import requests

from bff.config import DEMO_API_KEYS
from bff.pharmacy import inventory
from bff.pharmacy.stock_cli import DEMO_STOCK
from tests.e2e.test_pharmacy_counter import focused_name, outcome, tab_to
from tests.e2e.test_prescription import HEADINGS as PRESCRIPTION_HEADINGS
from tests.e2e.test_prescription import WORDS as PRESCRIPTION_WORDS
from tests.e2e.test_prescription import assert_accessible

pytestmark = pytest.mark.e2e

ANA = "pat_01HXE0000000000000000ANA01"
WORDS = {
    "es": {"worklist": "Lista de trabajo de la farmacia", "start": "Empezar a dispensar",
           "product": "Producto entregado", "quantity": "Cantidad", "why": "Por qué sustituye",
           "dispense": "Dispensar", "handed": "10 de 30 entregados",
           "unavailable": "Marcar como no disponible", "reason": "Por qué no está disponible",
           "alternative": "Alternativa para quien prescribió", "marked": "No disponible: Sin existencias",
           "counselled": "Se aconsejó al paciente", "complete": "Completar la dispensación",
           "ready": "Lista para retirar", "collected_by": "Retirada por", "hand": "Entregada al paciente",
           "collected": "Retirada", "search_med": "Buscar entre sus medicamentos registrados",
           "albendazole": "Recetar Albendazol", "urgent": "Urgente",
           "substitution": "La farmacia puede sustituirlo por un producto equivalente"},
    "en": {"worklist": "Pharmacy worklist", "start": "Start dispensing", "product": "Product handed over",
           "quantity": "Quantity", "why": "Why you substitute", "dispense": "Dispense",
           "handed": "10 of 30 handed over",
           "unavailable": "Mark unavailable", "reason": "Why it is unavailable",
           "alternative": "Alternative for the prescriber", "marked": "Unavailable: Sin existencias",
           "counselled": "The patient was counselled", "complete": "Complete dispensing",
           "ready": "Ready for collection", "collected_by": "Collected by", "hand": "Handed to the patient",
           "collected": "Collected", "search_med": "Search your registered medications",
           "albendazole": "Prescribe Albendazole", "urgent": "Urgent",
           "substitution": "The pharmacy may substitute an equivalent product"},
}


@pytest.fixture
def shelves(his):
    """The demo hospital's stock, as `osigu-widgets demo` loads it (paracetamol in lots, a generic, no albendazole)."""
    with his.bff_app.app_context():
        with DEMO_STOCK.open(encoding="utf-8") as rows:
            written, refused = inventory.import_csv("demo-hospital", rows)
    assert written and refused == []


@pytest.fixture
def routine_entry(his, hospital):
    """A routine prescription queued before the ward's urgent one (by the pharmacy API, as another system would)."""
    issued = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": ANA, "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 10, "posology": "1 every 8 h"}]})
    token = requests.post(f"{his.bff}/v1/widget-sessions", timeout=10, json={
        "widget": "dispensing", "origin": his.url, "user": {"id": "ph-x", "name": "X", "role": "PHARMACIST"}},
        headers={"Authorization": f"Bearer {DEMO_API_KEYS['v1']}"}).json()["token"]
    queued = requests.post(f"{his.bff}/api/dispensing/pending", timeout=30,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"code": issued.json()["prescription_code"], "priority": "ROUTINE"})
    assert queued.status_code == 201, queued.text
    return queued.json()


def prescribe_urgent(page, his, locale):
    """The ward doctor prescribes paracetamol and albendazole for Ana López, URGENT, from the ICU."""
    words, rx = PRESCRIPTION_WORDS[locale], PRESCRIPTION_HEADINGS[locale]
    page.goto(f"{his.url}/ward?lang={locale}")
    page.select_option("#ward", "icu")
    page.select_option("#priority", "URGENT")
    page.locator("#ward-choice button[type=submit]").click()
    frame = page.frame_locator("#osigu iframe")
    frame.get_by_role("heading", name=rx["diagnoses"], exact=True).wait_for()
    frame.get_by_label(words["search_dx"]).fill("cefalea")
    frame.get_by_role("button", name=words["add"], exact=True).click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    frame.get_by_role("button", name=words["continue"]).click()
    frame.get_by_role("heading", name=rx["medications"], exact=True).wait_for()
    medicines = (("paracetamol 500", words["prescribe"]), ("albendazol", WORDS[locale]["albendazole"]))
    for count, (search, button) in enumerate(medicines, 1):
        frame.get_by_label(words["search_med"]).fill(search)
        frame.get_by_role("button", name=re.compile("^" + re.escape(button))).first.click()
        frame.get_by_label(words["days"]).fill("10")
        frame.get_by_label(words["quantity"]).fill("30")
        if count == 1:  # the pharmacy may hand over another brand of paracetamol
            frame.get_by_label(WORDS[locale]["substitution"]).check()
        frame.get_by_role("button", name=words["add_line"]).click()
        frame.locator(".osigu-chosen li").nth(count - 1).wait_for()
    frame.get_by_role("button", name=words["continue"]).click()
    frame.get_by_role("heading", name=rx["review"], exact=True).wait_for()
    frame.get_by_role("button", name=words["issue"]).click()
    return frame.locator("[data-osigu-prescription-code]").inner_text()


def step_heading(page, name):
    page.frame_locator("#osigu iframe").get_by_role("heading", name=name).wait_for()


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_ward_prescribes_urgent_and_the_pharmacy_works_it_by_keyboard(page, his, shelves, routine_entry, locale):
    code = prescribe_urgent(page, his, locale)
    words = WORDS[locale]
    page.add_init_script("""window.received = [];
        window.addEventListener('message', e => window.received.push({origin: e.origin, data: e.data}));""")
    page.goto(f"{his.url}/hospital-pharmacy?lang={locale}")
    frame = page.frame_locator("#osigu iframe")
    step_heading(page, words["worklist"])
    assert_accessible(page, "worklist")
    rows = frame.locator("#queue-list table").first.locator("tbody tr")
    assert rows.count() == 2 and rows.first.get_attribute("data-osigu-priority") == "URGENT"
    assert code in rows.first.inner_text() and routine_entry["prescriptionId"] in rows.nth(1).inner_text()

    tab_to(page, f"{words['start']} {code}")
    page.keyboard.press("Enter")
    step_heading(page, code)
    assert_accessible(page, "entry")
    # Paracetamol: 10 handed over as the generic, with the reason (the line swaps in the generic's lots).
    paracetamol = frame.locator("[data-osigu-medicine=MED-042]")
    tab_to(page, words["product"])
    page.keyboard.press("ArrowDown")
    paracetamol.locator("select[name=batch_number] option", has_text="PAN-24402").wait_for(state="attached")
    assert focused_name(page).startswith(words["product"])
    tab_to(page, words["quantity"])
    page.keyboard.press("Control+A")
    page.keyboard.type("10")
    tab_to(page, words["why"])
    page.keyboard.type("Brand out of stock")
    tab_to(page, words["dispense"])
    page.keyboard.press("Enter")
    paracetamol.get_by_text(words["handed"]).wait_for()
    assert_accessible(page, "entry, partly dispensed")
    # Albendazole is not on the shelves: unavailable, with an alternative for the ward.
    albendazole = frame.locator("[data-osigu-medicine=MED-041]")  # the generic, first of the search
    tab_to(page, words["unavailable"])
    page.keyboard.press("Enter")
    tab_to(page, words["reason"])
    page.keyboard.type("Sin existencias")
    tab_to(page, words["alternative"])
    page.keyboard.type("Mebendazol 100 mg")
    tab_to(page, words["unavailable"])
    page.keyboard.press("Enter")
    albendazole.get_by_text(words["marked"]).wait_for()
    # Nothing is left to dispense: the step came back with the focus on Complete.
    assert focused_name(page) == words["complete"]
    tab_to(page, words["counselled"])
    page.keyboard.press("Space")
    tab_to(page, words["complete"])
    page.keyboard.press("Enter")
    frame.locator("[data-osigu-entry-status=DISPENSED]").wait_for()
    assert_accessible(page, "dispensed")
    page.locator("#last-dispensation", has_text=code).wait_for()
    [success] = outcome(page)
    assert (success["code"], success["status"]) == (code, "DISPENSED")
    assert success["lines"] == [{"product_code": "MED-046", "quantity": 10, "lot": "PAN-24402",
                                 "expiry": "2027-08-31", "substituted_for": "MED-042"}]
    page.locator("#callbacks li", has_text="widget.dispensing.medicine_unavailable").wait_for()
    page.locator("#callbacks li", has_text="widget.dispensing.completed").wait_for()
    # The patient collects it.
    tab_to(page, words["collected_by"])
    page.keyboard.type("Ana López")
    tab_to(page, words["hand"])
    page.keyboard.press("Enter")
    frame.locator("[data-osigu-entry-status=COLLECTED]").wait_for()
    assert_accessible(page, "collected")
